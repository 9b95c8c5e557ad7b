"""The fair assignment (分配): which waiting caller goes to which operator, and ringing that seat.

Rule, in this order (docs/callcentre.md): the caller who has waited longest (any desk) is served
first; among the 就绪 seats skilled for that caller's desk, the one idle longest (`state_since`)
gets the offer. One offer per seat; the seat goes 振铃中 and our REST call rings it
(`client:seat-<id>` for the softphone, the seat's number or SIP address for a desk phone) with
TwiML that dials the desk's queue. Twilio dequeues the head of that queue, which is the caller
we chose (its oldest); should it be another, the bridge records the caller actually connected.

Runs after every commit that frees a seat or queues a caller, and from the periodic sweep (which
also ends 话后处理 and takes back offers nobody answered). The ready seats are locked for the
pass, so two assigners never offer one seat twice; callers are taken with a guarded update.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tickets.callcentre.models import QueuedCall, QueueOutcome, Seat, SeatState
from tickets.callcentre.services import seats, twilio_rest
from tickets.callcentre.services.locking import queue_lock

log = logging.getLogger("tickets.callcentre")

WAITING_LOOKAHEAD = 500


@dataclass(frozen=True)
class Offer:
    queued_id: int
    seat_id: int
    user_id: int
    target: str  # client:seat-<id>, +86…, sip:…


def match(waiting: list[QueuedCall], ready: list[Seat], skills: dict[int, set[int]]) -> list[tuple[QueuedCall, Seat]]:
    """Pure: longest-waiting caller first, to the longest-idle ready seat with the desk's skill."""
    free = sorted(ready, key=lambda s: (s.state_since, s.pk))
    pairs: list[tuple[QueuedCall, Seat]] = []
    for queued in sorted(waiting, key=lambda q: (q.enqueued_at, q.pk)):
        seat = next((s for s in free if queued.desk_id in skills.get(s.pk, set())), None)
        if seat is None:
            continue
        free.remove(seat)
        pairs.append((queued, seat))
        if not free:
            break
    return pairs


def queue_assign(*, now: datetime | None = None) -> list[Offer]:
    """One assignment pass; the REST calls ring the seats after the pass has committed."""
    now = now or timezone.now()
    offers: list[Offer] = []
    free = Q(state=SeatState.READY) | Q(state=SeatState.WRAP_UP, wrap_up_until__lte=now)
    if not Seat.objects.filter(free).exists():  # most passes under load: nobody to offer to
        return []
    with transaction.atomic():
        queue_lock()
        seats.seats_wrap_up_end(now=now)
        ready = list(Seat.objects.select_for_update().filter(state=SeatState.READY).order_by("state_since", "id"))
        if not ready:
            return []
        skills: dict[int, set[int]] = {}
        for seat_id, desk_id in Seat.skills.through.objects.filter(seat__in=ready).values_list("seat_id", "desk_id"):
            skills.setdefault(seat_id, set()).add(desk_id)
        for queued, seat in _pairs(ready, skills):
            taken = QueuedCall.objects.filter(pk=queued.pk, outcome=QueueOutcome.WAITING).update(
                outcome=QueueOutcome.OFFERED, offered_to=seat, offered_at=now
            )
            if not taken:
                continue
            seats.seat_move(seat=seat, to=SeatState.RINGING, reason="分配来电", now=now, expect=SeatState.READY)
            offers.append(Offer(queued.pk, seat.pk, seat.user_id, twilio_rest.seat_target(seat)))
    for offer in offers:
        offer_ring(offer)
    return offers


def _pairs(ready: list[Seat], skills: dict[int, set[int]]) -> list[tuple[QueuedCall, Seat]]:
    """The fair match of these seats with the longest-waiting callers they could take. The
    waiting callers are read a few at a time (as many as there are seats, more only when the
    first ones are for desks the seats lack), under the queue lock: a backlog of hundreds used
    to be read whole on every pass."""
    desks = set().union(*skills.values()) if skills else set()
    rows = (
        QueuedCall.objects.filter(outcome=QueueOutcome.WAITING, desk_id__in=desks)
        .only("id", "desk_id", "enqueued_at")
        .order_by("enqueued_at", "id")
    )
    size = max(8, 2 * len(ready))
    waiting: list[QueuedCall] = []
    while True:
        chunk = list(rows[len(waiting) : len(waiting) + size])
        waiting.extend(chunk)
        pairs = match(waiting, ready, skills)
        if len(chunk) < size or len(pairs) == len(ready) or len(waiting) >= WAITING_LOOKAHEAD:
            return pairs  # no more callers, every seat has one, or as far as a pass looks


def offer_ring(offer: Offer) -> str | None:
    """Ring the seat through Twilio's REST API; without credentials (the offline demo) the offer
    waits for the seat to pick up by itself (softphone "接听" or the demo's simulated leg)."""
    if not twilio_rest.configured():
        return None
    try:
        sid = twilio_rest.seat_call_create(target=offer.target, seat_user_id=offer.user_id)
    except Exception as exc:  # Twilio unreachable: offer the caller to someone else, this seat pauses
        log.warning("ringing seat %s failed: %s", offer.user_id, exc)
        with transaction.atomic():
            queue_lock()
            QueuedCall.objects.filter(pk=offer.queued_id, outcome=QueueOutcome.OFFERED).update(
                outcome=QueueOutcome.WAITING, offered_to=None, offered_at=None
            )
            seat = Seat.objects.get(pk=offer.seat_id)
            seats.seat_move(seat=seat, to=SeatState.BREAK, reason="呼叫座席失败", expect=SeatState.RINGING)
        return None
    QueuedCall.objects.filter(pk=offer.queued_id).update(offer_call_sid=sid)
    return sid


def offers_expire(*, now: datetime | None = None) -> int:
    """Offers nobody picked up (ring time + a grace) go back to the queue; the seat goes 小休.
    Only when we ring seats: without Twilio (the offline demo) an offer waits for the seat."""
    if not twilio_rest.configured():
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CALLCENTRE_RING_SECONDS + 10)
    expired = 0
    with transaction.atomic():
        queue_lock()
        stale = list(
            QueuedCall.objects.select_for_update(skip_locked=True).filter(
                outcome=QueueOutcome.OFFERED, offered_at__lt=cutoff
            )
        )
        for queued in stale:
            QueuedCall.objects.filter(pk=queued.pk).update(
                outcome=QueueOutcome.WAITING, offered_to=None, offered_at=None, offer_call_sid=""
            )
            seat = Seat.objects.filter(pk=queued.offered_to_id).first() if queued.offered_to_id else None
            if seat is not None:
                seats.seat_move(seat=seat, to=SeatState.BREAK, reason="座席未应答", now=now, expect=SeatState.RINGING)
            expired += 1
    return expired


def assign_sweep() -> dict[str, Any]:
    """The periodic pass (every 5 s): expire offers, end wrap-ups, assign."""
    expired = offers_expire()
    offers = queue_assign()
    return {"expired": expired, "offered": len(offers)}
