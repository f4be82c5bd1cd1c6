"""Keeps the parsed catalog current: edits to notes/ show up without a restart, and
nothing is re-parsed while the files stay as they were."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

from app.catalog.cache import NotesCache
from app.catalog.catalog import Catalog
from app.catalog.dates import Dater
from app.catalog.parser import parse_notes_dir

log = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]


def notes_signature(notes_dir: Path) -> Signature:
    """Name, mtime and size of every notes file: cheap to take, changes on any edit."""
    entries = []
    for path in notes_dir.rglob("*.md"):
        try:
            stat = path.stat()
        except OSError:  # removed while we looked
            continue
        entries.append((path.relative_to(notes_dir).as_posix(), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


class LiveCatalog:
    """Hands out the current catalog; looks at the files at most every poll_interval s."""

    def __init__(self, notes_dir: Path, poll_interval: float = 1.0,
                 cache_dir: Path | None = None, data_dir: Path | None = None):
        self.notes_dir = notes_dir
        # Parsed files on disk (DATA_DIR), so that a restart parses nothing new.
        self.disk = NotesCache(cache_dir) if cache_dir else None
        self.dater = Dater(notes_dir, data_dir)
        self.poll_interval = poll_interval
        self._lock = threading.Lock()
        self._signature: Signature | None = None
        self._checked_at = float("-inf")
        self._catalog: Catalog | None = None
        self._files: dict = {}  # per-file parse results, so an edit re-parses one file
        self.version = 0  # bumps on every re-parse; callers may key caches on it

    def get(self) -> Catalog:
        now = time.monotonic()
        if self._catalog is not None and now - self._checked_at < self.poll_interval:
            return self._catalog
        with self._lock:
            signature = (*notes_signature(self.notes_dir), ("", *self.dater.stamp()))
            if self._catalog is None or signature != self._signature:
                self._reload(signature)
            self._checked_at = now
            assert self._catalog is not None
            return self._catalog

    def _reload(self, signature: tuple) -> None:
        started = time.perf_counter()
        catalog = parse_notes_dir(self.notes_dir, self._files, self.disk)
        self._date(catalog, signature)
        self._catalog, self._signature = catalog, signature
        self.version += 1
        log.info(
            "parsed %d papers from %s in %.1f ms (%d diagnostics)",
            len(catalog.papers),
            self.notes_dir,
            (time.perf_counter() - started) * 1e3,
            len(catalog.diagnostics),
        )
        if self.version > 1:
            for diagnostic in catalog.diagnostics:
                log.warning("%s", diagnostic)

    def _date(self, catalog: Catalog, signature: tuple) -> None:
        """Give each paper its dates, and the catalog a fingerprint of the files and
        dates: the same files (name, mtime, size) and dates give the same one, in every
        replica and after a restart."""
        dates = self.dater.dates(catalog)
        catalog.papers = {
            slug: replace(p, added=dates[slug].added, updated=dates[slug].updated)
            if slug in dates else p
            for slug, p in catalog.papers.items()
        }
        files = tuple(entry for entry in signature if entry[0])  # not the git stamp
        dated = sorted((s, d.added.timestamp(), d.updated.timestamp()) for s, d in dates.items())
        catalog.fingerprint = hashlib.sha1(repr((files, dated)).encode()).hexdigest()[:20]
        catalog.derived["new-after"] = self.dater.baseline
