"""Parameter bounds make every run small, whatever a client sends: each method's
parameters are bounded and closed (no unknown fields), any parameters either fail
validation or come out inside the bounds (hypothesis), and what can't even be
parsed (NaN, numbers past any bound, JSON nested past Python's recursion limit)
is a 4xx that launches nothing."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.distill.methods import METHODS
from app.runs import InvalidParams, RunManager

# The most one run may cost, per the parameter models' own promise (params.py).
MAX_EPOCHS, MIN_BATCH = 30, 8


def schema(method_id: str) -> dict:
    return METHODS[method_id].params.model_json_schema()


@pytest.mark.parametrize("method_id", sorted(METHODS))
def test_every_parameter_is_bounded_and_the_set_is_closed(method_id):
    spec = schema(method_id)
    assert spec.get("additionalProperties") is False
    for name, prop in spec["properties"].items():
        if prop.get("type") in ("integer", "number"):
            assert "minimum" in prop and "maximum" in prop, (method_id, name)
        else:
            assert prop.get("type") == "boolean" or "enum" in prop, (method_id, name, prop)
        if "epochs" in name:
            assert prop["maximum"] <= MAX_EPOCHS, (method_id, name)
    if "batch_size" in spec["properties"]:
        assert spec["properties"]["batch_size"]["minimum"] >= MIN_BATCH


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["1", "30", "31", "1e9", "nan", "inf", "-0", " 5 "]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def method_and_params(draw):
    method_id = draw(st.sampled_from(sorted(METHODS)))
    names = sorted(schema(method_id)["properties"])
    keys = st.one_of(st.sampled_from(names), st.sampled_from(names), st.text(max_size=8))
    return method_id, draw(st.dictionaries(keys, JSON_VALUES, max_size=5))


@settings(max_examples=300, deadline=None, database=None)
@given(method_and_params())
def test_any_parameters_are_refused_or_come_out_within_bounds(sent):
    method_id, params = sent
    runs = RunManager.__new__(RunManager)  # validation only: no store, no workers
    runs._methods = None
    try:
        checked = runs.validate(method_id, params)
    except InvalidParams as exc:
        assert exc.errors and all(e["field"] and e["message"] for e in exc.errors)
        return
    spec = schema(method_id)
    assert set(checked) == set(spec["properties"])  # defaults filled, nothing else kept
    for name, value in checked.items():
        prop = spec["properties"][name]
        if prop.get("type") in ("integer", "number"):
            assert isinstance(value, (int, float)) and math.isfinite(value), (name, value)
            assert prop["minimum"] <= value <= prop["maximum"], (name, value)


@pytest.fixture
def client(make_app):
    with TestClient(make_app("hold")) as test_client:
        yield test_client
        assert test_client.get("/api/runs").json()["runs"] == []  # nothing was launched


def test_out_of_bounds_values_are_422s_naming_the_field(client):
    for params, field in (
        ({"epochs": 31}, "epochs"),
        ({"epochs": 10**100}, "epochs"),
        ({"batch_size": 1}, "batch_size"),
        ({"train_fraction": 1.5}, "train_fraction"),
        ({"teacher_epochs": 1000}, "teacher_epochs"),
        ({"epochs": "1e9"}, "epochs"),
        ({"threads": 64}, "threads"),  # not a parameter: no asking for the whole machine
    ):
        response = client.post("/api/runs", json={"method": "kd", "params": params})
        assert response.status_code == 422, params
        assert ["body", "params", field] in [e["loc"] for e in response.json()["detail"]]


def test_nan_and_infinity_in_a_json_body_are_422s(client):
    # Python's json module reads NaN and Infinity; they must not slip past a bound.
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        body = b'{"method": "kd", "params": {"temperature": ' + literal + b"}}"
        response = client.post(
            "/api/runs", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, literal


def test_json_nested_past_the_recursion_limit_is_a_400_not_a_500(client):
    # Well under the 64 kB body limit, deep enough that json.loads gives up.
    deep = "[" * 5000 + "]" * 5000
    cases = [
        ("/api/runs", {"content": deep.encode(), "headers": {"Content-Type": "application/json"}}),
        (
            "/api/runs",
            {
                "content": f'{{"method": "kd", "params": {deep}}}'.encode(),
                "headers": {"Content-Type": "application/json"},
            },
        ),
        ("/api/runs", {"data": {"method": "kd", "params": deep}}),
        (
            "/api/runs/0123456789ab/cancel",
            {"content": deep.encode(), "headers": {"Content-Type": "application/json"}},
        ),
    ]
    for url, kwargs in cases:
        response = client.post(url, **kwargs)
        assert response.status_code == 400, (url, response.text[:200])
        assert "JSON" in response.json()["detail"]
