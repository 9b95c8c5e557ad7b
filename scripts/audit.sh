#!/usr/bin/env bash
# Known vulnerabilities in the pinned dependencies (pip-audit over requirements*.txt; ignores with a
# reason in security/pip-audit-ignore.txt). Its own command, not part of test.sh: it needs a
# vulnerability database on the network, the tests do not. Exit status and options: scripts/audit.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt
echo "==> known vulnerabilities (pip-audit; vulnerability service: ${PIP_AUDIT_VULNERABILITY_SERVICE:-pypi})"
exec .venv/bin/python scripts/audit.py "$@"
