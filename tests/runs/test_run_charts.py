"""The run page's charts are one table (app/runs/charts.py): run.js draws every
entry and the metrics export writes every group an entry names."""

from __future__ import annotations

import json

from app import PROJECT_ROOT
from app.runs import charts
from app.runs.charts import CHARTS, Chart, chart_table
from app.runs.factory import open_store
from app.runs.metrics import metric_rows
from app.runs.store import StoredEvent
from app.web.i18n import TABLES


def test_the_table_names_the_groups_the_trainer_emits():
    # Every model's CE on one axis; a method's other terms each on its own; accuracy.
    assert [(c.id, c.kind, c.group, c.metric, c.facet) for c in CHARTS] == [
        ("ce", "step", "losses", "ce", False), ("terms", "step", "losses", None, True),
        ("acc", "epoch", "models", "acc", False)]
    assert CHARTS[1].exclude == ("ce",)
    assert json.loads(json.dumps(chart_table()))[2]["x_modes"] == ["epoch", "time"]


def test_run_js_hard_codes_no_chart():
    script = (PROJECT_ROOT / "static" / "js" / "run.js").read_text()
    assert "boot.charts" in script
    # (The live verdict still reads the epoch events' validation accuracy itself.)
    for literal in ('"loss"', '"acc"', '"ce"', '"kd"', "charts.loss", "charts.acc", "charts.ce",
                    "event.losses", "loss: new Map"):
        assert literal not in script, literal


def test_a_new_chart_entry_brings_its_group_into_the_export(tmp_path, monkeypatch):
    probe = Chart(id="probe", kind="epoch", group="probes", metric="gap",
                  y_title="gap", label="gap per epoch")
    event = {"type": "metric", "kind": "epoch", "phase": "train", "epoch": 1, "epochs": 1,
             "models": {"student": {"acc": [0.5]}}, "probes": {"student": {"gap": [0.1]}}}
    store = open_store(tmp_path / "runs.sqlite3")
    store.create_run("r", "kd", {}, "", 1.0)
    store.append_events("r", [StoredEvent(1, "metric", json.dumps({"seq": 1, **event}))])
    before = {(row["model"], row["name"]) for row in metric_rows(store, "r")}
    assert before == {("student", "acc")}  # no chart reads `probes`: not exported
    monkeypatch.setattr(charts, "CHARTS", (*CHARTS, probe))
    after = {(row["model"], row["name"]) for row in metric_rows(store, "r")}
    assert after == {("student", "acc"), ("student", "gap")}
    assert chart_table()[-1] == {**chart_table()[-1], "id": "probe", "group": "probes"}
    store.close()


def test_the_run_page_boots_run_js_with_the_table(client):
    store = client.app.state.runs.store
    store.create_run("charts000001", "kd", {"epochs": 1}, "127.0.0.1", 1.0)
    page = client.get("/runs/charts000001").text
    boot = json.loads(page.split('id="run-boot">', 1)[1].split("</script>", 1)[0])
    # The table as it is, but for the titles: those are in the page's language.
    table = json.loads(json.dumps(chart_table()))
    for chart in table:
        for field in ("y_title", "label", "title"):
            chart[field] = TABLES["zh"][f"chart.{chart['id']}.{field}"]
    assert boot["charts"] == table
