"""The OpenAPI schema is valid and warning-free, and the docs page works on a closed network."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command


def test_the_openapi_schema_validates_without_warnings(db: None, tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/tickets/", "/api/assignments/{assignment_id}/sign/", "/api/tickets/{ticket_id}/dispatch/"):
        assert path in text


def test_the_docs_page_loads_its_assets_locally(client, settings) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html and "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert client.get("/api/schema/").status_code == 200
