"""Fixtures shared by test files: one built book per test session.

``built_book`` builds the whole book with the tiny profile (tests/profiles/tiny.yml) once per
session in a temporary copy of the book root, and every test that needs a built book (the
build test, the browser test) reads that one. To check a book built elsewhere instead (e.g. the
smoke build after ``make book``), point ``EMO_BOOK_HTML`` at its ``_build/html``; its results are
read from ``<book root>/results`` (or ``EMO_BOOK_RESULTS``).
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY_PROFILE = ROOT / "tests" / "profiles" / "tiny.yml"
#: What a copy of the book root needs to build (everything else is generated).
BOOK_SOURCES = ("_config.yml", "_toc.yml", "_static", "book", "notebooks", "profiles")
#: The repository the tiny book is built for (its launch buttons; tests/test_launch_links.py).
TINY_REPOSITORY = "emo-book-tests/emo-book"


@dataclass(frozen=True)
class BuiltBook:
    root: Path          # the book root (holds executed/, results/, _build/)
    html: Path          # <root>/_build/html
    results: Path       # results/<notebook>/ folders
    log: str            # the build's console output ("" for a book built elsewhere)


def build_tiny_book(where: Path) -> BuiltBook:
    """Copy the book sources to ``where`` and build them with the tiny profile."""
    from emo_lib import runner

    book = where / "book_root"
    book.mkdir(parents=True)
    for item in BOOK_SOURCES:
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, book / item)
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        # The kernels papermill starts inherit these: results and caches stay in the copy.
        mp.setenv("EMO_BOOK_ROOT", str(book))
        mp.setenv("EMO_RESULTS", str(book / "results"))
        mp.setenv("EMO_CACHE", str(where / "cache"))
        mp.setenv("EMO_PROFILE", "tiny")
        mp.setenv("EMO_BOOK_REPOSITORY", TINY_REPOSITORY)   # jupyter-book: launch buttons
        mp.delenv("EMO_BOOK_BRANCH", raising=False)
        with contextlib.redirect_stdout(out):
            code = runner.main(["build", "--profile", str(TINY_PROFILE), "--quiet"])
    log = out.getvalue()
    assert code == 0, f"the tiny-profile book did not build (exit {code}):\n{log[-3000:]}"
    return BuiltBook(book, book / "_build" / "html", book / "results", log)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> BuiltBook:
    """A built book: ``EMO_BOOK_HTML`` if set, else the tiny-profile book (built once)."""
    given = os.environ.get("EMO_BOOK_HTML")
    if given:
        html = Path(given).resolve()
        if not (html / "index.html").exists():
            pytest.fail(f"EMO_BOOK_HTML={given}: no index.html there; point it at a built "
                        "book's _build/html (run `make book` first)")
        root = html.parent.parent
        results = Path(os.environ.get("EMO_BOOK_RESULTS", root / "results"))
        return BuiltBook(root, html, results, "")
    return build_tiny_book(tmp_path_factory.mktemp("tiny_book"))
