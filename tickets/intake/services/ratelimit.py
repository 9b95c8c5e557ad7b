"""Fixed-window counters in Django's cache (Redis with REDIS_URL, process memory when embedded)."""

from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache

from tickets.errors import RateLimited

log = logging.getLogger("tickets.ratelimit")


def _key(scope: str, who: str) -> str:
    # Hash the identity: cache keys must be short and safe whatever a client sends.
    digest = hashlib.sha256(who.encode("utf-8", "replace")).hexdigest()[:32]
    return f"rl:{scope}:{digest}"


def hit(scope: str, who: str, limit: tuple[int, int]) -> bool:
    """Count one attempt; False once more than `count` attempts fell in the window."""
    if not who:
        return True
    count, seconds = limit
    key = _key(scope, who)
    try:
        cache.add(key, 0, timeout=seconds)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=seconds)
            used = 1
    except Exception as exc:  # the cache (Redis) is down: a citizen's request must still be taken
        log.warning("rate limit %s not counted, cache unreachable: %s", scope, exc)
        return True
    return used <= count


def exceeded(scope: str, who: str, limit: tuple[int, int]) -> bool:
    """Whether `who` already used up the window, without counting this look (see `hit`)."""
    if not who:
        return False
    try:
        used = cache.get(_key(scope, who), 0)
    except Exception as exc:  # the cache (Redis) is down: nothing is refused for it
        log.warning("rate limit %s not read, cache unreachable: %s", scope, exc)
        return False
    return int(used) >= limit[0]


def check(scope: str, who: str, limit: tuple[int, int], message: str = "操作过于频繁，请稍后再试") -> None:
    if not hit(scope, who, limit):
        raise RateLimited(message, rule=f"rate_limited:{scope}")
