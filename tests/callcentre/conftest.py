"""Call-centre test helpers: Twilio-signed webhook posts, a local fake of Twilio's REST API that
records what the system asked of it, and the live layer's seat groups to listen on."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable, Iterator
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, channel_layers, get_channel_layer
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.intake.conftest import TOKEN, twilio_post
from tickets.callcentre.services import seats
from tickets.org.models import User

ACCOUNT = "AC" + "7" * 32
LINE = "+8612345"
CC = "/webhooks/twilio/callcentre"
AUDIO = b"ID3\x03\x00fake-mp3-bytes"


class FakeTwilio:
    """POST …/Calls.json (ring a seat, dial a liaison) answers with a new CallSid; POST
    …/Calls/CA….json (update a live call's TwiML) answers the call; GET …/Recordings/RE….mp3 serves
    audio; DELETE …/Recordings/RE….json deletes. Every request is kept in `requests`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.calls = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _record(self, method: str) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                entry = {"method": method, "path": urlsplit(self.path).path, "form": form,
                         "auth": self.headers.get("Authorization", "")}  # fmt: skip
                with fake.lock:
                    fake.requests.append(entry)
                return entry

            def do_POST(self) -> None:
                entry = self._record("POST")
                if entry["path"].endswith("/Calls.json"):
                    with fake.lock:
                        fake.calls += 1
                        sid = f"CA{fake.calls:032d}"
                    body = {"sid": sid, "account_sid": ACCOUNT, "to": entry["form"].get("To"),
                            "from": entry["form"].get("From"), "status": "queued",
                            "date_created": format_datetime(timezone.now(), usegmt=True)}  # fmt: skip
                    self._answer(201, json.dumps(body).encode(), "application/json")
                    return
                updated = re.search(r"/Calls/(CA\w+)\.json$", entry["path"])
                if updated:  # calls(sid).update(twiml=…): the live call gets new TwiML
                    body = {"sid": updated.group(1), "account_sid": ACCOUNT, "status": "in-progress"}
                    self._answer(200, json.dumps(body).encode(), "application/json")
                    return
                self._answer(404, b"{}", "application/json")

            def do_GET(self) -> None:
                entry = self._record("GET")
                if "/Recordings/" in entry["path"] and entry["path"].endswith(".mp3"):
                    self._answer(200, AUDIO, "audio/mpeg")
                    return
                self._answer(404, b"{}", "application/json")

            def do_DELETE(self) -> None:
                self._record("DELETE")
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def created_calls(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"].endswith("/Calls.json")]

    def updated_calls(self) -> list[dict[str, Any]]:
        """(CallSid, TwiML) of every live call the system redirected, in order."""
        found = [(re.search(r"/Calls/(CA\w+)\.json$", r["path"]), r) for r in self.requests if r["method"] == "POST"]
        return [{"sid": m.group(1), "twiml": r["form"].get("Twiml", "")} for m, r in found if m]


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture(autouse=True)
def _callcentre_settings(settings: Any) -> Iterator[None]:
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # no REST calls unless a test starts the fake server
    settings.TWILIO_FROM_NUMBER = ""
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.TWILIO_ALLOW_UNSIGNED = False
    settings.HOTLINE_TRUSTED_PROXY_HOPS = 0
    settings.HOTLINE_PUBLIC_URL = "http://testserver"
    settings.CALLCENTRE_WRAP_UP_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def twilio_rest(settings: Any, fake_twilio: FakeTwilio) -> FakeTwilio:
    """The system's REST calls go to the fake server (the official client, only the host changed)."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_FROM_NUMBER = LINE
    settings.TWILIO_API_BASE_URL = fake_twilio.url
    return fake_twilio


@pytest.fixture
def web() -> Client:
    return Client()


@pytest.fixture
def post(web: Client, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """post(path, **params): a signed Twilio webhook; after-commit work (assignment, pop) runs."""

    def send(path: str, **params: str) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            response = twilio_post(web, path, params)
        assert response.status_code == 200, response.content
        return response

    return send


@pytest.fixture
def ready(user: Callable[[str], User], django_capture_on_commit_callbacks: Any) -> Callable[[str], User]:
    def make(username: str) -> User:
        operator = user(username)
        with django_capture_on_commit_callbacks(execute=True):
            seats.seat_choose_state(user=operator, state="ready")
        return operator

    return make


class SeatEar:
    """A channel in one operator's seat group of the live layer: what their sockets would get.

    Runs on an event loop of its own (a thread), because channels-redis binds a channel's receive
    buffer to the loop that created it. On Redis each ear also has a layer of its own: channels-redis
    lets one event loop at a time receive() on a layer ("Two event loops are trying to receive() on
    one channel layer at once!", when a second ear listened while the first's timed-out receive was
    still being cleaned up); the ears and the app's layer meet in Redis, as processes do. The
    in-memory layer lives in this process only, so the ears share it."""

    def __init__(self, user_id: int) -> None:
        shared = get_channel_layer()
        in_memory = isinstance(shared, InMemoryChannelLayer)
        self.layer = shared if in_memory else channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.channel = self._run(self.layer.new_channel())
        self._run(self.layer.group_add(f"seat.{user_id}", self.channel))

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def messages(self) -> list[dict[str, Any]]:
        found = []
        while True:
            try:
                found.append(self._run(asyncio.wait_for(self.layer.receive(self.channel), 0.2)))
            except TimeoutError:
                return found

    def close(self) -> None:
        # Closed, not only stopped: channels-redis keeps a connection pool per event loop and drops
        # it when the loop closes; a pool left behind made the layer's next flush() (tests/live)
        # close it from another loop and fail.
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def seat_ear() -> Iterator[Callable[[User], SeatEar]]:
    ears: list[SeatEar] = []

    def make(operator: User) -> SeatEar:
        ears.append(SeatEar(operator.pk))
        return ears[-1]

    yield make
    for ear in ears:
        ear.close()
