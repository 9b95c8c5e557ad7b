"""Issue 14, finding 2: centre staff read the SMS outbox, but never a live verification code or a
signed rating link in it — with either they could sign in to the app or rate as the citizen."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from tests.privacy.story import Matter, dispatch, file, handle, page_client
from tickets.core import privacy as privacy_rule
from tickets.messaging import tasks
from tickets.messaging.models import SmsMessage, SmsPurpose, SmsState
from tickets.org.models import User

PHONE = "13600136000"


def _secrets(city: Any) -> tuple[str, str, str]:
    """A code sent to PHONE and a ticket of another citizen waiting for a rating by link: (code, token, number)."""
    APIClient().post("/api/app/auth/code/", {"phone": PHONE}, format="json")
    sent = SmsMessage.objects.get(purpose="verification")
    code = re.search(r"验证码是(\d{6})", sent.body).group(1)  # type: ignore[union-attr]
    matter = Matter(channel="phone", national="13900139000", quotes_contact=False)
    file(matter, 1)
    dispatch(matter)
    handle(matter)
    asked = SmsMessage.objects.get(ticket_id=matter.ticket_id, purpose="rating_request")
    token = re.search(r"/citizen/rate/([^/\s]+)/", asked.body).group(1)  # type: ignore[union-attr]
    for message in SmsMessage.objects.all():
        tasks.sms_send.apply(args=[message.pk])  # no Twilio credentials: each stays in the local outbox
    assert set(SmsMessage.objects.values_list("state", flat=True)) == {SmsState.OUTBOX}
    return code, token, matter.number


def test_the_outbox_page_masks_codes_and_rating_links(city: Any) -> None:
    code, token, number = _secrets(city)

    page = page_client("operator1").get("/sms-outbox/").content.decode()

    assert code not in page and token not in page
    assert "您的验证码是******" in page and "/citizen/rate/***/" in page
    assert number in page  # the rest of each message is still there to read
    # What the operator can read does not let them act as the citizen.
    login = APIClient().post("/api/app/auth/login/", {"phone": PHONE, "code": "******"}, format="json")
    assert login.status_code == 400
    assert Client().get("/citizen/rate/***/").status_code == 404


def test_the_admin_masks_them_in_the_list_and_on_the_message(city: Any) -> None:
    code, token, _ = _secrets(city)
    admin = Client()
    admin.force_login(User.objects.get(username="admin"))

    listed = admin.get("/admin/tickets/smsmessage/")
    assert listed.status_code == 200
    pages = [listed.content.decode()]
    for message in SmsMessage.objects.all():
        shown = admin.get(f"/admin/tickets/smsmessage/{message.pk}/change/")
        assert shown.status_code == 200
        pages.append(shown.content.decode())
    assert all(code not in page and token not in page for page in pages)
    assert any("您的验证码是******" in page for page in pages[1:])


def test_the_offline_demo_switch_shows_them_only_for_messages_no_phone_received(city: Any, settings: Any) -> None:
    code, token, _ = _secrets(city)
    settings.DEMO_SHOW_SECRETS = True

    page = page_client("operator1").get("/sms-outbox/").content.decode()
    assert code in page and token in page  # start.sh's embedded demo: the citizen flow can be completed

    SmsMessage.objects.update(state=SmsState.DELIVERED)  # as if a real SMS gateway had delivered them
    page = page_client("operator1").get("/sms-outbox/").content.decode()
    assert code not in page and token not in page


def test_the_privacy_rule_names_the_sms_values_the_messaging_model_stores() -> None:
    """tickets.core.privacy compares plain values (core sits below messaging): they must stay equal."""
    assert privacy_rule.SMS_PURPOSE_VERIFICATION == SmsPurpose.VERIFICATION
    assert privacy_rule.SMS_STATE_OUTBOX == SmsState.OUTBOX
