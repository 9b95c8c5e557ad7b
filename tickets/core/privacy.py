"""What a reader may see of a citizen (domain.md §7). The one place that decides it.

Every value that leaves the server and carries something of a citizen passes through here: the
API serializers, the live payloads (socket and catch-up), exports, pages, the notices sent to
units and the SMS outbox. The rules (docs/privacy.md):

- the centre (operators, dispatchers, supervisors, admins) sees the citizen's name, number and
  address in full;
- every other reader (unit staff, the liaison who gets a unit's notice, anyone unknown) sees the
  number masked (138****1234), and on a 保密/匿名 ticket no name, number or address at all — also
  where the citizen wrote them into the text;
- the actor of a citizen's own action is 市民 for every reader: the number lives on the ticket and
  on the inbound rows, never in the history's actor (rows written before this rule stored it
  there; they are shown as 市民 too);
- staff never read a live secret (verification code, signed rating link) in an SMS body, except in
  the offline demo with an explicit switch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from django.conf import settings
from django.db.models import Q

from tickets.core.models import ActorKind, TicketEvent
from tickets.errors import InvalidInput
from tickets.org.models import User

CITIZEN_LABEL = "市民"
HIDDEN = "***"
# Event data that stays with the centre: raw inbound payloads, numbers, and the stored actor label
# (which older rows filled with the citizen's number; `event_actor` is what readers get instead).
PRIVATE_EVENT_KEYS = frozenset({"raw", "phone", "citizen_phone", "from", "caller", "actor_label"})
# The ticket fields every rule here reads (callers that work on plain rows select these).
CITIZEN_FIELDS = ("citizen_name", "citizen_phone", "citizen_address", "confidential", "anonymous")


class Citizen(Protocol):
    """What the rules read of a ticket: a Ticket, or `CitizenFields` built from plain values."""

    @property
    def citizen_name(self) -> str: ...
    @property
    def citizen_phone(self) -> str: ...
    @property
    def citizen_address(self) -> str: ...
    @property
    def confidential(self) -> bool: ...
    @property
    def anonymous(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class CitizenFields:
    """A ticket's citizen fields without a model instance (the scanner's rows, a live payload)."""

    citizen_name: str
    citizen_phone: str
    citizen_address: str
    confidential: bool
    anonymous: bool


class CitizenView(TypedDict):
    citizen_name: str
    citizen_phone: str
    citizen_address: str
    phone_masked: bool


def sees_contact(user: User | None) -> bool:
    """The centre's roles (and superusers) see contact data in full; None is a reader outside it."""
    return bool(user is not None and user.is_authenticated and getattr(user, "is_centre", False))


def is_hidden(ticket: Citizen) -> bool:
    """保密/匿名: only the centre knows who the citizen is."""
    return bool(ticket.confidential or ticket.anonymous)


def may_reveal(ticket: Citizen, user: User) -> bool:
    """查看完整号码 is for the centre, and for unit staff on tickets that are not 保密/匿名."""
    return sees_contact(user) or not is_hidden(ticket)


def may_hear_recording(user: User | None) -> bool:
    """A call recording carries the caller's voice and number: the centre only (domain.md §9)."""
    return sees_contact(user)


def text_search_scope(term: str, user: User | None) -> Q:
    """Which tickets a reader's words may be matched against, or a refusal naming `q`.

    A search answers yes or no about what a ticket says, so it can read what the reader may not
    see: a unit that searches the masked middle digits (or a run that overlaps the visible ones)
    learns the number in about 40 tries, and a guessed name confirmed on a 保密 ticket identifies
    its citizen. Readers outside the centre therefore search words only (a whole ticket number is
    looked up by number before this), and never in the text of 保密/匿名 tickets.
    """
    if sees_contact(user):
        return Q()
    if any(ch.isdigit() for ch in term):
        raise InvalidInput(
            "承办单位检索只能使用文字或完整的工单号，不能包含其他数字（以免推断市民号码）",
            field="q",
            rule="digits_in_search",
        )
    return Q(confidential=False, anonymous=False)


def mask_phone(phone: str) -> str:
    """+8613812341234 → 138****1234 (a national number with the middle digits hidden)."""
    if not phone:
        return ""
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def phone_display(phone: str) -> str:
    """How a page writes a number people read aloud: +8613900083352 → 139 0008 3352, a masked
    138****1234 → 138 **** 1234, a landline +861062345678 → 010 6234 5678. Masking is decided
    before (mask_phone / phone_for / citizen_view); this only groups the digits."""
    if not phone:
        return ""
    national = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(national) == 11 and national[0] == "1":
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    if phone.startswith("+86") and national.isdigit():
        national = "0" + national
        area = 3 if national[1] in "12" else 4  # 010, 02x: three digits; other area codes four
        return f"{national[:area]} {national[area:-4]} {national[-4:]}".replace("  ", " ")
    return phone


def phone_for(phone: str, user: User | None) -> str:
    """A citizen's number that is not read from a ticket (a call, a callback task)."""
    return phone if sees_contact(user) else mask_phone(phone)


def citizen_view(ticket: Citizen, user: User | None) -> CitizenView:
    """The citizen fields of a ticket for this reader."""
    if sees_contact(user):
        return CitizenView(
            citizen_name=ticket.citizen_name,
            citizen_phone=ticket.citizen_phone,
            citizen_address=ticket.citizen_address,
            phone_masked=False,
        )
    if is_hidden(ticket):
        return CitizenView(citizen_name="", citizen_phone="", citizen_address="", phone_masked=True)
    return CitizenView(
        citizen_name=ticket.citizen_name,
        citizen_phone=mask_phone(ticket.citizen_phone),
        citizen_address=ticket.citizen_address,
        phone_masked=True,
    )


# Separators people put inside a number: spaces, hyphens and dashes, dots, brackets.
_SEP = r"[\s\-\u2010-\u2015.·()（）]*"
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_NOT_DIGIT = re.compile(r"\D")  # \d is any Unicode digit: full-width ones are kept (and translated)
# A written number: digits with separators between them, perhaps after a +.
_NUMBER_RUN = re.compile(rf"[+＋]?\d(?:{_SEP}\d)*")
# The digits (and separators, and a leading +) a text ends with: where a cut-off number would be.
_TAIL_NUMBER = re.compile(rf"[+＋]?\d(?:{_SEP}\d)*\Z")
# A resident ID number (18 digits, the last may be X; or the old 15-digit form), also written in
# groups (110101 19900101 123X). Units see none (domain.md §7), whoever's it is.
_ID_NUMBER = re.compile(r"(?<![\dXx])\d{6}([ \-]?)\d{8}\1\d{3}[\dXx](?![\dXx])|(?<!\d)\d{15}(?!\d)")
PREFIXES = ("0086", "86", "0")  # written before a national number: +86, 0086, a trunk 0
MIN_DIGITS = 7  # shorter "numbers" identify nobody; masking them would blank ordinary figures
MIN_TAIL_DIGITS = 4  # the masked number shows three digits and the last four: four more would tell


def _national(phone: str) -> str:
    digits = _NOT_DIGIT.sub("", phone)
    return digits[2:] if phone.startswith("+86") else digits


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text).translate(_FULLWIDTH_DIGITS)


def _mask_run(run: str, national: str, replacement: str) -> str:
    """One written number run (digits and separators) with every occurrence of `national` in it, and
    the +86 / 0086 / 0 before it, replaced."""
    places = [i for i, ch in enumerate(run) if ch.isdecimal()]
    digits = "".join(run[i] for i in places).translate(_FULLWIDTH_DIGITS)
    spans: list[tuple[int, int]] = []
    at = digits.find(national)
    while at >= 0:
        first = next((at - len(p) for p in PREFIXES if digits[:at].endswith(p)), at)
        spans.append((0 if first == 0 else places[first], places[at + len(national) - 1] + 1))
        at = digits.find(national, at + len(national))
    for start, end in reversed(spans):
        run = run[:start] + replacement + run[end:]
    return run


def mask_number_in(text: str, phone: str, replacement: str) -> str:
    """Every way the number can be written in free text — +86 138 1234 1234, 0086-138…, 138-1234-1234,
    13812341234, full-width digits — replaced. One generic scan: no pattern per number."""
    national = _national(phone) if phone else ""
    # Cheap and sound first: a written number leaves its digits in order once everything else is gone.
    if len(national) < MIN_DIGITS or national not in _digits(text):
        return text
    return _NUMBER_RUN.sub(lambda m: _mask_run(m.group(), national, replacement), text)


def _cut_tail(text: str, ticket: Citizen, hidden: bool) -> str:
    """A title is the text's first characters: it may end inside the number, name or address. Such a
    trailing piece is blanked (numbers from four digits on; on 保密/匿名 tickets also the start of the
    name or address)."""
    national = _national(ticket.citizen_phone) if ticket.citizen_phone else ""
    tail = _TAIL_NUMBER.search(text) if national and text[-1:].isdigit() else None
    if tail is not None:
        digits = _digits(tail.group())
        written = (national, f"0{national}", f"86{national}", f"0086{national}")
        if len(digits) >= MIN_TAIL_DIGITS and any(w.startswith(digits) for w in written):
            return text[: tail.start()] + HIDDEN
    if hidden:
        for value, shortest in ((ticket.citizen_address.strip(), 4), (ticket.citizen_name.strip(), 2)):
            for size in range(len(value) - 1, shortest - 1, -1):
                if text.endswith(value[:size]):
                    return text[:-size] + HIDDEN
    return text


def citizen_text(text: str, ticket: Citizen, user: User | None) -> str:
    """Free text (the citizen's words, a title, a reason, a notice) as this reader may read it.

    Outside the centre the citizen's own number is masked wherever and however it is written, and
    every resident ID number is blanked; on a 保密/匿名 ticket their name, number and address are
    blanked. Text that merely describes a place is left alone: only the ticket's own contact values
    are matched.
    """
    if not text or sees_contact(user):
        return text
    hidden = is_hidden(ticket)
    text = mask_number_in(text, ticket.citizen_phone, HIDDEN if hidden else mask_phone(ticket.citizen_phone))
    if hidden:
        # The longer value first: a name inside the address must not break the address's match.
        for value in sorted((ticket.citizen_address.strip(), ticket.citizen_name.strip()), key=len, reverse=True):
            if len(value) >= 2:
                text = text.replace(value, HIDDEN)
    text = _ID_NUMBER.sub(HIDDEN, text)
    return _cut_tail(text, ticket, hidden)


def citizen_value(value: Any, ticket: Citizen, user: User | None) -> Any:
    """`citizen_text` applied to every string inside a JSON-like value (event data, classification)."""
    if isinstance(value, str):
        return citizen_text(value, ticket, user)
    if isinstance(value, list | tuple):
        return [citizen_value(v, ticket, user) for v in value]
    if isinstance(value, Mapping):
        return {k: citizen_value(v, ticket, user) for k, v in value.items()}
    return value


def event_actor(event: TicketEvent) -> str:
    """Who acted, as every reader sees it: a staff member's username, 市民 for the citizen, the
    machine's label (classifier version, scheduler, partner) otherwise."""
    if event.actor_id:
        return event.actor.get_username() if event.actor is not None else ""
    if event.actor_kind == ActorKind.CITIZEN:
        return CITIZEN_LABEL
    return str((event.data or {}).get("actor_label") or event.actor_kind)


def event_data(data: Mapping[str, Any] | None, ticket: Citizen, user: User | None) -> dict[str, Any]:
    """An event's data for this reader: outside the centre without the private keys, and its texts
    cut like `citizen_text`."""
    if sees_contact(user):
        return dict(data or {})
    return {k: citizen_value(v, ticket, user) for k, v in (data or {}).items() if k not in PRIVATE_EVENT_KEYS}


# --- secrets in SMS bodies (verification codes, signed rating links) ---------------------------

_CODE = re.compile(r"(?<!\d)\d{4,8}(?!\d)")  # the code: 10分钟 and the like are shorter
_RATING_TOKEN = re.compile(r"(/citizen/rate/)[^/\s]+")


class OutboundSms(Protocol):
    """What the rule reads of an SmsMessage (messaging sits above core: no import of its model)."""

    @property
    def body(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def state(self) -> str: ...


SMS_PURPOSE_VERIFICATION = "verification"  # messaging.models.SmsPurpose.VERIFICATION
SMS_STATE_OUTBOX = "outbox"  # messaging.models.SmsState.OUTBOX: kept locally, never sent


def sms_body_for_staff(message: OutboundSms) -> str:
    """An outbound SMS as staff (outbox page, admin) may read it: a verification code or a rating
    link would let them sign in or rate as the citizen, so both are masked.

    HOTLINE_DEMO_SHOW_SECRETS (off by default; `start.sh` sets it for the embedded demo only) shows
    them for messages that stayed in the local outbox — nothing a real phone received.
    """
    if settings.DEMO_SHOW_SECRETS and message.state == SMS_STATE_OUTBOX:
        return message.body
    body = _RATING_TOKEN.sub(rf"\g<1>{HIDDEN}", message.body)
    if message.purpose == SMS_PURPOSE_VERIFICATION:
        body = _CODE.sub("******", body)
    return body
