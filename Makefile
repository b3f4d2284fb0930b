# Two commands for a newcomer: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-sqlite test-postgres venv system-deps demo bench clean

PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-warn-script-location

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV): Python libraries for Anagen (the first time takes a few minutes)..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) --upgrade pip
	@$(PIP) -e '.[dev]'
	@touch $(STAMP)
	@echo "Libraries installed."

venv: $(STAMP)

# Debian's Chromium for the browser tests and Pango for PDF reports; installed when we are root.
system-deps:
	@bash scripts/system-deps.sh

run: venv system-deps
	$(BIN)/anagen migrate --noinput -v 0
	$(BIN)/anagen demo --if-empty
	$(BIN)/anagen serve --port $(PORT)

test: venv system-deps
	@bash scripts/test.sh

demo: venv
	$(BIN)/anagen migrate --noinput -v 0
	$(BIN)/anagen demo --if-empty

bench: venv
	$(BIN)/python benchmarks/web_latency.py

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
