"""A citizen's 不满意 carries their reason to the supervisors; an SMS rating is completed by a short follow-up."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.rating.test_sms_and_web import sms
from tickets.core.models import Ticket, TicketEvent
from tickets.feedback.models import Rating
from tickets.feedback.services import rating

SH = ZoneInfo("Asia/Shanghai")


def _reply_text(response: Any) -> str:
    return response.content.decode()


def test_sms_3_asks_for_the_reason_and_the_answers_then_the_review_queue_has_them(
    city: Any, web: Any, api: Any, ticket_in_rating: Any
) -> None:
    ticket = ticket_in_rating("+8613600138001")
    first = sms(web, "SMr1", "3", frm="+8613600138001")
    assert "不满意的原因" in _reply_text(first) and "两位数字" in _reply_text(first)
    rated = Rating.objects.get(ticket=ticket)
    assert (rated.satisfaction, rated.cause, rated.review, rated.contacted) == (
        "dissatisfied",
        "undetermined",
        "pending",
        None,
    )
    assert Ticket.objects.get(pk=ticket.pk).state == "closed"

    second = sms(web, "SMr2", "22 单位至今没人联系我，工资也没发", frm="+8613600138001")
    assert "补充评价" in _reply_text(second) and "督办人员审核" in _reply_text(second)
    rated.refresh_from_db()
    assert (rated.contacted, rated.solved) == (False, False)
    assert rated.comment == "单位至今没人联系我，工资也没发"
    assert Ticket.objects.filter(citizen_phone="+8613600138001").count() == 1  # no new ticket filed
    assert TicketEvent.objects.filter(ticket=ticket, action="rating_completed").count() == 1

    queue = api("supervisor1").get("/api/ratings/dissatisfied/").json()["results"]
    assert [(r["id"], r["cause"], r["comment"]) for r in queue] == [(rated.pk, "undetermined", rated.comment)]
    assert queue[0]["rated_unit"] == "市人社局"

    # Answered already: the same digits again are not a second completion; the text becomes a new matter.
    third = sms(web, "SMr3", "22 又来问一次", frm="+8613600138001")
    assert "补充评价" not in _reply_text(third)


def test_sms_3_with_the_reason_inline_and_a_plain_text_reason_afterwards(
    city: Any, web: Any, ticket_in_rating: Any
) -> None:
    inline = ticket_in_rating("+8613600138002")
    sms(web, "SMr4", "3，办理结果与事实不符", frm="+8613600138002")
    assert Rating.objects.get(ticket=inline).comment == "办理结果与事实不符"

    later = ticket_in_rating("+8613600138003")
    sms(web, "SMr5", "3", frm="+8613600138003")
    reply = sms(web, "SMr6", "根本没有人来处理", frm="+8613600138003")
    assert "补充评价" in _reply_text(reply)
    rated = Rating.objects.get(ticket=later)
    assert rated.comment == "根本没有人来处理" and rated.contacted is None  # a reason, no answers yet
    assert Ticket.objects.filter(citizen_phone="+8613600138003").count() == 1


def test_a_follow_up_after_a_day_is_a_new_matter(city: Any, web: Any, ticket_in_rating: Any) -> None:
    with time_machine.travel(datetime(2026, 11, 10, 9, tzinfo=SH), tick=False) as clock:
        ticket = ticket_in_rating("+8613600138004")
        sms(web, "SMr7", "1", frm="+8613600138004")
        clock.shift(timedelta(hours=25))
        sms(web, "SMr8", "11", frm="+8613600138004")
    assert Rating.objects.get(ticket=ticket).contacted is None
    assert Ticket.objects.filter(citizen_phone="+8613600138004").count() == 2  # "11" was filed, not lost


def test_a_digit_glued_to_words_is_a_new_matter_not_a_rating(city: Any, web: Any, ticket_in_rating: Any) -> None:
    ticket = ticket_in_rating("+8613600138005")
    sms(web, "SMr9", "1号楼电梯坏了三天没人修", frm="+8613600138005")
    assert not Rating.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.filter(citizen_phone="+8613600138005").count() == 2


def test_the_web_page_needs_a_reason_for_dissatisfaction(city: Any, web: Any, ticket_in_rating: Any) -> None:
    ticket = ticket_in_rating("+8613600138006")
    link = rating.rating_link(ticket).removeprefix("https://12345.example.cn")
    refused = web.post(link, {"satisfaction": "dissatisfied", "solved": "no", "contacted": "no", "comment": " "})
    assert refused.status_code == 400 and "请写明不满意的原因" in refused.content.decode()
    assert not Rating.objects.filter(ticket=ticket).exists()
    done = web.post(link, {"satisfaction": "dissatisfied", "solved": "no", "contacted": "yes", "comment": "敷衍了事"})
    assert done.status_code == 200 and "督办人员审核" in done.content.decode()
    rated = Rating.objects.get(ticket=ticket)
    assert (rated.cause, rated.review, rated.comment, rated.channel) == ("undetermined", "pending", "敷衍了事", "web")


def test_the_app_needs_a_reason_for_dissatisfaction(city: Any, ticket_in_rating: Any) -> None:
    from tickets.core.actors import Actor
    from tickets.errors import InvalidInput

    ticket = ticket_in_rating("+8613600138007")
    try:
        rating.rating_record(ticket=ticket, actor=Actor.citizen(), satisfaction="dissatisfied", channel="app")
    except InvalidInput as exc:
        assert exc.field == "comment"
    else:
        raise AssertionError("a 不满意 without a reason was accepted")
    assert not Rating.objects.filter(ticket=ticket).exists()


def test_the_supervisor_classifies_an_undetermined_cause_while_ruling(
    city: Any, web: Any, api: Any, ticket_in_rating: Any
) -> None:
    objective = ticket_in_rating("+8613600138008")
    subjective = ticket_in_rating("+8613600138009")
    sms(web, "SMs1", "3 政策不允许补发", frm="+8613600138008")
    sms(web, "SMs2", "3 没人联系过我", frm="+8613600138009")
    first, second = Rating.objects.get(ticket=objective), Rating.objects.get(ticket=subjective)

    def decide(r: Rating, **body: Any) -> Any:
        return api("supervisor1").post(f"/api/ratings/{r.pk}/decide/", body, format="json")

    missing = decide(first, decision="close", reason="已解释")
    assert missing.status_code == 400 and missing.json()["field"] == "cause"
    refused = decide(first, decision="reopen", reason="重办", cause="objective")
    assert refused.status_code == 409 and refused.json()["rule"] == "reopen_needs_subjective"
    closed = decide(first, decision="close", reason="超出政策范围，已向市民解释", cause="objective")
    assert closed.status_code == 200 and (closed.json()["cause"], closed.json()["review"]) == ("objective", "closed")

    reopened = decide(second, decision="reopen", reason="单位未联系市民", cause="subjective")
    assert reopened.status_code == 200 and reopened.json()["review"] == "reopened"
    ticket = Ticket.objects.get(pk=subjective.pk)
    assert ticket.state == "in_progress" and ticket.reopen_count == 1
    assert "没人联系过我" in ticket.events.get(action="reopen").reason
    assert api("supervisor1").get("/api/ratings/dissatisfied/").json()["results"] == []


def test_a_new_matter_that_starts_with_a_number_is_filed_not_taken_as_a_rating(
    city: Any, web: Any, ticket_in_rating: Any
) -> None:
    """A complaint sent while a rating is asked for must not close the rated ticket and vanish."""
    for phone, sid, body in [
        ("+8613600138011", "SMn1", "1.5公里外的工地每天夜里施工，噪音很大"),
        ("+8613600138012", "SMn2", "2、3号楼之间的路灯不亮了"),
    ]:
        rated = ticket_in_rating(phone)
        sms(web, sid, body, frm=phone)
        assert not Rating.objects.filter(ticket=rated).exists()
        assert Ticket.objects.get(pk=rated.pk).state == "rating"
        filed = Ticket.objects.filter(citizen_phone=phone).exclude(pk=rated.pk).get()
        assert filed.text == body


def test_the_rating_words_count_as_the_digits(city: Any, web: Any, ticket_in_rating: Any) -> None:
    pleased = ticket_in_rating("+8613600138013")
    answer = _reply_text(sms(web, "SMw1", "满意！", frm="+8613600138013"))
    assert "感谢您的评价（满意）" in answer
    assert Rating.objects.get(ticket=pleased).satisfaction == "satisfied"

    unhappy = ticket_in_rating("+8613600138014")
    sms(web, "SMw2", "不满意，至今没人联系", frm="+8613600138014")
    rated = Rating.objects.get(ticket=unhappy)
    assert (rated.satisfaction, rated.comment) == ("dissatisfied", "至今没人联系")
    assert Ticket.objects.filter(citizen_phone__in=["+8613600138013", "+8613600138014"]).count() == 2


def test_a_thank_you_within_the_exchange_is_answered_and_files_nothing(
    city: Any, web: Any, ticket_in_rating: Any
) -> None:
    ticket_in_rating("+8613600138015")
    sms(web, "SMt1", "1", frm="+8613600138015")
    sms(web, "SMt2", "11", frm="+8613600138015")
    answer = _reply_text(sms(web, "SMt3", "谢谢！", frm="+8613600138015"))
    assert "感谢您的回复" in answer
    assert Ticket.objects.filter(citizen_phone="+8613600138015").count() == 1
    # Outside an exchange the same word is kept as a matter, as every other message is.
    sms(web, "SMt4", "谢谢", frm="+8613600138016")
    assert Ticket.objects.filter(citizen_phone="+8613600138016").count() == 1
