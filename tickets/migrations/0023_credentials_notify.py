# Credential notifications (tickets.accounts.token_rows): a change to the API tokens, the users or
# the units, by any path (sign-out, a password changed, a user deactivated, the admin, raw SQL),
# notifies `hotline_credentials` at its commit, so every web process drops the token rows it kept.
# A new row changes no kept row, so inserts send nothing. PostgreSQL only: SQLite keeps no rows.

from django.db import migrations

TABLES = ("apitoken", "user", "unit")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION tickets_credentials_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hotline_credentials', '');
    RETURN NULL;
END
$$;
"""


def _tables(apps):
    return [apps.get_model("tickets", name)._meta.db_table for name in TABLES]


def _install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(PG_FUNCTION)
    for table in _tables(apps):
        schema_editor.execute(
            f'CREATE TRIGGER "{table}_credentials_notify" AFTER UPDATE OR DELETE OR TRUNCATE '
            f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION tickets_credentials_notify()'
        )


def _uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _tables(apps):
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_credentials_notify" ON "{table}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS tickets_credentials_notify()")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0022_ticket_flag_filters"),
    ]

    operations = [migrations.RunPython(_install, _uninstall)]
