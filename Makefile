# Two commands on a fresh machine:  `make run`  and  `make test`.
# Both create (once) and reuse the project-local virtual environment in .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.hearth-installed
# llama-cpp-python is compiled from source; skip the multimodal tools we do not use.
# Override for a GPU build, e.g.  make CMAKE_ARGS="-DGGML_CUDA=on" setup
DEFAULT_CMAKE_ARGS := -DLLAVA_BUILD=OFF
CMAKE_ARGS ?= $(DEFAULT_CMAKE_ARGS)
# pip caches the wheel it built per package version, not per CMAKE_ARGS: without this a
# GPU build would silently reinstall the cached CPU wheel.
PIP_CACHE := $(if $(filter-out $(DEFAULT_CMAKE_ARGS),$(CMAKE_ARGS)),--no-cache-dir,)

.PHONY: setup run test lint bench clean-venv

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Hearth needs Python 3.11 or newer (found: $$($(PYTHON) --version))."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || \
	  { echo "Could not create a virtual environment. On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(CMAKE_ARGS)" $(PY) -m pip install $(PIP_CACHE) --progress-bar off -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	@bash packaging/ensure-qt-libs.sh
	$(VENV)/bin/hearth

test: setup
	@bash packaging/ensure-qt-libs.sh --offscreen
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

bench: setup
	$(PY) bench/engine_overhead.py
	$(PY) bench/stream_view.py

clean-venv:
	rm -rf $(VENV)
