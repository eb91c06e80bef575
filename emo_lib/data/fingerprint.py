"""Cheap fingerprints of a data set's inputs, for deciding whether a result is still current.

A synthetic preset is fully described by its name, generator options and the generator's code
(:func:`emo_lib.data.synthetic.generator_version`, a digest of it). A real data set is
fingerprinted from file metadata only -- relative path, size and modification time of every file
under its root -- never by reading the images, so a 30,000-image folder costs a directory walk.
It changes when a file is added, removed, replaced, resized or touched. A ``csv`` root (a file)
is fingerprinted as that file alone. This module does not load or validate data sets (see
:mod:`.registry`).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Mapping

from .registry import check_available


def tree_fingerprint(root: str | Path) -> dict[str, Any]:
    """{files, bytes, digest} of every file under ``root`` (or of ``root`` if it is a file).

    The digest is a SHA-256 of the sorted lines ``relative/path<TAB>size<TAB>mtime_ns``. Symbolic
    links to folders are followed once (a link cycle is not walked twice)."""
    root = Path(root)
    entries: list[tuple[str, int, int]] = []
    if root.is_file():
        st = root.stat()
        entries.append((root.name, st.st_size, st.st_mtime_ns))
    else:
        seen: set[tuple[int, int]] = set()
        for folder, dirs, files in os.walk(root, followlinks=True):
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:   # a link back into the tree
                dirs[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            dirs.sort()
            for name in files:
                path = Path(folder) / name
                try:
                    st = path.stat()
                except FileNotFoundError:        # a dangling link: not a file of the data set
                    continue
                entries.append((path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns))
    entries.sort()
    digest = hashlib.sha256()
    for rel, size, mtime in entries:
        digest.update(f"{rel}\t{size}\t{mtime}\n".encode())
    return {"files": len(entries), "bytes": sum(e[1] for e in entries),
            "digest": digest.hexdigest()}


def dataset_fingerprint(name: str, root: str | Path | None = None,
                        options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-able description that changes when the data set's inputs change.

    Args:
        name: a ``load_dataset`` name (``"synthetic:cafe_like"``, ``"cafe"``, ...).
        root: the root as given (``None``/``""``: the data set's environment variable).
        options: the options the notebook passes to the loader (part of the fingerprint).

    Raises:
        DatasetNotFound: a real data set whose root is not there (see ``check_available``).
    """
    out: dict[str, Any] = {"dataset": name, "options": dict(options or {})}
    if name.startswith("synthetic:"):
        from .synthetic import generator_version

        return out | {"synthetic": True, "generator": generator_version()}
    path = check_available(name, root or None)
    out |= {"synthetic": False, "root": str(path) if path is not None else None}
    if path is not None:
        out |= tree_fingerprint(path)
    return out
