"""The trainer: every method's events in order, k seeds together equal k single
runs, the compute-matched control, validation-only choices, the teacher cache."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from app.distill.data import load_split
from app.distill.engine import Evaluator, build_stacked, evaluate, watch
from app.distill.events import (
    SUMMARY_VERSION,
    DoneEvent,
    LogEvent,
    MetricEvent,
    PhaseEvent,
    Summary,
)
from app.distill.methods import METHODS, RunConfig, methods_for_paper
from app.distill.models import SmallCNN
from app.distill.stats import paired_stats
from app.distill.teacher import TEACHER_CODE_VERSION, TeacherSettings, teacher_key
from app.distill.trainer import train

# Tiny runs: ~60 training digits, batches of 16, one epoch per phase, two seeds.
TINY = {"epochs": 1, "train_fraction": 0.05, "batch_size": 16, "seeds": 2}
TINY_EXTRA = {"teacher_epochs": 1, "stage1_epochs": 1}


TWO_STAGE = {"fsp", "fitnets"}  # a stage-1 phase before the train phase
TEACHERS = {"ls_teacher": ["teacher", "plain_teacher"]}  # methods with two teachers


def tiny(method: str, **over) -> dict:
    fields = METHODS[method].params.model_fields
    params = TINY | {k: v for k, v in TINY_EXTRA.items() if k in fields}
    return params | over


def run(method: str, data_dir: Path, **over) -> tuple[dict, list[dict]]:
    """The summary and the events, in their wire form (the trainer emits the models
    of app/distill/events.py; every event is one of them)."""
    events: list[dict] = []

    def emit(event) -> None:
        assert isinstance(event, PhaseEvent | MetricEvent | LogEvent | DoneEvent)
        events.append(event.wire())

    config = RunConfig(method=method, params=tiny(method, **over), data_dir=data_dir,
                       device="cpu", threads=1)
    summary = train(config, emit)
    assert isinstance(summary, Summary) and summary.version == SUMMARY_VERSION
    return summary.wire(), events


def metrics(events: list[dict], skip_teacher: bool = True) -> list[dict]:
    return [e for e in events if e["type"] == "metric"
            and not (skip_teacher and e["phase"].endswith("teacher"))]  # an arm's too


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("distill-data")


def check_event_order(events: list[dict], k: int) -> list[str]:
    """Assert the contract's shape and order; return the phases seen."""
    json.dumps(events)  # every event is JSON-serialisable
    assert events[-1]["type"] == "done"
    assert all(e["type"] in {"phase", "metric", "log"} for e in events[:-1])
    phases, open_phase, step, epoch, width = [], None, 0, 0, k
    for e in events[:-1]:
        if e["type"] == "phase" and e["state"] == "start":
            assert open_phase is None
            open_phase, steps, epochs, step, epoch = e["phase"], e["steps"], e["epochs"], 0, 0
            width = len(e["seeds"])
            assert width == k or open_phase.endswith("teacher")
            phases.append(open_phase)
        elif e["type"] == "phase":
            assert (e["phase"], e["steps"], e["epochs"]) == (open_phase, steps, epochs)
            assert (step, epoch) == (steps, epochs)
            open_phase = None
        elif e["type"] == "metric":
            assert e["phase"] == open_phase
            if e["kind"] == "step":
                step += 1
                assert (e["step"], e["steps"], e["epoch"]) == (step, steps, epoch + 1)
                assert all("total" in terms for terms in e["losses"].values())
                for terms in e["losses"].values():
                    assert all(len(v) == width and all(isinstance(x, float) for x in v)
                               for v in terms.values())
            else:
                epoch += 1
                assert (e["epoch"], e["epochs"]) == (epoch, epochs)
                for s in e["models"].values():
                    assert len(s["acc"]) == len(s["loss"]) == width
                    assert all(0.0 <= a <= 1.0 for a in s["acc"]) and min(s["loss"]) > 0
    main = [p for p in phases if not p.startswith("arm ")]
    assert open_phase is None and main[-1] == "train"
    return phases


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_runs_and_emits_events_in_order(method: str, shared_dir: Path):
    summary, events = run(method, shared_dir)
    every = check_event_order(events, 2)
    # The comparator arms train after the run's own phases, each under its own name.
    phases = [p for p in every if not p.startswith("arm ")]
    arm_phases = every[len(phases):]
    assert all(p.startswith("arm ") for p in arm_phases)
    arms = METHODS[method].arms
    assert [p for p in arm_phases if p.endswith(": train")] == [
        f"arm {v.method}: train" for v in arms]
    expected = ["stage1", "train"] if method in TWO_STAGE else ["train"]
    # Each teacher not yet cached trains in its own phase, before everything else.
    head = phases[:len(phases) - len(expected)]
    assert phases[len(head):] == expected
    assert head == ["teacher"] * len(head) and len(head) <= len(TEACHERS.get(method, [1]))
    assert ("teacher" in phases) <= ("teacher" in METHODS[method].models)
    train_epochs = [e for e in events if e.get("kind") == "epoch" and e["phase"] == "train"]
    assert set(train_epochs[-1]["models"]) == set(METHODS[method].models)
    train_steps = [e for e in events if e.get("kind") == "step" and e["phase"] == "train"]
    frozen = set(TEACHERS.get(method, ["teacher"]))
    trained = set(METHODS[method].models) - frozen - {f"exit{i}" for i in range(1, 4)}
    assert set(train_steps[0]["losses"]) == trained
    assert events[-1]["summary"] == summary
    assert summary["method"] == method and summary["seeds"] == [0, 1]
    assert summary["split"] == {"train": 60, "val": 269, "test": 359}
    per_seed = summary["per_seed"]
    assert set(per_seed) == set(METHODS[method].models) | {v.arm for v in arms}
    assert [c["claim"] for c in summary["comparisons"]] == [
        c.id for c in METHODS[method].claims]
    # The epoch events carry validation accuracy, and so does the summary's val_acc.
    assert per_seed["student"]["val_acc"] == train_epochs[-1]["models"]["student"]["acc"]
    assert summary["final_acc"] == pytest.approx(sum(per_seed["student"]["test_acc"]) / 2)
    if method == "baseline":
        assert summary["delta"] is None and summary["delta_acc"] is None
    else:
        expect = paired_stats(per_seed["student"]["test_acc"], per_seed["baseline"]["test_acc"])
        assert summary["delta"] == expect.as_dict()
        assert summary["delta_acc"] == pytest.approx(expect.mean)
        assert summary["delta_best_val"]["n"] == 2
    assert (summary["teacher_acc"] is None) == ("teacher" not in METHODS[method].models)


@pytest.mark.parametrize("method", list(METHODS))
def test_seed_of_a_k_seed_run_equals_a_one_seed_run(method: str, tmp_path: Path):
    """Seed 3 trained beside seeds 2 and 4 gives the numbers of seed 3 alone."""
    together, ev3 = run(method, tmp_path, seed=2, seeds=3, epochs=2)
    alone, ev1 = run(method, tmp_path, seed=3, seeds=1, epochs=2)
    m3, m1 = metrics(ev3), metrics(ev1)
    assert len(m3) == len(m1) > 0
    for a, b in zip(m3, m1, strict=True):
        key = "losses" if a["kind"] == "step" else "models"
        assert a[key].keys() == b[key].keys()
        for model, values in a[key].items():
            for term, per_seed in values.items():
                assert per_seed[1] == pytest.approx(b[key][model][term][0], abs=1e-4), (
                    a["phase"], a.get("step"), model, term)
    for name, per_seed in together["per_seed"].items():
        assert per_seed["test_acc"][1] == pytest.approx(alone["per_seed"][name]["test_acc"][0],
                                                        abs=1e-6)


def test_teachers_are_cached_per_seed_and_reused_by_any_seed_set(tmp_path: Path):
    first, ev1 = run("kd", tmp_path)
    assert [e["seeds"] for e in ev1 if e["type"] == "phase" and e["phase"] == "teacher"] \
        == [[0, 1], [0, 1]]
    assert len(list((tmp_path / "teachers").glob("*.pt"))) == 2
    second, ev2 = run("kd", tmp_path)
    assert not any(e.get("phase") == "teacher" for e in ev2)
    logs = [e["message"] for e in ev2 if e["type"] == "log"]
    assert sum("teacher loaded from cache" in m for m in logs) == 2
    assert metrics(ev1) == metrics(ev2)
    assert {k: v for k, v in first.items() if k != "wall_s"} == {
        k: v for k, v in second.items() if k != "wall_s"}
    # Seeds 1..2: seed 1 is cached, only seed 2's teacher trains.
    _, ev3 = run("kd", tmp_path, seed=1)
    starts = [e for e in ev3 if e["type"] == "phase" and e["phase"] == "teacher"]
    assert [e["seeds"] for e in starts] == [[2], [2]]
    assert len(list((tmp_path / "teachers").glob("*.pt"))) == 3
    run("kd", tmp_path, teacher_epochs=2, seeds=1)  # another recipe, another teacher
    assert len(list((tmp_path / "teachers").glob("*.pt"))) == 4
    assert TEACHER_CODE_VERSION >= 2


def test_smoothed_teacher_has_its_own_cache_key_and_the_plain_one_is_kds(tmp_path: Path):
    plain = TeacherSettings("cnn15", 1, 1.0)
    smooth = TeacherSettings("cnn15", 1, 1.0, label_smoothing=0.1)
    assert "label_smoothing" not in teacher_key(plain, 0)  # plain keys as before
    assert teacher_key(smooth, 0)["label_smoothing"] == 0.1
    _, events = run("ls_teacher", tmp_path, seeds=1)
    starts = [e for e in events if e["type"] == "phase" and e["state"] == "start"]
    assert [e["phase"] for e in starts] == ["teacher", "teacher", "train"]
    assert len(list((tmp_path / "teachers").glob("*.pt"))) == 2
    summary, _ = run("kd", tmp_path, seeds=1)  # KD's teacher is the plain one: cached
    assert len(list((tmp_path / "teachers").glob("*.pt"))) == 2
    again, _ = run("ls_teacher", tmp_path, seeds=1)
    assert again["per_seed"]["plain_teacher"]["test_acc"] == summary["per_seed"]["teacher"][
        "test_acc"]
    assert again["per_seed"]["teacher"]["test_acc"] != summary["per_seed"]["teacher"]["test_acc"]


def test_torn_cache_file_is_retrained(tmp_path: Path):
    run("tfkd_self", tmp_path, seeds=1, arms=False)  # its own teacher only, not the kd arm's
    (path,) = (tmp_path / "teachers").glob("*.pt")
    path.write_bytes(b"not a checkpoint")
    _, events = run("tfkd_self", tmp_path, seeds=1, arms=False)
    assert any(e["type"] == "log" and e["level"] == "warning" for e in events)
    assert any(e.get("phase") == "teacher" for e in events)


@pytest.mark.parametrize("method", ["dml", "byot"])
def test_same_seed_same_metrics_other_seed_other_metrics(method: str, tmp_path: Path):
    def of(seed: int) -> list[dict]:
        return metrics(run(method, tmp_path, seed=seed, epochs=2, seeds=1)[1])

    a = of(3)
    assert a == of(3)
    assert a != of(4)


def test_lockstep_baseline_equals_student_when_the_method_reduces_to_ce(shared_dir: Path):
    """KD with α = 0 is plain CE: same initial weights and the same batches must then
    give the same losses at every step and the same accuracies, seed by seed."""
    _, events = run("kd", shared_dir, alpha=0.0, epochs=2)
    steps = [e for e in events if e.get("kind") == "step" and e["phase"] == "train"]
    assert len(steps) >= 6
    for e in steps:
        assert e["losses"]["student"]["total"] == e["losses"]["baseline"]["total"]
    for e in events:
        if e.get("kind") == "epoch" and e["phase"] == "train":
            assert e["models"]["student"] == e["models"]["baseline"]


@pytest.mark.parametrize("method", sorted(TWO_STAGE))
def test_two_stage_control_gets_as_many_steps_as_the_student(method: str, shared_dir: Path):
    """Compute-matched: the control takes a CE step on every stage-1 batch too."""
    _, events = run(method, shared_dir, stage1_epochs=2, epochs=1)
    steps = [e for e in events if e.get("kind") == "step" and e["phase"] in ("stage1", "train")]
    student = sum("student" in e["losses"] for e in steps)
    control = sum("baseline" in e["losses"] for e in steps)
    assert student == control == len(steps) > 0
    assert {e["phase"] for e in steps if "baseline" in e["losses"]} == {"stage1", "train"}


def test_fsp_with_stage1_off_equals_its_control(shared_dir: Path):
    """With stage 1 at (almost) zero weight and lr the student is untouched by it; the
    control's extra stage-1 steps are then the only difference, and tiny at lr 1e-4."""
    _, events = run("fsp", shared_dir, fsp_weight=0.01, lr=1e-4, weight_decay=0.0)
    last = [e for e in events if e.get("kind") == "epoch" and e["phase"] == "train"][-1]
    for s, b in zip(last["models"]["student"]["acc"], last["models"]["baseline"]["acc"],
                    strict=True):
        assert s == pytest.approx(b, abs=0.03)


def test_baseline_off_reports_no_baseline(shared_dir: Path):
    summary, events = run("cskd", shared_dir, baseline=False)
    assert summary["baseline_final_acc"] is None and summary["delta"] is None
    assert all("baseline" not in e.get("models", {}) and "baseline" not in e.get("losses", {})
               for e in events)


def test_best_epoch_is_chosen_on_validation_and_its_weights_scored_on_test():
    """The evaluator keeps each seed's weights from its best validation epoch (the
    earliest on ties) and scores them on test at the end, never choosing on test."""
    split = load_split([0, 1], 0.1, torch.device("cpu"))
    model = build_stacked(SmallCNN, [0, 1], torch.device("cpu"))
    evaluator = Evaluator(watch({"student": model}), split)
    snapshots, val = [], []
    for _ in range(3):
        with torch.no_grad():
            for prm in model.parameters():
                prm.add_(torch.randn_like(prm) * 0.5)
        val.append(evaluator()["student"]["acc"])
        snapshots.append(copy.deepcopy(model))
    expect = [max(range(3), key=lambda e, i=i: (val[e][i], -e)) + 1 for i in range(2)]
    assert evaluator.best_epochs()["student"] == expect
    final, best = evaluator.test()
    for i, epoch in enumerate(expect):
        again = evaluate({"m": snapshots[epoch - 1]}, split.x_test, split.y_test)["m"]
        assert best["student"]["acc"][i] == pytest.approx(again["acc"][i], abs=1e-6)
    last = evaluate({"m": snapshots[-1]}, split.x_test, split.y_test)["m"]
    assert final["student"]["acc"] == pytest.approx(last["acc"], abs=1e-6)


def test_threads_are_set_for_the_run_and_restored(shared_dir: Path):
    before = torch.get_num_threads()
    _, events = run("baseline", shared_dir)
    assert "1 threads" in events[0]["message"]
    assert torch.get_num_threads() == before


def test_bad_params_and_method_are_rejected(tmp_path: Path):
    with pytest.raises(ValidationError):
        train(RunConfig(method="kd", params={"epochs": 1000}, data_dir=tmp_path), print)
    with pytest.raises(ValidationError):
        train(RunConfig(method="kd", params={"epoch": 3}, data_dir=tmp_path), print)
    with pytest.raises(ValidationError):
        train(RunConfig(method="kd", params={"seeds": 9}, data_dir=tmp_path), print)
    with pytest.raises(ValidationError):
        RunConfig(method="nope", data_dir=tmp_path)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            train(RunConfig(method="lsr", params=tiny("lsr"), data_dir=tmp_path,
                            device="cuda"), print)


def test_importing_the_registry_does_not_import_torch():
    code = (
        "import sys, app.distill, app.distill.methods, app.distill.params, app.distill.stats\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print(len(app.distill.methods.METHODS))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(len(METHODS)) == "21"


def test_every_method_file_holds_its_recipe_and_names_its_control():
    for method in METHODS.values():
        assert method.recipe.__module__ == f"app.distill.methods.{method.id}"
        assert method.control_en.startswith(("Control", "Compute-matched", "It is"))
        assert method.control_zh


@pytest.mark.parametrize("method", ["fitnets", "at", "nst", "pkt", "rkd", "vid", "crd", "dkd",
                                    "ls_teacher", "conf_penalty"])
def test_new_methods_bind_to_their_paper_by_arxiv_id_and_by_title(method: str):
    arxiv_id, title = METHODS[method].papers
    assert [m.id for m in methods_for_paper(f"{arxiv_id}v3", "")] == [method]
    assert [m.id for m in methods_for_paper(None, title.upper() + " ")] == [method]


def test_smoothed_teachers_control_is_the_kd_demo_from_the_plain_teacher(shared_dir: Path):
    """ls_teacher's baseline arm is KD from the plain teacher: step by step the kd demo's
    student, so Δ isolates the teacher's label smoothing."""
    kd, ev_kd = run("kd", shared_dir, epochs=2)
    ls, ev_ls = run("ls_teacher", shared_dir, epochs=2)

    def steps(events, model):
        return [e["losses"][model] for e in events
                if e.get("kind") == "step" and e["phase"] == "train"]

    assert steps(ev_ls, "baseline") == steps(ev_kd, "student")
    assert ls["per_seed"]["baseline"]["test_acc"] == kd["per_seed"]["student"]["test_acc"]
    assert ls["per_seed"]["plain_teacher"] == kd["per_seed"]["teacher"]
    assert steps(ev_ls, "student") != steps(ev_kd, "student")


def test_dkd_term_warms_up_by_epoch(shared_dir: Path):
    _, events = run("dkd", shared_dir, epochs=3, warmup_epochs=2, alpha=1.0, beta=8.0)
    for e in events:
        if e.get("kind") == "step" and e["phase"] == "train":
            terms = e["losses"]["student"]
            warm = min(e["epoch"] / 2, 1.0)
            for i in range(2):
                want = warm * (terms["tckd"][i] + 8.0 * terms["nckd"][i])
                assert terms["dkd"][i] == pytest.approx(want, rel=1e-5)
