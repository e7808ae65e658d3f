"""Django settings, read from the environment (see .env.example for every variable)."""

import ipaddress
import re
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from quizsite.env import envbool, envfloat, envint, envlist, envstr

# Lets `admin.ModelAdmin[Model]` and similar generic annotations work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = envbool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"  # noqa: S105
SECRET_KEY = envstr("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
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
    "courses",
    "assessments",
    "grader",
    "analytics",
    "lms",
    "lti",
    "practice",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions, CSRF and XFrameOptions, so that it sees the response after them: LTI
    # sessions may be framed by the LMS that launched them, with partitioned cookies.
    "lti.middleware.LtiEmbeddingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Inside an LMS's iframe our cookies are third-party: over HTTPS they must be SameSite=None
# (with Secure) to be sent at all. Without HTTPS (development) browsers refuse None, so Lax.
SESSION_COOKIE_SAMESITE = "None" if SESSION_COOKIE_SECURE else "Lax"
CSRF_COOKIE_SAMESITE = SESSION_COOKIE_SAMESITE

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Every client sends JSON; a form body cannot say "a list" or "null", so it is a 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "assessments.api.errors.exception_handler",
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
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
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
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = TIME_ZONE
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
}

# LTI 1.3 (lti/). Seconds a login's state waits for its launch; clock skew forgiven on
# exp/iat; the oldest id_token accepted; outgoing HTTP timeout; score passback retries
# (exponential backoff from the base, capped, at most LTI_PASSBACK_MAX_TRIES tries).
LTI_STATE_SECONDS = envint("LTI_STATE_SECONDS", 600, minimum=30)
LTI_CLOCK_SKEW_SECONDS = envint("LTI_CLOCK_SKEW_SECONDS", 60, minimum=0)
LTI_MAX_TOKEN_AGE = envint("LTI_MAX_TOKEN_AGE", 3600, minimum=60)
LTI_HTTP_TIMEOUT_SECONDS = envint("LTI_HTTP_TIMEOUT_SECONDS", 10, minimum=1)
LTI_PASSBACK_MAX_TRIES = envint("LTI_PASSBACK_MAX_TRIES", 12, minimum=1)
LTI_RETRY_BASE_SECONDS = envint("LTI_RETRY_BASE_SECONDS", 30, minimum=0)
LTI_RETRY_MAX_SECONDS = envint("LTI_RETRY_MAX_SECONDS", 1800, minimum=1)

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING" if not DEBUG else "INFO"}},
}
