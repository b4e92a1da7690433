"""The served OpenAPI document against the running server (schemathesis, bounded):
no input makes it fail with a 5xx, and answers conform to the documented schemas."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.harness import Account, Stack

# Operations that would end the session the fuzzer uses, or move the shared simulated clock.
SKIPPED = {
    "/api/v1/auth/logout",
    "/api/v1/me/certificate/report-loss",
    "/api/v1/clock/advance",
    "/api/v1/lots/{lot_id}/events",
}
EXAMPLES = 8


def test_r03_no_input_makes_the_server_fail(stack: Stack, staff: Account) -> None:
    if stack.backend != "sqlite":
        pytest.skip("one backend is enough to fuzz the HTTP layer")
    schema = schemathesis.openapi.from_url(f"{stack.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {staff.token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        if operation.path in SKIPPED:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            response = case.call(base_url=stack.url, headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            case.validate_response(
                response, checks=[schemathesis.checks.response_schema_conformance]
            )

        exercise()
    assert not failures, failures
