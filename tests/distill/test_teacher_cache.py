"""The teacher cache's torch-free side (app/distill/teacher_cache.py): which seeds are
cached, and the cost records the trainer keeps and prices its phases by."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from app.distill import teacher as teacher_module
from app.distill.methods import METHODS
from app.distill.teacher_cache import (
    TeacherSettings,
    cache_path,
    cached_seeds,
    estimate_s,
    record_cost,
    recorded_cost,
    steps_cost_key,
    teacher_cost_key,
    teacher_key,
)
from app.distill.trainer import train

PLAIN = TeacherSettings("cnn15", 1, 1.0)


def test_no_record_is_no_estimate(tmp_path):
    assert recorded_cost(tmp_path, teacher_cost_key(PLAIN)) is None
    assert estimate_s(tmp_path, teacher_cost_key(PLAIN), 5) is None


def test_a_record_prices_any_number_of_seeds_on_its_device(tmp_path):
    key = teacher_cost_key(PLAIN)
    record_cost(tmp_path, key, 12.0, 3, "cpu", 2)  # 3 teachers in 12 s
    assert estimate_s(tmp_path, key, 5, "cpu") == 20.0
    assert estimate_s(tmp_path, key, 5, "cuda") is None  # another device: unknown
    record_cost(tmp_path, key, 2.0, 2, "cpu", 1)  # the latest replaces it
    assert recorded_cost(tmp_path, key, "cpu") | {"at": 0} == {
        "key": key, "device": "cpu", "threads": 1, "seconds": 2.0, "units": 2,
        "per_unit_s": 1.0, "at": 0}
    # Another teacher (other epochs, or smoothed) has its own record.
    assert recorded_cost(tmp_path, teacher_cost_key(TeacherSettings("cnn15", 2, 1.0))) is None
    smooth = TeacherSettings("cnn15", 1, 1.0, label_smoothing=0.1)
    assert teacher_cost_key(smooth) != key and "seed" not in key


def test_a_torn_record_file_reads_as_none(tmp_path):
    (tmp_path / "teachers").mkdir()
    (tmp_path / "teachers" / "costs.json").write_text("{not json")
    assert recorded_cost(tmp_path, steps_cost_key("kd", 1)) is None
    record_cost(tmp_path, steps_cost_key("kd", 1), 1.0, 10, "cpu", 1)  # rewritten whole
    assert estimate_s(tmp_path, steps_cost_key("kd", 1), 20) == 2.0


def test_cached_seeds_are_the_files_of_their_keys(tmp_path):
    path = cache_path(tmp_path, teacher_key(PLAIN, 3))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights")
    assert cached_seeds(tmp_path, PLAIN, [0, 3, 4]) == [3]


def test_the_trainer_records_the_teachers_cost_and_prices_the_next_ones(tmp_path):
    params = {"epochs": 1, "teacher_epochs": 1, "seeds": 1, "seed": 0}
    first: list = []
    train({"method": "kd", "params": params, "data_dir": str(tmp_path)}, first.append)
    starts = {e.phase: e for e in first if e.type == "phase" and e.state == "start"}
    assert starts["teacher"].estimate_s is None  # never trained here
    assert starts["teacher"].run_steps == starts["train"].run_steps == starts["train"].steps
    record = recorded_cost(tmp_path, teacher_cost_key(PLAIN), "cpu")
    assert record["units"] == 1 and record["seconds"] > 0
    assert recorded_cost(tmp_path, steps_cost_key("kd", 1), "cpu")["units"] == starts[
        "train"].steps
    # Another seed: its teacher is missing, and its phase says what it should take.
    second: list = []
    train({"method": "kd", "params": params | {"seed": 1}, "data_dir": str(tmp_path)},
          second.append)
    teacher = next(e for e in second if e.type == "phase" and e.phase == "teacher")
    assert teacher.estimate_s == round(record["per_unit_s"], 1)
    assert teacher.run_estimate_s is not None
    assert json.loads((tmp_path / "teachers" / "costs.json").read_text())
    # Its teacher is cached now: no teacher phase, the run's own steps priced.
    third: list = []
    train({"method": "kd", "params": params, "data_dir": str(tmp_path)}, third.append)
    assert [e.phase for e in third if e.type == "phase" and e.state == "start"] == ["train"]


class Asked(Exception):
    pass


@pytest.mark.parametrize("method_id", sorted(METHODS))
def test_each_method_declares_the_teacher_its_recipe_asks_for(method_id, monkeypatch):
    """The panel's word on a method's teachers is the recipe's: the first teacher a
    recipe asks for is among its declared ones, and a method that reports a teacher
    declares one."""
    method = METHODS[method_id]
    params = method.params()
    asked: list = []

    def get_teacher(ctx, settings):
        asked.append(settings)
        raise Asked

    monkeypatch.setattr(teacher_module, "get_teacher", get_teacher)
    ctx = SimpleNamespace(params=params, split=None, seeds=params.seed_list(), k=params.seeds,
                          device=None, shared={}, emitter=None)
    try:
        method.recipe(ctx)
    except Asked:
        pass
    except Exception:  # a recipe that needs more of ctx before a teacher: none asked yet
        pass
    declared = method.teachers(params)
    if asked:
        assert asked[0] in declared
    else:
        assert declared == ()
    assert bool(declared) == ("teacher" in method.models)
