"""内部备注 through the API read as the ticket page shows them (the privacy rule, one place), the read is
logged, and no unit reads a resident ID number in any free text (domain.md §7)."""

from __future__ import annotations

from typing import Any

from tests.tickets.helpers import dispatched
from tickets.core import privacy
from tickets.core.models import TicketAccessLog
from tickets.org.models import Unit, User

ID = "110101199001011234"
NOTE = f"来电人王某，电话13812341234，身份证号{ID}，工单20261206000001 2026年再次来电"


def test_a_unit_reads_a_note_masked_through_the_api_and_the_read_is_logged(city: Any, api: Any) -> None:
    ticket, _lead = dispatched(Unit.objects.get(code="rsj"), phone="13812341234")
    api("operator1").post(f"/api/tickets/{ticket.pk}/notes/", {"text": NOTE}, format="json")

    centre = api("operator1").get(f"/api/tickets/{ticket.pk}/notes/").json()
    assert centre[0]["text"] == NOTE  # the centre reads everything

    unit = api("rsj_staff").get(f"/api/tickets/{ticket.pk}/notes/").json()
    text = unit[0]["text"]
    assert "13812341234" not in text and "138****1234" in text
    assert ID not in text and "身份证号***" in text
    assert "工单20261206000001 2026年" in text  # a ticket number followed by a year is no ID number
    logged = TicketAccessLog.objects.filter(user__username="rsj_staff", ticket=ticket, action="view")
    assert [row.detail for row in logged] == [{"via": "api.notes"}]

    # The unit's own note comes back as it will read it.
    echoed = api("rsj_staff").post(f"/api/tickets/{ticket.pk}/notes/", {"text": f"核实身份证{ID}"}, format="json")
    assert echoed.status_code == 201 and echoed.json()["text"] == "核实身份证***"


def test_on_a_confidential_ticket_the_note_hides_the_citizen_from_the_unit(city: Any, api: Any) -> None:
    ticket, _lead = dispatched(Unit.objects.get(code="rsj"), phone="13812341234", confidential=True)
    note = {"text": "张先生电话13812341234，住演示市东湖区新华路1号"}
    api("operator1").post(f"/api/tickets/{ticket.pk}/notes/", note, format="json")
    text = api("rsj_staff").get(f"/api/tickets/{ticket.pk}/notes/").json()[0]["text"]
    assert "13812341234" not in text and "1234" not in text and "张先生" not in text and "新华路1号" not in text


def test_id_numbers_are_blanked_for_units_in_every_written_form(city: Any) -> None:
    ticket, _lead = dispatched(Unit.objects.get(code="rsj"))
    clerk = User.objects.get(username="rsj_staff")
    operator = User.objects.get(username="operator1")
    for written in (ID, "11010119900101123X", "110101 19900101 1234", "110101-19900101-123x",
                    "１１０１０１１９９００１０１１２３４", "110101900101123"):
        assert privacy.citizen_text(f"证件{written}。", ticket, clerk) == "证件***。", written
        assert privacy.citizen_text(f"证件{written}。", ticket, operator) == f"证件{written}。"
    # Not an ID number: a bank card's 19 digits, a ticket number, a phone number (masked as such).
    for other in ("6222021234567890123", "20261206000001"):
        assert privacy.citizen_text(f"号码{other}", ticket, clerk) == f"号码{other}"
