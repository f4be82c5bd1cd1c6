"""schemathesis against the app's own OpenAPI document (/openapi.json), in-process
over ASGI: every operation, valid and invalid inputs, every built-in check (no
5xx, status codes, content types and bodies as documented, invalid input refused,
valid input accepted, Allow headers...).

POST /api/runs is fuzzed like the rest, against the real run service with a no-op
trainer, one run at a time and no queue (see conftest.py): a generated launch
that gets through (rare: its method id must be a known one) costs nothing, and
the next is a documented 429. test_openapi_runs.py launches one on purpose and
fuzzes the operations on it; tests/security covers the limits and the token.

About 10 s here. Each operation runs schemathesis's explicit examples, its
coverage cases (boundaries, missing and wrong-typed values, unexpected
methods) and 25 generated cases per mode.
"""

from __future__ import annotations

import schemathesis

schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_conforms_to_its_openapi(case):
    case.call_and_validate()
