# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format pytest bench migrate fixtures clean

install: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

migrate: install
	$(PY) manage.py migrate --no-input

fixtures: migrate
	$(PY) manage.py load_catalog --demo-class

run: fixtures
	$(PY) -m quizsite.devstack run --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

pytest: install
	@command -v chromium >/dev/null || echo "NOTE: Chromium is not installed, so the browser test will be SKIPPED (apt-get install chromium)."
	$(PY) -m quizsite.devstack exec -- $(PY) -m pytest $(PYTEST_ARGS)

test: lint pytest

bench: install
	$(PY) -m quizsite.devstack exec -- $(PY) tests/benchmarks/quiz_answering.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .mypy_cache .ruff_cache .pytest_cache
