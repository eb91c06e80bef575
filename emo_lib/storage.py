"""Where results and caches live, and writing them atomically (an interrupted build resumes).

Named `storage` (not `io`) so it never shadows the standard library module.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from .layout import REPO_ROOT, results_root



def cache_dir(*parts: str) -> Path:
    """``$EMO_CACHE`` (default ``<repo>/.cache``, shared by every book root: cache keys name
    everything an entry depends on) joined with ``parts``; created."""
    base = Path(os.environ.get("EMO_CACHE", REPO_ROOT / ".cache"))
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir(notebook: str) -> Path:
    """``$EMO_RESULTS`` (default ``<book root>/results``) / ``notebook``; created.

    ``emo-book run`` points ``EMO_RESULTS`` at its own output folder, so a re-run with other
    parameters never overwrites the book's results.
    """
    path = results_root() / notebook
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block ends
    without error. Readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                               suffix=suffix if suffix is not None else path.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; results and caches are shareable
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return json.loads(obj.to_json())
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def write_json(path: str | Path, data: Any) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default, sort_keys=True))
    return Path(path)


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists: a half-written folder or a claimed unit whose writer
    is gone can be cleaned up or taken over; one whose writer still runs is left alone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
