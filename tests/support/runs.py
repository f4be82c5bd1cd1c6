"""A run service over a fake trainer, for in-process tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.runs import RunLimits, RunManager
from app.runs.contract import RunRecord
from app.settings import Settings


def fake_settings(data_dir: Path, target: str = "quick", **settings) -> Settings:
    """Settings of a run service whose trainer is `support.fakes:<target>`; nothing
    left to the environment or a .env file."""
    defaults = {"run_token": None, "run_store_url": None, "run_executor": "local",
                "run_target": f"support.fakes:{target}", "notes_poll_interval": 0}
    return Settings(data_dir=data_dir, **(defaults | settings))


@asynccontextmanager
async def running_manager(
    tmp_path: Path, target: str = "quick", *, settings: dict | None = None, **limits
) -> AsyncIterator[RunManager]:
    """A started RunManager over a fresh database, with a fake trainer; stopped
    after. `limits`: RunLimits fields (queue_size=2, subscriber_queue=8...)."""
    limits.setdefault("warm_workers", 1)
    config = fake_settings(tmp_path, target, **(settings or {}))
    manager = RunManager(config, limits=RunLimits.from_settings(config, **limits))
    manager.start()
    try:
        yield manager
    finally:
        await asyncio.to_thread(manager.stop)


async def wait_status(manager: RunManager, run_id: str, statuses, timeout: float = 20.0
                      ) -> RunRecord:
    """Poll until the run reaches one of `statuses`; fail (never hang) after `timeout`."""
    statuses = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    while True:
        record = manager.get(run_id)
        if record and record.status in statuses:
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {record and record.status}")
        await asyncio.sleep(0.02)
