# The reference stamp (tickets.core.memo): one row that database triggers rewrite whenever a
# reference table changes, by any path (admin, services, bulk updates, raw SQL, migrations), so a
# process may keep reference reads for as long as the stamp it read them under is the current one.

from django.db import migrations, models

REFERENCE_MODELS = ("unit", "category", "routingrule", "cityprofile", "slapolicy")

PG_FUNCTION = """
CREATE SEQUENCE IF NOT EXISTS tickets_reference_stamp_seq;
CREATE OR REPLACE FUNCTION tickets_reference_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tickets_referencestamp (id, value) VALUES (1, nextval('tickets_reference_stamp_seq'))
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
    RETURN NULL;
END
$$;
"""
# SQLite has no sequences: a random 64-bit stamp is as unlikely to come back (random(), not
# abs(random()), which raises on the one value whose absolute value does not fit).
SQLITE_TOUCH = (
    "INSERT INTO tickets_referencestamp (id, value) VALUES (1, random()) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value;"
)


def _tables(apps):
    tables = []
    for name in REFERENCE_MODELS:
        model = apps.get_model("tickets", name)
        tables.append(model._meta.db_table)
        for field in model._meta.local_many_to_many:
            tables.append(field.remote_field.through._meta.db_table)
    return tables


def _install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    tables = _tables(apps)
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        for table in tables:
            schema_editor.execute(
                f'CREATE TRIGGER "{table}_reference_touch" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION tickets_reference_touch()'
            )
        schema_editor.execute(
            "INSERT INTO tickets_referencestamp (id, value) VALUES (1, nextval('tickets_reference_stamp_seq'))"
        )
    elif vendor == "sqlite":
        for table in tables:
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(
                    f'CREATE TRIGGER "{table}_reference_touch_{event.lower()}" AFTER {event} ON "{table}" '
                    f"BEGIN {SQLITE_TOUCH} END"
                )
        schema_editor.execute("INSERT INTO tickets_referencestamp (id, value) VALUES (1, random())")
    # Other databases: no triggers and no row; tickets.core.memo then keeps reads per unit of work only.


def _uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    tables = _tables(apps)
    if vendor == "postgresql":
        for table in tables:
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_reference_touch" ON "{table}"')
        schema_editor.execute("DROP FUNCTION IF EXISTS tickets_reference_touch()")
        schema_editor.execute("DROP SEQUENCE IF EXISTS tickets_reference_stamp_seq")
    elif vendor == "sqlite":
        for table in tables:
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_reference_touch_{event}"')


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0017_drop_redundant_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReferenceStamp",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(_install, _uninstall),
    ]
