"""Metrics reads may go to a read replica (DATABASE_REPLICA_URL); writes never do.

The `replica` alias is configured here as Django's test mirror of `default` (the same test
database through a second connection), so what a query reads is the same and where it ran is
what we observe.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tickets.db_router import REPLICA, read_alias, replica_reads
from tickets.org.models import Unit

on_both = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture(scope="module")
def replica() -> Iterator[None]:
    """Module scope: the alias must exist before the test's database access is set up."""
    connections.settings[REPLICA] = {**connections["default"].settings_dict, "TEST": {"MIRROR": "default"}}
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections.settings[REPLICA]
        with contextlib.suppress(AttributeError):
            delattr(connections._connections, REPLICA)


def _sql(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"].lower() for q in captured.captured_queries]


def _writes(sql: list[str]) -> list[str]:
    return [q for q in sql if q.lstrip().startswith(("insert", "update", "delete"))]


@pytest.mark.django_db(transaction=True)
def test_without_a_replica_everything_stays_on_default(city: Any, api: Any) -> None:
    assert read_alias() == "default"
    with CaptureQueriesContext(connections["default"]) as on_default:
        assert api("supervisor1").get("/api/metrics/units/?period=month").status_code == 200
    assert any("unitmonthstats" in q for q in _sql(on_default))


@on_both
def test_scorecards_and_exports_read_on_the_replica_and_log_the_export_on_default(
    city: Any, api: Any, replica: None
) -> None:
    client = api("supervisor1")
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, CaptureQueriesContext(
        connections["default"]
    ) as on_default:
        cards = client.get("/api/metrics/units/?period=month")
        export = client.get("/api/exports/tickets.csv")
        b"".join(export.streaming_content)
    assert cards.status_code == 200 and export.status_code == 200
    replica_sql, default_sql = _sql(on_replica), _sql(on_default)
    assert any("unitmonthstats" in q for q in replica_sql)
    assert not any("unitmonthstats" in q for q in default_sql)
    assert any('from "tickets_ticket"' in q for q in replica_sql)  # the exported rows
    assert not _writes(replica_sql)
    assert any("tickets_ticketaccesslog" in q for q in _writes(default_sql))  # the export is logged


@on_both
def test_a_write_inside_a_replica_read_block_still_goes_to_default(city: Any, replica: None) -> None:
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, replica_reads():
        Unit.objects.filter(code="rsj").update(name="市人力资源和社会保障局")
        assert Unit.objects.get(code="rsj").name == "市人力资源和社会保障局"  # read there, same data
    assert not _writes(_sql(on_replica)) and _sql(on_replica)
