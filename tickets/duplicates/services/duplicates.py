"""重复诉求并单: find likely duplicates at intake, link confirmed ones, and tell merged children the outcome.

Lookup is two indexed queries, never a scan: the same caller's tickets of the last 30 days
(index on citizen_phone) and the tickets sharing an LSH band with the text inside the
jurisdiction window (index on band key + time). Candidates are scored by estimated Jaccard
similarity of character shingles, place and time, and every candidate carries its reasons.
Why MinHash/LSH rather than TF-IDF: bench/duplicates/detect_quality.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from tickets import textsearch
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services.events import event_record
from tickets.core.services.rows import rows_insert
from tickets.duplicates.models import DuplicateLink, DuplicateLinkKind, TicketBand, TicketFingerprint
from tickets.errors import InvalidInput
from tickets.messaging.models import SmsPurpose
from tickets.messaging.services import citizen_notifications, sms
from tickets.metrics.models import same_caller_days
from tickets.org.models import Unit


def jurisdiction_window_days() -> int:
    return int(getattr(settings, "DUPLICATE_JURISDICTION_WINDOW_DAYS", 14))


def min_similarity() -> float:
    return float(getattr(settings, "DUPLICATE_MIN_SIMILARITY", 0.2))


# --- fingerprints (filled at intake) --------------------------------------------------------


def fingerprint_text(ticket: Ticket) -> str:
    title = ticket.title if ticket.title and not ticket.text.startswith(ticket.title) else ""
    return f"{title} {ticket.text}".strip()


def ticket_fingerprint_store(*, ticket: Ticket, new: bool = False) -> TicketFingerprint:
    """Store the ticket's MinHash signature and its LSH band rows (called at the end of ticket_create).

    `new`: the ticket was created in this transaction, so it has no fingerprint or bands yet:
    two plain INSERTs instead of a savepointed update_or_create and a DELETE.
    """
    sig, count = textsearch.minhash_signature(fingerprint_text(ticket))
    created = ticket.created_at or timezone.now()
    values = {"signature": textsearch.signature_bytes(sig), "shingle_count": count, "created_at": created}
    if new:
        fingerprint = TicketFingerprint.objects.create(ticket=ticket, **values)
    else:
        fingerprint, _ = TicketFingerprint.objects.update_or_create(ticket=ticket, defaults=values)
        TicketBand.objects.filter(ticket=ticket).delete()
    if count:
        TicketBand.objects.bulk_create(
            TicketBand(key=key, created_at=created, ticket=ticket) for key in textsearch.band_keys(sig)
        )
    return fingerprint


def tickets_fingerprint_store_new(*, tickets: Sequence[Ticket]) -> None:
    """`ticket_fingerprint_store(new=True)` for a batch of new tickets: two statements in all, written
    as plain rows (32 band rows a ticket: as model instances they cost the routing worker a fifth of
    its time)."""
    now = timezone.now()
    prints, bands = [], []
    for ticket in tickets:
        sig, count = textsearch.minhash_signature(fingerprint_text(ticket))
        created = ticket.created_at or now
        prints.append((ticket.pk, textsearch.signature_bytes(sig), count, created))
        if count:
            bands += [(key, created, ticket.pk) for key in textsearch.band_keys(sig)]
    rows_insert(TicketFingerprint, ("ticket_id", "signature", "shingle_count", "created_at"), prints, with_ids=False)
    rows_insert(TicketBand, ("key", "created_at", "ticket_id"), bands, with_ids=False)


# What a candidate shows (a whole Ticket row with its joins is several times slower to load).
CANDIDATE_FIELDS = (
    "id",
    "number",
    "title",
    "state",
    "created_at",
    "citizen_address",
    "jurisdiction__id",
    "jurisdiction__code",
    "jurisdiction__name",
    "jurisdiction__kind",
    "jurisdiction__path",
    "category__id",
    "category__code",
    "category__name",
)


# --- lookup --------------------------------------------------------------------------------


@dataclass
class Candidate:
    ticket: Ticket
    score: float
    similarity: float
    same_caller: bool
    same_place: str  # "unit", "district" or ""
    days_ago: float
    reasons: list[str] = field(default_factory=list)


def _district_path(unit: Unit | None) -> str:
    if unit is None:
        return ""
    parts = [p for p in unit.path.split("/") if p]
    return f"/{parts[0]}/" if parts else ""


def _place(query_unit: Unit | None, other: Unit | None) -> str:
    if query_unit is None or other is None:
        return ""
    if other.pk == query_unit.pk or other.path.startswith(query_unit.path) or query_unit.path.startswith(other.path):
        return "unit"
    return "district" if _district_path(query_unit) == _district_path(other) else ""


def _score(similarity: float, place: str, address_sim: float, days_ago: float, window: int, same_caller: bool) -> float:
    """Text dominates; place and recency break ties; the same caller on a similar text is near-certain."""
    place_part = {"unit": 1.0, "district": 0.6, "": 0.0}[place]
    place_part = max(place_part, address_sim)
    recency = max(0.0, 1.0 - days_ago / max(window, 1))
    score = 0.65 * similarity + 0.2 * place_part + 0.15 * recency
    if same_caller and similarity >= min_similarity():
        score += 0.2
    return round(min(score, 1.0), 4)


def _reasons(c: Candidate, query_unit: Unit | None, address_sim: float) -> list[str]:
    reasons = []
    if c.same_caller:
        reasons.append(f"同一来电人{same_caller_days()}天内的诉求")
    if c.similarity >= min_similarity():
        reasons.append(f"诉求内容相似度{c.similarity:.0%}")
    if c.same_place == "unit" and c.ticket.jurisdiction is not None:
        reasons.append(f"同一属地：{c.ticket.jurisdiction.name}")
    elif c.same_place == "district" and query_unit is not None:
        reasons.append("同一区内")
    if address_sim >= 0.5:
        reasons.append("地址相近")
    reasons.append("今天" if c.days_ago < 1 else f"{math.floor(c.days_ago)}天前")
    return reasons


def duplicate_candidates(
    *,
    text: str,
    phone: str = "",
    address: str = "",
    jurisdiction: Unit | None = None,
    exclude_id: int | None = None,
    now: datetime | None = None,
    limit: int = 10,
) -> list[Candidate]:
    """Likely duplicates of a (possibly unsaved) ticket, best first, each with its reasons."""
    now = now or timezone.now()
    caller_since = now - timedelta(days=same_caller_days())
    window = jurisdiction_window_days()
    text_since = now - timedelta(days=window)
    sig, count = textsearch.minhash_signature(text)

    rows = _candidate_rows(
        keys=textsearch.band_keys(sig) if count else [],
        phone=phone,
        caller_since=caller_since,
        text_since=text_since,
        now=now,
        exclude_id=exclude_id or 0,
    )
    if not rows:
        return []
    signatures = {pk: raw for pk, raw, _ in rows}
    caller_ids = [pk for pk, _, same in rows if same]
    similar = {
        pk
        for pk, raw in signatures.items()
        if raw is not None
        and textsearch.signature_similarity(sig, textsearch.signature_from_bytes(raw)) >= min_similarity()
    }
    ids = [*caller_ids, *(similar - set(caller_ids))]
    if not ids:
        return []
    tickets = (
        Ticket.objects.filter(pk__in=ids)
        .select_related("jurisdiction", "category")
        .only(*CANDIDATE_FIELDS)
        .annotate(master_number=F("merged_into__number"))
    )
    caller_set = set(caller_ids)
    out: list[Candidate] = []
    for ticket in tickets:
        raw = signatures.get(ticket.pk)
        similarity = textsearch.signature_similarity(sig, textsearch.signature_from_bytes(raw)) if raw else 0.0
        same_caller = ticket.pk in caller_set
        place = _place(jurisdiction, ticket.jurisdiction)
        if not same_caller:
            # Someone else's ticket counts only with a similar text inside the jurisdiction window.
            if similarity < min_similarity():
                continue
            if jurisdiction is not None and ticket.jurisdiction is not None and not place:
                continue
        days_ago = max(0.0, (now - ticket.created_at).total_seconds() / 86400)
        address_sim = textsearch.bigram_jaccard(address, ticket.citizen_address) if address else 0.0
        candidate = Candidate(
            ticket=ticket,
            score=_score(similarity, place, address_sim, days_ago, window, same_caller),
            similarity=round(similarity, 3),
            same_caller=same_caller,
            same_place=place,
            days_ago=round(days_ago, 2),
        )
        candidate.reasons = _reasons(candidate, jurisdiction, address_sim)
        out.append(candidate)
    out.sort(key=lambda c: (-c.score, -c.ticket.pk))
    return out[:limit]


def _candidate_rows(
    *, keys: list[int], phone: str, caller_since: datetime, text_since: datetime, now: datetime, exclude_id: int
) -> list[tuple[int, bytes | None, bool]]:
    """One round trip: (ticket id, signature, same caller) for the caller's recent tickets and the
    tickets sharing the most LSH bands in the window. Both halves are index range scans."""
    parts: list[str] = []
    params: list[int | str | datetime] = []
    if keys:
        marks = ", ".join(["%s"] * len(keys))
        parts.append(
            "SELECT ticket_id, 0 AS same_caller FROM ("  # noqa: S608 - placeholders only
            f" SELECT ticket_id, count(*) AS n FROM tickets_ticketband WHERE key IN ({marks})"
            " AND created_at >= %s AND created_at <= %s AND ticket_id <> %s"
            " GROUP BY ticket_id ORDER BY n DESC, ticket_id DESC LIMIT 200) AS band"
        )
        params += [*keys, text_since, now, exclude_id]
    if phone:
        parts.append(
            "SELECT id AS ticket_id, 1 AS same_caller FROM ("
            " SELECT id FROM tickets_ticket WHERE citizen_phone = %s AND created_at >= %s AND created_at <= %s"
            " AND id <> %s ORDER BY id DESC LIMIT 20) AS caller"
        )
        params += [phone, caller_since, now, exclude_id]
    if not parts:
        return []
    sql = (
        "SELECT c.ticket_id, f.signature, max(c.same_caller) FROM ("  # noqa: S608 - placeholders only
        + " UNION ALL ".join(parts)
        + ") AS c LEFT JOIN tickets_ticketfingerprint f ON f.ticket_id = c.ticket_id"
        " GROUP BY c.ticket_id, f.signature"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(pk, bytes(raw) if raw is not None else None, bool(same)) for pk, raw, same in cur.fetchall()]


def ticket_duplicates(*, ticket: Ticket, limit: int = 10) -> list[Candidate]:
    """Likely duplicates of a stored ticket: the same rules, as seen at its intake time."""
    return duplicate_candidates(
        text=fingerprint_text(ticket),
        phone=ticket.citizen_phone,
        address=ticket.citizen_address,
        jurisdiction=ticket.jurisdiction,
        exclude_id=ticket.pk,
        now=max(ticket.created_at, timezone.now()),
        limit=limit,
    )


# --- links (重复来电率) ----------------------------------------------------------------------


def _link(first: Ticket, second: Ticket, *, kind: str, actor: Actor) -> DuplicateLink:
    first_is_later = (first.created_at, first.pk) > (second.created_at, second.pk)
    later, earlier = (first, second) if first_is_later else (second, first)
    same_caller = bool(later.citizen_phone) and later.citizen_phone == earlier.citizen_phone
    days = (later.created_at - earlier.created_at).total_seconds() / 86400
    link, created = DuplicateLink.objects.get_or_create(
        ticket=later,
        earlier=earlier,
        defaults={
            "kind": kind,
            "same_caller": same_caller,
            "days_apart": round(days, 3),
            "created_by": actor.user,
            "ticket_created_at": later.created_at,
        },
    )
    if not created and link.revoked_at is not None:
        DuplicateLink.objects.filter(pk=link.pk).update(revoked_at=None, kind=kind, created_by=actor.user)
        link.refresh_from_db()
    return link


def merge_link_record(*, ticket: Ticket, master: Ticket, actor: Actor) -> DuplicateLink:
    """Called by workflow.ticket_merge: a merged pair is a confirmed duplicate."""
    return _link(ticket, master, kind=DuplicateLinkKind.MERGED, actor=actor)


def merge_link_revoke(*, ticket: Ticket, master: Ticket | None) -> None:
    """Called by workflow.ticket_unmerge: the pair was not the same matter after all."""
    if master is None:
        return
    DuplicateLink.objects.filter(
        ticket_id__in=[ticket.pk, master.pk], earlier_id__in=[ticket.pk, master.pk], revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


@transaction.atomic
def duplicate_confirm(*, ticket: Ticket, other: Ticket, actor: Actor) -> DuplicateLink:
    """确认重复: the operator confirms two tickets are the same matter without merging them."""
    actor.require_role("operator", "dispatcher", "supervisor")
    if ticket.pk == other.pk:
        raise InvalidInput("不能与自身确认重复", field="other", rule="duplicate_self")
    link = _link(ticket, other, kind=DuplicateLinkKind.CONFIRMED, actor=actor)
    event_record(
        ticket=link.ticket,
        actor=actor,
        action="duplicate_confirmed",
        data={"earlier": link.earlier.number, "same_caller": link.same_caller},
    )
    return link


# --- merged children follow the master -----------------------------------------------------


def merged_children_master_closed(*, master: Ticket, actor: Actor, reason: str, outcome: str) -> int:
    """The master closed: every child gets an event, and its citizen is told (and may rate)."""
    told = 0
    for child in master.merged_children.all():
        event_record(
            ticket=child,
            actor=actor,
            action="master_closed",
            reason=reason,
            data={"master": master.number, "outcome": outcome, "rating_invited": bool(child.citizen_phone)},
        )
        if merged_child_notify(child=child, master=master):
            told += 1
    return told


def merged_child_notify(*, child: Ticket, master: Ticket) -> bool:
    """并单结果告知: SMS the merged child's citizen that the master closed (sent after commit).

    A number that opted out (TD/退订) gets a suppressed row, as every notification does.
    """
    if not child.citizen_phone:
        return False
    body = (
        f"{citizen_notifications.SIGNATURE}您反映的诉求（工单号{child.number}）与工单{master.number}为同一事项，"
        f"已合并办理，现已办结。办理结果可访问 {citizen_notifications.status_url()} 查询，"
        f"如有意见请致电12345。{citizen_notifications.OPT_OUT_HINT}"
    )
    sms.sms_enqueue(to=child.citizen_phone, body=body, purpose=SmsPurpose.OTHER, ticket=child)
    return True
