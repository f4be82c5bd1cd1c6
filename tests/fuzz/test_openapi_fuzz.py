"""schemathesis against the app's own OpenAPI document (/openapi.json), in-process
over ASGI: every operation, valid and invalid inputs, every built-in check (no
5xx, status codes, content types and bodies as documented, invalid input refused,
valid input accepted, Allow headers...).

Launching is fuzzed too, against the real run service with a no-op trainer, one
run at a time and no queue (see conftest.py): at most one cheap run exists, and
every other valid launch is a documented 429.
"""

from __future__ import annotations

import schemathesis

schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_conforms_to_its_openapi(case):
    case.call_and_validate()
