"""SMS intake through the real Twilio webhook view, signed like Twilio signs it."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.intake.conftest import payload, sign, twilio_post
from tickets.core.models import Ticket
from tickets.feedback.models import Rating
from tickets.intake.models import InboundMessage
from tickets.messaging.models import SmsMessage, SmsOptOut
from tickets.messaging.services import citizen_notifications
from tickets.sla.models import CityProfile

URL = "/webhooks/twilio/sms/"


def sms(client: Any, sid: str, body: str, frm: str = "+8613600136000", **extra: str) -> Any:
    return twilio_post(client, URL, payload("sms_incoming", MessageSid=sid, SmsSid=sid, Body=body, From=frm, **extra))


def reply_text(response: Any) -> str:
    match = re.search(r"<Message>(.*)</Message>", response.content.decode(), re.S)
    return match.group(1) if match else ""


def test_an_sms_makes_a_draft_ticket_and_a_chinese_reply_with_its_number(city: Any, web: Any) -> None:
    response = twilio_post(web, URL, payload("sms_incoming"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.state, ticket.citizen_phone) == ("sms", "draft", "+8613600136000")
    assert ticket.external_ref == "SM55555555555555555555555555555555"
    assert "路灯坏了" in ticket.text
    text = reply_text(response)
    assert ticket.number in text and "查询" in text and "TD" in text
    inbound = InboundMessage.objects.get()
    assert inbound.ticket == ticket and inbound.raw["NumSegments"] == "1"
    assert inbound.response_body == response.content.decode()
    # The operators see it in their draft queue.
    assert ticket.events.get(action="created").data["raw"]["MessageSid"] == ticket.external_ref


@pytest.mark.drill
def test_a_retried_delivery_returns_the_same_answer_and_creates_nothing(city: Any, web: Any) -> None:
    first = twilio_post(web, URL, payload("sms_incoming"))
    second = twilio_post(web, URL, payload("sms_incoming"))

    assert second.status_code == 200 and second.content == first.content
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_parts_of_a_split_sms_join_one_draft_within_the_window(city: Any, web: Any) -> None:
    sms(web, "SMa1", "滨江区园区街道园区社区门口的路灯坏了一个多月，")
    answer = sms(web, "SMa2", "晚上老人孩子出行很不安全，请尽快修复。")

    ticket = Ticket.objects.get()
    assert "路灯" in ticket.text and "尽快修复" in ticket.text
    assert ticket.number in reply_text(answer) and "并入" in reply_text(answer)
    assert ticket.events.filter(action="message_appended").count() == 1


def test_a_message_after_the_window_starts_a_new_ticket_and_the_window_is_city_data(city: Any, web: Any) -> None:
    CityProfile.objects.filter(is_active=True).update(sms_merge_window_minutes=2)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        sms(web, "SMb1", "小区电梯坏了三天没人修")
        clock.shift(timedelta(minutes=1))
        sms(web, "SMb2", "物业电话也打不通")
        clock.shift(timedelta(minutes=3))
        sms(web, "SMb3", "另外小区门口有违章停车堵路")

    assert Ticket.objects.count() == 2
    first, second = Ticket.objects.order_by("id")
    assert "物业电话" in first.text and "违章停车" in second.text


def test_query_command_answers_with_the_public_status_only_to_the_filing_number(city: Any, web: Any) -> None:
    sms(web, "SMc1", "反映小区噪音扰民问题")
    ticket = Ticket.objects.get()

    own = reply_text(sms(web, "SMc2", f"查询 {ticket.number}"))
    short = reply_text(sms(web, "SMc3", f"cx{ticket.number}"))
    other = reply_text(sms(web, "SMc4", f"查询 {ticket.number}", frm="+8613900139000"))

    assert "已收到，正在登记" in own and ticket.number in own and "草稿" not in own
    assert "正在登记" in short
    assert "未找到" in other and "正在登记" not in other
    assert Ticket.objects.count() == 1


def test_a_rating_reply_records_the_rating_and_closes_the_ticket(city: Any, web: Any, ticket_in_rating: Any) -> None:
    ticket = ticket_in_rating("+8613600136000")
    request = SmsMessage.objects.get(ticket=ticket, purpose="rating_request")
    assert "回复1满意" in request.body and "/citizen/rate/" in request.body

    answer = reply_text(sms(web, "SMd1", "2"))

    ticket.refresh_from_db()
    assert ticket.state == "closed"
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.satisfaction, rating.channel, rating.round) == ("basic", "sms", 1)
    assert "基本满意" in answer
    # No rating is open any more: a further "1" is not a rating and not a ticket either.
    again = reply_text(sms(web, "SMd2", "1"))
    assert Rating.objects.count() == 1 and Ticket.objects.count() == 1
    assert "诉求内容" in again


def test_td_opts_out_and_every_later_sms_honours_it(city: Any, web: Any, ticket_in_rating: Any) -> None:
    answer = reply_text(sms(web, "SMe1", "TD"))
    assert "退订" in answer
    assert SmsOptOut.objects.filter(phone="+8613600136000").exists()

    ticket = ticket_in_rating("+8613600136000")  # would send the received (naming the unit) and rating SMS

    sent = SmsMessage.objects.filter(to_phone="+8613600136000")
    assert sent.count() == 2
    assert set(sent.values_list("state", flat=True)) == {"suppressed"}
    assert Ticket.objects.get(pk=ticket.pk).state == "rating"

    assert "恢复" in reply_text(sms(web, "SMe2", "KT"))
    assert citizen_notifications.ticket_dispatched(ticket=ticket, lead_unit=ticket.lead_unit).state == "queued"


@pytest.mark.parametrize("body", ["退订。", "退订！", "TD.", "td !"])
def test_an_opt_out_ending_in_punctuation_still_opts_out(city: Any, web: Any, body: str) -> None:
    answer = reply_text(sms(web, "SMp1", body))
    assert "您已退订" in answer
    assert SmsOptOut.objects.filter(phone="+8613600136000").exists()
    assert not Ticket.objects.exists()


def test_a_query_ending_in_punctuation_answers_the_status(city: Any, web: Any) -> None:
    sms(web, "SMq1", "反映小区噪音扰民问题")
    ticket = Ticket.objects.get()
    answer = reply_text(sms(web, "SMq2", f"查询：{ticket.number}。"))
    assert f"工单{ticket.number}当前状态" in answer
    assert "并入" not in answer and ticket.events.filter(action="message_appended").count() == 0


@pytest.mark.parametrize(
    ("body", "expect_ticket"),
    [
        ("", False),
        (" ", False),
        ("投诉🙂：楼下广场舞🎵太吵了", True),
        ("\u0000\u0001反映问题：道路积水\u0007", True),
    ],
)
def test_odd_bodies_get_a_clean_answer(city: Any, web: Any, body: str, expect_ticket: bool) -> None:
    response = sms(web, "SMf1", body, Unexpected="x", **{"Extra[Param]": "y"})

    assert response.status_code == 200
    assert Ticket.objects.exists() is expect_ticket
    inbound = InboundMessage.objects.get()
    assert inbound.raw["Unexpected"] == "x" and inbound.raw["Extra[Param]"] == "y"
    if expect_ticket:
        assert "\u0000" not in Ticket.objects.get().text
    else:
        assert "诉求内容" in reply_text(response)


def test_emoji_are_kept(city: Any, web: Any) -> None:
    sms(web, "SMg1", "投诉🙂：楼下广场舞🎵太吵了")
    assert "🎵" in Ticket.objects.get().text


def test_a_20000_character_body_is_kept_raw_and_the_ticket_text_is_capped(city: Any, web: Any, settings: Any) -> None:
    body = "噪" * 20_000
    response = sms(web, "SMh1", body)

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert len(ticket.text) == settings.TICKET_TEXT_MAX and ticket.text.endswith("原文见来信记录】")
    assert len(InboundMessage.objects.get().raw["Body"]) == 20_000


def test_parts_past_the_text_limit_are_read_in_full_in_the_tickets_inbound_record(
    city: Any, web: Any, settings: Any, user: Any
) -> None:
    """The cut text says 原文见来信记录: the ticket page has that record, with every part in full."""
    settings.TICKET_TEXT_MAX = 120
    sms(web, "SMk1", "小区楼下的烧烤摊每天营业到凌晨两点，" * 6)
    sms(web, "SMk2", "具体地址：东湖区新华街道幸福小区3号楼2单元门口")
    ticket = Ticket.objects.get()
    assert ticket.text.endswith("原文见来信记录】") and "3号楼2单元" not in ticket.text

    operator = Client()
    operator.force_login(user("operator1"))
    page = operator.get(f"/tickets/{ticket.pk}/").content.decode()
    record = re.search(r'<details id="inbound"[^>]*open[^>]*>(.*?)</details>', page, re.S)
    assert record is not None and "来信记录（2 条）" in record.group(1)
    assert "具体地址：东湖区新华街道幸福小区3号楼2单元门口" in record.group(1)
    assert record.group(1).count("短信") >= 2


def test_undecodable_bytes_and_nul_do_not_break_the_webhook(city: Any, web: Any) -> None:
    # %ED%A0%80 is a UTF-8-encoded unpaired surrogate; %00 a NUL byte (refused by PostgreSQL text).
    raw = "MessageSid=SMi1&AccountSid=AC0&From=%2B8613600136000&Body=%ED%A0%80%E5%8F%8D%E6%98%A0%00%E5%99%AA%E9%9F%B3"
    response = twilio_post(web, URL, body=raw)

    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert "\x00" not in inbound.raw["Body"]
    assert Ticket.objects.get().text.endswith("噪音")


def test_no_from_gets_a_clean_answer_and_no_ticket(city: Any, web: Any) -> None:
    params = payload("sms_incoming")
    del params["From"]
    response = twilio_post(web, URL, params)

    assert response.status_code == 200
    assert "无法识别您的号码" in reply_text(response)
    assert not Ticket.objects.exists()
    assert InboundMessage.objects.get().note == "无法识别来信号码"


def test_unsigned_or_wrongly_signed_requests_get_403_and_write_nothing(city: Any, web: Any) -> None:
    params = payload("sms_incoming")
    unsigned = twilio_post(web, URL, params, signed=False)
    wrong = twilio_post(web, URL, params, signature=sign("http://testserver" + URL, params, token="not-the-token"))
    tampered_sig = sign("http://testserver" + URL, params)
    tampered = twilio_post(web, URL, {**params, "Body": "篡改过的内容"}, signature=tampered_sig)

    assert [unsigned.status_code, wrong.status_code, tampered.status_code] == [403, 403, 403]
    assert not InboundMessage.objects.exists() and not Ticket.objects.exists()


def test_without_an_auth_token_webhooks_are_refused_unless_unsigned_testing_is_allowed(
    city: Any, web: Any, settings: Any
) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    assert twilio_post(web, URL, payload("sms_incoming"), signed=False).status_code == 403
    assert not InboundMessage.objects.exists()

    settings.TWILIO_ALLOW_UNSIGNED = True
    assert twilio_post(web, URL, payload("sms_incoming"), signed=False).status_code == 200
    assert Ticket.objects.count() == 1


def test_behind_a_proxy_the_signed_url_comes_from_configuration_only(city: Any, web: Any, settings: Any) -> None:
    params = payload("sms_incoming")
    public = "https://12345.example.cn"
    # Forwarded headers are not believed unless the proxy is trusted.
    spoof = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "12345.example.cn"}
    assert twilio_post(web, URL, params, base=public, **spoof).status_code == 403

    settings.HOTLINE_TRUSTED_PROXY_HOPS = 1
    assert twilio_post(web, URL, params, base=public, **spoof).status_code == 200
    # What a client prepends is not believed: only the value our one proxy appended counts.
    prepended = {"HTTP_X_FORWARDED_PROTO": "http, https", "HTTP_X_FORWARDED_HOST": "evil.example, 12345.example.cn"}
    retry = payload("sms_incoming", MessageSid="SMproxy3", Body="客户端伪造了前面的转发头")
    assert twilio_post(web, URL, retry, base=public, **prepended).status_code == 200

    settings.HOTLINE_TRUSTED_PROXY_HOPS = 0
    settings.TWILIO_WEBHOOK_BASE_URL = public
    again = payload("sms_incoming", MessageSid="SMproxy2", Body="另一条诉求内容")
    assert twilio_post(web, URL, again, base=public).status_code == 200
    assert Ticket.objects.count() == 1 and InboundMessage.objects.count() == 3


def test_delivery_reports_update_the_message_and_never_go_backwards(city: Any, web: Any) -> None:
    message = SmsMessage.objects.create(
        to_phone="+8613600136000",
        body="x",
        purpose="other",
        state="sent",
        twilio_sid="SM66666666666666666666666666666666",
    )
    status_url = "/webhooks/twilio/sms/status/"
    assert twilio_post(web, status_url, payload("sms_status_delivered")).status_code == 200
    late = payload("sms_status_delivered", MessageStatus="sent", NoticeSmsStatus="sent")
    assert twilio_post(web, status_url, late).status_code == 200

    message.refresh_from_db()
    assert message.state == "delivered"
    assert [h["status"] for h in message.status_history] == ["delivered", "sent"]


@pytest.mark.parametrize("path", [URL, "/webhooks/twilio/voice/", "/webhooks/twilio/sms/status/"])
def test_a_signed_json_or_text_body_is_refused_with_415_and_writes_nothing(city: Any, web: Any, path: str) -> None:
    """Twilio signs a JSON body through ?bodySHA256=; such a request is authentic but carries no form
    parameters, and used to run the handler with none (an InboundMessage row, a TwiML answer)."""
    body = json.dumps(payload("sms_incoming"))
    url = f"{path}?bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    signature = sign("http://testserver" + url, {})
    as_json = web.post(url, data=body, content_type="application/json", HTTP_X_TWILIO_SIGNATURE=signature)
    as_text = web.post(
        path, data="Body=hi", content_type="text/plain", HTTP_X_TWILIO_SIGNATURE=sign("http://testserver" + path, {})
    )
    assert (as_json.status_code, as_text.status_code) == (415, 415)
    assert "application/x-www-form-urlencoded" in as_json.content.decode()
    assert not InboundMessage.objects.exists() and not Ticket.objects.exists()
    # The signature still comes first: the same JSON body unsigned is a 403.
    assert web.post(url, data=body, content_type="application/json").status_code == 403
