"""Fixtures of the run service tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Spawned workers import their target by name: make `runs_fakes` (and the helpers)
# importable in them and here, whatever pytest's import mode. Workers inherit sys.path.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
