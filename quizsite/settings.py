"""Django settings, read from the environment (see .env.example for every variable)."""

from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from quizsite.env import envbool, envint, envlist, envstr

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
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
    "analytics-warm": {
        "task": "analytics.tasks.analytics_warm",
        "schedule": envint("ANALYTICS_WARM_SECONDS", 60, minimum=5),
    },
}

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

# Seconds of network latency forgiven on an answer that arrives just after the deadline.
ATTEMPT_GRACE_SECONDS = envint("ATTEMPT_GRACE_SECONDS", 5, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING" if not DEBUG else "INFO"}},
}
