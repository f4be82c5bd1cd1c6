"""When each paper was added to the notes and last changed.

In a git checkout the history knows: `git blame --line-porcelain` over each paper's
lines gives its first and latest commit (lines not yet committed count from the
file's mtime). Blame runs as a subprocess once per file content and HEAD, never per
request. Papers git cannot date (no checkout, no git, a file not yet tracked) get the
time the app first saw them, and first saw their current note, kept in DATA_DIR so
that a restart does not make every paper new again."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.catalog.catalog import Catalog
from app.catalog.models import Paper

log = logging.getLogger(__name__)

#: A paper added within this many days is marked new.
NEW_DAYS = 30
_BLAME_PROCESSES = 4  # git blames at once, at a reload that changed several files
_GIT_TIMEOUT = 20  # seconds; a blame that takes longer is given up, not waited on
_UNCOMMITTED = "0" * 40
STORE_NAME = "paper-dates.json"
_COMMIT_ROW = re.compile(r"^[0-9a-f]{40} \d+ \d+")


@dataclass(frozen=True, slots=True)
class PaperDates:
    added: dt.datetime
    updated: dt.datetime
    source: Literal["git", "first-seen"]


def is_new(
    added: dt.datetime | None, baseline: dt.datetime | None = None, now: dt.datetime | None = None
) -> bool:
    """Added within NEW_DAYS, and after `baseline` (when the first-seen store was first
    filled: what the app found on its first look was there before, not news)."""
    now = now or dt.datetime.now(dt.UTC)
    if added is None or (baseline is not None and added <= baseline):
        return False
    return now - added <= dt.timedelta(days=NEW_DAYS)


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC)


# -- git ------------------------------------------------------------------------------


def _git(notes_dir: Path, *args: str) -> str | None:
    """git's stdout, or None when git is missing, refuses or takes too long."""
    try:
        done = subprocess.run(
            ["git", "-C", str(notes_dir), *args], capture_output=True, text=True,
            timeout=_GIT_TIMEOUT, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def parse_blame(porcelain: str, uncommitted_at: float) -> list[float | None]:
    """Per line of the file, the author time of the commit that last touched it;
    None for a blank line (blank lines date nothing). `--line-porcelain` repeats
    each commit's headers on every line, so each line is read on its own."""
    times: list[float | None] = []
    sha, when = "", 0.0
    for row in porcelain.splitlines():
        if row.startswith("\t"):
            blank = not row[1:].strip()
            times.append(None if blank else uncommitted_at if sha == _UNCOMMITTED else when)
        elif row.startswith("author-time "):
            when = float(row.split()[1])
        elif _COMMIT_ROW.match(row):
            sha = row[:40]
    return times


class GitHistory:
    """Blame of the notes files, cached by (file, content hash, HEAD)."""

    def __init__(self, notes_dir: Path):
        self.notes_dir = notes_dir
        self._cache: dict[tuple[str, str, str], list[float | None] | None] = {}
        self.top = None
        if shutil.which("git"):
            top = _git(notes_dir, "rev-parse", "--show-toplevel")
            self.top = Path(top.strip()) if top else None
        self._git_dir = None
        if self.top is not None:
            git_dir = _git(notes_dir, "rev-parse", "--absolute-git-dir")
            self._git_dir = Path(git_dir.strip()) if git_dir else None

    @property
    def available(self) -> bool:
        return self.top is not None

    def stamp(self) -> tuple[int, ...]:
        """Cheap to take, changes on a commit: the reflog's mtime and size (a commit
        that leaves the notes files untouched still changes their dates)."""
        if self._git_dir is None:
            return ()
        for name in ("logs/HEAD", "HEAD"):
            try:
                stat = (self._git_dir / name).stat()
            except OSError:
                continue
            return (stat.st_mtime_ns, stat.st_size)
        return ()

    def line_times(self, files: Iterable[str], head: str) -> dict[str, list[float | None] | None]:
        """Each file's per-line times, None for a file git cannot blame (untracked).
        Files not in the cache are blamed side by side: one git process each."""
        keys: dict[str, tuple[tuple[str, str, str], float] | None] = {}
        for file in files:
            path = self.notes_dir / file
            try:
                content, mtime = path.read_bytes(), path.stat().st_mtime
            except OSError:
                keys[file] = None
                continue
            keys[file] = ((file, hashlib.sha1(content).hexdigest(), head), mtime)
        missing = [(f, k) for f, k in keys.items() if k is not None and k[0] not in self._cache]
        if missing:
            with ThreadPoolExecutor(max_workers=min(_BLAME_PROCESSES, len(missing))) as pool:
                outs = list(pool.map(
                    lambda item: _git(self.notes_dir, "blame", "--line-porcelain", "--", item[0]),
                    missing,
                ))  # fmt: skip
            for (file, (key, mtime)), out in zip(missing, outs, strict=True):
                for stale in [k for k in self._cache if k[0] == file]:
                    del self._cache[stale]
                self._cache[key] = parse_blame(out, mtime) if out is not None else None
        return {f: self._cache[k[0]] if k is not None else None for f, k in keys.items()}

    def head(self) -> str | None:
        out = _git(self.notes_dir, "rev-parse", "--verify", "-q", "HEAD")
        return out.strip() if out else None


def paper_ranges(catalog: Catalog) -> dict[str, tuple[int, int | None]]:
    """Each paper's lines, 1-based, end exclusive (None: to the end of the file):
    from its own line to the next paper or heading of its file that is not in its
    group (papers sharing a note own that note's lines too)."""
    starts: dict[str, list[int]] = {}
    for paper in catalog.papers.values():
        starts.setdefault(paper.file, []).append(paper.line)
    for category in catalog.categories.values():
        starts.setdefault(category.file, []).append(category.line)
    for lines in starts.values():
        lines.sort()
    ranges = {}
    for paper in catalog.papers.values():
        own = {catalog.papers[s].line for s in paper.shares_notes_with
               if catalog.papers[s].file == paper.file}  # fmt: skip
        lines = starts[paper.file]
        index = bisect.bisect_right(lines, paper.line)
        while index < len(lines) and lines[index] in own:  # a group is a few lines apart
            index += 1
        ranges[paper.slug] = (paper.line, lines[index] if index < len(lines) else None)
    return ranges


def git_dates(history: GitHistory, catalog: Catalog) -> dict[str, PaperDates]:
    head = history.head()
    if head is None:  # a checkout with no commit yet
        return {}
    dates = {}
    per_file = history.line_times({p.file for p in catalog.papers.values()}, head)
    for slug, (start, end) in paper_ranges(catalog).items():
        times = per_file[catalog.papers[slug].file]
        if times is None:
            continue
        dated = [t for t in times[start - 1 : end - 1 if end else None] if t is not None]
        if dated:
            dates[slug] = PaperDates(_utc(min(dated)), _utc(max(dated)), "git")
    return dates


# -- first seen -----------------------------------------------------------------------


def note_digest(paper: Paper) -> str:
    """What a reader would see change: the paper line's facts and the note."""
    parts = (paper.title, paper.url, paper.venue_raw, paper.rating, paper.notes_html,
             paper.authors)  # fmt: skip
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


class FirstSeen:
    """{slug: added, updated, digest} in DATA_DIR/paper-dates.json. Without a data
    folder (or when it can't be written) the dates live as long as the process."""

    def __init__(self, data_dir: Path | None):
        self.path = data_dir / STORE_NAME if data_dir else None
        self.since: str | None = None  # when the store was first filled
        self.entries: dict[str, dict] = self._load()

    @property
    def baseline(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.since) if self.since else None

    def _load(self) -> dict[str, dict]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            entries = {k: v for k, v in data["papers"].items() if {"added", "updated"} <= set(v)}
            self.since = data.get("since") or min((e["added"] for e in entries.values()),
                                                  default=None)  # fmt: skip
            return entries
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return {}

    def dates(self, papers: Iterable[Paper], now: dt.datetime | None = None) -> dict:
        stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        changed = False
        self.since = self.since or stamp
        for paper in papers:
            digest = note_digest(paper)
            entry = self.entries.get(paper.slug)
            if entry is None:
                self.entries[paper.slug] = {"added": stamp, "updated": stamp, "digest": digest}
                changed = True
            elif entry.get("digest") != digest:
                entry |= {"updated": stamp, "digest": digest}
                changed = True
        if changed:
            self._save()
        return {
            slug: PaperDates(dt.datetime.fromisoformat(e["added"]),
                             dt.datetime.fromisoformat(e["updated"]), "first-seen")
            for slug, e in self.entries.items()
        }  # fmt: skip

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            data = {"since": self.since, "papers": self.entries}
            partial.write_text(json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8")
            partial.replace(self.path)  # whole or not at all, even if the process dies
        except OSError as exc:
            log.warning("cannot keep paper dates in %s: %s", self.path, exc)


class Dater:
    """Dates every paper of a catalog: git where it can, first seen otherwise."""

    def __init__(self, notes_dir: Path, data_dir: Path | None):
        self.git = GitHistory(notes_dir)
        self.first_seen = FirstSeen(data_dir)

    def stamp(self) -> tuple[int, ...]:
        return self.git.stamp()

    @property
    def baseline(self) -> dt.datetime | None:
        """Papers first seen at or before this are not marked new. None in a checkout:
        git's dates are real, and a file it does not track yet is a new draft."""
        return None if self.git.available else self.first_seen.baseline

    def dates(self, catalog: Catalog) -> Mapping[str, PaperDates]:
        found = git_dates(self.git, catalog) if self.git.available else {}
        rest = [p for slug, p in catalog.papers.items() if slug not in found]
        if rest:
            seen = self.first_seen.dates(rest)
            found |= {p.slug: seen[p.slug] for p in rest}
        return found
