"""Input rules and normalisation shared by every door: the API's fields, the staff pages' forms,
partner systems. Services call `text_checked` / `text_required` on every text they store, so a
console form and the API refuse the same input with the same message (issue 14: an over-long name
typed in the console reached PostgreSQL, DataError, HTTP 500; a NUL byte did the same)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from django.conf import settings

from tickets.errors import InvalidInput

# Full-width letters and digits (Ａ-Ｚ, ａ-ｚ, ０-９) and the ideographic space become half-width.
# Full-width punctuation such as ，！？（） stays: it is how Chinese is written.
_FULLWIDTH = {
    cp: cp - 0xFEE0 for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for cp in range(lo, hi + 1)
}
_FULLWIDTH[0x3000] = 0x20
PHONE_RAW_MAX = 32  # a number as typed, before E.164: spaces, dashes, +86, full-width digits
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# What a written phone number may hold besides its digits. phonenumbers skips leading letters
# ("abc13812345678" parses as a valid number) and reads "x12" as an extension that E.164 drops.
_PHONE_CHARS = re.compile(r"\+?[\d\s().\-]+")


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value) or _SURROGATE.search(value))


def text_checked(value: Any, *, field: str, max_length: int, min_length: int = 0, label: str = "") -> str:
    """A text as a door received it → the text without surrounding blanks, or InvalidInput naming
    the field: not a string, control characters (NUL included), longer than `max_length` or shorter
    than `min_length` characters. `label` is the field's Chinese name for messages shown on pages."""
    if not isinstance(value, str):
        raise InvalidInput(f"{label}必须是字符串", field=field, rule="type")
    if has_control_chars(value):
        raise InvalidInput(f"{label}包含不允许的控制字符", field=field, rule="control_chars")
    value = value.strip()
    if len(value) > max_length:
        message = f"{label}不能超过 {max_length} 个字符（现有 {len(value)} 个）"
        raise InvalidInput(message, field=field, rule="max_length")
    if len(value) < min_length:
        if not value and label:
            raise InvalidInput(f"请填写{label}", field=field, rule="required")
        raise InvalidInput(f"{label}至少需要 {min_length} 个字符", field=field, rule="min_length")
    return value


def text_required(value: Any, *, field: str, label: str, max_length: int | None = None) -> str:
    """A reason, reply or note that must be given (at most REASON_MAX characters unless said)."""
    limit = settings.REASON_MAX if max_length is None else max_length
    return text_checked(value, field=field, max_length=limit, min_length=1, label=label)


def text_optional(value: Any, *, field: str, label: str, max_length: int | None = None) -> str:
    """A reason or note that may be left empty (at most REASON_MAX characters unless said)."""
    limit = settings.REASON_MAX if max_length is None else max_length
    return text_checked(value, field=field, max_length=limit, label=label)


# A ticket's texts: the Chinese label shown on pages, the limit (settings, README "Input limits").
TICKET_TEXTS = {
    "title": ("标题", "TICKET_TITLE_MAX"),
    "text": ("诉求内容", "TICKET_TEXT_MAX"),
    "citizen_name": ("市民姓名", "TICKET_NAME_MAX"),
    "citizen_address": ("地址", "TICKET_ADDRESS_MAX"),
}
TICKET_TEXT_MIN = 2


def ticket_texts_check(values: Mapping[str, Any], *, draft: bool = False) -> dict[str, str]:
    """The ticket texts present in `values`, by the rule every door shares (API, console, citizen
    pages, partners) → stripped. A draft (SMS, voicemail) may still lack its text: the operator
    completes it, and completing applies the minimum."""
    checked = {}
    for field, value in values.items():
        label, limit = TICKET_TEXTS[field]
        least = TICKET_TEXT_MIN if field == "text" and not draft else 0
        checked[field] = text_checked(
            value, field=field, max_length=getattr(settings, limit), min_length=least, label=label
        )
    return checked


def normalise_text(value: str, *, strip_controls: bool = True) -> str:
    """Full-width ASCII to half-width, runs of spaces folded, line ends unified."""
    value = value.translate(_FULLWIDTH).replace("\r\n", "\n").replace("\r", "\n")
    if strip_controls:
        value = _SURROGATE.sub("", _CONTROL.sub("", value))
    value = _SPACES.sub(" ", value)
    return _BLANK_LINES.sub("\n\n", value).strip()


def normalise_phone(raw: str, *, field: str = "citizen_phone", region: str = "CN") -> str:
    """Any way a caller writes a number → E.164 (default region CN). Empty stays empty."""
    raw = normalise_text(raw or "")
    if not raw:
        return ""
    if not _PHONE_CHARS.fullmatch(raw):
        raise InvalidInput("电话号码只能包含数字、空格、括号、连字符和开头的+号", field=field, rule="phone")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("电话号码格式不正确", field=field, rule="phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("电话号码无效", field=field, rule="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
