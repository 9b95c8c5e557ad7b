#!/usr/bin/env bash
# Shared by start.sh and test.sh: a virtualenv of the project's own, its pinned dependencies,
# and the database schema. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS="${1:-requirements.txt}"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
  echo "需要 Python 3.11 或更高版本 (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
stamp=".venv/.installed-$(cat "$REQUIREMENTS" requirements.txt | sha256sum | cut -c1-16)-$(basename "$REQUIREMENTS")"
if [ ! -f "$stamp" ]; then
  echo "==> installing $REQUIREMENTS"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$REQUIREMENTS"
  touch "$stamp"
fi

# Translations: locale/<lang>/LC_MESSAGES/django.po → django.mo with gettext's msgfmt (Debian: gettext).
if ! command -v msgfmt >/dev/null && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "==> installing gettext (msgfmt) for the translation catalogue"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null) || true
fi
if command -v msgfmt >/dev/null; then
  .venv/bin/python manage.py compilemessages -l zh_Hans --ignore '.venv/*' -v0
else
  echo "msgfmt is missing (apt-get install gettext): pages show the source strings (simplified Chinese)" >&2
fi
