#!/usr/bin/env bash
# Sets everything up and runs the whole test suite (unit, API, PostgreSQL/Redis when DATABASE_URL and
# REDIS_URL are set, and the browser tests in Debian's Chromium). Extra arguments go to pytest.
# The vulnerability audit is scripts/audit.sh: it needs the network's vulnerability data, the tests do not.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt

# Browser tests drive Debian's Chromium through Playwright (no browser download).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "==> installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
    || echo "chromium could not be installed: browser tests will be skipped" >&2
fi

echo "==> lint"
.venv/bin/ruff check .
echo "==> architecture (import-linter contracts in pyproject.toml; ARCHITECTURE.md is the map)"
.venv/bin/lint-imports
echo "==> types"
.venv/bin/mypy hotline tickets classifier channels_app
echo "==> tests (database: ${DATABASE_URL:-embedded SQLite}; redis: ${REDIS_URL:-none})"
set +e
# In parallel (pytest-xdist): whole files per worker, each with its own test database and Redis
# database (tests/xdist_services.py). HOTLINE_TEST_WORKERS=0 runs everything in this one process.
.venv/bin/python -m pytest -n "${HOTLINE_TEST_WORKERS:-3}" --dist loadfile "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$status"
