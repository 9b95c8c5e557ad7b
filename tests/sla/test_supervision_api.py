"""The supervisor's side over the API: the board, pending requests, 挂牌督办, manual 督办,
pausing a clock, and supervisions shown on the ticket; problem tickets escalate on their own."""

from __future__ import annotations

import time_machine

from tests.sla.conftest import Dispatch, fresh, local, staff
from tickets.core.actors import Actor
from tickets.core.models import Ticket, TicketEvent
from tickets.core.services import workflow
from tickets.org.models import User
from tickets.sla.models import CityProfile
from tickets.supervision.models import Supervision, SupervisionLevel


def centre() -> Actor:
    return Actor.of(User.objects.get(username="dispatcher1"))


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def test_the_board_buckets_by_deadline_and_filters_by_unit_and_group(dispatch: Dispatch, api, units) -> None:
    overdue = dispatch(local(2025, 11, 3, 9, 0), unit="rsj")  # due Mon Nov 10
    today = dispatch(local(2025, 11, 4, 9, 0), unit="donghu")  # due Tue Nov 11
    tomorrow = dispatch(local(2025, 11, 5, 9, 0), unit="rsj")  # due Wed Nov 12
    client = api("supervisor1")
    with time_machine.travel(local(2025, 11, 11, 9, 0), tick=False):
        board = lambda q: numbers(client.get(f"/api/supervision/board/?{q}"))  # noqa: E731
        assert board("bucket=overdue") == [overdue.ticket.number]
        assert board("bucket=today") == [today.ticket.number]
        assert board("bucket=tomorrow") == [tomorrow.ticket.number]
        assert board(f"bucket=tomorrow&unit={units['donghu'].pk}") == []
        assert board(f"bucket=today&unit={units['donghu'].pk}") == [today.ticket.number]
        assert board("bucket=today&group=districts") == [today.ticket.number]
        assert board("bucket=overdue&group=districts") == []
        row = client.get("/api/supervision/board/?bucket=overdue").json()["results"][0]
        assert row["open_assignments"][0]["unit"]["code"] == "rsj"
        assert row["board_due_at"] is not None
        assert client.get("/api/supervision/board/?bucket=later").status_code == 400
        assert api("rsj_staff").get("/api/supervision/board/?bucket=overdue").status_code == 403


def test_flag_and_unflag_with_a_reason(dispatch: Dispatch, api) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    client = api("supervisor1")
    url = f"/api/tickets/{a.ticket_id}/"
    assert client.post(url + "flag/", {}, format="json").status_code == 400  # a reason is required
    response = client.post(url + "flag/", {"reason": "群众反映强烈，媒体关注"}, format="json")
    assert response.status_code == 200 and response.json()["is_flagged"] is True
    assert client.post(url + "flag/", {"reason": "再次"}, format="json").status_code == 409
    notice = Supervision.objects.get(ticket_id=a.ticket_id, level=SupervisionLevel.FLAGGED)
    assert "挂牌督办" in notice.text and notice.unit_id == a.unit_id
    flagged = TicketEvent.objects.filter(ticket_id=a.ticket_id, action="supervision.issued", data__level="flagged")
    assert flagged.count() == 1
    response = client.post(url + "unflag/", {"reason": "已办结"}, format="json")
    assert response.status_code == 200 and response.json()["is_flagged"] is False
    assert TicketEvent.objects.filter(ticket_id=a.ticket_id, action="supervision.unflagged").exists()
    assert api("dispatcher1").post(url + "flag/", {"reason": "x"}, format="json").status_code == 403


def test_manual_supervision_with_a_note_shows_on_the_ticket(dispatch: Dispatch, api) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    response = api("supervisor1").post(
        f"/api/tickets/{a.ticket_id}/supervise/", {"note": "请三日内反馈进展"}, format="json"
    )
    assert response.status_code == 200, response.content
    [issued] = response.json()
    assert issued["level"] == "manual" and "请三日内反馈进展" in issued["text"]
    assert issued["issued_by"] == "supervisor1"
    event = TicketEvent.objects.get(ticket_id=a.ticket_id, action="supervision.issued")
    assert event.data["supervision"] == issued["id"]
    detail = api("rsj_staff").get(f"/api/tickets/{a.ticket_id}/").json()
    assert [s["level"] for s in detail["supervisions"]] == ["manual"]
    assert "phone" not in detail["supervisions"][0]["recipients"][0]  # units do not see the numbers
    assert set(detail["time_split"]) == {"centre_seconds", "unit_seconds", "paused_seconds"}


def test_pending_requests_list(dispatch: Dispatch, api) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    b = dispatch(local(2025, 11, 3, 9, 0))
    unit = staff("rsj")
    with time_machine.travel(local(2025, 11, 4, 9, 0), tick=False):
        workflow.assignment_request_return(assignment=a, actor=unit, reason="不属本单位职责", legal_basis="三定方案")
        workflow.assignment_sign(assignment=b, actor=unit)
        workflow.assignment_request_extension(
            assignment=b, actor=unit, until=local(2025, 11, 14, 23, 59, 59), reason="需第三方检测"
        )
    client = api("dispatcher1")
    rows = client.get("/api/supervision/requests/").json()["results"]
    assert [(r["id"], r["state"]) for r in rows] == [(a.pk, "return_requested"), (b.pk, "extension_requested")]
    assert [r["id"] for r in client.get("/api/supervision/requests/?kind=extension").json()["results"]] == [b.pk]


def test_pause_and_resume_over_the_api(dispatch: Dispatch, api) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0))
    client = api("rsj_staff")
    with time_machine.travel(local(2025, 11, 4, 9, 0), tick=False):
        assert client.post(f"/api/assignments/{a.pk}/sign/").status_code == 200
        response = client.post(f"/api/assignments/{a.pk}/pause-clock/", {"reason": "等待群众补充材料"}, format="json")
        assert response.status_code == 200 and response.json()["clock_paused_at"] is not None
        assert (
            client.post(f"/api/assignments/{a.pk}/pause-clock/", {"reason": "再停"}, format="json").status_code == 409
        )
    with time_machine.travel(local(2025, 11, 5, 9, 0), tick=False):
        response = client.post(f"/api/assignments/{a.pk}/resume-clock/", {}, format="json")
    assert response.status_code == 200 and response.json()["paused_seconds"] == 86400
    assert (
        api("donghu_staff").post(f"/api/assignments/{a.pk}/pause-clock/", {"reason": "x"}, format="json").status_code
        == 404
    )


def test_three_units_without_a_lead_make_a_problem_ticket(dispatch: Dispatch, units) -> None:
    a = dispatch(local(2025, 11, 3, 9, 0), unit="rsj")
    for code, nxt in (("rsj", "zjj"), ("zjj", "scjgj"), ("scjgj", None)):
        with time_machine.travel(local(2025, 11, 3, 10, 0), tick=False):
            workflow.assignment_request_return(
                assignment=a, actor=staff(code), reason="非本单位职责", legal_basis="三定"
            )
            workflow.assignment_decide_return(
                assignment=a, actor=centre(), approve=True, redispatch_to=units[nxt] if nxt else None
            )
        ticket = Ticket.objects.get(pk=a.ticket_id)
        if nxt:
            assert not ticket.is_problem
            a = ticket.assignments.get(unit=units[nxt])
    assert ticket.is_problem
    event = TicketEvent.objects.get(ticket=ticket, action="escalated_problem")
    assert "3个单位" in event.reason
    assert Supervision.objects.filter(ticket=ticket, level=SupervisionLevel.ESCALATED).count() == 1


def test_reopened_three_times_is_a_problem_ticket_with_a_configurable_threshold(dispatch: Dispatch) -> None:
    CityProfile.objects.filter(is_active=True).update(problem_reopen_threshold=2)
    a = dispatch(local(2025, 11, 3, 9, 0))
    ticket = a.ticket
    for round_no in (1, 2):
        lead = ticket.assignments.filter(ended_at__isnull=True).get()
        workflow.assignment_sign(assignment=lead, actor=staff("rsj"))
        workflow.assignment_reply(assignment=lead, actor=staff("rsj"), text="已处理")
        workflow.ticket_review_reply(ticket=ticket, actor=centre(), accept=True)
        workflow.ticket_reopen(ticket=ticket, actor=centre(), reason="市民反映未解决")
        ticket.refresh_from_db()
        assert ticket.is_problem is (round_no == 2)
    assert "重办2次" in TicketEvent.objects.get(ticket=ticket, action="escalated_problem").reason
    assert fresh(ticket.assignments.filter(ended_at__isnull=True).get()).round == 3
