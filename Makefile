# Two commands (see README): `make book` and `make test`; `make lab` is a third for those who want
# JupyterLab. Each creates .venv if it is missing and installs, from the package registries, what
# it needs at the versions pinned in requirements-lock.txt; nothing is left by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= smoke
# Notebooks executed at once (one lane per paper, one torch thread per kernel): on 2 cores two
# lanes build the smoke book faster than one page after another (see README).
LANES ?= 2
# More arguments for `emo-book build`, e.g. BOOK_ARGS="--only runs"; the published book (the
# GitHub workflow) builds with three training seeds: BOOK_ARGS="--seeds 0,1,2".
BOOK_ARGS ?=
KERNEL := emo-lib
# One stamp per set installed: the book's packages, + the test extra, + the lab extra.
STAMP_BOOK := $(VENV)/.installed-book
STAMP_TEST := $(VENV)/.installed-test
STAMP_LAB := $(VENV)/.installed-lab
# JupyterLab on notebooks/, reachable from this machine only; it prints its URL with the token.
# A browser opens only where there is a display; as root (a container) it must be allowed.
LAB_ARGS := --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 \
            $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser) \
            $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: book test lab install install-test kernel lock notebooks benchmark publish clean \
        gpu-wheels

book: $(STAMP_BOOK)
	$(VENV)/bin/emo-book build --profile $(PROFILE) --lanes $(LANES) $(BOOK_ARGS)

# Linters first (ruff on the code; actionlint and zizmor on .github/workflows run inside pytest:
# tests/test_workflows.py), then the doctests, then the tests.
test: $(STAMP_TEST)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q --doctest-modules emo_lib
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lab: $(STAMP_LAB) kernel
	$(VENV)/bin/jupyter lab $(LAB_ARGS)

install: $(STAMP_BOOK)
install-test: $(STAMP_TEST)

# Install one set: the project (editable) with the extra the stamp names, every package at its
# pinned version (the lock is read as constraints, so a set gets only what it needs), then the
# two --no-deps packages. torch and torchvision come from PyPI as a matching pair (PyPI's Linux
# torch is the CUDA build, which also runs on the CPU). Re-installs when the pins change.
# uv (pinned in the lock, installed by pip) installs the same packages as pip would, faster:
# measured on 2 cores, the book's set took 95 s with pip, 21 s with uv once its download cache
# (~/.cache/uv) holds the wheels. --compile-bytecode as pip does: where PYTHONDONTWRITEBYTECODE
# is set, a venv without .pyc files compiles torch on every import (+5 s per kernel, measured).
EXTRA_book :=
EXTRA_test := [test]
EXTRA_lab := [lab]
UV := $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY)
$(VENV)/.installed-%: requirements-lock.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c requirements-lock.txt uv
	$(UV) -c requirements-lock.txt -e ".$(EXTRA_$*)"
	$(UV) --no-deps -r requirements-nodeps.txt
	$(MAKE) kernel
	touch $@

# A named Jupyter kernel inside the venv: papermill runs every notebook on it, never on
# whatever kernel the machine happens to have.
kernel:
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"

# Refresh every notebook from its source: the generated Colab cell in notebooks/src/<name>.py,
# then notebooks/<name>.ipynb from the source (jupytext; the source always wins).
notebooks: $(STAMP_BOOK)
	$(PY) -m emo_lib.notebook_sources

# Refresh requirements-lock.txt from the current venv (after changing pyproject.toml, with the
# test and lab extras installed).
lock:
	{ printf '%s\n' \
	  "# Exact versions of everything 'make' installs (pip freeze of a .venv holding the test and lab" \
	  "# extras; regenerate with 'make lock'). Used as constraints: each target installs only its own" \
	  "# set (make book: the book's packages; make test: + [test]; make lab: + [lab]) at these versions." \
	  "# Ranges and the reasons for pins live in pyproject.toml; requirements-nodeps.txt lists the two" \
	  "# packages installed with --no-deps."; \
	  $(PY) -m pip freeze --exclude-editable | grep -v -i -E '^(facenet-pytorch|fer|emo-lib)=='; \
	} > requirements-lock.txt

# Publish a built book by hand: _build/html onto the gh-pages branch of origin (ghp-import;
# -n adds .nojekyll so GitHub Pages serves _static/, -f replaces the branch's history, -p pushes).
# CI publishes on every push to main instead (.github/workflows/book.yml).
publish: $(STAMP_BOOK)
	@test -f _build/html/index.html || { echo "no built book in _build/html: run 'make book' first" >&2; exit 1; }
	$(VENV)/bin/ghp-import -n -p -f _build/html

benchmark: $(STAMP_BOOK)
	$(PY) benchmarks/lime_benchmark.py

# The few wheels an offline GPU node lacks besides its own torch (papermill and its kernel
# stack, lime built as a wheel, facenet-pytorch, submitit), in gpu-wheels/ to copy there;
# benchmarks/gpu_check.sh says how to install them (18 MiB for Python 3.11 on x86-64 Linux).
gpu-wheels:
	PYTHON=$(PYTHON) benchmarks/gpu_wheels.sh gpu-wheels

clean:
	rm -rf _build executed runs results
