"""Django settings, read from the environment (see .env.example for every variable)."""

import ipaddress
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from lti.key_pem import private_key_load
from quizsite.env import envbool, envfile, envfloat, envint, envlist, envstr

# Lets `admin.ModelAdmin[Model]` and similar generic annotations work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# Production is the default: development (`make run`, `make test`) says DEBUG=true itself.
DEBUG = envbool("DEBUG", False)
# Published in this repository: it signs nothing outside a developer's machine.
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"  # noqa: S105
SECRET_KEY = envstr("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not DEBUG and not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured(
        "SECRET_KEY is the published development key; with DEBUG off set a secret of your own "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "core",
    "courses",
    "assessments",
    "grader",
    "analytics",
    "lms",
    "lti",
    "practice",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
]

MIDDLEWARE = [
    # First: every request gets its id, its count in /metrics and its log line, refused or not.
    "quizsite.ops.requests.RequestObservationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside LtiEmbeddingMiddleware: it writes the policy, with the frame-ancestors an LTI
    # session's pages get from that middleware.
    "csp.middleware.CSPMiddleware",
    # Before sessions, CSRF and XFrameOptions, so that it sees the response after them: LTI
    # sessions may be framed by the LMS that launched them, with partitioned cookies.
    "lti.middleware.LtiEmbeddingMiddleware",
    # A NUL in a URL is a 400 naming the parameter before any view queries with it.
    "quizsite.middleware.NulRefusalMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it turns a login refused for a locked-out account into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "quizsite.urls"
WSGI_APPLICATION = "quizsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "quizsite" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes write (web, Celery workers): take the write lock when a
    # transaction begins and wait for it, instead of failing on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    # The write-ahead log: readers (question pages, analytics) go on while a writer holds
    # the lock, instead of waiting for it. Every commit is still synced (synchronous=FULL).
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
    # A file, not memory, so the test server and the test Celery worker's threads share it.
    # SQLITE_TEST_NAME gives concurrent test runs on one checkout a file each.
    DATABASES["default"]["TEST"] = {
        "NAME": envstr("SQLITE_TEST_NAME", str(VAR_DIR / "test.sqlite3"))
    }
    VAR_DIR.mkdir(exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "assessments:my_quizzes"
LOGOUT_REDIRECT_URL = "login"
# Password reset links live this long (Django's default is three days).
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_SECONDS", 3 * 3600, minimum=300)

# Login lockout (django-axes): LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# client address lock that pair out for LOGIN_LOCKOUT_MINUTES; the right password is refused
# meanwhile, and a password reset by e-mail lifts it. By the pair, not by address alone: a
# class behind one NAT address shares it, and one learner's typos (or one attacker) must not
# lock out the class. Not by username alone either, or anyone could lock out any teacher.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the signed-in user read from Redis (core/cached_users.py).
    "core.cached_users.CachedModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "quizsite.accounts.lockout_response"
# Failures are kept (the admin lists them); successful logins are not logged row by row.
AXES_DISABLE_ACCESS_LOG = True

# E-mail (password reset links). Development prints them on the console; production sends
# them through the SMTP server named here.
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT_SECONDS", 10, minimum=1)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Sessions are read from Redis on every request (from the database only when Redis has lost
# one) and written through to both, so a Redis restart logs no one out: an answer's request
# does not query the session table.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Lax for everyone. Inside an LMS's iframe our cookies are third-party and must be
# SameSite=None (with Secure) to be sent at all: lti.middleware gives the session and CSRF
# cookies of LTI sessions (and the launch-state cookie) SameSite=None; Partitioned over HTTPS.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# HTTPS. Production runs behind a reverse proxy that terminates TLS and says so in
# PROXY_SSL_HEADER (X-Forwarded-Proto: https; the proxy must overwrite a client's) and appends
# the client's address to X-Forwarded-For (TRUSTED_PROXY_COUNT proxies in a row).
_PROXY_SSL_HEADER = envstr("PROXY_SSL_HEADER", "" if DEBUG else "X-Forwarded-Proto").strip()
if _PROXY_SSL_HEADER:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", _PROXY_SSL_HEADER):
        raise ImproperlyConfigured(
            f"PROXY_SSL_HEADER must be a header name like X-Forwarded-Proto, not "
            f"{_PROXY_SSL_HEADER!r}"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0 if DEBUG else 1, minimum=0)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers and Prometheus probe nodes over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Preloading binds the whole registrable domain to HTTPS for good: its owner opts in with
# SECURE_HSTS_PRELOAD=true. Until then the deploy check's reminder (W021) is answered here.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Content-Security-Policy (django-csp): every asset is ours. Templates carry no inline script
# or style; a third-party page that needs one (the API docs) gets the request's nonce.
# frame-ancestors comes from X-Frame-Options, or from lti.middleware for LTI sessions.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "report-uri": envstr("CSP_REPORT_URI", "") or None,
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Every client sends JSON; a form body cannot say "a list" or "null", so it is a 415.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `format` is an ordinary parameter (?format=csv on exports), not renderer selection.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Throttles API clients only (keyed by client); people's requests pass untouched.
    "DEFAULT_THROTTLE_CLASSES": ["lms.auth.ApiClientRateThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dropout diagnostics API",
    "DESCRIPTION": (
        "Quizzes, code grading and misconception analytics about dropout. LMS servers "
        "authenticate with `Authorization: Bearer <API client token>` (scoped, bound to "
        "courses); people with their session or `Authorization: Token <token>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TAGS": [
        {"name": "learners", "description": "Taking quizzes: attempts, answers, results."},
        {"name": "grader", "description": "Coding exercises: submit code, poll its verdict."},
        {
            "name": "analytics",
            "description": "For a course's instructors (session or token) and for API "
            "clients holding analytics:read: item statistics, responses, misconceptions.",
        },
        {"name": "lms", "description": "For LMS servers with an API client's Bearer token."},
    ],
    # Django's <int:...> matches digits only, so a negative id is no URL of ours.
    "PATH_CONVERTER_OVERRIDES": {"int": {"type": "integer", "minimum": 0}},
    # One name per vocabulary, whichever field carries it.
    "ENUM_NAME_OVERRIDES": {
        "QuestionTypeEnum": "assessments.models.QuestionType",
        "AttemptStateEnum": "assessments.models.Attempt.State",
        "QuadrantEnum": "assessments.diagnosis.Quadrant",
        "SubmissionStatusEnum": "grader.models.Submission.Status",
        "AttemptsPolicyEnum": "analytics.counted.POLICIES",
    },
}

# Celery: JSON only, results live in our models, workers take one task at a time.
REDIS_URL = envstr("REDIS_URL", "redis://127.0.0.1:6399/0")
CELERY_BROKER_URL = REDIS_URL
# Analytics results (analytics/cache.py) live in Redis too, in their own key space.
CACHES = {
    "default": {
        # Django's RedisCache with one client object per pool (core/redis_cache.py).
        "BACKEND": "core.redis_cache.SharedClientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": envstr("CACHE_KEY_PREFIX", "quizsite"),
        "TIMEOUT": 3600,
    }
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connection after every task by default, so each
# graded submission paid a new PostgreSQL connection (about 5 ms of backend CPU). Kept open,
# it is checked before each task as a web request's is (quizsite/celery.py), and closed after
# this many tasks or CONN_MAX_AGE.
CELERY_DB_REUSE_MAX = envint("CELERY_DB_REUSE_MAX", 200, minimum=0)
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = TIME_ZONE
# Every worker loads what operations need of it (heartbeat, request ids, task log lines).
CELERY_IMPORTS = ["quizsite.ops.worker_signals"]
CELERY_TASK_ROUTES = {"grader.tasks.grade_submission": {"queue": "grader"}}
CELERY_BEAT_SCHEDULE = {
    "attempts-submit-overdue": {
        "task": "assessments.tasks.attempts_submit_overdue",
        "schedule": envint("OVERDUE_SWEEP_SECONDS", 60, minimum=1),
    },
    "submissions-requeue-stuck": {
        "task": "grader.tasks.submissions_requeue_stuck",
        "schedule": envint("GRADER_SWEEP_SECONDS", 30, minimum=1),
    },
    "verdict-deliveries-resend": {
        "task": "grader.tasks.verdict_deliveries_resend",
        "schedule": envint("OUTBOX_SWEEP_SECONDS", 30, minimum=1),
    },
    "score-deliveries-resend": {
        "task": "assessments.tasks.score_deliveries_resend",
        "schedule": envint("OUTBOX_SWEEP_SECONDS", 30, minimum=1),
    },
    "webhooks-requeue-overdue": {
        "task": "lms.tasks.webhook_deliveries_requeue_overdue",
        "schedule": envint("WEBHOOK_SWEEP_SECONDS", 60, minimum=1),
    },
    "analytics-warm": {
        "task": "analytics.tasks.analytics_warm",
        "schedule": envint("ANALYTICS_WARM_SECONDS", 60, minimum=5),
    },
    "lti-passbacks-resend": {
        "task": "lti.tasks.passbacks_resend_due",
        "schedule": envint("LTI_PASSBACK_SWEEP_SECONDS", 60, minimum=5),
    },
    "lti-rosters-sync": {
        "task": "lti.tasks.rosters_sync_all",
        "schedule": envint("LTI_ROSTER_SYNC_SECONDS", 6 * 3600, minimum=60),
    },
    "lti-launch-states-purge": {
        "task": "lti.tasks.launch_states_purge",
        "schedule": envint("LTI_STATE_PURGE_SECONDS", 600, minimum=60),
    },
    "lti-deep-link-requests-purge": {
        "task": "lti.tasks.deep_link_requests_purge",
        "schedule": envint("LTI_STATE_PURGE_SECONDS", 600, minimum=60),
    },
}

# LTI 1.3 (lti/). Seconds a login's state waits for its launch; clock skew forgiven on
# exp/iat; the oldest id_token accepted; outgoing HTTP timeout; score passback retries
# (exponential backoff from the base, capped, at most LTI_PASSBACK_MAX_TRIES tries).
LTI_STATE_SECONDS = envint("LTI_STATE_SECONDS", 600, minimum=30)
# Login initiations (anonymous GETs that each store a state) one client address may start.
LTI_LOGINS_PER_MINUTE = envint("LTI_LOGINS_PER_MINUTE", 300, minimum=1)
LTI_CLOCK_SKEW_SECONDS = envint("LTI_CLOCK_SKEW_SECONDS", 60, minimum=0)
LTI_MAX_TOKEN_AGE = envint("LTI_MAX_TOKEN_AGE", 3600, minimum=60)
LTI_HTTP_TIMEOUT_SECONDS = envint("LTI_HTTP_TIMEOUT_SECONDS", 10, minimum=1)
LTI_PASSBACK_MAX_TRIES = envint("LTI_PASSBACK_MAX_TRIES", 12, minimum=1)
LTI_RETRY_BASE_SECONDS = envint("LTI_RETRY_BASE_SECONDS", 30, minimum=0)
LTI_RETRY_MAX_SECONDS = envint("LTI_RETRY_MAX_SECONDS", 1800, minimum=1)
# Our signing key from a PEM file (a mounted secret) instead of the database: read and
# checked here, so a missing or unusable file stops start-up rather than a launch.
LTI_PRIVATE_KEY_PEM = envfile("LTI_PRIVATE_KEY_FILE")
if LTI_PRIVATE_KEY_PEM:
    private_key_load(LTI_PRIVATE_KEY_PEM, source="LTI_PRIVATE_KEY_FILE")

# The grader. Learner code runs only under bubblewrap; GRADER_ALLOW_UNSANDBOXED is for
# development machines without it, and logs a loud warning on every start.
GRADER_ALLOW_UNSANDBOXED = envbool("GRADER_ALLOW_UNSANDBOXED", False)
GRADER_WALL_SECONDS = envint("GRADER_WALL_SECONDS", 10, minimum=1)
GRADER_CPU_SECONDS = envint("GRADER_CPU_SECONDS", 5, minimum=1)
GRADER_MEMORY_MB = envint("GRADER_MEMORY_MB", 1024, minimum=128)
GRADER_MAX_CODE_BYTES = envint("GRADER_MAX_CODE_BYTES", 20_000, minimum=100)
GRADER_SUBMISSIONS_PER_MINUTE = envint("GRADER_SUBMISSIONS_PER_MINUTE", 10, minimum=1)
GRADER_STUCK_AFTER_SECONDS = envint("GRADER_STUCK_AFTER_SECONDS", 120, minimum=10)
GRADER_MAX_CLAIMS = envint("GRADER_MAX_CLAIMS", 3, minimum=1)
# What follows a result (core/outbox.py: a verdict's consumers, a score's): a
# consumer's failed try waits between half and all of base * 2**(tries-1) seconds, at most
# OUTBOX_RETRY_MAX_SECONDS; the try after OUTBOX_MAX_TRIES gives up (a practice step then
# asks for the code again).
OUTBOX_MAX_TRIES = envint("OUTBOX_MAX_TRIES", 8, minimum=1)
OUTBOX_RETRY_BASE_SECONDS = envint("OUTBOX_RETRY_BASE_SECONDS", 2, minimum=0)
OUTBOX_RETRY_MAX_SECONDS = envint("OUTBOX_RETRY_MAX_SECONDS", 300, minimum=1)

# LMS API clients: requests per client (DRF rate: N/second|minute|hour|day).
LMS_API_RATE = envstr("LMS_API_RATE", "1200/minute")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", LMS_API_RATE):
    raise ImproperlyConfigured(f"LMS_API_RATE must look like 1200/minute, not {LMS_API_RATE!r}")

# Grade webhooks (lms/webhooks.py). Targets must be https on public addresses; loopback
# (and plain http to it) only when WEBHOOK_ALLOW_LOOPBACK is on (the default with DEBUG);
# private networks only when listed in WEBHOOK_ALLOWED_NETWORKS (CIDRs, e.g. 10.2.0.0/16).
WEBHOOK_ALLOW_LOOPBACK = envbool("WEBHOOK_ALLOW_LOOPBACK", DEBUG)
WEBHOOK_ALLOWED_NETWORKS = envlist("WEBHOOK_ALLOWED_NETWORKS", [])
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network)
    except ValueError:
        raise ImproperlyConfigured(
            f"WEBHOOK_ALLOWED_NETWORKS: {_network!r} is not a network like 10.2.0.0/16"
        ) from None
WEBHOOK_MAX_TRIES = envint("WEBHOOK_MAX_TRIES", 8, minimum=1)
# Try n waits between half and all of base * 2**(n-1), at most WEBHOOK_BACKOFF_MAX_SECONDS.
WEBHOOK_BACKOFF_BASE_MS = envint("WEBHOOK_BACKOFF_BASE_MS", 10_000, minimum=1)
WEBHOOK_BACKOFF_MAX_SECONDS = envint("WEBHOOK_BACKOFF_MAX_SECONDS", 1800, minimum=1)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = envint("WEBHOOK_CONNECT_TIMEOUT_SECONDS", 3, minimum=1)
WEBHOOK_READ_TIMEOUT_SECONDS = envint("WEBHOOK_READ_TIMEOUT_SECONDS", 10, minimum=1)
# CA certificates (PEM file) that webhook targets' TLS certificates must chain to; empty: certifi's.
WEBHOOK_CA_BUNDLE = envstr("WEBHOOK_CA_BUNDLE", "")

# Seconds of network latency forgiven on an answer that arrives just after the deadline.
ATTEMPT_GRACE_SECONDS = envint("ATTEMPT_GRACE_SECONDS", 5, minimum=0)

# Guided practice: P(known) by Bayesian Knowledge Tracing at which a misconception is settled.
PRACTICE_MASTERY_THRESHOLD = envfloat(
    "PRACTICE_MASTERY_THRESHOLD", 0.95, minimum=0.5, maximum=0.999
)

# Operations (README, "Operations"). /metrics answers a scraper that sends
# "Authorization: Bearer <METRICS_TOKEN>"; without a token it is open in development and a 404
# in production.
METRICS_TOKEN = envstr("METRICS_TOKEN", "")
# Logs: one JSON line per request and per task in production (python-json-logger), plain text
# in development; every line carries the request id (quizsite/ops/request_ids.py).
LOG_FORMAT = envstr("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
# Celery's workers then log through the handlers below, in the same format, not their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT == "text"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "quizsite.ops.request_ids.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING" if not DEBUG else "INFO"},
        # Failed logins and lockouts are warnings; every successful login is not news.
        "axes": {"level": "WARNING"},
        # A line per request and per task in production; development has runserver's and
        # Celery's own.
        "quizsite.requests": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
        "quizsite.tasks": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}
