# Two commands for a newcomer: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-sqlite test-postgres venv system-deps demo bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the browser tests and Pango for PDF reports; installed when we are root.
system-deps:
	@bash scripts/system-deps.sh

run: venv system-deps
	$(BIN)/anagen migrate --noinput
	$(BIN)/anagen demo --if-empty
	$(BIN)/anagen runserver --noreload 127.0.0.1:$(PORT)

test: venv system-deps
	@bash scripts/test.sh

demo: venv
	$(BIN)/anagen migrate --noinput
	$(BIN)/anagen demo --if-empty

bench: venv
	$(BIN)/python benchmarks/web_latency.py

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
