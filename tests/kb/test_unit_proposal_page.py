"""建议纳入知识库 from the ticket page: the clerk of the unit that answered a 咨询 proposes an article
without the API, the centre sees it on /kb/; refusals come back as typed, nothing stored; other
units and the centre cannot post it. Through Django's test client (the browser test is in
tests/ui/test_unit_kb_proposal.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.tickets.helpers import dispatched, staff
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.knowledge import selectors
from tickets.knowledge.models import KbProposal, ProposalState
from tickets.org.models import User

pytestmark = pytest.mark.django_db

REPLY = "经核实，社保卡补办可携带身份证到任一社保经办网点办理，当场制卡。"
PROPOSAL = {
    "question": "社保卡丢失后如何补办？",
    "answer": "携带本人身份证到任一社保经办网点办理挂失补办，当场制卡，工本费免收。",
    "keywords": "社保卡 补办 挂失",
    "valid_until": "",
}


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _answered_consult(units: Any, reply: str = REPLY, **kwargs: Any) -> Ticket:
    """A 咨询 ticket dispatched to 市人社局, signed and replied (办复) by its clerk."""
    kwargs.setdefault("text", "社保卡丢了怎么补办？需要带什么材料？")
    ticket, assignment = dispatched(units["rsj"], kind="consult", **kwargs)
    actor = Actor.of(staff(units["rsj"]))
    assignment = workflow.assignment_sign(assignment=assignment, actor=actor)
    workflow.assignment_reply(assignment=assignment, actor=actor, text=reply)
    return ticket


def _section(body: str) -> str:
    found = re.search(r'<section[^>]*data-testid="kb-proposal".*?</section>', body, re.S)
    return found.group(0) if found else ""


def test_the_form_is_for_the_clerk_of_the_unit_on_the_ticket_prefilled_from_title_and_reply(units: Any) -> None:
    ticket = _answered_consult(units)
    body = _client("rsj_staff").get(f"/tickets/{ticket.pk}/").content.decode()
    section = _section(body)
    assert "建议纳入知识库" in section and "<details" in section and "<details open" not in section
    assert 'name="question"' in section and 'name="answer"' in section and 'name="valid_until"' in section
    assert "社保卡丢了怎么补办" in section  # the question from the ticket's title
    assert REPLY in section  # the answer from the unit's 办复
    # Not for another unit's clerk (the page itself is a 404), the operator, the supervisor.
    assert _client("wjw_staff").get(f"/tickets/{ticket.pk}/").status_code == 404
    for who in ("operator1", "supervisor1"):
        page = _client(who).get(f"/tickets/{ticket.pk}/")
        assert page.status_code == 200 and 'data-testid="kb-proposal"' not in page.content.decode()
    # Not on a complaint: the knowledge base takes 咨询 only.
    complaint, _a = dispatched(units["rsj"], text="用人单位拖欠工资三个月")
    body = _client("rsj_staff").get(f"/tickets/{complaint.pk}/").content.decode()
    assert 'data-testid="kb-proposal"' not in body


def test_before_the_reply_the_section_says_it_waits_for_the_reply(units: Any) -> None:
    ticket, _a = dispatched(units["rsj"], kind="consult", text="失业金怎么申领？")
    section = _section(_client("rsj_staff").get(f"/tickets/{ticket.pk}/").content.decode())
    assert "本单位办复后才能提交" in section
    answer = _client("rsj_staff").post(f"/tickets/{ticket.pk}/kb-proposal/", PROPOSAL, follow=True)
    assert answer.status_code == 200 and "本单位办复该工单后才能提出知识库建议" in answer.content.decode()
    assert not KbProposal.objects.exists()


def test_the_prefill_carries_no_name_number_or_address_of_the_citizen(units: Any) -> None:
    ticket = _answered_consult(
        units,
        text="张先生13812341234问演示市东湖区新华路1号附近社保网点",
        reply="已致电张先生（138-1234-1234），告知演示市东湖区新华路1号附近的社保网点地址。",
    )
    section = _section(_client("rsj_staff").get(f"/tickets/{ticket.pk}/").content.decode())
    assert "告知" in section and "社保网点" in section
    # The ticket's own values, however written (a place merely described is not the citizen's).
    for leak in ("张先生", "13812341234", "138-1234-1234", "1234", "东湖区新华路1号", "138****"):
        assert leak not in section, leak


def test_a_valid_proposal_is_stored_once_pending_and_the_centre_sees_it_on_kb(units: Any) -> None:
    ticket = _answered_consult(units)
    until = (timezone.localdate() + timedelta(days=365)).isoformat()
    answer = _client("rsj_staff").post(f"/tickets/{ticket.pk}/kb-proposal/", {**PROPOSAL, "valid_until": until})
    assert answer.status_code == 302 and answer["Location"] == f"/tickets/{ticket.pk}/"
    proposal = KbProposal.objects.get()
    assert (proposal.ticket_id, proposal.unit, proposal.state) == (ticket.pk, units["rsj"], ProposalState.PENDING)
    assert proposal.question == PROPOSAL["question"] and proposal.valid_until.isoformat() == until
    assert proposal.proposed_by.username == "rsj_staff" and proposal.keywords == PROPOSAL["keywords"]
    assert ticket.events.filter(action="kb_proposed").count() == 1
    # The selectors: the centre and the proposing unit see it, another unit does not.
    assert list(selectors.kb_proposals_for(User.objects.get(username="supervisor1"))) == [proposal]
    assert list(selectors.kb_proposals_for(User.objects.get(username="rsj_staff"))) == [proposal]
    assert not selectors.kb_proposals_for(User.objects.get(username="wjw_staff")).exists()
    # The ticket page then says one is pending (so the clerk does not send it twice).
    clerk = _client("rsj_staff")
    body = clerk.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "待热线中心审核，无需重复提交" in _section(body)
    # The supervisor's 知识库管理 lists it, with a link to the ticket, and may decide it.
    kb = _client("supervisor1").get("/kb/").content.decode()
    assert PROPOSAL["question"] in kb and ticket.number in kb and "市人社局" in kb
    _client("supervisor1").post(f"/kb/proposals/{proposal.pk}/decide/", {"decision": "approve"})
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.APPROVED
    assert "已被热线中心采纳" in _section(clerk.get(f"/tickets/{ticket.pk}/").content.decode())


def test_the_success_message_is_shown_on_the_ticket_page(units: Any) -> None:
    ticket = _answered_consult(units)
    answer = _client("rsj_staff").post(f"/tickets/{ticket.pk}/kb-proposal/", PROPOSAL, follow=True)
    body = answer.content.decode()
    assert answer.redirect_chain == [(f"/tickets/{ticket.pk}/", 302)]
    assert "已提交知识库建议，待热线中心审核" in body
    assert KbProposal.objects.filter(ticket=ticket, state=ProposalState.PENDING).count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"question": "   "}, "question", "请填写问题"),
        ({"answer": ""}, "answer", "请填写答复口径"),
        ({"question": "问" * 201}, "question", "问题不能超过 200 个字"),
        ({"keywords": "词" * 201}, "keywords", "关键词不能超过 200 个字"),
        ({"valid_until": "2020-01-01"}, "valid_until", "失效日期不能早于生效日期"),
        ({"valid_until": "明年"}, "valid_until", "失效日期格式应为 年-月-日"),
        ({"question": "社保卡\x00补办"}, "question", "问题包含不允许的空字符"),
    ],
)
def test_a_refusal_comes_back_as_typed_with_the_field_marked_and_nothing_stored(
    units: Any, change: dict[str, str], field: str, message: str
) -> None:
    ticket = _answered_consult(units)
    typed = {**PROPOSAL, "answer": "这是办事员自己写的答复口径，不能丢。", **change}
    answer = _client("rsj_staff").post(f"/tickets/{ticket.pk}/kb-proposal/", typed, follow=True)
    assert answer.status_code == 200
    assert answer.redirect_chain == [(f"/tickets/{ticket.pk}/", 302)]
    body = answer.content.decode()
    section = _section(body)
    assert message in body
    assert "<details open" in section  # the form is open again, as typed
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', section), field
    assert section.count('aria-invalid="true"') == 1
    if field != "answer":
        assert "这是办事员自己写的答复口径，不能丢。" in section
    assert not KbProposal.objects.exists()
    assert not ticket.events.filter(action="kb_proposed").exists()
    # Shown once: the next visit has the prefilled form again.
    again = _section(_client("rsj_staff").get(f"/tickets/{ticket.pk}/").content.decode())
    assert "aria-invalid" not in again


def test_only_the_unit_on_the_ticket_may_post(units: Any) -> None:
    ticket = _answered_consult(units)
    assert _client("wjw_staff").post(f"/tickets/{ticket.pk}/kb-proposal/", PROPOSAL).status_code == 404
    assert _client("donghu_staff").post(f"/tickets/{ticket.pk}/kb-proposal/", PROPOSAL).status_code == 404
    for who in ("operator1", "dispatcher1", "supervisor1"):
        assert _client(who).post(f"/tickets/{ticket.pk}/kb-proposal/", PROPOSAL).status_code == 404
    assert _client("rsj_staff").get(f"/tickets/{ticket.pk}/kb-proposal/").status_code == 405
    assert _client("rsj_staff").post("/tickets/999999999/kb-proposal/", PROPOSAL).status_code == 404
    anonymous = Client().post(f"/tickets/{ticket.pk}/kb-proposal/", PROPOSAL)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert not KbProposal.objects.exists()


def _article(question: str, answer: str, **fields: Any) -> Any:
    from tickets.knowledge.services import articles

    editor = Actor.of(User.objects.get(username="dispatcher1"))
    article = articles.kb_article_create(actor=editor, question=question, answer=answer, **fields)
    articles.kb_index_invalidate()  # the service does it on commit; the test's transaction never commits
    return article


def test_the_clerk_may_propose_a_change_to_the_article_already_answering_the_question(units: Any) -> None:
    """The centre already answers 社保卡补办 from an article: the form offers it, and a proposal made
    for it is a change to that article on /kb/, not a second article on the same matter."""
    same = _article("社保卡丢失怎么补办？", "携带身份证到社保经办网点补办。", keywords="社保卡 补办")
    _article("公积金如何提取？", "持身份证和购房合同到公积金中心办理。", keywords="公积金 提取")
    _article("营业执照遗失怎么补办？", "到市场监管局窗口申请补领。", keywords="营业执照")  # 怎么补办 alone: far off
    ticket = _answered_consult(units)
    client = _client("rsj_staff")

    section = _section(client.get(f"/tickets/{ticket.pk}/").content.decode())
    assert "修改已有知识：社保卡丢失怎么补办？" in section
    assert "公积金如何提取" not in section and "营业执照" not in section
    assert re.search(r'name="article" value=""\s+checked', section)  # a new article unless chosen

    answer = client.post(f"/tickets/{ticket.pk}/kb-proposal/", {**PROPOSAL, "article": str(same.pk)}, follow=True)
    assert "已提交知识库建议" in answer.content.decode()
    proposal = KbProposal.objects.get()
    assert proposal.article == same and proposal.state == ProposalState.PENDING
    kb = _client("dispatcher1").get("/kb/").content.decode()
    assert "修改“社保卡丢失怎么补办？”" in kb


@pytest.mark.parametrize("chosen", ["abc", "99999999999999999999", "withdrawn"])
def test_an_article_that_is_not_there_to_change_is_refused_as_typed(units: Any, chosen: str) -> None:
    gone = _article("社保卡过期怎么换？", "到社保经办网点换领。", valid_until=timezone.localdate() - timedelta(days=1),
                    valid_from=timezone.localdate() - timedelta(days=30))
    ticket = _answered_consult(units)
    value = str(gone.pk) if chosen == "withdrawn" else chosen
    answer = _client("rsj_staff").post(f"/tickets/{ticket.pk}/kb-proposal/", {**PROPOSAL, "article": value},
                                       follow=True)
    assert answer.status_code == 200 and "所选的已有知识不存在或已失效" in answer.content.decode()
    assert not KbProposal.objects.exists()
