"""The run service over a shared Postgres store, in-process: two services (two
replicas) on one database; admission under contention; the feed; cross-replica
cancel; lost runs. Every wait is bounded."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.runs import running_manager, wait_status
from support.waits import wait_for

from app.runs import follow
from app.runs.contract import RunRecord, Status
from app.runs.factory import open_store
from app.runs.keeper import Keeper

pytestmark = pytest.mark.anyio


def _record(i: int, client: str) -> RunRecord:
    return RunRecord(id=f"r{i:03d}", method="kd", params={}, status="queued", client=client,
                     created_at=time.time())  # fmt: skip


def test_admission_holds_under_contention_across_stores(pg_url):
    """Two store instances (two replicas) and 100 concurrent launches: exactly the
    capacity gets in, never more, whatever the interleaving."""
    stores = [open_store(pg_url), open_store(pg_url)]
    try:
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(
                lambda i: stores[i % 2].admit(_record(i, f"c{i % 50}"), capacity=7, per_client=9),
                range(100)))  # fmt: skip
        assert sum(r is None for r in results) == 7
        assert all(r.reason == "queue_full" for r in results if r is not None)
        assert len(stores[0].list_runs(statuses=[Status.QUEUED], limit=None)) == 7
        # The per-client limit counts the client's runs on every replica.
        held = [stores[i % 2].admit(_record(200 + i, "solo"), capacity=99, per_client=2)
                for i in range(5)]  # fmt: skip
        assert [r is None for r in held] == [True, True, False, False, False]
        assert held[-1].reason == "client_limit" and held[-1].held == 2
    finally:
        for store in stores:
            store.close()


def test_a_retried_write_stores_nothing_twice(pg_url):
    store = open_store(pg_url)
    try:
        store.create_run("r", "kd", {}, "", 1.0)
        from app.runs.contract import encode_event

        batch = [encode_event(i, {"type": "log", "message": f"m{i}"}) for i in (1, 2, 3)]
        store.append_events("r", batch)
        store.append_events("r", batch[1:])  # a retry after a lost reply
        assert [e.seq for e in store.events_after("r", 0)] == [1, 2, 3]
        first = store.finish("r", "cancelled", {"type": "cancelled", "status": "cancelled"})
        again = store.finish("r", "failed", {"type": "failed", "error": "late"})
        assert first.seq == 4 and again is None  # the first ending wins
        assert store.get_run("r").status == Status.CANCELLED
        assert store.events_after("r", 2**70) == []  # any resume point is answered
    finally:
        store.close()


async def test_a_run_on_one_replica_streams_on_the_other(pg_url, tmp_path):
    settings = {"run_store_url": pg_url}
    async with running_manager(tmp_path / "a", "quick", settings=settings) as a, \
            running_manager(tmp_path / "b", "quick", settings=settings, warm_workers=0) as b:
        run_id = a.submit("baseline", {}).id

        async def watch(after: int) -> list[int]:
            seen = []
            async for chunk in follow(b.hub, b.store, run_id, after):
                seen.extend(e.seq for e in chunk)
            return seen

        seen = await asyncio.wait_for(watch(0), 20)
        last = b.get(run_id).last_seq
        assert seen == list(range(1, last + 1)) and last >= 10
        assert await asyncio.wait_for(watch(5), 10) == list(range(6, last + 1))
        assert b.get(run_id).status == Status.SUCCEEDED


async def test_live_events_reach_the_other_replica_through_notifications(pg_url, tmp_path):
    settings = {"run_store_url": pg_url}
    async with running_manager(tmp_path / "a", "slow", settings=settings) as a, \
            running_manager(tmp_path / "b", "slow", settings=settings, warm_workers=0) as b:
        run_id = a.submit("baseline", {}).id
        await wait_status(a, run_id, "running")
        lags, seen = [], []

        async def watch():
            async for chunk in follow(b.hub, b.store, run_id, 0):
                for event in chunk:
                    seen.append(event.seq)
                    lags.append(time.time() - event.as_dict()["t"])
                if len(seen) >= 40:
                    return

        await asyncio.wait_for(watch(), 20)
        assert seen == list(range(1, 41))
        # Live (not the 1 s poll): the last 20 arrived well under a poll period late.
        assert sorted(lags[-20:])[10] < 0.5, lags[-20:]
        await asyncio.to_thread(a.cancel, run_id)


async def test_any_replica_cancels_a_run_of_another_within_2_s(pg_url, tmp_path):
    settings = {"run_store_url": pg_url}
    async with running_manager(tmp_path / "a", "slow", settings=settings) as a, \
            running_manager(tmp_path / "b", "slow", settings=settings, warm_workers=0) as b:
        run_id = a.submit("baseline", {}).id
        await wait_for(lambda: a.get(run_id).last_seq >= 3, what="first events")
        started = time.monotonic()
        record = await asyncio.to_thread(b.cancel, run_id)
        assert time.monotonic() - started < 2.0
        assert record.status == Status.CANCELLED
        events = a.store.events_after(run_id, 0)
        assert events[-1].type == "cancelled"
        assert [e.seq for e in events] == list(range(1, len(events) + 1))


def test_a_run_whose_runner_went_silent_is_failed_with_the_reason(pg_url):
    store = open_store(pg_url)
    try:
        store.create_run("alive", "kd", {}, "", time.time())
        store.create_run("lost", "kd", {}, "", time.time())
        store.mark_running("lost", time.time())
        keeper = Keeper(store, lambda: ["alive"], lambda run_id: None, lost_after=0.3)
        time.sleep(0.4)
        store.heartbeat(["alive"])  # "alive" beats, "lost" does not
        assert keeper.fail_lost(set()) == ["lost"]
        lost = store.get_run("lost")
        assert lost.status == Status.FAILED and "no heartbeat" in lost.error
        assert store.events_after("lost", 0)[-1].type == "failed"
        assert store.get_run("alive").status == Status.QUEUED
    finally:
        store.close()


def test_the_listener_reconnects_after_a_database_restart(pg_url, postgres):
    store = open_store(pg_url)
    got, stop = [], threading.Event()
    listener = threading.Thread(target=store.listen, args=(lambda r, s: got.append((r, s)), stop),
                                daemon=True)  # fmt: skip
    listener.start()
    try:
        deadline = time.monotonic() + 10
        while (None, None) not in got and time.monotonic() < deadline:
            time.sleep(0.05)
        store.create_run("r", "kd", {}, "", 1.0)
        from app.runs.contract import encode_event

        store.append_events("r", [encode_event(1, {"type": "log", "message": "x"})])
        postgres.restart()
        # Written while the listener may still be away: its notification may be lost,
        # which the reconnect's (None, None) ("catch up by reading") makes up for.
        store.append_events("r", [encode_event(2, {"type": "log", "message": "y"})])
        deadline = time.monotonic() + 15
        while got.count((None, None)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got.count((None, None)) == 2  # connected, then reconnected
        store.append_events("r", [encode_event(3, {"type": "log", "message": "z"})])
        while ("r", 3) not in got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ("r", 1) in got and ("r", 3) in got
    finally:
        stop.set()
        listener.join(3)
        store.close()
