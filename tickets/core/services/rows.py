"""Many rows in one statement, the fast way on PostgreSQL: the routing batch's events, assignments,
fingerprints and band rows, its tickets' updates, and the supervision scanner's notices.

Django's `bulk_create` and `bulk_update` build an expression per value (`bulk_update` a CASE WHEN
per field and row) and psycopg's client-side binding then quotes each value into the SQL text, all
in Python: py-spy on the routing worker at C=32 (bench/intake) found `bulk_update` of the batch's
tickets at ~22 % of the worker's time and the fingerprints' band rows (32 per ticket) at ~20 %.
On PostgreSQL rows are therefore streamed with COPY (ids drawn from the table's sequence in one
statement, in list order, as `bulk_create` returns them) and a set of updates is one
`UPDATE … FROM (VALUES …)`. Elsewhere (the embedded SQLite) Django's own calls do the same work.

Only plain rows: no signals are sent (bulk_create sends none either) and model `save()` is not
called. Values are prepared by each field as Django prepares them (`pre_save`, then
`get_db_prep_save`), so auto_now(_add) fields, JSON and foreign keys come out the same.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import nullcontext
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Field, Model
from psycopg.types.json import Jsonb

M = TypeVar("M", bound=Model)


def rows_insert(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    with_ids: bool = True,
    json_columns: Collection[str] = (),
) -> list[int]:
    """Insert plain rows (values ready for the database; the `json_columns` as Python dicts and
    lists) into `model`'s table. Returns the new ids in order when `with_ids` (drawn from the
    table's sequence), else an empty list (the rows carry their own primary key)."""
    if not rows:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        made = model._default_manager.bulk_create(objs)
        return [int(obj.pk) for obj in made] if with_ids else []
    json_at = [i for i, name in enumerate(columns) if name in json_columns]
    if json_at:
        rows = [[Jsonb(v) if i in json_at and v is not None else v for i, v in enumerate(row)] for row in rows]
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        ids: list[int] = []
        if with_ids:
            pk_column = model._meta.pk.column  # type: ignore[union-attr]
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk_column, len(rows)],
            )
            ids = [int(row[0]) for row in cursor.fetchall()]
            names = f"{connection.ops.quote_name(pk_column)}, {names}"
        copy_sql = f"COPY {table} ({names}) FROM STDIN"
        # Logged like any statement where Django logs them (DEBUG, CaptureQueriesContext): the
        # statement budgets in tests/intake/test_intake_cost.py count the COPY too.
        logged = cursor.debug_sql(sql=copy_sql) if isinstance(cursor, CursorDebugWrapper) else nullcontext()
        with logged, cursor.cursor.copy(copy_sql) as copy:
            if with_ids:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *row))
            else:
                for row in rows:
                    copy.write_row(row)
    return ids


def objects_insert(objs: Sequence[M]) -> list[M]:
    """`bulk_create(objs)`: the objects get their ids (auto primary keys) and are marked saved."""
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    if connection.vendor != "postgresql" or meta.parents:
        return model._default_manager.bulk_create(objs)
    auto_pk = meta.pk is not None and meta.pk.get_internal_type().endswith("AutoField")
    draw_ids = auto_pk and any(obj.pk is None for obj in objs)
    if draw_ids and any(obj.pk is not None for obj in objs):
        return model._default_manager.bulk_create(objs)  # mixed: Django's rules
    fields: list[Field[Any, Any]] = [
        f for f in meta.concrete_fields if not (draw_ids and f.primary_key) and not getattr(f, "generated", False)
    ]
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        row = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
        if any(hasattr(value, "resolve_expression") for value in row):  # a database default, an F(): Django's
            return model._default_manager.bulk_create(objs)
        rows.append(row)
    ids = rows_insert(model, [f.column for f in fields], rows, with_ids=draw_ids)
    for index, obj in enumerate(objs):
        if draw_ids:
            obj.pk = ids[index]
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objs)


def objects_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """`bulk_update(objs, fields)`: one UPDATE of these columns from the objects' values; returns the
    number of rows updated."""
    if not objs or not fields:
        return 0
    model = type(objs[0])
    meta = model._meta
    if connection.vendor != "postgresql":
        return int(model._default_manager.bulk_update(objs, fields))
    pk = meta.pk
    assert pk is not None
    targets: list[Field[Any, Any]] = []
    for name in fields:
        found = meta.get_field(name)
        if not isinstance(found, Field) or not found.concrete or found.primary_key:
            raise ValueError(f"{model.__name__}.{name} is not a column that can be updated")
        targets.append(found)
    columns = [pk, *targets]
    casts = ", ".join(f"%s::{c.cast_db_type(connection)}" for c in columns)  # type: ignore[attr-defined]  # not in django-stubs
    params: list[Any] = []
    for obj in objs:
        params.append(pk.get_db_prep_save(obj.pk, connection))
        params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in targets)
    quote = connection.ops.quote_name
    names = [quote(c.column) for c in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    values = ", ".join([f"({casts})"] * len(objs))
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608  # names from the model, values parameters
        f"FROM (VALUES {values}) AS v({', '.join(names)}) WHERE t.{names[0]} = v.{names[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def objects_insert_linked(parent: M, child: Model, *, link: str) -> M:
    """`parent.save()` as a new row, then `child.save()` with its foreign key `link` pointing at it:
    both rows or neither.

    On PostgreSQL this is one statement (`WITH parent AS (INSERT … RETURNING id) INSERT … VALUES
    ((SELECT id FROM parent), …)`): outside a transaction it is its own transaction, so the intake's
    accept (the ticket and its `created` event) costs one round trip instead of four (BEGIN, two
    INSERTs, COMMIT; bench/intake/README.md, session 15). Values are prepared as Django prepares
    them, as in `objects_insert`; no signals are sent (no receiver listens to these models, and
    `objects_insert` sends none either). A value the database computes (a `db_default`, an
    expression), a field with its own placeholder, or a model with parents (multi-table
    inheritance): Django's two saves in a transaction.
    """
    link_field = child._meta.get_field(link)
    assert isinstance(link_field, Field) and link_field.is_relation and link_field.related_model is type(parent)
    parent_fields = _insert_fields(type(parent))
    child_fields = [f for f in _insert_fields(type(child)) if f is not link_field]
    single = (
        connection.vendor == "postgresql"
        and parent.pk is None
        and child.pk is None
        and not parent._meta.parents  # multi-table inheritance writes several tables: Django's
        and not child._meta.parents
    )
    if single:
        parent._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
        child._prepare_related_fields_for_save(operation_name="save", fields=child_fields)  # type: ignore[attr-defined]
        parent_row = [f.get_db_prep_save(f.pre_save(parent, True), connection) for f in parent_fields]
        child_row = [f.get_db_prep_save(f.pre_save(child, True), connection) for f in child_fields]
        single = not any(
            hasattr(value, "resolve_expression") for value in (*parent_row, *child_row)
        ) and not any(hasattr(f, "get_placeholder") for f in (*parent_fields, *child_fields))
    if not single:
        with transaction.atomic():
            parent.save(force_insert=True)
            setattr(child, link, parent)
            child.save(force_insert=True)
        return parent
    quote = connection.ops.quote_name
    parent_pk, child_pk = quote(parent._meta.pk.column), quote(child._meta.pk.column)  # type: ignore[union-attr]
    parent_columns = ", ".join(quote(f.column) for f in parent_fields)
    child_columns = ", ".join(quote(f.column) for f in [link_field, *child_fields])
    sql = (
        f"WITH parent AS (INSERT INTO {quote(parent._meta.db_table)} ({parent_columns}) "  # noqa: S608  # names from the models, values parameters
        f"VALUES ({', '.join(['%s'] * len(parent_fields))}) RETURNING {parent_pk}) "
        f"INSERT INTO {quote(child._meta.db_table)} ({child_columns}) "
        f"VALUES ((SELECT {parent_pk} FROM parent), {', '.join(['%s'] * len(child_fields))}) "
        f"RETURNING {quote(link_field.column)}, {child_pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*parent_row, *child_row])
        parent_id, child_id = cursor.fetchone()
    parent.pk, child.pk = parent_id, child_id
    setattr(child, link, parent)
    for obj in (parent, child):
        obj._state.adding = False
        obj._state.db = connection.alias
    return parent


def _insert_fields(model: type[Model]) -> list[Field[Any, Any]]:
    """The columns an INSERT of a new row of `model` names: all but an auto primary key (drawn by
    the database) and generated columns."""
    meta = model._meta
    return [
        f
        for f in meta.concrete_fields
        if not (f.primary_key and f.get_internal_type().endswith("AutoField")) and not getattr(f, "generated", False)
    ]
