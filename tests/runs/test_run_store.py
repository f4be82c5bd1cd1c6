"""The SQLite store on its own: records, events, ordering, recovery."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from pathlib import Path

import pytest

from app.runs.contract import cancelled_event
from app.runs.factory import open_store
from app.runs.store import INTERRUPTED_ERROR, Retention, encode_event


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request, tmp_path):
    """Opens the store under test (the same one at each call, as a new process
    would); every test here runs against both."""
    if request.param == "sqlite":
        where = tmp_path / "sub" / "runs.sqlite3"
    else:
        where = request.getfixturevalue("pg_url")
    opened = []

    def make():
        opened.append(open_store(where))
        return opened[-1]

    yield make
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()


def test_creates_the_folder_and_uses_wal(tmp_path):
    store = open_store(tmp_path / "sub" / "runs.sqlite3")
    store.close()
    db = sqlite3.connect(tmp_path / "sub" / "runs.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_run_record_round_trip(make_store):
    store = make_store()
    store.create_run("r1", "kd", {"epochs": 2, "alpha": 0.5}, "1.2.3.4", 100.0)
    run = store.get_run("r1")
    assert run.status == "queued"
    assert run.params == {"epochs": 2, "alpha": 0.5}
    assert run.client == "1.2.3.4" and run.created_at == 100.0
    assert run.started_at is None and run.summary is None and run.progress == {}
    store.mark_running("r1", 101.0)
    assert store.get_run("r1").status == "running"
    assert store.get_run("nope") is None


def test_events_are_numbered_and_replayed_after_a_seq(make_store):
    store = make_store()
    store.create_run("r1", "kd", {}, "", 1.0)
    events = [encode_event(i, {"type": "log", "message": f"m{i}"}) for i in range(1, 6)]
    store.append_events("r1", events[:3], {"phase": "train"})
    store.append_events("r1", events[3:])
    assert [e.seq for e in store.events_after("r1", 0)] == [1, 2, 3, 4, 5]
    assert [e.seq for e in store.events_after("r1", 3)] == [4, 5]
    assert [e.seq for e in store.events_after("r1", 1, limit=2)] == [2, 3]
    first = store.events_after("r1", 0)[0]
    assert first.type == "log" and first.as_dict()["message"] == "m1"
    assert first.as_dict()["seq"] == 1 and "t" in first.as_dict()
    run = store.get_run("r1")
    assert run.last_seq == 5 and run.progress == {"phase": "train"}


def test_finish_appends_the_final_event_with_the_status(make_store):
    store = make_store()
    store.create_run("r1", "kd", {}, "", 1.0)
    store.append_events("r1", [encode_event(1, {"type": "log", "message": "x"})])
    summary = {"method": "kd", "final_acc": 1.0}
    final = store.finish("r1", "succeeded", {"type": "done", "summary": summary},
                         summary=summary)
    assert final.seq == 2 and final.terminal
    run = store.get_run("r1")
    assert run.status == "succeeded" and run.summary.wire() == {**summary, "version": 2}
    assert run.finished_at is not None and run.last_seq == 2
    status, events = store.status_and_events("r1", 0)
    assert status == "succeeded" and [e.type for e in events] == ["log", "done"]


def test_list_is_newest_first_and_filters(make_store):
    store = make_store()
    for i, method in enumerate(["kd", "lsr", "kd"]):
        store.create_run(f"r{i}", method, {}, "", float(i))
    store.finish("r1", "failed", {"type": "failed", "error": "e"}, error="e")
    assert [r.id for r in store.list_runs()] == ["r2", "r1", "r0"]
    assert [r.id for r in store.list_runs(methods=["kd"])] == ["r2", "r0"]
    assert [r.id for r in store.list_runs(status="failed")] == ["r1"]
    assert [r.id for r in store.list_runs(limit=1)] == ["r2"]
    assert store.list_runs(methods=[]) == []


def test_unfinished_runs_become_interrupted_with_their_events_kept(make_store):
    store = make_store()
    store.create_run("running", "kd", {}, "", 1.0)
    store.mark_running("running", 2.0)
    logs = [encode_event(i, {"type": "log", "message": f"m{i}"}) for i in (1, 2)]
    store.append_events("running", logs)
    store.create_run("queued", "kd", {}, "", 3.0)
    store.create_run("done", "kd", {}, "", 4.0)
    store.finish("done", "succeeded", {"type": "done", "summary": {}}, summary={})
    store.close()

    store = make_store()  # as a new process would
    assert sorted(store.interrupt_unfinished()) == ["queued", "running"]
    run = store.get_run("running")
    assert run.status == "interrupted" and run.error == INTERRUPTED_ERROR
    events = store.events_after("running", 0)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[-1].type == "failed" and events[-1].as_dict()["status"] == "interrupted"
    assert store.get_run("done").status == "succeeded"
    assert store.interrupt_unfinished() == []


def test_event_json_is_compact_and_one_line(tmp_path):
    event = encode_event(7, {"type": "log", "message": "two\nlines", "t": 5.0})
    assert "\n" not in event.data  # SSE data must be a single line
    assert json.loads(event.data) == {"seq": 7, "type": "log", "message": "two\nlines", "t": 5.0}


def test_mean_duration_of_recent_successes(make_store):
    store = make_store()
    assert store.mean_duration() is None
    store.create_run("a", "kd", {}, "", 1.0)
    store.mark_running("a", 10.0)
    store.finish("a", "succeeded", {"type": "done", "summary": {}})
    assert store.mean_duration() is not None


# -- retention ----------------------------------------------------------------------

DAY = 86400.0


def _finished(store, run_id: str, created: float, status: str = "succeeded") -> None:
    store.create_run(run_id, "kd", {}, "", created)
    store.append_events(run_id, [encode_event(1, {"type": "log", "message": "x"})])
    store.finish(run_id, status, {"type": "done", "summary": {}} if status == "succeeded"
                 else {"type": "failed", "error": "e"})  # fmt: skip


def _ids(store) -> set[str]:
    return {r.id for r in store.list_runs(limit=None)}


def test_retention_by_age_deletes_old_finished_runs_with_their_events(make_store):
    store = make_store()
    now = time.time()
    _finished(store, "old", now - 40 * DAY)
    _finished(store, "new", now - 1 * DAY)
    store.create_run("old-queued", "kd", {}, "", now - 50 * DAY)
    store.create_run("old-running", "kd", {}, "", now - 50 * DAY)
    store.mark_running("old-running", now - 50 * DAY)
    # finished_at is when finish() ran (now): age counts from there...
    assert store.prune(Retention(days=30)) == 0
    # ...so look from 31 days ahead: "old" and "new" finished now, both too old then,
    # the queued and running ones are kept whatever their age.
    assert store.prune(Retention(days=30), now=now + 31 * DAY) == 2
    assert _ids(store) == {"old-queued", "old-running"}
    assert store.events_after("old", 0) == [] and store.get_run("old") is None


def test_retention_cap_deletes_the_oldest_finished_first_never_an_active_one(make_store):
    store = make_store()
    for i in range(5):
        _finished(store, f"f{i}", float(i), "failed" if i % 2 else "succeeded")
    store.create_run("queued", "kd", {}, "", -1.0)  # the oldest of all, but queued
    assert store.prune(Retention(max_runs=3)) == 3
    assert _ids(store) == {"queued", "f3", "f4"}
    assert [e.seq for e in store.events_after("f4", 0)] == [1, 2]
    # Nothing finished left to delete: the cap can't go below the active runs.
    store.create_run("q2", "kd", {}, "", 10.0)
    store.create_run("q3", "kd", {}, "", 11.0)
    assert store.prune(Retention(max_runs=1)) == 2
    assert _ids(store) == {"queued", "q2", "q3"}


def test_zero_retention_keeps_everything(make_store):
    store = make_store()
    _finished(store, "ancient", 0.0)
    assert Retention(0, 0).keeps_everything
    assert store.prune(Retention(0, 0), now=time.time() + 1000 * DAY) == 0
    assert _ids(store) == {"ancient"}


def test_both_stores_declare_every_method_of_the_seam():
    from app.runs.pg_store import PostgresRunStore
    from app.runs.sqlite_store import SqliteRunStore
    from app.runs.store import RunStore

    wanted = {"admit", "mark_running", "append_events", "_finish", "prune", "heartbeat",
              "silent_runs", "request_cancel", "cancel_requests", "claim_next", "running_on",
              "queued_ids", "cancel_queued", "listen", "get_run", "list_runs",
              "events_after", "mean_duration", "close", "pin", "pin_live"}
    assert RunStore.__abstractmethods__ == wanted
    for store in (SqliteRunStore, PostgresRunStore):
        assert not store.__abstractmethods__, store


def test_runs_are_claimed_beaten_for_and_flagged_the_same_in_both(make_store):
    store = make_store()
    for i, run_id in enumerate(("c1", "c2", "c3")):
        store.create_run(run_id, "kd", {}, "", 10.0 + i)
    assert store.queued_ids() == ["c1", "c2", "c3"]
    claimed = store.claim_next("host:1")
    assert claimed.id == "c1" and claimed.status == "running"
    assert store.running_on("host:1") == ["c1"] and store.running_on("host:2") == []
    assert store.queued_ids() == ["c2", "c3"]
    assert store.request_cancel("c1") and store.cancel_requests(["c1", "c2"]) == ["c1"]
    store.heartbeat(["c1"], now=100.0)
    assert [r.id for r in store.silent_runs(older_than=99.0)] == []
    assert [r.id for r in store.silent_runs(older_than=101.0)] == ["c1"]
    cancelled = store.cancel_queued("c2", cancelled_event())
    assert cancelled is not None and store.get_run("c2").status == "cancelled"
    assert store.cancel_queued("c1", cancelled_event()) is None  # running, not queued
    assert store.queued_ids() == ["c3"]


def test_listen_says_catch_up_until_stopped(make_store):
    import threading

    store = make_store()
    stop, calls = threading.Event(), []

    def on_notify(run_id, seq):
        calls.append((run_id, seq))
        stop.set()

    thread = threading.Thread(target=store.listen, args=(on_notify, stop), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and calls[0] == (None, None)


# -- SQLite's numbered migrations ------------------------------------------------------

STORED = Path(__file__).resolve().parents[1] / "support" / "stored"


def _columns(path: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(path)
    try:
        return {table: [tuple(r[1:]) for r in db.execute(f"PRAGMA table_info({table})")]
                for table in ("runs", "events")}
    finally:
        db.close()


def test_a_database_of_the_code_before_migrations_is_upgraded_in_place(tmp_path):
    old = tmp_path / "old" / "runs.sqlite3"
    old.parent.mkdir()
    db = sqlite3.connect(old)
    db.executescript((STORED / "runs_before_migrations.sql").read_text())
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    rows_before = db.execute("SELECT * FROM runs ORDER BY id").fetchall()
    events_before = db.execute("SELECT * FROM events ORDER BY run_id, seq").fetchall()
    db.close()

    store = open_store(old)
    runs = {r.id: r for r in store.list_runs(limit=None)}
    assert len(runs) == len(rows_before) == 9
    assert runs["run1"].summary.per_seed["student"].test_acc and runs["waiting"].status == "queued"
    store.close()
    db = sqlite3.connect(old)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    # Every row and event kept as it was; the new columns at their defaults.
    width = len(rows_before[0])
    rows_after = db.execute("SELECT * FROM runs ORDER BY id").fetchall()
    assert [r[:width] for r in rows_after] == rows_before
    assert {r[width:] for r in rows_after} == {(None, 0, None, None)}
    assert db.execute("SELECT * FROM events ORDER BY run_id, seq").fetchall() == events_before
    db.close()

    fresh = tmp_path / "fresh" / "runs.sqlite3"
    open_store(fresh).close()
    assert _columns(old) == _columns(fresh)  # the same schema, however it was reached
    again = open_store(old)
    assert again.migrate() == []  # nothing twice
    again.create_run("new", "kd", {}, "", 1.0)
    assert again.claim_next("me").id == "new" and again.running_on("me") == ["new"]
    again.close()


def test_a_migration_that_fails_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    from app.runs import sqlite_store

    path = tmp_path / "runs.sqlite3"
    open_store(path).close()
    broken = tmp_path / "0004_broken.sql"
    broken.write_text("ALTER TABLE runs ADD COLUMN later INTEGER;\nTHIS IS NOT SQL;\n")
    files = [*sqlite_store.migration_files("sqlite"), (4, broken)]
    monkeypatch.setattr(sqlite_store, "migration_files", lambda dialect: files)
    with pytest.raises(sqlite3.Error):
        open_store(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    assert "later" not in {r[1] for r in db.execute("PRAGMA table_info(runs)")}
    db.close()
