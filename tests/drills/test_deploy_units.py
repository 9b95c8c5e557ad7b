"""The deployment files stay valid: systemd units (systemd-analyze verify) and the Procfile (honcho)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.drills.conftest import REPO

pytestmark = pytest.mark.drill


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_systemd_units_verify() -> None:
    # The units' commands are checked against this environment's uvicorn and celery.
    result = subprocess.run(
        [str(REPO / "deploy/systemd/verify.sh")],
        capture_output=True,
        text=True,
        env={"VENV": sys.prefix, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "systemd units OK" in result.stdout


def test_every_unit_reads_the_environment_file_and_restarts() -> None:
    for name in ("hotline-web", "hotline-worker", "hotline-beat"):
        text = (REPO / "deploy/systemd" / f"{name}.service").read_text()
        assert "EnvironmentFile=/etc/hotline/hotline.env" in text
        assert "Restart=always" in text


def test_the_procfile_names_web_worker_and_beat() -> None:
    honcho = Path(sys.prefix) / "bin" / "honcho"
    if not honcho.exists():
        pytest.skip("honcho not installed in this environment")
    result = subprocess.run([str(honcho), "check", "-f", str(REPO / "Procfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Valid procfile detected (web, worker, beat)" in result.stderr + result.stdout
