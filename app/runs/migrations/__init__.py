"""Numbered schema migrations of the two stores, one folder each: `NNNN_what.sql`,
applied once, in order, when a store opens. Adding a column is one new file per
store (SQLite counts with `PRAGMA user_version`, Postgres in `schema_migrations`)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def migration_files(dialect: str) -> list[tuple[int, Traversable]]:
    """(number, file) of every migration of `dialect` ("sqlite", "postgres"), in order."""
    folder = resources.files(__name__).joinpath(dialect)
    files = [f for f in folder.iterdir() if f.name.endswith(".sql")]
    numbered = sorted((int(f.name.split("_", 1)[0]), f) for f in files)
    numbers = [n for n, _ in numbered]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"{dialect} migrations must be numbered 1, 2, 3...: {numbers}")
    return numbered
