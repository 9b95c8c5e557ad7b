# The search table's trigram index (migration 0019) takes new entries into its pending list, which the
# backend that fills it past `gin_pending_list_limit` (4 MB by default: about a thousand tickets'
# words) merges into the index there and then. Since 0020 that backend is the routing worker's, so
# one routing batch in a thousand held its tickets' decisions for the whole merge: accept → decision
# p99 at C=1 311-321 ms against 136-146 ms before (bench/intake/README.md, session 21). With a 256 kB
# list the merge is sixteen times smaller and as often more frequent: p99 151-154 ms.

from django.db import migrations


def _has_index(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = 'ticket_search_doc_trgm' AND relkind = 'i'")
        return cursor.fetchone() is not None


def _set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql" and _has_index(schema_editor):
        schema_editor.execute("ALTER INDEX ticket_search_doc_trgm SET (gin_pending_list_limit = 256)")


def _reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql" and _has_index(schema_editor):
        schema_editor.execute("ALTER INDEX ticket_search_doc_trgm RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0020_ticket_search_after_routing"),
    ]

    operations = [
        migrations.RunPython(_set, _reset),
    ]
