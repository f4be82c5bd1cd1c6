"""Constants of the security tests (test files can't import their conftest)."""

from __future__ import annotations

#: A run the live server has on record from the start: finished, with a metric.
KNOWN_RUN = "0123456789ab"
#: Written next to the notes and into the data folder: no response may ever carry it.
CANARY = "canary-7f3d9c1e-not-for-the-web"
