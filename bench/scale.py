"""Scale-out benchmark: the local executor and the Ray executor side by side, each
with two real uvicorn replicas over one throwaway Postgres, the real trainer.

S1  1,000 SSE viewers of one run, half on each replica: complete streams, and the
    lag from the trainer's emit to the client (an upper bound of commit -> client:
    `t` is stamped at emit, before the event is committed)
S2  POST -> first metric, warm
S3  runs per minute with two training slots on this machine, and their ratio
S4  a replica's RSS with each executor, and whether it mapped torch

Needs the scale extra, Debian's postgresql (initdb, pg_ctl) and ray; starts and
ends its own Postgres cluster and Ray cluster (never `ray start`/`ray stop`).
Prints what one run measured; never fails on a number.

    .venv/bin/python bench/scale.py [--viewers 1000] [--launches 5] [--runs 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]  # bench/stream.py, tests/support

from stream import BLOCKER, SHORT, STREAMED, follow, launch, pct, wait_done  # noqa: E402
from support.postgres import PostgresCluster, pg_bin  # noqa: E402
from support.servers import LiveServer  # noqa: E402

Row = tuple[str, str, str, str]
#: Training slots: local workers on one replica, or Ray trainer actors.
SLOTS = 2


def replicas(workdir: Path, env: dict[str, str], n: int = 2) -> list[LiveServer]:
    started = []
    for i in range(n):
        folder = workdir / f"replica{i}"
        folder.mkdir(parents=True)
        started.append(LiveServer(folder, timeout=120, **env))
    return started


def rss_mb(server: LiveServer) -> float:
    status = Path(f"/proc/{server.pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


async def viewers(servers: list[LiveServer], count: int) -> tuple[int, int, list[float]]:
    """`count` viewers, alternating replicas, on a run queued behind blockers (one
    per slot), so that every viewer is live from the run's first event."""
    a = servers[0]
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=a.url, timeout=60, limits=limits) as http:
        blockers = [await launch(http, BLOCKER) for _ in range(SLOTS)]
        target = await launch(http, STREAMED)
        opened = [asyncio.Event() for _ in range(count)]
        tasks = [asyncio.create_task(follow(servers[i % len(servers)], target, ev))
                 for i, ev in enumerate(opened)]  # fmt: skip
        await asyncio.wait_for(asyncio.gather(*(ev.wait() for ev in opened)), 120)
        await asyncio.sleep(0.5)  # the last ones subscribed on their replica
        assert (await http.get(f"/api/runs/{target}")).json()["status"] == "queued"
        for blocker in blockers:
            (await http.post(f"/api/runs/{blocker}/cancel")).raise_for_status()
        results = await asyncio.wait_for(asyncio.gather(*tasks), 600)
        stored = (await wait_done(http, target))["last_seq"]
    complete = sum([e[0] for e in events] == list(range(1, stored + 1)) for events in results)
    lags = [[(rx - tx) * 1e3 for _, _, tx, rx in events] for events in results]
    return complete, stored, lags  # lags[i]: viewer i's, on replica i % 2


async def first_metric(server: LiveServer, launches: int) -> list[float]:
    firsts = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        # Warm every slot (each worker's or actor's first run pays for its imports).
        warm = [await launch(http, SHORT) for _ in range(SLOTS)]
        for run_id in warm:
            await wait_done(http, run_id)
        for _ in range(launches):
            started = time.time()
            r = await http.post("/api/runs", json={"method": "baseline", "params": SHORT})
            got = await follow(server, r.json()["id"], first_metric_only=True)
            firsts.append((got[-1][3] - started) * 1e3)
            await wait_done(http, r.json()["id"])
    return firsts


async def throughput(server: LiveServer, runs: int) -> tuple[float, int]:
    """Runs per minute: `runs` short runs launched at once, until the last is done;
    and how many of them succeeded. After a warm-up round: S1's cancels killed the
    local workers, which respawn (and import torch) first."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        warm = [await launch(http, SHORT) for _ in range(SLOTS)]
        for run_id in warm:
            await wait_done(http, run_id, timeout=300)
        started = time.monotonic()
        ids = [await launch(http, SHORT) for _ in range(runs)]
        done = [await wait_done(http, run_id, timeout=900) for run_id in ids]
        per_min = runs / ((time.monotonic() - started) / 60)
        return per_min, sum(run["status"] == "succeeded" for run in done)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(servers: list[LiveServer], args: argparse.Namespace) -> dict:
    firsts = await first_metric(servers[0], args.launches)
    replicas_cpu, own_cpu, wall = sum(cpu_s(s.pid) for s in servers), time.process_time(), \
        time.monotonic()
    complete, stored, lags = await viewers(servers, args.viewers)
    cpu = (sum(cpu_s(s.pid) for s in servers) - replicas_cpu, time.process_time() - own_cpu,
           time.monotonic() - wall)  # fmt: skip
    per_min, succeeded = await throughput(servers[0], args.runs)
    return {
        "first": firsts, "complete": complete, "stored": stored, "cpu": cpu,
        "lags": [lag for one in lags for lag in one],
        "lags_ab": [[lag for one in lags[i::2] for lag in one] for i in (0, 1)],
        "per_min": per_min, "succeeded": succeeded, "rss": [rss_mb(s) for s in servers],
        "torch": any("libtorch" in s.mapped_files() for s in servers),
    }  # fmt: skip


def run_executor(kind: str, pg: PostgresCluster, args, work: Path, ray_env: dict) -> dict:
    env = {"RUN_STORE_URL": pg.new_database(), "RUN_CONCURRENCY": str(SLOTS), "DEVICE": "cpu",
           "TORCH_THREADS": "1", "RUN_QUEUE_SIZE": "64", "RUN_QUEUE_PER_CLIENT": "64",
           "RUN_WARM_WORKERS": str(SLOTS),  # as many warm local workers as Ray actors
           "RUN_EXECUTOR": kind, **(ray_env if kind == "ray" else {})}  # fmt: skip
    servers = replicas(work / kind, env)
    try:
        if kind == "ray":
            time.sleep(5)  # the trainer actors import torch
        return asyncio.run(measure(servers, args))
    finally:
        for server in servers:
            server.stop()


def table(results: dict[str, dict], args) -> list[Row]:
    local, ray = results.get("local"), results.get("ray")

    def both(fmt) -> str:
        return " | ".join(fmt(r) if r else "—" for r in (local, ray))

    rows: list[Row] = [
        ("S1", f"{args.viewers} viewers over 2 replicas: complete streams",
         both(lambda r: f"{r['complete']}/{args.viewers}"), f"{args.viewers}/{args.viewers}"),
        ("S1", "lag emit -> client p50 / p99 / max (ms)",
         both(lambda r: f"{pct(r['lags'], 50):.0f} / {pct(r['lags'], 99):.0f} / "
                        f"{max(r['lags']):.0f}"), "p99 <= 250 ms"),
        ("S1", "lag p99 on replica A (runs it) / B (ms)",
         both(lambda r: " / ".join(f"{pct(x, 99):.0f}" for x in r["lags_ab"])), "(context)"),
        ("S1", "CPU s during S1: replicas / this client / wall",
         both(lambda r: " / ".join(f"{x:.0f}" for x in r["cpu"])), "(context: 2 cores)"),
        ("S2", f"POST -> first metric, warm, median / max of {args.launches} (ms)",
         both(lambda r: f"{statistics.median(r['first']):.0f} / {max(r['first']):.0f}"),
         "Ray <= 1000 ms"),
        ("S3", f"runs per minute, {SLOTS} slots, {args.runs} short runs (succeeded)",
         both(lambda r: f"{r['per_min']:.1f} ({r['succeeded']}/{args.runs})"), "(ratio below)"),
        ("S4", "replica RSS A / B (MB)",
         both(lambda r: " / ".join(f"{m:.0f}" for m in r["rss"])), "local <= 120 MB"),
        ("S4", "a replica mapped torch", both(lambda r: "yes" if r["torch"] else "no"), "no"),
    ]  # fmt: skip
    if local and ray:
        ratio = ray["per_min"] / local["per_min"]
        rows.append(("S3", "runs per minute, Ray / local", f"{ratio:.2f}", "(context)"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--only", choices=["local", "ray"], help="measure one executor")
    args = parser.parse_args()
    if pg_bin() is None:
        raise SystemExit("needs Debian's postgresql (initdb, pg_ctl)")
    results: dict[str, dict] = {}
    pg = PostgresCluster(pg_bin())
    ray_cluster = None
    try:
        with tempfile.TemporaryDirectory(prefix="kd-bench-scale-") as tmp:
            for kind in ("local", "ray"):
                if args.only and kind != args.only:
                    continue
                ray_env = {}
                if kind == "ray":
                    from support.ray_cluster import RayCluster

                    ray_cluster = RayCluster(cpus_per_node=os.cpu_count() or 2)
                    ray_env = {**ray_cluster.env, "RAY_ADDRESS": ray_cluster.address,
                               "RAY_NUM_CPUS": "0.5"}  # fmt: skip
                results[kind] = run_executor(kind, pg, args, Path(tmp), ray_env)
    finally:
        if ray_cluster is not None:
            ray_cluster.shutdown()
        pg.destroy()
    print(f"scale benchmark: {os.cpu_count()} CPUs, Postgres + 2 replicas, real trainer"
          " (baseline); columns: local | ray\n")
    header = ("id", "measure", "local | ray", "target")
    rows = table(results, args)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
