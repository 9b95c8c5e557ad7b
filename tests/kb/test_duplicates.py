"""并单: likely duplicates at intake, merge/unmerge rules, children follow the master, 重复来电率."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.test import Client

from tests.tickets.helpers import lead_of, staff
from tickets import textsearch
from tickets.core.actors import Actor
from tickets.core.models import TicketEvent
from tickets.core.services import workflow
from tickets.duplicates.models import DuplicateLink, TicketBand
from tickets.duplicates.services import duplicates
from tickets.messaging.models import SmsMessage
from tickets.metrics.selectors import repeat_call_rate
from tickets.org.models import User

WATER = "东湖区新华街道光明小区3栋从昨天早上开始停水，到现在还没有来水，家里有老人小孩，请尽快处理。"
WATER_AGAIN = "光明小区3栋从昨天早上开始停水，到现在还是没有来水，家里有老人和小孩，请尽快处理！东湖区新华街道。"
NOISE = "西山区青云街道夜市烧烤摊每天营业到凌晨两点，噪音和油烟严重扰民，多次反映无人管理。"


def dispatcher() -> Actor:
    return Actor.of(User.objects.get(username="dispatcher1"))


@pytest.fixture
def places(units):  # type: ignore[no-untyped-def]
    return {"xinhua": units["donghu-xinhua"], "hubin": units["donghu-hubin"], "qingyun": units["xishan-qingyun"]}


def test_intake_stores_an_indexed_fingerprint(make_ticket) -> None:  # type: ignore[no-untyped-def]
    ticket = make_ticket(WATER)
    assert TicketBand.objects.filter(ticket=ticket).count() == textsearch.BANDS


def test_same_caller_within_30_days_is_a_candidate_with_its_reason(make_ticket) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel("2026-03-01 09:00 +0800", tick=False):
        old = make_ticket(NOISE, citizen_phone="13900001111")
        earlier = make_ticket("我家楼下的路灯坏了一个月了", citizen_phone="13900001111")
    with time_machine.travel("2026-03-20 09:00 +0800", tick=False):
        new = make_ticket("路灯还是没有修好，晚上出门很危险", citizen_phone="13900001111")
        found = {c.ticket.pk: c for c in duplicates.ticket_duplicates(ticket=new)}
    assert earlier.pk in found and old.pk in found
    assert found[earlier.pk].same_caller
    assert "同一来电人30天内的诉求" in found[earlier.pk].reasons
    with time_machine.travel("2026-04-02 09:00 +0800", tick=False):  # 32 days after the first two
        later = make_ticket("路灯问题第三次反映", citizen_phone="13900001111")
        found = {c.ticket.pk for c in duplicates.ticket_duplicates(ticket=later)}
    assert earlier.pk not in found and new.pk in found


def test_the_ticket_page_shows_a_callers_other_ticket_by_its_match_not_a_text_similarity_of_0(  # type: ignore[no-untyped-def]
    make_ticket,
) -> None:
    """The same caller on another matter: a candidate by caller and time, not by words. The page
    used to print 相似度 0 % beside it; it shows the ranking's 匹配度 and the reasons."""
    earlier = make_ticket("我家楼下的路灯坏了一个月了", citizen_phone="13900001111")
    new = make_ticket(NOISE, citizen_phone="13900001111")
    found = {c.ticket.pk: c for c in duplicates.ticket_duplicates(ticket=new)}
    assert found[earlier.pk].similarity < 0.05 and found[earlier.pk].score > 0
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    page = client.get(f"/tickets/{new.pk}/").content.decode()
    listed = re.search(r'<ul class="hits" data-testid="candidates">(.*?)</ul>', page, re.S)
    assert listed is not None and earlier.number in listed.group(1)
    assert f"匹配度 {round(found[earlier.pk].score * 100)}%" in listed.group(1)
    assert "相似度" not in listed.group(1).split("<br>")[0]
    assert "同一来电人30天内的诉求" in listed.group(1)


def test_someone_elses_similar_ticket_counts_only_in_the_same_place_and_window(  # type: ignore[no-untyped-def]
    make_ticket, places
) -> None:
    with time_machine.travel("2026-03-01 09:00 +0800", tick=False):
        neighbour = make_ticket(WATER, citizen_phone="13900002222", jurisdiction=places["xinhua"])
        elsewhere = make_ticket(WATER, citizen_phone="13900003333", jurisdiction=places["qingyun"])
        unrelated = make_ticket(NOISE, citizen_phone="13900004444", jurisdiction=places["xinhua"])
    with time_machine.travel("2026-03-05 09:00 +0800", tick=False):
        found = duplicates.duplicate_candidates(
            text=WATER_AGAIN, phone="+8613900005555", jurisdiction=places["xinhua"], address="光明小区3栋"
        )
    ids = [c.ticket.pk for c in found]
    assert ids[0] == neighbour.pk
    assert elsewhere.pk not in ids and unrelated.pk not in ids
    assert any(r.startswith("诉求内容相似度") for r in found[0].reasons)
    assert "同一属地：新华街道" in found[0].reasons
    with time_machine.travel("2026-03-20 09:00 +0800", tick=False):  # past the 14-day window
        assert duplicates.duplicate_candidates(text=WATER_AGAIN, jurisdiction=places["xinhua"]) == []


def test_the_window_is_a_setting(make_ticket, places, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DUPLICATE_JURISDICTION_WINDOW_DAYS = 30
    with time_machine.travel("2026-03-01 09:00 +0800", tick=False):
        neighbour = make_ticket(WATER, jurisdiction=places["xinhua"])
    with time_machine.travel("2026-03-20 09:00 +0800", tick=False):
        found = duplicates.duplicate_candidates(text=WATER_AGAIN, jurisdiction=places["xinhua"])
    assert [c.ticket.pk for c in found] == [neighbour.pk]


def test_preview_api_while_typing_and_ticket_api(api, make_ticket, places) -> None:  # type: ignore[no-untyped-def]
    first = make_ticket(WATER, citizen_phone="13900006666", jurisdiction=places["xinhua"])
    response = api("operator1").post(
        "/api/duplicates/preview/",
        {"text": WATER_AGAIN, "phone": "13900007777", "jurisdiction": places["xinhua"].pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()[0]["number"] == first.number
    assert response.json()[0]["reasons"]
    second = make_ticket(WATER_AGAIN, citizen_phone="13900007777", jurisdiction=places["xinhua"])
    listed = api("dispatcher1").get(f"/api/tickets/{second.pk}/duplicates/").json()
    assert [c["id"] for c in listed] == [first.pk]
    assert api("rsj_staff").get(f"/api/tickets/{second.pk}/duplicates/").status_code in (403, 404)
    bad = api("operator1").post("/api/duplicates/preview/", {"text": WATER, "extra": 1}, format="json")
    assert bad.status_code == 400


# --- merge, follow, notify, unmerge -------------------------------------------------------------


def _close(ticket, unit) -> None:  # type: ignore[no-untyped-def]
    """Push the master through the real lifecycle: dispatch, sign, reply, review, close."""
    ticket = workflow.ticket_dispatch(ticket=ticket, actor=dispatcher(), lead_unit=unit)
    unit_actor = Actor.of(staff(unit))
    assignment = workflow.assignment_sign(assignment=lead_of(ticket), actor=unit_actor)
    workflow.assignment_reply(assignment=assignment, actor=unit_actor, text="已抢修管道，恢复供水")
    workflow.ticket_review_reply(ticket=ticket, actor=dispatcher(), accept=True)
    workflow.ticket_close(ticket=ticket, actor=dispatcher(), reason="已恢复供水")


def test_children_follow_the_master_and_every_citizen_is_told(  # type: ignore[no-untyped-def]
    make_ticket, places, units, monkeypatch
) -> None:
    told: list[str] = []
    real_notify = duplicates.merged_child_notify
    monkeypatch.setattr(
        duplicates, "merged_child_notify", lambda **kw: told.append(kw["child"].number) or real_notify(**kw)
    )
    master = make_ticket(WATER, citizen_phone="13900000001", jurisdiction=places["xinhua"])
    children = [
        make_ticket(WATER_AGAIN, citizen_phone=phone, jurisdiction=places["xinhua"])
        for phone in ("13900000002", "13900000003")
    ]
    for child in children:
        workflow.ticket_merge(ticket=child, master=master, actor=dispatcher(), reason="同一小区停水")
    for child in children:
        child.refresh_from_db()
        assert child.state == "merged" and child.merged_into_id == master.pk
    _close(master, units["swjt"])
    for child in children:
        event = TicketEvent.objects.get(ticket=child, action="master_closed")
        assert event.data["master"] == master.number
        assert event.data["rating_invited"] is True
    assert sorted(told) == sorted(c.number for c in children)
    for child in children:  # each citizen gets an SMS about their own ticket
        message = SmsMessage.objects.get(ticket=child, body__contains="现已办结")
        assert message.to_phone == child.citizen_phone and master.number in message.body


def test_merge_refuses_a_finished_master_and_unmerge_stops_when_the_master_closes(  # type: ignore[no-untyped-def]
    make_ticket, places, units, api
) -> None:
    master = make_ticket(WATER, jurisdiction=places["xinhua"])
    child = make_ticket(WATER_AGAIN, jurisdiction=places["xinhua"])
    late = make_ticket(WATER_AGAIN + "第三次", jurisdiction=places["xinhua"])
    assert (
        api("operator1").post(f"/api/tickets/{child.pk}/merge/", {"master": master.pk}, format="json").status_code
        == 200
    )
    # Unmerge is possible while the master is open …
    assert (
        api("operator1").post(f"/api/tickets/{child.pk}/unmerge/", {"reason": "误并"}, format="json").status_code == 200
    )
    child.refresh_from_db()
    assert child.state == "registered" and child.merged_into_id is None
    assert (
        api("operator1").post(f"/api/tickets/{child.pk}/merge/", {"master": master.pk}, format="json").status_code
        == 200
    )
    _close(master, units["swjt"])
    # … and not after it closed; nor can anything join a closed master.
    response = api("operator1").post(f"/api/tickets/{child.pk}/unmerge/", {"reason": "晚了"}, format="json")
    assert response.status_code == 409 and response.json()["rule"] == "unmerge_master_closed"
    response = api("operator1").post(f"/api/tickets/{late.pk}/merge/", {"master": master.pk}, format="json")
    assert response.status_code == 409 and response.json()["rule"] == "merge_master_state"
    # Unit staff cannot merge.
    other = make_ticket(NOISE)
    assert api("rsj_staff").post(f"/api/tickets/{other.pk}/merge/", {"master": late.pk}, format="json").status_code in (
        403,
        404,
    )


def test_repeat_call_rate_counts_links_from_the_same_caller(make_ticket, places, api) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        first = make_ticket(WATER, citizen_phone="13900008888", jurisdiction=places["xinhua"])
        make_ticket(NOISE, citizen_phone="13900009999")
    with time_machine.travel("2026-03-05 09:00 +0800", tick=False):
        again = make_ticket(WATER_AGAIN, citizen_phone="13900008888", jurisdiction=places["xinhua"])
        neighbour = make_ticket(WATER_AGAIN, citizen_phone="13900001212", jurisdiction=places["xinhua"])
        workflow.ticket_merge(ticket=again, master=first, actor=dispatcher(), reason="同一来电人重复反映")
        workflow.ticket_merge(ticket=neighbour, master=first, actor=dispatcher(), reason="同一小区")
        for _ in range(6):
            make_ticket(NOISE + "再次", citizen_phone="13900004321")
    link = DuplicateLink.objects.get(ticket=again)
    assert link.earlier_id == first.pk and link.same_caller and link.kind == "merged"
    assert not DuplicateLink.objects.get(ticket=neighbour).same_caller
    rate = repeat_call_rate(start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert (rate["repeats"], rate["tickets"]) == (1, 10)
    with time_machine.travel("2026-03-06 09:00 +0800", tick=False):
        workflow.ticket_unmerge(ticket=again, actor=dispatcher(), reason="不是同一件事")
    assert repeat_call_rate(start=date(2026, 3, 1), end=date(2026, 3, 31))["repeats"] == 0
    # Confirming without merging counts too, through the API.
    response = api("operator1").post(f"/api/tickets/{again.pk}/duplicates/confirm/", {"other": first.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["same_caller"] is True
    body = api("supervisor1").get("/api/metrics/repeat-call-rate/", {"start": "2026-03-01", "end": "2026-03-31"}).json()
    assert body["repeats"] == 1 and body["tickets"] == 10 and body["rate"] == pytest.approx(0.1)
    # One definition: the API's figure is the centre's row of the month's scorecards.
    cards = api("supervisor1").get("/api/metrics/units/", {"period": "month", "date": "2026-03-01"}).json()
    centre = next(row for row in cards["units"] if row["kind"] == "centre")
    assert (centre["repeat_calls"], centre["accepted"], centre["repeat_call_rate"]) == (1, 10, pytest.approx(0.1))


def test_a_link_older_than_30_days_is_not_a_repeat_call(make_ticket) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel("2026-01-01 09:00 +0800", tick=False):
        first = make_ticket(WATER, citizen_phone="13900005656")
    with time_machine.travel("2026-02-15 09:00 +0800", tick=False):
        again = make_ticket(WATER_AGAIN, citizen_phone="13900005656")
        duplicates.duplicate_confirm(ticket=again, other=first, actor=dispatcher())
    assert repeat_call_rate(start=date(2026, 2, 1), end=date(2026, 2, 28))["repeats"] == 0
    assert DuplicateLink.objects.get(ticket=again).days_apart > 30


def test_a_completed_draft_is_found_as_a_duplicate_by_its_full_text(  # type: ignore[no-untyped-def]
    make_ticket, places, api
) -> None:
    """A phone draft starts with a few words; the operator completes the text. The fingerprint follows,
    so a later report of the same outage finds the draft, and the stale first words no longer match."""
    draft = make_ticket("喂您好", citizen_phone="13900006666", jurisdiction=places["xinhua"], draft=True)
    before = duplicates.duplicate_candidates(text=WATER_AGAIN, phone="+8613900007777", jurisdiction=places["xinhua"])
    assert draft.pk not in [c.ticket.pk for c in before]
    done = api("operator1").post(f"/api/tickets/{draft.pk}/complete/", {"text": WATER}, format="json")
    assert done.status_code == 200, done.json()
    after = duplicates.duplicate_candidates(text=WATER_AGAIN, phone="+8613900007777", jurisdiction=places["xinhua"])
    assert [c.ticket.pk for c in after] == [draft.pk]
    assert any(r.startswith("诉求内容相似度") for r in after[0].reasons)
    assert duplicates.duplicate_candidates(text="喂您好", phone="+8613900007777", jurisdiction=places["xinhua"]) == []


def test_an_sms_draft_grown_by_a_second_part_is_found_by_the_whole_text(  # type: ignore[no-untyped-def]
    make_ticket, places
) -> None:
    from tickets.intake.services import intake

    draft = make_ticket("光明小区3栋", citizen_phone="13900008888", jurisdiction=places["xinhua"], draft=True)
    intake.ticket_append_message(ticket=draft, text=WATER, actor=Actor.citizen())
    found = duplicates.duplicate_candidates(text=WATER_AGAIN, phone="+8613900009999", jurisdiction=places["xinhua"])
    assert [c.ticket.pk for c in found] == [draft.pk]
