"""Fixtures shared across the suite: an app over a given notes folder, with its own
data folder, driven in-process."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import PROJECT_ROOT

# A developer's RUN_TOKEN (environment or .env) must not leak into tests that expect
# the default; tests of the token pass it to Settings explicitly, which wins.
os.environ["RUN_TOKEN"] = ""
from app.main import create_app
from app.settings import Settings


def make_settings(notes_dir: Path, data_dir: Path, **overrides) -> Settings:
    return Settings(notes_dir=notes_dir, data_dir=data_dir, notes_poll_interval=0, **overrides)


@pytest.fixture(scope="module")
def seed_notes(tmp_path_factory) -> Path:
    """A private copy of the bundled notes, so a test may edit it."""
    notes = tmp_path_factory.mktemp("notes")
    shutil.copy(PROJECT_ROOT / "notes" / "knowledge-distillation.md", notes)
    return notes


@pytest.fixture(scope="module")
def client(seed_notes, tmp_path_factory) -> Iterator[TestClient]:
    settings = make_settings(seed_notes, tmp_path_factory.mktemp("data"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def postgres():
    """A throwaway Postgres cluster for the whole session (tests/support/postgres.py);
    skipped where the tools are absent, a failure under CI."""
    from support.postgres import PostgresCluster, need_postgres

    cluster = PostgresCluster(need_postgres())
    yield cluster
    cluster.destroy()


@pytest.fixture
def pg_url(postgres) -> str:
    """A fresh database of the session's cluster."""
    return postgres.new_database()


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster for the session (tests/support/ray_cluster.py)."""
    from support.ray_cluster import RayCluster

    cluster = RayCluster()
    yield cluster
    cluster.shutdown()
