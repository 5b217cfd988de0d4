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

.PHONY: setup run test lint bench clean-venv bundle install-desktop

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

# A one-folder PyInstaller bundle that runs with no Python (issue 15): dist/hearth/hearth and
# dist/hearth-VERSION-linux-ARCH.tar.gz (with the menu entry, icon, metainfo and install.sh:
# packaging/archive.py). PyInstaller and Pillow are build tools, not dependencies: the `build`
# extra, installed into .venv here the first time.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)
BUNDLE_TAR := dist/hearth-$(VERSION)-linux-$(shell uname -m).tar.gz

bundle: setup
	@$(PY) -c 'import PyInstaller, PIL' 2>/dev/null || $(PY) -m pip install --progress-bar off -e ".[build]"
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/hearth.spec
	$(PY) packaging/archive.py dist/hearth $(BUNDLE_TAR)
	@du -sh dist/hearth $(BUNDLE_TAR)

# The menu entry and icon for this user, written by the archive's own install.sh. Exec is
# HEARTH_EXEC (a path, or a name on PATH such as pipx's `hearth`); empty: the bundle when one
# is built, else this checkout's .venv/bin/hearth.
APP_ID    := io.github.hearth.Hearth
HEARTH_EXEC ?=

install-desktop:
	@if command -v desktop-file-validate >/dev/null; then desktop-file-validate packaging/hearth.desktop; fi
	@if command -v appstreamcli >/dev/null; then appstreamcli validate --no-net packaging/$(APP_ID).metainfo.xml; fi
	@# The shell, not make, builds the path: make splits a checkout path with spaces.
	@exe="$(HEARTH_EXEC)"; \
	if [ -z "$$exe" ]; then \
	  if [ -x dist/hearth/hearth ]; then exe="$$(pwd -P)/dist/hearth/hearth"; \
	  else exe="$$(pwd -P)/$(VENV)/bin/hearth"; fi; \
	fi; \
	case "$$exe" in */*) ;; *) exe="$$(command -v "$$exe" || echo "$$exe")";; esac; \
	HEARTH_EXE="$$exe" HEARTH_DESKTOP_FILE=packaging/hearth.desktop \
	  HEARTH_ICON_FILE=packaging/hearth.svg sh packaging/install.sh
