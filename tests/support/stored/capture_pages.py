"""How pages_before.json was made: the exports, JSON and page parts of the fixture
store (runs_before_migrations.sql), served by the code of commit 252d6e8.

    python tests/support/stored/capture_pages.py OUT_DIR   (with that commit's app)
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app import PROJECT_ROOT
from app.main import create_app
from app.settings import Settings

STORED = Path(__file__).resolve().parent
EXACT = ["/api/runs/run0/metrics.csv", "/api/compare?ids=run0,run1,run2,old",
         "/api/compare/metrics.csv?ids=run0,run1", "/api/methods"]
PARTS = [("/runs/run1", "#run-summary"), ("/runs/old", "#run-summary"),
         ("/runs/broken", "main"), ("/runs", "table.runs-table tbody"),
         ("/runs/compare?ids=run0,run1,run2,old", "main table")]


def main(out: Path) -> None:
    data, notes = out / "data", out / "notes"
    data.mkdir(parents=True, exist_ok=True)
    notes.mkdir(exist_ok=True)
    db = sqlite3.connect(data / "runs.sqlite3")
    db.executescript((STORED / "runs_before_migrations.sql").read_text())
    db.close()
    shutil.copy(PROJECT_ROOT / "notes" / "knowledge-distillation.md", notes)
    settings = Settings(notes_dir=notes, data_dir=data, notes_poll_interval=0, run_token="")
    found = {}
    with TestClient(create_app(settings)) as client:
        for url in EXACT:
            response = client.get(url)
            found[url] = [response.status_code, response.text]
        for url, selector in PARTS:
            response = client.get(url)
            node = BeautifulSoup(response.text, "html.parser").select_one(selector)
            text = " ".join(node.get_text(" ").split()) if node else None
            found[url] = [response.status_code, text]
    (STORED / "pages_before.json").write_text(
        json.dumps(found, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
