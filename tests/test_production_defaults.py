"""Production is the default: DEBUG off, no published key, HTTPS, and a clean deploy check.

Settings are read once per process, so these run `manage.py` and Python in subprocesses
with the environment an operator would give, never this test run's development one.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from quizsite import devstack

ROOT = Path(settings.BASE_DIR)
DEV_KEY = "dev-only-insecure-secret-key-change-me-in-production-0123456789"
# Variables this development run sets that an operator's environment would not have.
DEVELOPMENT_ONLY = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "SECURE_COOKIES"}


def production_env(**variables: str) -> dict[str, str]:
    """The environment of a production start: DEBUG unset, what is required set."""
    env = {k: v for k, v in os.environ.items() if k not in DEVELOPMENT_ONLY}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "quizsite.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "quiz.example.edu",
            # Any database will do: nothing here connects to it.
            "DATABASE_URL": "sqlite:////nonexistent/h13-never-opened.sqlite3",
        }
    )
    env.update(variables)
    return {k: v for k, v in env.items() if v != "<unset>"}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: str(getattr(s, name, None)) for name in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE",
    "EMAIL_BACKEND", "TRUSTED_PROXY_COUNT", "WEBHOOK_ALLOW_LOOPBACK")}))
"""


def test_debug_is_off_unless_development_turns_it_on():
    # when: the settings are read with no DEBUG in the environment
    done = run([sys.executable, "-c", SETTINGS_PROBE], production_env())
    # then: production
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] == "False"
    assert values["SECURE_SSL_REDIRECT"] == "True"
    assert values["SECURE_HSTS_SECONDS"] == str(365 * 24 * 3600)
    assert values["SECURE_PROXY_SSL_HEADER"] == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert values["SESSION_COOKIE_SECURE"] == "True"
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["WEBHOOK_ALLOW_LOOPBACK"] == "False"
    # and development is what DEBUG=true asks for
    dev = run(
        [sys.executable, "-c", SETTINGS_PROBE],
        production_env(DEBUG="true", SECRET_KEY="<unset>"),
    )
    assert dev.returncode == 0, dev.stderr
    dev_values = json.loads(dev.stdout.strip().splitlines()[-1])
    assert dev_values["DEBUG"] == "True"
    assert dev_values["SECURE_SSL_REDIRECT"] == "False"
    assert dev_values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize(
    ("secret_key", "message"),
    [
        pytest.param(DEV_KEY, "SECRET_KEY is the published development key", id="dev key"),
        pytest.param("<unset>", "SECRET_KEY must be set when DEBUG is off", id="no key"),
    ],
)
@pytest.mark.parametrize(
    "start",
    [
        pytest.param(["manage.py", "check"], id="manage.py"),
        pytest.param(["-c", "import quizsite.wsgi"], id="wsgi (gunicorn)"),
        pytest.param(["-c", "import quizsite.celery, django; django.setup()"], id="celery"),
    ],
)
def test_the_service_refuses_to_start_with_debug_off_and_no_key_of_its_own(
    start, secret_key, message
):
    done = run([sys.executable, *start], production_env(SECRET_KEY=secret_key))
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert message in done.stderr


def test_check_deploy_is_clean_under_the_production_settings():
    # given: the production defaults and what an operator must give (key, host names)
    env = production_env()
    # when
    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    # then: not one warning
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNINGS" not in done.stdout + done.stderr


def test_check_deploy_still_warns_when_a_production_default_is_turned_off():
    # The check is live, not silenced: switching HSTS off is reported.
    done = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(SECURE_HSTS_SECONDS="0"),
    )
    assert done.returncode != 0
    assert "security.W004" in done.stdout + done.stderr


def test_demo_accounts_are_refused_by_the_real_command_in_production():
    done = run([sys.executable, "manage.py", "load_catalog", "--demo-class"], production_env())
    assert done.returncode != 0
    assert "only in development (DEBUG=true)" in done.stderr


def test_make_run_make_test_and_this_run_are_development():
    # This test run (pytest's settings module, quizsite.development) and its children
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "quizsite.development"
    assert os.environ["DEBUG"] == "true"
    # `make run` / `make test` (quizsite.devstack): DEBUG=true unless the caller chose
    saved = os.environ.pop("DEBUG")
    try:
        assert devstack.development_env()["DEBUG"] == "true"
        os.environ["DEBUG"] = "false"
        assert devstack.development_env()["DEBUG"] == "false"
    finally:
        os.environ["DEBUG"] = saved
    makefile = (ROOT / "Makefile").read_text()
    assert "export DEBUG ?= true" in makefile
