"""After answering a 咨询, a unit proposes an article; a centre reviewer approves or rejects it."""

from __future__ import annotations

import pytest

from tests.tickets.helpers import dispatched, staff
from tickets.core.actors import Actor
from tickets.core.services import workflow
from tickets.knowledge.models import KbArticle, KbProposal

PROPOSAL = {
    "question": "电动自行车上牌需要什么材料？",
    "answer": "携带身份证、购车发票和车辆合格证，到区交警大队车管窗口或指定销售网点办理上牌。",
    "keywords": "电动车 上牌 登记",
}


@pytest.fixture
def answered_consult(units):  # type: ignore[no-untyped-def]
    ticket, assignment = dispatched(units["jtysj"], kind="consult", text="电动自行车上牌要带什么？")
    actor = Actor.of(staff(units["jtysj"]))
    assignment = workflow.assignment_sign(assignment=assignment, actor=actor)
    workflow.assignment_reply(assignment=assignment, actor=actor, text="已电话告知所需材料")
    return ticket


def test_a_unit_proposes_after_answering_and_a_reviewer_approves(answered_consult, api, units) -> None:  # type: ignore[no-untyped-def]
    response = api("jtysj_staff").post("/api/kb/proposals/", {"ticket": answered_consult.pk, **PROPOSAL}, format="json")
    assert response.status_code == 201, response.json()
    proposal_id = response.json()["id"]
    assert (
        api("operator1").post(f"/api/kb/proposals/{proposal_id}/decide/", {"approve": True}, format="json").status_code
        == 403
    )
    response = api("dispatcher1").post(f"/api/kb/proposals/{proposal_id}/decide/", {"approve": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "approved"
    article = KbArticle.objects.get(question=PROPOSAL["question"])
    assert article.owning_unit == units["jtysj"] and article.version == 1
    assert article.versions.get().note.startswith("采纳工单")
    again = api("supervisor1").post(
        f"/api/kb/proposals/{proposal_id}/decide/", {"approve": False, "reason": "x"}, format="json"
    )
    assert again.status_code == 409
    assert answered_consult.events.filter(action="kb_proposal_decided").exists()


def test_a_change_proposal_becomes_a_new_version(answered_consult, api, kb_demo) -> None:  # type: ignore[no-untyped-def]
    article = KbArticle.objects.get(source_key="jt-jiaotongka")
    response = api("jtysj_staff").post(
        "/api/kb/proposals/",
        {"ticket": answered_consult.pk, "article": article.pk, **PROPOSAL, "question": article.question},
        format="json",
    )
    assert response.status_code == 201, response.json()
    api("supervisor1").post(f"/api/kb/proposals/{response.json()['id']}/decide/", {"approve": True}, format="json")
    article.refresh_from_db()
    assert article.version == 2 and article.answer == PROPOSAL["answer"]
    assert KbProposal.objects.get().resulting_version.version == 2


def test_rejecting_needs_a_reason(answered_consult, api) -> None:  # type: ignore[no-untyped-def]
    proposal_id = (
        api("jtysj_staff")
        .post("/api/kb/proposals/", {"ticket": answered_consult.pk, **PROPOSAL}, format="json")
        .json()["id"]
    )
    assert (
        api("dispatcher1")
        .post(f"/api/kb/proposals/{proposal_id}/decide/", {"approve": False}, format="json")
        .status_code
        == 400
    )
    response = api("dispatcher1").post(
        f"/api/kb/proposals/{proposal_id}/decide/", {"approve": False, "reason": "与现有条目重复"}, format="json"
    )
    assert response.json()["state"] == "rejected"
    assert not KbArticle.objects.filter(question=PROPOSAL["question"]).exists()


def test_only_after_the_unit_answered_a_consultation(units, api) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = dispatched(units["jtysj"], kind="consult", text="电动自行车上牌要带什么？")
    response = api("jtysj_staff").post("/api/kb/proposals/", {"ticket": ticket.pk, **PROPOSAL}, format="json")
    assert response.status_code == 409 and response.json()["rule"] == "kb_after_reply"
    complaint, _ = dispatched(units["jtysj"], text="公交车司机态度恶劣")
    response = api("jtysj_staff").post("/api/kb/proposals/", {"ticket": complaint.pk, **PROPOSAL}, format="json")
    assert response.status_code == 400 and response.json()["rule"] == "kb_consult_only"
    # Another unit cannot even see the ticket.
    response = api("rsj_staff").post("/api/kb/proposals/", {"ticket": ticket.pk, **PROPOSAL}, format="json")
    assert response.status_code == 404
    # The centre does not propose; it decides.
    response = api("operator1").post("/api/kb/proposals/", {"ticket": ticket.pk, **PROPOSAL}, format="json")
    assert response.status_code == 403


def test_a_second_proposal_while_one_is_pending_is_refused(answered_consult, api) -> None:  # type: ignore[no-untyped-def]
    """Two clicks, or two clerks of one unit, must not leave the centre two copies to judge."""
    clerk = api("jtysj_staff")
    first = clerk.post("/api/kb/proposals/", {"ticket": answered_consult.pk, **PROPOSAL}, format="json")
    second = clerk.post("/api/kb/proposals/", {"ticket": answered_consult.pk, **PROPOSAL}, format="json")
    assert first.status_code == 201
    assert second.status_code == 409 and second.json()["rule"] == "kb_proposal_pending"
    assert KbProposal.objects.filter(ticket=answered_consult).count() == 1
    api("dispatcher1").post(
        f"/api/kb/proposals/{first.json()['id']}/decide/", {"approve": False, "reason": "口径需更新"}, format="json"
    )
    after = clerk.post("/api/kb/proposals/", {"ticket": answered_consult.pk, **PROPOSAL}, format="json")
    assert after.status_code == 201
