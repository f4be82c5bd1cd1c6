"""The typed run contract: one Status everywhere, events that keep their wire
format, refusals that say which field is wrong."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from support.runs import running_manager, wait_status

from app import PROJECT_ROOT
from app.runs.contract import (
    EVENT_TYPES,
    STATUS_LABELS,
    MetricEvent,
    RunRecord,
    Status,
    encode_event,
    parse_event,
)
from app.web import run_pages

#: One of each event, as docs/contracts.md shows them.
WIRE = [
    {"type": "phase", "phase": "train", "state": "start", "epochs": 3, "steps": 42,
     "seeds": [0, 1, 2]},
    {"type": "metric", "kind": "step", "phase": "train", "epoch": 1, "step": 7, "steps": 42,
     "losses": {"student": {"total": [1.2, 1.1, None], "ce": [1, 2, 3]}}},
    {"type": "metric", "kind": "epoch", "phase": "train", "epoch": 1, "epochs": 3,
     "models": {"student": {"acc": [0.91, 0.9, 0.93]}, "baseline": {"acc": 0.9}}},
    {"type": "log", "level": "info", "message": "teacher loaded from cache"},
    {"type": "done", "summary": {"version": 2, "method": "kd", "final_acc": 0.94}},
    {"type": "failed", "status": "failed", "error": "worker exited with signal 9"},
    {"type": "cancelled", "status": "cancelled"},
]  # fmt: skip


@pytest.mark.parametrize("event", WIRE, ids=[e["type"] for e in WIRE])
def test_typed_events_keep_their_wire_format(event):
    assert parse_event(event).wire() == event
    stored = encode_event(5, {**event, "t": 1.5})
    assert json.loads(stored.data) == {"seq": 5, "t": 1.5, **event}
    assert stored.terminal == (event["type"] in ("done", "failed", "cancelled"))


def test_a_done_event_stored_before_summaries_had_a_version_still_reads():
    old = {"type": "done", "summary": {"method": "kd", "final_acc": 0.94}}
    assert parse_event(old).wire() == {"type": "done", "summary": {**old["summary"], "version": 2}}


def test_every_event_type_has_a_model():
    assert {e["type"] for e in WIRE} == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "metric", "phase": "train"}, "kind"),
        ({"type": "phase", "phase": "train", "state": "middle"}, "state"),
        ({"type": "log"}, "message"),
        ({"type": "metric", "kind": "step", "losses": {"student": {"total": "high"}}}, "losses"),
        ({"type": "explode"}, "type"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(event, field):
    with pytest.raises(ValidationError) as refused:
        encode_event(1, event)
    assert field in str(refused.value)


def test_whole_numbers_stay_whole_on_the_wire():
    event = MetricEvent(kind="step", losses={"student": {"n": [1, 2]}})
    assert json.loads(encode_event(1, event).data)["losses"]["student"]["n"] == [1, 2]


def test_status_is_one_enum_and_every_page_takes_it_from_there():
    assert [s.value for s in Status] == [
        "queued", "running", "succeeded", "failed", "cancelled", "interrupted"]  # fmt: skip
    assert set(STATUS_LABELS) == set(Status)
    assert {s.value: s.label_zh for s in Status} == run_pages.STATUS_LABELS
    # run.js reads the labels from its page's boot JSON; it lists none of its own.
    script = (PROJECT_ROOT / "static" / "js" / "run.js").read_text()
    assert "boot.status_labels" in script
    assert not any(f'{s.value}: "' in script for s in Status)
    assert "排队中" not in script and "已中断" not in script
    assert {s for s in Status if s.finished} == {
        Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.INTERRUPTED}  # fmt: skip


def test_the_api_documents_the_enum(client):
    schema = client.get("/openapi.json").json()
    status = schema["components"]["schemas"]["RunOut"]["properties"]["status"]
    ref = status.get("$ref", "").rsplit("/", 1)[-1]
    values = schema["components"]["schemas"][ref]["enum"] if ref else status["enum"]
    assert values == [s.value for s in Status]


def test_the_run_page_boots_run_js_with_the_labels(client):
    store = client.app.state.runs.store
    store.create_run("contract0001", "kd", {"epochs": 1}, "127.0.0.1", 1.0)
    store.finish("contract0001", "cancelled", {"type": "cancelled", "status": "cancelled"})
    page = client.get("/runs/contract0001").text
    boot = json.loads(page.split('id="run-boot">', 1)[1].split("</script>", 1)[0])
    assert boot["status_labels"] == {s.value: s.label_zh for s in Status}


def test_a_record_is_typed_not_a_mapping():
    record = RunRecord(id="r", method="kd", params={}, status="queued", created_at=1.0)
    assert record.status is Status.QUEUED and record.position is None
    with pytest.raises(TypeError):
        record["status"]  # read by attribute: the dict shim is gone


@pytest.mark.anyio
async def test_a_trainer_that_emits_a_malformed_event_fails_its_run(tmp_path):
    async with running_manager(tmp_path, "bad_event") as runs:
        run_id = runs.submit("baseline", {}).id
        record = await wait_status(runs, run_id, "failed")
        assert "ValidationError" in record.error and "kind" in record.error


def test_the_api_documents_the_summary_schema(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    summary = schema["RunOut"]["properties"]["summary"]
    refs = [s.get("$ref", "") for s in summary.get("anyOf", [summary])]
    name = next(r for r in refs if r).rsplit("/", 1)[-1]
    assert name == "Summary"
    assert {"version", "per_seed", "delta", "split", "comparisons"} <= set(
        schema["Summary"]["properties"])
    assert "Comparison" in schema and "Paired" in schema


def test_the_cli_checks_events_without_the_run_service():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from app.distill.console import checked\n"
        "seen = []\n"
        "checked(seen.append)({'type': 'log', 'message': 'hi'})\n"
        "assert seen == [{'type': 'log', 'message': 'hi'}], seen\n"
        "print(sorted(m for m in sys.modules if m.startswith('app.runs')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, check=True).stdout
    assert out.strip() == "[]"
