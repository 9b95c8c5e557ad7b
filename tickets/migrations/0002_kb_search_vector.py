"""PostgreSQL only: a generated tsvector over KbArticle.tokens with a GIN index.

SQLite has no tsvector; there the knowledge base ranks with the in-process BM25 index over the
same tokens (tickets/services/kb.py), so this migration does nothing on other back ends.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE tickets_kbarticle ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    "CREATE INDEX kb_article_search_gin ON tickets_kbarticle USING gin (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS kb_article_search_gin",
    "ALTER TABLE tickets_kbarticle DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
