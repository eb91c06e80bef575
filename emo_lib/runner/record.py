"""The build record, ``results/build_status.json``: what the last build did to every page.

Written atomically after every notebook (an interrupted build leaves a valid record of what it
finished) for the book's build-status page::

    {"profile": "smoke", "started": ..., "finished": ..., "git": {"commit": ..., "dirty": ...},
     "kernel": ..., "executor": {...}, "compute": {...}, "machine": {...},
     "order": [<notebooks in book order>],
     "notebooks": {"<name>": {"status": "executed" | "up to date" | "failed" | "skipped"
                                        | "pending",
                              "seconds": <its last execution>, "executed_at": ..., "key": ...,
                              "profile": <of its last execution>, "git": {...}, "error": ...,
                              "note": ...}},
     "prerequisites": [{"label": ..., "pages": [...], "status": "computed" | "cached"
                        | "failed", "seconds": ..., "note": ...}]}

``seconds``, ``executed_at``, ``key``, ``profile`` and ``git`` describe the execution the page
shows (for an up-to-date page, an earlier build's); ``machine`` is what each page's own
results.json recorded of the machine it ran on (CPU capability, BLAS, threads, GPU, determinism:
:func:`emo_lib.device.machine_description`), and the record's top-level ``machine`` what this
build's kernels compute with (:func:`machine_of_build`; known without importing torch).
``prerequisites`` are what this build computed before the pages, in whichever lane was free
(:mod:`.schedule`): their seconds are in no page's. ``compute`` holds the build's compute
settings (:mod:`emo_lib.compute_settings`). This module writes; deciding is :mod:`.builder`.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from ..compute_settings import ComputeSettings
from ..executor_settings import ExecutorSettings
from ..machine import cpu_model_name, gpu_names
from ..storage import write_json
from .execute import Outcome, now_iso
from .prepare import Prepared
from .incremental import recorded
from ..layout import BUILD_RECORD, results_root


def machine_of_build(compute: ComputeSettings) -> dict[str, Any]:
    """What this build's kernels compute with, as far as the runner knows it without torch:
    the CPU model, the capability torch will choose, the thread count, the pin and
    determinism setting, and the GPUs named by ``nvidia-smi`` where there is one (each page's
    results.json records what its kernel actually used)."""
    arithmetic = compute.kernel_arithmetic()
    return {"cpu": cpu_model_name(), "cpu_capability": arithmetic["cpu_capability"],
            "threads": arithmetic["threads"], "pin_cpu": compute.pin_cpu,
            "deterministic": compute.deterministic, "gpus": gpu_names(),
            "host": platform.node() or os.uname().nodename}


def page_machine(results_json: Path) -> dict[str, Any] | None:
    """The machine a page's results.json says it ran on (None when absent)."""
    try:
        record = json.loads(Path(results_json).read_text())
    except (OSError, ValueError):
        return None
    prov = record.get("provenance") or {}
    return prov.get("machine")


class BuildRecord:
    """Collects the outcomes of one build and rewrites ``results/build_status.json``."""

    def __init__(self, *, profile: str, kernel: str, executor: ExecutorSettings,
                 git: dict[str, Any], notebooks: list[str], path: Path | None = None,
                 compute: ComputeSettings | None = None):
        self.path = path or results_root() / BUILD_RECORD
        compute = compute or ComputeSettings()
        self.data: dict[str, Any] = {
            "profile": profile, "kernel": kernel, "executor": executor.record(),
            "compute": compute.record(), "machine": machine_of_build(compute), "git": git,
            "started": now_iso(), "finished": None, "order": list(notebooks),
            "notebooks": {nb: {"status": "pending"} for nb in notebooks},
            "prerequisites": [],
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
            "machine": page_machine(results_root() / outcome.notebook / "results.json")
            if outcome.status in ("executed", "up to date") else None,
        }
        self.write()

    def prerequisite(self, done: Prepared) -> None:
        """Record one prerequisite this build computed or found."""
        self.data["prerequisites"].append(done.record())
        self.write()

    def finish(self) -> None:
        self.data["finished"] = now_iso()
        self.write()

    def write(self) -> Path:
        return write_json(self.path, self.data)
