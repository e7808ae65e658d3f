"""Start the development stack: a private Redis, a Celery worker and the web server.

`python -m quizsite.devstack run` starts every component the service needs and stops
all of them on Ctrl-C. `python -m quizsite.devstack exec -- CMD ...` runs CMD with a
private Redis when REDIS_URL is unset (used by `make test` on a fresh machine). Both run
their commands in development (DEBUG=true unless DEBUG is set), the service's default
being production.
This module imports no Django: it only starts processes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
DEV_REDIS_PORT = 6399


def development_env(**extra: str) -> dict[str, str]:
    """Return this process's environment in development: DEBUG on unless the caller set it.

    The service defaults to production (DEBUG off); the dev stack and the tests say so.
    """
    from quizsite.celery import SETTINGS_DEFAULTED

    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true"), **extra}
    if SETTINGS_DEFAULTED and "DJANGO_SETTINGS_MODULE" not in extra:
        env.pop("DJANGO_SETTINGS_MODULE", None)  # set by importing this package, not chosen
    return env


def _redis_server_binary() -> str:
    """Return the path of a redis-server: the one in our venv first, else the system's."""
    venv_binary = Path(sys.executable).parent / "redis-server"
    if venv_binary.exists():
        return str(venv_binary)
    found = shutil.which("redis-server")
    if found is None:
        raise SystemExit(
            "No redis-server found: run `make install` (it installs one) or set REDIS_URL."
        )
    return found


def _port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def private_redis(port: int) -> Iterator[str]:
    """Run a throw-away Redis on loopback for the duration of the block; yield its URL."""
    data_dir = VAR_DIR / f"redis-{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            _redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(data_dir),
            "--protected-mode", "yes",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not _port_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"Redis did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)  # nothing is saved there; leave no trace


@contextmanager
def redis_url_for_run(port: int) -> Iterator[str]:
    """Yield REDIS_URL when set; otherwise start a private Redis and yield its URL."""
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
    elif _port_answers(port):
        # A Redis we started earlier (or the developer's own) already answers there.
        yield f"redis://127.0.0.1:{port}/0"
    else:
        with private_redis(port) as url:
            yield url


def _stop_all(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def wait_ready(base_url: str, processes: Sequence[subprocess.Popen[bytes]], seconds: float) -> bool:
    """Poll base_url's /readyz until it answers 200; False on timeout or a process's exit."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            return False
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or 503 while the worker starts
        time.sleep(0.5)
    return False


def run_stack(host: str, port: int) -> int:
    """Start Redis, a Celery worker with beat, and Django's server; stop all on Ctrl-C."""
    # Handle SIGINT and SIGTERM explicitly: a shell that starts us in the background
    # leaves SIGINT ignored, and a supervisor stops us with SIGTERM.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    python = sys.executable
    with redis_url_for_run(DEV_REDIS_PORT) as redis_url:
        env = development_env(REDIS_URL=redis_url)
        worker = subprocess.Popen(
            [python, "-m", "celery", "-A", "quizsite", "worker", "--beat",
             "--queues", "default,grader", "--concurrency", "2", "--loglevel", "INFO",
             "--schedule", str(VAR_DIR / "celerybeat-schedule")],
            env=env,
        )  # fmt: skip
        web = subprocess.Popen(
            [python, str(BASE_DIR / "manage.py"), "runserver", f"{host}:{port}"], env=env
        )
        processes = [web, worker]
        if not wait_ready(f"http://{host}:{port}", processes, seconds=90):
            print(f"  Not ready after 90 s: see http://{host}:{port}/readyz", flush=True)
        print(f"\n  Quiz service: http://{host}:{port}/   (admin: http://{host}:{port}/admin/)")
        print(f"  Redis: {redis_url}   Celery worker: pid {worker.pid}")
        print("  Demo accounts (password: dropout-demo):")
        print("    instructor: teacher      learners: ada, grace, alan")
        print(f"  Instructor pages: http://{host}:{port}/instructor/ (a simulated class of 30)")
        print(f"  Guided practice: http://{host}:{port}/practice/ (learners: the demo course)")
        print("  Ctrl-C stops everything.\n", flush=True)
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\n  Stopping the web server, the Celery worker and Redis…", flush=True)
        finally:
            _stop_all(processes)
    return 0


def exec_with_redis(command: Sequence[str]) -> int:
    """Run `command` with REDIS_URL set, starting a private Redis when it is not."""
    if os.environ.get("REDIS_URL"):
        return subprocess.call(list(command), env=development_env())
    with private_redis(_free_port()) as redis_url:
        return subprocess.call(list(command), env=development_env(REDIS_URL=redis_url))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen mode."""
    parser = argparse.ArgumentParser(prog="python -m quizsite.devstack")
    modes = parser.add_subparsers(dest="mode", required=True)
    run = modes.add_parser("run", help="start the whole development stack")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument(
        "--production",
        action="store_true",
        help="the production profile: gunicorn, DEBUG off, grader and default workers, beat",
    )
    execute = modes.add_parser("exec", help="run a command with a Redis available")
    execute.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.mode == "run" and args.production:
        from quizsite.production_stack import run_production

        return run_production(args.host, args.port)
    if args.mode == "run":
        return run_stack(args.host, args.port)
    command = [part for part in args.command if part != "--"]
    if not command:
        parser.error("exec needs a command")
    return exec_with_redis(command)


if __name__ == "__main__":
    raise SystemExit(main())
