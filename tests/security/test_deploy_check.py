"""Production settings: secrets only from the environment, `check --deploy` clean, refuse to start unsafe."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HOTLINE_", "ALLOWED_HOSTS"))}
    base.update({"DJANGO_SETTINGS_MODULE": "hotline.settings_production", "HOTLINE_VAR_DIR": str(tmp_path)})
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def production_env() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "12345.example.gov.cn",
        "HOTLINE_BEHIND_TLS": "1",
    }


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert not (tmp_path / "secret_key").exists()  # the key came from the environment, none was made up


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short-key"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"HOTLINE_BEHIND_TLS": ""}, "HOTLINE_BEHIND_TLS"),
        ({"HOTLINE_DEMO_SHOW_SECRETS": "1"}, "HOTLINE_DEMO_SHOW_SECRETS"),  # codes and rating links to staff
    ],
)
def test_production_refuses_to_start_without_a_safe_environment(
    tmp_path: Path, change: dict[str, str], complaint: str
) -> None:
    result = _manage(tmp_path, "check", **{**production_env(), **change})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and complaint in result.stderr
    assert not (tmp_path / "secret_key").exists()
