"""工单检索 and the keyset-paged ticket lists: what a search box matches, one page at a time.

A search term is read as one of:
- a whole ticket number (14 digits): looked up by number, for every reader (units included);
- a caller's number (the centre only): normalised to E.164 and read from `ticket_phone_id`;
- words: matched in the title, the text and the address, within `privacy.text_search_scope`
  (units: no digits, never in 保密/匿名 tickets); on PostgreSQL in the search table (`_words_q`).

Cost at a million tickets: the number and the phone are index look-ups; words of three or more
characters use the search table's trigram GIN index (migration 0019; PostgreSQL: LIKE, or ~* with
Latin letters); one or two characters have no trigram, so such a search walks only the newest
`SHORT_TERM_WINDOW` tickets (the page says so).
Counts are capped (`count_capped`): "1,000+" costs at most 1,001 index entries, never a COUNT(*)
over the table. Pages are keyset pages (no OFFSET): the cursor names the last row shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Max, Q, QuerySet
from django.db.models.expressions import RawSQL

from tickets.core.models import Ticket
from tickets.core.privacy import sees_contact, text_search_scope
from tickets.core.text import normalise_phone, normalise_text
from tickets.errors import InvalidInput
from tickets.org.models import User

# One or two characters have no trigram: such a search reads the newest tickets only. 20,000 rows is
# ~70 ms of LIKE at any table size (bench/pages/lists.py), about a week of a mid-size city's calls.
SHORT_TERM_WINDOW = int(getattr(settings, "HOTLINE_SHORT_SEARCH_WINDOW", 20_000))
COUNT_CAP = 1000
# Under a unit scope (a unit's staff, or the unit filter) a count probes each ticket's assignments:
# about cap / (scope's share of tickets) probes, 22,900 for a district's 1,000 at 4 % (224 ms at
# 120k), whatever the table's size; 100 keeps it near 20 ms.
SCOPED_COUNT_CAP = 100
PAGE_SIZE = 20
SEARCH_TABLE = "tickets_ticketsearch"  # PostgreSQL only (migrations 0019 and 0020, kept by triggers)
QUEUED_DOC = "concat_ws(chr(31), title, text, citizen_address)"  # a search row's doc, from the ticket's columns
SORTS = ("new", "old", "due")
_CURSOR_SALT = "tickets.core.search.cursor"


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """What a term was read as: `number`, `phone`, `words` (and whether the window bound it)."""

    text: str
    kind: str
    windowed: bool = False


def search_term_read(raw: str, user: User | None) -> SearchTerm | None:
    """The reader's term, normalised (full-width digits, spaces), or None when empty."""
    text = normalise_text(raw or "").strip()
    if not text:
        return None
    if len(text) > 100:
        raise InvalidInput("检索词不能超过100个字", field="q", rule="max_length")
    compact = text.replace(" ", "").replace("-", "")
    if compact.isdigit() and len(compact) == 14:
        return SearchTerm(compact, "number")
    if sees_contact(user) and compact.lstrip("+").isdigit() and len(compact.lstrip("+")) >= 7:
        try:
            return SearchTerm(normalise_phone(compact, field="q"), "phone")
        except InvalidInput:
            pass  # not a number a phone could have: the centre searches its digits as words
    return SearchTerm(text, "words", windowed=len(text) < 3)


def _newest_id() -> int:
    return int(Ticket.objects.aggregate(top=Max("id"))["top"] or 0)


def _words_q(words: str, *, after_id: int | None = None) -> Q:
    """The words in the title, text or address. Chinese has no letter case: a plain LIKE (which the
    trigram index serves, and which skips upper-casing every row of a scan); with Latin letters a
    case-insensitive regex of the escaped words (pg_trgm serves `~*` too).

    On PostgreSQL the three columns are read from the search table (migration 0019: one row per
    ticket, the three joined by U+001F, which no term holds, under one trigram index), so that the
    ticket row's own updates never re-index its words. The row is written when the ticket leaves the
    routing queue (migration 0020); the queued tickets are matched on their own columns. `after_id`
    bounds a short term's search to the newest tickets inside the search table too (PostgreSQL cannot
    carry the ticket's bound into it)."""
    latin = any(ch.isascii() and ch.isalpha() for ch in words)
    if connection.vendor == "postgresql":
        # Constant SQL; the words and the bound are parameters.
        if latin:
            condition, value = "doc ~* %s", re.escape(words)
        else:
            condition, value = "doc LIKE %s", f"%{connection.ops.prep_for_like_query(words)}%"
        searched = f"SELECT ticket_id FROM {SEARCH_TABLE} WHERE {condition}"  # noqa: S608
        # A ticket still in the routing queue has no search row yet (migration 0020): its own columns
        # are read, the queue's few rows through its partial index (`ticket_route_pending`).
        own = condition.replace("doc", QUEUED_DOC, 1)
        queued = f"SELECT id FROM tickets_ticket WHERE NOT route_state = '' AND {own}"  # noqa: S608
        params: list[object] = [value, value]
        if after_id is not None:
            searched, queued = f"{searched} AND ticket_id > %s", f"{queued} AND id > %s"
            params = [value, after_id, value, after_id]
        return Q(pk__in=RawSQL(f"{searched} UNION ALL {queued}", params))  # noqa: S611
    if latin:
        pattern = re.escape(words)
        return Q(title__iregex=pattern) | Q(text__iregex=pattern) | Q(citizen_address__iregex=pattern)
    return Q(title__contains=words) | Q(text__contains=words) | Q(citizen_address__contains=words)


def ticket_search(qs: QuerySet[Ticket], term: SearchTerm, user: User | None) -> QuerySet[Ticket]:
    """The tickets of `qs` this term finds, within what this reader may search."""
    if term.kind == "number":
        return qs.filter(number=term.text)
    if term.kind == "phone":
        return qs.filter(citizen_phone=term.text)
    words = term.text.replace("\x1f", "")  # the search table's column separator is never a term's
    if not term.windowed:
        return qs.filter(text_search_scope(words, user), _words_q(words))
    after_id = _newest_id() - SHORT_TERM_WINDOW
    return qs.filter(text_search_scope(words, user), _words_q(words, after_id=after_id), pk__gt=after_id)


# --- keyset pages ---------------------------------------------------------------------------------


def sorted_for(qs: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    """新→旧 (`new`), 旧→新 (`old`), or 按时限 (`due`: open tickets, nearest deadline first)."""
    if sort == "old":
        return qs.order_by("id")
    if sort == "due":
        # The open tickets with a deadline, read in `ticket_due_open_id` order.
        return qs.filter(closed_at__isnull=True, due_at__isnull=False).order_by("due_at", "id")
    return qs.order_by("-id")


def cursor_make(ticket: Ticket, sort: str) -> str:
    due = ticket.due_at.isoformat() if sort == "due" and ticket.due_at else None
    return signing.dumps([sort, ticket.pk, due], salt=_CURSOR_SALT, compress=False)


def after_cursor(qs: QuerySet[Ticket], cursor: str, sort: str) -> QuerySet[Ticket]:
    """The rows after the cursor in this sort; a forged or stale cursor is a 400 naming `after`."""
    try:
        kind, last_id, due = signing.loads(cursor, salt=_CURSOR_SALT)
        last_id = int(last_id)
        due_at = datetime.fromisoformat(due) if due else None
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidInput("翻页位置无效，请从第一页重新查看", field="after", rule="cursor") from None
    if kind != sort:
        raise InvalidInput("翻页位置与排序方式不符，请从第一页重新查看", field="after", rule="cursor")
    if sort == "old":
        return qs.filter(pk__gt=last_id)
    if sort == "due":
        if due_at is None:
            raise InvalidInput("翻页位置无效，请从第一页重新查看", field="after", rule="cursor")
        return qs.filter(Q(due_at__gt=due_at) | Q(due_at=due_at, pk__gt=last_id))
    return qs.filter(pk__lt=last_id)


@dataclass
class TicketPage:
    rows: list[Ticket]
    next_cursor: str | None


def ticket_page(qs: QuerySet[Ticket], *, sort: str, cursor: str = "", size: int = PAGE_SIZE) -> TicketPage:
    """One keyset page of `qs` (already scoped and filtered) in this sort, and the cursor to the next."""
    ordered = sorted_for(qs, sort)
    if cursor:
        ordered = after_cursor(ordered, cursor, sort)
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return TicketPage(rows, cursor_make(rows[-1], sort) if more and rows else None)


def count_capped(qs: QuerySet[Any], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows, up to `cap`: (n, True) means "more than cap". Reads at most cap + 1 index entries."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap
