"""Every page a user reaches is in Chinese (issue 16, "Must show"): no English word outside the
product's proper names, no internal code (child_merged, sla.overdue) — on every page route read
from the URL resolver, as each role that may open it, on the 403/404/500/CSRF pages, and on the
admin index and every admin list.

What counts as text: what a reader sees (text nodes, the page title) and what a screen reader
says (title, aria-label, placeholder, alt, button values). Addresses are not words: URLs and
absolute paths are removed first (an SMS in the outbox quotes the status page's address).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from tests.tickets.helpers import dispatched, new_ticket
from tickets.core.actors import Actor
from tickets.core.services import workflow
from tickets.feedback.services import rating as rating_service
from tickets.jobs.models import BackgroundJob
from tickets.model_labels import missing_labels
from tickets.notes.services import ticket_note_add
from tickets.org.models import User
from tickets.pages.history import EVENT_LABELS, event_label
from tickets.supervision.services import supervision

pytestmark = pytest.mark.django_db

# The product's proper names and the file formats people know by these letters; nothing else.
ALLOWED = {
    "ECharts",  # the chart library credited on the scorecards (vendored, static/vendor/README)
    "Twilio",  # the SMS/phone provider named in the outbox's delivery status
    "SMS",  # how the provider's status reads on the outbox when it names the channel
    "TD",  # "回复TD退订": the opt-out keyword the citizen must type, fixed by the carriers
    "PDF",
    "JPG",
    "JPEG",
    "PNG",
    "GIF",
    "WEBP",  # attachment formats, as the upload fields name them
    "Excel",
    "CSV",
    "XLSX",  # export formats, as the export buttons name them
    "Open311",  # the channel name of tickets filed by partner systems through the Open311 standard
    "Enter",
    "Tab",
    "Esc",  # keys, as printed on the keyboard the operator presses ("受理（Enter）")
    "TOML",
    "JSON",  # the calendar file formats the import asks for
    "chinesecalendar",  # the package the working-day calendar is seeded from (domain.md §5), a source's name
    "year",
    "holidays",
    "makeup_workdays",
    "name",
    "dates",  # the calendar file's keys, which the jobs page's sample shows as the file must spell them
}
# Admin columns that hold identifiers an administrator types (login names, unit and category codes,
# key prefixes, call and message ids): data, not words of the interface.
IDENTIFIER_CELLS = re.compile(
    r"<t[dh][^>]*class=\"[^\"]*field-(?:username|code|prefix|key_prefix|call_sid|sid|twilio_sid)\b[^>]*>.*?</t[dh]>",
    re.S,
)
ROLES = {
    "operator": "operator1",
    "dispatcher": "dispatcher1",
    "supervisor": "supervisor1",
    "unit": "rsj_staff",
    "admin": "admin",
    "anon": None,
}
SKIP_PREFIXES = ("api/", "webhooks/", "open311/", "admin/", "healthz", "readyz", "static/", "media/")
HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1>", re.S | re.I)
COMMENT = re.compile(r"<!--.*?-->", re.S)
ATTRS = re.compile(r"""\b(?:title|aria-label|placeholder|alt)\s*=\s*(["'])(.*?)\1""", re.S | re.I)
BUTTON_VALUE = re.compile(r"""<input[^>]*type=["']?(?:submit|button)["']?[^>]*value=(["'])(.*?)\1""", re.I)
TAG = re.compile(r"<[^>]+>")
ADDRESS = re.compile(r"(?:https?://\S+|(?<![\w])/[\w\-./?=&%]+)")
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)*")


def visible_text(page: str) -> str:
    page = IDENTIFIER_CELLS.sub(" ", COMMENT.sub(" ", HIDDEN.sub(" ", page)))
    extra = [m.group(2) for m in ATTRS.finditer(page)] + [m.group(2) for m in BUTTON_VALUE.finditer(page)]
    text = " ".join([TAG.sub(" ", page), *extra])
    return ADDRESS.sub(" ", html.unescape(text))


def offending(page: str) -> list[str]:
    """English words and internal codes a reader would see."""
    found = []
    for token in TOKEN.findall(visible_text(page)):
        is_code = "_" in token or "." in token
        if token not in ALLOWED and (is_code or len(token) >= 2):
            found.append(token)
    return sorted(set(found))


def test_the_checker_catches_what_it_must() -> None:
    page = '<p title="Open ticket">历史：child_merged · sla.overdue</p><script>var englishIsFine;</script>'
    assert offending(page) == ["Open", "child_merged", "sla.overdue", "ticket"]
    assert offending("<p>请访问 http://127.0.0.1:8000/citizen/status/ 查询，回复TD退订；格式 PDF</p>") == []


def _seed(units: Any, cats: Any) -> dict[str, Any]:
    """Enough data that every page shows rows: a flagged and supervised ticket with a note, a
    merged pair, a 不满意 rating waiting for review, a finished background job."""
    ticket, assignment = dispatched(units["rsj"])
    sup = Actor.of(User.objects.get(username="supervisor1"))
    supervision.ticket_flag(ticket=ticket, actor=sup, reason="群众反映强烈")
    ticket_note_add(ticket=ticket, actor=Actor.of(User.objects.get(username="operator1")), text="请先电话联系市民")
    dispatcher = Actor.of(User.objects.get(username="dispatcher1"))
    child = new_ticket(auto_route=False, phone="13900002222")
    workflow.ticket_merge(ticket=child, master=ticket, actor=dispatcher, reason="同一事项")
    rated, rated_asg = dispatched(units["rsj"], phone="13900003333")
    clerk = Actor.of(User.objects.get(username="rsj_staff"))
    workflow.assignment_sign(assignment=rated_asg, actor=clerk)
    workflow.assignment_reply(assignment=rated_asg, actor=clerk, text="已处理")
    workflow.ticket_review_reply(ticket=rated, actor=dispatcher, accept=True, reason="")
    rated.refresh_from_db()
    made = rating_service.rating_record(
        ticket=rated, actor=Actor.citizen(), satisfaction="dissatisfied", channel="web", comment="没解决"
    )
    job = BackgroundJob.objects.create(
        kind="retrain", state="done", progress=100, message="完成", started_by=User.objects.get(username="admin")
    )
    return {
        "ticket_id": ticket.pk,
        "other_id": child.pk,
        "assignment_id": assignment.pk,
        "rating_id": getattr(made, "pk", made),
        "job_id": job.pk,
        "code": units["rsj"].code,
        "panel": "queue",
    }


def _page_routes() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if route.startswith(SKIP_PREFIXES):
                continue
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and p.name:
                found.append((p.name, route))

    walk(get_resolver().url_patterns, "")
    return found


def _url(route: str, ids: dict[str, Any]) -> str:
    values = {**ids, "token": "bogus", "what": "return", "action": "sign", "kind": "retrain"}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), 999999)), route)


def _client(username: str | None) -> Client:
    client = Client()
    if username:
        client.force_login(User.objects.get(username=username))
    return client


def test_every_page_a_user_reaches_is_chinese(units: Any, cats: Any) -> None:
    ids = _seed(units, cats)
    seen, problems = 0, {}
    for name, route in _page_routes():
        url = _url(route, ids)
        for role, username in ROLES.items():
            answer = _client(username).get(url)
            if answer.status_code != 200 or "html" not in answer.get("Content-Type", ""):
                continue
            seen += 1
            bad = offending(answer.content.decode())
            if bad:
                problems[f"{name} as {role} ({url})"] = bad
    assert seen >= 40, seen  # the walk reached the workspaces, not only login redirects
    assert problems == {}


def test_error_pages_are_chinese_and_say_what_to_do_next(units: Any) -> None:
    ticket, _a = dispatched(units["rsj"])
    pages = {
        "404 (another unit's ticket)": _client("zjj_staff").get(f"/tickets/{ticket.pk}/"),
        "404 (no such page)": _client("operator1").get("/no-such-page/"),
    }
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(User.objects.get(username="rsj_staff"))
    pages["403 (CSRF)"] = csrf.post(f"/unit/tickets/{ticket.pk}/sign/")
    factory = RequestFactory()
    from hotline import errors

    pages["403"] = errors.permission_denied(factory.get("/board/"), PermissionDenied())
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        pages["500"] = errors.server_error(factory.get("/board/"))
    for label, answer in pages.items():
        body = answer.content.decode()
        assert offending(body) == [], label
        assert "回到首页" in body, label  # a way back
        assert "接下来可以" in body, label  # what to do next
    assert pages["404 (another unit's ticket)"].status_code == 404


def test_the_admin_index_and_every_list_are_chinese(units: Any, cats: Any) -> None:
    _seed(units, cats)
    client = _client("admin")
    index = client.get("/admin/")
    body = index.content.decode()
    assert offending(body) == [] and "Django" not in body
    problems = {}
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        answer = client.get(url)
        assert answer.status_code == 200, url
        bad = offending(answer.content.decode())
        if bad:
            problems[url] = bad
    assert problems == {}


def test_every_model_and_field_has_a_chinese_name() -> None:
    from django.apps import apps

    assert missing_labels(apps.get_app_config("tickets").get_models()) == []


def test_every_event_the_services_write_has_a_chinese_label() -> None:
    """The actions in the code (event_record / _move callers, the scanner's levels) all have a
    label: a new action without one fails here instead of reaching a page as 其他操作."""
    from pathlib import Path

    from tickets.core.states import ASSIGNMENT_TRANSITIONS, TICKET_TRANSITIONS

    root = Path(__file__).resolve().parents[2] / "tickets"
    written = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'action="([a-z_.]+)"', text))
        written |= set(re.findall(r'"(sla\.[a-z_]+|supervision\.[a-z_]+|hotspot\.[a-z_]+)"', text))
    written |= {"rating_completed", "rating_reason_added"}
    written -= {"store_true"}  # argparse, not an event
    known = set(EVENT_LABELS) | set(TICKET_TRANSITIONS) | set(ASSIGNMENT_TRANSITIONS)
    assert sorted(written - known) == []
    assert event_label("supervision.issued", {"level": "flagged"}) == "挂牌督办"
    assert event_label("supervision.issued", {"level": "public_notice"}) == "通报"
    assert event_label("sla.overdue", {"level": "sign_reminder"}) == "催办签收"
    assert event_label("something_new") == "其他操作"
