"""Constants of the security tests (test files can't import their conftest)."""

from __future__ import annotations

#: A run the live server has on record from the start: finished, with a metric.
KNOWN_RUN = "0123456789ab"
#: Written next to the notes and into the data folder: no response may ever carry it.
CANARY = "canary-7f3d9c1e-not-for-the-web"
#: A 1x1 PNG the live server keeps in notes/figs/fig.png: the one file beside the notes
#: it serves.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
