"""A local stand-in for Twilio's REST API, driven by the real `twilio` client of the workers.

POST …/Messages.json records a message and answers like Twilio; GET …/Messages.json lists the
recorded messages (filter `To`), which is what `sms_send` asks after a worker died mid-send.
`hang` makes POSTs block until released, so a drill can kill a worker in the middle of a send;
`keep_hung` says whether such a POST counts as received by Twilio (True) or lost on the way.
"""

from __future__ import annotations

import json
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

ACCOUNT = "AC" + "1" * 32
TOKEN = "drill-token"
FROM = "+8610012345"


class FakeTwilio:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.posts = 0
        self.hang = False
        self.keep_hung = True
        self.hung = threading.Event()  # set when a POST is being held
        self.release = threading.Event()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client (a killed worker) is gone
                    pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake.lock:
                    fake.posts += 1
                    hang = fake.hang
                    message = {
                        "sid": f"SM{len(fake.messages) + 1:032d}",
                        "to": form.get("To"),
                        "body": form.get("Body"),
                        "status": "queued",
                        "account_sid": ACCOUNT,
                        "date_created": format_datetime(timezone.now(), usegmt=True),
                    }
                    if not hang or fake.keep_hung:
                        fake.messages.append(message)
                if hang:
                    fake.hung.set()
                    fake.release.wait(60)
                    return  # never answered: the worker that sent it is dead by now
                self._json(201, message)

            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                with fake.lock:
                    found = [m for m in fake.messages if "To" not in query or m["to"] == query["To"]]
                self._json(200, {"messages": list(reversed(found)), "end": 0, "start": 0, "page": 0,
                                 "page_size": 50, "next_page_uri": None, "previous_page_uri": None,
                                 "first_page_uri": None, "uri": urlsplit(self.path).path})  # fmt: skip

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def env(self) -> dict[str, str]:
        return {
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": FROM,
            "TWILIO_API_BASE_URL": self.url,
        }

    def bodies_to(self, phone: str) -> list[str]:
        with self.lock:
            return [m["body"] for m in self.messages if m["to"] == phone]

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
