# One entry point for people and CI. `make demo` and `make test` are the README's two commands.
SHELL := /bin/bash
PY311 ?= $(shell PYENV_VERSION=3.11.7 pyenv which python3.11 2>/dev/null || command -v python3.11 || command -v python3)
PY313 ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)
VENV := .venv
BPY45 := .venv-bpy45
BPY52 := .venv-bpy52
PIP_QUIET ?= -q

.PHONY: venv demo test test-core test-blender lint typecheck dist bench clean examples

$(VENV)/.stamp: pyproject.toml
	$(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) --upgrade pip
	$(VENV)/bin/pip install $(PIP_QUIET) -e '.[dev]' 'torch==2.13.0'
	touch $@

venv: $(VENV)/.stamp

# bpy wheels: 4.5 LTS runs on Python 3.11, 5.2 LTS on Python 3.13 (see shared/reference/blender.md).
$(BPY45)/.stamp: pyproject.toml
	$(PY311) -m venv $(BPY45)
	$(BPY45)/bin/pip install $(PIP_QUIET) 'bpy==4.5.15' 'numpy<2' 'av>=12' 'pillow>=10' pytest pytest-timeout
	$(BPY45)/bin/pip install $(PIP_QUIET) --no-deps -e .
	touch $@

$(BPY52)/.stamp: pyproject.toml
	@if [ -z "$(PY313)" ]; then echo "python3.13 not found: cannot test Blender 5.x" >&2; exit 1; fi
	$(PY313) -m venv $(BPY52)
	$(BPY52)/bin/pip install $(PIP_QUIET) 'bpy==5.2.3' 'av>=12' 'pillow>=10' pytest pytest-timeout
	$(BPY52)/bin/pip install $(PIP_QUIET) --no-deps -e .
	touch $@

demo: venv
	$(VENV)/bin/act-two generate --sandbox --yes \
	  --character examples/character.png --reference examples/reference.mp4 \
	  --output out/act_two_sandbox_preview.mp4

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

dist: venv $(BPY52)/.stamp
	$(VENV)/bin/python tools/build_dist.py --bpy-python $(BPY52)/bin/python

test-core: venv
	$(VENV)/bin/python -m pytest tests --ignore=tests/blender

test-blender: dist $(BPY45)/.stamp $(BPY52)/.stamp
	timeout 1200 $(BPY45)/bin/python -m pytest tests/blender
	timeout 1200 $(BPY52)/bin/python -m pytest tests/blender

test: lint typecheck dist
	$(MAKE) test-blender
	$(MAKE) test-core

bench: venv
	$(VENV)/bin/python benchmarks/run_all.py

examples: venv
	$(VENV)/bin/python examples/make_examples.py

clean:
	rm -rf $(VENV) $(BPY45) $(BPY52) dist build out
