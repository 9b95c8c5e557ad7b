"""What of a citizen's data a reader may see (domain.md §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from tickets.models import Ticket, User


class CitizenView(TypedDict):
    citizen_name: str
    citizen_phone: str
    citizen_address: str
    phone_masked: bool


def mask_phone(phone: str) -> str:
    """+8613812341234 → 138****1234 (a national number with the middle digits hidden)."""
    if not phone:
        return ""
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def citizen_view(ticket: Ticket, user: User) -> CitizenView:
    """Centre staff see everything; unit staff see masked phones and nothing of 保密/匿名 tickets."""
    if user.is_centre:
        return CitizenView(
            citizen_name=ticket.citizen_name,
            citizen_phone=ticket.citizen_phone,
            citizen_address=ticket.citizen_address,
            phone_masked=False,
        )
    if ticket.confidential or ticket.anonymous:
        return CitizenView(citizen_name="", citizen_phone="", citizen_address="", phone_masked=True)
    return CitizenView(
        citizen_name=ticket.citizen_name,
        citizen_phone=mask_phone(ticket.citizen_phone),
        citizen_address=ticket.citizen_address,
        phone_masked=True,
    )
