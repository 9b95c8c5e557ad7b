"""After-commit hooks of the call centre: the wallboard push and the next assignment.

Kept here so the services that change seats and queues register them in one way (Zulip's
"write, then announce on commit"): a rolled-back change never moves the wallboard or rings a seat."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from channels_app import broadcast
from channels_app.payloads import CallBridged, CallerTicket
from tickets.callcentre import selectors
from tickets.callcentre.models import QueuedCall

log = logging.getLogger("tickets.callcentre")

WALLBOARD_EVERY_SECONDS = 1  # at most one snapshot a second per deployment (the page also polls)
_ATTR = "_callcentre_after_commit"


class _AfterCommit:
    """What one transaction asked for (assign, wallboard), run once after it commits."""

    def __init__(self) -> None:
        self.what: set[str] = set()
        self.fired = False
        self.__qualname__ = "callcentre after commit"

    def __call__(self) -> None:
        self.fired = True
        _run(self.what)


def _run(what: set[str]) -> None:
    if "assign" in what:
        # function-level: the assignment moves seats, whose service registers these hooks
        from tickets.callcentre.services import assignment

        assignment.queue_assign()
    if "wallboard" in what:
        wallboard_push()


def _later(what: str) -> None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _run({what})
        return
    pending = getattr(connection, _ATTR, None)
    if (
        not isinstance(pending, _AfterCommit)
        or pending.fired
        or not any(hook is pending for _sids, hook, _robust in connection.run_on_commit)
    ):
        pending = _AfterCommit()
        setattr(connection, _ATTR, pending)
        transaction.on_commit(pending, robust=True)
    pending.what.add(what)


def assign_after_commit() -> None:
    _later("assign")


def wallboard_changed() -> None:
    _later("wallboard")


def wallboard_push(*, force: bool = False) -> bool:
    """Send the wallboard snapshot to supervisors, throttled across processes by the cache. A
    change inside the second is not pushed: the page re-reads the snapshot a moment after each
    push it gets (static/js/wallboard.js), so the board never stays on a state already gone."""
    if not force and not cache.add("callcentre:wallboard-push", 1, WALLBOARD_EVERY_SECONDS):
        return False
    try:
        return broadcast.wallboard_push(selectors.wallboard_snapshot())
    except Exception as exc:  # the wallboard is news; never fail the webhook after commit
        log.warning("wallboard not pushed: %s", exc)
        return False


def caller_pop(queued: QueuedCall) -> bool:
    """After the bridge has committed: the caller's panel to the bridged operator's sockets
    (`queued` as the bridge left it, with its call and desk)."""
    if queued.operator_id is None:
        return False
    panel = selectors.caller_panel(queued)
    payload = CallBridged(
        type="call.bridged",
        cursor=None,
        at=timezone.now().isoformat(),
        operator=queued.operator_id,
        call_sid=panel["call_sid"],
        desk=panel["desk"],
        phone=panel["phone"],
        wait_seconds=panel["wait_seconds"],
        repeat_caller=panel["repeat_caller"],
        opted_out=panel["opted_out"],
        confidential_history=panel["confidential_history"],
        history=[
            CallerTicket(
                id=t.pk,
                number=t.number,
                title=t.title,
                state=t.get_state_display(),
                created_at=t.created_at.isoformat() if t.created_at else None,
            )
            for t in panel["tickets"]
        ],
    )
    return broadcast.call_bridged_push(payload)
