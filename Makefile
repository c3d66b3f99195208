# Developer shortcuts. Every target creates .venv from the project's own files.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-slow lint bench docs-check clean

$(VENV)/.core: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.core

demo: $(VENV)/.core          ## offline end-to-end demo (no download)
	$(VENV)/bin/gaussaudit demo

test: $(VENV)/.dev           ## default test suite (< 15 min on 2 cores)
	$(PY) -m pytest

test-slow: $(VENV)/.dev      ## calibration and power studies
	$(PY) -m pytest -m slow

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

bench: $(VENV)/.dev          ## ratio benchmarks against baselines in the same run
	$(PY) benchmarks/bench_battery.py

clean:
	rm -rf $(VENV) build *.egg-info gaussaudit-demo
