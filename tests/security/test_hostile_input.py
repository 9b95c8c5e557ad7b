"""Hostile query input gets a 400 naming the parameter, never a 500 (issue 14, finding 8).

Dates at the calendar's edges overflowed the period arithmetic (metrics, hot spots, exports, ticket
filters, Open311); NUL bytes in a query parameter, the path or a header reached PostgreSQL, which
refuses them; tampered pagination cursors reached `filter(id__lt=…)`. Run on PostgreSQL too
(`DATABASE_URL`): NUL bytes only break there.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from tests.tickets.helpers import dispatched, new_ticket
from tickets.accounts.services import api_token_issue
from tickets.intake.services import citizen_auth
from tickets.org.models import User

EDGES = ["0001-01-01", "9999-12-31"]

# (path with {day}/{month}/{moment} placeholders, the parameter named in the answer)
DATE_QUERIES = [
    ("/api/metrics/units/?period=week&date={day}", "date"),
    ("/api/metrics/units/?period=year&date={day}", "date"),
    ("/api/metrics/ranking/?month={month}", "month"),
    ("/api/metrics/trends/?group=streets&end={month}", "end"),
    ("/api/metrics/repeat-call-rate/?end={day}", "end"),
    ("/api/metrics/repeat-call-rate/?start={day}&end=2026-01-31", "start"),
    ("/api/hotspots/?end={day}", "end"),
    ("/api/exports/metrics.csv?date={day}", "date"),
    ("/api/tickets/?created_after={moment}", "created_after"),
    ("/api/tickets/?created_before={moment}", "created_before"),
    ("/api/exports/tickets.csv?created_after={moment}", "created_after"),
]


def _staff(user: Any, username: str = "supervisor1") -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user(username))
    return client


def _fill(path: str, day: str) -> str:
    return path.format(day=day, month=day[:7], moment=quote(f"{day}T00:00:00-12:00" if day[0] == "9" else day))


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize(("path", "field"), DATE_QUERIES, ids=[p.split("?")[0] + " " + f for p, f in DATE_QUERIES])
def test_dates_at_the_calendars_edges_are_a_400_naming_the_parameter(
    path: str, field: str, edge: str, user: Any
) -> None:
    response = _staff(user).get(_fill(path, edge))
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["field"] == field, body
    assert "2000-01-01 至 2099-12-31" in str(body)


@pytest.mark.parametrize("edge", EDGES)
def test_json_dates_at_the_edges_are_a_400_naming_the_field(edge: str, units: Any, api: Any) -> None:
    article = {"question": "社保卡丢了怎么补办", "answer": "携带身份证到社保经办机构补办。", "valid_from": edge}
    response = api("supervisor1").post("/api/kb/articles/", article, format="json")
    assert response.status_code == 400 and response.json()["field"] == "valid_from", response.json()
    _ticket, assignment = dispatched(units["rsj"])
    response = api("rsj_staff").post(
        f"/api/assignments/{assignment.pk}/request-extension/",
        {"until": f"{edge}T00:00:00Z", "reason": "需要现场勘查"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["field"] == "until", response.json()


@pytest.mark.parametrize("edge", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2025-13-45T00:00:00Z"])
@pytest.mark.parametrize("name", ["start_date", "end_date"])
def test_open311_dates_at_the_edges_are_an_open311_400_naming_the_parameter(name: str, edge: str, city: Any) -> None:
    response = Client(raise_request_exception=False).get(f"/open311/v2/requests.json?{name}={edge}")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert name in response.json()[0]["description"]


NUL_QUERIES = [
    ("/api/tickets/?q=%E8%B7%AF%00%E7%81%AF", "q"),
    ("/api/tickets/?state=registered&cursor=%00", "cursor"),
    ("/api/metrics/units/?group=streets%00", "group"),
    ("/api/kb/search/?q=%E7%A4%BE%00", "q"),
    ("/open311/v2/requests.json?service_request_id=2026%0001", "service_request_id"),
    ("/open311/v2/requests.json?service_code=tq%00gz", "service_code"),
    ("/open311/v2/requests/2026%0001.json", "path"),
]


@pytest.mark.parametrize(("path", "field"), NUL_QUERIES, ids=[f for _, f in NUL_QUERIES])
def test_a_nul_byte_in_a_query_parameter_or_the_path_is_a_400_naming_it(path: str, field: str, user: Any) -> None:
    response = _staff(user).get(path)
    assert response.status_code == 400, (response.status_code, response.content[:300])
    if path.startswith("/open311/"):  # GeoReport v2's own error shape
        assert response.json() == [{"code": 400, "description": f"{field}：请求包含不允许的空字符（NUL）"}]
    else:
        assert (response.json()["rule"], response.json()["field"]) == ("nul_byte", field)


def test_open311_xml_clients_get_the_refusal_in_xml(city: Any) -> None:
    response = Client().get("/open311/v2/requests.xml?service_code=tq%00gz")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/xml")
    assert "<code>400</code><description>service_code：" in response.content.decode()


def test_a_nul_byte_in_a_header_used_in_a_query_is_a_400(user: Any, city: Any) -> None:
    token, _ = api_token_issue(user=User.objects.get(username="operator1"))
    anonymous = Client(raise_request_exception=False)
    for headers, name in [
        ({"HTTP_AUTHORIZATION": f"Token {token}\x00"}, "Authorization"),
        ({"HTTP_AUTHORIZATION": "Bearer abc\x00def"}, "Authorization"),
        ({"HTTP_COOKIE": "sessionid=abcdefgh\x00ijk"}, "Cookie"),
        ({"HTTP_IDEMPOTENCY_KEY": "k\x00"}, "Idempotency-Key"),
    ]:
        response = anonymous.get("/api/tickets/", **headers)
        assert response.status_code == 400 and response.json()["field"] == name, (headers, response.content)
    page = anonymous.get("/citizen/status/?number=2026%00")
    assert page.status_code == 400 and "空字符" in page.content.decode()  # a Chinese page off the API


def _cursor(raw: str) -> str:
    return quote(base64.b64encode(raw.encode()).decode())


TAMPERED = [
    _cursor("p=abc"),
    _cursor("p=1%00"),
    _cursor("p=" + "9" * 40),
    _cursor("o=" + "9" * 40),
    _cursor("r=7"),
    _cursor("x=1"),
    _cursor("p=1&p=2"),
    "%%%not-base64",
    "A" * 5000,
]


@pytest.mark.parametrize("cursor", TAMPERED, ids=range(len(TAMPERED)))
@pytest.mark.parametrize("path", ["/api/tickets/", "/api/dispatch-queue/", "/api/callbacks/rating/"])
def test_a_tampered_or_huge_cursor_is_a_400_naming_cursor(path: str, cursor: str, user: Any) -> None:
    response = _staff(user).get(f"{path}?cursor={cursor}")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response.json()["field"] == "cursor"


def test_a_deadline_ordered_cursor_refuses_a_position_that_is_not_a_deadline(units: Any, user: Any) -> None:
    dispatched(units["rsj"])
    for raw in ["p=abc", "p=0001-01-01 00:00:00+08:00", "p=12345"]:
        response = _staff(user, "rsj_staff").get(f"/api/assignments/?cursor={_cursor(raw)}")
        assert response.status_code == 400 and response.json()["field"] == "cursor", (raw, response.content)


def test_the_citizen_apps_cursor_is_checked_too(city: Any) -> None:
    key, _ = citizen_auth.session_create(phone="+8613812341234")
    app = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {key}")
    response = app.get(f"/api/app/tickets/?cursor={_cursor('p=abc')}")
    assert response.status_code == 400 and response.json()["field"] == "cursor"


def test_the_cursors_the_api_hands_out_still_work(city: Any, user: Any) -> None:
    numbers = {new_ticket(auto_route=False).number for _ in range(3)}
    client = _staff(user)
    first = client.get("/api/tickets/?page_size=2").json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert {t["number"] for t in first["results"] + second["results"]} == numbers
    assert back["results"] == first["results"]


PAGE_DATE_QUERIES = [
    ("/tickets/?date_from={day}", "受理日期起"),
    ("/tickets/?date_to={day}", "受理日期止"),
    ("/tickets/export.xlsx?date_to={day}", "受理日期止"),
    ("/tickets/?overdue=maybe", "只看已超期"),
]


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize(("path", "label"), PAGE_DATE_QUERIES, ids=[p for p, _ in PAGE_DATE_QUERIES])
def test_the_ticket_list_page_refuses_edge_dates_naming_the_filter(path: str, label: str, edge: str, user: Any) -> None:
    """工单查询 and its Excel export: a date box accepts year 1 and 9999; the answer names the filter
    in Chinese (no "[invalid name]") instead of a 500."""
    response = _staff(user, "dispatcher1").get(path.format(day=edge))
    assert response.status_code == 400, (response.status_code, response.content[:300])
    text = response.content.decode()
    assert f"筛选条件不正确：{label}" in text and "[invalid name]" not in text
