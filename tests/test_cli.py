"""The command line's own dispatch (each command's work is tested in its room)."""

from app.cli import main


def test_unknown_benchmark_is_a_usage_error(capsys):
    assert main(["bench", "nope"]) == 2
    assert "choose from" in capsys.readouterr().err


def test_catalog_benchmark_runs_small(capsys):
    assert main(["bench", "catalog", "--papers", "40", "--requests", "3"]) == 0
    out = capsys.readouterr().out
    assert "40 papers" in out and "p50 / static" in out


def test_notes_check_on_a_missing_folder(tmp_path, capsys):
    assert main(["notes", "check", str(tmp_path / "absent")]) == 2
    assert "is not a folder" in capsys.readouterr().err
