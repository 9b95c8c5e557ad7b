#!/usr/bin/env bash
# Deep fuzzing of the REST API from its OpenAPI schema: every operation × every role, with
# Schemathesis' coverage phase (boundary values, each kind of malformed input per parameter) and
# many generated examples; and hostile values the schema does not describe (NUL bytes, dates at the
# calendar's edges, 64-bit overflow, forged cursors, nested JSON bodies) on every parameter and body,
# Open311's too. CI runs the same test bounded (3 examples each, no coverage phase).
#   scripts/fuzz_api.sh [examples per operation, each sent as every role; default 50] [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-50}"
shift || true
HOTLINE_FUZZ_EXAMPLES="$examples" HOTLINE_FUZZ_HOSTILE="$examples" HOTLINE_FUZZ_DEEP=1 \
  exec .venv/bin/python -m pytest tests/security/test_fuzz_api.py -q "$@"
