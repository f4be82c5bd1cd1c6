"""Parsed notes kept on disk in DATA_DIR, so that a restart with unchanged notes
parses nothing and an edit re-parses only the file that changed.

Two kinds of entry, each named by a SHA-256 of what it was made from:
- `file-<hash of name and bytes>`: one file's parse result (app/catalog/parser.py);
- `catalog-<hash of every file's hash, in order>`: the catalog they assemble into,
  so that a warm start skips assembling too.

Every name also carries a fingerprint of the code that shapes these objects (the
catalog's own modules and the versions of the libraries that render notes), so an
upgrade never reads an entry an older parser wrote. Entries are pickles: DATA_DIR
is the app's own folder (it holds the run database), not something readers write.
An entry that cannot be read is parsed again; a cache that cannot be written is
only slower.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The modules whose code decides what a parse produces.
_SHAPERS = ("assemble", "catalog", "drafts", "fields", "files", "mathml", "models", "parser",
            "search")
_LIBRARIES = ("markdown_it", "mdit_py_plugins", "latex2mathml", "nh3")


@cache
def fingerprint() -> str:
    """Short hash of the catalog's code and the rendering libraries' versions."""
    digest = hashlib.sha256(sys.version.encode())
    here = Path(__file__).parent
    for module in _SHAPERS:
        source = here / f"{module}.py"
        digest.update(source.read_bytes() if source.exists() else b"")
    for library in _LIBRARIES:  # imported by the parser anyway; metadata is slower
        digest.update(getattr(importlib.import_module(library), "__version__", "-").encode())
    return digest.hexdigest()[:16]


def file_key(name: str, data: bytes) -> str:
    return hashlib.sha256(name.encode() + b"\0" + data).hexdigest()


def catalog_key(file_keys: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(file_keys).encode()).hexdigest()


class NotesCache:
    """A folder of pickled parse results; see the module's docstring."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._warned = False

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / f"{kind}-{fingerprint()}-{key}.pickle"

    def load(self, kind: str, key: str) -> Any | None:
        try:
            with self._path(kind, key).open("rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a torn or foreign entry: parse again
            log.warning("ignoring unreadable notes cache entry %s: %s", self._path(kind, key), exc)
            return None

    def save(self, kind: str, key: str, value: object) -> None:
        """Written to a temporary file and renamed: a reader never sees half of one."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(kind, key))
        except OSError as exc:
            if not self._warned:  # a read-only DATA_DIR: say so once, carry on
                log.warning("cannot write the notes cache in %s: %s", self.folder, exc)
                self._warned = True

    def keep_only(self, keys: dict[str, Iterable[str]]) -> None:
        """Remove every entry but these (kind -> keys): the notes as they are now."""
        wanted = {self._path(kind, key).name for kind, ks in keys.items() for key in ks}
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.suffix == ".pickle" and entry.name not in wanted:
                entry.unlink(missing_ok=True)
