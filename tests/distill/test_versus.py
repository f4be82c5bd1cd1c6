"""A comparison run (a note's `对比: a vs b`): how its params are read, and a tiny real
run whose two students are paired exactly, seed by seed."""

from __future__ import annotations

import pytest

from app.distill.methods import METHODS
from app.distill.plan import plan
from app.distill.sweep import SweepError

TINY = {"seeds": 3, "epochs": 2}


def test_a_comparison_rides_in_the_params_with_only_what_it_set():
    planned = plan(METHODS["byot"], {**TINY, "versus": {
        "method": "byot", "params": {"alpha": 0, "feature_weight": "0"}}})
    assert planned.versus == {"method": "byot", "params": {"alpha": 0.0, "feature_weight": 0.0}}
    assert planned.sweep is None and planned.params.epochs == 2
    assert planned.extras() == {"versus": planned.versus}
    assert plan(METHODS["kd"], {}).extras() == {}


@pytest.mark.parametrize(
    ("versus", "field", "words"),
    [
        ({"method": "nope"}, "versus.method", "unknown method 'nope'"),
        ({"method": "lsr", "params": {"seeds": 2}}, "versus.params", "seeds: the run's"),
        ({"method": "lsr", "params": {"epochs": 3}}, "versus.params", "epochs"),
        ({"method": "lsr", "params": {"epsilon": 2}}, "versus.params.epsilon", "less than"),
        ({"method": "lsr", "params": {"beta": 1}}, "versus.params.beta", "Extra inputs"),
        ({"params": {}}, "versus", "Field required"),
    ],
)
def test_a_bad_comparison_says_which_field(versus, field, words):
    with pytest.raises(SweepError) as caught:
        plan(METHODS["tfkd_reg"], {"versus": versus})
    assert caught.value.field == field and words in str(caught.value)


def test_a_run_is_a_sweep_or_a_comparison_not_both():
    with pytest.raises(SweepError, match="not both"):
        plan(METHODS["kd"], {"sweep": {"param": "temperature"}, "versus": {"method": "lsr"}})


def test_the_two_students_are_paired_exactly(tmp_path):
    from app.distill.trainer import train

    def run(method, params):
        events = []
        config = {"method": method, "params": params, "data_dir": tmp_path, "device": "cpu"}
        return train(config, lambda e: events.append(e.wire())).wire(), events

    summary, events = run("tfkd_reg", {**TINY, "versus": {"method": "lsr"}})
    versus = summary["versus"]
    # Both sides saw the same splits, initial weights and batches: their controls agree.
    assert versus["controls_equal"] is True
    alone, _ = run("lsr", TINY)
    assert versus["student"] == alone["per_seed"]["student"]
    own, other = summary["per_seed"]["student"]["test_acc"], alone["per_seed"]["student"]
    assert versus["delta"]["deltas"] == [a - b for a, b in
                                         zip(own, other["test_acc"], strict=True)]
    assert versus["judgement"]["deltas"] == versus["delta"]["deltas"]
    assert versus["judgement"]["verdict"] in ("supported", "contradicted", "not_shown")
    assert {e.get("point") for e in events if e["type"] == "metric"} == {0, 1}
