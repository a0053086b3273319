# policy-kb: two commands do all the set-up on a fresh machine.
#   make serve   install, build kb.db if missing or stale, serve it at http://127.0.0.1:8001/
#   make test    install (with test extras and the browser), lint, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8001

.PHONY: serve test install install-test browser build evaluate bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# pip runs only when pyproject.toml is newer than the stamp of the last install (the package is
# installed editable: code, templates and data need no reinstall). `make clean` or
# `rm .venv/.installed*` forces one.
INSTALLED      := $(VENV)/.installed
INSTALLED_TEST := $(VENV)/.installed-test

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# the test extras include the package itself: both stamps are fresh afterwards
$(INSTALLED_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(INSTALLED)

install: $(INSTALLED)

install-test: $(INSTALLED_TEST)

# Debian's Chromium and CJK fonts for the real-browser test (never `playwright install`).
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: present"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; \
	else echo "warning: no /usr/bin/chromium and cannot apt-get install it; the browser test will be skipped"; fi

serve: install
	$(BIN)/policykb serve --host $(HOST) --port $(PORT)

test: install-test browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -n auto --dist loadscope

build: install
	$(BIN)/policykb build

evaluate: install
	$(BIN)/policykb evaluate --gold tests/gold

# Regenerate the generated parts of the docs (docs/cli.md: every command's --help).
docs: install-test
	$(BIN)/cog -r docs/cli.md

bench: install
	$(BIN)/python bench/bench_extract.py

clean:
	rm -rf $(VENV) .pytest_cache
