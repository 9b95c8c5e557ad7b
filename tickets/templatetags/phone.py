"""`{{ number|phone }}`: a phone number in the readable national form (tickets.core.privacy.phone_display).

Masking stays with the privacy rule: pass a number already shown as the reader may see it."""

from __future__ import annotations

from django import template

from tickets.core.privacy import phone_display

register = template.Library()


@register.filter(name="phone")
def phone(value: str | None) -> str:
    return phone_display(str(value or ""))
