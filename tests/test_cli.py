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


def test_notes_check_reports_an_unknown_demo_at_its_line(tmp_path, capsys):
    (tmp_path / "n.md").write_text(
        "# 笔记\n\n- [P](https://arxiv.org/abs/2001.00001)\n    - 3分\n    - 演示：kd，kdd\n",
        encoding="utf-8",
    )
    assert main(["notes", "check", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "n.md:5: error: unknown demo method 'kdd'" in captured.err
    assert "'kd'" not in captured.err.split("known:")[0]  # the known id is not reported
    assert "1 errors, 0 warnings" in captured.out


def test_notes_check_passes_a_known_demo(tmp_path, capsys):
    (tmp_path / "n.md").write_text(
        "- [P](https://arxiv.org/abs/2001.00001)\n    - 3分\n    - demo: kd, lsr\n",
        encoding="utf-8",
    )
    assert main(["notes", "check", str(tmp_path)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out
