# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Development installs the dev lock (production's pins plus the tools); a production install
# takes requirements.lock alone: pip install --require-hashes -r requirements.lock
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-dev.lock | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
# pytest-xdist processes for `make pytest` (each on its own Redis database and test
# database, quizsite/development.py); tests marked xdist_group stay in one process. 0: no xdist.
PYTEST_WORKERS ?= 2
PORT ?= 8000
# Every target here is development's (run, test, bench, the demo fixtures): DEBUG on unless
# the caller set it. The service itself defaults to production (DEBUG off).
export DEBUG ?= true

.PHONY: install sandbox-deps editor-bundle editor-bundle-check run run-prod smoke-production test lint format pytest bench bench-capacity profile-answer bench-practice profile-practice bench-grader bench-analytics chaos migrate fixtures clean

install: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	rm -f $(VENV)/.installed-*
	touch $@

# The grader runs learner code only under bubblewrap with a seccomp filter (libseccomp).
# On Debian/Ubuntu this installs them; elsewhere it says what is missing.
sandbox-deps:
	@if command -v bwrap >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q libseccomp.so.2; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing bubblewrap and libseccomp2 for the grader's sandbox"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap libseccomp2 >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap libseccomp2 >/dev/null; }; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
		echo "Installing bubblewrap and libseccomp2 for the grader's sandbox (sudo)"; \
		sudo apt-get install -y -qq bubblewrap libseccomp2; \
	else \
		echo "WARNING: bubblewrap (bwrap) or libseccomp is missing: the grader will refuse to grade code until it is installed."; \
	fi

# The code editor (CodeMirror 6) bundle and the browser tests' axe-core, from frontend/'s
# package-lock.json. Both outputs are committed, so `make run` and `make test` need no node;
# this needs node and npm, and is run after changing frontend/ (a test says when it is due).
editor-bundle:
	cd frontend && npm ci --no-audit --no-fund && node build.mjs

# Rebuild and fail if the committed outputs differ from what the lock builds.
editor-bundle-check: editor-bundle
	git diff --exit-code -- grader/static/grader/code_editor.min.js tests/browser/vendor/axe.min.js

migrate: install
	$(PY) manage.py migrate --no-input

# The demo: the catalogue, the demo accounts, and a simulated class of 30 taught by
# `teacher` (instructor pages at /instructor/); reruns add nothing.
fixtures: migrate
	$(PY) manage.py load_catalog --demo-class
	$(PY) manage.py simulate_class --course dropout-demo --learners 30 --seed 1 --instructor teacher --enroll ada,grace,alan

run: sandbox-deps fixtures
	$(PY) -m quizsite.devstack run --host $(HOST) --port $(PORT)

# The production profile on this machine (README, "Deployment"): gunicorn with DEBUG off and
# compressed static files, a grader worker, a default worker and beat; secrets generated into
# var/production-secrets.json, its own database (var/production.sqlite3 or DATABASE_URL).
run-prod: install sandbox-deps
	DEBUG=false $(PY) -m quizsite.devstack run --production --host $(HOST) --port $(PORT)

# The production profile started on a free port, a learner's path through it, then /metrics
# scraped (tests/smoke_production.py); a private Redis unless REDIS_URL is set. CI runs it.
smoke-production: install sandbox-deps
	DEBUG=false $(PY) -m quizsite.devstack exec -- $(PY) tests/smoke_production.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

pytest: install sandbox-deps
	@command -v chromium >/dev/null || echo "NOTE: Chromium is not installed, so the browser test will be SKIPPED (apt-get install chromium)."
	$(PY) -m quizsite.devstack exec -- $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

test: lint pytest

bench: install
	$(PY) -m quizsite.devstack exec -- $(PY) tests/benchmarks/quiz_answering.py $(BENCH_ARGS)

# The most learners `make bench` serves at answer p95 <= 50 ms and submit p95 <= 100 ms: one
# run per count of CAPACITY_STEPS, stopping at the first count not served.
CAPACITY_STEPS ?= 200,250,300,350,400
bench-capacity: install
	$(PY) -m quizsite.devstack exec -- $(PY) tests/benchmarks/quiz_answering.py --capacity $(CAPACITY_STEPS) $(BENCH_ARGS)

# Where an autosave's (or a question page's, or a submit's) CPU goes: cProfile in process.
profile-answer: install
	$(PY) -m quizsite.devstack exec -- $(PY) tests/benchmarks/answer_profile.py $(BENCH_ARGS)

# Guided practice: 50 learners practising at once over HTTP against gunicorn (DEBUG off); its
# own database, quiz_bench_practice, on DATABASE_URL's PostgreSQL (else SQLite).
bench-practice: install
	$(PY) -m quizsite.devstack exec -- $(PY) tests/benchmarks/practice.py $(BENCH_ARGS)

profile-practice: install
	$(PY) -m quizsite.devstack exec -- $(PY) tests/benchmarks/practice_profile.py $(BENCH_ARGS)

bench-grader: install sandbox-deps
	$(PY) -m quizsite.devstack exec -- $(PY) tests/benchmarks/grading.py $(BENCH_ARGS)

# Item statistics and the misconception heatmap on a generated class (default 10,000
# learners x 40 questions); BENCH_ARGS="--learners 2000 --questions 60" changes the size.
bench-analytics: install
	$(PY) -m quizsite.devstack exec -- $(PY) tests/benchmarks/analytics.py $(BENCH_ARGS)

# Faults injected, figures reported (README, "make chaos"): PostgreSQL, a Redis of its own,
# gunicorn, two Celery workers and beat, while workers are killed, Redis restarts, worker
# connections are terminated and the LMS fails; exit 1 if anything was lost, stuck or
# duplicated. It makes its own database, quiz_chaos, on DATABASE_URL's server (default: the
# local one); about 12 minutes. BENCH_ARGS="--seed 7 --kills 20" and more: see --help.
chaos: install sandbox-deps
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" $(PY) tests/benchmarks/chaos.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
