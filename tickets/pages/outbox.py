"""短信发件箱 (centre staff): every outbound SMS and its delivery state.

Verification codes and signed rating links are masked (`privacy.sms_body_for_staff`): with them
anyone here could sign in to the app or rate as the citizen. The offline demo shows them only
with HOTLINE_DEMO_SHOW_SECRETS, which `start.sh` sets in its embedded mode."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tickets.core import privacy
from tickets.messaging.models import SmsMessage
from tickets.messaging.services.sms import twilio_configured


@login_required  # the staff login (settings.LOGIN_URL), not the admin's
def sms_outbox(request: HttpRequest) -> HttpResponse:
    if not getattr(request.user, "is_centre", False):
        # 403 (pinned in tests/security/test_authorization_matrix.py), not role_required's 404;
        # handler403 (hotline.errors.permission_denied) renders the styled page with this reason.
        raise PermissionDenied(_("仅限热线中心人员"))
    rows = list(SmsMessage.objects.select_related("ticket").order_by("-id")[:200])
    for message in rows:
        message.body_shown = privacy.sms_body_for_staff(message)  # type: ignore[attr-defined]
    return render(request, "tickets/sms_outbox.html", {"sms_rows": rows, "offline": not twilio_configured()})
