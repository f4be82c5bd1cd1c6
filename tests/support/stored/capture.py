"""How the fixtures beside this file were made: with the code of commit 252d6e8
(before the summary had a type or a version), a few tiny runs of the trainer, and a
SQLite store written by that commit's `SqliteRunStore`. Kept so that a reader can
see what the fixtures are; re-running it with newer code would capture newer
shapes, not the old ones the upgrade tests need.

    python tests/support/stored/capture.py
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from app.distill.methods import RunConfig  # noqa: E402
from app.distill.trainer import train  # noqa: E402

RUNS = [
    ("baseline", {"epochs": 1, "seeds": 2}),
    ("kd", {"epochs": 1, "seeds": 2, "teacher_epochs": 1}),
    ("kd", {"epochs": 1, "seeds": 1, "teacher_epochs": 1}),
    ("kd", {"epochs": 1, "seeds": 2, "teacher_epochs": 1, "baseline": False}),
    ("dml", {"epochs": 1, "seeds": 2}),
    ("byot", {"epochs": 1, "seeds": 2}),
]

#: The summary of the trainer before seeds existed (trainer.py of commit 68b4aef^),
#: as a run of that time stored it: plain numbers, no per-seed data.
BEFORE_SEEDS = {
    "method": "kd", "final_acc": 0.9164, "best_acc": 0.9248, "baseline_final_acc": 0.8914,
    "baseline_best_acc": 0.9081, "delta_acc": 0.025, "teacher_acc": 0.9610,
    "models": {"student": 0.9164, "baseline": 0.8914, "teacher": 0.9610}, "wall_s": 4.211,
}


def main() -> None:
    summaries, events = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for method, params in RUNS:
            got: list[dict] = []
            config = RunConfig(method=method, params=params, data_dir=Path(tmp), device="cpu",
                               threads=1)
            summary = train(config, got.append)
            summaries.append({"method": method, "params": params, "summary": summary})
            if not events:
                events = got
        (HERE / "summaries.json").write_text(json.dumps(
            {"before_seeds": BEFORE_SEEDS, "runs": summaries}, indent=1) + "\n")
        (HERE / "events.json").write_text(json.dumps(events, indent=None) + "\n")
        make_db(Path(tmp) / "runs.sqlite3", summaries, events)
        db = sqlite3.connect(Path(tmp) / "runs.sqlite3")
        (HERE / "runs_before_migrations.sql").write_text("\n".join(db.iterdump()) + "\n")
    rendered()


def rendered() -> None:
    """How the pages and the CLI showed those summaries (wall time masked)."""
    from app.distill.console import render_table
    from app.distill.methods import METHODS
    from app.web.results import history_row, summary_view

    data = json.loads((HERE / "summaries.json").read_text())
    old = data["before_seeds"]
    out = {"before_seeds": {"view": summary_view(old), "row": history_row(old)}, "runs": []}
    for run in data["runs"]:
        s = run["summary"]
        table = render_table(METHODS[run["method"]], s).replace(f"{s['wall_s']:.1f} s", "WALL s")
        out["runs"].append({"view": summary_view(s), "row": history_row(s), "table": table})
    (HERE / "rendered.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")


def make_db(path: Path, summaries: list[dict], events: list[dict]) -> None:
    from app.runs.contract import Status, encode_event, parse_event
    from app.runs.sqlite_store import SqliteRunStore

    store = SqliteRunStore(path)
    for i, item in enumerate(summaries):
        run_id = f"run{i}"
        store.create_run(run_id, item["method"], item["params"], "c", 1_700_000_000.0 + i)
        store.mark_running(run_id, 1_700_000_001.0 + i)
        body = [e for e in events if e["type"] != "done"] if i == 0 else []
        stored = [encode_event(n, parse_event({**e, "t": 1_700_000_002.0}))
                  for n, e in enumerate(body, start=1)]
        store.append_events(run_id, stored, {"phase": "train"})
        done = parse_event({"type": "done", "summary": item["summary"], "t": 1_700_000_009.0})
        store.finish(run_id, Status.SUCCEEDED, done, summary=item["summary"])
    store.create_run("old", "kd", {"epochs": 20}, "c", 1_600_000_000.0)
    store.finish("old", Status.SUCCEEDED, {"type": "done", "summary": BEFORE_SEEDS},
                 summary=BEFORE_SEEDS)
    store.create_run("broken", "kd", {}, "c", 1_600_000_001.0)
    store.finish("broken", Status.FAILED, {"type": "failed", "error": "boom"}, error="boom")
    store.create_run("waiting", "lsr", {}, "c", 1_600_000_002.0)
    store.close()


if __name__ == "__main__":
    main()
