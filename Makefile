# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install migrate demo bench bench-batch profile lint clean stack drills tls-cert

$(STAMP): requirements.txt requirements-dev.txt client/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Modelyard needs Python 3.11+") if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	@echo "Starting web, worker and beat; console at http://127.0.0.1:8000/console/ (Ctrl-C stops all three)"
	$(VENV)/bin/honcho start -f Procfile

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	MODELYARD_ENV=test $(PY) -m pytest $(PYTEST_ARGS)

# Serving (both worker classes against the bare-Django floor), then batch jobs against the plain script.
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/batch.py $(BATCH_BENCH_ARGS)

# An alias under a 50/50 canary against the plain alias, same server and model file (bench/README.md).
bench-rollout: install
	$(PY) bench/rollout.py $(ROLLOUT_BENCH_ARGS)

# Where a 1-row predict request's server CPU goes, Modelyard against the floor (docs/performance.md).
profile: install
	$(PY) bench/cpu_profile.py $(PROFILE_ARGS)

# Batch jobs against the plain pyarrow -> onnxruntime -> pyarrow script (bench/README.md, docs/batch.md).
bench-batch: install
	$(PY) bench/batch.py $(BATCH_BENCH_ARGS)

# What the request id and the opt-in access log cost a 1-row prediction (docs/deployment.md, "Logs").
bench-logging: install
	$(PY) bench/logging_cost.py $(LOGGING_BENCH_ARGS)

# The production topology on this machine (docs/deployment.md): nginx with TLS in front of two gunicorn web
# processes, two Celery workers and one beat, artifacts on moto's S3 server, encrypted. Ctrl-C stops it all.
# Uses DATABASE_URL/REDIS_URL (default: the machine's); STACK_ARGS=--own-servers runs private ones.
stack: install
	$(PY) platform/stack/run.py $(STACK_ARGS)

# Faults caused on purpose on that topology, with traffic running; each drill prints what it counted.
drills: install
	$(PY) platform/stack/drills.py $(DRILLS_ARGS)

# A self-signed certificate for docker-compose's nginx, in platform/tls/ (put a real one there in production).
tls-cert: install
	$(PY) platform/stack/run.py cert platform/tls

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf data/test
