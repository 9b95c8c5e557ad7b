"""Pages carry the security headers and refuse a POST without the CSRF token; every form sends it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.test import Client

from tests.security.test_deploy_check import ROOT, production_env
from tests.tickets.helpers import dispatched
from tickets.org.models import User

TEMPLATE_DIRS = [ROOT / "templates", ROOT / "tickets" / "templates"]


def test_pages_send_csp_with_a_fresh_nonce_and_the_other_headers(city: Any) -> None:
    client = Client()
    first, second = client.get("/citizen/"), client.get("/citizen/")
    csp = first["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "'unsafe-inline'" not in csp.split("style-src-attr")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f'nonce="{nonce}"' in first.content.decode()  # the page's own <style> is allowed …
    assert nonce not in second["Content-Security-Policy"]  # … and the nonce is new on every response
    assert first["X-Frame-Options"] == "DENY"
    assert first["X-Content-Type-Options"] == "nosniff"
    assert first["Referrer-Policy"] == "same-origin"
    assert first["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_template_has_an_inline_script_or_style_without_the_nonce() -> None:
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            for tag in re.findall(r"<(?:script|style)\b[^>]*>", text):
                if "src=" not in tag and "csp_nonce" not in tag:
                    offenders.append(f"{path.relative_to(ROOT)}: {tag}")
            offenders += [f"{path.relative_to(ROOT)}: {m}" for m in re.findall(r"\son[a-z]+=\"", text)]
            offenders += [f"{path.relative_to(ROOT)}: javascript: URL" for _ in re.findall(r"javascript:", text)]
    assert offenders == []


def test_every_post_form_in_the_templates_carries_the_csrf_token() -> None:
    missing = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            for form in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S | re.I):
                if "csrf_token" not in form.group(1):
                    missing.append(f"{path.relative_to(ROOT)}: {form.group(0)[:80]}")
    assert missing == []
    # htmx requests (hx-post from any page) send the token as a header set on <body>
    assert "X-CSRFToken" in (ROOT / "templates" / "base.html").read_text()


def test_a_page_post_without_the_csrf_token_is_refused_and_changes_nothing(units: Any) -> None:
    ticket, assignment = dispatched(units["rsj"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.get(username="rsj_staff"))
    refused = browser.post(f"/unit/tickets/{ticket.pk}/sign/")
    assert refused.status_code == 403 and "安全校验未通过" in refused.content.decode()
    assignment.refresh_from_db()
    assert assignment.state == "pending_sign"
    # the same POST with the token from the page goes through
    page = browser.get(f"/tickets/{ticket.pk}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    browser.post(f"/unit/tickets/{ticket.pk}/sign/", {"csrfmiddlewaretoken": token})
    assignment.refresh_from_db()
    assert assignment.state != "pending_sign"


def test_a_login_post_without_the_token_is_refused(city: Any) -> None:
    answer = Client(enforce_csrf_checks=True).post("/login/", {"username": "operator1", "password": "demo-12345"})
    assert answer.status_code == 403 and "安全校验未通过" in answer.content.decode()


PROBE = """
from django.test import Client
c = Client()
plain = c.get('/login/')
tls = c.get('/login/', HTTP_X_FORWARDED_PROTO='https', secure=False)
print(plain.status_code, plain.get('Location', ''))
print(tls.status_code, tls.get('Strict-Transport-Security', ''))
for cookie in tls.cookies.values():
    print(cookie.key, bool(cookie['secure']), bool(cookie['httponly']))
"""


def test_behind_tls_production_redirects_to_https_sends_hsts_and_secure_cookies(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HOTLINE_"))}
    env.update(production_env())
    env.update({"DJANGO_SETTINGS_MODULE": "hotline.settings_production", "HOTLINE_VAR_DIR": str(tmp_path)})
    env["ALLOWED_HOSTS"] = "testserver"
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[0] == "301 https://testserver/login/"
    status, hsts = lines[1].split(" ", 1)
    assert status == "200" and "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert "csrftoken True False" in lines[2:]  # the CSRF cookie only over HTTPS (JS reads it: not HttpOnly)
