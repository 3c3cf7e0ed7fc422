# The two commands of the README: `make demo` and `make test`. Each builds .venv when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean chromium

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sdehub demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser tests drive the system Chromium (Playwright downloads none): install it when it
# is missing and the machine lets us (Debian's package), else say what to do.
CHROMIUM_FOUND = test -n "$$SDEHUB_CHROMIUM" || command -v chromium >/dev/null \
	  || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null
chromium:
	@$(CHROMIUM_FOUND) || { command -v apt-get >/dev/null \
	  && { [ "$$(id -u)" = 0 ] && apt-get install -y -q chromium >/dev/null \
	       || sudo -n apt-get install -y -q chromium >/dev/null; } ; } 2>/dev/null || true
	@$(CHROMIUM_FOUND) || { echo "make test needs Chromium for the browser tests: apt-get install" \
	  "chromium (or set SDEHUB_CHROMIUM to a Chromium or Chrome binary)"; exit 1; }

unit: $(STAMP) chromium
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/connector.py
	$(BIN)/python bench/conversation_writer.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/report_writer.py
	$(BIN)/python bench/push.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/export.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
