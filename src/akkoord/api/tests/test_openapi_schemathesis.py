"""Property-based run of the whole API against its own OpenAPI document.

Schemathesis generates requests from the document (valid and invalid ones) and
checks that no answer is a server error and that every answer matches the
schema. Bounded: few examples per operation, so it stays fast.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from akkoord.accounts.models import AuditEntry
from akkoord.api.models import ApiKey, Scope
from akkoord.api.v1 import api as ninja_api
from akkoord.wsgi import application


@pytest.fixture
def api_schema(db, newsletter, contact):
    raw = ninja_api.get_openapi_schema(path_params={})
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = application
    # Like Django's test client: do not close the test's database connection
    # (inside its transaction) at the end of each in-process request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_api_answers_match_the_openapi_document(api_schema):
    _key, token = ApiKey.issue("fuzz", [s.value for s in Scope])
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            )

        check()

    # The generated requests really reached the API (each authenticated call is audited).
    assert AuditEntry.objects.filter(actor="api:fuzz").count() > len(operations)
