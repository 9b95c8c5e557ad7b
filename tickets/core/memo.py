"""Reference reads remembered for one unit of work, so one intake does not repeat them.

One intake reads the active city profile, the category of the classifier's label, the SLA
policy, the centre unit and the citizen's SMS opt-out more than once (routing, deadlines, two
notices, scorecards). Inside `memo_scope()` the first read is kept and later ones reuse it;
outside a scope every call reads the database, as before. A scope lives for one service call,
never across requests, so an admin's change is seen by the next intake without any
cross-process invalidation.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_SCOPE: ContextVar[dict[Hashable, object] | None] = ContextVar("hotline_memo_scope", default=None)


@contextmanager
def memo_scope() -> Iterator[None]:
    """Remember reference reads until the block ends (a nested scope joins the outer one)."""
    if _SCOPE.get() is not None:
        yield
        return
    token = _SCOPE.set({})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def memoised(key: Hashable, load: Callable[[], T]) -> T:
    """`load()` once per scope for this key; outside a scope, every time."""
    scope = _SCOPE.get()
    if scope is None:
        return load()
    if key not in scope:
        scope[key] = load()
    return scope[key]  # type: ignore[return-value]
