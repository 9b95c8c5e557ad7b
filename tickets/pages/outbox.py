"""短信发件箱 (staff): every outbound SMS and its delivery state; with no Twilio credentials this
is where the offline demo's messages (including verification codes) can be read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.utils.translation import gettext as _

from tickets.models import SmsMessage
from tickets.services.sms import twilio_configured


@login_required(login_url="/admin/login/")
def sms_outbox(request: HttpRequest) -> HttpResponse:
    if not getattr(request.user, "is_centre", False):
        return HttpResponseForbidden(_("仅限热线中心人员"))
    messages = SmsMessage.objects.select_related("ticket").order_by("-id")[:200]
    return render(request, "tickets/sms_outbox.html", {"messages": messages, "offline": not twilio_configured()})
