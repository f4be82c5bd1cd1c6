"""Comparator arms: the claims' comparators trained in the run are paired exactly.

An arm's per-seed numbers equal the comparator method's own run on those seeds; the
summary judges every claim against the arm its claim names."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.distill.arms import arm_params
from app.distill.methods import METHODS, RunConfig
from app.distill.trainer import train

TINY = {"epochs": 2, "train_fraction": 0.05, "seeds": 3, "teacher_epochs": 1}
WITH_ARMS = [m for m in METHODS if METHODS[m].arms]


def run_params(method: str) -> dict:
    fields = METHODS[method].params.model_fields
    params = {k: v for k, v in TINY.items() if k in fields}
    return params | ({"stage1_epochs": 1} if "stage1_epochs" in fields else {})


def run(method: str, data_dir: Path, **over) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    config = RunConfig(method=method, params=run_params(method) | over, data_dir=data_dir,
                       device="cpu", threads=1)
    summary = train(config, lambda event: events.append(event.wire()))
    return summary.wire(), events


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("arms")


def test_the_methods_with_arms_are_those_whose_claims_name_another_method():
    assert set(WITH_ARMS) == {"tfkd_self", "tfkd_reg", "msd", "fitnets", "vid", "crd", "dkd"}
    assert [v.arm for v in METHODS["tfkd_reg"].arms] == ["kd_student", "lsr_student"]


@pytest.mark.parametrize("method", WITH_ARMS)
def test_an_arm_equals_the_comparator_methods_own_run(method: str, cache: Path):
    summary, events = run(method, cache)
    student = summary["per_seed"]["student"]["test_acc"]
    for versus in METHODS[method].arms:
        params = arm_params(METHODS[method].params.model_validate(run_params(method)), versus)
        same = {k: getattr(params, k) for k in ("epochs", "teacher_epochs")
                if hasattr(params, k)}
        own, _ = run(versus.method, cache, **same)  # its own run, baseline on
        arm = summary["per_seed"][versus.arm]
        assert arm["test_acc"] == own["per_seed"]["student"]["test_acc"], versus.arm
        assert arm["val_acc"] == own["per_seed"]["student"]["val_acc"], versus.arm
        for c in summary["comparisons"]:
            if c["comparator"]["model"] == versus.arm:
                expect = [a - b for a, b in zip(student, arm["test_acc"], strict=True)]
                assert c["deltas"] == expect
    # The arm's events are its own phases and its student under the arm's name.
    arm_steps = [e for e in events if e.get("kind") == "step"
                 and e["phase"].startswith("arm ") and not e["phase"].endswith("teacher")]
    assert arm_steps and all(len(e["losses"]) == 1 for e in arm_steps)
    assert {next(iter(e["losses"])) for e in arm_steps} == {v.arm for v in METHODS[method].arms}


def test_a_two_stage_methods_arm_gets_both_stages_epochs_of_steps():
    params = METHODS["fitnets"].params(epochs=15, stage1_epochs=5, train_fraction=0.3, seed=4)
    kd = arm_params(params, METHODS["fitnets"].arms[0])
    assert (kd.epochs, kd.train_fraction, kd.seed, kd.baseline, kd.arms) == (20, 0.3, 4, False,
                                                                             False)
    assert kd.temperature == 4.0 and kd.alpha == 0.9  # kd's defaults, not fitnets' values


def test_arms_off_trains_none_and_leaves_those_claims_without_a_verdict(cache: Path):
    summary, events = run("dkd", cache, arms=False)
    assert "kd_student" not in summary["per_seed"]
    assert not any(e.get("phase", "").startswith("arm ") for e in events)
    by_claim = {c["claim"]: c for c in summary["comparisons"]}
    assert by_claim["dkd.kd"]["verdict"] == "no_verdict"
    assert by_claim["dkd.kd"]["reason"] == "missing"


def test_summary_judges_each_claim_with_raw_and_holm_verdicts(cache: Path):
    summary, _ = run("tfkd_reg", cache)
    claims = {c["claim"]: c for c in summary["comparisons"]}
    assert set(claims) == {"tfkd_reg.ce", "tfkd_reg.kd", "tfkd_reg.lsr"}
    assert claims["tfkd_reg.ce"]["comparator"]["model"] == "baseline"
    assert claims["tfkd_reg.lsr"]["comparator"] == {"model": "lsr_student", "method": "lsr",
                                                    "params": {}}
    for c in claims.values():
        assert c["n"] == 3 and c["label"]["zh"] and c["adjusted_label"]["en"]
        assert c["verdict"] in {"supported", "contradicted", "not_shown", "no_verdict"}
        if c["p_value"] is not None:
            assert c["adjusted_p_value"] >= c["p_value"]


def test_a_conditional_claim_says_where_its_parameter_stands(cache: Path):
    summary, _ = run("kd", cache, train_fraction=0.3)
    little = next(c for c in summary["comparisons"] if c["claim"] == "kd.little_data")
    assert little["swept"] == {"param": "train_fraction", "value": 0.3, "in_range": False}
