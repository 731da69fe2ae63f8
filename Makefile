# Tonalite: `make run` starts the platform with a demo account, `make test` runs the whole suite.

# The distribution's interpreter when it is 3.11 or newer: Debian's is built with profile-guided and link-time
# optimisation and linked statically, and runs the SIP paths ~30 % faster than a plain shared build (pyenv's
# default, for one). `make PYTHON=python3.12` chooses another.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo /usr/bin/python3 || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := sip-tester baresip baresip-core sox libsox-fmt-mp3 espeak-ng chromium postgresql openssl
PYTEST_ARGS ?=


.PHONY: run test lint bench system-packages clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "error: Tonalite needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "python venv module missing: installing python3-venv"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
		$(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/tonalite db upgrade
	$(BIN)/tonalite demo
	$(BIN)/tonalite serve

# The real peers the tests drive, from Debian's packages; installed only when one is missing.
system-packages:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

test: system-packages $(STAMP)
	TONALITE_REQUIRE_POSTGRES=1 $(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Every module of bench/ with a main() is a benchmark; the others are what they share.
bench: $(STAMP)
	@for script in bench/[a-z]*.py; do \
		name=$$(basename $$script .py); grep -q '^def main' $$script || continue; \
		echo "== bench/$$name"; $(BIN)/python -m bench.$$name || exit 1; \
	done

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .mypy_cache .ruff_cache
