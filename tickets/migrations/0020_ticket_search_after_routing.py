# A ticket's search row (migration 0019) is written when the ticket leaves the routing queue, not
# when it is accepted (issue 17: the accept is the ticket, its number and its `created` event,
# nothing else that can wait).
#
# Why: the row's trigram index takes ~300 entries for a 200-character text. Written by the accept's
# own statement it cost the accept ~0.5 ms of PostgreSQL per ticket (EXPLAIN ANALYZE of 500 inserts:
# 249 ms in the trigger, 8 ms in the insert itself), and under a surge the accepts queued behind it
# (bench/intake/README.md, session 21: without it C=32 took 387-394 tickets/s against 348-357, and
# the accept's p99 at 200 tickets/s fell from 140 to 50-57 ms). The routing batch writes it instead,
# moments later, in its own transaction.
#
# Still by trigger, so every path keeps it: a ticket inserted outside the routing queue
# (route_state '') gets its row at the insert, as before; a queued one gets it when its route_state
# turns '' (routed, or taken out of the queue by a person who acted first), whatever wrote that
# update. Meanwhile the word search reads the queued tickets' own columns (tickets/core/search.py),
# so a ticket is findable by its words from the moment it is accepted.

from django.db import migrations

DOC = "concat_ws(chr(31), {p}title, {p}text, {p}citizen_address)"  # as in 0019
INSERT_BEFORE = (
    "INSERT INTO tickets_ticketsearch (ticket_id, doc) SELECT id, " + DOC.format(p="") + " FROM new_rows"  # noqa: S608
)
INSERT_NOW = INSERT_BEFORE + " WHERE route_state = ''"
ROUTED = (
    "INSERT INTO tickets_ticketsearch (ticket_id, doc) VALUES (NEW.id, " + DOC.format(p="NEW.") + ") "  # noqa: S608
    "ON CONFLICT (ticket_id) DO UPDATE SET doc = EXCLUDED.doc"
)
ROUTED_CLAUSE = (
    "AFTER UPDATE OF route_state ON tickets_ticket FOR EACH ROW "
    "WHEN (OLD.route_state <> '' AND NEW.route_state = '')"
)


def _function(name: str, statement: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION tickets_ticketsearch_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {statement}; RETURN NULL; END $$"
    )


def _install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(_function("insert", INSERT_NOW))
    schema_editor.execute(_function("routed", ROUTED))
    schema_editor.execute(
        f"CREATE TRIGGER tickets_ticketsearch_routed {ROUTED_CLAUSE} EXECUTE FUNCTION tickets_ticketsearch_routed()"
    )


def _uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS tickets_ticketsearch_routed ON tickets_ticket")
    schema_editor.execute("DROP FUNCTION IF EXISTS tickets_ticketsearch_routed()")
    schema_editor.execute(_function("insert", INSERT_BEFORE))
    # Tickets still queued have no row yet: 0019's trigger would have written it at their insert.
    schema_editor.execute(
        "INSERT INTO tickets_ticketsearch (ticket_id, doc) SELECT id, " + DOC.format(p="") + " "
        "FROM tickets_ticket WHERE route_state <> '' ON CONFLICT (ticket_id) DO NOTHING"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0019_ticket_search_table"),
    ]

    operations = [
        migrations.RunPython(_install, _uninstall),
    ]
