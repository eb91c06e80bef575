"""Where the book's files are: the book root and the folders under it, and the book's pages in
``_toc.yml`` order.

Both the runner (which executes pages) and the page-facing modules (:mod:`emo_lib.book`, which
run inside the notebook kernels) read these, so they live here, below both. ``$EMO_BOOK_ROOT``
moves the whole book, its results included (tests build a throwaway copy; a second book root
never writes into the first one's results); ``$EMO_RESULTS`` moves the results alone. The
caches stay where ``$EMO_CACHE`` says (default: the repository's ``.cache``), shared by every
root: their keys name everything an entry depends on (:mod:`emo_lib.cache`), so sharing them is
safe, while results are one build's and are not. Nothing here creates a folder.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

#: The repository emo_lib comes from (the default book root).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The Jupyter kernel every notebook runs on (registered inside the venv).
KERNEL_NAME = "emo-lib"
#: Gitignored folder of executed notebooks; ``_toc.yml`` points here.
EXECUTED = "executed"
#: The build record the build-status page reads, under the results folder.
BUILD_RECORD = "build_status.json"
#: Pages built from the other pages' results (the claims ledger, the build status, the reader's
#: runs): they execute after every other page, and their inputs include those results.
AGGREGATE_PAGES: tuple[str, ...] = ("claims_ledger", "build_status", "runs")


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


def results_root() -> Path:
    """``$EMO_RESULTS`` (default ``<book root>/results``): where every page's results folder
    lives."""
    return Path(os.environ.get("EMO_RESULTS") or book_root() / "results")


def lock_file() -> Path:
    """``requirements-lock.txt`` of the book root, else of the repository emo_lib comes from."""
    here = book_root() / "requirements-lock.txt"
    return here if here.exists() else REPO_ROOT / "requirements-lock.txt"


def _toc(toc: Path | None = None) -> Any:
    return yaml.safe_load((toc or book_root() / "_toc.yml").read_text())


def _executed_pages(node: Any) -> list[str]:
    """The ``executed/<name>`` entries under ``node`` of ``_toc.yml``, in order."""
    names: list[str] = []
    if isinstance(node, dict):
        f = node.get("file")
        if isinstance(f, str) and f.startswith(f"{EXECUTED}/"):
            names.append(f.split("/", 1)[1])
        for v in node.values():
            names += _executed_pages(v)
    elif isinstance(node, list):
        for v in node:
            names += _executed_pages(v)
    return names


def book_notebooks(toc: Path | None = None) -> list[str]:
    """Notebook names in book order: the ``executed/<name>`` entries of ``_toc.yml``."""
    return _executed_pages(_toc(toc))


def toc_parts(toc: Path | None = None) -> list[tuple[str, list[str]]]:
    """``(caption, notebook names)`` of each part of ``_toc.yml``, in book order."""
    return [(str(part.get("caption", "")), _executed_pages(part))
            for part in _toc(toc).get("parts", [])]


__all__ = ["AGGREGATE_PAGES", "BUILD_RECORD", "EXECUTED", "KERNEL_NAME", "REPO_ROOT",
           "book_notebooks", "book_root", "executed_dir", "lock_file", "notebooks_dir",
           "profiles_dir", "results_root", "runs_dir", "toc_parts"]
