"""Paper dates: from the lines' git history in a checkout, from when the app first saw
a paper otherwise (kept in DATA_DIR across restarts)."""

from __future__ import annotations

import datetime as dt
import json
import os

from support.git_notes import NotesRepo

from app.catalog import dates
from app.catalog.live import LiveCatalog

HEAD = "# 笔记\n\n## Logits\n\n"
HINTON = (
    "- [Distilling the Knowledge in a Neural Network]"
    "(https://arxiv.org/abs/1503.02531) (NIPS2014)\n"
    "    - 5分\n    - 开山之作。\n"
)
LSR = (
    "- [Revisiting Knowledge Distillation via Label Smoothing Regularization]"
    "(https://arxiv.org/abs/1909.11723) (CVPR2020)\n    - 4分\n    - TF-KD。\n"
)
FITNETS = (
    "- [FitNets: Hints for Thin Deep Nets](https://arxiv.org/abs/1412.6550) (ICLR2015)\n"
    "    - 3分\n"
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def dated(catalog) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    return {slug: (p.added, p.updated) for slug, p in catalog.papers.items()}


def test_git_history_dates_each_paper_by_its_own_lines(tmp_path):
    repo = NotesRepo(tmp_path / "notes")
    repo.commit({"kd.md": HEAD + HINTON}, "2021-03-01T10:00:00Z")
    repo.commit({"kd.md": HEAD + HINTON + "\n" + LSR}, "2022-05-02T10:00:00Z")
    # An edit to Hinton's note only: LSR keeps its dates, Hinton gets a new updated.
    edited = HINTON.replace("开山之作。", "开山之作，必读。")
    repo.commit({"kd.md": HEAD + edited + "\n" + LSR}, "2023-07-03T10:00:00Z")
    repo.commit({"kd.md": HEAD + edited + "\n" + LSR + FITNETS}, "2024-09-04T10:00:00Z")

    catalog = LiveCatalog(repo.root, data_dir=tmp_path / "data").get()
    got = dated(catalog)
    assert got["1503.02531"] == (at("2021-03-01T10:00:00Z"), at("2023-07-03T10:00:00Z"))
    assert got["1909.11723"] == (at("2022-05-02T10:00:00Z"), at("2022-05-02T10:00:00Z"))
    assert got["1412.6550"] == (at("2024-09-04T10:00:00Z"), at("2024-09-04T10:00:00Z"))
    # Git dated everything: nothing fell back to the first-seen store.
    assert not (tmp_path / "data" / dates.STORE_NAME).exists()


def test_uncommitted_lines_count_from_the_files_mtime_and_untracked_files_first_seen(tmp_path):
    repo = NotesRepo(tmp_path / "notes")
    repo.commit({"kd.md": HEAD + HINTON}, "2021-03-01T10:00:00Z")
    path = repo.root / "kd.md"
    path.write_text(HEAD + HINTON + "\n" + LSR, encoding="utf-8")
    os.utime(path, (1_700_000_000, 1_700_000_000))  # 2023-11-14
    (repo.root / "draft.md").write_text(HEAD + FITNETS, encoding="utf-8")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)

    got = dated(LiveCatalog(repo.root, data_dir=tmp_path / "data").get())
    assert got["1503.02531"] == (at("2021-03-01T10:00:00Z"),) * 2
    assert got["1909.11723"] == (dt.datetime.fromtimestamp(1_700_000_000, dt.UTC),) * 2
    assert got["1412.6550"][0] >= before  # untracked: when the app first saw it


def test_a_commit_alone_redates_without_an_edit(tmp_path):
    repo = NotesRepo(tmp_path / "notes")
    repo.commit({"kd.md": HEAD + HINTON}, "2021-03-01T10:00:00Z")
    (repo.root / "kd.md").write_text(HEAD + HINTON + LSR, encoding="utf-8")
    store = LiveCatalog(repo.root, poll_interval=0)
    first = store.get()
    assert first.papers["1909.11723"].added > at("2024-01-01T00:00:00Z")  # uncommitted
    repo.git("add", "kd.md")
    repo.git("commit", "-q", "-m", "lsr", when="2022-02-02T00:00:00Z")
    second = store.get()
    assert second.papers["1909.11723"].added == at("2022-02-02T00:00:00Z")
    assert second.fingerprint != first.fingerprint


def test_blame_runs_once_per_content_and_head(tmp_path, monkeypatch):
    repo = NotesRepo(tmp_path / "notes")
    repo.commit({"kd.md": HEAD + HINTON}, "2021-03-01T10:00:00Z")
    calls = []
    real = dates._git

    def counting(notes_dir, *args):
        calls.append(args[0])
        return real(notes_dir, *args)

    monkeypatch.setattr(dates, "_git", counting)
    store = LiveCatalog(repo.root, poll_interval=0)
    for _ in range(5):
        store.get()
    assert calls.count("blame") == 1
    os.utime(repo.root / "kd.md")  # touched, same content: parsed again, not blamed again
    store.get()
    assert calls.count("blame") == 1


def test_first_seen_dates_survive_a_restart_and_move_only_on_an_edit(tmp_path):
    notes, data = tmp_path / "notes", tmp_path / "data"
    notes.mkdir()
    (notes / "kd.md").write_text(HEAD + HINTON + "\n" + LSR, encoding="utf-8")
    first = dated(LiveCatalog(notes, data_dir=data).get())
    stored = json.loads((data / dates.STORE_NAME).read_text())
    assert set(stored["papers"]) == {"1503.02531", "1909.11723"}

    # Backdate what was stored, as if the app had seen the notes long ago.
    for entry in stored["papers"].values():
        entry["added"] = entry["updated"] = "2020-01-01T00:00:00+00:00"
    (data / dates.STORE_NAME).write_text(json.dumps(stored))
    assert dated(LiveCatalog(notes, data_dir=data).get()) == {
        slug: (at("2020-01-01T00:00:00Z"),) * 2 for slug in first
    }
    (notes / "kd.md").write_text(HEAD + HINTON.replace("开山之作", "经典") + "\n" + LSR,
                                 encoding="utf-8")  # fmt: skip
    again = dated(LiveCatalog(notes, data_dir=data).get())
    assert again["1909.11723"] == (at("2020-01-01T00:00:00Z"),) * 2
    assert again["1503.02531"][0] == at("2020-01-01T00:00:00Z")
    assert again["1503.02531"][1] > at("2024-01-01T00:00:00Z")


def test_an_unreadable_store_is_ignored_not_fatal(tmp_path):
    notes, data = tmp_path / "notes", tmp_path / "data"
    notes.mkdir()
    data.mkdir()
    (notes / "kd.md").write_text(HEAD + HINTON, encoding="utf-8")
    (data / dates.STORE_NAME).write_text("{not json")
    catalog = LiveCatalog(notes, data_dir=data).get()
    assert catalog.papers["1503.02531"].added is not None


def test_is_new_marks_recent_papers_only():
    now = at("2024-06-30T00:00:00Z")
    assert dates.is_new(now - dt.timedelta(days=dates.NEW_DAYS - 1), now=now)
    assert not dates.is_new(now - dt.timedelta(days=dates.NEW_DAYS + 1), now=now)
    assert not dates.is_new(None, now=now)
    recent = now - dt.timedelta(days=1)
    assert not dates.is_new(recent, baseline=recent, now=now)
    assert dates.is_new(recent, baseline=recent - dt.timedelta(seconds=1), now=now)


def test_what_the_first_look_found_is_not_new_what_came_later_is(tmp_path):
    notes, data = tmp_path / "notes", tmp_path / "data"
    notes.mkdir()
    (notes / "kd.md").write_text(HEAD + HINTON, encoding="utf-8")
    store = LiveCatalog(notes, poll_interval=0, data_dir=data)
    first = store.get()
    baseline = first.derived["new-after"]
    assert baseline == first.papers["1503.02531"].added
    assert not dates.is_new(first.papers["1503.02531"].added, baseline)
    # Seen later: dated by that later look, after the baseline.
    stored = json.loads((data / dates.STORE_NAME).read_text())
    stored["since"] = stored["papers"]["1503.02531"]["added"] = "2024-01-01T00:00:00+00:00"
    (data / dates.STORE_NAME).write_text(json.dumps(stored))
    store = LiveCatalog(notes, poll_interval=0, data_dir=data)
    (notes / "kd.md").write_text(HEAD + HINTON + "\n" + LSR, encoding="utf-8")
    later = store.get()
    assert later.derived["new-after"] == at("2024-01-01T00:00:00Z")
    assert dates.is_new(later.papers["1909.11723"].added, later.derived["new-after"])
    assert not dates.is_new(later.papers["1503.02531"].added, later.derived["new-after"])


def test_in_a_checkout_no_baseline_applies(tmp_path):
    repo = NotesRepo(tmp_path / "notes")
    repo.commit({"kd.md": HEAD + HINTON}, "2021-03-01T10:00:00Z")
    (repo.root / "draft.md").write_text(HEAD + LSR, encoding="utf-8")
    catalog = LiveCatalog(repo.root, data_dir=tmp_path / "data").get()
    assert catalog.derived["new-after"] is None
    assert dates.is_new(catalog.papers["1909.11723"].added, None)  # an untracked draft
