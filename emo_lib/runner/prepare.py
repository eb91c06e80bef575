"""Computing one prerequisite (:mod:`emo_lib.prerequisites`) for a build, in a process of its
own started like a kernel: the kernel's interpreter, the build's kernel environment (one torch
thread, the compute settings), so the arithmetic and the cache key are the page's own.

What it does not do: decide which prerequisites a build needs or when they run
(:mod:`.builder`, :mod:`.schedule`).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from ..layout import notebooks_dir
from ..prerequisites import Prerequisite

#: Lines of a failed prerequisite's stderr kept in its note.
ERROR_LINES = 3


@dataclass
class Prepared:
    """What became of one prerequisite in one build: ``status`` is ``computed`` (trained
    now), ``cached`` (found in the cache) or ``failed`` (the pages that need it compute it
    themselves); ``seconds``: the process's wall time."""

    label: str
    pages: list[str]
    status: str
    seconds: float
    note: str = ""

    def record(self) -> dict[str, Any]:
        return {"label": self.label, "pages": self.pages, "status": self.status,
                "seconds": round(self.seconds, 1), "note": self.note}


def kernel_python(kernel: str) -> str:
    """The interpreter of Jupyter kernel ``kernel`` (its spec's ``argv[0]``), else this one."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel).argv
    except NoSuchKernel:
        return sys.executable
    return (shutil.which(argv[0]) if argv else None) or sys.executable


def _caches(report: Any) -> list[str]:
    """Every ``cache`` state ("hit", "trained") in a prerequisite's report."""
    if isinstance(report, dict):
        found = [str(report["cache"])] if "cache" in report else []
        return found + [c for k, v in report.items() if k != "cache" for c in _caches(v)]
    return []


def prepare(need: Prerequisite, python: str, pages: list[str]) -> Prepared:
    """Compute ``need`` with ``python`` in the current environment (the builder sets the
    kernels' for the whole phase); never raises: a failure is reported in the result."""
    start = time.perf_counter()
    done = subprocess.run(need.command(python), cwd=notebooks_dir(), capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return Prepared(need.label, pages, "failed", seconds,
                        note=f"exit {done.returncode}: " + " | ".join(tail[-ERROR_LINES:])
                        + "; the pages that need it compute it themselves")
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])["report"]
    except (IndexError, ValueError, KeyError, TypeError):
        return Prepared(need.label, pages, "failed", seconds,
                        note=f"no report on stdout ({done.stdout[-200:]!r})")
    caches = _caches(report)
    status = "cached" if caches and all(c == "hit" for c in caches) else "computed"
    return Prepared(need.label, pages, status, seconds, note=f"for {', '.join(pages)}")


__all__ = ["Prepared", "kernel_python", "prepare"]
