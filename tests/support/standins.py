"""Base images for the container tests: the official ones (python:3.11-slim,
postgres:16, caddy:2) when the engine has them or can pull them, else stand-ins built
here from Debian's packages and tagged with the official names, so that `Dockerfile`
and `deploy/compose.yaml` stay what a user runs. Each stand-in is built once and then
found by its tag.

The stand-ins start from one Debian bookworm root made by debootstrap and imported
with `docker import` (tag ``kd-standin/debian:bookworm``); each then installs its
packages in a `docker build` on the host's network (apt reaches Debian's mirror)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
import docker.errors

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent.parent / "container" / "standins"
DEBIAN = "kd-standin/debian:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Official name -> the stand-in's Dockerfile in tests/container/standins.
STANDINS = {
    "python:3.11-slim": "python.Dockerfile",
    "postgres:16": "postgres.Dockerfile",
    "caddy:2": "caddy.Dockerfile",
}
LABEL = "org.kd-notes.standin"


def has_image(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def is_standin(client: docker.DockerClient, tag: str) -> bool:
    return LABEL in (client.images.get(tag).labels or {})


def ensure_base(client: docker.DockerClient, tag: str) -> str:
    """Makes `tag` present; says where it came from."""
    if has_image(client, tag):  # cached by tag: `docker rmi TAG` to rebuild a stand-in
        return "stand-in, built earlier" if is_standin(client, tag) else "present"
    repository, _, version = tag.partition(":")
    try:
        client.images.pull(repository, tag=version)
        return "pulled"
    except docker.errors.APIError as error:
        log.warning("can't pull %s (%s): building a stand-in", tag, str(error)[:200])
    build_standin(client, tag)
    return "stand-in, built now"


def host_ca_bundle() -> Path:
    for candidate in (os.environ.get("SSL_CERT_FILE"), os.environ.get("PIP_CERT"),
                      "/etc/ssl/certs/ca-certificates.crt"):  # fmt: skip
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise RuntimeError("no CA bundle on this host (SSL_CERT_FILE)")


def build_standin(client: docker.DockerClient, tag: str) -> None:
    ensure_debian(client)
    with tempfile.TemporaryDirectory(prefix="kd-standin-ctx-") as context:
        shutil.copytree(HERE, context, dirs_exist_ok=True)
        shutil.copy(host_ca_bundle(), Path(context) / "host-ca.crt")
        client.images.build(
            path=context,
            dockerfile=STANDINS[tag],
            tag=tag,
            network_mode="host",
            labels={LABEL: f"stand-in for {tag}, from Debian bookworm's packages"},
            rm=True,
            forcerm=True,
        )


def ensure_debian(client: docker.DockerClient) -> None:
    if has_image(client, DEBIAN):
        return
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is missing (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="kd-standin-") as tmp:
        root = Path(tmp) / "root"
        subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(root), DEBIAN_MIRROR],
            check=True, capture_output=True, timeout=1800,
        )
        # What a slim image leaves out: apt's caches and lists, logs, docs, man pages
        # and translations (apt-get update brings the lists back when needed).
        for junk in ("var/cache/apt", "var/lib/apt/lists", "var/log", "usr/share/doc",
                     "usr/share/man", "usr/share/info", "usr/share/locale"):  # fmt: skip
            for path in (root / junk).rglob("*"):
                if path.is_file() or path.is_symlink():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "import",
             "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "--change", f'LABEL {LABEL}="Debian bookworm minbase, debootstrap"',
             "-", DEBIAN],
            stdin=tar.stdout, check=True, capture_output=True, timeout=900,
        )
        tar.wait()
