"""The run operations fuzzed against a run that exists: the broad fuzz only ever
guesses run ids that don't, so it sees their 404s and never a RunOut, a metrics
table or an event stream. Here a real (instant) run is launched through the API,
and each operation on it gets generated queries and headers, valid and invalid,
every response checked against the OpenAPI document."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

RUN_OPERATIONS = [
    "GET /api/runs/{run_id}",
    "GET /api/runs/{run_id}/metrics.json",
    "GET /api/runs/{run_id}/metrics.csv",
    "GET /api/runs/{run_id}/events",
    "POST /api/runs/{run_id}/cancel",
]


@pytest.fixture(scope="module")
def finished_run(api_schema) -> str:
    launch = api_schema["/api/runs"]["POST"].Case(body={"method": "kd", "params": {"epochs": 1}})
    response = launch.call()
    launch.validate_response(response)
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]
    inspect = api_schema["/api/runs/{run_id}"]["GET"]
    deadline = time.monotonic() + 60
    while (run := inspect.Case(path_parameters={"run_id": run_id}).call().json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
        time.sleep(0.05)
    assert run["status"] == "succeeded", run
    return run_id


@pytest.mark.parametrize("label", RUN_OPERATIONS)
def test_operations_on_an_existing_run_conform(api_schema, finished_run, label):
    operation = api_schema.find_operation_by_label(label)
    cases = st.one_of(
        operation.as_strategy(mode, path_parameters={"run_id": finished_run})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )
    statuses = set()

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(cases)
    def check(case):
        statuses.add(case.call_and_validate().status_code)

    check()
    # The run was there: some answer was about it, not a 404 for a wrong id.
    assert statuses - {404, 422}, statuses
