"""来电弹屏 in real browsers: two operators signed in, only the one the caller is bridged to sees
the caller's history, and not before the bridge; the ticket filed in that panel carries the
CallSid and later the recording. The real ASGI app (uvicorn, WebSockets) in a subprocess, as in
tests/ui/test_live.py; Twilio's webhooks are posted signed with the server's auth token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from tests.ui.test_live import AsgiServer, _signed_in, asgi  # noqa: F401  (the module's server fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "ui-test-auth-token-callcentre"
CC = "/webhooks/twilio/callcentre"
CALLER = "CA" + "b" * 32
LEG = "CA" + "e" * 32
EARLIER = """
from tickets.core.actors import Actor
from tickets.intake.services import intake
from tickets.org.models import User
t = intake.ticket_create(actor=Actor.of(User.objects.get(username="operator2")), channel="phone",
                         text="楼道里的声控灯坏了好几天", citizen_phone="+8613812341234")
print(t.number, User.objects.get(username="operator1").pk, User.objects.get(username="operator2").pk)
"""
LINKED = f"""
from tickets.intake.models import Call
from tickets.callcentre.models import CallRecording
call = Call.objects.get(call_sid="{CALLER}")
print(call.ticket.number, CallRecording.objects.get(call=call).ticket.number)
"""


@pytest.fixture(scope="module")
def cc_env(asgi: AsgiServer) -> Iterator[AsgiServer]:  # noqa: F811
    asgi.stop()
    asgi.env.update(TWILIO_AUTH_TOKEN=TOKEN, HOTLINE_PUBLIC_URL=asgi.url, HOTLINE_TWILIO_ALLOW_UNSIGNED="0")
    asgi.start()
    yield asgi


def _twilio(page: Any, server: AsgiServer, path: str, **params: str) -> str:
    url = server.url + path
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    answer = page.request.post(url, form=params, headers={"X-Twilio-Signature": signature})
    assert answer.ok, answer.text()
    return answer.text()


def test_only_the_bridged_operator_pops_the_callers_history(browser: Any, cc_env: AsgiServer) -> None:
    earlier, op1_id, _op2_id = cc_env.manage("shell", "-c", EARLIER).split()[-3:]
    first = _signed_in(browser, cc_env.url, "operator1", "/console/")
    second = _signed_in(browser, cc_env.url, "operator2", "/console/")
    for page in (first, second):
        expect(page.locator("body")).to_have_attribute("data-live", "on")
        page.locator("#seat-panel").get_by_role("button", name="就绪").click()
        expect(page.get_by_test_id("seat-state")).to_have_text("就绪")

    # the call arrives and waits; operator1 (ready longest) is offered it and its leg dials the queue
    assert "<Enqueue" in _twilio(first, cc_env, f"{CC}/voice/", CallSid=CALLER, From="+8613812341234", To="+8612345")
    _twilio(first, cc_env, f"{CC}/wait/", CallSid=CALLER, QueuePosition="1", QueueTime="2", AvgQueueTime="0")
    assert "<Queue" in _twilio(first, cc_env, f"{CC}/seat/?seat={op1_id}", CallSid=LEG, To=f"client:seat-{op1_id}")
    expect(first.get_by_test_id("caller-panel")).to_be_hidden()  # not before the bridge
    expect(second.get_by_test_id("caller-panel")).to_be_hidden()

    _twilio(
        first, cc_env, f"{CC}/bridge/", CallSid=CALLER, DequeingCallSid=LEG, QueueSid="QU" + "1" * 32, QueueTime="9"
    )
    panel = first.get_by_test_id("caller-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("138 1234 1234")  # grouped as people read it (privacy.phone_display)
    expect(first.get_by_test_id("caller-tickets")).to_contain_text(earlier)
    expect(panel).to_contain_text("重复来电")
    expect(first.get_by_label("来电号码")).to_have_value("13812341234")

    # operator1 files the ticket from the panel's pre-filled form
    first.get_by_label("诉求内容").fill("楼道声控灯还是坏的，晚上上下楼很危险")
    first.get_by_role("button", name="受理（Enter）").click()
    number = re.search(r"工单号 (\d+)", first.get_by_role("status").inner_text())
    assert number is not None
    # operator2 heard about the new ticket (so its socket is live and caught up) but never the caller
    expect(second.get_by_test_id("live-list")).to_contain_text(number.group(1))
    expect(second.get_by_test_id("caller-panel")).to_be_hidden()

    # hang-up, recording, the caller leaves the queue bridged: the recording joins that ticket
    _twilio(first, cc_env, f"{CC}/dial/", CallSid=LEG, DialCallStatus="completed", DialCallDuration="64")
    _twilio(first, cc_env, f"{CC}/recording/", CallSid=LEG, RecordingSid="RE" + "4" * 32,
            RecordingUrl="demo:RE" + "4" * 32, RecordingStatus="completed", RecordingDuration="64")  # fmt: skip
    _twilio(first, cc_env, f"{CC}/left/", CallSid=CALLER, QueueResult="bridged", QueueTime="9")
    assert cc_env.manage("shell", "-c", LINKED).split()[-2:] == [number.group(1), number.group(1)]
    first.reload()
    recent = first.get_by_test_id("recent-calls")
    expect(recent).to_contain_text(number.group(1))
    expect(recent.locator("audio")).to_have_count(1)
    expect(first.get_by_test_id("seat-state")).to_have_text("话后处理")
    first.context.close()
    second.context.close()
