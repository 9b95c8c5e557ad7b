"""热点 (未诉先办): cluster recent tickets by text and place, compare with the previous period,
and alert supervisors when a cluster grows much faster than its baseline.

Clustering: jieba-word TF-IDF vectors, one group per district (place), tickets joined when their
cosine similarity reaches a threshold, clusters = connected components. A previous period's
ticket counts toward a cluster's baseline when it is as similar to one of its members.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from tickets import textsearch
from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services.events import event_record
from tickets.duplicates.models import HotspotAlert
from tickets.org.models import Unit

log = logging.getLogger("tickets.hotspots")


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@dataclass
class Item:
    ticket: Ticket
    place: str  # district code, "" when unknown
    tokens: list[str]


@dataclass
class Hotspot:
    key: str
    label: str
    place: str
    place_name: str
    keywords: list[str]
    items: list[Item]
    previous: int = 0
    categories: list[tuple[str, int]] = field(default_factory=list)
    places: list[tuple[str, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.items)

    @property
    def trend(self) -> float | None:
        """Growth against the previous equal period: +1.0 is twice as many; None when it is new."""
        return None if self.previous == 0 else round((self.size - self.previous) / self.previous, 3)

    @property
    def representative(self) -> Ticket:
        return self.items[0].ticket

    @property
    def samples(self) -> list[Ticket]:
        return [i.ticket for i in self.items[:5]]

    @property
    def ticket_ids(self) -> list[int]:
        return [i.ticket.pk for i in self.items]

    def summary(self) -> dict[str, Any]:
        """Its plain figures, as the page and the API show them."""
        return {
            "key": self.key,
            "label": self.label,
            "place": self.place_name,
            "keywords": self.keywords,
            "size": self.size,
            "previous": self.previous,
            "trend": self.trend,
        }


def _items(start: datetime, end: datetime) -> list[Item]:
    cap = int(_setting("HOTSPOT_MAX_TICKETS", 20000))
    qs = (
        Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("jurisdiction", "category")
        .only("id", "number", "title", "text", "citizen_address", "created_at", "state", "jurisdiction", "category")
        .order_by("-id")[:cap]
    )
    out = []
    for t in qs:
        unit = t.jurisdiction
        code = next((p for p in unit.path.split("/") if p), "") if unit else ""
        tokens = [w for w in textsearch.search_tokens(f"{t.title} {t.text}") if len(w) > 1]
        out.append(Item(t, code, tokens))
    return out


def _vectorise(current: list[Item], previous: list[Item]) -> tuple[csr_matrix, csr_matrix, np.ndarray]:
    vec = TfidfVectorizer(analyzer=lambda tokens: tokens, sublinear_tf=True)
    matrix = vec.fit_transform([i.tokens for i in current] + [i.tokens for i in previous])
    names = np.array(vec.get_feature_names_out())
    return matrix[: len(current)], matrix[len(current) :], names


# Rows of `a` per block of a similarity product. The whole product of a district's 20,000 tickets at
# once held ~240 million similarities (3.5 GB) to keep 300,000 of them, and the allocation was most
# of its time (9 s); blocks of 500 rows keep the same pairs in ~250 MB and 2.8 s
# (bench/duplicates/README.md, the 热点 page).
BLOCK_ROWS = 500


def _similar_pairs(a: csr_matrix, b: csr_matrix, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(row of a, row of b) of every pair whose cosine reaches `threshold` (rows L2-normalised).
    Each similarity is summed as the whole product sums it, so the pairs are exactly its pairs."""
    bt = b.T.tocsr()
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, a.shape[0], BLOCK_ROWS):
        block = (a[start : start + BLOCK_ROWS] @ bt).tocoo()
        hit = block.data >= threshold
        rows.append(block.row[hit].astype(np.int64) + start)
        cols.append(block.col[hit].astype(np.int64))
    return np.concatenate(rows), np.concatenate(cols)


def _components(x: csr_matrix, threshold: float) -> np.ndarray:
    rows, cols = _similar_pairs(x, x, threshold)
    graph = csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(x.shape[0], x.shape[0]))
    _, labels = connected_components(graph, directed=False)
    return labels


def _place_names(current: list[Item]) -> dict[str, str]:
    codes = {i.place for i in current if i.place}
    return {u.code: u.name for u in Unit.objects.filter(code__in=codes)}


KEYWORDS_SHOWN = 3


def _keywords(centroid: np.ndarray, names: Any) -> list[str]:
    """The cluster's heaviest terms, each saying something the others do not: a term inside a chosen
    one is skipped (具体地址, then 具体), and a term holding chosen ones replaces them (养老, 保险, then
    养老保险), so a label reads 养老保险、… rather than 保险、养老、养老保险."""
    chosen: list[str] = []
    for i in np.argsort(-centroid):
        if centroid[i] <= 0 or len(chosen) >= KEYWORDS_SHOWN:
            break
        term = str(names[i])
        if any(term in kept for kept in chosen):
            continue
        chosen = [kept for kept in chosen if kept not in term]
        chosen.append(term)
    return chosen


def cluster(
    current: list[Item], previous: list[Item], *, threshold: float | None = None, min_size: int = 2
) -> list[Hotspot]:
    """Clusters of the current items (by place, then text), each with its previous-period count."""
    if not any(i.tokens for i in current):
        return []
    threshold = threshold if threshold is not None else _setting("HOTSPOT_SIMILARITY", 0.35)
    x_cur, x_prev, names = _vectorise(current, previous)
    place_names = _place_names(current)
    by_place: dict[str, list[int]] = defaultdict(list)
    for n, item in enumerate(current):
        by_place[item.place].append(n)
    prev_by_place: dict[str, list[int]] = defaultdict(list)
    for n, item in enumerate(previous):
        prev_by_place[item.place].append(n)
    spots: list[Hotspot] = []
    for place, rows in by_place.items():
        labels = _components(x_cur[rows], threshold)
        groups: dict[int, list[int]] = defaultdict(list)
        for row, label in zip(rows, labels, strict=True):
            groups[int(label)].append(row)
        prev_rows = prev_by_place.get(place, [])
        for members in groups.values():
            if len(members) < min_size:
                continue
            centroid = np.asarray(x_cur[members].sum(axis=0)).ravel()
            keywords = _keywords(centroid, names)
            previous_count = 0
            if prev_rows:
                similar, _members = _similar_pairs(x_prev[prev_rows], x_cur[members], threshold)
                previous_count = len(np.unique(similar))  # earlier tickets as similar to one of its members
            items = sorted((current[m] for m in members), key=lambda i: -i.ticket.pk)
            place_name = place_names.get(place, "")
            key = hashlib.sha1(f"{place}|{'|'.join(sorted(keywords))}".encode(), usedforsecurity=False).hexdigest()[:16]
            spot = Hotspot(
                key=key,
                label=f"{place_name or '未定属地'}：{'、'.join(keywords)}",
                place=place,
                place_name=place_name,
                keywords=keywords,
                items=items,
                previous=previous_count,
            )
            spot.categories = Counter(i.ticket.category.name for i in items if i.ticket.category).most_common(3)
            spot.places = Counter(
                (i.ticket.jurisdiction.name if i.ticket.jurisdiction else "") or i.ticket.citizen_address[:20]
                for i in items
            ).most_common(3)
            spots.append(spot)
    spots.sort(key=lambda s: (-s.size, -(s.trend or 0.0), s.key))
    return spots


def hotspots_for_period(*, start: datetime, end: datetime, top: int = 10, min_size: int = 2) -> list[Hotspot]:
    """热点 of [start, end), with the trend against the previous equal period."""
    span = end - start
    current = _items(start, end)
    previous = _items(start - span, start)
    return cluster(current, previous, min_size=min_size)[:top]


# --- surge alerts -------------------------------------------------------------------------------


def hotspot_surge_scan(*, now: datetime | None = None) -> list[HotspotAlert]:
    """热点激增: clusters of the last 24 h that are `factor` × their daily baseline of the previous week."""
    now = now or timezone.now()
    window = timedelta(hours=24)
    baseline_days = int(_setting("HOTSPOT_BASELINE_DAYS", 7))
    factor = _setting("HOTSPOT_SURGE_FACTOR", 3.0)
    min_size = int(_setting("HOTSPOT_SURGE_MIN_SIZE", 5))
    current = _items(now - window, now)
    previous = _items(now - window - timedelta(days=baseline_days), now - window)
    alerts = []
    for spot in cluster(current, previous, min_size=min_size):
        baseline = spot.previous / baseline_days
        if spot.size < factor * max(baseline, 1.0):
            continue
        alert = _alert_record(spot, baseline=baseline, day=timezone.localdate(now))
        if alert is not None:
            alerts.append(alert)
    return alerts


def _alert_record(spot: Hotspot, *, baseline: float, day) -> HotspotAlert | None:  # type: ignore[no-untyped-def]
    ids = set(spot.ticket_ids)
    for earlier in HotspotAlert.objects.filter(day=day, place=spot.place_name):
        if len(ids & set(earlier.ticket_ids)) * 2 >= min(len(ids), len(earlier.ticket_ids)):
            return None  # the same surge, already announced today
    try:
        with transaction.atomic():
            alert = HotspotAlert.objects.create(
                key=spot.key,
                day=day,
                label=spot.label,
                place=spot.place_name,
                keywords=spot.keywords,
                current_count=spot.size,
                baseline_per_day=round(baseline, 3),
                growth=round(spot.size / max(baseline, 1.0), 2),
                representative=spot.representative,
                ticket_ids=sorted(ids),
            )
            hotspot_surge_announce(alert=alert)
    except IntegrityError:
        return None
    return alert


def hotspot_surge_announce(*, alert: HotspotAlert) -> None:
    """Tell supervisors live: a `hotspot.surge` event on the representative ticket goes to the centre feed.

    The live-feed branch may add a typed alert broadcast; this is the one place to call it from.
    """
    event_record(
        ticket=alert.representative,
        actor=Actor.scheduler(),
        action="hotspot.surge",
        reason=f"热点激增：{alert.label}，24小时内{alert.current_count}件（基线每日{alert.baseline_per_day:g}件）",
        data={
            "alert": alert.pk,
            "label": alert.label,
            "count": alert.current_count,
            "baseline_per_day": alert.baseline_per_day,
            "tickets": alert.ticket_ids[:50],
        },
    )
    log.warning("hotspot surge: %s ×%s (baseline %.2f/day)", alert.label, alert.current_count, alert.baseline_per_day)


# --- the 热点 page: plain summaries, served from the last computation ------------------------------

SUMMARY_FRESH_SECONDS = 300


def page_periods(today: date, month: date) -> dict[str, dict[str, Any]]:
    """The 热点 page's three periods as `hotspot_summaries` arguments: today, the last seven days,
    and the chosen month (its 每月一题 candidates, clusters of three or more)."""
    return {
        "today": {"start": _start_of(today), "top": 10},
        "week": {"start": _start_of(today - timedelta(days=6)), "top": 10},
        "month": {
            "start": _start_of(month),
            "until": _start_of((month + timedelta(days=32)).replace(day=1)),
            "top": 10,
            "min_size": 3,
        },
    }


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def hotspot_summaries(
    *, start: datetime, until: datetime | None = None, top: int = 10, min_size: int = 2
) -> dict[str, Any]:
    """The hot spots of [start, min(until, now)) as plain dicts for a page: `{"spots": [...],
    "computed_at": datetime}`, or no spots and `computed_at` None while the first count is made.

    Clustering is quadratic in a place's tickets, and a surge is many tickets in one place: today's
    20,000 take ~4.5 s, and the page asks for three periods (a stale load took 24 s before this;
    bench/duplicates/README.md, the 热点 page). A page load must not wait for that, nor a web
    process spend it beside the intake. So the page gets the last count at once, and when that is
    older than 5 minutes or tickets arrived since (every new ticket below 10,000 tickets, every 100
    above) a refresh is queued for the worker, one per period at a time; a period nobody opened yet
    (a new day, another month) is queued the same way and the page says the count is being made.
    A count made after its period ended (an earlier month) is final. In the embedded default the
    queued refresh runs in process, so the answer there is always fresh.
    """
    key = _summary_key(start, until, top, min_size)
    try:
        found = cache.get(key)
        if found is None:
            stale = True
        elif until is not None and found["computed_at"] >= until:
            stale = False  # counted after the period ended: nothing it holds changes any more
        else:
            age = (timezone.now() - found["computed_at"]).total_seconds()
            stale = found["version"] != _tickets_version() or age >= SUMMARY_FRESH_SECONDS
        if stale:
            _refresh_queue(key, start=start, until=until, top=top, min_size=min_size)
            found = cache.get(key) or found  # refreshed already when tasks run in process
    except RedisError as exc:  # the cache is away (and with it the queue): the page says so, no count is made
        log.warning("hotspots: the cache is unavailable (%s: %s)", type(exc).__name__, exc)
        return {"spots": [], "computed_at": None, "unavailable": True}
    return dict(found) if found is not None else {"spots": [], "computed_at": None}


def hotspot_summaries_refresh(
    *, start: datetime, until: datetime | None = None, top: int = 10, min_size: int = 2
) -> dict[str, Any]:
    """Compute the period's summaries now and keep them for the page (the worker's refresh)."""
    key = _summary_key(start, until, top, min_size)
    version = _tickets_version()  # before reading: a ticket arriving meanwhile makes it stale
    now = timezone.now()
    end = min(until, now) if until is not None else now
    spots = hotspots_for_period(start=start, end=end, top=top, min_size=min_size)
    found: dict[str, Any] = {
        "spots": [
            {
                **s.summary(),
                "categories": s.categories,
                "places": s.places,
                "tickets": [(i.ticket.pk, i.ticket.number, i.ticket.title or i.ticket.text[:30]) for i in s.items[:50]],
            }
            for s in spots
        ],
        "computed_at": now,
        "version": version,
    }
    cache.set(key, found, 2 * 24 * 3600)
    cache.delete(f"{key}:refreshing")
    return found


def _summary_key(start: datetime, until: datetime | None, top: int, min_size: int) -> str:
    end = int(until.timestamp()) if until is not None else "now"
    return f"hotspots:summary:{int(start.timestamp())}:{end}:{top}:{min_size}"


def _tickets_version() -> int:
    newest = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return newest if newest < 10_000 else newest // 100


def _refresh_queue(
    key: str, *, start: datetime, until: datetime | None, top: int, min_size: int
) -> None:
    """Queue one refresh of this period unless one is queued or running (for 10 minutes at most:
    a worker killed mid-refresh does not block the next)."""
    from tickets.duplicates.tasks import hotspots_refresh  # tasks import services, not the reverse

    if not cache.add(f"{key}:refreshing", 1, 600):
        return
    try:
        hotspots_refresh.delay(start.isoformat(), until.isoformat() if until is not None else None, top, min_size)
    except Exception as exc:  # broker down: the page keeps the last computation; the next load retries
        cache.delete(f"{key}:refreshing")
        log.warning("hotspots: could not queue a refresh (%s: %s)", type(exc).__name__, exc)
