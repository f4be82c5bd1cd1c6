"""A throwaway Postgres cluster: initdb and pg_ctl in a temporary folder, on a
free port, owned by the test session; no system service, nothing left behind.

Debian's `postgresql` package puts the tools in /usr/lib/postgresql/<version>/bin
(`.ci/run` installs it). Postgres refuses to run as root: as root, the cluster is
run by the `postgres` user the package creates. Without the tools a test skips,
except under CI (the `CI` variable set), where that is a failure."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from support.servers import free_port


def pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(p.split("/")[4]))  # fmt: skip
    return Path(versions[-1]).parent if versions else None


def need_postgres() -> Path:
    """The tools' folder, or skip (fail under CI) when they are absent."""
    found = pg_bin()
    if found is None:
        message = "Postgres tools (initdb, pg_ctl) not found: apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run these tests)")
        pytest.skip(message)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("psycopg is missing: pip install -e '.[scale]' (CI must run these tests)")
        pytest.skip("psycopg is missing: pip install -e '.[scale]'")
    return found


class PostgresCluster:
    def __init__(self, bin_dir: Path):
        # Its own folder straight under the temp dir: pytest's is private to root,
        # and the `postgres` user must reach this one.
        root = Path(tempfile.mkdtemp(prefix="kd-test-pg-"))
        self.bin, self.root = bin_dir, root
        self.data, self.socket_dir = root / "pgdata", root / "sock"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.socket_dir.mkdir(parents=True)
        if self.user:
            shutil.chown(root, self.user)
            shutil.chown(self.socket_dir, self.user)
        self._as_owner("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                       "--no-sync", "-E", "UTF8")  # fmt: skip
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, tool: str, *args: str, timeout: float = 60) -> None:
        argv = [str(self.bin / tool), *args]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                   " -c max_connections=300")  # fmt: skip
        self._as_owner("pg_ctl", "-D", str(self.data), "-l", str(self.root / "pg.log"),
                       "-o", options, "-w", "-t", "30", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._as_owner("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, down_for: float = 0.0) -> None:
        """Stop (dropping every connection), wait, start again on the same port."""
        self.stop()
        time.sleep(down_for)
        self.start()

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"
