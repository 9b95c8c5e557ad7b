"""Citizen photos: the type is sniffed from the bytes, size and pixels are limited, and the image
is re-encoded so no metadata (EXIF with GPS position, camera serials, comments) is kept.

Memory (issue 14): five 40-MP JPEGs (3 MB on the wire) once took a web process from 362 to 947 MB
— each was decoded at full size (120 MB), copied twice more (orientation, mode) and re-encoded at
full size. Now one submission costs at most about one reduced photo:
- every photo's header (type, byte size, pixel count) is checked before any photo is decoded, so a
  refused submission decodes nothing (`Image.open` reads only the header);
- photos are decoded one at a time and closed before the next; what is kept between them is the
  re-encoded result, at most CITIZEN_PHOTO_MAX_SIDE pixels on its long side;
- a baseline JPEG is decoded at a reduced scale (`Image.draft`: libjpeg's DCT scaling, 1/2, 1/4
  or 1/8 of each side), so a 40-MP photo decodes as 2.5 MP; formats that are always decoded at
  full size (PNG, GIF, WEBP, and progressive JPEG, whose decoder holds every coefficient of the
  full image) have the lower limit CITIZEN_PHOTO_MAX_PIXELS_UNSCALED.
Measured by bench/uploads/photo_memory.py.
"""

from __future__ import annotations

import io
import math
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from tickets.core.models import Ticket
from tickets.errors import InvalidInput
from tickets.intake.models import TicketAttachment

_MAGIC = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
]
# What Pillow raises on a truncated or malformed file, while reading the header or decoding.
_BROKEN = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError)


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class PhotoHeader:
    format: str
    width: int
    height: int
    scalable: bool  # decoded at a reduced scale (baseline JPEG)


def _sniff(head: bytes) -> str | None:
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _pixels_refused(field: str) -> InvalidInput:
    return InvalidInput(
        f"照片分辨率过高：每张最多 {settings.CITIZEN_PHOTO_MAX_PIXELS // 10_000} 万像素"
        f"（PNG、GIF、WEBP 和渐进式 JPG 最多 "
        f"{settings.CITIZEN_PHOTO_MAX_PIXELS_UNSCALED // 10_000} 万像素）",
        field=field,
        rule="photo_pixels",
    )


@contextmanager
def _opened(stream: IO[bytes], field: str) -> Iterator[Image.Image]:
    """The photo opened (lazily: only the header is read until `load()`), closed and the stream
    rewound afterwards; Pillow's errors become the citizen's 400."""
    try:
        with Image.open(stream) as image:
            yield image
    except Image.DecompressionBombError:
        raise _pixels_refused(field) from None
    except _BROKEN:
        raise InvalidInput("无法识别的照片文件", field=field, rule="photo_broken") from None
    finally:
        stream.seek(0)


def photo_check(stream: IO[bytes], *, size: int, field: str = "photos") -> PhotoHeader:
    """Check one photo by its size and header only (nothing is decoded); the stream is rewound."""
    if size > settings.CITIZEN_PHOTO_MAX_BYTES:
        limit = settings.CITIZEN_PHOTO_MAX_BYTES // (1024 * 1024)
        raise InvalidInput(f"每张照片不能超过 {limit} MB", field=field, rule="photo_size")
    stream.seek(0)
    fmt = _sniff(stream.read(16))
    stream.seek(0)
    if fmt is None:
        raise InvalidInput("仅支持 JPG、PNG、GIF、WEBP 格式的照片", field=field, rule="photo_type")
    with _opened(stream, field) as probe:
        width, height = probe.size
        found = probe.format
        progressive = bool(probe.info.get("progressive"))
    if found != fmt:
        raise InvalidInput("照片内容与格式不符", field=field, rule="photo_type")
    scalable = fmt == "JPEG" and not progressive
    limit = settings.CITIZEN_PHOTO_MAX_PIXELS if scalable else settings.CITIZEN_PHOTO_MAX_PIXELS_UNSCALED
    if width * height > limit:
        raise _pixels_refused(field)
    return PhotoHeader(fmt, width, height, scalable)


def _fit(width: int, height: int) -> tuple[int, int]:
    """The largest size within CITIZEN_PHOTO_MAX_SIDE on the long side, aspect kept."""
    scale = settings.CITIZEN_PHOTO_MAX_SIDE / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def _decode(stream: IO[bytes], header: PhotoHeader, field: str) -> CleanPhoto:
    target = _fit(header.width, header.height)
    with _opened(stream, field) as image:
        if header.scalable:
            image.draft("RGB", target)  # decode at 1/2, 1/4 or 1/8 scale, never below target
        image.seek(0)  # first frame of an animation
        image.load()
        image.thumbnail(target)  # in place: the reduced pixels replace the decoded ones
        ImageOps.exif_transpose(image, in_place=True)  # keep the picture upright once EXIF is gone
        has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
        out_fmt, ext, ctype = ("PNG", "png", "image/png") if has_alpha else ("JPEG", "jpg", "image/jpeg")
        # convert() makes a new image: its metadata is dropped below, the source's is never written.
        with image.convert("RGBA" if has_alpha else "RGB") as clean:
            clean.info = {}
            with io.BytesIO() as buffer:
                options = {"quality": 85, "optimize": True} if out_fmt == "JPEG" else {}
                clean.save(buffer, format=out_fmt, **options)
                return CleanPhoto(buffer.getvalue(), ctype, ext, clean.width, clean.height)


def photos_clean(*, files: Sequence[UploadedFile], field: str = "photos") -> list[CleanPhoto]:
    """All photos of one submission, re-encoded without metadata, at most CITIZEN_PHOTO_MAX_SIDE
    pixels on the long side: every header first, then one decode at a time.

    A refused photo (type, size, pixels) refuses the submission before any photo is decoded.
    """
    headers = [photo_check(f, size=f.size or 0, field=field) for f in files]
    return [_decode(f, header, field) for f, header in zip(files, headers, strict=True)]


def photo_attach(*, ticket: Ticket, photo: CleanPhoto) -> TicketAttachment:
    return TicketAttachment.objects.create(
        ticket=ticket,
        file=ContentFile(photo.content, name=f"{uuid.uuid4().hex}.{photo.extension}"),
        content_type=photo.content_type,
        size=len(photo.content),
        width=photo.width,
        height=photo.height,
    )
