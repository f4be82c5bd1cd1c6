"""A finished kd run written straight into a server's store (SQLite, shared with the
server in WAL mode): exact numbers for the run page's CE chart and KD's term panels,
and a page with every chart for the accessibility checks."""

from __future__ import annotations

import time
from pathlib import Path

from app.distill.stats import paired_stats
from app.runs.factory import open_store
from app.runs.store import encode_event

#: A finished kd run written into the store: exact numbers for the panels.
CE = [[2.0, 2.2], [1.0, 1.2]]
KL = [[9.0, 11.0], [5.0, 7.0]]
STORED = [
    {"type": "phase", "phase": "train", "state": "start", "epochs": 1, "steps": 2,
     "seeds": [0, 1], "t": 100.0},
    *({"type": "metric", "kind": "step", "phase": "train", "epoch": 1, "step": i + 1,
       "steps": 2, "t": 101.0 + i,
       "losses": {"student": {"ce": ce, "kd": kl,
                              "total": [c + k for c, k in zip(ce, kl, strict=True)]},
                  "baseline": {"ce": [3.0, 3.0], "total": [3.0, 3.0]}}}
      for i, (ce, kl) in enumerate(zip(CE, KL, strict=True))),
    {"type": "metric", "kind": "epoch", "phase": "train", "epoch": 1, "epochs": 1, "t": 103.0,
     "models": {"student": {"acc": [0.9, 0.8]}, "baseline": {"acc": [0.8, 0.8]}}},
    {"type": "phase", "phase": "train", "state": "end", "t": 103.0},
]  # fmt: skip


SUMMARY = {"method": "kd", "seeds": [0, 1], "final_acc": 0.85, "baseline_final_acc": 0.8,
           "models": {"student": 0.85, "baseline": 0.8},
           "per_seed": {"student": {"test_acc": [0.9, 0.8]}, "baseline": {"test_acc": [0.8, 0.8]}},
           "delta": paired_stats([0.9, 0.8], [0.8, 0.8]).as_dict(), "wall_s": 4.0}  # fmt: skip


def store_kd_run(data_dir: Path, run_id: str) -> None:
    store = open_store(data_dir / "runs.sqlite3")
    try:
        store.create_run(run_id, "kd", {"epochs": 1, "seeds": 2}, "127.0.0.1", time.time())
        store.append_events(run_id, [encode_event(i, e) for i, e in enumerate(STORED, 1)])
        store.finish(run_id, "succeeded", {"type": "done", "summary": SUMMARY, "t": 104.0},
                     summary=SUMMARY)
    finally:
        store.close()
