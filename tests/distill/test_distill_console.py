"""``python -m app demo ...``: list, run with a table or JSON lines, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.distill import console
from app.distill.methods import METHODS

TINY = ["--epochs", "1", "--train-fraction", "0.05", "--batch_size=16", "--threads", "1",
        "--seeds", "2"]


def test_list_names_every_method(capsys: pytest.CaptureFixture[str]):
    assert console.main(["list"]) == 0
    out = capsys.readouterr().out
    for method in METHODS:
        assert f"\n{method} " in "\n" + out


def test_run_prints_progress_then_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = console.main(["run", "lsr", *TINY, "--data-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0
    assert "train epoch 1/1" in captured.err  # not a terminal: one line per epoch
    assert "student" in captured.out and "baseline" in captured.out
    assert "method − baseline (final models): Δ" in captured.out
    assert "95% CI [" in captured.out and "W/T/L" in captured.out
    assert "seeds 0–1 (2)" in captured.out


def test_run_json_prints_one_event_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = console.main(["run", "kd", *TINY, "--teacher-epochs", "1", "--json",
                         "--data-dir", str(tmp_path)])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["type"] == "done"
    assert {e["type"] for e in events} == {"log", "phase", "metric", "done"}


def test_run_uses_the_settings_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from app.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert console.main(["run", "tfkd_self", *TINY, "--teacher-epochs", "1"]) == 0
    finally:
        get_settings.cache_clear()
    assert list((tmp_path / "teachers").glob("cnn3-*.pt"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "nope"], "unknown method"),
        (["run"], "needs a METHOD"),
        (["run", "kd", "--epochs", "0"], "--epochs"),
        (["run", "kd", "--epochs", "many"], "--epochs"),
        (["run", "kd", "--alpha", "1.5"], "--alpha"),
        (["run", "kd", "--bogus", "1"], "no parameter --bogus"),
        (["run", "kd", "--epochs"], "needs a value"),
        (["run", "kd", "epochs", "3"], "expected --PARAM"),
        (["run", "kd", "--device", "tpu"], "device"),
        (["frobnicate"], "unknown demo command"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
):
    assert console.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_run_help_lists_the_parameters(capsys: pytest.CaptureFixture[str]):
    assert console.main(["run", "tfkd_reg", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--correct-prob" in out and "0.105" in out
