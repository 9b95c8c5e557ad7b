"""The Django admin as the centre's administrators use it: a wrong value is a Chinese message on the
form (never a 500, never saved), reading a ticket there is logged like anywhere else, and the pages
speak Chinese, labels instead of stored codes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.tickets.helpers import dispatched, new_ticket
from tickets.core.actors import Actor
from tickets.core.models import AccessAction, TicketAccessLog, TicketEvent
from tickets.intake.models import Call, CallbackTask, InboundMessage
from tickets.messaging.models import SmsMessage, SmsOptOut
from tickets.org.models import Category, Unit, User
from tickets.pages import history
from tickets.sla.models import CityProfile, SlaPolicy
from tickets.sla.services import policy as sla_policy
from tickets.supervision.services.supervision import ticket_supervise


@pytest.fixture
def admin_client(city: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.get(username="admin"))
    return client


def _form_data(client: Client, url: str) -> dict[str, Any]:
    """What the change page's form would send back unchanged."""
    form = client.get(url).context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = list(value)
        else:
            data[name] = "" if value is None else value
    return data


def _errors(response: Any) -> str:
    """The form's error messages, field and non-field, as one text."""
    form = response.context["adminform"].form
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


def _policy_form(policy: SlaPolicy) -> dict[str, Any]:
    editable = sla_policy.POLICY_EDITABLE - {"pause_allowed"}
    form: dict[str, Any] = {f: getattr(policy, f) for f in editable}
    form["pause_allowed"] = "on" if policy.pause_allowed else ""
    return form


# --- 1. an SLA policy the service refuses is a form error, not a 500 ----------------------------------


def test_adding_a_policy_with_a_zero_deadline_shows_the_rule_and_saves_nothing(admin_client: Client) -> None:
    current = SlaPolicy.objects.filter(is_current=True).first()
    assert current is not None
    rows = SlaPolicy.objects.count()
    data = {**_policy_form(current), "profile": current.profile_id, "kind": current.kind, "urgency": current.urgency}
    data["reply_amount"] = 0
    response = admin_client.post("/admin/tickets/slapolicy/add/", data)
    assert response.status_code == 200
    assert "时限必须是正整数" in response.context["adminform"].form.errors["reply_amount"][0]
    assert "<title>错误：" in response.content.decode()  # Django's "Error:" prefix, in Chinese
    assert SlaPolicy.objects.count() == rows


def test_editing_a_policy_with_a_fraction_over_one_shows_the_rule_and_saves_nothing(admin_client: Client) -> None:
    policy = SlaPolicy.objects.filter(is_current=True).first()
    assert policy is not None
    rows = SlaPolicy.objects.count()
    response = admin_client.post(
        f"/admin/tickets/slapolicy/{policy.pk}/change/", {**_policy_form(policy), "warn_fraction": 1.5}
    )
    assert response.status_code == 200
    assert "催办提前比例须在 0 与 1 之间" in response.context["adminform"].form.errors["warn_fraction"][0]
    assert SlaPolicy.objects.count() == rows
    policy.refresh_from_db()
    assert policy.is_current and policy.warn_fraction != 1.5


def test_saving_an_old_policy_version_is_a_message_not_a_500(admin_client: Client) -> None:
    policy = SlaPolicy.objects.filter(is_current=True).first()
    assert policy is not None
    sla_policy.policy_revise(policy=policy, changes={"reply_amount": policy.reply_amount + 1})
    rows = SlaPolicy.objects.count()
    response = admin_client.post(f"/admin/tickets/slapolicy/{policy.pk}/change/", {}, follow=True)
    assert response.status_code == 200
    assert "只能修改当前生效的时限版本" in response.content.decode()
    assert SlaPolicy.objects.count() == rows


# --- 2. values that cannot be right -------------------------------------------------------------------


def test_a_city_threshold_above_one_is_refused(admin_client: Client) -> None:
    profile = CityProfile.objects.get(is_active=True)
    url = f"/admin/tickets/cityprofile/{profile.pk}/change/"
    response = admin_client.post(url, {**_form_data(admin_client, url), "auto_dispatch_threshold": 2})
    assert response.status_code == 200
    assert "须在 0 与 1 之间" in _errors(response)
    profile.refresh_from_db()
    assert profile.auto_dispatch_threshold == pytest.approx(0.6)


def test_a_category_threshold_above_one_is_refused_and_empty_is_kept(admin_client: Client) -> None:
    category = Category.objects.filter(parent__isnull=False).first() or Category.objects.first()
    assert category is not None
    url = f"/admin/tickets/category/{category.pk}/change/"
    data = _form_data(admin_client, url)
    response = admin_client.post(url, {**data, "auto_dispatch_threshold": 1.5})
    assert response.status_code == 200
    assert "须在 0 与 1 之间" in _errors(response)
    assert admin_client.post(url, {**data, "auto_dispatch_threshold": ""}).status_code == 302
    category.refresh_from_db()
    assert category.auto_dispatch_threshold is None


def test_a_liaison_phone_that_is_no_number_is_refused_and_a_good_one_is_normalised(admin_client: Client) -> None:
    unit = Unit.objects.get(code="centre")
    url = f"/admin/tickets/unit/{unit.pk}/change/"
    data = _form_data(admin_client, url)
    response = admin_client.post(url, {**data, "liaison_phone": "abc"})
    assert response.status_code == 200
    assert "联络电话须为手机号码或带区号的固定电话" in _errors(response)
    unit.refresh_from_db()
    assert unit.liaison_phone != "abc"
    saved = admin_client.post(url, {**data, "liaison_phone": "138 1234 1234"})
    assert saved.status_code == 302, _errors(saved)
    unit.refresh_from_db()
    assert unit.liaison_phone == "+8613812341234"


# --- 3. reading a ticket in the admin is logged ---------------------------------------------------------


def test_opening_a_ticket_in_the_admin_writes_one_view_row(admin_client: Client) -> None:
    ticket = new_ticket()
    before = TicketAccessLog.objects.filter(ticket=ticket).count()
    page = admin_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")
    assert page.status_code == 200
    assert "张先生" in page.content.decode()  # the page does show the citizen
    logged = TicketAccessLog.objects.filter(ticket=ticket).order_by("id")[before:]
    assert [(row.action, row.user.username, row.detail) for row in logged] == [
        (AccessAction.VIEW, "admin", {"via": "admin.ticket"})
    ]


def test_opening_a_call_or_its_callback_task_in_the_admin_is_logged_with_its_ticket(admin_client: Client) -> None:
    """The 来电 and 未接来电回拨 pages show the caller's number: a reading is logged as a ticket's is."""
    ticket = new_ticket()
    call = Call.objects.create(call_sid="CA" + "7" * 32, phone="+8613700137000", ticket=ticket)
    lonely = Call.objects.create(call_sid="CA" + "8" * 32, phone="+8613700137001")
    task = CallbackTask.objects.create(call=lonely, phone=lonely.phone, reason="无人接听")

    assert admin_client.get(f"/admin/tickets/call/{call.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/tickets/callbacktask/{task.pk}/change/").status_code == 200

    rows = list(TicketAccessLog.objects.filter(detail__via__in=["admin.call", "admin.callbacktask"]).order_by("id"))
    assert [(r.ticket_id, r.user.username, r.detail) for r in rows] == [
        (ticket.pk, "admin", {"via": "admin.call", "record": call.pk}),
        (None, "admin", {"via": "admin.callbacktask", "record": task.pk}),
    ]


def test_the_admin_lists_mask_citizens_numbers_and_log_nothing(admin_client: Client) -> None:
    """A list shows many citizens at once and logs no reading: numbers are masked there (137 **** 7000),
    and in full only on the record's own page, whose reading is logged."""
    ticket = new_ticket()
    call = Call.objects.create(call_sid="CA" + "7" * 32, phone="+8613700137000", ticket=ticket)
    CallbackTask.objects.create(call=call, phone=call.phone, reason="无人接听")
    InboundMessage.objects.create(channel="sms", sid="SM" + "1" * 32, phone="+8613700137000", ticket=ticket)
    SmsOptOut.objects.create(phone="+8613700137000", source="sms")
    SmsMessage.objects.create(to_phone="+8613700137000", body="您的诉求已受理", purpose="received", ticket=ticket)
    before = TicketAccessLog.objects.count()

    for model in ("call", "callbacktask", "inboundmessage", "smsoptout", "smsmessage"):
        page = admin_client.get(f"/admin/tickets/{model}/").content.decode()
        assert "137\u00a0****\u00a07000" in page, model  # one line
        assert "13700137000" not in page and "137 0013 7000" not in page, model
    assert TicketAccessLog.objects.count() == before
    # The admin's 最近动作 keeps a record's name as it was: an edited callback task is named masked.
    assert str(CallbackTask.objects.get(call=call)) == "回拨 137****7000 (待回拨)"

    opt_out = SmsOptOut.objects.get(phone="+8613700137000")
    assert "13700137000" in admin_client.get(f"/admin/tickets/smsoptout/{opt_out.pk}/change/").content.decode()
    assert TicketAccessLog.objects.filter(detail__via="admin.smsoptout").count() == 1


# --- 4. Django's words in Chinese ------------------------------------------------------------------------


def test_the_two_pane_picker_speaks_chinese(admin_client: Client) -> None:
    script = admin_client.get("/admin/jsi18n/").content.decode()
    for english, chinese in [
        ("Choose all %s", "选择全部%s"),
        ("Remove all %s", "移除全部%s"),
        ("Choose selected %s", "选择选中的%s"),
        ("Remove selected %s", "移除选中的%s"),
        (
            'Choose %s by selecting them and then select the "Choose" arrow button.',
            "选中要添加的%s，然后点击“选择”箭头按钮。",
        ),
    ]:
        assert f"{json.dumps(english)}: {json.dumps(chinese)}" in script, english


def test_the_user_add_page_speaks_chinese(admin_client: Client) -> None:
    page = admin_client.get("/admin/tickets/user/add/").content.decode()
    assert "After you’ve created a user" not in page
    assert "创建用户后，即可编辑该用户的更多选项。" in page


# --- 5. read-only pages show labels, not codes -----------------------------------------------------------


def _heading(page: str) -> str:
    found = re.search(r"<h2>(.*?)</h2>", page, re.S)
    assert found is not None
    return found.group(1).strip()


def test_an_event_page_is_headed_and_labelled_as_the_list_shows_it(admin_client: Client) -> None:
    ticket = new_ticket()
    event = TicketEvent.objects.get(ticket=ticket, action="created")
    page = admin_client.get(f"/admin/tickets/ticketevent/{event.pk}/change/").content.decode()
    assert _heading(page) == f"{ticket.number} 受理"
    assert f"{ticket.pk}:created" not in page  # neither heading, window title nor breadcrumb
    fields = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('id="content-main"')[1]))
    assert "受理" in fields and "已受理" in fields
    assert " created " not in fields and " registered " not in fields


def test_an_access_log_page_names_reader_action_and_ticket(admin_client: Client) -> None:
    ticket = new_ticket()
    admin_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")
    row = TicketAccessLog.objects.filter(ticket=ticket).latest("id")
    page = admin_client.get(f"/admin/tickets/ticketaccesslog/{row.pk}/change/").content.decode()
    heading = _heading(page)
    assert "查看" in heading and ticket.number in heading and " view " not in f" {heading} "


def test_a_supervision_notice_page_names_the_ticket_clock_and_issuer(admin_client: Client, units: Any) -> None:
    ticket, _assignment = dispatched(units["rsj"])
    supervisor = User.objects.get(username="supervisor1")
    (notice,) = ticket_supervise(ticket=ticket, actor=Actor.of(supervisor), note="请加快办理")
    page = admin_client.get(f"/admin/tickets/supervision/{notice.pk}/change/").content.decode()
    assert _heading(page) == f"{ticket.number} 人工督办"
    fields = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('id="content-main"')[1]))
    assert " 办结 " in fields and " reply " not in fields
    assert history.person_label(supervisor) in fields
