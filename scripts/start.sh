#!/usr/bin/env bash
# Sets everything up and starts the whole system with demo data on http://127.0.0.1:8000
# (API, pages, admin and WebSockets on one ASGI server).
#   embedded default: SQLite + in-memory channel layer + in-process Celery and scheduler;
#   production: set DATABASE_URL (PostgreSQL) and REDIS_URL; a Celery worker and beat start too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
# Links in SMS (status page, rating) point at this server unless a public origin is configured.
export HOTLINE_PUBLIC_URL="${HOTLINE_PUBLIC_URL:-http://$HOST:$PORT}"

# schema, static files, default classifier model, demo city: one process, one Django start
.venv/bin/python manage.py demo_prepare

echo
echo "==> 12345 hotline on http://$HOST:$PORT/  (API docs /api/docs/, admin /admin/); ready when a worker says so"
if [ -n "${REDIS_URL:-}" ]; then
  # Production mode: web (hotline.serve, 2 workers), Celery worker and beat under one supervisor.
  export HOST PORT
  exec .venv/bin/honcho start -f Procfile
else
  # Embedded: one worker (the in-memory channel layer and the scheduler thread live in it).
  export HOTLINE_EMBEDDED_SCHEDULER=1
  # Offline demo: SMS stay in the outbox, and the staff outbox (/sms-outbox/) shows their
  # verification codes and rating links so the citizen flow can be tried without a phone.
  export HOTLINE_DEMO_SHOW_SECRETS="${HOTLINE_DEMO_SHOW_SECRETS:-1}"
  # 呼叫中心 demo: the console's 模拟来电 posts signed Twilio webhooks in-process. Without a Twilio
  # account a local signing token is used (nothing reaches Twilio; docs/callcentre.md).
  export HOTLINE_CALLCENTRE_DEMO="${HOTLINE_CALLCENTRE_DEMO:-1}"
  if [ -z "${TWILIO_ACCOUNT_SID:-}" ]; then export TWILIO_AUTH_TOKEN="${TWILIO_AUTH_TOKEN:-offline-demo-signing-token}"; fi
  exec .venv/bin/python -m hotline.serve --host "$HOST" --port "$PORT" --workers 1 --log-level warning
fi
