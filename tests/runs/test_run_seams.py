"""The two seams and their settings: RUN_STORE_URL picks the store, RUN_EXECUTOR
the executor; a cluster executor over a file store is refused at start."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError
from support.servers import ROOT, server_env

from app.runs.factory import open_store
from app.runs.local_executor import LocalExecutor
from app.runs.manager import RunManager
from app.runs.sqlite_store import SqliteRunStore
from app.settings import Settings


def test_the_default_store_is_the_sqlite_file_under_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path, run_store_url=None)
    assert settings.store_url == str(tmp_path / "runs.sqlite3")
    store = open_store(settings.store_url)
    assert isinstance(store, SqliteRunStore) and store.path == tmp_path / "runs.sqlite3"
    store.close()


def test_a_sqlite_url_names_a_file(tmp_path):
    store = open_store(f"sqlite://{tmp_path / 'other.db'}")
    assert isinstance(store, SqliteRunStore) and store.path == tmp_path / "other.db"
    store.close()


def test_the_default_executor_is_local_workers(tmp_path):
    runs = RunManager(Settings(data_dir=tmp_path, run_executor="local"))
    assert isinstance(runs.executor, LocalExecutor)
    assert runs.executor.runs_die_with_process


def test_ray_over_a_sqlite_file_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ValidationError, match=r"RUN_STORE_URL.*postgresql"):
        Settings(data_dir=tmp_path, run_executor="ray", run_store_url=None)


def test_the_server_refuses_to_start_with_ray_over_sqlite(tmp_path):
    env = server_env(DATA_DIR=str(tmp_path), RUN_EXECUTOR="ray", PORT="1")
    done = subprocess.run([sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0
    assert "a SQLite file is not shared between machines" in done.stderr
