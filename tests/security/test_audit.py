"""The vulnerability audit is its own command; it never passes silently when it could not audit.

A fresh clone on a package mirror without PyPI's JSON API must still run its tests (`test.sh` ran the
audit first and exited 3 before a single test); CI runs the audit as a step of its own and prints
NOT AUDITED in a banner. The vulnerability service here is a real HTTP server on 127.0.0.1 speaking
OSV's query API (pip-audit's PIP_AUDIT_OSV_URL), or a port where nothing listens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.readiness import free_port

ROOT = Path(__file__).resolve().parents[2]


def _commands(path: Path) -> list[str]:
    """The lines of a shell script that run something (comments and echo lines dropped)."""
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("echo")]


def test_the_test_command_runs_tests_and_ci_runs_the_audit_as_its_own_step() -> None:
    test_sh = _commands(ROOT / "scripts" / "test.sh")
    assert not [line for line in test_sh if "audit" in line], test_sh
    assert any("pytest" in line for line in test_sh)
    ci = _commands(ROOT / ".ci" / "run")
    test_step = next(i for i, line in enumerate(ci) if line.startswith("scripts/test.sh"))
    audit_step = next(i for i, line in enumerate(ci) if line.startswith("scripts/audit.sh"))
    assert audit_step > test_step  # both run: a failing audit does not hide the tests, nor the reverse
    assert not [line for line in ci if line.startswith("exec ")], "the audit must run after the tests"
    assert "scripts/audit.sh" in (ROOT / "README.md").read_text()


class _FakeOsv(BaseHTTPRequestHandler):
    answer: dict[str, object] = {}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osv_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOsv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _audit(tmp_path: Path, osv_url: str, *, unreachable_ok: bool) -> subprocess.CompletedProcess[str]:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("idna==3.4\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_AUDIT_", "HOTLINE_AUDIT_"))}
    env.update({"PIP_AUDIT_VULNERABILITY_SERVICE": "osv", "PIP_AUDIT_OSV_URL": osv_url})
    env["PIP_AUDIT_CACHE_DIR"] = str(tmp_path / "cache")
    if unreachable_ok:
        env["HOTLINE_AUDIT_UNREACHABLE_OK"] = "1"
    return subprocess.run(
        [sys.executable, "scripts/audit.py", "-r", str(requirements)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_an_unreachable_vulnerability_service_fails_the_audit_with_not_audited(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/v1/query"
    refused = _audit(tmp_path, nobody, unreachable_ok=False)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "NOT AUDITED" in refused.stdout

    excused = _audit(tmp_path, nobody, unreachable_ok=True)  # what .ci/run sets on this network
    assert excused.returncode == 0, excused.stdout + excused.stderr
    assert "NOT AUDITED" in excused.stdout
    assert "NOTHING WAS AUDITED" in excused.stdout


def test_a_known_vulnerability_fails_even_where_unreachable_is_excused(
    tmp_path: Path, osv_server: ThreadingHTTPServer
) -> None:
    _FakeOsv.answer = {
        "vulns": [{
            "id": "GHSA-hotl-test-0001",
            "summary": "test advisory",
            "affected": [{"package": {"name": "idna", "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.7"}]}]}],
        }]
    }  # fmt: skip
    url = f"http://127.0.0.1:{osv_server.server_address[1]}/v1/query"
    result = _audit(tmp_path, url, unreachable_ok=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "VULNERABLE idna 3.4: GHSA-hotl-test-0001 (fixed in 3.7)" in result.stdout

    _FakeOsv.answer = {}  # OSV's answer for a version without advisories
    clean = _audit(tmp_path, url, unreachable_ok=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "1 of 1 pinned packages audited, 0 vulnerable" in clean.stdout
    assert "NOT AUDITED" not in clean.stdout
