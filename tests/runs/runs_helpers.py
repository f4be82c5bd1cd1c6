"""Helpers of the run service tests: a manager over fake trainers, and waits
that fail instead of hanging."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.runs import RunManager


@asynccontextmanager
async def running_manager(tmp_path: Path, target: str = "quick", **kw) -> AsyncIterator[RunManager]:
    """A started RunManager over a fresh database, with a fake trainer; stopped after."""
    kw.setdefault("warm_workers", 1)
    manager = RunManager(tmp_path / "runs.sqlite3", tmp_path, target=f"runs_fakes:{target}", **kw)
    manager.start()
    try:
        yield manager
    finally:
        await asyncio.to_thread(manager.stop)


async def wait_status(manager: RunManager, run_id: str, statuses, timeout: float = 20.0) -> dict:
    """Poll until the run reaches one of `statuses`; fail (never hang) after `timeout`."""
    statuses = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    while True:
        record = manager.get(run_id)
        if record and record["status"] in statuses:
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {record and record['status']}")
        await asyncio.sleep(0.02)


async def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
    return value
