"""The build record, ``results/build_status.json``: what the last build did to every page.

Written atomically after every notebook (an interrupted build leaves a valid record of what it
finished) for the book's build-status page::

    {"profile": "smoke", "started": ..., "finished": ..., "git": {"commit": ..., "dirty": ...},
     "kernel": ..., "executor": {...}, "order": [<notebooks in book order>],
     "notebooks": {"<name>": {"status": "executed" | "up to date" | "failed" | "skipped"
                                        | "pending",
                              "seconds": <its last execution>, "executed_at": ..., "key": ...,
                              "profile": <of its last execution>, "git": {...}, "error": ...,
                              "note": ...}}}

``seconds``, ``executed_at``, ``key``, ``profile`` and ``git`` describe the execution the page
shows (for an up-to-date page, an earlier build's). This module writes; deciding is
:mod:`.builder`.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any


from ..storage import write_json
from .execute import Outcome, now_iso
from .incremental import recorded
from .options import ExecutorOptions
from ..layout import BUILD_RECORD, results_root


class BuildRecord:
    """Collects the outcomes of one build and rewrites ``results/build_status.json``."""

    def __init__(self, *, profile: str, kernel: str, executor: ExecutorOptions,
                 git: dict[str, Any], notebooks: list[str], path: Path | None = None):
        self.path = path or results_root() / BUILD_RECORD
        self.data: dict[str, Any] = {
            "profile": profile, "kernel": kernel, "executor": asdict(executor), "git": git,
            "started": now_iso(), "finished": None, "order": list(notebooks),
            "notebooks": {nb: {"status": "pending"} for nb in notebooks},
        }

    def update(self, outcome: Outcome) -> None:
        """Record one page (its copy's own record supplies the last execution's details)."""
        shown = recorded(outcome.output) if outcome.output else None
        shown = shown or {}
        self.data["notebooks"][outcome.notebook] = {
            "status": outcome.status,
            "seconds": shown.get("seconds"),
            "executed_at": shown.get("executed_at"),
            "key": shown.get("key"),
            "profile": shown.get("profile"),
            "git": shown.get("git"),
            "error": outcome.error or shown.get("error") or "",
            "note": outcome.note,
        }
        self.write()

    def finish(self) -> None:
        self.data["finished"] = now_iso()
        self.write()

    def write(self) -> Path:
        return write_json(self.path, self.data)
