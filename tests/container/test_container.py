"""The image, built and run for real by scripts/container-check.sh: opt-in, since it
takes minutes and needs root. Run it with ``CONTAINER_CHECK=1 pytest tests/container``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "container-check.sh"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("CONTAINER_CHECK") != "1",
        reason="builds and runs the image (minutes): set CONTAINER_CHECK=1",
    ),
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux"),
]


def test_image_builds_runs_and_serves() -> None:
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=int(os.environ.get("CONTAINER_CHECK_TIMEOUT", "5400")),
        check=False,
    )
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr[-20000:])
    assert result.returncode == 0, result.stdout[-4000:]
    assert "FAIL " not in result.stdout
