"""Production settings: secrets only from the environment, `check --deploy` clean, refuse to start unsafe;
the shipped systemd units and example environment file use them."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.utils import get_random_secret_key

from hotline.secret_key import secret_key_weakness
from tests.drills.conftest import free_port

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


# --- The shipped deployment files (issue 14, finding 10) ----------------------------------------
# The systemd units ran `hotline.settings` (no DJANGO_SETTINGS_MODULE), where the example
# environment file's placeholder key started a server, and a known key forges rating links.

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = ("hotline-web", "hotline-worker", "hotline-beat")
EXAMPLE_ENV = SYSTEMD / "hotline.env.example"


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments and blank lines skipped)."""
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip().strip("'\"")
    return pairs


def unit_service(name: str) -> list[tuple[str, str]]:
    """The [Service] section's settings, in order (a key may repeat)."""
    section, settings = "", []
    for line in (SYSTEMD / f"{name}.service").read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.append((key, value))
    return settings


def unit_environment(name: str) -> dict[str, str]:
    """What the unit's process sees, with the example file as /etc/hotline/hotline.env: as in
    systemd, EnvironmentFile= overrides Environment=."""
    env: dict[str, str] = {}
    service = unit_service(name)
    for key, value in service:
        if key == "Environment":
            env.update(item.split("=", 1) for item in shlex.split(value))  # type: ignore[misc]
    for key, value in service:
        if key == "EnvironmentFile":
            assert value.lstrip("-") == "/etc/hotline/hotline.env"
            env.update(env_file(EXAMPLE_ENV))
    return env


def unit_command(name: str, env: dict[str, str]) -> list[str]:
    """ExecStart= for this checkout: /opt/hotline is the repository, its .venv this interpreter's."""
    (command,) = [value for key, value in unit_service(name) if key == "ExecStart"]
    command = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], command)
    command = command.replace("/opt/hotline/.venv", sys.prefix).replace("/opt/hotline", str(ROOT))
    return shlex.split(command)


def test_every_shipped_unit_runs_the_production_settings() -> None:
    assert env_file(EXAMPLE_ENV)["DJANGO_SETTINGS_MODULE"] == "hotline.settings_production"
    for name in UNITS:
        # In the unit itself (a site's own environment file may lack the line) and in effect.
        assert ("Environment", "DJANGO_SETTINGS_MODULE=hotline.settings_production") in unit_service(name), name
        assert unit_environment(name)["DJANGO_SETTINGS_MODULE"] == "hotline.settings_production", name


@pytest.mark.slow
@pytest.mark.parametrize("name", UNITS)
def test_a_unit_refuses_to_start_with_the_example_environment_files_placeholder_key(
    tmp_path: Path, name: str
) -> None:
    """Each unit's own command, with the example file unchanged, exits at once with the reason
    (the web server's supervisor too, instead of restarting failing workers forever)."""
    env = {**unit_environment(name), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env.update(HOTLINE_VAR_DIR=str(tmp_path), CLASSIFIER_MODEL_DIR=str(tmp_path / "models"), PYTHONPATH=str(ROOT))
    argv = [str(tmp_path / "celerybeat-schedule") if a.startswith("/var/lib/hotline") else a
            for a in unit_command(name, env)]  # fmt: skip
    if "--port" in argv:
        argv[argv.index("--port") + 1] = str(free_port())
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)  # fmt: skip
    try:
        output, _ = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{name} started with the example file's placeholder secret key:\n{output[-2000:]}")
    assert process.returncode != 0
    assert "DJANGO_SECRET_KEY" in output and "占位符" in output, output[-2000:]
    assert not (tmp_path / "secret_key").exists()


def test_the_example_environment_with_a_real_key_passes_the_deployment_check(tmp_path: Path) -> None:
    """The placeholder is the only thing an operator must change in the example file."""
    env = {**env_file(EXAMPLE_ENV), "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    env.update(HOTLINE_VAR_DIR=str(tmp_path), CLASSIFIER_MODEL_DIR=str(tmp_path / "models"))
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "change-me-to-a-long-random-string",  # the example file's, verbatim
        "Change-Me-" + "x7Qk2Lp9Rt4Vw8Yz3Bn6Mc1Df5Gh0JsE4uW9oP2",  # a placeholder made long enough
        "django-insecure-" + "k3j4h5g6f7d8s9a0q1w2e3r4t5y6u7i8o9p0z1x2c3v4b5n6m7",  # Django's startproject key
        "abcdefghij" * 6,  # 60 characters, 10 distinct, but a repeated run
        "Aa1" * 20,
    ],
)
def test_production_refuses_a_known_or_guessable_secret_key(tmp_path: Path, key: str) -> None:
    result = _manage(tmp_path, "check", **{**production_env(), "DJANGO_SECRET_KEY": key})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY 不安全" in result.stderr


def test_a_random_hex_key_whose_characters_happen_to_repeat_is_accepted() -> None:
    # A secrets.token_hex(25) output a CI run drew and the 160-bit bar refused (estimate 159.9 bits).
    assert secret_key_weakness("65b5655d5312648c5d888a6f563dc57d5d2dc8183588dd5d5b") is None


def test_random_keys_of_every_usual_recipe_are_accepted() -> None:
    recipes = [lambda: secrets.token_urlsafe(64), lambda: secrets.token_hex(25), get_random_secret_key]
    refused = [key for recipe in recipes for key in (recipe() for _ in range(500)) if secret_key_weakness(key)]
    assert refused == []
