"""One bar and one ETA for the whole run (app/runs/progress.py): the teacher phase
priced by its record or said unknown, the student's steps counted from the start, the
bar never going back and ending at 1 with the run's real time."""

from __future__ import annotations

import json

import pytest

from app.runs.emit import EventLog
from app.runs.progress import RunProgress, is_teacher


def phase(t, name, steps, **extra):
    return {"type": "phase", "phase": name, "state": "start", "steps": steps, "epochs": 1,
            "t": t, **extra}


def end(t, name):
    return {"type": "phase", "phase": name, "state": "end", "t": t}


def step(t, name, i, steps):
    return {"type": "metric", "kind": "step", "phase": name, "step": i, "steps": steps, "t": t}


def test_teacher_phases_are_known_by_name():
    assert is_teacher("teacher") and is_teacher("arm kd: teacher")
    assert not is_teacher("train") and not is_teacher("stage1") and not is_teacher(None)


def test_a_first_run_is_priced_from_the_teachers_record_and_the_steps_record():
    p = RunProgress()
    p.see({"type": "log", "message": "kd on cpu", "t": 100.0})  # the clock starts here
    # The teachers took 40 s last time; the run's 100 own steps took 10 s.
    start = p.see(phase(101.0, "teacher", 50, estimate_s=40.0, run_steps=100,
                        run_estimate_s=10.0))
    assert start == {"done": pytest.approx(1 / 51, abs=1e-4), "left_s": 50.0, "elapsed_s": 1.0}
    # Half the teacher's steps in 30 s: its own pace now says 30 s more, not the record.
    half = p.see(step(131.0, "teacher", 25, 50))
    assert half["left_s"] == pytest.approx(40.0)  # 30 s of teacher + 10 s of student
    assert half["done"] == pytest.approx(31 / 71, abs=1e-4)
    p.see(end(161.0, "teacher"))
    # The student starts: the bar does not go back to 0, and the ETA is the whole run's.
    student = p.see(phase(161.0, "train", 100, run_steps=100, run_estimate_s=10.0))
    assert student["left_s"] == pytest.approx(10.0)
    assert student["done"] > half["done"]
    mid = p.see(step(166.0, "train", 50, 100))
    assert mid["left_s"] == pytest.approx(5.0)
    final = p.see({"type": "done", "t": 171.5})
    assert final == {"done": 1.0, "left_s": 0.0, "elapsed_s": 71.5}


def test_without_records_the_time_is_unknown_and_the_bar_counts_steps():
    p = RunProgress()
    start = p.see(phase(0.0, "teacher", 30, run_steps=10))
    assert start["left_s"] is None  # never trained here: unknown, not a guess
    first = p.see(step(3.0, "teacher", 1, 30))
    # The teacher's pace is measured now, but the student's steps still cost unknown.
    assert first["left_s"] is None
    assert first["done"] == pytest.approx(1 / 40)
    p.see(end(90.0, "teacher"))
    p.see(phase(90.0, "train", 10, run_steps=10))
    after = p.see(step(92.0, "train", 1, 10))
    assert after["left_s"] == pytest.approx(18.0)  # 2 s a step, 9 steps to go
    assert after["done"] == pytest.approx(92 / 110, abs=1e-4)


def test_the_bar_never_goes_back_and_is_below_one_until_the_end():
    p = RunProgress()
    seen = [p.see(phase(0.0, "train", 10, run_steps=10))["done"]]
    for i in range(1, 11):
        # A slow last step makes the ETA grow; the bar stays where it was.
        seen.append(p.see(step(float(i if i < 10 else 100), "train", i, 10))["done"])
    assert seen == sorted(seen) and seen[-1] <= 0.99
    # Cancelled: the bar stops where it was, with the run's real time.
    assert p.see({"type": "cancelled", "t": 120.0}) == {
        "done": seen[-1], "left_s": 0.0, "elapsed_s": 120.0}


def test_a_sweep_is_one_bar_over_its_points():
    p = RunProgress()
    p.see(phase(0.0, "train", 10, run_steps=10, point=0, points=3))
    first = p.see(step(10.0, "train", 10, 10) | {"point": 0, "points": 3})
    assert first["done"] == pytest.approx(1 / 3, abs=1e-3)
    assert first["left_s"] == pytest.approx(20.0)  # two more points like this one
    p.see(phase(10.0, "train", 10, run_steps=10, point=1, points=3))
    second = p.see(step(15.0, "train", 5, 10) | {"point": 1, "points": 3})
    assert second["left_s"] == pytest.approx(15.0)  # 5 s here, then one of 10 s
    assert second["done"] > first["done"]


def test_the_stored_events_carry_the_whole_runs_progress():
    log = EventLog()
    stored = log.add([{"type": "log", "message": "m", "t": 10.0},
                      phase(10.0, "train", 2, run_steps=2),
                      step(11.0, "train", 1, 2), step(12.0, "train", 2, 2)])
    bodies = [json.loads(s.data) for s in stored]
    assert "whole" not in bodies[0]
    assert [b["whole"]["elapsed_s"] for b in bodies[1:]] == [0.0, 1.0, 2.0]
    assert bodies[-1]["whole"]["left_s"] == 0.0
    final = log.finish({"type": "done", "t": 13.0})
    assert final["whole"] == {"done": 1.0, "left_s": 0.0, "elapsed_s": 3.0}
    assert log.progress["whole"] == final["whole"]  # the page's server-side render
