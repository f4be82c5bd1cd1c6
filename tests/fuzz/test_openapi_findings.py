"""What the API fuzz found, pinned as plain examples: each failed before its fix.
Every response here is also checked against the OpenAPI document by schemathesis."""

from __future__ import annotations


def call_and_check(api_schema, method: str, path: str, **case):
    operation = api_schema[path][method]
    response = operation.Case(**case).call()
    operation.Case(**case).validate_response(response)
    return response


def test_an_unknown_paper_is_a_documented_404(api_schema):
    response = call_and_check(api_schema, "GET", "/api/papers/{slug}",
                              path_parameters={"slug": "no-such-paper"})
    assert response.status_code == 404
    assert response.json() == {"detail": "no paper with slug 'no-such-paper'"}
