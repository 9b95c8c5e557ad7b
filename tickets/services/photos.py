"""Citizen photos: the type is sniffed from the bytes, size and pixels are limited, and the image
is re-encoded so no metadata (EXIF with GPS position, camera serials, comments) is kept."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from tickets.errors import InvalidInput
from tickets.models import Ticket, TicketAttachment

_MAGIC = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
]


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _sniff(head: bytes) -> str | None:
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def photo_clean(stream: IO[bytes], *, size: int, field: str = "photos") -> CleanPhoto:
    """Check one uploaded photo and return it re-encoded without metadata."""
    if size > settings.CITIZEN_PHOTO_MAX_BYTES:
        limit = settings.CITIZEN_PHOTO_MAX_BYTES // (1024 * 1024)
        raise InvalidInput(f"每张照片不能超过 {limit} MB", field=field, rule="photo_size")
    head = stream.read(16)
    stream.seek(0)
    fmt = _sniff(head)
    if fmt is None:
        raise InvalidInput("仅支持 JPG、PNG、GIF、WEBP 格式的照片", field=field, rule="photo_type")
    try:
        with Image.open(stream) as probe:
            if probe.format != fmt:
                raise InvalidInput("照片内容与格式不符", field=field, rule="photo_type")
            if probe.width * probe.height > settings.CITIZEN_PHOTO_MAX_PIXELS:
                raise InvalidInput("照片分辨率过高", field=field, rule="photo_pixels")
            probe.seek(0)
            probe.load()
            image = ImageOps.exif_transpose(probe)  # keep the picture upright once EXIF is gone
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise InvalidInput("无法识别的照片文件", field=field, rule="photo_broken") from None
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        clean, out_fmt, ext, ctype = image.convert("RGBA"), "PNG", "png", "image/png"
    else:
        clean, out_fmt, ext, ctype = image.convert("RGB"), "JPEG", "jpg", "image/jpeg"
    clean.info = {}
    buffer = io.BytesIO()
    clean.save(buffer, format=out_fmt, **({"quality": 85, "optimize": True} if out_fmt == "JPEG" else {}))
    return CleanPhoto(buffer.getvalue(), ctype, ext, clean.width, clean.height)


def photo_attach(*, ticket: Ticket, photo: CleanPhoto) -> TicketAttachment:
    return TicketAttachment.objects.create(
        ticket=ticket,
        file=ContentFile(photo.content, name=f"{uuid.uuid4().hex}.{photo.extension}"),
        content_type=photo.content_type,
        size=len(photo.content),
        width=photo.width,
        height=photo.height,
    )
