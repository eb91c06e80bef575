"""One disk cache under every derived result: LIME explanations, cross-validated folds, trained
stand-in weights, model sizes.

A :class:`DiskCache` is a folder under ``$EMO_CACHE`` (``emo_lib.storage.cache_dir``) that names
the code computing its entries. It does four things and nothing else:

* **key**: the sha256 of a plain-JSON description of everything that determines an entry (its
  *spec*), the cache's name, the digest of the code that computes it
  (:func:`emo_lib.codedigest.code_digest` of the modules the cache names, with everything they
  import from emo_lib) and optionally raw bytes (pixels, weights). Two computations with the same
  key give the same result; a change to that code changes every key, so entries computed by
  older code are never read (they simply miss). There is no version number to remember to bump;
* **atomic writes**: an entry is written to a temporary file and renamed into place, so readers
  never see half an entry and an interrupted build resumes cleanly;
* **damage handling**: an entry that cannot be read is reported with a warning and computed
  again, never fatal and never silently used;
* **readers and writers** for the formats the project stores (JSON, npz, and ``.npy`` arrays
  opened memory-mapped: :func:`open_npy`, :func:`npy_file_of`).

What it does not do: decide what goes into a spec (each caller describes its own computation,
including :func:`emo_lib.device.device_identity` where torch computed the value), or evict
entries (delete the folder to start afresh).
"""
from __future__ import annotations

import hashlib
import json
import logging
import pickle
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

from .codedigest import code_digest
from .storage import atomic_path, cache_dir, read_json, write_json

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What a damaged or foreign entry raises when read; anything else is a bug and propagates.
UNREADABLE = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile,
              RuntimeError, json.JSONDecodeError, pickle.UnpicklingError)


def canonical_json(obj: Any) -> str:
    """``obj`` as JSON with sorted keys and no whitespace (tuples as lists): equal descriptions
    give equal strings. Raises TypeError naming the value that is not plain JSON."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)
    except TypeError as err:
        raise TypeError(f"a cache key must be plain JSON (str, int, float, bool, None, lists, "
                        f"dicts); {err}. Describe callables by name and settings instead") from err


class DiskCache:
    """A folder of cache entries keyed by their spec and their code (see the module docstring).

    Args:
        name: the folder under ``$EMO_CACHE`` (``"lime"``, ``"cv"``, ``"models/standin"``).
        code: the modules that compute the entries (``"emo_lib.models.standin"``); their code
            and everything they import from emo_lib is part of every key. Empty only for a
            store whose entries are their own content (named by a hash of it).
        root: another folder instead (tests, or a user-chosen location).
    """

    def __init__(self, name: str, *, code: Sequence[str], root: str | Path | None = None) -> None:
        if isinstance(code, str):
            raise TypeError(f"DiskCache {name!r}: code is a sequence of module names, not "
                            f"{code!r} alone; write code=({code!r},)")
        self.name = name
        self.code = tuple(code)
        self._root = Path(root) if root is not None else None
        self._digests: dict[tuple[str, ...], str] = {}

    def __repr__(self) -> str:
        return f"DiskCache({self.name!r}, code={self.code}, root={str(self.root)!r})"

    @property
    def root(self) -> Path:
        """The cache folder (created on first use; ``$EMO_CACHE`` is read at that moment)."""
        if self._root is not None:
            self._root.mkdir(parents=True, exist_ok=True)
            return self._root
        return cache_dir(*self.name.split("/"))

    def code_digest(self, extra: Sequence[str] = ()) -> str:
        """The digest of this cache's code (and of ``extra`` modules), computed once per
        process: the code this process runs is the code it imported."""
        modules = tuple(sorted({*self.code, *extra}))
        if modules not in self._digests:
            self._digests[modules] = code_digest(*modules) if modules else ""
        return self._digests[modules]

    def key(self, spec: Any, *blobs: bytes, length: int = 64, code: Sequence[str] = ()) -> str:
        """Hex sha256 (first ``length`` characters) of the cache's name, the digest of its code
        (plus the ``code`` modules named here, e.g. the function a unit kind runs), the canonical
        JSON of ``spec`` and the raw ``blobs`` in order."""
        h = hashlib.sha256(canonical_json({"cache": self.name, "code": self.code_digest(code),
                                           "spec": spec}).encode())
        for blob in blobs:
            h.update(blob)
        return h.hexdigest()[:length]

    def path(self, *names: str) -> Path:
        """``root / names...`` (the folders are created when an entry is written)."""
        return self.root.joinpath(*names)

    def read(self, path: Path, reader: Callable[[Path], T]) -> T | None:
        """``reader(path)``; None when the entry is missing, or unreadable (then with a warning:
        the caller computes it again and overwrites it)."""
        if not path.exists():
            return None
        try:
            return reader(path)
        except UNREADABLE as err:
            log.warning("cache %s: ignoring unreadable entry %s (%s: %s); computing it again",
                        self.name, path, type(err).__name__, err)
            return None

    def write(self, path: Path, writer: Callable[[Path], None]) -> Path:
        """Call ``writer(tmp)`` on a temporary file beside ``path``, then rename it onto
        ``path`` (atomic: a reader sees the old entry or the whole new one)."""
        with atomic_path(path) as tmp:
            writer(tmp)
        return path

    # -- the formats the project stores ------------------------------------------------------

    def read_json(self, path: Path, check: Callable[[Any], None] | None = None) -> Any | None:
        """A JSON entry (None if missing or damaged); ``check(data)`` may raise ValueError to
        reject an entry whose content does not belong under this path."""
        def load(p: Path) -> Any:
            data = read_json(p)
            if check is not None:
                check(data)
            return data
        return self.read(path, load)

    def write_json(self, path: Path, data: Any) -> Path:
        return write_json(path, data)

    def read_npz(self, path: Path) -> dict[str, np.ndarray] | None:
        """Every array of an npz entry, loaded into memory (None if missing or damaged)."""
        def load(p: Path) -> dict[str, np.ndarray]:
            with np.load(p) as z:
                return {k: z[k] for k in z.files}
        return self.read(path, load)

    def write_npz(self, path: Path, compressed: bool = True, **arrays: Any) -> Path:
        save = np.savez_compressed if compressed else np.savez

        def writer(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                save(f, **arrays)
        return self.write(path, writer)


def open_npy(path: str | Path) -> np.ndarray:
    """A ``.npy`` file memory-mapped copy-on-write: nothing is read until used, writes stay in
    this process's memory (so torch can wrap slices without read-only warnings), the file is
    never changed."""
    return np.load(path, mmap_mode="c", allow_pickle=False)


def npy_file_of(array: np.ndarray) -> Path | None:
    """The ``.npy`` file ``array`` is the whole of (a memmap as :func:`open_npy` returns it),
    or None (in memory, a slice or view of one, or not an ``.npy`` file)."""
    filename = getattr(array, "filename", None)
    if not isinstance(array, np.memmap) or not filename or not str(filename).endswith(".npy"):
        return None
    try:
        whole = np.load(filename, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    same = (whole.shape == array.shape and whole.dtype == array.dtype
            and whole.offset == array.offset and array.flags.c_contiguous)
    return Path(filename) if same else None


__all__ = ["DiskCache", "UNREADABLE", "canonical_json", "npy_file_of", "open_npy"]
