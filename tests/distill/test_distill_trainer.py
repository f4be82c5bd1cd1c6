"""The trainer: every method's events in order, lockstep, determinism, teacher cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from app.distill.methods import METHODS, RunConfig
from app.distill.teacher import TEACHER_CODE_VERSION
from app.distill.trainer import train

# Tiny runs: ~72 training digits, batches of 16, one epoch per phase.
TINY = {"epochs": 1, "train_fraction": 0.05, "batch_size": 16}
TINY_EXTRA = {"teacher_epochs": 1, "stage1_epochs": 1}


def tiny(method: str, **over) -> dict:
    fields = METHODS[method].params.model_fields
    params = TINY | {k: v for k, v in TINY_EXTRA.items() if k in fields}
    return params | over


def run(method: str, data_dir: Path, **over) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    config = RunConfig(method=method, params=tiny(method, **over), data_dir=data_dir,
                       device="cpu", threads=1)
    summary = train(config, events.append)
    return summary, events


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("distill-data")


def check_event_order(method: str, events: list[dict]) -> list[str]:
    """Assert the contract's shape and order; return the phases seen."""
    json.dumps(events)  # every event is JSON-serialisable
    assert events[-1]["type"] == "done"
    assert all(e["type"] in {"phase", "metric", "log"} for e in events[:-1])
    phases, open_phase, step, epoch = [], None, 0, 0
    for e in events[:-1]:
        if e["type"] == "phase" and e["state"] == "start":
            assert open_phase is None
            open_phase, steps, epochs, step, epoch = e["phase"], e["steps"], e["epochs"], 0, 0
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
                assert all(isinstance(v, float) for t in e["losses"].values() for v in t.values())
            else:
                epoch += 1
                assert (e["epoch"], e["epochs"]) == (epoch, epochs)
                for s in e["models"].values():
                    assert 0.0 <= s["acc"] <= 1.0 and s["loss"] > 0
    assert open_phase is None and phases[-1] == "train"
    return phases


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_runs_and_emits_events_in_order(method: str, shared_dir: Path):
    summary, events = run(method, shared_dir)
    phases = check_event_order(method, events)
    expected = ["stage1", "train"] if method == "fsp" else ["train"]
    assert phases in (expected, ["teacher", *expected])
    assert ("teacher" in phases) <= ("teacher" in METHODS[method].models)
    train_epochs = [e for e in events if e.get("kind") == "epoch" and e["phase"] == "train"]
    assert set(train_epochs[-1]["models"]) == set(METHODS[method].models)
    train_steps = [e for e in events if e.get("kind") == "step" and e["phase"] == "train"]
    trained = set(METHODS[method].models) - {"teacher"} - {f"exit{i}" for i in range(1, 4)}
    assert set(train_steps[0]["losses"]) == trained
    assert events[-1]["summary"] == summary
    assert summary["method"] == method
    assert summary["final_acc"] == train_epochs[-1]["models"]["student"]["acc"]
    assert summary["models"] == {n: s["acc"] for n, s in train_epochs[-1]["models"].items()}
    if method != "baseline":
        base = train_epochs[-1]["models"]["baseline"]["acc"]
        assert summary["delta_acc"] == pytest.approx(summary["final_acc"] - base)
    assert (summary["teacher_acc"] is None) == ("teacher" not in METHODS[method].models)


def test_teacher_is_cached_and_the_cached_run_is_identical(tmp_path: Path):
    first, ev1 = run("kd", tmp_path)
    assert any(e["type"] == "phase" and e["phase"] == "teacher" for e in ev1)
    cached = list((tmp_path / "teachers").glob("*.pt"))
    assert len(cached) == 1
    second, ev2 = run("kd", tmp_path)
    assert not any(e.get("phase") == "teacher" for e in ev2)
    logs = [e["message"] for e in ev2 if e["type"] == "log"]
    assert any("teacher loaded from cache" in m for m in logs)
    assert first["teacher_acc"] == second["teacher_acc"]
    # The same config and seed give the same metrics, teacher trained or loaded.
    def metrics(events: list[dict]) -> list[dict]:
        return [e for e in events if e["type"] == "metric" and e["phase"] == "train"]

    assert metrics(ev1) == metrics(ev2)
    assert {k: v for k, v in first.items() if k != "wall_s"} == {
        k: v for k, v in second.items() if k != "wall_s"}
    # Another seed or epoch count is another teacher.
    run("kd", tmp_path, teacher_epochs=2)
    assert len(list((tmp_path / "teachers").glob("*.pt"))) == 2
    assert TEACHER_CODE_VERSION >= 1


def test_torn_cache_file_is_retrained(tmp_path: Path):
    run("tfkd_self", tmp_path)
    (path,) = (tmp_path / "teachers").glob("*.pt")
    path.write_bytes(b"not a checkpoint")
    _, events = run("tfkd_self", tmp_path)
    assert any(e["type"] == "log" and e["level"] == "warning" for e in events)
    assert any(e.get("phase") == "teacher" for e in events)


@pytest.mark.parametrize("method", ["dml", "byot"])
def test_same_seed_same_metrics_other_seed_other_metrics(method: str, tmp_path: Path):
    def metrics(seed: int) -> list[dict]:
        _, events = run(method, tmp_path, seed=seed, epochs=2)
        return [e for e in events if e["type"] == "metric"]

    a = metrics(3)
    assert a == metrics(3)
    assert a != metrics(4)


def test_lockstep_baseline_equals_student_when_the_method_reduces_to_ce(shared_dir: Path):
    """KD with α = 0 is plain CE: same initial weights and the same batches must then
    give the same losses at every step and the same accuracies."""
    _, events = run("kd", shared_dir, alpha=0.0, epochs=2)
    steps = [e for e in events if e.get("kind") == "step" and e["phase"] == "train"]
    assert len(steps) >= 8
    for e in steps:
        assert e["losses"]["student"]["total"] == e["losses"]["baseline"]["total"]
    for e in events:
        if e.get("kind") == "epoch" and e["phase"] == "train":
            assert e["models"]["student"] == e["models"]["baseline"]


def test_fsp_baseline_starts_from_the_students_weights_before_stage1(shared_dir: Path):
    """With stage 1 at zero weight the student is untouched, so it equals the baseline."""
    _, events = run("fsp", shared_dir, fsp_weight=0.01, lr=1e-4, weight_decay=0.0)
    train_epochs = [e for e in events if e.get("kind") == "epoch" and e["phase"] == "train"]
    student, base = train_epochs[-1]["models"]["student"], train_epochs[-1]["models"]["baseline"]
    assert student["acc"] == pytest.approx(base["acc"], abs=0.03)


def test_baseline_off_reports_no_baseline(shared_dir: Path):
    summary, events = run("cskd", shared_dir, baseline=False)
    assert summary["baseline_final_acc"] is None and summary["delta_acc"] is None
    assert all("baseline" not in e.get("models", {}) and "baseline" not in e.get("losses", {})
               for e in events)


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
        RunConfig(method="nope", data_dir=tmp_path)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            train(RunConfig(method="lsr", params=tiny("lsr"), data_dir=tmp_path,
                            device="cuda"), print)


def test_importing_the_registry_does_not_import_torch():
    code = (
        "import sys, app.distill, app.distill.methods, app.distill.params\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print(len(app.distill.methods.METHODS))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "11"
