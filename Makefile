# The two commands of the README: `make demo` and `make test`; `make lab` opens the notebooks.
# Both create .venv when it is absent and (re)install only when the project's
# dependency files changed since the last install (a stamp file records it).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.verbatim-installed

.PHONY: demo test lab docs env clean-env

env: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: a plain `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/verbatim demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# JupyterLab from the project's environment: the kernel is this .venv's python, where the package is
# installed (editable), and VERBATIM_HOME points the notebooks at this folder. LAB_ARGS passes options
# (e.g. `make lab LAB_ARGS="--no-browser --port 8890"`); --allow-root is added when run as root (containers).
LAB_ARGS ?=
lab: $(STAMP)
	VERBATIM_HOME="$(CURDIR)" $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) notebooks/01-explore.ipynb

# Regenerate docs/configuration.md from src/verbatim/config.py (a test fails when it is stale).
docs: $(STAMP)
	$(BIN)/python scripts/config_reference.py

clean-env:
	rm -rf $(VENV)
