# The two commands a fresh machine needs: `make demo` and `make test`.
# Each creates its own virtualenv (.venv) and installs what it needs.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench docs lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/demo.py

test: $(VENV)/.installed
	$(PY) -m pytest -n 2 -q

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

# ruff (rules and their reasons in pyproject.toml) on everything Python in the repository; mypy --strict
# on the package (files and options in pyproject.toml).
LINTED := idm_gate tests tools benchmarks examples

$(VENV)/.lint-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[lint]'
	touch $@

lint: $(VENV)/.lint-installed
	$(PY) -m ruff check $(LINTED)
	$(PY) -m mypy

# docs/manifest.md (from the JSON Schema) and the message catalogue in docs/troubleshooting.md
docs: $(VENV)/.installed
	$(PY) tools/gen_docs.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
