"""Training units: one fold of one cell as a first-class unit of work, a pure function of a
plain-JSON recipe, content-addressed, its result written atomically.

A :class:`Unit` is

* ``kind``: which function computes it, a name registered with :func:`unit_kind` (the recipe
  never names code; a worker computes only kinds registered in its process, and the executors
  send the kinds' functions along, so their modules are imported there: :mod:`.executors`);
* ``spec``: everything that determines the result (data id, model and initial weights, classes,
  training items, augmentation, loss, sampler, device, folds fingerprint, FitConfig, seed,
  validation fraction, torch/torchvision versions, the identity of the device it trains on);
  it is the cache key, with ``kind`` and the digest of the code that computes it (the kind's
  module and this one, with everything they import from emo_lib: :mod:`emo_lib.codedigest`),
  so units computed by other code are never read;
* ``fold``: which fold of the cell;
* ``inputs``: where a worker finds the arrays (``.npy`` files it memory-maps: the uint8 image
  cache, the labels) and how the folds are drawn; not part of the key (paths differ between
  machines, content does not).

Its result (:class:`UnitResult`) is the fold's metrics row, the test fold's logits (float32;
``softmax`` of them are ``predict_proba``'s probabilities), test indices and labels, and timing;
stored as ``<cache>/cv/<key>/fold<f>.npz`` then ``fold<f>.json`` (the JSON, written last and
atomically, marks the unit done). A unit whose files are present is read, never recomputed.

What it does not do: decide where units run (:mod:`.executors`), or what a kind trains (the
function registered for it does).
"""
from __future__ import annotations

import hashlib
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..cache import DiskCache, canonical_json, npy_file_of, open_npy
from ..validation import check_choice

#: The in-process cross-validation's module (the code of units without a kind).
CROSSVAL_MODULE = "emo_lib.train.crossval"

#: A unit kind's computation: ``function(unit, *, arrays=None, progress=False) -> UnitResult``.
KindFunction = Callable[..., "UnitResult"]
#: The registered unit kinds, name -> function (:func:`unit_kind` fills it when the module that
#: defines a kind is imported).
_KINDS: dict[str, KindFunction] = {}

#: Arrays every unit result holds (``npz``).
RESULT_ARRAYS = ("test_index", "y_true", "logits")


@dataclass(frozen=True)
class Unit:
    """One unit of work (see the module docstring). ``label``: a short description for
    progress and error messages (not keyed)."""

    kind: str
    spec: Mapping[str, Any]
    fold: int
    inputs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        kind_function(self.kind)       # raises naming the registered kinds
        if isinstance(self.fold, bool) or not isinstance(self.fold, (int, np.integer)) \
                or self.fold < 0:
            raise ValueError(f"fold must be an integer >= 0, got {self.fold!r}")
        canonical_json(self.spec)      # raises TypeError naming what is not plain JSON
        canonical_json(self.inputs)

    @property
    def key(self) -> str:
        """The content address of the unit's cell (all folds share it; the fold names the file)."""
        return unit_key(self.kind, self.spec)

    @property
    def id(self) -> str:
        """``<key>/fold<f>``: unique per unit."""
        return f"{self.key}/fold{int(self.fold)}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "spec": self.spec, "fold": int(self.fold),
                "inputs": self.inputs, "label": self.label}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Unit":
        """A unit from :meth:`to_json`'s output; ValueError naming what is missing or extra."""
        allowed = {"kind", "spec", "fold", "inputs", "label"}
        missing = {"kind", "spec", "fold"} - set(data)
        extra = set(data) - allowed
        if missing or extra:
            raise ValueError(f"a unit recipe needs {sorted(allowed)}; missing {sorted(missing)}, "
                             f"unknown {sorted(extra)}")
        return cls(kind=data["kind"], spec=data["spec"], fold=int(data["fold"]),
                   inputs=data.get("inputs") or {}, label=data.get("label", ""))


@dataclass
class UnitResult:
    """What computing a unit gives: the metrics ``row`` (plain JSON), ``arrays`` (at least
    :data:`RESULT_ARRAYS`) and ``timing`` (epochs run, seconds per epoch, training items,
    device), which ``emo-book plan`` uses to estimate GPU hours."""

    row: dict[str, Any]
    arrays: dict[str, np.ndarray]
    timing: dict[str, Any] = field(default_factory=dict)


def unit_key(kind: str | None, spec: Mapping[str, Any]) -> str:
    """The key of ``spec`` computed by ``kind`` (None: the callables-based
    :func:`emo_lib.train.cached_cross_validate`): the spec and the digest of the code that
    computes it (the kind's module, or :mod:`.crossval`, and this one)."""
    if kind is None:
        return unit_store(True).key(spec, code=(CROSSVAL_MODULE,))
    module = kind_module(kind)
    if module.split(".")[0] == "emo_lib":
        return unit_store(True).key({"kind": kind, "spec": spec}, code=(module,))
    # A kind registered outside emo_lib (a user's, a test's): its module's source stands in for
    # the code digest, which covers emo_lib only.
    source = inspect.getsource(sys.modules[module]).encode()
    return unit_store(True).key({"kind": kind, "spec": spec}, hashlib.sha256(source).digest())


def kind_module(kind: str) -> str:
    """The module that defines the function computing units of ``kind`` (its code is part of
    the units' keys)."""
    return kind_function(kind).__module__


def unit_store(cache: bool | str | Path | DiskCache | None = True) -> DiskCache | None:
    """The results cache: True (``$EMO_CACHE/cv``), a folder, a DiskCache, or None / False
    (no cache)."""
    if cache is None or cache is False:
        return None
    if isinstance(cache, DiskCache):
        return cache
    return DiskCache("cv", code=(__name__,), root=None if cache is True else Path(cache))


def result_paths(store: DiskCache, key: str, fold: int) -> tuple[Path, Path]:
    """(JSON, npz) of a unit's result."""
    return store.path(key, f"fold{int(fold)}.json"), store.path(key, f"fold{int(fold)}.npz")


def is_done(store: DiskCache, key: str, fold: int) -> bool:
    """True when both result files exist (cheap: no file is read)."""
    json_path, npz_path = result_paths(store, key, fold)
    return json_path.is_file() and npz_path.is_file()


def read_result(store: DiskCache, key: str, fold: int) -> dict[str, Any] | None:
    """A unit's record (``row``, ``columns``, ``spec``, ``timing``...), or None when it is
    missing or damaged (then with a warning: it is computed again)."""
    json_path, npz_path = result_paths(store, key, fold)

    def check(record: Any) -> None:
        if record.get("key") != key or int(record["row"]["fold"]) != int(fold):
            raise ValueError("key or fold does not match its file name")
        if not npz_path.is_file():
            raise ValueError(f"its arrays {npz_path.name} are missing")
    return store.read_json(json_path, check)


def read_arrays(store: DiskCache, key: str, fold: int) -> dict[str, np.ndarray] | None:
    """A unit's arrays (``test_index``, ``y_true``, ``logits``), or None."""
    return store.read_npz(result_paths(store, key, fold)[1])


def write_result(store: DiskCache, key: str, fold: int, spec: Mapping[str, Any],
                 result: UnitResult, unit: Unit | None = None) -> dict[str, Any]:
    """Write a unit's arrays, then its JSON record (each atomically; the JSON last, so a unit
    is done only when both are whole). Returns the record."""
    missing = [a for a in RESULT_ARRAYS if a not in result.arrays]
    if missing:
        raise ValueError(f"a unit result needs the arrays {list(RESULT_ARRAYS)}; "
                         f"missing {missing}")
    json_path, npz_path = result_paths(store, key, fold)
    store.write_npz(npz_path, **result.arrays)
    row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.row.items()}
    record = {"key": key, "spec": dict(spec), "row": row, "columns": list(row),
              "timing": result.timing, "arrays": npz_path.name,
              "unit": None if unit is None else unit.to_json()}
    store.write_json(json_path, record)
    return record


def row_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics row of a record, columns in their original order (JSON sorts keys)."""
    return {c: record["row"][c] for c in record["columns"]}


def unit_kind(name: str) -> Callable[[KindFunction], KindFunction]:
    """Register the decorated function as the computation of units of kind ``name``::

        @unit_kind("jeong2021.fold")
        def train_fold_unit(unit, *, arrays=None, progress=False) -> UnitResult: ...

    A name belongs to one function (registering it again from the same place, as a reload
    does, replaces it)."""
    def register(function: KindFunction) -> KindFunction:
        known = _KINDS.get(name)
        if known is not None and _qualified(known) != _qualified(function):
            raise ValueError(f"unit kind {name} is {_qualified(known)} already; "
                             f"{_qualified(function)} needs a name of its own")
        _KINDS[name] = function
        return function
    return register


def _qualified(function: Any) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def unit_kinds() -> list[str]:
    """The names of the kinds registered in this process."""
    return sorted(_KINDS)


def kind_function(kind: str) -> KindFunction:
    """The function registered for ``kind``; ValueError naming the registered kinds."""
    return _KINDS[check_choice("unit kind", kind, unit_kinds())]


def compute(unit: Unit, store: DiskCache | None, *, arrays: Mapping[str, np.ndarray] | None = None,
            progress: bool = False) -> dict[str, Any]:
    """Compute ``unit`` (its kind's function on its recipe) and store the result; returns the
    record. ``arrays``: in-memory inputs (``images``, ``labels``) that replace ``unit.inputs``'
    files (the inline executor passes the page's arrays instead of writing them out)."""
    result = kind_function(unit.kind)(unit, arrays=arrays, progress=progress)
    if store is None:
        row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.row.items()}
        return {"key": unit.key, "spec": dict(unit.spec), "row": row, "columns": list(row),
                "timing": result.timing, "unit": unit.to_json()}
    return write_result(store, unit.key, unit.fold, unit.spec, result, unit)


# ------------------------------------------------------------------------------ worker inputs

def open_array(path: str | Path) -> np.ndarray:
    """A unit input (``.npy``) memory-mapped copy-on-write; ValueError when the worker cannot
    see it."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"unit input {p} does not exist: the worker cannot see the file the "
                         "recipe names (on a cluster, $EMO_CACHE must be on a shared file system)")
    return open_npy(p)


def array_store() -> DiskCache:
    """Where in-memory arrays go so that workers can memory-map them (``$EMO_CACHE/arrays``)."""
    return DiskCache("arrays", code=())   # entries are their content, named by its hash


def share_array(array: np.ndarray, content_id: str | None = None) -> Path:
    """A ``.npy`` file holding ``array`` for workers: its own file if it is a whole-file
    memmap (the uint8 image cache), else a copy under :func:`array_store`, named by its content
    (written once, atomically)."""
    own = npy_file_of(array)
    if own is not None:
        return own
    store = array_store()
    if content_id is None:
        h = hashlib.sha256(f"{array.shape}|{array.dtype}|".encode())
        h.update(np.ascontiguousarray(array).tobytes())
        content_id = h.hexdigest()[:32]
    path = store.path(f"{store.key(content_id, length=32)}.npy")
    if not path.is_file():
        def writer(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.save(f, np.ascontiguousarray(array), allow_pickle=False)
        store.write(path, writer)
    return path


__all__ = ["KindFunction", "RESULT_ARRAYS", "Unit", "UnitResult", "compute",
           "is_done", "kind_function", "kind_module", "open_array", "read_arrays",
           "read_result", "result_paths", "row_of", "share_array", "unit_key", "unit_kind",
           "unit_kinds", "unit_store", "write_result"]
