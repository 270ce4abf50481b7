# The two commands of the README: `make demo` and `make test`.
# Both create .venv when it is absent and (re)install only when the project's
# dependency files changed since the last install (a stamp file records it).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.verbatim-installed

.PHONY: demo test env clean-env

env: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: a plain `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/verbatim demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean-env:
	rm -rf $(VENV)
