"""Fuzzing the REST API from its own OpenAPI schema (Schemathesis), signed in as each role.

Every operation × every role: no 500, and every answer (status code, content type, body) is one
the schema documents. Schema-violating input (wrong types, unknown fields, control characters,
malformed ids) must be refused. Bounded for CI (HOTLINE_FUZZ_EXAMPLES, default 2 per operation and
role, derandomized so a run is repeatable); scripts/fuzz_api.sh runs the same test much deeper.

One built-in check is left out: `positive_data_acceptance` ("schema-valid input must be
accepted"). A schema cannot say "an id of a unit that exists" or "a phone number that exists in
the numbering plan", so a well-formed reference to nothing is rightly a 400 naming the field
(README "Input limits"); every other check stays on.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tickets.models import User
from tickets.services.staff_auth import api_token_issue

# operator, dispatcher, supervisor, unit staff, admin (superuser), and nobody signed in
ROLES = ["operator1", "dispatcher1", "supervisor1", "rsj_staff", "admin", None]
EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "3"))
# Deep runs (scripts/fuzz_api.sh) add Schemathesis' coverage phase: boundary values and every
# kind of malformed input for each parameter, deterministic, many cases per operation.
DEEP = os.environ.get("HOTLINE_FUZZ_DEEP", "") == "1"
PHASES = [Phase.explicit, Phase.generate, Phase.shrink] if DEEP else [Phase.generate]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Each case runs inside the test's transaction; the WSGI handler would hand the connection
    back at request end (to the psycopg pool on PostgreSQL). Django's test Client does the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("who", ROLES, ids=lambda who: who or "anonymous")
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=PHASES,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_as_documented(case, who, city) -> None:
    headers = {}
    if who:
        key, _ = api_token_issue(user=User.objects.get(username=who))
        headers["Authorization"] = f"Token {key}"
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
