# Schakel: the two commands a new user needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KAFKA := deploy/local/kafka.sh
export SCHAKEL_CONFIG ?= config/schakel.yaml

.PHONY: help install kafka-up kafka-down kafka-status lint typecheck schemas test test-fast demo bench bench-chain clean

help:
	@echo "make demo    - start Kafka and the whole hub with demo supplier traffic"
	@echo "make test    - lint, type-check and run the whole test suite (starts its own Kafka)"
	@echo "make bench   - benchmark passthrough vs normaliser on the local broker"
	@echo "make bench-chain - supplier to FB receiver through the whole hub (own broker)"
	@echo "make kafka-up / kafka-down / kafka-status"

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

kafka-up:
	@$(KAFKA) up

kafka-down:
	@$(KAFKA) down

kafka-status:
	@$(KAFKA) status

lint: install
	$(VENV)/bin/ruff check schemas connectors services tests bench
	$(VENV)/bin/ruff format --check schemas connectors services tests bench

typecheck: install
	$(VENV)/bin/mypy

schemas: install
	$(PY) -m schemas.jsonschema

# The suite starts its own broker (port 19092, .kafka-test-data) unless
# SCHAKEL_KAFKA_BOOTSTRAP names one that answers.
test: lint typecheck
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not kafka"

demo: install kafka-up
	$(VENV)/bin/schakel demo

bench: install kafka-up
	$(PY) -m bench.run

# supplier -> normaliser -> router -> delivery -> FB receivers, on a broker of its own
bench-chain: install
	$(PY) -m bench.chain

clean:
	rm -rf .kafka-test-data .pytest_cache .mypy_cache .ruff_cache
