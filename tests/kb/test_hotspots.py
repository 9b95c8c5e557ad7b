"""热点: a planted surge of synthetic tickets is found, ranked, trended and announced once."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
import time_machine
from celery.exceptions import MaxRetriesExceededError, Retry
from django.core.cache import cache
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from scipy.sparse import random as sparse_random
from sklearn.preprocessing import normalize

from hotline.celery import app as celery_app
from tickets.core.models import TicketEvent
from tickets.duplicates.models import HotspotAlert
from tickets.duplicates.services import hotspots
from tickets.duplicates.tasks import REFRESH_LOCK, hotspots_refresh
from tickets.org.models import User

NOW = datetime.fromisoformat("2026-03-10T16:00:00+08:00")
WATER = [
    "光明小区{n}栋停水了，从{t}开始没有自来水，请水务部门尽快抢修",
    "新华街道光明小区{n}栋自来水停了，{t}到现在一直停水，什么时候恢复供水",
    "光明小区停水{t}了，{n}栋住户没有水做饭，请尽快恢复供水",
]
NOISE = "青云街道夜市烧烤摊{t}营业到凌晨，{n}号楼居民反映噪音扰民严重"
OTHERS = [
    "公交12路{n}号站台的遮雨棚坏了，下雨天乘客淋雨",
    "南门街道{n}号楼下的垃圾桶好几天没有清运，气味很大",
    "咨询孩子入学报名需要准备哪些材料，我家在{n}号",
    "北关街道{n}号楼电梯经常故障，困人好几次",
    "江滨区码头路{n}号路段路灯不亮，晚上很黑",
]


@pytest.fixture
def planted(make_ticket, units, cats):  # type: ignore[no-untyped-def]
    """A week of baseline, then a surge of 停水 calls in 新华街道 within the last 24 hours."""
    xinhua, qingyun = units["donghu-xinhua"], units["xishan-qingyun"]
    made = {"water_today": [], "noise_today": []}
    for day in range(7, 0, -1):  # baseline: one 停水 a day, three 噪音 a day, a few unrelated
        at = NOW - timedelta(days=day, hours=3)
        with time_machine.travel(at, tick=False):
            make_ticket(WATER[day % 3].format(n=day, t="早上"), jurisdiction=xinhua, category=cats["sdq"])
            for k in range(3):
                make_ticket(NOISE.format(n=k + day, t="每天"), jurisdiction=qingyun, category=cats["zswr"])
            make_ticket(OTHERS[day % 5].format(n=day))
    for i in range(8):  # the surge
        with time_machine.travel(NOW - timedelta(hours=20 - 2 * i), tick=False):
            ticket = make_ticket(WATER[i % 3].format(n=i + 1, t="昨晚"), jurisdiction=xinhua, category=cats["sdq"])
            made["water_today"].append(ticket)
    for k in range(5):  # steady: as many as usual, no surge
        with time_machine.travel(NOW - timedelta(hours=10 - k), tick=False):
            made["noise_today"].append(
                make_ticket(NOISE.format(n=k, t="昨晚"), jurisdiction=qingyun, category=cats["zswr"])
            )
    for k in range(5):
        with time_machine.travel(NOW - timedelta(hours=6 - k), tick=False):
            make_ticket(OTHERS[k].format(n=k + 20))
    return made


def test_the_planted_surge_is_the_top_hot_spot_with_its_trend(planted) -> None:  # type: ignore[no-untyped-def]
    spots = hotspots.hotspots_for_period(start=NOW - timedelta(hours=24), end=NOW, top=5)
    top = spots[0]
    assert {t.pk for t in top.samples} <= {t.pk for t in planted["water_today"]}
    assert top.size == 8
    assert top.previous == 1  # the previous 24 hours held one 停水 ticket
    assert top.trend == 7.0
    assert top.place_name == "东湖区"
    assert top.categories[0][0] == "供水供电供气"
    assert "停水" in top.keywords or "供水" in top.keywords
    noise = next(s for s in spots if s.place_name == "西山区")
    assert noise.size == 5 and noise.previous == 3


def test_a_surge_alerts_supervisors_once_and_a_steady_cluster_does_not(planted) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        alerts = hotspots.hotspot_surge_scan()
        again = hotspots.hotspot_surge_scan()
    assert len(alerts) == 1 and again == []
    alert = alerts[0]
    assert alert.current_count == 8 and alert.baseline_per_day == pytest.approx(1.0)
    assert set(alert.ticket_ids) == {t.pk for t in planted["water_today"]}
    event = TicketEvent.objects.get(action="hotspot.surge")
    assert event.ticket_id == alert.representative_id
    assert event.data["count"] == 8
    assert "热点激增" in event.reason
    assert HotspotAlert.objects.count() == 1


def test_hotspot_api_for_any_period(planted, api) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        body = api("supervisor1").get("/api/hotspots/", {"start": "2026-03-10", "end": "2026-03-10", "top": 3}).json()
        week = api("supervisor1").get("/api/hotspots/", {"start": "2026-03-03", "end": "2026-03-10"}).json()
        assert api("rsj_staff").get("/api/hotspots/").status_code == 403
        assert api("supervisor1").get("/api/hotspots/", {"start": "2026-03-10", "end": "2026-03-01"}).status_code == 400
    assert len(body["hotspots"]) <= 3
    first = body["hotspots"][0]
    assert first["place"] == "东湖区" and first["size"] >= 6 and first["samples"]
    assert first["categories"][0]["name"] == "供水供电供气"
    assert max(s["size"] for s in week["hotspots"]) >= 15  # a week of 噪音 in 西山区 is the week's biggest


def _summary_fresh_start(start: datetime) -> str:
    """The page's cached copy of this period, dropped (the cache outlives a test database)."""
    key = hotspots._summary_key(start, None, 5, 2)
    cache.delete_many([key, f"{key}:refreshing"])
    return key


def test_the_hotspot_page_never_waits_for_a_count_and_the_workers_refresh_brings_new_tickets(  # type: ignore[no-untyped-def]
    planted, make_ticket, units, cats
) -> None:
    # A deployment with a worker: a load that finds no count, or a stale one, queues a refresh and
    # answers with what it has. The refresh is held here as queued (its mark set), and run below as
    # the worker runs it.
    start = NOW - timedelta(hours=24)
    key = _summary_fresh_start(start)
    queued = f"{key}:refreshing"
    with time_machine.travel(NOW, tick=False):
        cache.add(queued, 1, 600)
        assert hotspots.hotspot_summaries(start=start, top=5) == {"spots": [], "computed_at": None}
        hotspots_refresh.apply(args=[start.isoformat(), None, 5, 2])
        first = hotspots.hotspot_summaries(start=start, top=5)
    assert first["spots"][0]["size"] == 8 and first["computed_at"] == NOW
    assert cache.get(queued) is None  # the refresh is done: the next stale load may queue again

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        make_ticket(WATER[1].format(n=9, t="刚才"), jurisdiction=units["donghu-xinhua"], category=cats["sdq"])
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        cache.add(queued, 1, 600)
        stale = hotspots.hotspot_summaries(start=start, top=5)
        assert stale["spots"][0]["size"] == 8 and stale["computed_at"] == NOW  # at once, the last count
        hotspots_refresh.apply(args=[start.isoformat(), None, 5, 2])
        fresh = hotspots.hotspot_summaries(start=start, top=5)
    assert fresh["spots"][0]["size"] == 9 and fresh["computed_at"] == NOW + timedelta(minutes=2)


def test_with_tasks_in_process_a_stale_hotspot_page_is_refreshed_before_it_is_answered(  # type: ignore[no-untyped-def]
    planted, make_ticket, units, cats
) -> None:
    # The embedded default: the queued refresh runs in the request, so the demo always shows the newest.
    start = NOW - timedelta(hours=24)
    _summary_fresh_start(start)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with time_machine.travel(NOW, tick=False):
            assert hotspots.hotspot_summaries(start=start, top=5)["spots"][0]["size"] == 8
        with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
            make_ticket(WATER[1].format(n=9, t="刚才"), jurisdiction=units["donghu-xinhua"], category=cats["sdq"])
        with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
            assert hotspots.hotspot_summaries(start=start, top=5)["spots"][0]["size"] == 9
        with time_machine.travel(NOW + timedelta(minutes=7), tick=False):  # nothing new, but 5 minutes passed
            assert hotspots.hotspot_summaries(start=start, top=5)["computed_at"] == NOW + timedelta(minutes=7)
    finally:
        celery_app.conf.task_always_eager = eager


def test_with_the_cache_away_the_hotspot_page_says_so_and_makes_no_count(planted, settings) -> None:  # type: ignore[no-untyped-def]
    # Redis down (nothing listens on port 1): the page answers at once instead of failing or clustering.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    page = client.get("/board/hotspots/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "热点统计暂时不可用（缓存服务中断），恢复后刷新页面即可看到。" in text and "暂时不可用。" in text


def test_a_count_made_after_its_period_ended_is_not_made_again(planted, make_ticket) -> None:  # type: ignore[no-untyped-def]
    # February, looked at in March: new tickets cannot change it, so no refresh is queued for it.
    start = datetime.fromisoformat("2026-02-01T00:00:00+08:00")
    until = datetime.fromisoformat("2026-03-01T00:00:00+08:00")
    key = hotspots._summary_key(start, until, 10, 3)
    cache.delete_many([key, f"{key}:refreshing"])
    with time_machine.travel(NOW, tick=False):
        hotspots_refresh.apply(args=[start.isoformat(), until.isoformat(), 10, 3])
        make_ticket("新华街道光明小区今天又停水了")
        again = hotspots.hotspot_summaries(start=start, until=until, top=10, min_size=3)
    assert again["computed_at"] == NOW
    assert cache.get(f"{key}:refreshing") is None  # nothing queued


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 40),
    other=st.integers(1, 30),
    columns=st.integers(1, 25),
    density=st.floats(0.05, 0.7),
    seed=st.integers(0, 10_000),
    threshold=st.floats(0.05, 0.95),
)
def test_similar_pairs_found_in_blocks_are_exactly_the_whole_products(
    rows: int, other: int, columns: int, density: float, seed: int, threshold: float
) -> None:
    # Clustering reads the similarity product a few rows at a time (memory): the pairs it keeps must
    # be the ones the whole product keeps, across block edges, for any threshold.
    a = normalize(sparse_random(rows, columns, density=density, random_state=seed, format="csr"))
    b = normalize(sparse_random(other, columns, density=density, random_state=seed + 1, format="csr"))
    whole = (a @ b.T).tocoo()
    kept = whole.data >= threshold
    expected = sorted(zip(whole.row[kept].tolist(), whole.col[kept].tolist(), strict=True))
    block_rows = hotspots.BLOCK_ROWS
    hotspots.BLOCK_ROWS = 7
    try:
        found_rows, found_cols = hotspots._similar_pairs(a, b, threshold)
    finally:
        hotspots.BLOCK_ROWS = block_rows
    assert sorted(zip(found_rows.tolist(), found_cols.tolist(), strict=True)) == expected


def test_a_page_refresh_waits_while_another_clusters(planted) -> None:  # type: ignore[no-untyped-def]
    # One refresh at a time: the worker's other pool process stays free to route new tickets.
    start = NOW - timedelta(hours=24)
    key = _summary_fresh_start(start)
    cache.set(REFRESH_LOCK, 1, 60)  # another period is being counted
    try:
        with time_machine.travel(NOW, tick=False):
            waited = hotspots_refresh.apply(args=[start.isoformat(), None, 5, 2])
            # Asked to come back (run here, in process, its retries run at once until they are spent).
            assert isinstance(waited.result, Retry | MaxRetriesExceededError) and cache.get(key) is None
    finally:
        cache.delete(REFRESH_LOCK)
    with time_machine.travel(NOW, tick=False):  # the cache's expiry reads the same clock
        hotspots_refresh.apply(args=[start.isoformat(), None, 5, 2])
        assert cache.get(key)["spots"][0]["size"] == 8 and cache.get(REFRESH_LOCK) is None


def test_a_label_names_each_thing_once() -> None:
    """Labels read 停水、具体、具体地址 and 保险、养老、养老保险 on the demo: a term inside another says nothing new."""
    names = np.array(["停水", "具体地址", "具体", "小区", "保险", "养老", "养老保险", "社保"])
    assert hotspots._keywords(np.array([0.9, 0.8, 0.7, 0.1, 0, 0, 0, 0]), names) == ["停水", "具体地址", "小区"]
    assert hotspots._keywords(np.array([0, 0, 0, 0, 0.9, 0.8, 0.7, 0.2]), names) == ["养老保险", "社保"]
