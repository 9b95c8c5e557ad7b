"""Who may reach what: every role × every route, read from the URL resolver.

A route missing from MATRIX fails `test_every_route_has_a_row`, so a new endpoint cannot ship
without someone deciding who may use it. Outcomes (first request of each role, empty body):

  ok     authorised: anything but 401/403/404 and a login redirect (400/409 mean "allowed, but the
         input or the ticket's state is wrong")
  401    API, not signed in          403  signed in, wrong role (or Twilio signature missing)
  404    not visible: another unit's object answers exactly like an id that does not exist
  login  page redirects to the login form

Columns: anon, operator, dispatcher, supervisor, unit (rsj_staff on its own ticket/assignment),
other (zjj_staff, another unit, on the same objects), admin. `-` = not meaningful (a list has
no "other unit's object": it is scoped, see tests/tickets/test_access.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.tickets.helpers import dispatched
from tickets.org.models import User

pytestmark = pytest.mark.slow  # every route as seven readers: over a minute

ROLES = ["anon", "operator", "dispatcher", "supervisor", "unit", "other", "admin"]
USERS = {
    "operator": "operator1",
    "dispatcher": "dispatcher1",
    "supervisor": "supervisor1",
    "unit": "rsj_staff",
    "other": "zjj_staff",
    "admin": "admin",
}

# fmt: off
# (route name, method):                         anon  oper  disp  super unit  other admin
MATRIX: dict[tuple[str, str], str] = {
    ("api-docs", "GET"):                       "ok    ok    ok    ok    ok    ok    ok",
    ("api-token", "POST"):                     "ok    ok    ok    ok    ok    ok    ok",
    ("api-logout", "POST"):                    "401   ok    ok    ok    ok    ok    ok",
    ("app-auth-code", "POST"):                 "ok    ok    ok    ok    ok    ok    ok",
    ("app-auth-login", "POST"):                "ok    ok    ok    ok    ok    ok    ok",
    ("app-ticket-detail", "GET"):              "401   401   401   401   401   401   401",
    ("app-ticket-detail", "POST"):             "401   401   401   401   401   401   401",
    ("app-ticket-list", "GET"):                "401   401   401   401   401   401   401",
    ("app-ticket-list", "POST"):               "401   401   401   401   401   401   401",
    ("app-ticket-rate", "GET"):                "401   401   401   401   401   401   401",
    ("app-ticket-rate", "POST"):               "401   401   401   401   401   401   401",
    ("app-ticket-supplement", "POST"):         "401   401   401   401   401   401   401",
    ("assignment-decide-extension", "POST"):   "401   403   ok    ok    403   403   ok",
    ("assignment-decide-return", "POST"):      "401   403   ok    ok    403   403   ok",
    ("assignment-list", "GET"):                "401   ok    ok    ok    ok    ok    ok",
    ("assignment-pause-clock", "POST"):        "401   403   ok    ok    ok    404   ok",
    ("assignment-redispatch", "POST"):         "401   403   403   403   ok    404   ok",
    ("assignment-reply", "POST"):              "401   403   403   403   ok    404   ok",
    ("assignment-request-extension", "POST"):  "401   403   403   403   ok    404   ok",
    ("assignment-request-return", "POST"):     "401   403   403   403   ok    404   ok",
    ("assignment-resume-clock", "POST"):       "401   403   ok    ok    ok    404   ok",
    ("assignment-sign", "POST"):               "401   403   403   403   ok    404   ok",
    ("board", "GET"):                          "login ok    ok    ok    404   404   ok",
    ("board-action", "POST"):                  "login ok    ok    ok    404   404   ok",
    ("board-fragment", "GET"):                 "login ok    ok    ok    404   404   ok",
    ("call-caller-history", "GET"):            "401   404   404   404   403   403   404",
    ("callback-done", "POST"):                 "401   404   404   404   403   403   404",
    ("callback-list", "GET"):                  "401   ok    ok    ok    403   403   ok",
    ("category-list", "GET"):                  "401   ok    ok    ok    ok    ok    ok",
    ("citizen-home", "GET"):                   "ok    ok    ok    ok    ok    ok    ok",
    ("citizen-rate", "GET"):                   "404   404   404   404   404   404   404",
    ("citizen-rate", "POST"):                  "404   404   404   404   404   404   404",
    ("citizen-status", "GET"):                 "ok    ok    ok    ok    ok    ok    ok",
    ("citizen-status", "POST"):                "ok    ok    ok    ok    ok    ok    ok",
    ("citizen-submit", "GET"):                 "ok    ok    ok    ok    ok    ok    ok",
    ("citizen-submit", "POST"):                "ok    ok    ok    ok    ok    ok    ok",
    ("citizen-submitted", "GET"):              "ok    ok    ok    ok    ok    ok    ok",
    ("citizen-mine", "GET"):                   "ok    ok    ok    ok    ok    ok    ok",  # to the SMS code first
    ("citizen-supplement", "POST"):            "ok    ok    ok    ok    ok    ok    ok",  # likewise
    ("citizen-verify", "GET"):                 "ok    ok    ok    ok    ok    ok    ok",
    ("citizen-verify", "POST"):                "ok    ok    ok    ok    ok    ok    ok",
    ("console", "GET"):                        "login ok    ok    ok    404   404   ok",
    ("console-complete", "POST"):              "login ok    ok    ok    404   404   ok",
    ("console-create", "POST"):                "login ok    ok    ok    404   404   ok",
    ("console-decide", "POST"):                "login ok    ok    ok    404   404   ok",
    ("console-dispatch", "POST"):              "login ok    ok    ok    404   404   ok",
    ("console-panel", "GET"):                  "login ok    ok    ok    404   404   ok",
    ("console-review", "POST"):                "login ok    ok    ok    404   404   ok",
    ("console-suggest", "POST"):               "login ok    ok    ok    404   404   ok",
    ("dispatch-queue", "GET"):                 "401   ok    ok    ok    403   403   ok",
    ("duplicate-preview", "POST"):             "401   ok    ok    ok    403   403   ok",
    ("export-metrics-csv", "GET"):             "401   ok    ok    ok    ok    ok    ok",
    ("export-tickets-csv", "GET"):             "401   ok    ok    ok    ok    ok    ok",
    ("export-tickets-xlsx", "GET"):            "401   ok    ok    ok    ok    ok    ok",
    ("home", "GET"):                           "ok    ok    ok    ok    ok    ok    ok",
    ("hotspot-alert-list", "GET"):             "401   ok    ok    ok    403   403   ok",
    ("hotspot-list", "GET"):                   "401   ok    ok    ok    403   403   ok",
    ("kb-article-detail", "GET"):              "401   404   404   404   404   404   404",
    ("kb-article-list", "GET"):                "401   ok    ok    ok    ok    ok    ok",
    ("kb-article-list", "POST"):               "401   403   ok    ok    403   403   ok",
    ("kb-proposal-decide", "POST"):            "401   403   ok    ok    403   403   ok",
    ("kb-proposal-list", "GET"):               "401   ok    ok    ok    ok    ok    ok",
    ("kb-proposal-list", "POST"):              "401   403   403   403   ok    404   403",
    ("kb-search", "GET"):                      "401   ok    ok    ok    ok    ok    ok",
    ("live-events", "GET"):                    "401   ok    ok    ok    ok    ok    ok",
    ("healthz", "GET"):                        "ok    ok    ok    ok    ok    ok    ok",
    ("readyz", "GET"):                         "ok    ok    ok    ok    ok    ok    ok",
    ("login", "GET"):                          "ok    ok    ok    ok    ok    ok    ok",
    ("login", "POST"):                         "ok    ok    ok    ok    ok    ok    ok",
    ("logout", "POST"):                        "login login login login login login login",
    ("me", "GET"):                             "401   ok    ok    ok    ok    ok    ok",
    ("metrics-ranking", "GET"):                "401   ok    ok    ok    ok    ok    ok",
    ("metrics-units", "GET"):                  "401   ok    ok    ok    ok    ok    ok",
    ("open311-discovery", "GET"):              "ok    ok    ok    ok    ok    ok    ok",
    ("open311-discovery", "POST"):             "ok    ok    ok    ok    ok    ok    ok",
    ("open311-request", "GET"):                "404   404   404   404   404   404   404",
    ("open311-requests", "GET"):               "ok    ok    ok    ok    ok    ok    ok",
    ("open311-requests", "POST"):              "403   403   403   403   403   403   403",
    ("open311-services", "GET"):               "ok    ok    ok    ok    ok    ok    ok",
    ("rating-callback-queue", "GET"):          "401   ok    403   ok    403   403   ok",
    ("rating-callback-record", "POST"):        "401   ok    403   ok    403   403   ok",
    ("rating-decide", "POST"):                 "401   403   403   ok    403   403   ok",
    ("rating-dissatisfied", "GET"):            "401   403   403   ok    403   403   ok",
    ("repeat-call-rate", "GET"):               "401   ok    ok    ok    403   403   ok",
    ("routing-rule-list", "GET"):              "401   ok    ok    ok    ok    ok    ok",
    ("schema", "GET"):                         "ok    ok    ok    ok    ok    ok    ok",
    ("sms-outbox", "GET"):                     "login ok    ok    ok    403   403   ok",
    ("sms-outbox", "POST"):                    "login ok    ok    ok    403   403   ok",
    ("supervision-board", "GET"):              "401   403   ok    ok    403   403   ok",
    ("supervision-requests", "GET"):           "401   403   ok    ok    403   403   ok",
    ("ticket-answer-directly", "POST"):        "401   ok    ok    403   403   403   ok",
    ("ticket-close", "POST"):                  "401   ok    ok    ok    403   403   ok",
    ("ticket-complete", "POST"):               "401   ok    ok    403   403   403   ok",
    ("ticket-detail", "GET"):                  "401   ok    ok    ok    ok    404   ok",
    ("ticket-dispatch", "POST"):               "401   ok    ok    403   403   403   ok",
    ("ticket-duplicate-confirm", "POST"):      "401   ok    ok    ok    403   403   ok",
    ("ticket-duplicates", "GET"):              "401   ok    ok    ok    403   403   ok",
    ("ticket-flag", "POST"):                   "401   403   403   ok    403   403   ok",
    ("ticket-history", "GET"):                 "401   ok    ok    ok    ok    404   ok",
    ("ticket-list", "GET"):                    "401   ok    ok    ok    ok    ok    ok",
    ("ticket-list", "POST"):                   "401   ok    ok    ok    403   403   ok",
    ("ticket-merge", "POST"):                  "401   ok    ok    403   403   403   ok",
    ("ticket-out-of-scope", "POST"):           "401   ok    ok    403   403   403   ok",
    ("ticket-reopen", "POST"):                 "401   403   ok    ok    403   403   ok",
    ("ticket-reveal-phone", "POST"):           "401   ok    ok    ok    ok    404   ok",
    ("ticket-review", "POST"):                 "401   403   ok    ok    403   403   ok",
    ("ticket-supervise", "POST"):              "401   403   403   ok    403   403   ok",
    ("ticket-unflag", "POST"):                 "401   403   403   ok    403   403   ok",
    ("ticket-unmerge", "POST"):                "401   ok    ok    403   403   403   ok",
    ("twilio-sms", "POST"):                    "403   403   403   403   403   403   403",
    ("twilio-sms-status", "POST"):             "403   403   403   403   403   403   403",
    ("twilio-voice", "POST"):                  "403   403   403   403   403   403   403",
    ("twilio-voice-gather", "POST"):           "403   403   403   403   403   403   403",
    ("twilio-voice-recording", "POST"):        "403   403   403   403   403   403   403",
    ("twilio-voice-status", "POST"):           "403   403   403   403   403   403   403",
    ("unit-action", "POST"):                   "login 404   404   404   ok    404   ok",
    ("unit-inbox", "GET"):                     "login 404   404   404   ok    ok    ok",
    ("unit-inbox-fragment", "GET"):            "login 404   404   404   ok    ok    ok",
    ("unit-list", "GET"):                      "401   ok    ok    ok    ok    ok    ok",
    ("unit-ticket", "GET"):                    "login ok    ok    ok    ok    404   ok",
    ("unit-reveal", "POST"):                   "login 404   404   404   ok    404   ok",
    ("board-rating-decide", "POST"):           "login 404   404   404   404   404   404",
    ("board-ratings", "GET"):                  "login 404   404   ok    404   404   ok",
    ("board-scorecards", "GET"):               "login ok    ok    ok    404   404   ok",
    ("board-unit-tickets", "GET"):             "login ok    ok    ok    404   404   ok",
    ("console-answer", "POST"):                "login ok    ok    ok    404   404   ok",
    ("console-assist", "POST"):                "login ok    ok    ok    404   404   ok",
    ("console-kb", "POST"):                    "login ok    ok    ok    404   404   ok",
    ("console-out-of-scope", "POST"):          "login ok    ok    ok    404   404   ok",
    ("console-ticket-out-of-scope", "POST"):   "login ok    ok    ok    404   404   ok",
    ("console-callback-record", "POST"):       "login 404   404   404   404   404   404",
    ("job-start", "POST"):                     "login 404   404   ok    404   404   ok",
    ("job-status", "GET"):                     "login 404   404   404   404   404   404",
    ("jobs", "GET"):                           "login 404   404   ok    404   404   ok",
    ("ticket-search", "GET"):                  "login ok    ok    ok    ok    ok    ok",
    ("ticket-search-export", "GET"):           "login ok    ok    ok    ok    ok    ok",
    ("ticket-bulk", "POST"):                   "login ok    ok    ok    404   404   ok",
    ("saved-view-create", "POST"):             "login ok    ok    ok    ok    ok    ok",
    ("saved-view-delete", "POST"):             "login ok    ok    ok    ok    ok    ok",
    ("hotspots", "GET"):                       "login ok    ok    ok    404   404   ok",
    ("hotspots-alerts", "GET"):                "login ok    ok    ok    404   404   ok",
    ("hotspots-scan", "POST"):                 "login 404   404   ok    404   404   ok",
    ("kb-page", "GET"):                        "login ok    ok    ok    404   404   ok",
    ("kb-page-article-new", "GET"):            "login ok    ok    ok    404   404   ok",
    ("kb-page-article-new", "POST"):           "login ok    ok    ok    404   404   ok",
    ("kb-page-article-edit", "GET"):           "login 404   404   404   404   404   404",
    ("kb-page-proposal-decide", "POST"):       "login 404   404   404   404   404   404",
    ("metrics-trends", "GET"):                 "401   ok    ok    ok    ok    ok    ok",
    ("board-callcentre", "GET"):                "login 404   404   ok    404   404   ok",
    ("board-callcentre-data", "GET"):           "login 404   404   ok    404   404   ok",
    ("callback-dial", "POST"):                 "login 404   404   404   404   404   404",
    ("console-callback-done", "POST"):         "login 404   404   404   404   404   404",
    ("callcentre-callback", "POST"):           "403   403   403   403   403   403   403",
    ("callcentre-callback-done", "POST"):      "403   403   403   403   403   403   403",
    ("callcentre-voice", "POST"):               "403   403   403   403   403   403   403",
    ("callcentre-choose", "POST"):              "403   403   403   403   403   403   403",
    ("callcentre-wait", "POST"):                "403   403   403   403   403   403   403",
    ("callcentre-seat", "POST"):                "403   403   403   403   403   403   403",
    ("callcentre-seat-status", "POST"):         "403   403   403   403   403   403   403",
    ("callcentre-bridge", "POST"):              "403   403   403   403   403   403   403",
    ("callcentre-dial", "POST"):                "403   403   403   403   403   403   403",
    ("callcentre-recording", "POST"):           "403   403   403   403   403   403   403",
    ("callcentre-left", "POST"):                "403   403   403   403   403   403   403",
    ("recording-audio", "GET"):                 "login 404   404   404   404   404   404",
    ("seat-call", "GET"):                       "login ok    ok    ok    404   404   ok",
    ("seat-link", "POST"):                     "login ok    ok    ok    404   404   ok",
    ("seat-transfer", "POST"):                 "login ok    ok    ok    404   404   ok",
    ("seat-conference", "POST"):               "login ok    ok    ok    404   404   ok",
    ("seat-simulate", "POST"):                  "login 404   404   404   404   404   404",
    ("seat-state", "POST"):                     "login ok    ok    ok    404   404   ok",
    ("seat-token", "GET"):                      "login ok    ok    ok    404   404   ok",
    ("ticket-page", "GET"):                    "login ok    ok    ok    ok    404   ok",
    ("ticket-print", "GET"):                   "login ok    ok    ok    ok    404   ok",
    ("ticket-compare", "GET"):                 "login ok    ok    ok    404   404   ok",
    ("ticket-page-merge", "POST"):             "login ok    ok    ok    404   404   ok",
    ("ticket-page-unmerge", "POST"):           "login ok    ok    ok    404   404   ok",
    ("ticket-page-note", "POST"):              "login ok    ok    ok    ok    404   ok",
    ("ticket-page-kb-proposal", "POST"):       "login 404   404   404   ok    404   ok",
    ("attachment-file", "GET"):                "login 404   404   404   404   404   404",
    ("recording-open", "GET"):                 "login 404   404   404   404   404   404",
    ("ticket-notes", "GET"):                   "401   ok    ok    ok    ok    404   ok",
    ("ticket-notes", "POST"):                  "401   ok    ok    ok    ok    404   ok",
}
# fmt: on


def _routes() -> dict[str, str]:
    """name → route pattern for every named URL of the project (admin and static excluded)."""
    found: dict[str, str] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("admin/"):
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                found[p.name] = prefix + str(p.pattern)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_route_has_a_row() -> None:
    decided = {name for name, _ in MATRIX}
    missing = sorted(set(_routes()) - decided)
    stale = sorted(decided - set(_routes()))
    assert (missing, stale) == ([], [])


# Valid bodies where the input is checked before the object is looked up, so the answer is about
# authorisation and not about a missing field.
BODIES: dict[str, dict[str, object]] = {
    "assignment-reply": {"text": "已按规定办理完毕，已电话告知市民。"},
    "assignment-request-extension": {"until": "2030-01-01T00:00:00Z", "reason": "需要现场勘查"},
    "assignment-request-return": {"reason": "不属于本单位职责", "legal_basis": "三定方案"},
    "assignment-redispatch": {"child_unit": 1},
    "assignment-pause-clock": {"reason": "等待市民补充材料"},
    "kb-article-list": {"question": "如何办理社保卡？", "answer": "携带身份证到社保中心办理。"},
    "kb-proposal-list": {"ticket": "<ticket>", "question": "如何办理社保卡？", "answer": "携带身份证到社保中心办理。"},
}
MISSING = 999999


def _url(route: str, ids: dict[str, object]) -> str:
    route = route.replace("^", "").replace("$", "").replace("\\.", ".")
    route = re.sub(r"\(\?P<fmt>[^)]*\)", "json", route)
    route = re.sub(r"\(\?P<request_id>[^)]*\)", str(ids["number"]), route)
    action = "sign" if route.startswith("unit/") else "flag"
    values = {
        **ids,
        **{"code": "rsj", "kind": "calendar", "call_sid": "CA0000", "panel": "queue", "step": "ring"},
        "other_id": ids["ticket_id"],
        **{"what": "return", "action": action, "token": "bogus"},
    }
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), MISSING)), route)


def _outcome(response: Any) -> str:
    if response.status_code in (301, 302) and "/login/" in response.get("Location", ""):
        return "login"
    return str(response.status_code) if response.status_code in (401, 403, 404, 405) else "ok"


def _ask(role: str, method: str, url: str, body: dict[str, object], *, form: bool = False) -> Any:
    client = Client()
    if role != "anon":
        client.force_login(User.objects.get(username=USERS[role]))
    if method == "GET":
        return client.get(url)
    if form:  # GeoReport files requests as a form (a JSON body is a 415 before any key is read)
        return client.post(url, data=body)
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{m} {n}" for n, m in MATRIX])
def test_each_role_is_allowed_or_refused_as_the_matrix_says(units: Any, name: str, method: str) -> None:
    ticket, assignment = dispatched(units["rsj"])  # rsj_staff's own; zjj_staff's "another unit"
    ids: dict[str, object] = {"ticket_id": ticket.pk, "assignment_id": assignment.pk, "number": ticket.number}
    url = _url(_routes()[name], ids)
    body = {k: (ticket.pk if v == "<ticket>" else v) for k, v in BODIES.get(name, {}).items()}
    expected = dict(zip(ROLES, MATRIX[(name, method)].split(), strict=True))
    actual = {role: _outcome(_ask(role, method, url, body, form=name.startswith("open311"))) for role in ROLES}
    assert actual == expected
    if expected["other"] == "404" and str(ticket.pk) in url:
        # another unit's object is indistinguishable from one that does not exist
        gone = _url(_routes()[name], {**ids, "ticket_id": MISSING, "assignment_id": MISSING})
        assert _outcome(_ask("other", method, gone, body)) == "404"
