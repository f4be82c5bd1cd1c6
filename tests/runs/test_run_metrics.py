"""The long-format export of a run's metrics: one row per seed, the seed taken from
the phase event before it; plain numbers of runs stored before seeds still export."""

from __future__ import annotations

import csv
import io
import json

from app.runs.factory import open_store
from app.runs.metrics import COLUMNS, metric_rows, to_csv
from app.runs.store import RunStore, StoredEvent


def _stored(tmp_path, events: list[dict]) -> RunStore:
    """Events written as stored, unchecked: the export must read whatever a stored
    run holds, including shapes the contract refuses today."""
    store = open_store(tmp_path / "runs.sqlite3")
    store.create_run("r", "kd", {}, "127.0.0.1", 1.0)
    stored = [StoredEvent(i, e["type"], json.dumps({"seq": i, "t": 1.0, **e}))
              for i, e in enumerate(events, start=1)]
    store.append_events("r", stored)
    return store


def _phase(phase: str, seeds: list[int] | None) -> dict:
    event = {"type": "phase", "phase": phase, "state": "start", "epochs": 1, "steps": 1}
    return event if seeds is None else {**event, "seeds": seeds}


def _step(phase: str, losses: dict) -> dict:
    return {
        "type": "metric",
        "kind": "step",
        "phase": phase,
        "epoch": 1,
        "step": 1,
        "steps": 1,
        "losses": losses,
    }


def _cells(rows, *keys):
    return [tuple(row[k] for k in keys) for row in rows]


def test_lists_become_one_row_per_seed_named_by_the_phase(tmp_path):
    store = _stored(
        tmp_path,
        [
            _phase("teacher", [7]),  # only the teacher of seed 7 was not cached
            _step("teacher", {"teacher": {"total": [2.0]}}),
            _phase("train", [5, 7]),
            _step("train", {"student": {"total": [1.0, 1.5]}, "baseline": {"total": [2.0, 2.5]}}),
            {
                "type": "metric",
                "kind": "epoch",
                "phase": "train",
                "epoch": 1,
                "epochs": 1,
                "models": {"student": {"acc": [0.9, None]}},
            },
        ],
    )
    rows = list(metric_rows(store, "r"))
    assert all(set(row) == set(COLUMNS) for row in rows)
    assert _cells(rows, "phase", "seed", "model", "value") == [
        ("teacher", 7, "teacher", 2.0),
        ("train", 5, "student", 1.0),
        ("train", 7, "student", 1.5),
        ("train", 5, "baseline", 2.0),
        ("train", 7, "baseline", 2.5),
        ("train", 5, "student", 0.9),
        ("train", 7, "student", None),  # NaN, stored as null, keeps its row
    ]
    assert {row["seq"] for row in rows if row["phase"] == "train"} == {4, 5}
    assert [row["step"] for row in rows] == [1, 1, 1, 1, 1, None, None]


def test_without_phase_seeds_the_index_is_the_seed(tmp_path):
    store = _stored(
        tmp_path,
        [
            _phase("train", None),
            _step("train", {"student": {"total": [1.0, 2.0, 3.0]}}),
            _phase("stage1", [4]),  # fewer seeds than values: the rest fall back too
            _step("stage1", {"student": {"total": [1.0, 2.0]}}),
        ],
    )
    assert [row["seed"] for row in metric_rows(store, "r")] == [0, 1, 2, 4, 1]


def test_plain_numbers_of_older_runs_give_one_row_without_a_seed(tmp_path):
    store = _stored(
        tmp_path,
        [
            _phase("train", None),
            _step("train", {"student": {"total": 0.5, "kd": None}}),
            {
                "type": "metric",
                "kind": "epoch",
                "phase": "train",
                "epoch": 1,
                "models": {"student": {"acc": 0.9}, "broken": "not a dict"},
            },
            {"type": "metric", "kind": "step", "losses": ["not", "a", "dict"]},
        ],
    )
    rows = list(metric_rows(store, "r"))
    assert _cells(rows, "seed", "name", "value") == [
        (None, "total", 0.5),
        (None, "kd", None),
        (None, "acc", 0.9),
    ]
    text = "".join(to_csv(iter(rows)))
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == list(COLUMNS) and parsed[0]["seed"] == ""


def test_the_seeds_carry_across_chunks(tmp_path):
    events = [_phase("train", [9, 10])]
    events += [_step("train", {"student": {"total": [float(i), float(i)]}}) for i in range(5)]
    rows = list(metric_rows(_stored(tmp_path, events), "r", chunk=2))
    assert [row["seed"] for row in rows] == [9, 10] * 5
