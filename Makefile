# `make demo` and `make test` create .venv and install the kit into it on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test build clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing the kit and its packages into $(VENV) (first run only; log: $(VENV)/pip.log)"
	@$(BIN)/pip install --disable-pip-version-check -e '.[dev]' > $(VENV)/pip.log 2>&1 \
		|| { tail -n 40 $(VENV)/pip.log; exit 1; }
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/course demo

test: $(STAMP)
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/course build

clean:
	rm -rf demo .pytest_cache gradebook.db
