"""Reference data kept per process (`tickets.core.memo`): read once while unchanged, and every change,
by any path and from any process, seen by the next unit of work; a rolled-back change never is."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tickets.core.memo import memo_forget, memo_scope
from tickets.org.models import Category, RoutingRule, Unit
from tickets.routing.services.catalogue import routes_lookup
from tickets.routing.services.classification import category_for_label
from tickets.sla.services import policy


@pytest.fixture(autouse=True)
def _fresh() -> None:
    memo_forget()


def _route(cats, units, category: str, place: str) -> tuple[str, set[str]]:
    with memo_scope():
        (route,) = routes_lookup([(cats[category], units[place])])
    assert route is not None
    return route.lead_unit.code, {u.code for u in route.assisting_units}


def _reads() -> tuple[object, ...]:
    """What a routing batch reads of the reference tables for one 噪声 ticket in 东湖区."""
    category = category_for_label("环境保护")
    assert category is not None
    (route,) = routes_lookup([(category, Unit.objects.get(code="donghu"))])
    return (
        category.pk,
        category.auto_dispatch_threshold,
        route.lead_unit.code if route else None,
        policy.active_profile().auto_dispatch_threshold,
        policy.policy_for(kind="complaint", urgency="normal"),
    )


def test_unchanged_reference_data_is_read_once_per_process(city: object) -> None:
    with memo_scope():
        first = _reads()
    donghu = Unit.objects.get(code="donghu")
    with CaptureQueriesContext(connection) as queries, memo_scope():
        category = category_for_label("环境保护")
        assert category is not None
        (route,) = routes_lookup([(category, donghu)])
        again = (
            category.pk,
            category.auto_dispatch_threshold,
            route.lead_unit.code if route else None,
            policy.active_profile().auto_dispatch_threshold,
            policy.policy_for(kind="complaint", urgency="normal"),
        )
    assert again == first
    statements = [q["sql"] for q in queries.captured_queries]
    assert statements == ["SELECT value FROM tickets_referencestamp WHERE id = 1"], statements


@pytest.mark.parametrize("path", ["save", "queryset update", "raw SQL"])
def test_a_change_by_any_path_is_seen_by_the_next_unit_of_work(city: object, path: str) -> None:
    with memo_scope():
        assert category_for_label("环境保护") is not None
        assert category_for_label("环境卫生") is None
    if path == "save":
        category = Category.objects.get(name="环境保护", parent=None)
        category.name = "环境卫生"
        category.save()
    elif path == "queryset update":
        Category.objects.filter(name="环境保护", parent=None).update(name="环境卫生")
    else:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tickets_category SET name = %s WHERE name = %s AND parent_id IS NULL",
                           ["环境卫生", "环境保护"])  # fmt: skip
    with memo_scope():
        assert category_for_label("环境保护") is None
        renamed = category_for_label("环境卫生")
        assert renamed is not None and renamed.code == "hjbh"


def test_a_catalogue_change_reroutes_the_next_batch(cats, units) -> None:
    assert _route(cats, units, "zswr", "donghu") == ("donghu", {"sthjj"})
    rule = RoutingRule.objects.get(category=cats["zswr"], jurisdiction=units["donghu"])
    rule.assisting_units.add(units["cgj"])  # the many-to-many table has its trigger too
    assert _route(cats, units, "zswr", "donghu") == ("donghu", {"sthjj", "cgj"})
    RoutingRule.objects.filter(pk=rule.pk).update(lead_unit=units["sthjj"])
    assert _route(cats, units, "zswr", "donghu") == ("sthjj", {"sthjj", "cgj"})
    Unit.objects.filter(code="sthjj").update(is_active=False)  # an inactive lead: the rule no longer applies
    lead, _ = _route(cats, units, "zswr", "donghu")
    assert lead != "sthjj"


def test_a_rolled_back_change_is_never_used(city: object) -> None:
    with memo_scope():
        assert category_for_label("环境保护") is not None

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        Category.objects.filter(name="环境保护", parent=None).update(name="环境卫生")
        with memo_scope():  # read and kept under the change's stamp, inside its transaction
            assert category_for_label("环境卫生") is not None
        raise Undo
    with memo_scope():
        assert category_for_label("环境卫生") is None
        assert category_for_label("环境保护") is not None
    # A new change after the rollback gets a new stamp, never the rolled-back one.
    Category.objects.filter(name="环境保护", parent=None).update(is_active=False)
    with memo_scope():
        assert category_for_label("环境保护") is None


def test_without_the_stamp_row_reads_are_kept_per_unit_of_work_only(city: object) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("changes behind the trigger's back: PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_referencestamp")  # as a test database's flush leaves it
    with memo_scope():
        assert category_for_label("环境保护") is not None
    with connection.cursor() as cursor:  # with the trigger off, only the missing row keeps this right
        cursor.execute("SET LOCAL session_replication_role = replica")  # no triggers fire
        cursor.execute("UPDATE tickets_category SET is_active = false WHERE name = '环境保护'")
        cursor.execute("SET LOCAL session_replication_role = origin")
    with memo_scope():
        assert category_for_label("环境保护") is None


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_process_is_seen_by_the_next_unit_of_work(city: object) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("another process's connection: PostgreSQL")
    import psycopg

    with memo_scope():
        assert category_for_label("环境保护") is not None
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("UPDATE tickets_category SET is_active = false WHERE name = '环境保护'")
    with memo_scope():
        assert category_for_label("环境保护") is None
