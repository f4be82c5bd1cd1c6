"""The store re-parses on change, only what changed, and never on an idle request."""

import os

from app.catalog.live import LiveCatalog

NOTE = "# S\n- [{title}](https://example.org/{slug})\n    - 3分\n"


def write(path, title, slug, mtime=None):
    path.write_text(NOTE.format(title=title, slug=slug), encoding="utf-8")
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))


def test_unchanged_files_are_not_parsed_again(tmp_path):
    write(tmp_path / "a.md", "Alpha", "a")
    write(tmp_path / "b.md", "Beta", "b")
    store = LiveCatalog(tmp_path, poll_interval=0)
    first = store.get()
    assert list(first.papers) == ["alpha", "beta"]
    assert store.get() is first and store.version == 1  # nothing changed: same object

    cached_a = store._files[next(k for k in store._files if k[0] == "a.md")]
    write(tmp_path / "b.md", "Beta Two", "b", mtime=10**18)
    second = store.get()
    assert list(second.papers) == ["alpha", "beta-two"] and store.version == 2
    # a.md was not parsed again: its cached result is the very same object.
    assert store._files[next(k for k in store._files if k[0] == "a.md")] is cached_a
    assert len(store._files) == 2  # the stale entry for the old b.md is gone


def test_poll_interval_spares_the_filesystem(tmp_path):
    write(tmp_path / "a.md", "Alpha", "a")
    store = LiveCatalog(tmp_path, poll_interval=3600)
    store.get()
    write(tmp_path / "a.md", "Changed", "a", mtime=10**18)
    assert list(store.get().papers) == ["alpha"]  # not looked at again within the interval


def test_removed_file_disappears(tmp_path):
    write(tmp_path / "a.md", "Alpha", "a")
    write(tmp_path / "b.md", "Beta", "b")
    store = LiveCatalog(tmp_path, poll_interval=0)
    store.get()
    (tmp_path / "b.md").unlink()
    assert list(store.get().papers) == ["alpha"]
