"""Above the seams: the store and the executor that the settings name. Only here
are both implementations of each known (psycopg and ray are imported only when
named)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.runs.executor import Executor
from app.runs.store import RunStore

if TYPE_CHECKING:
    from app.settings import Settings


def open_store(url: str | Path) -> RunStore:
    """The store that `RUN_STORE_URL` names: a SQLite path (or sqlite:///path),
    or postgresql://... (needs the `scale` extra)."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from app.runs.pg_store import PostgresRunStore  # psycopg lives only there

        return PostgresRunStore(text)
    from app.runs.sqlite_store import SqliteRunStore

    return SqliteRunStore(Path(text.removeprefix("sqlite://")))


def make_executor(settings: Settings, target: str, *, concurrency: int, warm_workers: int,
                  batch_limit: int) -> Executor:
    """The executor that `RUN_EXECUTOR` names: local worker processes, or Ray."""
    if settings.run_executor == "ray":
        from app.runs.ray_executor import RayExecutor  # ray lives only there

        return RayExecutor(settings, target, concurrency)
    from app.runs.local_executor import LocalExecutor

    return LocalExecutor(target, warm_workers=warm_workers, batch_limit=batch_limit)
