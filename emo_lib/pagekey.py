"""Which execution a page's results come from: the page key, and the check that results belong
to the executed copy the book shows.

The runner computes each execution's key before it starts (``emo_lib.runner.incremental``),
hands it to the kernel as ``$EMO_PAGE_KEY`` and records it in the executed copy's metadata
(``metadata["emo_book"]["key"]``); :class:`emo_lib.book.report.Run` writes it into
``results.json`` (``page_key``). Results belong to a build when their key is the key of the
executed copy that build shows: two books built in two roots, or one results folder written by
two builds, can then never be mixed up. Results without a key (written outside a build, or by an
older emo_lib) belong to no build.

Both the runner (is a page up to date?) and the page-facing modules (the ledger, the runs and
build-status pages) use :func:`foreign_results`, so it lives here, below both. It reads files
only; it never deletes or moves results.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from .layout import EXECUTED, book_root, results_root

#: The environment variable through which the runner gives a kernel its execution's key.
PAGE_KEY_VARIABLE = "EMO_PAGE_KEY"
#: Where an executed copy keeps its record (key, inputs, status...), in the notebook's metadata.
METADATA_KEY = "emo_book"
#: The field of results.json that holds the key of the execution that wrote it.
RESULTS_FIELD = "page_key"
#: How a page whose results belong to another build is shown (the ledger, runs, build status).
FOREIGN = "results from another build"
#: The field of results.json with the SHA-256 of each file the execution wrote beside it.
DIGESTS_FIELD = "file_digests"


def file_digests(paths: list[Path]) -> dict[str, str]:
    """``{file name: SHA-256}`` of ``paths`` (for results.json: a file another build rewrote in
    a shared results folder no longer matches)."""
    import hashlib

    return {Path(p).name: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


def current_page_key() -> str | None:
    """The key the runner gave this kernel's execution (None outside ``emo-book``)."""
    import os

    return os.environ.get(PAGE_KEY_VARIABLE) or None


def copy_record(executed: str | Path) -> dict[str, Any] | None:
    """The ``emo_book`` record of an executed copy, or None (absent, unreadable, no record)."""
    try:
        record = json.loads(Path(executed).read_text()).get("metadata", {}).get(METADATA_KEY)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _short(key: Any) -> str:
    return str(key)[:12] if key else "none"


def foreign_results(results: str | Path | Mapping[str, Any], executed: str | Path,
                    copy_key: str | None = None) -> str | None:
    """None when ``results`` (a results.json path or its content) were written by the execution
    the copy ``executed`` records; else why not, starting with :data:`FOREIGN`. ``copy_key``:
    the copy's key when the caller has read it already. Missing results are not foreign (there
    is nothing to refuse): the caller says "not executed"."""
    if isinstance(results, Mapping):
        record: Mapping[str, Any] = results
    else:
        path = Path(results)
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            return f"{FOREIGN}: {path.name} cannot be read ({err})"
        if not isinstance(record, Mapping):
            return f"{FOREIGN}: {path.name} is not a results record"
    if copy_key is None:
        copy = copy_record(executed)
        copy_key = (copy or {}).get("key")
    theirs = record.get(RESULTS_FIELD)
    if not copy_key:
        return f"{FOREIGN}: this book has no executed copy that names them"
    if not theirs:
        return f"{FOREIGN}: they carry no build key (written outside this build)"
    if theirs != copy_key:
        return (f"{FOREIGN}: written by execution {_short(theirs)}, the book shows "
                f"execution {_short(copy_key)}")
    if not isinstance(results, Mapping):   # the files beside results.json are still its own
        for name, digest in (record.get(DIGESTS_FIELD) or {}).items():
            beside = Path(results).parent / name
            try:
                same = file_digests([beside])[name] == digest
            except OSError:
                same = False
            if not same:
                return (f"{FOREIGN}: {name} was rewritten after this execution (another build "
                        "writes to the same results folder)")
    return None


def page_results_foreign(name: str, results: str | Path | None = None,
                         root: str | Path | None = None) -> str | None:
    """:func:`foreign_results` for a page of the book: ``<results>/<name>/results.json``
    (default: this build's results folder) against ``<root>/executed/<name>.ipynb`` (default:
    this book's root)."""
    folder = Path(results) if results is not None else results_root()
    executed = Path(root or book_root()) / EXECUTED / f"{name}.ipynb"
    return foreign_results(folder / name / "results.json", executed)


__all__ = ["DIGESTS_FIELD", "FOREIGN", "METADATA_KEY", "PAGE_KEY_VARIABLE", "RESULTS_FIELD",
           "copy_record",
           "current_page_key", "file_digests", "foreign_results", "page_results_foreign"]
