"""Constants of the security tests, in a module of their own name: test files import
them from here, not from `conftest`, which may name another folder's conftest when
several test folders run together (each puts its folder first on sys.path)."""

from __future__ import annotations

#: A run the live server has on record from the start: finished, with a metric.
KNOWN_RUN = "0123456789ab"
#: Written next to the notes and into the data folder: no response may ever carry it.
CANARY = "canary-7f3d9c1e-not-for-the-web"
