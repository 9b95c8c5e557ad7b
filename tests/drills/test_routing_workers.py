"""Drill: the routing worker behind the intake routes every accepted ticket exactly once.

Real Celery worker processes against this test's PostgreSQL database and a private redis-server.
Two workers (two processes each) race over one routing queue: `FOR UPDATE SKIP LOCKED` gives each
ticket to one of them. A worker SIGKILLed in the middle of a batch (held at the batch's last write,
the scorecard upsert, by a table lock this test takes) leaves nothing behind: its transaction rolls
back, its tickets return to the queue, and the next run (beat's periodic one) routes them once.
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from celery import Celery
from django.db import connection, transaction
from django.db.models import Sum

from tests.drills.conftest import needs_servers, wait_until
from tickets.core.actors import Actor
from tickets.core.models import Assignment, RouteState, Ticket, TicketEvent
from tickets.duplicates.models import TicketFingerprint
from tickets.intake.services import intake
from tickets.messaging.models import SmsMessage, SmsPurpose
from tickets.metrics.models import UnitDayStats
from tickets.org.models import Category, Unit, User

pytestmark = [pytest.mark.drill, pytest.mark.slow, needs_servers, pytest.mark.django_db(transaction=True)]

CASES = [  # (text, category code, place code): given a category and a place, the catalogue dispatches
    ("小区门口道路破损严重，雨天积水，影响出行。", "zswr", "donghu"),
    ("公司拖欠三个月工资一直不发，请劳动监察部门帮忙处理。", "tqgz", "donghu-xinhua"),
    ("自来水已经停了两天没有任何通知，请问什么时候恢复供水？", "sdq", "beitang"),
    ("咨询一下办理居住证需要哪些材料。", None, None),  # no model in the drill: waits for a dispatcher
]


def _accept(count: int, settings: Any) -> list[int]:
    settings.ROUTING_INLINE = False  # accepted here, routed by the worker processes
    settings.ROUTING_WAKE_DELAY = 3600.0  # this process's own wake-up would go to another broker
    operator = Actor.of(User.objects.get(username="operator1"))
    ids = []
    for i in range(count):
        text, category, place = CASES[i % len(CASES)]
        ticket = intake.ticket_create(
            actor=operator, channel="phone", text=f"{text}（{i}）", citizen_phone=f"139{i:08d}", kind="complaint",
            category=Category.objects.get(code=category) if category else None,
            jurisdiction=Unit.objects.get(code=place) if place else None,
        )  # fmt: skip
        assert ticket.route_state == RouteState.PENDING
        ids.append(ticket.pk)
    return ids


def _wake(broker_url: str, times: int = 1) -> None:
    broker = Celery(broker=broker_url)
    try:
        for _ in range(times):
            broker.send_task("tickets.routing_run")
    finally:
        broker.close()


def _all_routed(ids: list[int]) -> bool:
    return not Ticket.objects.filter(pk__in=ids).exclude(route_state=RouteState.DONE).exists()


def _assert_routed_once(ids: list[int]) -> int:
    """Each ticket: one routing decision, one lead assignment if dispatched, one 受理 SMS, one fingerprint.
    Returns the number dispatched."""
    decisions = Counter(
        TicketEvent.objects.filter(ticket_id__in=ids, action__in=["dispatch", "await_dispatch"]).values_list(
            "ticket_id", flat=True
        )
    )
    assert decisions == Counter(ids), "a ticket routed twice or not at all"
    dispatched = set(Ticket.objects.filter(pk__in=ids, state="in_progress").values_list("pk", flat=True))
    waiting = set(Ticket.objects.filter(pk__in=ids, state="dispatching").values_list("pk", flat=True))
    assert dispatched | waiting == set(ids) and dispatched and waiting
    leads = Counter(Assignment.objects.filter(ticket_id__in=ids, role="lead").values_list("ticket_id", flat=True))
    assert leads == Counter(dispatched)
    created = Counter(
        TicketEvent.objects.filter(ticket_id__in=ids, action="assignment_created").values_list("ticket_id", flat=True)
    )
    assert created == Counter(Assignment.objects.filter(ticket_id__in=ids).values_list("ticket_id", flat=True))
    notices = Counter(
        SmsMessage.objects.filter(ticket_id__in=ids, purpose=SmsPurpose.RECEIVED).values_list("ticket_id", flat=True)
    )
    assert notices == Counter(ids), "a 受理 SMS missing or sent twice"
    assert TicketFingerprint.objects.filter(ticket_id__in=ids).count() == len(ids)
    return len(dispatched)


def _dispatched_counted() -> int:
    return int(UnitDayStats.objects.aggregate(n=Sum("dispatched"))["n"] or 0)


def _routed_by(log: str) -> int:
    """Tickets a worker's routing runs reported (Celery logs each task's return value)."""
    return sum(int(n) for n in re.findall(r"tickets\.routing_run\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log))


def test_two_routing_workers_racing_route_each_ticket_exactly_once(
    processes: Any, private_redis: Any, city: Any, settings: Any
) -> None:
    ids = _accept(160, settings)
    counted_before = _dispatched_counted()
    env = processes.env(redis_url=private_redis.url, HOTLINE_ROUTING_BATCH="4", LOG_LEVEL="INFO")
    processes.worker("worker-a", env, concurrency=2, wait=False)
    processes.worker("worker-b", env, concurrency=2, wait=False)
    processes.wait_ready("worker-a")
    processes.wait_ready("worker-b")
    _wake(private_redis.url, times=8)  # eight wake-ups at once: four processes claim side by side

    wait_until(lambda: _all_routed(ids), timeout=120, what="every ticket routed", every=0.5)
    wait_until(
        lambda: _routed_by(processes.log("worker-a")) + _routed_by(processes.log("worker-b")) >= len(ids),
        timeout=30,
        what="the workers' task results logged",
    )

    dispatched = _assert_routed_once(ids)
    assignments = Assignment.objects.filter(ticket_id__in=ids).count()  # 主办 and 协办 each count as dispatched
    assert dispatched and _dispatched_counted() == counted_before + assignments  # counted once each
    by_a, by_b = _routed_by(processes.log("worker-a")), _routed_by(processes.log("worker-b"))
    assert by_a + by_b == len(ids)
    assert by_a and by_b, (by_a, by_b)  # both raced over the one queue


def test_a_routing_worker_killed_mid_batch_leaves_its_tickets_routed_once_by_the_next_run(
    processes: Any, private_redis: Any, city: Any, settings: Any
) -> None:
    ids = _accept(12, settings)
    counted_before = _dispatched_counted()
    env = processes.env(redis_url=private_redis.url, HOTLINE_ROUTING_BATCH="50")
    processes.worker("worker-a", env)
    with transaction.atomic(), connection.cursor() as cursor:
        # The batch's last write, the scorecard upsert, waits on this lock: worker-a is mid-batch, its
        # assignments, events, SMS rows and fingerprints written but not committed.
        cursor.execute("LOCK TABLE tickets_unitdaystats IN SHARE MODE")
        _wake(private_redis.url)

        def held() -> bool:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO tickets_unitdaystats%%'"
            )
            return bool(cursor.fetchone()[0])

        wait_until(held, timeout=60, what="worker-a blocked at its batch's scorecard upsert", every=0.2)
        processes.kill("worker-a")  # SIGKILL, whole process group: no rollback from the worker's side
    # The lock is released: the dead worker's session finds no client and its transaction is rolled back.
    assert not Assignment.objects.filter(ticket_id__in=ids).exists()
    # Still in the queue (told 受理 by the worker's first step if they waited past the notice delay).
    assert Ticket.objects.filter(pk__in=ids).exclude(route_state=RouteState.DONE).count() == len(ids)

    processes.worker("worker-b", env)
    processes.beat("beat", env)  # the periodic run (every 2 s in the drill settings) finds the queue
    wait_until(lambda: _all_routed(ids), timeout=60, what="the killed batch routed by worker-b", every=0.5)

    dispatched = _assert_routed_once(ids)
    assignments = Assignment.objects.filter(ticket_id__in=ids).count()
    assert dispatched and _dispatched_counted() == counted_before + assignments


def test_the_served_web_wakes_the_worker_once_for_the_tickets_accepted_together(
    processes: Any, private_redis: Any, city: Any
) -> None:
    """No beat: only the web process's own wake-ups reach the worker. Ten tickets filed at once ride
    on one to three messages (the sender waits HOTLINE_ROUTING_WAKE_DELAY after the first ask; a
    long delay keeps that true on a loaded machine); a ticket filed after those were routed gets a
    message of its own."""
    from tickets.accounts.services import api_token_issue

    token = api_token_issue(user=User.objects.get(username="operator1"))[0]
    env = processes.env(redis_url=private_redis.url, HOTLINE_ROUTING_WAKE_DELAY="3.0", LOG_LEVEL="INFO")
    processes.worker("worker", env, wait=False)
    _proc, base = processes.serve("web", env, workers=1)
    processes.wait_ready("worker")

    def file(i: int) -> int:
        text, _category, _place = CASES[i % len(CASES)]
        answer = requests.post(
            f"http://{base}/api/tickets/",
            json={"text": f"{text}（{i}）", "kind": "complaint", "citizen_phone": f"1370000{i:04d}"},
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = list(pool.map(file, range(10)))
    wait_until(lambda: _all_routed(ids), timeout=60, what="the ten tickets routed", every=0.2)
    wait_until(lambda: _routed_by(processes.log("worker")) >= 10, timeout=30, what="the runs logged")
    runs = _runs(processes.log("worker"))
    assert 1 <= runs <= 3, runs  # not one message per ticket
    decisions = TicketEvent.objects.filter(ticket_id__in=ids, action__in=["dispatch", "await_dispatch"])
    assert Counter(decisions.values_list("ticket_id", flat=True)) == Counter(ids)

    later = file(10)
    wait_until(lambda: _all_routed([later]), timeout=30, what="a later ticket routed by a new wake-up", every=0.2)
    wait_until(lambda: _runs(processes.log("worker")) > runs, timeout=30, what="the later run logged")


def _runs(log: str) -> int:
    return len(re.findall(r"tickets\.routing_run\[[^\]]+\] succeeded", log))


def test_a_worker_loads_the_classifier_once_before_it_forks_its_pool(
    processes: Any, private_redis: Any, city: Any, settings: Any, demo_model: Any
) -> None:
    """The model is loaded by the worker's main process before it says ready, and its pool processes
    classify with that copy: no pool process loads it again on its first batch (a load inside the
    first batch after each start, and a private copy of the model per process)."""
    env = processes.env(redis_url=private_redis.url, LOG_LEVEL="INFO", CLASSIFIER_MODEL_DIR=str(demo_model))
    processes.worker("worker", env, concurrency=2)
    log = processes.log("worker")
    assert _model_loads(log) == ["main"], log[-3000:]
    ready = re.search(r"@\S+ ready\.", log)
    assert ready and log.index("classifier: now serving model") < ready.start()

    ids: list[int] = []
    for _ in range(2):  # two wake-ups, each with a ticket the classifier must place
        batch = _accept(4, settings)
        _wake(private_redis.url)
        wait_until(lambda batch=batch: _all_routed(batch), timeout=60, what="the tickets routed", every=0.2)
        ids += batch
    classified = TicketEvent.objects.filter(ticket_id__in=ids, action="classified")
    assert classified.count() == 2 and all(e.data.get("model_version") for e in classified)
    assert _model_loads(processes.log("worker")) == ["main"]


def _model_loads(log: str) -> list[str]:
    """Which processes of a worker loaded a classifier model: Celery names a pool process on each of
    its log lines; the main process's warm-up logs before Celery's own logging is set up."""
    return [
        "pool" if "ForkPoolWorker" in prefix else "main"
        for prefix in re.findall(r"^(.*)classifier: now serving model", log, flags=re.MULTILINE)
    ]


def _backends() -> set[int]:
    """The client sessions on this database now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
        )
        return {int(pid) for (pid,) in cursor.fetchall()}


def _sessions_begun() -> int:
    """Connections PostgreSQL has accepted to this database (its statistics, read afresh)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def test_a_worker_keeps_its_database_connections_across_tasks_and_heals_when_they_are_cut(
    processes: Any, private_redis: Any, city: Any, settings: Any
) -> None:
    """A task ends as a request does: its connection goes back to the pool process's own pool. (Celery's
    Django fixup closed that whole pool before and after every task, so each wake-up and each SMS
    send started a PostgreSQL backend of its own: ~13 ms of CPU between the worker and PostgreSQL
    for a wake-up that found nothing to do.) A connection PostgreSQL has cut is dropped, and the next
    task routes with a new one."""
    before_worker = _backends()  # this process's own: never cut below
    env = processes.env(redis_url=private_redis.url, LOG_LEVEL="INFO")
    processes.worker("worker", env, concurrency=2)
    _wake(private_redis.url, times=4)  # each pool process opens its connections
    wait_until(lambda: _runs(processes.log("worker")) >= 4, timeout=60, what="the first runs logged", every=0.2)
    begun = _sessions_begun()  # the two pool processes' connections may be reported after this: ≤ 2 more

    _wake(private_redis.url, times=40)
    wait_until(lambda: _runs(processes.log("worker")) >= 44, timeout=120, what="forty more runs logged", every=0.2)
    assert _sessions_begun() - begun <= 4  # a connection per task: 80 (before and after each), reported as they end

    workers = _backends() - before_worker
    assert workers
    with connection.cursor() as cursor:  # as a PostgreSQL restart does to the worker's connections
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(%s::int[]) AS pid", [sorted(workers)]
        )
        assert cursor.fetchone()[0] == len(workers)
    ids = _accept(8, settings)
    _wake(private_redis.url, times=4)  # both pool processes, each with a cut connection in its pool
    wait_until(lambda: _all_routed(ids), timeout=60, what="the tickets routed after the cut", every=0.2)
    _assert_routed_once(ids)
    assert "Traceback" not in processes.log("worker")
