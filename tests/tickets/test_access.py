"""Unit staff reach only their own (and descendants') tickets; citizen data is masked and reveals are audited."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets.core.models import TicketAccessLog, TicketEvent

from .helpers import dispatched, new_ticket


def test_a_unit_cannot_reach_another_units_ticket_by_any_door(api, units) -> None:
    mine, _ = dispatched(units["rsj"], text="人社局的工单：拖欠工资")
    theirs, their_assignment = dispatched(units["zjj"], text="住建局的工单：房屋漏水维修基金", phone="13900002222")
    rsj = api("rsj_staff")

    listed = [t["id"] for t in rsj.get("/api/tickets/").json()["results"]]
    assert listed == [mine.pk]
    assert rsj.get(f"/api/tickets/{theirs.pk}/").status_code == 404
    assert rsj.get(f"/api/tickets/{theirs.pk}/history/").status_code == 404
    assert rsj.get("/api/tickets/?q=维修基金").json()["results"] == []
    assert rsj.get(f"/api/tickets/?q={theirs.number}").json()["results"] == []
    assert rsj.post(f"/api/tickets/{theirs.pk}/reveal-phone/").status_code == 404
    assert rsj.post(f"/api/assignments/{their_assignment.pk}/sign/", {}, format="json").status_code == 404
    assert [a["id"] for a in rsj.get("/api/assignments/").json()["results"]] == [mine.assignments.get().pk]
    # and an id that does not exist at all answers the same way: no enumeration
    assert rsj.get("/api/tickets/999999/").status_code == 404


def test_a_district_sees_its_streets_tickets_but_a_street_not_its_siblings(api, units) -> None:
    ticket, assignment = dispatched(units["donghu"])
    api("donghu_staff").post(f"/api/assignments/{assignment.pk}/sign/", {}, format="json")
    api("donghu_staff").post(
        f"/api/assignments/{assignment.pk}/redispatch/", {"child_unit": units["donghu-hubin"].pk}, format="json"
    )
    assert api("donghu_hubin_staff").get(f"/api/tickets/{ticket.pk}/").status_code == 200
    assert api("donghu_xinhua_staff").get(f"/api/tickets/{ticket.pk}/").status_code == 404


def test_unit_staff_see_a_masked_phone_and_a_reveal_is_recorded(api, units) -> None:
    ticket, _ = dispatched(units["rsj"], phone="13812341234")
    rsj = api("rsj_staff")
    detail = rsj.get(f"/api/tickets/{ticket.pk}/").json()
    assert detail["citizen_phone"] == "138****1234" and detail["phone_masked"] is True
    assert "13812341234" not in str(detail)  # not in the history's raw payload either

    revealed = rsj.post(f"/api/tickets/{ticket.pk}/reveal-phone/")
    assert revealed.json() == {"citizen_phone": "+8613812341234", "recorded": True}
    log = TicketAccessLog.objects.get(ticket=ticket, action="reveal_phone")
    assert log.user.username == "rsj_staff"
    assert TicketEvent.objects.filter(ticket=ticket, action="phone_revealed", actor__username="rsj_staff").exists()
    # the centre sees the number in full
    assert api("operator1").get(f"/api/tickets/{ticket.pk}/").json()["citizen_phone"] == "+8613812341234"


def test_confidential_tickets_hide_the_citizen_from_units(api, units) -> None:
    ticket, _ = dispatched(units["rsj"], confidential=True)
    detail = api("rsj_staff").get(f"/api/tickets/{ticket.pk}/").json()
    assert (detail["citizen_name"], detail["citizen_phone"], detail["citizen_address"]) == ("", "", "")
    assert api("rsj_staff").post(f"/api/tickets/{ticket.pk}/reveal-phone/").status_code == 403
    assert not TicketAccessLog.objects.filter(action="reveal_phone").exists()


def test_who_viewed_a_ticket_is_recorded(api, units) -> None:
    ticket, _ = dispatched(units["rsj"])
    api("rsj_staff").get(f"/api/tickets/{ticket.pk}/")
    assert TicketAccessLog.objects.filter(ticket=ticket, action="view", user__username="rsj_staff").count() == 1


def _list_queries(client, page_size: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/tickets/?page_size={page_size}")
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["results"])


def test_a_list_costs_the_same_number_of_queries_for_10_rows_as_for_100(api, units, cats) -> None:
    for i in range(100):
        new_ticket(category=cats["zswr"], district=units["donghu"], phone=f"1391234{i:04d}")
    for who in ("operator1", "donghu_staff"):
        client = api(who)
        client.get("/api/tickets/?page_size=1")  # warm-up: the signed-in user's unit is loaded once
        q10, n10 = _list_queries(client, 10)
        q100, n100 = _list_queries(client, 100)
        assert (n10, n100) == (10, 100)
        assert q10 == q100, who
