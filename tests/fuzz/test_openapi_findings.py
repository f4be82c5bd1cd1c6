"""What the API fuzz found, pinned as plain examples: each failed before its fix.
Every response here is also checked against the OpenAPI document by schemathesis."""

from __future__ import annotations

from app.distill.methods import METHODS


def call_and_check(api_schema, operation_method: str, path: str, **case):
    operation = api_schema[path][operation_method]
    response = operation.Case(**case).call()
    operation.Case(**case).validate_response(response)
    return response


def test_an_unknown_paper_is_a_documented_404(api_schema):
    response = call_and_check(
        api_schema, "GET", "/api/papers/{slug}", path_parameters={"slug": "no-such-paper"}
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "no paper with slug 'no-such-paper'"}


def test_a_405_names_every_method_of_the_path(api_schema):
    # /api/runs is two routes (GET lists, POST launches); Starlette's 405 named
    # only the first one it tried.
    runs = api_schema["/api/runs"]["POST"].Case(method="OPTIONS", body={"method": "kd"})
    response = runs.call()
    assert response.status_code == 405 and response.headers["allow"] == ["GET, POST"]
    one = api_schema["/api/runs/{run_id}"]["GET"]
    response = one.Case(method="DELETE", path_parameters={"run_id": "abc"}).call()
    assert response.status_code == 405 and response.headers["allow"] == ["GET"]


def test_the_method_filter_documents_the_known_methods(api_schema):
    # It said "any string up to 64 characters" and answered 422 to all but eleven.
    operation = api_schema["/api/runs"]["GET"]
    response = operation.Case(query={"method": "kd"}).call()
    assert response.status_code == 200
    operation.Case(query={"method": "kd"}).validate_response(response)
    method = next(p for p in operation.definition.raw["parameters"] if p["name"] == "method")
    assert method["schema"]["enum"] == list(METHODS)
    response = operation.Case(query={"method": "0" * 64}).call()
    assert response.status_code == 422


def test_the_launch_body_schema_says_what_the_handler_refuses(api_schema):
    # An empty method id and unknown fields are 422s; the schema allowed both.
    operation = api_schema["/api/runs"]["POST"]
    body = operation.definition.raw["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["method"]["minLength"] == 1
    assert body["additionalProperties"] is False
    for sent in ({"method": ""}, {"method": "kd", "epochs": 1}):
        response = operation.Case(body=sent).call()
        assert response.status_code == 422, sent


def _finished_run(api_schema, run_id: str) -> str:
    """A run that exists and is over, written straight into the run store."""
    # schemathesis ends the app's lifespan after each test; a request starts it again.
    api_schema["/api/categories"]["GET"].Case().call()
    store = api_schema.app.state.runs.store
    if store.get_run(run_id) is None:
        store.create_run(run_id, "kd", {}, "test", 0.0)
        store.finish(run_id, "cancelled", {"type": "cancelled"})
    return run_id


def test_last_event_id_takes_ascii_digits_only(api_schema):
    # "²" and "¹" (latin-1 bytes B2, B9) pass str.isdigit() but not int(): a 500.
    run_id = _finished_run(api_schema, "lei-digits")
    events = api_schema["/api/runs/{run_id}/events"]["GET"]
    for value in ("\xb2", "1\xb9"):
        case = events.Case(path_parameters={"run_id": run_id}, headers={"Last-Event-ID": value})
        response = case.call()
        assert response.status_code == 400, value
        case.validate_response(response)


def test_a_resume_point_past_any_seq_is_an_empty_replay(api_schema):
    # ?after= or Last-Event-ID beyond 2**63 - 1 broke the stream: OverflowError in sqlite3.
    run_id = _finished_run(api_schema, "huge-after")
    events = api_schema["/api/runs/{run_id}/events"]["GET"]
    for case in (
        events.Case(path_parameters={"run_id": run_id}, query={"after": 10**30}),
        events.Case(path_parameters={"run_id": run_id}, headers={"Last-Event-ID": "9" * 30}),
    ):
        response = case.call()
        assert response.status_code == 200
        assert "data:" not in response.text  # nothing after that point
        case.validate_response(response)
    # An ordinary resume point still replays what follows it.
    response = events.Case(path_parameters={"run_id": run_id}, query={"after": 0}).call()
    assert "event: cancelled" in response.text


def test_last_event_id_documents_its_format(api_schema):
    # It was "any string of up to 32 characters, or null": "x" was a 400, and
    # schemathesis sent null as the text "null".
    events = api_schema["/api/runs/{run_id}/events"]["GET"]
    header = next(p for p in events.definition.raw["parameters"] if p["in"] == "header")
    assert header["schema"]["type"] == "string" and "anyOf" not in header["schema"]
    assert header["schema"]["pattern"] == "^[0-9]*$"
    run_id = _finished_run(api_schema, "lei-format")
    for value, status in (("", 200), ("0", 200), ("x", 400), ("null", 400)):
        case = events.Case(path_parameters={"run_id": run_id}, headers={"Last-Event-ID": value})
        response = case.call()
        assert response.status_code == status, value
        case.validate_response(response)
