"""Fuzzing the REST API from its own OpenAPI schema (Schemathesis), signed in as each role.

Every operation × every role: no 500, and every answer (status code, content type, body) is one
the schema documents. Schema-violating input (wrong types, unknown fields, control characters,
malformed ids) must be refused. Bounded for CI (HOTLINE_FUZZ_EXAMPLES, default 3 per operation, each
sent as every role, derandomized so a run is repeatable); scripts/fuzz_api.sh runs it much deeper.

One built-in check is left out: `positive_data_acceptance` ("schema-valid input must be
accepted"). A schema cannot say "an id of a unit that exists" or "a phone number that exists in
the numbering plan", so a well-formed reference to nothing is rightly a 400 naming the field
(README "Input limits"); every other check stays on.

The second half sends what a schema-driven generator does not make (issue 14, finding 8; strategies
in tests/security/hostile.py): every query and path parameter of every operation, and Open311's,
gets NUL bytes, dates at the calendar's edges, integers past 64 bits and forged cursors; every JSON
body gets nesting past the limit and hostile field values. The known breakers run every time
(explicit examples), Hypothesis adds HOTLINE_FUZZ_HOSTILE random ones (default 3), each with a random
choice of the operation's other enumerated parameters (?period=week with ?date=9999-12-31). No
answer may be a 5xx, and a 400 must name its rule.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.security import hostile
from tickets.accounts.services import api_token_issue
from tickets.intake.services import citizen_auth
from tickets.org.models import User

pytestmark = pytest.mark.slow  # every operation as six readers, and hostile input: ~1 minute

# operator, dispatcher, supervisor, unit staff, admin (superuser), and nobody signed in
ROLES = ["operator1", "dispatcher1", "supervisor1", "rsj_staff", "admin", None]
EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "3"))
# Deep runs (scripts/fuzz_api.sh) add Schemathesis' coverage phase: boundary values and every
# kind of malformed input for each parameter, deterministic, many cases per operation.
DEEP = os.environ.get("HOTLINE_FUZZ_DEEP", "") == "1"
PHASES = [Phase.explicit, Phase.generate, Phase.shrink] if DEEP else [Phase.generate]

OPENAPI = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(OPENAPI)
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


@pytest.fixture
def role_headers(city: Any) -> dict[str, dict[str, str]]:
    """Each role's request headers: a staff token (none for nobody signed in) and the role's name."""
    headers: dict[str, dict[str, str]] = {}
    for who in ROLES:
        # X-Test-Role names the role in a failure's "Reproduce with" line (the token is filtered out)
        headers[who or "anonymous"] = {"X-Test-Role": who or "anonymous"}
        if who:
            key, _ = api_token_issue(user=User.objects.get(username=who))
            headers[who]["Authorization"] = f"Token {key}"
    return headers


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=PHASES,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_as_documented(case, role_headers) -> None:
    """Each generated case goes to the operation as every role. Generating cases was most of this
    file's time, and a test per role generated a set for each of the six roles; a role that may not
    call the operation never gets past the permission check to the input anyway."""
    for headers in role_headers.values():
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])


# --- hostile input the schema does not describe -------------------------------------------------

HOSTILE_EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_HOSTILE", "3"))
HOSTILE_SETTINGS = hypothesis_settings(
    max_examples=HOSTILE_EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


@dataclass(frozen=True)
class Target:
    """One place a client controls: a query or path parameter, or an operation's JSON body."""

    method: str
    path: str  # OpenAPI template, /api/tickets/{ticket_id}/
    location: str  # query, path or body
    name: str = ""
    properties: list[str] = field(default_factory=list)
    # The operation's other query parameters: the required ones with a value, the enumerated ones
    # with their choices (drawn at random alongside the hostile value).
    required: tuple[tuple[str, str], ...] = ()
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.location} {self.name}".strip()


# Open311 is served by plain Django views outside the OpenAPI schema.
OPEN311 = [
    Target("get", "/open311/v2/requests.json", "query", name)
    for name in ("start_date", "end_date", "service_request_id", "service_code", "status", "api_key")
] + [Target("get", "/open311/v2/requests/{id}.json", "path", "id")]


def _properties(body_schema: dict[str, Any]) -> list[str]:
    ref = body_schema.get("$ref", "")
    resolved = OPENAPI["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else body_schema
    return sorted(resolved.get("properties", {}))


def _neighbours(parameters: list[dict[str, Any]], name: str) -> dict[str, Any]:
    query = [p for p in parameters if p["in"] == "query" and p["name"] != name]
    enums = {p["name"]: tuple(str(v) for v in p["schema"]["enum"]) for p in query if "enum" in p.get("schema", {})}
    required = tuple((p["name"], enums.get(p["name"], ("1",))[0]) for p in query if p.get("required"))
    return {"required": required, "choices": tuple(sorted(enums.items()))}


def _targets() -> list[Target]:
    found = []
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            parameters = operation.get("parameters", [])
            for param in parameters:
                if param["in"] in ("query", "path"):
                    found.append(
                        Target(method, path, param["in"], param["name"], **_neighbours(parameters, param["name"]))
                    )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                found.append(Target(method, path, "body", properties=_properties(body["schema"])))
    return found + OPEN311


TARGETS = _targets()
PARAMETERS = [t for t in TARGETS if t.location != "body"]
BODIES = [t for t in TARGETS if t.location == "body"]
CURSORS = [t for t in PARAMETERS if t.name == "cursor"]


@pytest.fixture
def hostile_client(city: Any) -> Callable[[Target], Client]:
    """A superuser for the staff API (every role check passes), a citizen token for the app."""
    admin, _ = api_token_issue(user=User.objects.get(username="admin"))
    citizen, _ = citizen_auth.session_create(phone="+8613812341234")

    def client_for(target: Target) -> Client:
        scheme = f"Bearer {citizen}" if target.path.startswith("/api/app/") else f"Token {admin}"
        return Client(raise_request_exception=False, HTTP_AUTHORIZATION=scheme)

    return client_for


def _url(target: Target, value: str | None = None, seed: int = 0) -> str:
    """The target's URL with `value` in its place, the other path parameters 1, the required query
    parameters set, and (seed > 0) a seeded random pick of the enumerated ones."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return value if name == target.name and value is not None else "1"

    path = re.sub(r"\{([^}]+)\}", fill, target.path)
    query = dict(target.required)
    pick = random.Random(seed)
    for name, options in target.choices if seed else ():
        if pick.random() < 0.5:
            query[name] = pick.choice(options)
    if target.location == "query" and value is not None:
        query[target.name] = value
    return quote(path) + (f"?{urlencode(query)}" if query else "")


def _assert_clean(target: Target, sent: object, response: Any) -> None:
    assert response.status_code < 500, f"{target} <- {sent!r:.200}: {response.status_code} {response.content[:300]!r}"
    if response.status_code == 400 and target.path.startswith("/api/"):
        assert response.json().get("rule"), response.content[:300]


def _with_examples(values: list[Any], name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        for value in values:
            test = example(**{name: value, "seed": 0})(test)
        return test

    return decorate


@pytest.mark.parametrize("target", PARAMETERS, ids=str)
@HOSTILE_SETTINGS
@_with_examples(hostile.CURATED, "value")
@given(value=hostile.hostile_values, seed=hostile.st.integers(0, 2**16))
def test_hostile_parameters_never_get_a_server_error(
    target: Target, value: str, seed: int, hostile_client: Any
) -> None:
    url = _url(target, value, seed)
    _assert_clean(target, url, getattr(hostile_client(target), target.method)(url))


@pytest.mark.parametrize("target", CURSORS, ids=str)
def test_forged_cursors_never_get_a_server_error(target: Target, hostile_client: Any) -> None:
    for cursor in hostile.CURSORS:
        url = _url(target, cursor)
        _assert_clean(target, url, getattr(hostile_client(target), target.method)(url))


@pytest.mark.parametrize("target", BODIES, ids=str)
def test_bodies_known_to_break_json_endpoints_never_get_a_server_error(target: Target, hostile_client: Any) -> None:
    client = hostile_client(target)
    for body in hostile.curated_bodies(target.properties):
        response = getattr(client, target.method)(_url(target), data=body, content_type="application/json")
        _assert_clean(target, body, response)


@pytest.mark.parametrize("target", BODIES, ids=str)
@HOSTILE_SETTINGS
@given(data=hostile.st.data())
def test_hostile_json_bodies_never_get_a_server_error(target: Target, data: Any, hostile_client: Any) -> None:
    body = data.draw(hostile.hostile_bodies(target.properties), label="body")
    response = getattr(hostile_client(target), target.method)(_url(target), data=body, content_type="application/json")
    _assert_clean(target, body, response)
