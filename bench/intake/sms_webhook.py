"""SMS webhook cost, in process (Django test client, no network):

- baseline: a signed request refused for a wrong signature (Django + RequestValidator, no writes);
- new: a signed new SMS → InboundMessage + draft ticket + event, answered with TwiML;
- replay: Twilio retrying an already answered MessageSid (one indexed read, stored answer).

Prints median and p95 per kind and the ratio of medians to the baseline, measured in one run.

    python bench/intake/sms_webhook.py --n 200                     # embedded SQLite in a temp dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_intake_bench python bench/intake/sms_webhook.py

With DATABASE_URL the database must exist; it is migrated and gets the demo SLA profile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
if not os.environ.get("DATABASE_URL"):
    os.environ["HOTLINE_VAR_DIR"] = tempfile.mkdtemp(prefix="intake-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
TOKEN = "bench-auth-token"
os.environ["TWILIO_AUTH_TOKEN"] = TOKEN

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from tickets.sla.services import policy  # noqa: E402

URL = "/webhooks/twilio/sms/"


def params(i: int, phone_block: int) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "MessageSid": f"SMbench{phone_block:04d}{i:08d}",
        "From": f"+86137{phone_block:04d}{i % 10000:04d}",
        "To": "+8610690012345",
        "Body": "滨江区园区街道园区社区门口的路灯坏了一个多月了，晚上很黑，请尽快修复。",
        "NumMedia": "0",
        "NumSegments": "1",
    }


def post(client: Client, data: dict[str, str], *, good: bool = True) -> float:
    signature = RequestValidator(TOKEN if good else "wrong").compute_signature("http://testserver" + URL, data)
    started = time.perf_counter()
    response = client.post(
        URL, urlencode(data), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == (200 if good else 403), response.status_code
    return elapsed * 1000


def summary(name: str, values: list[float], base: float | None) -> str:
    med = statistics.median(values)
    p95 = sorted(values)[int(len(values) * 0.95) - 1]
    ratio = f"  ×{med / base:.1f} baseline" if base else ""
    return f"{name:<9} median {med:7.2f} ms  p95 {p95:7.2f} ms  (n={len(values)}){ratio}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    import logging

    for name in ("tickets", "django.request"):  # the refused baseline requests would log each one
        logging.getLogger(name).setLevel(logging.ERROR)
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.INTAKE_LIMIT_PER_PHONE = (10**9, 3600)  # the bench is not abuse
    settings.INTAKE_LIMIT_PER_IP = (10**9, 3600)
    call_command("migrate", verbosity=0)
    policy.profile_ensure_default()
    client = Client()
    block = int(time.time()) % 10000  # fresh sids and numbers on a reused database
    for i in range(10):  # warm up
        post(client, params(i, block), good=False)
    baseline = [post(client, params(i, block), good=False) for i in range(args.n)]
    new = [post(client, params(i, block)) for i in range(args.n)]
    replay = [post(client, params(i, block)) for i in range(args.n)]
    base = statistics.median(baseline)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    print(summary("baseline", baseline, None))
    print(summary("new", new, base))
    print(summary("replay", replay, base))


if __name__ == "__main__":
    main()
