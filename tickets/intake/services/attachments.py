"""Attachments on a ticket beyond the citizen's photos: a unit's reply attachments (photos of the
work done, a signed PDF). Images go through the same checks and re-encoding as citizen photos
(no EXIF/GPS kept); a PDF is accepted by its signature and size. Files are served only through
the logged page view (`tickets/pages/attachments.py`), never a public URL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from tickets.core.models import Assignment, Ticket
from tickets.errors import InvalidInput
from tickets.intake.models import AttachmentSource, TicketAttachment
from tickets.intake.services import photos
from tickets.org.models import User

PDF_MAGIC = b"%PDF-"
FIELD = "attachments"


def _is_pdf(upload: UploadedFile) -> bool:
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    return head == PDF_MAGIC


def _name(upload: UploadedFile) -> str:
    return (upload.name or "")[-200:]


def reply_attachments_add(
    *, ticket: Ticket, assignment: Assignment, files: Sequence[UploadedFile], user: User
) -> list[TicketAttachment]:
    """办复附件: each file checked before any is stored; a refused file refuses them all (400)."""
    if len(files) > settings.CITIZEN_PHOTO_MAX:
        raise InvalidInput(f"一次最多上传 {settings.CITIZEN_PHOTO_MAX} 个附件", field=FIELD, rule="attachment_count")
    pdfs = [f for f in files if _is_pdf(f)]
    for pdf in pdfs:
        if (pdf.size or 0) > settings.CITIZEN_PHOTO_MAX_BYTES:
            limit = settings.CITIZEN_PHOTO_MAX_BYTES // (1024 * 1024)
            raise InvalidInput(f"每个附件不能超过 {limit} MB", field=FIELD, rule="attachment_size")
    images = [f for f in files if f not in pdfs]
    try:
        cleaned = photos.photos_clean(files=images, field=FIELD)
    except InvalidInput as exc:
        if exc.rule == "photo_type":
            raise InvalidInput(
                "附件仅支持照片（JPG、PNG、GIF、WEBP）和 PDF 文件", field=FIELD, rule="attachment_type"
            ) from None
        raise
    common = {"ticket": ticket, "assignment": assignment, "uploaded_by": user, "source": AttachmentSource.UNIT_REPLY}
    stored = []
    for upload, photo in zip(images, cleaned, strict=True):
        row = photos.photo_attach(ticket=ticket, photo=photo)
        TicketAttachment.objects.filter(pk=row.pk).update(original_name=_name(upload), **common)
        row.refresh_from_db()
        stored.append(row)
    for pdf in pdfs:
        pdf.seek(0)
        content = pdf.read()
        stored.append(
            TicketAttachment.objects.create(
                file=ContentFile(content, name=f"{uuid.uuid4().hex}.pdf"),
                content_type="application/pdf",
                size=len(content),
                original_name=_name(pdf),
                **common,
            )
        )
    return stored
