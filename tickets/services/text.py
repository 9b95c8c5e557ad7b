"""Input normalisation shared by every intake channel."""

from __future__ import annotations

import re

import phonenumbers

from tickets.errors import InvalidInput

# Full-width letters and digits (Ａ-Ｚ, ａ-ｚ, ０-９) and the ideographic space become half-width.
# Full-width punctuation such as ，！？（） stays: it is how Chinese is written.
_FULLWIDTH = {
    cp: cp - 0xFEE0 for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for cp in range(lo, hi + 1)
}
_FULLWIDTH[0x3000] = 0x20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value) or _SURROGATE.search(value))


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
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("电话号码格式不正确", field=field, rule="phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("电话号码无效", field=field, rule="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
