"""Celery task names are part of the wire format: a renamed task strands the messages queued for it.

An SMS retry can wait an hour in Redis under its task's name, and beat schedules name tasks too.
Moving a module must not change a name; changing one on purpose means editing this list and
draining the queue first (docs/operations.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from hotline.celery import app

ROOT = Path(__file__).resolve().parent.parent

PINNED_TASK_NAMES = {
    "channels_app.tasks.live_outbox_flush",
    "classifier.retrain",
    "tickets.callcentre.assign_sweep",
    "tickets.callcentre.recordings_purge",
    "tickets.hotspots_daily_report",
    "tickets.hotspots_refresh",
    "tickets.hotspots_surge_scan",
    "tickets.job_run",
    "tickets.routing_run",
    "tickets.sla.scan_deadlines",
    "tickets.sla.supervisions_fanout",
    "tickets.sla.supervisions_notify_pending",
    "tickets.tasks.idempotency_purge",
    "tickets.tasks.rating_expire_due",
    "tickets.tasks.sms_resend_stale",
    "tickets.tasks.sms_send",
    "tickets.tasks.sms_send_many",
    "tickets.tasks.staff_credentials_purge",
}


def _registered() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_registered_task_names_are_the_pinned_ones() -> None:
    assert _registered() == PINNED_TASK_NAMES


def test_every_task_declares_its_name_explicitly() -> None:
    """A name derived from the module path would change silently when the module moves."""
    unnamed = []
    for package in ("hotline", "tickets", "classifier", "channels_app"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.FunctionDef):
                    continue
                for deco in node.decorator_list:
                    call = deco if isinstance(deco, ast.Call) else None
                    target = call.func if call else deco
                    name = getattr(target, "id", getattr(target, "attr", ""))
                    if name in ("shared_task", "task") and not (call and any(k.arg == "name" for k in call.keywords)):
                        unnamed.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert unnamed == []


def test_every_beat_entry_names_a_registered_task() -> None:
    registered = _registered()
    schedule = settings.CELERY_BEAT_SCHEDULE
    unknown = {key: entry["task"] for key, entry in schedule.items() if entry["task"] not in registered}
    assert unknown == {}
