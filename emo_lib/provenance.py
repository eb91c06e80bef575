"""Where a build came from: the git commit of the checkout (and whether its tree was dirty) and
the lock file's hash. Used by every page's provenance line and by the runner's build record."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from .layout import REPO_ROOT

LOCK_FILE = "requirements-lock.txt"


def git_state(root: Path = REPO_ROOT) -> dict[str, Any]:
    """``{"commit": <full sha>, "dirty": bool}`` of the checkout holding ``root``; None values
    outside a repository (or without git).

    Dirty: tracked files differ from the commit, or files git does not ignore were added (a new
    notebook source the build used but nobody committed); build products (results/, executed/,
    .cache/) are ignored, so building leaves a clean tree clean."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def lock_hash(path: Path = REPO_ROOT / LOCK_FILE) -> str:
    """The first 12 hex digits of the lock file's SHA-256 (``"none"`` without one)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return "none"


__all__ = ["LOCK_FILE", "git_state", "lock_hash"]
