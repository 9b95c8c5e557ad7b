"""Who exported what is recorded (domain.md §7): the export's log row carries the whole filter,
every value of a repeated parameter, not only the last one."""

from __future__ import annotations

from typing import Any

from tickets.core.models import AccessAction, TicketAccessLog

STATES = ["registered", "dispatching", "in_progress", "replied", "reviewed", "rating"]


def _last_export(username: str) -> TicketAccessLog:
    found = TicketAccessLog.objects.filter(user__username=username, action=AccessAction.EXPORT).order_by("-id").first()
    assert found is not None
    return found


def test_an_export_filtered_on_several_states_logs_every_state(city: Any, api: Any) -> None:
    query = "&".join(f"state={s}" for s in STATES) + "&urgency=urgent"
    for door in ("tickets.csv", "tickets.xlsx"):
        response = api("supervisor1").get(f"/api/exports/{door}?{query}")
        assert response.status_code == 200, door
        assert _last_export("supervisor1").detail["filter"] == {"state": ",".join(STATES), "urgency": "urgent"}


def test_the_ticket_list_page_export_logs_the_same_filter_as_the_api(city: Any, user: Any, client: Any) -> None:
    client.force_login(user("supervisor1"))
    query = "&".join(f"state={s}" for s in STATES)
    assert client.get(f"/tickets/export.xlsx?{query}").status_code == 200
    assert _last_export("supervisor1").detail["filter"]["state"] == ",".join(STATES)
