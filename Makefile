# The two commands a fresh machine needs: `make demo` and `make test`.
# Each creates its own virtualenv (.venv) and installs what it needs.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Defined before the rules that name it: make expands a rule's prerequisites when it reads the rule.
JS_DEPS := tests/js/node_modules/.installed

.PHONY: demo test bench docs lint clean browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/demo.py

test: $(VENV)/.installed $(JS_DEPS) browser
	$(PY) -m pytest -n 2 -q

# The real tools the charts are tested with (tests/support/realtools.py): Mermaid's parser from npm (versions
# pinned by tests/js/package-lock.json), installed again only when those files change, and Debian's
# chromium for the HTML leaderboard, installed when missing and we are root (a CI machine). Under CI=true
# a test whose tool is missing fails rather than skips.
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  apt-get install -y -qq --no-install-recommends nodejs npm; }
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@

browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "make: chromium is missing (apt-get install chromium as root); its test skips, or fails under CI" >&2; fi

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
