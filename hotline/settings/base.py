"""Settings that do not depend on the backends (see hotline/settings/__init__.py)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("HOTLINE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY", "")
    if key:
        return key
    # A new user's first command must work without configuration: keep a random key on disk
    # (never in the repository). Production sets DJANGO_SECRET_KEY.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
HOTLINE_PRODUCTION = False  # True in hotline/settings_production.py (e.g. seed_demo refuses there)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
# Read replica for scorecards and exports (tickets/db_router.py), with DATABASE_URL only.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: no CDN on a closed network
    "channels",
    "tickets",
    "classifier",
    "channels_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hotline.urls"
ASGI_APPLICATION = "hotline.asgi.application"
WSGI_APPLICATION = "hotline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tickets.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# locale/: the project's catalogue (makemessages); locale_django/: Django's own admin and auth words its
# zh_Hans catalogues lack, kept by hand (a refresh of locale/ would drop them).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_django"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise scans it at start-up
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Files a browser asks for at the site's root (the tab's icon, /favicon.ico): served as they are,
# so no page's first load logs a 404 in the browser's console.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tickets.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "tickets.core.apis.schema.HotlineAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["tickets.core.apis.filters.StrictFilterBackend"],
    "EXCEPTION_HANDLER": "tickets.apis_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tickets.core.apis.parsers.LimitedJSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "12345 政务服务便民热线 API",
    "DESCRIPTION": "One intake, dispatch by responsibility, time limits, supervision, rating.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TicketStateEnum": "tickets.core.states.TicketState",
        "AssignmentStateEnum": "tickets.core.states.AssignmentState",
        "TicketKindEnum": "tickets.core.models.Kind",
        "UnitKindEnum": "tickets.org.models.UnitKind",
    },
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -----------------------------------------------------------------------------
CELERY_RESULT_BACKEND = None
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Task modules: `autodiscover_tasks` only finds <app>.tasks, and ours live in the domains.
CELERY_IMPORTS = [
    "tickets.accounts.tasks",
    "tickets.duplicates.tasks",
    "tickets.feedback.tasks",
    "tickets.intake.tasks",
    "tickets.jobs.tasks",
    "tickets.messaging.tasks",
    "tickets.supervision.tasks",
]
# The embedded default has no beat process: hotline.embedded_scheduler runs the same schedule
# in a thread of the web server when HOTLINE_EMBEDDED_SCHEDULER=1 (set by scripts/start.sh).
EMBEDDED_SCHEDULER = env_bool("HOTLINE_EMBEDDED_SCHEDULER", False)

# --- Twilio -----------------------------------------------------------------------------
# Requests of one web process inside Django at once, and those let in first (hotline/admission.py).
WEB_SLOTS = int(os.environ.get("HOTLINE_WEB_SLOTS") or "3")
# First: a caller and an operator about to be connected (the operator's leg, the bridge and its pop).
WEB_CONNECTING_PATHS = (
    "/webhooks/twilio/callcentre/seat/",
    "/webhooks/twilio/callcentre/bridge/",
)
# Then: a caller waiting in silence for the greeting or the next prompt.
WEB_URGENT_PATHS = (
    "/webhooks/twilio/voice/",
    "/webhooks/twilio/voice/gather/",
    "/webhooks/twilio/callcentre/voice/",
    "/webhooks/twilio/callcentre/choose/",
)

TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")

# --- Classifier -------------------------------------------------------------------------
CLASSIFIER_MODEL_DIR = Path(os.environ.get("CLASSIFIER_MODEL_DIR", VAR_DIR / "models"))
CLASSIFIER_TRAINING_ROWS = "tickets.core.selectors.classifier_training_rows"

# --- Security ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("HOTLINE_BEHIND_TLS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

if not DEBUG and not os.environ.get("DJANGO_SECRET_KEY") and os.environ.get("HOTLINE_REQUIRE_SECRET"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")

# --- Business limits (documented in README: "Input limits") -----------------------------
TICKET_TITLE_MAX = 200
TICKET_TEXT_MAX = 5000
TICKET_NAME_MAX = 64
TICKET_ADDRESS_MAX = 255
REASON_MAX = 2000
REPLY_MAX = 5000
# Every JSON body (tickets/core/apis/parsers.py): the largest legitimate one, a 5,000-character text
# written as \uXXXX escapes, is ~30 KB, and request bodies nest a few levels at most.
JSON_BODY_MAX_BYTES = 256 * 1024
JSON_BODY_MAX_DEPTH = 16
PROBLEM_TICKET_REOPENS = 3  # default for SlaProfile; the live value is data (city profile)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "hotline": {"level": "INFO"},
        "tickets": {"level": "INFO"},
        "classifier.alerts": {"level": "WARNING"},
    },
}

CELERY_BEAT_SCHEDULE["live-outbox-flush"] = {
    "task": "channels_app.tasks.live_outbox_flush",
    "schedule": timedelta(seconds=15),
}

# --- Classifier retraining (按责转办) -----------------------------------------------------
# Nightly: train on human-confirmed closed tickets, promote only if not worse on the newest ones.

CELERY_BEAT_SCHEDULE["classifier-retrain"] = {"task": "classifier.retrain", "schedule": crontab(hour=3, minute=15)}

# --- Intake: Twilio webhooks, outbound SMS, citizen channels, Open311 (统一接收) ----------------
# Webhook signatures are checked against TWILIO_AUTH_TOKEN. Twilio signs the public URL it called;
# behind a reverse proxy set TWILIO_WEBHOOK_BASE_URL (e.g. https://12345.example.gov.cn) or, with
# HOTLINE_TRUSTED_PROXY_HOPS set (below), it is rebuilt from the proxy's X-Forwarded-Proto/Host.
TWILIO_WEBHOOK_BASE_URL = os.environ.get("TWILIO_WEBHOOK_BASE_URL", "").rstrip("/")
# Without TWILIO_AUTH_TOKEN every webhook is refused (403) unless this dev switch allows unsigned
# local testing (curl against runserver). Never set it in production.
TWILIO_ALLOW_UNSIGNED = env_bool("HOTLINE_TWILIO_ALLOW_UNSIGNED", False)
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
# Base URL of the Twilio REST API; empty = the real one. Tests point it at a local fake server.
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "").rstrip("/")
TWILIO_HTTP_TIMEOUT = float(os.environ.get("TWILIO_HTTP_TIMEOUT", "10"))
# Public address of the citizen pages, used in SMS links (status page, rating link).
HOTLINE_PUBLIC_URL = os.environ.get("HOTLINE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Development switch: the staff SMS outbox and admin show verification codes and rating links of
# messages that stayed in the local outbox (never sent), so the offline demo's citizen flow can be
# completed. Off by default; `start.sh` sets it in its embedded mode; production refuses it.
DEMO_SHOW_SECRETS = env_bool("HOTLINE_DEMO_SHOW_SECRETS", False)
SMS_MAX_ATTEMPTS = 5
SMS_RETRY_BASE_SECONDS = 30  # 30 s, 60 s, 120 s, … (exponential backoff with jitter)
SMS_STALE_AFTER_SECONDS = 60  # a queued message older than this is re-sent by the periodic task
# 按责转办 behind the intake (tickets/intake/services/routing_batch.py): an accepted ticket waits in
# the database's routing queue; a wake-up is sent ROUTING_WAKE_DELAY after the commit (one for all the
# tickets accepted meanwhile in that process); the periodic run catches whatever a lost wake-up left
# (Redis down at the commit). ROUTING_INLINE (the embedded default) routes in the web process right
# after the commit instead. A ticket still unrouted after ROUTING_NOTICE_WAIT_SECONDS gets its 受理 SMS
# without the unit; the 转办 notice follows.
ROUTING_BATCH = int(os.environ.get("HOTLINE_ROUTING_BATCH", "100"))
ROUTING_WAKE_DELAY = float(os.environ.get("HOTLINE_ROUTING_WAKE_DELAY", "0.1"))
ROUTING_NOTICE_WAIT_SECONDS = float(os.environ.get("HOTLINE_ROUTING_NOTICE_WAIT_SECONDS", "5"))
# 待派单 leaves out tickets the routing worker is about to route; one still waiting after this is
# listed (marked 自动分派未完成) so that people take over while the worker is down or far behind.
ROUTING_HANDOVER_SECONDS = float(os.environ.get("HOTLINE_ROUTING_HANDOVER_SECONDS", "60"))
CELERY_BEAT_SCHEDULE["routing-run"] = {"task": "tickets.routing_run", "schedule": 5.0}
CELERY_BEAT_SCHEDULE["sms-resend-stale"] = {"task": "tickets.tasks.sms_resend_stale", "schedule": 60.0}
# Abuse limits, (count, seconds). Counted in Django's cache: Redis with REDIS_URL, process memory
# in the embedded default (one process, so the counts are exact there too).
INTAKE_LIMIT_PER_PHONE = (20, 3600)
SUPPLEMENT_MAX = 1000  # characters a citizen adds to an open matter at once (市民补充)
SUPPLEMENT_LIMIT_PER_TICKET = (10, 86400)
INTAKE_LIMIT_PER_IP = (60, 3600)
VERIFY_CODE_LIMIT_PER_PHONE = (5, 3600)
VERIFY_CODE_LIMIT_PER_IP = (20, 3600)
VERIFY_CODE_RESEND_SECONDS = 60
VERIFY_CODE_TTL_SECONDS = 600
VERIFY_CODE_MAX_ATTEMPTS = 5
STATUS_LOOKUP_LIMIT_PER_IP = (20, 900)
# Wrong answers for one ticket number: from one address, then from all addresses together (a
# stranger's guesses lock the stranger out; 10,000 possible last-4s take many addresses and days).
STATUS_LOOKUP_LIMIT_PER_NUMBER_IP = (5, 900)
STATUS_LOOKUP_LIMIT_PER_NUMBER = (30, 86400)
CITIZEN_TOKEN_TTL = timedelta(days=30)
CITIZEN_PHOTO_MAX = 5
CITIZEN_PHOTO_MAX_BYTES = 8 * 1024 * 1024
CITIZEN_PHOTO_MAX_PIXELS = 40_000_000
# Photo memory (issue 14; tickets/intake/services/photos.py, bench/uploads/): baseline JPEGs decode at a
# reduced scale, these formats at full size (PNG, GIF, WEBP, progressive JPEG), hence a lower limit.
CITIZEN_PHOTO_MAX_PIXELS_UNSCALED = 16_000_000
CITIZEN_PHOTO_MAX_SIDE = 1920  # stored photos are downscaled to this long side
# A request body over 2.5 MB is spooled to disk (ASGI) and its files become temporary files, never
# held in memory; more files than this in one request is refused (400) before the view runs. Well
# above the forms' own limits (CITIZEN_PHOTO_MAX), so a form refuses a few files too many itself
# and keeps what was typed; this stops only a request no form sends.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 30
OPEN311_JURISDICTION = os.environ.get("OPEN311_JURISDICTION", "12345")

# --- 限时办结 / 统一督办 (tickets.supervision.tasks) ---------------------------------------------
# The deadline scanner runs every minute; each assignment and level fires once (guarded updates),
# so an overlapping tick or a second beat does no harm.
CELERY_BEAT_SCHEDULE["sla-scan-deadlines"] = {
    "task": "tickets.sla.scan_deadlines",
    "schedule": timedelta(minutes=1),
    "options": {"expires": 55},
}

# --- Rating feedback (评价反馈) ----------------------------------------------------------------
# Hourly: a rating request unanswered for CityProfile.rating_expiry_days closes the ticket as 未评价.
CELERY_BEAT_SCHEDULE["rating-expire-due"] = {"task": "tickets.tasks.rating_expire_due", "schedule": timedelta(hours=1)}

# --- 并单, 热点 and 知识库 (tickets/services/{duplicates,hotspots,kb}.py) ---------------------
DUPLICATE_SAME_CALLER_DAYS = 30  # domain.md §6: 重复来电率 counts the same caller within 30 days
DUPLICATE_JURISDICTION_WINDOW_DAYS = int(os.environ.get("HOTLINE_DUPLICATE_WINDOW_DAYS", "14"))
DUPLICATE_MIN_SIMILARITY = 0.2  # estimated shingle Jaccard; measured in bench/duplicates/detect_quality.py
HOTSPOT_SIMILARITY = 0.35  # TF-IDF cosine that joins two tickets of one place into a hot spot
HOTSPOT_MAX_TICKETS = 20000  # newest tickets clustered per period
HOTSPOT_BASELINE_DAYS = 7
HOTSPOT_SURGE_FACTOR = 3.0  # last 24 h ≥ 3 × the daily baseline …
HOTSPOT_SURGE_MIN_SIZE = 5  # … and at least this many tickets
CELERY_BEAT_SCHEDULE["hotspots-surge-scan"] = {"task": "tickets.hotspots_surge_scan", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["hotspots-daily-report"] = {
    "task": "tickets.hotspots_daily_report",
    "schedule": crontab(hour=7, minute=30),
}

# --- Faults and scale-out (docs/operations.md) ----------------------------------------------
# Broker: fail fast when Redis is down. Every task that matters has a durable row in PostgreSQL
# (SmsMessage queued, Supervision pending, LiveOutbox) that a periodic task re-sends, so a
# publish that fails is not lost; retrying it inside a request would only hold the request up.
# visibility_timeout: a task taken by a worker that died (SIGKILL, node lost) goes back to the
# queue after this many seconds (acks_late). It must exceed the longest countdown we use with
# Redis (SMS backoff ≤ 1 h), or an ETA task would be delivered twice (harmless: guarded claims).
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("HOTLINE_CELERY_VISIBILITY_TIMEOUT", "3900")),
    "socket_connect_timeout": 2,
    "socket_timeout": 15,
}
# An SMS claimed by a worker that died mid-send is re-examined after this lease: first asked of
# Twilio (was it sent?), then re-sent only if Twilio has no record of it.
SMS_SENDING_LEASE_SECONDS = int(os.environ.get("HOTLINE_SMS_SENDING_LEASE_SECONDS", "120"))
# A supervision notice still `pending` this long after it was written lost its fan-out task
# (broker down at commit, worker lost): the periodic re-scan sends it, once (guarded claim).
SUPERVISION_PENDING_AFTER_SECONDS = 120
CELERY_BEAT_SCHEDULE["supervisions-notify-pending"] = {
    "task": "tickets.sla.supervisions_notify_pending",
    "schedule": timedelta(minutes=1),
    "options": {"expires": 55},
}
# One beat for the whole deployment: every node may run `celery beat`; the one holding a
# PostgreSQL advisory lock schedules, the others stand by and take over when it dies.
CELERY_BEAT_SCHEDULER = "hotline.beat:LeaderScheduler"
BEAT_LEADER_LOCK_KEY = 12345_0001
BEAT_STANDBY_SECONDS = float(os.environ.get("HOTLINE_BEAT_STANDBY_SECONDS", "5"))
# Read replica: metrics/scorecard reads and exports go to it (tickets/db_router.py); writes never.
DATABASE_ROUTERS = ["tickets.db_router.ReplicaRouter"]

# --- Security: rate limits, CSP, production checks (issue 10; tickets/throttles.py, hotline/security.py) ---
# Public doors are throttled per client address in Django's cache (Redis with REDIS_URL). The
# per-phone / per-address abuse limits of intake (above) still apply inside these.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {  # type: ignore[assignment]
    "citizen": os.environ.get("HOTLINE_RATE_CITIZEN", "60/min"),  # citizen pages, app API
    "login": os.environ.get("HOTLINE_RATE_LOGIN", "10/min"),  # password and token login
    "open311": os.environ.get("HOTLINE_RATE_OPEN311", "120/min"),
    # Twilio calls from a handful of addresses for every caller at once: generous, only a brake
    # on a runaway loop or a forged flood (signatures are checked anyway).
    "webhook": os.environ.get("HOTLINE_RATE_WEBHOOK", "1200/min"),
}
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "tickets.throttles.PublicRateLimitMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "hotline.security.ContentSecurityPolicyMiddleware",
)
# Before sessions and authentication: the cookie and the token are looked up in the database.
MIDDLEWARE.insert(
    MIDDLEWARE.index("hotline.security.ContentSecurityPolicyMiddleware") + 1,
    "hotline.input_guard.NulByteGuardMiddleware",
)
# HOTLINE_CSP_REPORT_ONLY=1 sends the policy as Report-Only (to try a new page without breaking it).
CSP_REPORT_ONLY = env_bool("HOTLINE_CSP_REPORT_ONLY", False)
# Clickjacking: pages are never framed (X-Frame-Options DENY above and CSP frame-ancestors 'none').
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if env_bool("HOTLINE_BEHIND_TLS", False):
    # The TLS proxy tells Django the original scheme; it MUST overwrite any X-Forwarded-Proto a
    # client sends (nginx: proxy_set_header X-Forwarded-Proto $scheme). The header name can be
    # changed for proxies that use another one.
    SECURE_PROXY_SSL_HEADER = (os.environ.get("HOTLINE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO"), "https")
CSRF_FAILURE_VIEW = "hotline.errors.csrf_failure"  # Chinese page; JSON under /api/

# --- Staff authentication: tokens, sessions, lockout, proxies (issue 14; docs/security.md) ---------
# Client address: the X-Forwarded-For entry this many places from the right (one per reverse proxy
# of ours in front of the app); 0 = no proxy, REMOTE_ADDR. HOTLINE_TRUST_PROXY=1 (older name) = 1 hop.
_PROXY_HOPS_DEFAULT = "1" if env_bool("HOTLINE_TRUST_PROXY", False) else "0"
HOTLINE_TRUSTED_PROXY_HOPS = int(os.environ.get("HOTLINE_TRUSTED_PROXY_HOPS", _PROXY_HOPS_DEFAULT))
# A staff API token lives one shift from its login, on REST and WebSocket alike (tickets/accounts/services.py).
API_TOKEN_TTL = timedelta(hours=float(os.environ.get("HOTLINE_TOKEN_TTL_HOURS", "12")))
# Each web process keeps the token rows it read while it hears PostgreSQL's notifications of any
# credential change (tickets/accounts/token_rows.py); off: every API request reads its token.
API_TOKEN_ROWS_KEPT = env_bool("HOTLINE_API_TOKEN_ROWS_KEPT", True)
# A live socket re-checks its login this often, a backstop to the revocation message it gets at once.
LIVE_AUTH_RECHECK_SECONDS = float(os.environ.get("HOTLINE_LIVE_AUTH_RECHECK_SECONDS", "30"))
# Sessions carry their user's id, so a password change or deactivation can delete them all.
SESSION_ENGINE = "tickets.accounts.sessions"
# django-axes: one failure count per account for the pages', the API's and the admin's login; the
# lockout's cool-off doubles for each further `limit` failures (tickets/accounts/lockout.py).
INSTALLED_APPS.append("axes")
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # transactional: tests roll it back
AXES_FAILURE_LIMIT = int(os.environ.get("HOTLINE_LOGIN_FAILURE_LIMIT", "5"))
# Per account by default: a whole centre signs in from one NAT address, and a lock per address
# would let one mistyping operator (or a guesser) lock everyone out. Spraying many accounts from
# one address is held by the per-address login throttle instead (HOTLINE_RATE_LOGIN), which is
# why axes' warning about a missing ip_address parameter is silenced.
AXES_LOCKOUT_PARAMETERS = ["username", *(["ip_address"] if env_bool("HOTLINE_LOGIN_LOCKOUT_PER_IP", False) else [])]
if "ip_address" not in AXES_LOCKOUT_PARAMETERS:
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "axes.W006"]
AXES_COOLOFF_TIME = "tickets.accounts.lockout.cool_off"
LOGIN_COOLOFF = timedelta(minutes=float(os.environ.get("HOTLINE_LOGIN_COOLOFF_MINUTES", "15")))
LOGIN_COOLOFF_MAX = timedelta(hours=24)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "tickets.request_meta.client_ip"
AXES_LOCKOUT_CALLABLE = "tickets.accounts.lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # tickets/admin.py shows the lockouts in Chinese, with 解除锁定
CELERY_BEAT_SCHEDULE["staff-auth-purge"] = {"task": "tickets.tasks.staff_credentials_purge", "schedule": 3600.0}
# Idempotency-Key answers (app, Open311) and the console's once-only form keys: kept a week, then purged.
IDEMPOTENCY_KEEP = timedelta(days=7)
CELERY_BEAT_SCHEDULE["idempotency-purge"] = {
    "task": "tickets.tasks.idempotency_purge",
    "schedule": crontab(hour=4, minute=10),
}

# --- Call centre (呼叫中心, issue 18; docs/callcentre.md) ---------------------------------------
# GB/T 33358-2016: answered within 15 s, 24-hour connection rate >= 95 %. Targets shown against the figures.
CALLCENTRE_ANSWER_TARGET_SECONDS = int(os.environ.get("HOTLINE_CALLCENTRE_ANSWER_TARGET_SECONDS", "15"))
CALLCENTRE_CONNECTION_TARGET = float(os.environ.get("HOTLINE_CALLCENTRE_CONNECTION_TARGET", "0.95"))
# A caller who hangs up within this many seconds of entering the queue is a "short abandon";
# whether it counts as offered is the centre's choice (domain.md §9), stated with every figure.
CALLCENTRE_SHORT_ABANDON_SECONDS = int(os.environ.get("HOTLINE_CALLCENTRE_SHORT_ABANDON_SECONDS", "5"))
CALLCENTRE_SHORT_ABANDON_EXCLUDED = env_bool("HOTLINE_CALLCENTRE_SHORT_ABANDON_EXCLUDED", True)
# 未接来电回拨 done within this many hours of the abandoned call counts as "within target".
CALLCENTRE_CALLBACK_TARGET_HOURS = float(os.environ.get("HOTLINE_CALLCENTRE_CALLBACK_TARGET_HOURS", "2"))
# 话后处理: wrap-up after a call, then the seat is ready again.
CALLCENTRE_WRAP_UP_SECONDS = int(os.environ.get("HOTLINE_CALLCENTRE_WRAP_UP_SECONDS", "30"))
# Overflow: a caller still waiting after this long is offered the IVR (speech / voicemail draft).
CALLCENTRE_OVERFLOW_SECONDS = int(os.environ.get("HOTLINE_CALLCENTRE_OVERFLOW_SECONDS", "180"))
# How long the seat's phone rings before the offer goes to the next operator (the seat goes 小休).
CALLCENTRE_RING_SECONDS = int(os.environ.get("HOTLINE_CALLCENTRE_RING_SECONDS", "20"))
# Recordings of bridged calls are kept this many days, then deleted at Twilio and unlinked.
CALLCENTRE_RECORDING_RETENTION_DAYS = int(os.environ.get("HOTLINE_CALLCENTRE_RECORDING_RETENTION_DAYS", "180"))
# The softphone's access token (Twilio Voice JS SDK) lives this long; the page fetches a new one.
CALLCENTRE_TOKEN_TTL_SECONDS = int(os.environ.get("HOTLINE_CALLCENTRE_TOKEN_TTL_SECONDS", "600"))
TWILIO_API_KEY_SID = os.environ.get("TWILIO_API_KEY_SID", "")
TWILIO_API_KEY_SECRET = os.environ.get("TWILIO_API_KEY_SECRET", "")
TWILIO_TWIML_APP_SID = os.environ.get("TWILIO_TWIML_APP_SID", "")
# The "模拟来电" control of the demo (posts the same signed webhooks in-process). Refused in production.
CALLCENTRE_DEMO = env_bool("HOTLINE_CALLCENTRE_DEMO", False)
CELERY_BEAT_SCHEDULE["callcentre-assign-sweep"] = {"task": "tickets.callcentre.assign_sweep", "schedule": 5.0}
CELERY_BEAT_SCHEDULE["callcentre-recordings-purge"] = {
    "task": "tickets.callcentre.recordings_purge",
    "schedule": crontab(hour=2, minute=40),
}
CELERY_IMPORTS.append("tickets.callcentre.tasks")
