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


@pytest.mark.slow
def test_production_processes_start_from_requirements_txt_alone(tmp_path: Path) -> None:
    """A virtualenv with only requirements.txt (what start.sh installs) imports the web server, a
    Celery worker with the Redis broker, beat, the channel layer and every task module. kombu's
    Redis transport needs `packaging` only through its `redis` extra; the dev requirements pulled it
    in, so CI passed while a fresh production start failed with ModuleNotFoundError."""
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True, timeout=120)  # type: ignore[attr-defined]
    install = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "-r", str(REPO / "requirements.txt")],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    script = (
        "import os\n"
        "os.environ.update(DJANGO_SETTINGS_MODULE='hotline.settings', DATABASE_URL='postgres://x@127.0.0.1:9/x',"
        " REDIS_URL='redis://127.0.0.1:9/0', HOTLINE_VAR_DIR=os.environ['VAR'])\n"
        "import django; django.setup()\n"
        "import hotline.asgi, hotline.celery, hotline.serve, hotline.beat, channels_redis.core, psycopg_pool\n"
        "from kombu.transport import resolve_transport; resolve_transport('redis')\n"
        "import tickets.tasks, tickets.tasks_sla, tickets.tasks_jobs, tickets.tasks_kb, channels_app.tasks\n"
        "print('imports ok')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "VAR": str(tmp_path / "var")}
    result = subprocess.run([str(venv / "bin/python"), "-c", script], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0 and "imports ok" in result.stdout, result.stderr[-3000:]
