# privqml: two commands on a fresh machine: `make demo` and `make test`.
# Each creates a venv from pyproject.toml when it is missing. Two pinned stacks (DESIGN.md, "The
# stacks"), picked by the interpreter: python3.11 (preferred, else python3) gives the default one
# (TF 2.15); `PYTHON=python3.12 make test` the Python 3.12 one (TF 2.18). The default
# interpreter's venv is .venv; any other interpreter gets its own, .venv-pyXY, so the two stacks
# never clobber each other (VENV=dir overrides).
SHELL := /bin/bash
comma := ,
space := $() $()
PYTHON_DEFAULT := $(shell command -v python3.11 || command -v python3)
PYTHON ?= $(PYTHON_DEFAULT)
ifeq ($(strip $(PYTHON)),)
override PYTHON := $(PYTHON_DEFAULT)
endif

# "<executable> <major> <minor>" of interpreter $(1): the command itself when it runs, else (a pyenv
# shim for a version that is installed but not selected, e.g. python3.12 beside a global 3.11)
# that version's own binary under $PYENV_ROOT/versions.
define python_info
$(shell p='$(1)'; if ! "$$p" -c '' >/dev/null 2>&1; then \
  p=$$(ls -1 "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/*/bin/"$$(basename "$$p")" 2>/dev/null | sort -V | tail -n 1); fi; \
  test -n "$$p" && "$$p" -c 'import sys; print(sys.executable, *sys.version_info[:2])' 2>/dev/null)
endef

PYTHON_INFO := $(call python_info,$(PYTHON))
PYTHON_EXE := $(word 1,$(PYTHON_INFO))
PYTHON_VERSION := $(word 2,$(PYTHON_INFO)).$(word 3,$(PYTHON_INFO))
ifeq ($(PYTHON_EXE),)
$(error no runnable Python interpreter '$(PYTHON)' (PYTHON=python3.11 or python3.12))
endif
ifeq ($(origin VENV),undefined)
ifeq ($(origin PYTHON),file)
VENV := .venv
else
VENV := $(if $(filter $(PYTHON_VERSION),$(subst $(space),.,$(wordlist 2,3,$(call python_info,$(PYTHON_DEFAULT))))),.venv,.venv-py$(subst .,,$(PYTHON_VERSION)))
endif
endif
# Python >= 3.12 is the modern stack: TF Privacy 0.9.0 declares Python < 3.12 and numpy ~= 1.21 (and
# wants TF 2.15's estimator), so it is not in pyproject.toml for 3.12 but installed here without its
# dependencies; privqml/stack.py makes the parts privqml uses import (DESIGN.md, "The stacks").
MODERN_STACK := $(shell test "$(word 2,$(PYTHON_INFO))" -eq 3 -a "$(word 3,$(PYTHON_INFO))" -ge 12 && echo yes)
TF_PRIVACY_NODEPS := tensorflow-privacy==0.9.0

PY := $(VENV)/bin/python
STAMP := $(VENV)/.privqml-installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONWARNINGS ?= ignore::DeprecationWarning

.PHONY: demo test lint bench venv clean

venv: $(STAMP)

# (re)create the venv when it is missing or was made by another Python version; the '*' .gitignore
# inside keeps it out of git whatever its name (what `python3.13 -m venv` writes by itself)
$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(PYTHON_VERSION))))' 2>/dev/null \
	  || { echo "creating $(VENV) with $(PYTHON_EXE) (Python $(PYTHON_VERSION))"; $(PYTHON_EXE) -m venv --clear $(VENV); }
	@echo '*' > $(VENV)/.gitignore
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --upgrade "pip>=23" "setuptools>=77" wheel
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[test]'
ifeq ($(MODERN_STACK),yes)
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --no-deps --ignore-requires-python $(TF_PRIVACY_NODEPS)
endif
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/privqml demo

# the layering contracts (import-linter) and zero import cycles, then the suite
lint: $(STAMP)
	$(PY) tools/lint_architecture.py

test: lint
	$(PY) -m pytest -q -n 2 --dist loadfile tests

bench: $(STAMP)
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
