"""The production profile on one machine: `python -m quizsite.devstack run --production`.

What a deployment runs, started together: gunicorn with DEBUG off and static files collected
and compressed (whitenoise), a Celery worker for the `grader` queue, one for `default`, and
one beat. Secrets are generated once into var/production-secrets.json (a deployment passes
its own in the environment); the database is DATABASE_URL's, else var/production.sqlite3,
never development's. Like quizsite.devstack, this module imports no Django: it starts
processes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from quizsite.devstack import (
    BASE_DIR,
    DEV_REDIS_PORT,
    VAR_DIR,
    _interrupt,
    _stop_all,
    redis_url_for_run,
    wait_ready,
)

SECRETS_FILE = VAR_DIR / "production-secrets.json"
# Emptied at each start: prometheus_client's multiprocess files of processes gone by.
METRICS_DIR = VAR_DIR / "prometheus"
WEB_WORKERS = 2


def production_secrets(path: Path = SECRETS_FILE) -> dict[str, str]:
    """Return the profile's SECRET_KEY and METRICS_TOKEN, generating them the first time."""
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    generated = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(generated, file)
    return generated


def production_env(*, host: str, redis_url: str) -> dict[str, str]:
    """Return the environment every process of the profile runs with."""
    env = {
        **os.environ,
        **{name: value for name, value in production_secrets().items() if name not in os.environ},
        "DJANGO_SETTINGS_MODULE": "quizsite.settings",
        "DEBUG": "false",
        "REDIS_URL": redis_url,
    }
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(METRICS_DIR))
    env.setdefault("DATABASE_URL", f"sqlite:///{VAR_DIR / 'production.sqlite3'}")
    env.setdefault("ALLOWED_HOSTS", ",".join(dict.fromkeys([host, "localhost", "127.0.0.1"])))
    return env


def production_prepare(env: dict[str, str]) -> None:
    """Migrate, collect and compress static files, and refuse to start unless the deploy
    check is clean."""
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    for command in (
        ["migrate", "--no-input"],
        ["collectstatic", "--no-input", "--verbosity", "0"],
        ["check", "--deploy", "--fail-level", "WARNING"],
    ):
        subprocess.run([*manage, *command], env=env, check=True)  # noqa: S603 - our own commands
    metrics_dir = Path(env["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)


def production_commands(*, host: str, port: int) -> dict[str, list[str]]:
    """Return the command line of each long-running process, by name."""
    celery = [sys.executable, "-m", "celery", "-A", "quizsite"]
    return {
        "web": [sys.executable, "-m", "gunicorn", "quizsite.wsgi:application",
                "--bind", f"{host}:{port}", "--workers", str(WEB_WORKERS)],
        # One submission at a time per process (each has its own sandbox); add processes
        # or grader hosts for more (README, "Deployment").
        "grader": [*celery, "worker", "--queues", "grader", "--hostname", "grader@%h",
                   "--concurrency", "2", "--pool", "prefork", "--loglevel", "INFO"],
        "default": [*celery, "worker", "--queues", "default", "--hostname", "default@%h",
                    "--concurrency", "2", "--pool", "prefork", "--loglevel", "INFO"],
        "beat": [*celery, "beat", "--loglevel", "INFO",
                 "--schedule", str(VAR_DIR / "celerybeat-production")],
    }  # fmt: skip


def run_production(host: str, port: int) -> int:
    """Prepare, start every process, wait for /readyz, and stop all on Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    with redis_url_for_run(DEV_REDIS_PORT) as redis_url:
        env = production_env(host=host, redis_url=redis_url)
        production_prepare(env)
        processes = [
            subprocess.Popen(command, env=env, cwd=BASE_DIR)  # noqa: S603 - our own commands
            for command in production_commands(host=host, port=port).values()
        ]
        try:
            if not wait_ready(f"http://{host}:{port}", processes, seconds=120):
                print("  The production profile did not become ready.", flush=True)
                return 1
            print(f"\n  Production profile ready: http://{host}:{port}/  (DEBUG off)", flush=True)
            print(f"  Metrics: Bearer token in {SECRETS_FILE.relative_to(BASE_DIR)}", flush=True)
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            return 1  # a process ended by itself
        except KeyboardInterrupt:
            return 0
        finally:
            _stop_all(processes)
