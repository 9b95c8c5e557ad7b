"""The live feed consumer: authenticates on connect, joins its reader's groups, never writes.

Client → server messages (JSON):
  {"type": "subscribe", "ticket": <id>}    watch one ticket (only one the user may see)
  {"type": "unsubscribe", "ticket": <id>}
  {"type": "ping"}
Server → client: {"type": "hello", "cursor": <latest>, ...} once, then typed payloads
(channels_app.payloads), "subscribed"/"unsubscribed", "pong" and "error".
The socket closes with 4401 when its login is revoked (logout, password change, deactivation: a
message to the user's group, at once) or expires (token lifetime; a periodic re-check).

A frame no client of ours sends closes the socket with a defined code and a warning, never an
ASGI traceback: binary 1003, not JSON (or nested deeper than a message can be, or with a NUL
byte) 1007, longer than FRAME_MAX_CHARS 1009.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict, deque
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.utils import timezone

from channels_app.auth import credential_of, credential_valid_until
from channels_app.broadcast import REVOKED_TYPE
from channels_app.groups import ticket_group, user_group
from channels_app.hub import Hub, cancel_until_done, hub_for
from channels_app.payloads import UNIT, Envelope
from channels_app.readers import Reader, groups_for_reader, payload_for_reader, reaches_unit, reader_for
from channels_app.selectors import MAX_LIMIT, live_events_after
from tickets.core import selectors
from tickets.core.models import TicketEvent
from tickets.db_errors import database_unavailable
from tickets.errors import InvalidInput, NotFound
from tickets.json_input import json_value_check
from tickets.org.models import User

CLOSE_UNAUTHENTICATED = 4401  # also when the login is revoked or expires while open: sign in again
CLOSE_FORBIDDEN = 4403
MAX_WATCHED_TICKETS = 50
RECENT_CURSORS = 512
# Events waiting for one socket (references to envelopes the process shares): room for ten routing
# batches of 100 tickets with two events each for one group. Past that the socket is not reading: it
# is closed with CLOSE_CATCH_UP and its client catches up by cursor (/api/events/?after=).
INBOX = 2000
RESYNC_PAGES = 5  # pages of MAX_LIMIT events a socket catches up by itself; past that it is closed
CLOSE_CATCH_UP = 1012  # "service restart": reconnect and catch up through /api/events/?after=
CLOSE_BINARY = 1003  # "unsupported data": the protocol is JSON text
CLOSE_NOT_JSON = 1007  # "invalid frame payload data"
CLOSE_TOO_BIG = 1009  # "message too big"
FRAME_MAX_CHARS = 4096  # a client message is {"type": "subscribe", "ticket": 123}: tens of characters
FRAME_MAX_DEPTH = 4

log = logging.getLogger("channels_app")


def _hello(user: User) -> tuple[Reader | None, int]:
    reader = reader_for(user)
    latest = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return reader, latest


def _missed(reader: Reader, after: int, watched: list[int]) -> tuple[list[dict[str, Any]], bool]:
    """What this socket would have sent after `after` (its feed and watched tickets, oldest
    first, with the look-back of live_events_after) and whether that was all of it."""
    events: dict[int, dict[str, Any]] = {}
    complete = True
    for ticket_id in [None, *watched]:
        cursor = after
        for _ in range(RESYNC_PAGES):
            try:
                page = live_events_after(reader.user, reader, after=cursor, limit=MAX_LIMIT, ticket_id=ticket_id)
            except NotFound:  # the ticket left the reader's scope
                break
            for payload in page.events:
                if payload["cursor"] is not None:  # ticket events always have one
                    events.setdefault(payload["cursor"], dict(payload))
            cursor = page.cursor
            if not page.has_more:
                break
        else:
            complete = False
    return [events[c] for c in sorted(events)], complete


def _may_watch(user: User, ticket_id: int) -> bool:
    try:
        selectors.ticket_get(user, ticket_id)
    except NotFound:
        return False
    return True


class LiveConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """One socket. It has no channel of its own: the process's hub (channels_app.hub) receives
    group messages once and puts them in this socket's inbox."""

    reader: Reader
    live_groups: list[str]
    watched: set[int]
    hub: Hub | None = None
    cursor = 0  # the newest event this socket was sent or told about (hello)
    catching_up: asyncio.Task[None] | None = None
    watchdog: asyncio.Task[None] | None = None
    signing_out: asyncio.Future[None] | None = None
    credential: tuple[str, Any] | None = None
    signed_out = False  # the login was revoked or expired: nothing more is sent
    left_behind = False  # its inbox overflowed: nothing more is sent, the client catches up by cursor
    leaving: asyncio.Future[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # channels.consumer.AsyncConsumer.__call__, with the per-consumer layer channel
        # replaced by an inbox the hub fills and a pump task that sends from it.
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = ""
        self.base_send = send
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=INBOX)
        self.greeted = asyncio.Event()  # events wait in the inbox until accept and hello are out
        pump = asyncio.ensure_future(self._pump())
        try:
            await await_many_dispatch([receive], self.dispatch)
        except StopConsumer:
            pass
        finally:
            await self._leave_all()  # also when connect failed half-way or the server cancels us
            await cancel_until_done(pump)
            for task in (self.catching_up, self.watchdog, self.signing_out, self.leaving):
                if task is not None:
                    await cancel_until_done(task)

    async def _pump(self) -> None:
        # Live events touch no database: no thread hop to close old connections (Channels'
        # dispatch makes one before every handler: one per socket per event, serialised).
        await self.greeted.wait()
        while True:
            message = await self.inbox.get()
            try:
                await self.live_event(message)
            except Exception:  # one bad message must not silence the socket for good
                log.exception("live event not sent to %s", self.scope.get("user"))

    def deliver(self, message: dict[str, Any]) -> None:
        """Called by the hub for each message to a group this socket is in."""
        if message.get("type") == REVOKED_TYPE:  # never queued behind events, never dropped
            if self._revokes_me(message):
                self.signing_out = asyncio.ensure_future(self._sign_out("revoked"))
            return
        if self.left_behind:
            return
        try:
            self.inbox.put_nowait(message)
        except asyncio.QueueFull:
            # Dropping the event and going on would leave the page showing the feed as live
            # with a hole in it; closed, the page reconnects and reads what it missed.
            self.left_behind = True
            log.warning("live socket of %s is not reading; closed to catch up", self.scope.get("user"))
            self.leaving = asyncio.ensure_future(self._leave_behind())

    def resync(self) -> None:
        """Called by the hub after the channel layer failed and recovered: events may have been
        lost meanwhile, so send what this socket missed after its cursor (one catch-up at a time)."""
        if self.catching_up is None or self.catching_up.done():
            self.catching_up = asyncio.ensure_future(self._catch_up())

    async def _catch_up(self) -> None:
        await self.greeted.wait()
        try:
            events, complete = await database_sync_to_async(_missed)(self.reader, self.cursor, sorted(self.watched))
        except Exception as exc:  # the database is down too: let the client reconnect and catch up
            if database_unavailable(exc):
                log.warning("live socket of %s could not catch up, closing it: %s", self.reader.user, exc)
            else:
                log.exception("live socket of %s could not catch up, closing it", self.reader.user)
            await self.close(code=CLOSE_CATCH_UP)
            return
        for payload in events:
            if not self._seen(payload["cursor"]):
                self.cursor = max(self.cursor, payload["cursor"])
                await self.send(text_data=json.dumps(payload, ensure_ascii=False))
        if not complete:  # too much to send here: the client pages through /api/events/ itself
            await self.close(code=CLOSE_CATCH_UP)

    def _revokes_me(self, message: dict[str, Any]) -> bool:
        if self.credential is None:
            return True
        kind, value = self.credential
        named = message.get("tokens" if kind == "token" else "sessions")
        return named is None or value in named

    async def _watch_login(self) -> None:
        """The backstop to the revocation message (lost while Redis was down, or a change made
        without model signals): re-check the login now and then, and at a token's expiry."""
        user_id = self.reader.user.pk
        while self.credential is not None:
            valid = await database_sync_to_async(credential_valid_until)(self.credential, user_id)
            if isinstance(valid, str):
                await self._sign_out(valid)
                return
            wait = settings.LIVE_AUTH_RECHECK_SECONDS
            if isinstance(valid, datetime):
                wait = min(wait, max(0.05, (valid - timezone.now()).total_seconds()))
            await asyncio.sleep(wait)

    async def _sign_out(self, reason: str) -> None:
        if self.signed_out:
            return
        self.signed_out = True
        log.info("live socket of %s closed: login %s", self.scope.get("user"), reason)
        await self._leave_all()
        await self.close(code=CLOSE_UNAUTHENTICATED, reason=reason)

    async def _leave_behind(self) -> None:
        await self._leave_all()
        await self.close(code=CLOSE_CATCH_UP)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        reader, latest = await database_sync_to_async(_hello)(user)
        if reader is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.reader = reader
        self.cursor = latest
        # What decides the bytes this socket gets for an event, besides the event (_rendered).
        self.render_kind = (reader.audience, bool(reader.user.is_centre))
        self.watched = set()
        # A retried push or a ticket watched by a reader who also gets it by role arrives
        # twice; a short memory of cursors keeps the client from seeing it twice.
        self._recent: deque[int] = deque(maxlen=RECENT_CURSORS)
        self._recent_set: set[int] = set()
        self.live_groups = [*groups_for_reader(reader), user_group(user.pk)]
        self.credential = credential_of(self.scope)
        if self.channel_layer is not None:
            self.hub = hub_for(self.channel_layer)
            for group in self.live_groups:
                await self.hub.join(group, self)
        await self.accept(subprotocol=self.scope.get("live_subprotocol"))
        await self.send_json(
            {
                "type": "hello",
                "cursor": latest,
                "user": user.get_username(),
                "audience": reader.audience,
                "unit": reader.unit_code or None,
            }
        )
        self.greeted.set()
        if self.credential is not None:
            self.watchdog = asyncio.ensure_future(self._watch_login())

    async def disconnect(self, code: int) -> None:
        await self._leave_all()

    async def _leave_all(self) -> None:
        hub, self.hub = self.hub, None
        if hub is None:
            return
        groups = [*getattr(self, "live_groups", []), *(ticket_group(t) for t in getattr(self, "watched", ()))]
        for group in groups:
            try:
                await hub.leave(group, self)
            except Exception as exc:  # Redis down: the hub has forgotten us; the layer expires the group
                log.warning("live socket left %s without the layer: %s", group, exc)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Channels' JsonWebsocketConsumer raises on a binary frame or text that is not JSON (an
        "Exception inside application" traceback); here each is a close with its code."""
        if text_data is None:
            await self._close_for(CLOSE_BINARY, "a binary frame")
            return
        if len(text_data) > FRAME_MAX_CHARS:
            await self._close_for(CLOSE_TOO_BIG, f"a frame of {len(text_data)} characters")
            return
        try:
            content = json.loads(text_data)
            json_value_check(content, max_depth=FRAME_MAX_DEPTH)
        except (ValueError, RecursionError, InvalidInput) as exc:
            await self._close_for(CLOSE_NOT_JSON, f"a frame that is not a message ({type(exc).__name__})")
            return
        await self.receive_json(content, **kwargs)

    async def _close_for(self, code: int, what: str) -> None:
        log.warning("live socket of %s sent %s; closed (%d)", self.scope.get("user"), what, code)
        await self.close(code=code)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if kind in ("subscribe", "unsubscribe"):
            ticket_id = content.get("ticket")
            if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
                await self._error("invalid", "ticket 必须是工单编号（整数）")
                return
            if kind == "subscribe":
                await self._subscribe(ticket_id)
            else:
                await self._unsubscribe(ticket_id)
            return
        await self._error("unknown_type", "不支持的消息类型")

    async def _subscribe(self, ticket_id: int) -> None:
        if ticket_id not in self.watched:
            if len(self.watched) >= MAX_WATCHED_TICKETS:
                await self._error("too_many", f"同时关注的工单不能超过 {MAX_WATCHED_TICKETS} 件", ticket_id)
                return
            if not await database_sync_to_async(_may_watch)(self.reader.user, ticket_id):
                await self._error("not_found", "工单不存在或无权查看", ticket_id)
                return
            self.watched.add(ticket_id)
            if self.hub is not None:
                await self.hub.join(ticket_group(ticket_id), self)
        await self.send_json({"type": "subscribed", "ticket": ticket_id})

    async def _unsubscribe(self, ticket_id: int) -> None:
        if ticket_id in self.watched:
            self.watched.discard(ticket_id)
            if self.hub is not None:
                await self.hub.leave(ticket_group(ticket_id), self)
        await self.send_json({"type": "unsubscribed", "ticket": ticket_id})

    async def _error(self, code: str, message: str, ticket: int | None = None) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "ticket": ticket})

    def _seen(self, cursor: int | None) -> bool:
        if cursor is None:
            return False
        if cursor in self._recent_set:
            return True
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(cursor)
        self._recent_set.add(cursor)
        return False

    async def live_event(self, message: dict[str, Any]) -> None:
        """From the channel layer (broadcast.MESSAGE_TYPE): filter for this reader, then send."""
        if self.signed_out or self.left_behind:
            return
        envelope = message["envelope"]
        payload = envelope["payload"]
        ticket = payload.get("ticket")
        watching = ticket is not None and ticket["id"] in self.watched
        text = _rendered(envelope, self.reader, self.render_kind, watching)
        if text is not None and not self._seen(payload.get("cursor")):
            self.cursor = max(self.cursor, payload.get("cursor") or 0)
            await self.send(text_data=text)


# One event reaches hundreds of sockets in a process, and every reader of the same kind gets
# the same bytes: filter and serialise once per (event, kind of reader), not once per socket.
_RENDERED: OrderedDict[tuple[Any, ...], str | None] = OrderedDict()
_RENDERED_MAX = 256


def _rendered(envelope: Envelope, reader: Reader, kind: tuple[str, bool], watching: bool) -> str | None:
    payload = envelope["payload"]
    identity = payload["cursor"] if payload["cursor"] is not None else ("call", payload.get("call_sid"), payload["at"])
    reaches = reader.audience != UNIT or reaches_unit(reader, envelope["unit_paths"])
    key = (identity, *kind, watching, reaches)
    if key in _RENDERED:
        return _RENDERED[key]
    found = payload_for_reader(envelope, reader, watching=watching)
    text = json.dumps(found, ensure_ascii=False) if found is not None else None
    _RENDERED[key] = text
    if len(_RENDERED) > _RENDERED_MAX:
        _RENDERED.popitem(last=False)
    return text
