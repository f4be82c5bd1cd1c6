"""A throwaway git repository of notes, committed step by step at fixed dates, for
the tests of dates drawn from history (app/catalog/dates.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def need_git() -> str:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    return git


class NotesRepo:
    def __init__(self, root: Path):
        need_git()
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, when: str = "2024-01-01T00:00:00Z") -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Notes Author", "GIT_AUTHOR_EMAIL": "author@example.org",
            "GIT_COMMITTER_NAME": "Notes Author", "GIT_COMMITTER_EMAIL": "author@example.org",
            "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        }  # fmt: skip
        done = subprocess.run(["git", *args], cwd=self.root, env=env, check=True,
                              capture_output=True, text=True)  # fmt: skip
        return done.stdout

    def commit(self, files: dict[str, str], when: str, message: str = "notes") -> None:
        """Write the files and commit them, dated `when` (ISO 8601)."""
        for name, text in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            self.git("add", name)
        self.git("commit", "-q", "-m", message, when=when)
