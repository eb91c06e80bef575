"""Where the runner reads and writes: the book root and the folders under it.

``$EMO_BOOK_ROOT`` moves the whole book (tests build a throwaway copy); ``$EMO_RESULTS`` moves the
results (as in :mod:`emo_lib.storage`). Nothing here creates a folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..storage import REPO_ROOT

#: The Jupyter kernel every notebook runs on (registered inside the venv).
KERNEL_NAME = "emo-lib"
#: Gitignored folder of executed notebooks; ``_toc.yml`` points here.
EXECUTED = "executed"
#: The build record the build-status page reads, under the results folder.
BUILD_RECORD = "build_status.json"


def book_root() -> Path:
    """The book root: ``$EMO_BOOK_ROOT`` (tests build a copy elsewhere), else the repository."""
    return Path(os.environ.get("EMO_BOOK_ROOT", REPO_ROOT))


def notebooks_dir() -> Path:
    return book_root() / "notebooks"


def executed_dir() -> Path:
    return book_root() / EXECUTED


def runs_dir() -> Path:
    """Where ``emo-book run`` writes (gitignored)."""
    return book_root() / "runs"


def profiles_dir() -> Path:
    return book_root() / "profiles"


def results_base() -> Path:
    """The folder holding ``results/<notebook>/``: the same rule as ``storage.results_dir``."""
    return Path(os.environ.get("EMO_RESULTS", REPO_ROOT / "results"))


def lock_file() -> Path:
    """``requirements-lock.txt`` of the book root, else of the repository emo_lib comes from."""
    here = book_root() / "requirements-lock.txt"
    return here if here.exists() else REPO_ROOT / "requirements-lock.txt"
