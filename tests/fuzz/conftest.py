"""Fixtures of the fuzz tests: the whole app, in-process, with a run service whose
trainer is a no-op, loaded by schemathesis from its own /openapi.json."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from schemathesis.python.asgi import shutdown_lifespans
from support.runs import fake_settings

from app import main
from app.settings import Settings

# Bounded: a few generated cases per operation and mode (positive and negative),
# on top of schemathesis's examples and coverage phases; no shrinking, no
# example database, so a failure is reported as found and runs stay independent.
#
# Invalid query strings are still sent to every operation and must get a
# documented answer (never a 5xx), but the operations that read a query string
# are not required to refuse all of them: as everywhere in FastAPI a repeated
# parameter means its last value, and the catalog's query is also the no-JS HTML
# form's, where a blank field means "any" and unknown fields are ignored. Paths
# and bodies must still be refused when invalid (POST /api/runs above all).
LENIENT_QUERIES = ["GET /api/papers", "GET /api/runs", "GET /api/runs/{run_id}/events"]
FUZZ_CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 25, "no-shrink": True, "database": "none"},
        "operations": [
            {
                "include-name": LENIENT_QUERIES,
                "checks": {"negative_data_rejection": {"enabled": False}},
            }
        ],
    }
)


def fuzz_settings(notes_dir: Path, data_dir: Path) -> Settings:
    """The real run service (queue, limits, worker process, SQLite) with a trainer
    that is done in a millisecond: a fuzzed launch that gets through costs nothing.
    One run at a time, no queue, one run per client: whatever the fuzzer sends, at
    most one (instant) run exists at a time and the rest are 429s."""
    return fake_settings(
        data_dir,
        "instant",
        notes_dir=notes_dir,
        run_concurrency=1,
        run_queue_size=0,
        run_queue_per_client=1,
        run_warm_workers=0,
    )


@pytest.fixture(scope="module")
def api_schema(seed_notes, tmp_path_factory):
    """schemathesis's view of the app. Its ASGI transport starts the app's lifespan
    (catalog, run service) on the first request of a test and its pytest plugin
    ends it after each test; the SQLite file, and so the runs, stay."""
    settings = fuzz_settings(seed_notes, tmp_path_factory.mktemp("fuzz-data"))
    app = main.create_app(settings)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app, config=FUZZ_CONFIG)
    try:
        yield loaded
    finally:
        shutdown_lifespans()  # stops the run service and its worker


@pytest.fixture(autouse=True)
def _schemathesis_node_id(request):
    """schemathesis 4.32's lazy schemas read and rewrite `node._nodeid`, which
    pytest 9 no longer has; give them the plain node id to work with."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
