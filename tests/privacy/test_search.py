"""A search answers yes or no about what a ticket says: for a unit it must not read what the unit
may not see (the masked digits of a number written into the text, the name on a 保密 ticket)."""

from __future__ import annotations

from typing import Any

from tests.tickets.helpers import dispatched


def _client(api: Any, username: str) -> Any:
    return api(username)


def test_a_unit_cannot_probe_the_masked_digits_of_a_number_by_searching(api: Any, units: Any) -> None:
    ticket, _ = dispatched(units["rsj"], text="公司拖欠工资，请回电13912345678联系我，谢谢。")
    unit = _client(api, "rsj_staff")
    for probe in ("1391234", "234", "１２３４", "13912345678"):
        response = unit.get("/api/tickets/", {"q": probe})
        assert response.status_code == 400, probe
        assert response.json()["rule"] == "digits_in_search" and response.json()["field"] == "q"
        assert "1391234" not in response.content.decode()
    assert [t["id"] for t in unit.get("/api/tickets/", {"q": ticket.number}).json()["results"]] == [ticket.pk]
    assert [t["id"] for t in unit.get("/api/tickets/", {"q": "拖欠工资"}).json()["results"]] == [ticket.pk]
    # The centre searches by any digits: it sees the number anyway.
    centre = _client(api, "operator1").get("/api/tickets/", {"q": "1234567"}).json()["results"]
    assert ticket.pk in [t["id"] for t in centre]


def test_a_unit_cannot_confirm_a_guessed_name_on_a_confidential_ticket(api: Any, units: Any) -> None:
    hidden, _ = dispatched(units["rsj"], text="我是李建国，举报单位违规用工。", confidential=True)
    shown, _ = dispatched(units["rsj"], text="我是李建国，公司拖欠工资。")
    unit = _client(api, "rsj_staff")
    found = [t["id"] for t in unit.get("/api/tickets/", {"q": "李建国"}).json()["results"]]
    assert found == [shown.pk]
    centre = [t["id"] for t in _client(api, "supervisor1").get("/api/tickets/", {"q": "李建国"}).json()["results"]]
    assert set(centre) >= {hidden.pk, shown.pk}
