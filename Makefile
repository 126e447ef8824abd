# Two commands for a fresh clone with only Python installed: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    := out

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# The sample holds a few deliberately broken rows, so the run exits 1 ("some rows invalid");
# that is the expected outcome here, any other exit code fails the demo.
demo: $(VENV)/.installed
	@$(BIN)/worklog-import run --sandbox sample_data/timesheet-2026-10.csv \
		-c sample_data/config.toml --report $(OUT)/demo-report.csv; \
	code=$$?; \
	if [ $$code -eq 1 ]; then echo "demo: done (exit 1: the sample's broken rows are reported as invalid, see $(OUT)/demo-report.csv)"; \
	else exit $$code; fi

test: $(VENV)/.installed-test
	$(BIN)/ruff check importer tests bench sample_data
	$(BIN)/ruff format --check importer tests bench sample_data
	$(BIN)/mypy importer
	$(BIN)/pytest -q

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

# P1-P5 against the sandbox and the official client; results go to docs/benchmarks.md.
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache
