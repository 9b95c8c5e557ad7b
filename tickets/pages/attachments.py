"""Attachments through an authenticated, logged door: never a public media URL.

Each opening (thumbnail or full size) is a TicketAccessLog row (`access.attachment_view_record`);
the file is answered with `Cache-Control: private, no-store`, so no shared cache keeps a citizen's
photo. Another unit's attachment is a 404, like its ticket.
"""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from tickets.core.services import access
from tickets.intake import selectors as intake_selectors
from tickets.org.models import User
from tickets.pages.common import CENTRE_PAGE_ROLES, UNIT_PAGE_ROLES, role_required


@require_GET
@role_required(*CENTRE_PAGE_ROLES, *UNIT_PAGE_ROLES)
def attachment_file(request: HttpRequest, attachment_id: int) -> HttpResponse:
    reader: User = request.user  # type: ignore[assignment]
    attachment = intake_selectors.attachment_get(reader, attachment_id)
    size = "thumb" if request.GET.get("size") == "thumb" else "full"
    access.attachment_view_record(
        ticket=attachment.ticket, user=reader, attachment=f"file:{attachment.pk}", via=f"page.attachment.{size}"
    )
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]  # a streamed file: role_required types pages as HttpResponse


@require_GET
@role_required(*CENTRE_PAGE_ROLES)
def recording_open(request: HttpRequest, call_id: int) -> HttpResponse:
    """收听通话录音 (the centre only): the listening is logged, then the recording is opened."""
    reader: User = request.user  # type: ignore[assignment]
    call = intake_selectors.recording_get(reader, call_id)
    assert call.ticket is not None  # recording_get only returns calls that made a ticket
    access.attachment_view_record(
        ticket=call.ticket, user=reader, attachment=f"recording:{call.pk}", via="page.recording"
    )
    return redirect(call.recording_url)
