"""A socket that cannot be served right now is refused cleanly, never with an HTTP 500.

Opening a live socket reads the database (session or token, the reader, the latest cursor)
and joins channel-layer groups in Redis. Under load the database pool can make a connect wait
past its timeout (`HOTLINE_DB_POOL_TIMEOUT`, psycopg's PoolTimeout), and either service can be
down. An exception escaping the ASGI app before the handshake is answered makes uvicorn answer
HTTP 500 and log "Exception in ASGI application" as an error: a passing outage reported as a bug.

`HandshakeGuard` wraps the whole WebSocket stack. For an outage-class error (the database's,
as `tickets.db_errors` decides, or a Redis connection/timeout) it logs a warning and closes the
socket with 1013 "try again later" — accepting it first if the handshake was not answered yet,
so browsers see the code; the client reconnects with backoff and catches up by cursor. (Not
an HTTP 503 denial: uvicorn's websockets-sansio protocol logs such a denial as an error, "ASGI
callable returned without completing handshake".) Any other exception is a bug and propagates
(uvicorn's 500, logged as an error).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from channels_app.auth import token_from_scope
from tickets.db_errors import database_unavailable

log = logging.getLogger("channels_app")

CLOSE_TRY_AGAIN_LATER = 1013


def service_unavailable(exc: BaseException) -> bool:
    """An outage of the database or of the channel layer's Redis, not a bug."""
    if database_unavailable(exc):
        return True
    return isinstance(exc, RedisConnectionError | RedisTimeoutError | ConnectionError | TimeoutError)


class HandshakeGuard:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") != "websocket":
            return await self.inner(scope, receive, send)
        state = {"accepted": False, "answered": False}

        async def tracked_send(message: dict[str, Any]) -> None:
            kind = message.get("type")
            if kind == "websocket.accept":
                state["accepted"] = True
            elif kind in ("websocket.close", "websocket.http.response.start"):
                state["answered"] = True
            await send(message)

        try:
            return await self.inner(scope, receive, tracked_send)
        except Exception as exc:
            if not service_unavailable(exc):
                raise
            who = (scope.get("client") or ["?"])[0]  # the user may not be known yet
            if state["answered"]:
                log.warning(
                    "live socket from %s ended by an outage after it closed: %s: %s", who, type(exc).__name__, exc
                )
                return None
            if state["accepted"]:
                log.warning(
                    "live socket from %s closed (%d), service unavailable: %s: %s",
                    who,
                    CLOSE_TRY_AGAIN_LATER,
                    type(exc).__name__,
                    exc,
                )
            else:
                log.warning(
                    "live socket from %s refused (%d), service unavailable: %s: %s",
                    who,
                    CLOSE_TRY_AGAIN_LATER,
                    type(exc).__name__,
                    exc,
                )
            with contextlib.suppress(Exception):  # the client may be gone already
                await _refuse(scope, send, accepted=state["accepted"])
            return None


async def _refuse(scope: dict[str, Any], send: Any, *, accepted: bool) -> None:
    if not accepted:
        # Accept, then close: a browser sees the 1013 (a refused upgrade only shows it 1006).
        await send({"type": "websocket.accept", "subprotocol": token_from_scope(scope)[1]})
    await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER, "reason": "try again later"})
