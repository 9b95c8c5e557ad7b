"""The deployment files stay valid: systemd units (systemd-analyze verify) and the Procfile (honcho);
a production install (requirements.txt alone) has every runtime dependency."""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.drills.conftest import REPO
from tests.folders import built_once

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


# --- requirements.txt holds every runtime dependency (issue 14, finding 12) -----------------------
# The XLSX export answered 500 after ./scripts/start.sh: xlsxwriter was pinned only in
# requirements-dev.txt, and its import hid inside a function, so importing the modules in a clean
# venv (below) could not see it. Two checks close the class: a static one over every import and
# dotted path of the runtime packages, and the export and page tests run in that clean venv.

RUNTIME_PACKAGES = ("hotline", "tickets", "classifier", "channels_app")
FIRST_PARTY = {*RUNTIME_PACKAGES, "tests", "bench"}
DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)(\[[^\]]*\])?==(\S+)$")
# pytest runs the project's tests inside the production venv from a separate folder (--target), so
# the venv itself holds requirements.txt and nothing else; these are all that folder may hold.
TEST_TOOLS = ("pytest", "pytest-django", "pluggy", "iniconfig", "pygments")
CACHE = Path(os.environ.get("HOTLINE_DRILL_CACHE", REPO / "var" / "drill-cache"))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """Exact pins of a requirements file (canonical name → version); `-r` lines are not followed."""
    found = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-r"):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {raw!r}"
        found[canonical(match.group(1))] = match.group(3)
    return found


def _third_party(module: str) -> bool:
    return module not in sys.stdlib_module_names and module not in FIRST_PARTY and module != "__future__"


def _runtime_sources() -> Iterator[tuple[Path, ast.Module]]:
    for package in RUNTIME_PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(), str(path))


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def runtime_modules() -> dict[str, set[str]]:
    """Top-level third-party modules the runtime packages need → where: every import statement
    (also one inside a function) and every dotted path in a string (settings name middleware,
    backends and apps by string: "whitenoise.middleware…", "channels_redis.core…")."""
    installed = importlib.metadata.packages_distributions()
    needed: dict[str, set[str]] = {}
    for path, tree in _runtime_sources():
        where = str(path.relative_to(REPO))
        for node in ast.walk(tree):
            names = _imported(node)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED.match(node.value):
                top = node.value.split(".")[0]
                names = [top] if top in installed else []
            for name in names:
                if _third_party(name):
                    needed.setdefault(name, set()).add(where)
    for app in settings.INSTALLED_APPS:  # single-word apps are not dotted paths
        if _third_party(app.split(".")[0]):
            needed.setdefault(app.split(".")[0], set()).add("settings.INSTALLED_APPS")
    return needed


def test_every_runtime_import_is_pinned_in_requirements_txt() -> None:
    pinned = pins(REPO / "requirements.txt")
    installed = importlib.metadata.packages_distributions()
    missing = {
        module: sorted(where)
        for module, where in runtime_modules().items()
        if not any(canonical(dist) in pinned for dist in installed.get(module, []))
    }
    assert missing == {}, f"imported by runtime code but not pinned in requirements.txt: {missing}"
    assert "xlsxwriter" in runtime_modules()  # the check sees the export's dependency


def test_no_third_party_import_hides_inside_a_function() -> None:
    """A clean-venv import of the modules only finds what is imported at module level."""
    hidden = set()
    for path, tree in _runtime_sources():
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(function):
                    for name in _imported(node):
                        if _third_party(name):
                            hidden.add(f"{path.relative_to(REPO)}:{node.lineno} {name}")
    assert sorted(hidden) == []


def test_runtime_and_dev_requirements_do_not_pin_the_same_package_twice() -> None:
    """requirements-dev.txt includes requirements.txt; a runtime package pinned only there is
    how xlsxwriter went missing in production."""
    assert set(pins(REPO / "requirements.txt")) & set(pins(REPO / "requirements-dev.txt")) == set()


def _pip(python: Path, *args: str) -> None:
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args], capture_output=True, text=True,
                            timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def production_venv() -> Path:
    """A virtualenv with requirements.txt alone (what start.sh and the units' install make), reused
    while requirements.txt and the Python version stay the same."""
    key = hashlib.sha256((REPO / "requirements.txt").read_bytes() + sys.version.encode()).hexdigest()[:16]

    def build(venv: Path) -> None:
        subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True, timeout=120)  # type: ignore[attr-defined]
        # --no-compile: pip's byte-compiling of every installed module was half the install's time;
        # what is imported compiles as it is imported, and the check is what imports.
        _pip(venv / "bin/python", "--no-compile", "-r", str(REPO / "requirements.txt"))

    return built_once(CACHE / f"prod-venv-{key}", build)


@pytest.fixture(scope="module")
def test_tools(production_venv: Path) -> Path:
    """pytest and pytest-django (pinned as in requirements-dev.txt) in a folder of their own, put on
    PYTHONPATH for one run: the production venv stays requirements.txt alone."""
    dev = pins(REPO / "requirements-dev.txt")
    wanted = [f"{name}=={dev[name]}" for name in TEST_TOOLS]
    key = hashlib.sha256(" ".join(wanted).encode() + sys.version.encode()).hexdigest()[:16]

    def build(folder: Path) -> None:
        _pip(production_venv / "bin/python", "--no-deps", "--target", str(folder), *wanted)

    folder = built_once(CACHE / f"test-tools-{key}", build)
    added = {canonical(d.name.split("-")[0]) for d in folder.glob("*.dist-info")}
    assert added == set(TEST_TOOLS), f"only pytest's own tree may be added: {added}"
    return folder


@pytest.mark.slow
def test_production_processes_start_from_requirements_txt_alone(production_venv: Path, tmp_path: Path) -> None:
    """A virtualenv with only requirements.txt (what start.sh installs) imports the web server, a
    Celery worker with the Redis broker, beat, the channel layer and every task module. kombu's
    Redis transport needs `packaging` only through its `redis` extra; the dev requirements pulled it
    in, so CI passed while a fresh production start failed with ModuleNotFoundError."""
    script = (
        "import os\n"
        "os.environ.update(DJANGO_SETTINGS_MODULE='hotline.settings', DATABASE_URL='postgres://x@127.0.0.1:9/x',"
        " REDIS_URL='redis://127.0.0.1:9/0', HOTLINE_VAR_DIR=os.environ['VAR'])\n"
        "import django; django.setup()\n"
        "import hotline.asgi, hotline.celery, hotline.serve, hotline.beat, channels_redis.core, psycopg_pool\n"
        "from kombu.transport import resolve_transport; resolve_transport('redis')\n"
        "import tickets.messaging.tasks, tickets.feedback.tasks, tickets.supervision.tasks\n"
        "import tickets.jobs.tasks, tickets.duplicates.tasks, channels_app.tasks\n"
        "import tickets.metrics.services.exports\n"
        "print('imports ok')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "VAR": str(tmp_path / "var")}
    result = subprocess.run([str(production_venv / "bin/python"), "-c", script], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0 and "imports ok" in result.stdout, result.stderr[-3000:]


@pytest.mark.slow
def test_exports_and_pages_work_from_requirements_txt_alone(
    production_venv: Path, test_tools: Path, tmp_path: Path
) -> None:
    """The export tests (CSV and XLSX) and the page tests, run by the production venv's Python on
    the embedded backends: XLSX answered 500 there while the suite passed in the dev venv."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(test_tools),
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
    }
    tests = ["tests/metrics/test_exports.py", "tests/ui/test_pages.py"]
    result = subprocess.run([str(production_venv / "bin/python"), "-m", "pytest", *tests], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed(, \d+ warnings?)? in .*", summary), summary  # nothing failed or skipped
