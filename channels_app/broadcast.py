"""The one broadcast helper. Services never talk to the channel layer directly.

- `event_enqueue(event)`: called by `tickets.core.services.events.event_record` inside the
  transaction; collects the transaction's events and registers one push for after the commit,
  so no event ever announces a change that was rolled back and one operation (e.g. an intake
  with its 4 events) costs one envelope query and one channel-layer round trip. A batch's final
  events (a routing batch's) are pushed from the objects themselves, without the envelope query.
- After that commit the events are pushed together; only when the push fails (Redis down) are
  they written to the outbox (`LiveOutbox`), and the write that caused them is unaffected. A
  process killed between its commit and its push loses only that push: sockets that reconnect
  catch up through the cursor (`/api/live/events/?after=`), and nothing stored is lost.
- `event_announce(event_id)`: push one event whose outbox row was written with it (the SLA
  scanner's batches); on success the row goes, on failure it stays.
- `outbox_flush()`: the periodic retry (CELERY_BEAT_SCHEDULE) for rows left behind.
- `broadcast_call_incoming(call_sid, phone, history)`: a ringing call for the IVR-only line.
- `call_bridged_push(payload)`: 来电弹屏 to the one operator bridged to the caller (call centre);
  `wallboard_push(snapshot)`: the supervisors' wallboard.
- `credentials_revoked_push(user_id, tokens, sessions)`: a logout, password change or
  deactivation closes the user's open sockets (tickets/accounts/services.py).

Delivery is at least once: a retried event can reach a client twice, so clients (and our
consumer) drop a cursor they have already seen.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from channels_app import payloads as p
from channels_app.envelopes import envelopes_build, event_rows
from channels_app.groups import role_group, seat_group, ticket_group, unit_codes_on_paths, unit_group, user_group
from tickets.core.models import Assignment, Ticket, TicketEvent
from tickets.core.services.events import events_final
from tickets.live.models import LiveOutbox

log = logging.getLogger("channels_app")

MESSAGE_TYPE = "live.event"  # → LiveConsumer.live_event
RETRY_AFTER = timedelta(seconds=10)  # leave fresh rows to their own on_commit sender
GIVE_UP_AFTER = timedelta(days=1)  # clients catch up by cursor; a day-old push is noise
FLUSH_BATCH = 500
LAYER_CALL_TIMEOUT = 30.0  # seconds a sync caller waits for the layer before the push counts as failed

T = TypeVar("T")
_own_loop: tuple[int, asyncio.AbstractEventLoop] | None = None  # (pid, loop): a fork gets a new one
_own_loop_lock = threading.Lock()


def layer_call(function: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run an async channel-layer call from synchronous code (every push here; a test's flush too,
    since a layer's connections can only be closed from the loop they were opened on).

    In the web server the request's thread came from the serving event loop and asgiref runs the
    call there. Elsewhere (a Celery worker's routing batch, beat, a command) `async_to_sync` starts
    a thread and an event loop for every call and channels-redis a Redis connection for each loop:
    2.8 ms of CPU per push against 0.4 ms on a loop the process keeps, in a thread of its own, with
    its connections reused. The in-memory layer (the embedded default) is bound to the serving loop,
    so it keeps asgiref's way."""
    if _serving_loop() is not None or isinstance(get_channel_layer(), InMemoryChannelLayer):
        return async_to_sync(function)(*args)
    return asyncio.run_coroutine_threadsafe(function(*args), _process_loop()).result(LAYER_CALL_TIMEOUT)


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread was handed work from (asgiref's record of it), if any: a
    thread that once ran such work keeps the record after the loop has gone."""
    threadlocal = SyncToAsync.threadlocal
    loop = getattr(threadlocal, "main_event_loop", None)
    if getattr(threadlocal, "main_event_loop_pid", None) == os.getpid() and loop is not None and loop.is_running():
        return cast(asyncio.AbstractEventLoop, loop)
    return None


def _process_loop() -> asyncio.AbstractEventLoop:
    global _own_loop
    with _own_loop_lock:
        if _own_loop is None or _own_loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channel-layer", daemon=True).start()
            _own_loop = (os.getpid(), loop)
        return _own_loop[1]


def groups_for_envelope(envelope: p.Envelope) -> list[str]:
    payload = envelope["payload"]
    kind = payload["type"]
    audience = p.AUDIENCE.get(kind, frozenset())
    groups = [role_group(a) for a in (p.OPERATOR, p.DISPATCHER, p.SUPERVISOR) if a in audience]
    if kind == p.CALL_INCOMING:
        return groups
    if kind == p.CALL_BRIDGED:
        return [seat_group(cast(p.CallBridged, payload)["operator"])]
    if kind == p.WALLBOARD:
        return [role_group(p.SUPERVISOR)]
    if p.UNIT in audience:
        groups += [unit_group(code) for code in unit_codes_on_paths(envelope["unit_paths"])]
    groups.append(ticket_group(cast(p.TicketEventPayload, payload)["ticket"]["id"]))
    return groups


async def _send_async(envelopes: Sequence[p.Envelope]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    by_group: dict[str, list[p.Envelope]] = {}
    for envelope in envelopes:  # in cursor order
        for group in groups_for_envelope(envelope):
            by_group.setdefault(group, []).append(envelope)
    for group, batch in by_group.items():
        # One message per group for a transaction's events (a routing batch: dozens), not one per
        # event. The group travels with the message: each process's hub (channels_app.hub) receives
        # it once and hands each envelope to its own sockets in that group.
        message: dict[str, Any] = {"type": MESSAGE_TYPE, "group": group}
        message |= {"envelope": batch[0]} if len(batch) == 1 else {"envelopes": batch}
        await layer.group_send(group, message)


def _send(envelopes: Sequence[p.Envelope]) -> None:
    """Hand envelopes to every group of their readers; raises if the layer is unreachable.

    One layer call for all of them (`layer_call`).
    """
    if not envelopes:
        return
    try:
        layer_call(_send_async, envelopes)
    except RedisConnectionError:
        # After a Redis restart the first command on each pooled connection fails ("Connection
        # closed by server") and the connection is dropped; one retry opens a fresh one. A Redis
        # still down fails again (→ outbox). Groups sent twice are fine: clients drop seen cursors.
        layer_call(_send_async, envelopes)


# --- ticket events ------------------------------------------------------------------------


class _PendingPush:
    """The live events of one transaction, pushed together once it has committed."""

    def __init__(self) -> None:
        self.event_ids: list[int] = []  # read back after the commit
        self.in_hand: list[TicketEvent] = []  # final, with what an envelope reads loaded (`_in_hand`)
        self.fired = False
        # Django names a failing robust hook by its __qualname__ when it logs the failure; an
        # instance has none of its own, and the AttributeError turned a committed intake into a 500.
        self.__qualname__ = "live push after commit"

    def __call__(self) -> None:
        self.fired = True
        events_push(self.event_ids, in_hand=self.in_hand)


_PENDING_ATTR = "_hotline_live_pending"


def events_enqueue(events: Sequence[TicketEvent]) -> None:
    """`event_enqueue` for each event recorded together (the reaction to every event)."""
    final = events_final()
    for event in events:
        event_enqueue(event, final=final)


def _in_hand(event: TicketEvent) -> bool:
    """Whether an envelope can be built from this object as it is: every related row it reads is
    already loaded (else the push reads the event back, in one query for the batch)."""
    if not _EVENT_TICKET.is_cached(event):
        return False
    if event.actor_id is not None and not _EVENT_ACTOR.is_cached(event):
        return False
    if event.assignment_id is not None:
        if not _EVENT_ASSIGNMENT.is_cached(event) or event.assignment is None:
            return False
        if not _ASSIGNMENT_UNIT.is_cached(event.assignment):
            return False
    ticket = event.ticket
    return all(
        getattr(ticket, field.attname) is None or field.is_cached(ticket) for field in (_TICKET_CATEGORY, _TICKET_LEAD)
    )


_EVENT_TICKET = TicketEvent._meta.get_field("ticket")
_EVENT_ACTOR = TicketEvent._meta.get_field("actor")
_EVENT_ASSIGNMENT = TicketEvent._meta.get_field("assignment")
_ASSIGNMENT_UNIT = Assignment._meta.get_field("unit")
_TICKET_CATEGORY = Ticket._meta.get_field("category")
_TICKET_LEAD = Ticket._meta.get_field("lead_unit")


def event_enqueue(event: TicketEvent, *, final: bool = False) -> None:
    """Inside the writing transaction: add the event to the push that runs after the commit.

    One push per transaction: the first event registers it with `on_commit` (robust, so a
    broken live layer never fails a committed write), later ones join it. An id whose row was
    rolled back with a savepoint is simply not found when the push reads the events. A `final`
    event (`events_final`: a batch's events, past their savepoints) with its related rows loaded
    is pushed from the object itself: a routing batch's envelopes are built from the tickets,
    assignments and units it holds instead of reading its few dozen events back through a
    six-table join (0.4 ms of CPU per ticket between the worker and PostgreSQL).
    """
    if p.type_of_action(event.action) is None:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:  # autocommit: already committed, on_commit runs it now (robust)
        event_id = event.pk
        transaction.on_commit(lambda: events_push([event_id]), robust=True)
        return
    pending = getattr(connection, _PENDING_ATTR, None)
    if (
        not isinstance(pending, _PendingPush)
        or pending.fired
        # From the newest: a batch's push is registered after its events' own markers, and every
        # later event of the batch finds it at once (scanning from the oldest was quadratic).
        or not any(hook is pending for _sids, hook, _robust in reversed(connection.run_on_commit))
    ):
        pending = _PendingPush()
        setattr(connection, _PENDING_ATTR, pending)
        transaction.on_commit(pending, robust=True)
    if final and _in_hand(event):
        pending.in_hand.append(event)
    else:
        pending.event_ids.append(event.pk)


def events_push(event_ids: Sequence[int], *, in_hand: Sequence[TicketEvent] = ()) -> None:
    """After commit: push committed events (those of `event_ids` read back, those `in_hand` as they
    are); on failure keep them in the outbox for `outbox_flush`.

    Never raises: the write that made the events has committed, and its request must say so. If
    the database itself went away after the commit (the events cannot be read, or the outbox
    row cannot be written), readers still catch up by cursor once it is back.
    """
    every_id = [*event_ids, *(event.pk for event in in_hand)]
    try:
        done, error = _deliver(event_ids, in_hand)
        if error is None:
            return
        log.warning("live push of events %s failed, kept for retry: %s", sorted(every_id), error)
        handled = set(done)
        LiveOutbox.objects.bulk_create(
            [
                LiveOutbox(event_id=event_id, attempts=1, last_error=f"{type(error).__name__}: {error}"[:255])
                for event_id in sorted(every_id)
                if event_id not in handled
            ],
            ignore_conflicts=True,
        )
    except DatabaseError as exc:
        log.warning("live push of events %s lost after commit (clients catch up by cursor): %s", sorted(every_id), exc)


def _deliver(
    event_ids: Sequence[int], in_hand: Sequence[TicketEvent] = ()
) -> tuple[list[int], Exception | None]:
    """Send these events in cursor order, in (at most) one read and one channel-layer round trip.

    Returns the ids handled (sent, or with nothing to send) and the failure, if any; on a
    failure none counts as sent (delivery is at least once: clients drop cursors seen before).
    """
    if not event_ids and not in_hand:
        return [], None
    read = list(event_rows().filter(pk__in=sorted(event_ids)).order_by("id")) if event_ids else []
    events = sorted([*read, *in_hand], key=lambda event: event.pk)
    try:
        _send(envelopes_build(events, in_memory={event.pk for event in in_hand}))
    except Exception as exc:  # Redis down, timeout: the write already stands
        return [], exc
    return sorted([*event_ids, *(event.pk for event in in_hand)]), None


def event_announce(event_id: int) -> None:
    """After commit: push one event; on failure leave it in the outbox for `outbox_flush`."""
    done, error = _deliver([event_id])
    if done:
        LiveOutbox.objects.filter(event_id__in=done).delete()
    if error is not None:
        log.warning("live push of event %s failed, kept for retry: %s", event_id, error)
        LiveOutbox.objects.filter(event_id=event_id).update(
            attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:255]
        )


def outbox_flush(*, retry_after: timedelta = RETRY_AFTER, batch: int = FLUSH_BATCH) -> int:
    """Re-send events whose push failed (or whose process died before pushing).

    Rows are claimed with SKIP LOCKED so two beat workers never send the same batch; a row
    older than GIVE_UP_AFTER is dropped (clients have caught up through the cursor by then).
    Returns the number of events delivered.
    """
    now = timezone.now()
    stale = LiveOutbox.objects.filter(created_at__lt=now - GIVE_UP_AFTER)
    dropped = stale.delete()[0]
    if dropped:
        log.warning("dropped %d live events older than %s from the outbox", dropped, GIVE_UP_AFTER)
    with transaction.atomic():
        claimed = list(
            LiveOutbox.objects.select_for_update(skip_locked=True)
            .filter(created_at__lt=now - retry_after)
            .order_by("event_id")
            .values_list("event_id", flat=True)[:batch]
        )
        if not claimed:
            return 0
        done, error = _deliver(claimed)
        LiveOutbox.objects.filter(event_id__in=done).delete()
        if error is not None:
            failed = next(i for i in claimed if i not in set(done))
            LiveOutbox.objects.filter(event_id=failed).update(
                attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:255]
            )
            log.warning("live outbox flush stopped after %d events: %s", len(done), error)
    return len(done)


# --- calls --------------------------------------------------------------------------------


def _caller_ticket(item: Ticket | Mapping[str, Any]) -> p.CallerTicket:
    if isinstance(item, Ticket):
        created = item.created_at.isoformat() if item.created_at else None
        return p.CallerTicket(id=item.pk, number=item.number, title=item.title, state=item.state, created_at=created)
    created_at = item.get("created_at")
    return p.CallerTicket(
        id=int(item["id"]),
        number=str(item.get("number", "")),
        title=str(item.get("title", "")),
        state=str(item.get("state", "")),
        created_at=created_at.isoformat() if isinstance(created_at, datetime) else created_at,
    )


def broadcast_call_incoming(call_sid: str, phone: str, history: Sequence[Ticket | Mapping[str, Any]]) -> bool:
    """来电弹屏: tell the operators a call is ringing, with the caller's earlier tickets.

    `history` is what `tickets.core.selectors.caller_history` returns (or dicts with id, number,
    title, state, created_at). Only operators receive it. Not stored and not retried: a
    ring is news only while it rings. Returns False when the layer could not be reached, so
    the voice webhook can go on answering Twilio regardless.
    """
    payload = p.CallIncoming(
        type="call.incoming",
        cursor=None,
        at=timezone.now().isoformat(),
        call_sid=call_sid,
        phone=phone,
        history=[_caller_ticket(t) for t in history],
    )
    try:
        _send([p.Envelope(payload=payload, unit_paths=[])])
    except Exception as exc:
        log.warning("call.incoming for %s not pushed: %s", call_sid, exc)
        return False
    return True


async def _send_to(group: str, envelope: p.Envelope) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group, {"type": MESSAGE_TYPE, "group": group, "envelope": envelope})


def call_bridged_push(payload: p.CallBridged) -> bool:
    """来电弹屏 on the bridge: to the bridged operator's seat group only. Not stored: the console
    also reads the call it is on from the page (`/console/seat/`) when it (re)loads."""
    try:
        layer_call(_send_to, seat_group(payload["operator"]), p.Envelope(payload=payload, unit_paths=[]))
    except Exception as exc:
        log.warning("call.bridged for %s not pushed: %s", payload["call_sid"], exc)
        return False
    return True


def wallboard_push(snapshot: Mapping[str, Any]) -> bool:
    """The wallboard's snapshot to supervisors (throttled by the caller; the page also polls)."""
    payload = p.Wallboard(
        type="wallboard",
        cursor=None,
        at=timezone.now().isoformat(),
        desks=list(snapshot["desks"]),
        seats=list(snapshot["seats"]),
    )
    layer_call(_send_to, role_group(p.SUPERVISOR), p.Envelope(payload=payload, unit_paths=[]))
    return True


# --- revoked logins -----------------------------------------------------------------------

REVOKED_TYPE = "auth.revoked"  # handled by LiveConsumer.deliver, not queued behind events


async def _send_revoked(user_id: int, tokens: list[int] | None, sessions: list[str] | None) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    group = user_group(user_id)
    await layer.group_send(group, {"type": REVOKED_TYPE, "group": group, "tokens": tokens, "sessions": sessions})


def credentials_revoked_push(*, user_id: int, tokens: list[int] | None, sessions: list[str] | None) -> bool:
    """After commit: close the user's sockets opened with these tokens / sessions (None: all).

    Not retried: when the layer is down, each socket's periodic re-check of its login
    (LIVE_AUTH_RECHECK_SECONDS) closes it instead. Returns False when the layer was unreachable.
    """
    try:
        layer_call(_send_revoked, user_id, tokens, sessions)
    except Exception as exc:
        log.warning("revocation for user %s not pushed (sockets close at their re-check): %s", user_id, exc)
        return False
    return True
