"""Hypothesis strategies for hostile input that a schema-driven fuzzer does not make by itself.

Schemathesis builds values the OpenAPI schema allows (and some it forbids), but it will not nest a
JSON body ten thousand deep, put a NUL byte where PostgreSQL will see it, pick 0001-01-01 for a
`format: date`, or forge a pagination cursor. Each strategy here stands for one class of hostile
input from issue 14 (finding 8); `CURATED` holds the values known to have broken the API, so every
run tries them, and the strategies add random ones around them.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from hypothesis import strategies as st

EDGE_DAYS = ["0001-01-01", "9999-12-31", "1969-12-31", "2100-01-01"]
EDGE_MONTHS = ["0001-01", "9999-12", "0000-01"]
EDGE_MOMENTS = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59.999999Z",
]
HUGE_INTEGERS = [str(2**63), str(-(2**63) - 1), "9" * 40]


def _cursor(query: dict[str, str]) -> str:
    return base64.b64encode(urlencode(query).encode()).decode()


CURSORS = [
    _cursor({"p": "abc"}),
    _cursor({"p": "1\x00"}),
    _cursor({"p": "9" * 40}),
    _cursor({"p": "0001-01-01 00:00:00+08:00"}),
    _cursor({"o": "9" * 40}),
    _cursor({"r": "2"}),
    "%%%",
    "A" * 5000,
]

nul_texts = st.builds(lambda head, tail: f"{head}\x00{tail}", st.text(max_size=8), st.text(max_size=8))


def _day(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


# Dates a calendar holds but no period arithmetic survives: years 1–1999 and 2100–9999.
far_days = st.builds(
    _day,
    st.one_of(st.integers(1, 1999), st.integers(2100, 9999)),
    st.integers(1, 12),
    st.integers(1, 28),
)
edge_dates = st.one_of(
    st.sampled_from(EDGE_DAYS + EDGE_MONTHS + EDGE_MOMENTS),
    far_days,
    far_days.map(lambda d: d[:7]),
    st.builds(lambda d, zone: f"{d}T00:00:00{zone}", far_days, st.sampled_from(["", "Z", "+14:00", "-12:00"])),
)
huge_integers = st.one_of(
    st.sampled_from(HUGE_INTEGERS),
    st.integers(min_value=2**63, max_value=10**40).map(str),
    st.integers(max_value=-(2**63) - 1, min_value=-(10**40)).map(str),
)
garbage_cursors = st.one_of(
    st.sampled_from(CURSORS),
    st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
    st.dictionaries(
        st.sampled_from(["o", "r", "p", "x"]), st.one_of(st.text(max_size=12), huge_integers, edge_dates), max_size=3
    ).map(_cursor),
    st.text(max_size=300),
)

# One query or path value: any of the classes above.
hostile_values = st.one_of(nul_texts, edge_dates, huge_integers, garbage_cursors)


def nested(depth: int, kind: str) -> bytes:
    """A JSON body `depth` levels deep, written without recursion (json.dumps would overflow)."""
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


nested_bodies = st.builds(
    nested, st.one_of(st.sampled_from([17, 1000, 50_000]), st.integers(17, 20_000)), st.sampled_from(["list", "dict"])
)


@st.composite
def hostile_objects(draw: st.DrawFn, properties: list[str]) -> bytes:
    """A JSON object for an operation's body with one of its fields made hostile."""
    field = json.dumps(draw(st.sampled_from(properties or ["text"])))
    kind = draw(st.sampled_from(["nul", "date", "integer", "infinity", "nested"]))
    if kind == "nul":
        value = json.dumps(draw(nul_texts))
    elif kind == "date":
        value = json.dumps(draw(edge_dates))
    elif kind == "integer":
        value = draw(huge_integers)
    elif kind == "infinity":
        value = "1e400"  # parses as float("inf")
    else:
        value = nested(draw(st.integers(17, 2000)), "list").decode()
    return f"{{{field}: {value}}}".encode()


def hostile_bodies(properties: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(nested_bodies, hostile_objects(properties), st.binary(max_size=64))


# One value of each class known to have broken a query or path parameter: every run sends them all.
CURATED = ["a\x00b", "0001-01-01", "9999-12-31", "0001-01", "9999-12", EDGE_MOMENTS[2], HUGE_INTEGERS[0]]


def curated_bodies(properties: list[str]) -> list[bytes]:
    field = (properties or ["text"])[0]
    return [
        nested(50_000, "list"),
        nested(17, "dict"),
        json.dumps({field: "a\x00b"}).encode(),
        json.dumps({field: "0001-01-01"}).encode(),
        json.dumps({field: 2**64}).encode(),
    ]
