# 工单查询's word search reads a side table on PostgreSQL (tickets_ticketsearch: one row per ticket,
# its title, text and address in one column under one trigram index) instead of three trigram
# indexes on the ticket table itself.
#
# Why: every UPDATE of a ticket row that changes an indexed column (routing, signing, replying,
# closing: most of a ticket's life) is not a HOT update, so PostgreSQL inserts the new row version
# into every index of the table, the three trigram GIN indexes (~300 entries for a 200-character
# text) included, though the words never changed. Routing alone spent ~0.35 ms of PostgreSQL CPU
# per ticket on that (bench/intake/README.md). The side table is written when a ticket is created
# and when its title, text or address change (privacy erasure, an edit), never otherwise.
#
# Triggers keep it by every path (the ORM, bulk inserts, raw SQL, TRUNCATE): nothing has to remember
# to write it. The separator (U+001F) is a character no search term holds, so a term never matches
# across the end of the title and the start of the text. Other databases: nothing (search reads the
# ticket's columns, tickets/core/search.py).

from django.db import migrations

TRIGRAM_COLUMNS = ("title", "text", "citizen_address")
DOC = "concat_ws(chr(31), {p}title, {p}text, {p}citizen_address)"  # the row's words, U+001F between
TABLE = "CREATE TABLE tickets_ticketsearch (ticket_id bigint PRIMARY KEY, doc text NOT NULL)"
# Constant SQL (table and column names only).
FILL = "INSERT INTO tickets_ticketsearch (ticket_id, doc) SELECT id, " + DOC.format(p="") + " FROM {rows}"  # noqa: S608
UPDATE = "UPDATE tickets_ticketsearch SET doc = " + DOC.format(p="NEW.") + " WHERE ticket_id = NEW.id"  # noqa: S608
DELETE = "DELETE FROM tickets_ticketsearch s USING old_rows o WHERE s.ticket_id = o.id"
CHANGED = (
    "OLD.title IS DISTINCT FROM NEW.title OR OLD.text IS DISTINCT FROM NEW.text "
    "OR OLD.citizen_address IS DISTINCT FROM NEW.citizen_address"
)
# (name, trigger clause, the function's one statement)
TRIGGERS = (
    ("insert", "AFTER INSERT ON tickets_ticket REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
     FILL.format(rows="new_rows")),
    ("update", f"AFTER UPDATE OF title, text, citizen_address ON tickets_ticket FOR EACH ROW WHEN ({CHANGED})",
     UPDATE),
    ("delete", "AFTER DELETE ON tickets_ticket REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT", DELETE),
    ("truncate", "AFTER TRUNCATE ON tickets_ticket FOR EACH STATEMENT", "TRUNCATE tickets_ticketsearch"),
)  # fmt: skip


def _has_trigrams(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def _install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TABLE)
    schema_editor.execute(FILL.format(rows="tickets_ticket"))
    for name, clause, statement in TRIGGERS:
        schema_editor.execute(
            f"CREATE FUNCTION tickets_ticketsearch_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {statement}; RETURN NULL; END $$"
        )
        schema_editor.execute(
            f"CREATE TRIGGER tickets_ticketsearch_{name} {clause} EXECUTE FUNCTION tickets_ticketsearch_{name}()"
        )
    if _has_trigrams(schema_editor):  # migration 0009 made the extension when the server has it
        schema_editor.execute(
            "CREATE INDEX ticket_search_doc_trgm ON tickets_ticketsearch USING gin (doc gin_trgm_ops)"
        )
    schema_editor.execute("ANALYZE tickets_ticketsearch")  # plans for the search from the first query on
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS ticket_{column}_trgm")


def _uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS tickets_ticketsearch_{name} ON tickets_ticket")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS tickets_ticketsearch_{name}()")
    schema_editor.execute("DROP TABLE IF EXISTS tickets_ticketsearch")
    if _has_trigrams(schema_editor):
        for column in TRIGRAM_COLUMNS:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS ticket_{column}_trgm ON tickets_ticket USING gin ("{column}" gin_trgm_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0018_reference_stamp"),
    ]

    operations = [
        migrations.RunPython(_install, _uninstall),
    ]
