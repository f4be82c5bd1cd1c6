"""The rooms' import rules (pyproject.toml's import-linter contracts, run by
`lint-imports` in .ci/run) hold, and no module of `app` imports itself round a
circle, counting imports inside functions and under TYPE_CHECKING."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

from app import PROJECT_ROOT


def test_no_import_circle_inside_app():
    graph = grimp.build_graph("app", include_external_packages=False)
    circles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                circles.append(" -> ".join((importer, *back)))
    assert circles == []


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout
