# Two commands do everything on a fresh machine (see README.md):
#   make run    set up, then start the server on http://127.0.0.1:8000
#   make test   set up (with the Debian packages the tests need), then run every test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBIAN_PACKAGES := bubblewrap libseccomp2 chromium chromium-driver fonts-dejavu-core postgresql haproxy

.PHONY: setup run test lint system-packages frontend bench clean

setup: $(VENV)/.installed static/build/.built

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

static/build/.built: package.json package-lock.json scripts/build_frontend.mjs $(wildcard static/src/*.js) $(wildcard static/src/*.json)
	npm ci --no-audit --no-fund
	node scripts/build_frontend.mjs
	touch $@

system-packages:
	@if ! command -v bwrap >/dev/null || ! command -v chromium >/dev/null \
	    || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v haproxy >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(DEBIAN_PACKAGES); \
	fi

run: setup
	$(PY) -m app

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: system-packages setup lint
	$(PY) -m pytest -q
	bash scripts/test_sandbox_unprivileged.sh

bench: setup
	$(PY) bench/bench_slider.py
	$(PY) bench/bench_sandbox.py
	$(PY) bench/bench_paint.py
	$(PY) bench/bench_page.py
	$(PY) bench/bench_cluster.py

# Refresh the README's screenshots (docs/screenshot-*.png) from a real server and Chromium.
.PHONY: screenshots
screenshots: setup
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) node_modules static/build
