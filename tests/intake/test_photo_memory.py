"""Citizen photos cost bounded memory (issue 14, finding 9): five 40-MP JPEGs in one submission
once took the web process from 362 to 947 MB. Headers are checked before anything is decoded, one
photo is decoded at a time (baseline JPEGs at a reduced scale) and stored photos are downscaled.

The memory figures here are the process's peak resident memory (Linux: VmHWM, reset through
/proc/self/clear_refs) around one request; the benchmark with the real server is
bench/uploads/photo_memory.py.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.intake.test_citizen_pages import FORM, verify_phone
from tickets.core.models import Ticket
from tickets.intake.models import TicketAttachment

REPO = Path(__file__).resolve().parents[2]
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _kb(name: str) -> int:
    return int(re.search(rf"^{name}:\s+(\d+) kB", STATUS.read_text(), re.M).group(1))  # type: ignore[union-attr]


def peak_growth_mb(action: Callable[[], Any]) -> tuple[Any, float]:
    """Run `action`; return its result and how far the process's peak RSS rose above the RSS before."""
    before = _kb("VmRSS")
    CLEAR_REFS.write_text("5")  # VmHWM := VmRSS
    result = action()
    return result, (_kb("VmHWM") - before) / 1024


def _peak_resettable() -> bool:
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


needs_proc = pytest.mark.skipif(not STATUS.exists() or not _peak_resettable(), reason="needs Linux /proc peak RSS")


@pytest.fixture(scope="module")
def forty_mp_jpeg() -> bytes:
    """A 39.8-MP JPEG (7728 x 5152, ~0.7 MB), made in a child process so that the 120 MB of pixels
    it takes to draw never sit in this process's heap, where a decode could reuse them unseen."""
    script = "import sys; from bench.uploads.photo_memory import photo_jpeg; sys.stdout.buffer.write(photo_jpeg(1))"
    made = subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, capture_output=True, timeout=120)
    return made.stdout


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


@needs_proc
def test_five_40_megapixel_photos_cost_about_one_reduced_photo_of_memory(
    city: Any, web: Any, forty_mp_jpeg: bytes
) -> None:
    verify_phone(web)
    photos = [upload(f"{i}.jpg", forty_mp_jpeg) for i in range(5)]
    response, peak = peak_growth_mb(lambda: web.post("/citizen/submit/", {**FORM, "photos": photos}))

    assert response.status_code == 302
    # Before: each photo decoded at full size (120 MB) and copied twice: ~590 MB above the RSS before.
    assert peak < 120, f"peak RSS rose by {peak:.0f} MB for one submission"
    stored = TicketAttachment.objects.filter(ticket=Ticket.objects.get())
    assert stored.count() == 5
    assert {(a.width, a.height) for a in stored} == {(1920, 1280)}


@needs_proc
def test_a_refused_photo_refuses_the_submission_before_any_photo_is_decoded(
    city: Any, web: Any, forty_mp_jpeg: bytes
) -> None:
    verify_phone(web)
    photos = [*(upload(f"{i}.jpg", forty_mp_jpeg) for i in range(4)), upload("x.jpg", b"<?php echo 1; ?>" * 10)]
    response, peak = peak_growth_mb(lambda: web.post("/citizen/submit/", {**FORM, "photos": photos}))

    assert response.status_code == 400 and "仅支持 JPG、PNG、GIF、WEBP" in response.content.decode()
    assert peak < 40, f"peak RSS rose by {peak:.0f} MB although nothing should have been decoded"
    assert not Ticket.objects.exists()


def test_a_stored_photo_is_downscaled_to_the_long_side_limit_and_upright(city: Any, web: Any) -> None:
    verify_phone(web)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; the picture must be rotated 90° to show
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 10.0)}  # GPS position
    with Image.new("RGB", (4000, 3000), (40, 120, 200)) as image:
        photo = encoded(image, "JPEG", exif=exif, quality=80)

    response = web.post("/citizen/submit/", {**FORM, "photos": [upload("turned.jpg", photo)]})

    assert response.status_code == 302
    attachment = TicketAttachment.objects.get()
    assert settings.CITIZEN_PHOTO_MAX_SIDE == 1920
    assert (attachment.width, attachment.height) == (1440, 1920)  # 4000 x 3000 turned upright, long side 1920
    with attachment.file.open("rb") as stored, Image.open(stored) as image:
        assert image.size == (1440, 1920) and not image.getexif()


@pytest.mark.parametrize(
    ("name", "fmt", "options", "accepted"),
    [
        ("baseline.jpg", "JPEG", {}, True),  # decoded at 1/2 scale: 20 MP is within the 40-MP limit
        ("progressive.jpg", "JPEG", {"progressive": True}, False),  # its decoder holds the full image
        ("screen.png", "PNG", {}, False),  # PNG is always decoded at full size
    ],
)
def test_formats_decoded_at_full_size_have_the_lower_pixel_limit(
    city: Any, web: Any, name: str, fmt: str, options: dict[str, Any], accepted: bool
) -> None:
    verify_phone(web)
    with Image.new("L", (5000, 4000), 128) as image:  # 20 MP: over the 16-MP limit of full decodes
        photo = encoded(image, fmt, **options)
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"

    response = web.post("/citizen/submit/", {**FORM, "photos": [upload(name, photo, content_type)]})

    if accepted:
        assert response.status_code == 302
        assert TicketAttachment.objects.get().width == 1920
    else:
        assert response.status_code == 400
        assert "照片分辨率过高：每张最多 4000 万像素（PNG、GIF、WEBP 和渐进式 JPG 最多 1600 万像素）" in (
            response.content.decode()
        )
        assert not Ticket.objects.exists()


def test_a_photo_is_refused_by_the_pixel_count_in_its_header(city: Any, web: Any) -> None:
    """The file holds a 64 x 48 picture but its header claims 9000 x 9000: it is refused as too
    large, which shows the count was read from the header, not from decoded pixels."""
    verify_phone(web)
    with Image.new("RGB", (64, 48), (200, 30, 30)) as image:
        photo = bytearray(encoded(image, "JPEG"))
    sof = photo.index(b"\xff\xc0")
    photo[sof + 5 : sof + 9] = (9000).to_bytes(2, "big") * 2  # height, width

    response = web.post("/citizen/submit/", {**FORM, "photos": [upload("claims-81mp.jpg", bytes(photo))]})

    assert response.status_code == 400 and "照片分辨率过高" in response.content.decode()
    assert not Ticket.objects.exists()


def test_more_files_than_the_request_limit_are_refused_in_chinese_before_the_view(city: Any, web: Any) -> None:
    verify_phone(web)
    with Image.new("RGB", (64, 48)) as image:
        small = encoded(image, "JPEG")
    photos = [upload(f"{i}.jpg", small) for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]

    response = web.post("/citizen/submit/", {**FORM, "photos": photos})

    assert response.status_code == 400
    assert f"一次最多提交 {settings.DATA_UPLOAD_MAX_NUMBER_FILES} 个文件" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_few_photos_too_many_are_refused_by_the_form_which_keeps_the_text(city: Any, web: Any) -> None:
    """11 photos once reached Django's request limit and lost what the citizen had typed."""
    verify_phone(web)
    with Image.new("RGB", (64, 48)) as image:
        small = encoded(image, "JPEG")
    photos = [upload(f"{i}.jpg", small) for i in range(11)]

    response = web.post("/citizen/submit/", {**FORM, "photos": photos})

    page = response.content.decode()
    assert response.status_code == 400 and f"最多上传 {settings.CITIZEN_PHOTO_MAX} 张照片" in page
    assert FORM["text"] in page
    assert not Ticket.objects.exists()
