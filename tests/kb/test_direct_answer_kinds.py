"""直接答复 of a 投诉 or 举报 needs the operator's explicit confirmation (domain.md §3: a complaint or a
report normally goes to the responsible unit, 按责转办; a 咨询 is answered from the knowledge base).

Without `confirm_kind` the answer is refused (400, field confirm_kind) and nothing changes; with it the
ticket closes and its event records the confirmation for the supervisor. Other kinds as before.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tickets.core.actors import Actor
from tickets.core.models import Kind, Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.errors import InvalidInput, TransitionNotAllowed
from tickets.knowledge.models import KbArticle
from tickets.knowledge.services import articles
from tickets.messaging.models import SmsMessage
from tickets.org.models import User

NOW = "2026-03-02 10:00 +0800"
REFUSAL = "投诉、举报类诉求一般应转办承办单位；确需直接答复的，请勾选确认"


def _operator() -> Actor:
    return Actor.of(User.objects.get(username="operator1"))


def _unchanged(ticket: Ticket, events_before: int) -> None:
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.state, fresh.outcome, fresh.closed_at) == (ticket.state, ticket.outcome, ticket.closed_at)
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before
    assert not SmsMessage.objects.filter(ticket=ticket, purpose="answer").exists()


@pytest.mark.parametrize("kind", [Kind.COMPLAINT, Kind.REPORT])
def test_a_complaint_or_report_is_not_answered_directly_without_a_confirmation(make_ticket: Any, kind: str) -> None:
    ticket = make_ticket("小区物业乱收停车费，多次反映无人处理", kind=kind, citizen_phone="13900083352")
    before = ticket.events.count()
    with pytest.raises(InvalidInput) as refused:
        workflow.ticket_answer_directly(ticket=ticket, actor=_operator(), answer="已告知向物价部门反映")
    assert (refused.value.field, refused.value.rule) == ("confirm_kind", "direct_answer_needs_confirm")
    assert refused.value.message == REFUSAL
    _unchanged(ticket, before)


@pytest.mark.parametrize("kind", [Kind.COMPLAINT, Kind.REPORT])
def test_a_confirmed_direct_answer_of_a_complaint_or_report_is_recorded_as_deliberate(
    make_ticket: Any, kind: str
) -> None:
    ticket = make_ticket("小区物业乱收停车费，多次反映无人处理", kind=kind)
    workflow.ticket_answer_directly(ticket=ticket, actor=_operator(), answer="已告知向物价部门反映", confirm_kind=True)
    ticket.refresh_from_db()
    assert ticket.state == "answered_directly" and ticket.closed_at is not None
    event = ticket.events.get(action="answer_directly")
    assert event.data == {"article": None, "confirm_kind": True}


@pytest.mark.parametrize("kind", [Kind.CONSULT, Kind.HELP, Kind.SUGGESTION, Kind.PRAISE, Kind.OTHER])
def test_other_kinds_are_answered_directly_as_before(make_ticket: Any, kind: str) -> None:
    ticket = make_ticket("请问公积金怎么提取", kind=kind)
    workflow.ticket_answer_directly(ticket=ticket, actor=_operator(), answer="已告知提取条件")
    ticket.refresh_from_db()
    assert ticket.state == "answered_directly"
    assert ticket.events.get(action="answer_directly").data == {"article": None}  # nothing new on the event


def test_an_ended_complaint_is_refused_for_its_state_not_for_the_confirmation(make_ticket: Any) -> None:
    ticket = make_ticket("小区物业乱收停车费", kind=Kind.COMPLAINT)
    workflow.ticket_answer_directly(ticket=ticket, actor=_operator(), answer="已告知", confirm_kind=True)
    with pytest.raises(TransitionNotAllowed) as refused:
        workflow.ticket_answer_directly(ticket=ticket, actor=_operator(), answer="再次答复")
    assert refused.value.rule == "state:answer_directly"


@time_machine.travel(NOW, tick=False)
def test_the_api_refuses_an_unconfirmed_complaint_and_counts_no_article_use(
    kb_demo: int, api: Any, make_ticket: Any
) -> None:
    ticket = make_ticket("公积金中心不给我办理租房提取，态度很差", kind=Kind.COMPLAINT)
    article = KbArticle.objects.get(source_key="gjj-tiqu-zufang")
    before = ticket.events.count()
    url = f"/api/tickets/{ticket.pk}/answer-directly/"
    body = {"answer": "已按知识库口径告知租房提取条件", "article_id": article.pk}
    for sent in (body, {**body, "confirm_kind": False}):
        response = api("operator1").post(url, sent, format="json")
        assert response.status_code == 400
        assert response.json()["field"] == "confirm_kind"
        assert response.json()["rule"] == "direct_answer_needs_confirm"
        assert response.json()["detail"] == REFUSAL
    assert api("operator1").post(url, {**body, "confirm_kind": "yes"}, format="json").status_code == 400  # strict
    _unchanged(ticket, before)
    assert KbArticle.objects.get(pk=article.pk).usage_count == 0

    response = api("operator1").post(url, {**body, "confirm_kind": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "answered_directly"
    assert KbArticle.objects.get(pk=article.pk).usage_count == 1
    assert ticket.events.get(action="answer_directly").data == {"article": article.pk, "confirm_kind": True}


def test_the_api_answers_a_consultation_without_the_field(api: Any, make_ticket: Any) -> None:
    ticket = make_ticket("请问社保卡在哪里办理", kind=Kind.CONSULT)
    response = api("operator1").post(
        f"/api/tickets/{ticket.pk}/answer-directly/", {"answer": "携带身份证到社保中心办理。"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "answered_directly"


def test_the_openapi_schema_documents_confirm_kind(city: Any) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"]["/api/tickets/{ticket_id}/answer-directly/"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    answer = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    field = answer["properties"]["confirm_kind"]
    assert field["type"] == "boolean" and field["default"] is False
    assert "投诉" in field["description"] and "direct_answer_needs_confirm" in field["description"]
    assert "confirm_kind" not in answer.get("required", [])


# --- the console's 知识库直接答复 (the page, through the Django test client) -----------------------


def _console(client: Client) -> str:
    found = re.search(r'name="submission" value="([^"]+)"', client.get("/console/").content.decode())
    assert found is not None
    return found.group(1)


@time_machine.travel(NOW, tick=False)
def test_the_console_refuses_an_unconfirmed_complaint_and_keeps_what_was_typed(kb_demo: int) -> None:
    article = KbArticle.objects.get(source_key="gjj-tiqu-zufang")
    client = Client()
    client.force_login(User.objects.get(username="operator1"))
    call = {
        "kind": "complaint",
        "urgency": "normal",
        "text": "公积金中心不给我办理租房提取，窗口态度很差",
        "citizen_phone": "13900083352",
        "citizen_name": "王女士",
        "citizen_address": "东湖区新华路8号",
        "article_id": str(article.pk),
    }
    page = client.post("/console/tickets/answer/", {**call, "submission": _console(client)})
    assert page.status_code == 400
    html = page.content.decode()
    assert REFUSAL in html
    assert call["text"] in html and 'value="王女士"' in html and 'value="东湖区新华路8号"' in html
    assert re.search(r'<option value="complaint"\s+selected', html)  # the kind as chosen
    assert 'data-kinds="complaint report"' in html  # the confirmation panel asks for these kinds
    assert not Ticket.objects.exists()  # nothing stored, not even the call
    assert KbArticle.objects.get(pk=article.pk).usage_count == 0

    done = client.post(
        "/console/tickets/answer/", {**call, "confirm_kind": "1", "submission": _console(client)}, follow=True
    )
    assert "已按知识库直接答复并办结" in done.content.decode()
    ticket = Ticket.objects.get()
    assert ticket.state == "answered_directly" and ticket.kind == "complaint"
    assert ticket.events.get(action="answer_directly").data == {"article": article.pk, "confirm_kind": True}


@time_machine.travel(NOW, tick=False)
def test_the_console_answers_a_consultation_without_the_box(kb_demo: int) -> None:
    article = KbArticle.objects.get(source_key="gjj-tiqu-zufang")
    client = Client()
    client.force_login(User.objects.get(username="operator1"))
    call = {"kind": "consult", "urgency": "normal", "text": "请问租房能不能提取公积金", "article_id": str(article.pk)}
    done = client.post("/console/tickets/answer/", {**call, "submission": _console(client)}, follow=True)
    assert "已按知识库直接答复并办结" in done.content.decode()
    ticket = Ticket.objects.get()
    assert ticket.state == "answered_directly"
    assert ticket.events.get(action="answer_directly").data == {"article": article.pk}
    articles.kb_index_invalidate()


def test_the_ticket_history_tells_a_supervisor_the_direct_answer_was_confirmed(make_ticket: Any) -> None:
    confirmed = make_ticket("小区物业乱收停车费，多次反映无人处理", kind=Kind.COMPLAINT)
    workflow.ticket_answer_directly(
        ticket=confirmed, actor=_operator(), answer="已告知向物价部门反映", confirm_kind=True
    )
    consult = make_ticket("请问公积金怎么提取", kind=Kind.CONSULT)
    workflow.ticket_answer_directly(ticket=consult, actor=_operator(), answer="已告知提取条件")
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    line = "投诉、举报类诉求：经确认直接答复，不转办"
    assert line in client.get(f"/tickets/{confirmed.pk}/").content.decode()
    assert line not in client.get(f"/tickets/{consult.pk}/").content.decode()
