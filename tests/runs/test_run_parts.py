"""The run service's parts on their own: admission (parameters checked once, the
queue and per-client bounds) and the queries, each over a bare store."""

from __future__ import annotations

import pytest

from app.distill.methods import METHODS
from app.runs.admission import Admission, RunLimits, check_params
from app.runs.contract import RunRecord, Status
from app.runs.errors import ClientLimit, InvalidParams, QueueFull, UnknownMethod
from app.runs.factory import open_store
from app.runs.queries import RunQueries
from app.runs.stream import Hub


def record(run_id: str, client: str = "c") -> RunRecord:
    return RunRecord(id=run_id, method="kd", params={}, status=Status.QUEUED, client=client,
                     created_at=float(len(run_id)))


def test_parameters_are_checked_by_the_methods_own_model():
    params = check_params(METHODS, "kd", {"epochs": 3})
    assert isinstance(params, METHODS["kd"].params) and params.epochs == 3
    assert check_params(METHODS, "kd", params) is params  # checked once: taken as it is
    with pytest.raises(InvalidParams) as bad:
        check_params(METHODS, "kd", {"epochs": 31})
    assert bad.value.errors[0]["field"] == "epochs"
    with pytest.raises(UnknownMethod):
        check_params(METHODS, "nope", {})


def test_admission_holds_the_queue_and_each_clients_share(tmp_path):
    store = open_store(tmp_path / "runs.sqlite3")
    admission = Admission(RunLimits(concurrency=1, queue_size=2, per_client=2))
    admission.admit(store, record("a1", "a"), held_here=True, waiting=0)
    admission.admit(store, record("a22", "a"), held_here=True, waiting=1)
    with pytest.raises(ClientLimit) as mine:
        admission.admit(store, record("a333", "a"), held_here=True, waiting=2)
    assert "at most 2" in mine.value.message and mine.value.wait_s >= 1
    admission.admit(store, record("b1", "b"), held_here=True, waiting=2)
    with pytest.raises(QueueFull) as full:
        admission.admit(store, record("b22", "b"), held_here=True, waiting=3)
    assert full.value.wait_s == 120  # no run has finished yet: 30 s each, 4 ahead
    store.close()


def test_queries_give_records_their_place_in_whichever_queue(tmp_path):
    store = open_store(tmp_path / "runs.sqlite3")
    for run_id in ("q1", "q22"):
        store.create_run(run_id, "kd", {}, "", float(len(run_id)))
    in_store = RunQueries(store, Hub(8), METHODS)
    assert in_store.positions() == {"q1": 1, "q22": 2} and in_store.get("q22").position == 2
    held = RunQueries(store, Hub(8), METHODS, queued_here=lambda: ["q22"])
    assert [r.position for r in held.list_runs()] == [1, None]
    assert held.knows("kd") and not held.knows("nope") and held.get("gone") is None
    store.close()
