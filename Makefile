# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast fuzz bench lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[data,plot]"
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/soma demo

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -n 2

test-fast: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -n 2 -m "not slow"

fuzz: $(VENV)/.dev-installed  # the differential fuzz suites against PyTorch, each with its tally line
	$(BIN)/python -m pytest tests/fuzz -s -q

bench: $(VENV)/.dev-installed
	$(BIN)/python -m benchmarks

# the documentation site in site/ (strict: a warning or a failing code block fails the build)
docs: $(VENV)/.dev-installed
	$(BIN)/mkdocs build --strict

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests benchmarks examples docs
	$(BIN)/mypy  # nn, optim, utils/data, train: the files and options are in pyproject.toml [tool.mypy]

clean:
	rm -rf $(VENV) build dist site src/*.egg-info .pytest_cache
