"""The build-status page's table: every page of the book with what the last build did to it
(executed / up to date / failed / skipped), when the execution it shows ran, and how long it
took, read from the runner's build record (``results/build_status.json``). A page whose entry
or results belong to another build (another book root, or another build writing into this
results folder: :mod:`emo_lib.pagekey`) shows as such, with the reason in its note."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..layout import BUILD_RECORD, executed_dir, results_root
from ..pagekey import FOREIGN, copy_record, page_results_foreign

STATUS_COLUMNS: tuple[str, ...] = ("page", "status", "seconds", "executed at", "note")


def read_build_record(root: str | Path | None = None) -> dict[str, Any] | None:
    """The runner's record of the last build in ``root`` (default: this build's results), or
    None when no build has written one. An entry that does not describe the execution this book
    shows, or whose page's results another build wrote, gets ``foreign`` (why)."""
    results = Path(root or results_root())
    path = results / BUILD_RECORD
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    for name, entry in record.get("notebooks", {}).items():
        why = _foreign(name, entry, results)
        if why:
            entry["foreign"] = why
    return record


def _foreign(name: str, entry: dict[str, Any], results: Path) -> str | None:
    if entry.get("status") in ("pending", "failed"):
        return None    # this page, still executing; a failed page shows no results
    shown = (copy_record(executed_dir() / f"{name}.ipynb") or {}).get("key")
    if entry.get("key") and shown and entry["key"] != shown:
        return (f"{FOREIGN}: the build record describes execution {entry['key'][:12]}, the "
                f"book shows execution {shown[:12]}")
    return page_results_foreign(name, results)


def status_table(record: dict[str, Any]) -> pd.DataFrame:
    """One row per page in book order: status, seconds of the execution it shows, when that
    ran, and the runner's note or error ("pending" is the page still executing: this one)."""
    entries = record.get("notebooks", {})
    order = record.get("order") or list(entries)
    rows = []
    for page in order:
        e = entries.get(page, {})
        status = e.get("status", "pending")
        if e.get("foreign"):
            status = FOREIGN
        rows.append({"page": page,
                     "status": "executing (this page)" if status == "pending" else status,
                     "seconds": e.get("seconds"), "executed at": e.get("executed_at") or "",
                     "note": e.get("foreign") or e.get("error") or e.get("note") or ""})
    return pd.DataFrame(rows, columns=list(STATUS_COLUMNS))


PREREQUISITE_COLUMNS: tuple[str, ...] = ("prerequisite", "status", "seconds", "for pages")


def prerequisite_table(record: dict[str, Any]) -> pd.DataFrame:
    """What this build computed before the pages, in whichever lane was free
    (:mod:`emo_lib.runner.schedule`): one row per prerequisite (computed, found in the cache,
    or failed with why); their seconds are in no page's."""
    rows = [{"prerequisite": p.get("label"), "status": p.get("status"),
             "seconds": p.get("seconds"),
             "for pages": ", ".join(p.get("pages") or ()) + (
                 f" ({p['note']})" if p.get("status") == "failed" else "")}
            for p in record.get("prerequisites") or ()]
    return pd.DataFrame(rows, columns=list(PREREQUISITE_COLUMNS))


def prerequisites_text(record: dict[str, Any]) -> str:
    """The sentence above :func:`prerequisite_table` ("" when the build computed none)."""
    table = prerequisite_table(record)
    if table.empty:
        return ""
    seconds = float(pd.to_numeric(table["seconds"]).fillna(0).sum())
    count = f"{len(table)} prerequisite" + ("" if len(table) == 1 else "s")
    return (f"Before the pages, this build computed or found {count} "
            f"(pretrained weights, each cached by its recipe) in whichever lane was free: "
            f"{seconds:.0f} s in all, in no page's time above.")


def build_summary(record: dict[str, Any]) -> dict[str, Any]:
    """Counts per status, total seconds of the executions shown, profile and git state."""
    table = status_table(record)
    git = record.get("git") or {}
    counts = table["status"].value_counts().to_dict()
    return {"profile": record.get("profile", "unknown"), "started": record.get("started"),
            "commit": (git.get("commit") or "unknown")[:12], "dirty": git.get("dirty"),
            "counts": counts, "seconds": float(pd.to_numeric(table["seconds"]).fillna(0).sum())}


__all__ = ["PREREQUISITE_COLUMNS", "STATUS_COLUMNS", "build_summary", "prerequisite_table",
           "prerequisites_text", "read_build_record", "status_table"]
