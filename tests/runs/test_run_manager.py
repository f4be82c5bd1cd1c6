"""The run manager with real spawned worker processes running fake trainers
(`support.fakes`): lifecycle, queue and limits, cancel, crashes, fan-out."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest
from support.runs import fake_settings, running_manager, wait_status
from support.waits import wait_for

from app.runs import (
    ClientLimit,
    InvalidParams,
    QueueFull,
    RunFinished,
    RunManager,
    RunNotFound,
    UnknownMethod,
    follow,
)
from app.runs.factory import open_store
from app.runs.stream import Subscriber

pytestmark = pytest.mark.anyio


async def test_a_run_goes_through_and_its_events_are_stored_in_order(tmp_path):
    async with running_manager(tmp_path, "quick") as runs:
        record = runs.submit("baseline", {"epochs": 2}, client="a")
        assert record.status in ("queued", "running")
        assert record.params["epochs"] == 2 and record.params["seed"] == 0  # defaults
        done = await wait_status(runs, record.id, "succeeded")
        events = [e.as_dict() for e in runs.store.events_after(record.id, 0)]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        types = [e["type"] for e in events]
        assert types[0] == "phase" and types[-1] == "done" and types.count("metric") == 11
        assert all(isinstance(e["t"], float) for e in events)
        assert done.summary.final_acc == 0.9 and events[-1]["summary"] == done.summary.wire()
        # The whole run's progress ends full, with the run's time (the done event's).
        whole = done.progress.pop("whole")
        assert whole == events[-1]["whole"] and (whole["done"], whole["left_s"]) == (1.0, 0.0)
        assert whole["elapsed_s"] == round(events[-1]["t"] - events[0]["t"], 1)
        assert done.progress == {"phase": "train", "phase_state": "end", "epoch": 1,
                                    "epochs": 1, "step": 10, "steps": 10}
        assert done.created_at <= done.started_at <= done.finished_at


async def test_the_warm_worker_is_reused_run_after_run(tmp_path):
    async with running_manager(tmp_path, "quick") as runs:
        assert await asyncio.to_thread(runs.wait_warm, 20)
        pids = []
        for _ in range(3):
            run_id = runs.submit("baseline", {}).id
            pids.append((await wait_status(runs, run_id, "succeeded")).summary.pid)
        assert len(set(pids)) == 1


async def test_a_trainer_that_emits_done_itself_gets_one_done_event(tmp_path):
    async with running_manager(tmp_path, "emits_done") as runs:
        run_id = runs.submit("kd", {}).id
        record = await wait_status(runs, run_id, "succeeded")
        types = [e.type for e in runs.store.events_after(run_id, 0)]
        assert types.count("done") == 1 and types[-1] == "done"
        assert record.summary.wire() == {"version": 2, "method": "kd", "final_acc": 0.5}


async def test_validation_names_the_bad_fields(tmp_path):
    async with running_manager(tmp_path) as runs:
        with pytest.raises(UnknownMethod):
            runs.submit("no-such-method", {})
        with pytest.raises(InvalidParams) as caught:
            runs.submit("kd", {"epochs": 0, "temperature": "hot", "typo": 1})
        fields = {e["field"] for e in caught.value.errors}
        assert fields == {"epochs", "temperature", "typo"}
        with pytest.raises(InvalidParams):
            runs.submit("kd", ["not", "a", "dict"])
        assert runs.list_runs() == []  # nothing was recorded


async def test_queue_positions_limits_and_cancel(tmp_path):
    async with running_manager(tmp_path, "slow", queue_size=2, per_client=2) as runs:
        a = runs.submit("baseline", {}, client="x")
        await wait_status(runs, a.id, "running")
        b = runs.submit("baseline", {}, client="x")
        assert b.status == "queued" and b.position == 1
        with pytest.raises(ClientLimit) as too_many:
            runs.submit("baseline", {}, client="x")
        assert too_many.value.wait_s >= 1
        c = runs.submit("baseline", {}, client="y")
        assert c.position == 2
        with pytest.raises(QueueFull) as full:
            runs.submit("baseline", {}, client="z")
        assert full.value.wait_s >= 1

        # Cancelling a queued run: immediate, and the queue moves up.
        assert runs.cancel(b.id).status == "cancelled"
        assert runs.get(c.id).position == 1
        assert [e.type for e in runs.store.events_after(b.id, 0)] == ["cancelled"]

        # Cancelling the running run: its worker is killed within the second, the
        # events so far are kept, and the next run starts.
        await wait_for(lambda: runs.get(a.id).last_seq >= 3, what="a few events")
        pid = runs.worker_pid(a.id)
        started = time.monotonic()
        record = await asyncio.to_thread(runs.cancel, a.id)
        assert record.status == "cancelled"
        # SIGKILLed: the kernel may still be tearing down a process with torch loaded
        # when cancel returns, so its death is awaited, within the same second.
        await wait_for(lambda: not _alive(pid), timeout=1.0, what="the worker to die")
        assert time.monotonic() - started < 1.0
        events = runs.store.events_after(a.id, 0)
        assert len(events) >= 4 and events[-1].type == "cancelled"
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        await wait_status(runs, c.id, "running")

        with pytest.raises(RunFinished):
            runs.cancel(a.id)
        with pytest.raises(RunNotFound):
            runs.cancel("missing")
        await asyncio.to_thread(runs.cancel, c.id)


async def test_an_exception_in_the_trainer_fails_the_run_with_its_message(tmp_path):
    async with running_manager(tmp_path, "boom") as runs:
        run_id = runs.submit("baseline", {}).id
        record = await wait_status(runs, run_id, "failed")
        assert record.error == "RuntimeError: the loss exploded"
        events = [e.as_dict() for e in runs.store.events_after(run_id, 0)]
        assert events[-1]["type"] == "failed" and events[-1]["error"] == record.error
        assert [e["type"] for e in events[:-1]] == ["phase", "metric", "metric", "metric", "phase"]
        # The service carries on with a fresh worker.
        again = runs.submit("baseline", {}).id
        assert (await wait_status(runs, again, "failed")).error.startswith("RuntimeError")


async def test_a_worker_killed_by_a_signal_fails_the_run_and_the_next_one_runs(tmp_path):
    async with running_manager(tmp_path, "slow") as runs:
        run_id = runs.submit("baseline", {}).id
        await wait_for(lambda: runs.get(run_id).last_seq >= 2, what="first events")
        os.kill(runs.worker_pid(run_id), signal.SIGKILL)
        record = await wait_status(runs, run_id, "failed", timeout=5)
        assert record.error.startswith("worker exited with signal 9")
        assert runs.store.events_after(run_id, 0)[-1].type == "failed"
        next_id = runs.submit("baseline", {}).id
        await wait_status(runs, next_id, "running")
        await asyncio.to_thread(runs.cancel, next_id)


async def test_nan_and_infinity_are_stored_as_null(tmp_path):
    async with running_manager(tmp_path, "odd_numbers") as runs:
        run_id = runs.submit("baseline", {}).id
        record = await wait_status(runs, run_id, "succeeded")
        metric = runs.store.events_after(run_id, 0)[0]
        assert json.loads(metric.data)["losses"]["student"] == {"total": [None, 0.5],
                                                                "kd": [0.1, None]}
        assert record.summary.wire() == {"version": 2, "final_acc": None}


async def test_stop_interrupts_the_running_run_and_a_new_manager_keeps_it(tmp_path):
    runs = RunManager(fake_settings(tmp_path, "slow"))
    runs.start()
    run_id = runs.submit("baseline", {}).id
    queued_id = runs.submit("baseline", {}).id
    await wait_for(lambda: runs.get(run_id).last_seq >= 3, what="first events")
    await asyncio.to_thread(runs.stop)

    reopened = RunManager(fake_settings(tmp_path, run_warm_workers=0))
    reopened.start()
    try:
        for rid, at_least in ((run_id, 4), (queued_id, 1)):
            assert reopened.get(rid).status == "interrupted"
            stored = reopened.store.events_after(rid, 0)
            assert len(stored) >= at_least
            assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
            assert stored[-1].type == "failed" and stored[-1].as_dict()["status"] == "interrupted"
    finally:
        await asyncio.to_thread(reopened.stop)


async def test_every_viewer_gets_every_event_even_a_slow_one(tmp_path, monkeypatch):
    """Tiny viewer queues and a burst of 2,000 events: the slow viewer overflows
    and catches up from the store, with no gap and no duplicate."""
    overflows = []
    real_reset = Subscriber.reset
    monkeypatch.setattr(Subscriber, "reset", lambda self: overflows.append(1) or real_reset(self))
    async with running_manager(tmp_path, "burst", subscriber_queue=8) as runs:
        assert await asyncio.to_thread(runs.wait_warm, 20)
        run_id = runs.submit("baseline", {}).id

        async def watch(delay: float) -> list[int]:
            seen = []
            async for chunk in follow(runs.hub, runs.store, run_id, 0):
                seen.extend(event.seq for event in chunk)
                if delay:
                    await asyncio.sleep(delay)
            return seen

        fast, slow = await asyncio.wait_for(asyncio.gather(watch(0), watch(0.01)), 30)
        last = runs.get(run_id).last_seq
        assert last > 2000
        assert fast == list(range(1, last + 1))
        assert slow == list(range(1, last + 1))
        assert overflows, "the slow viewer was expected to overflow its queue"
        # Joining late, or resuming after seq 1500, replays from the store.
        late = [e.seq async for chunk in follow(runs.hub, runs.store, run_id, 1500) for e in chunk]
        assert late == list(range(1501, last + 1))
        assert runs.hub.viewers(run_id) == 0


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (the parent reaps it soon).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_the_service_applies_retention_at_start(tmp_path):
    store = open_store(tmp_path / "runs.sqlite3")
    for i in range(3):
        store.create_run(f"r{i}", "kd", {}, "", float(i))
        store.finish(f"r{i}", "cancelled", {"type": "cancelled", "status": "cancelled"})
    store.close()
    async with running_manager(tmp_path, settings={"run_max_stored": 2}) as runs:
        assert [r.id for r in runs.list_runs()] == ["r2", "r1"]
    async with running_manager(tmp_path, settings={"run_max_stored": 0,
                                                   "run_retention_days": 0}) as runs:
        assert len(runs.list_runs()) == 2
