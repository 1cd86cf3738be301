# Bobbin: `make run` starts everything on this machine; `make test` runs the test suite.
# Needs only Python 3.11+ and make: Postgres and Redis are embedded when DATABASE_URL / REDIS_URL are unset.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench mutate stop clean install

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Bobbin needs Python 3.11 or newer; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/bobbin run

test: $(STAMP)
	$(BIN)/python -m pytest -q

# ruff (rules, formatting) and mypy, as CI runs them
lint: $(STAMP)
	BIN=$(BIN) bash .ci/lint

# ONLY=holding (or a comma-separated list) runs some of them; QUICK=1 at 1/10 scale
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(ONLY),--only $(ONLY)) $(if $(QUICK),--quick)

# Mutation testing of connectors/ and services/validation.py against the unit and client tests
# (about an hour on 2 cores); the survivors are listed by `mutmut results`, shown with `mutmut show NAME`.
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet 'mutmut==3.8.1'
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

stop: $(STAMP)
	$(BIN)/bobbin down

clean: stop
	rm -rf .bobbin
