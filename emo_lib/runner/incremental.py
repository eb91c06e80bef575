"""Is a notebook's executed copy still current? Its inputs, their key, and the rule.

The inputs of one execution, each reduced to something small and JSON-able:

- ``notebook``: SHA-256 of the source notebook's cells (type, source, tags); outputs and other
  metadata do not count, so regenerating the .ipynb from the same jupytext source changes nothing;
- ``parameters``: the parameters injected into it (the rest are in the notebook);
- ``emo_lib``: the digest of the emo_lib code the notebook imports, transitively, normalised so
  that comments and docstrings do not count (:func:`emo_lib.codedigest.notebook_code_digest`:
  the one rule every cache key follows too), so an edit re-runs exactly the pages whose code it
  touches;
- ``lock``: SHA-256 of ``requirements-lock.txt``;
- ``kernel`` and ``profile``: names (a page shows the profile it was built with);
- ``arithmetic``: the compute settings (determinism, CPU pin, data path) and the CPU capability
  and thread count the kernels will compute with (:meth:`ComputeSettings.kernel_arithmetic`):
  torch's numbers follow them, so a page built under AVX-512 is stale for an AVX2 build;
- ``data``: a fingerprint of each data set the parameters name (``emo_lib.data.fingerprint``);
- ``results`` (aggregate pages only, :data:`.notebooks.AGGREGATE_PAGES`): a digest of the other
  pages' result files (and of the reader's runs), which such a page is built from.

The key is the SHA-256 of all of them. An executed copy records its key and inputs in its
metadata (``metadata["emo_book"]``, written by :mod:`.execute`, which also hands the key to the
kernel, whose ``results.json`` records it: :mod:`emo_lib.pagekey`); it is up to date when the key
matches, its last run succeeded and its ``results/<nb>/results.json`` exists and was written by
that execution (not by another build sharing the results folder). Executor settings are
deliberately not inputs: every executor must give the same numbers.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..codedigest import notebook_code_digest
from ..layout import AGGREGATE_PAGES, lock_file, results_root, runs_dir
from ..pagekey import copy_record, foreign_results
from .parameters import dataset_pairs, merged_parameters


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, default=str, separators=(",", ":")).encode()


def notebook_digest(path: Path) -> str:
    """Cells' types, sources and tags of a notebook file (outputs and other metadata ignored)."""
    nb = json.loads(Path(path).read_text())
    cells = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        cells.append([cell.get("cell_type"), text,
                      sorted(cell.get("metadata", {}).get("tags", []))])
    return _sha(_canonical(cells))


def file_digest(path: Path) -> str | None:
    return _sha(path.read_bytes()) if path.exists() else None


#: The files an aggregate page reads from each page's results folder.
RESULT_FILES = ("results.json", "claims.csv")


def results_digest(exclude: tuple[str, ...] = AGGREGATE_PAGES) -> str:
    """Every page's result files (:data:`RESULT_FILES`) under the results folder, and every
    run's under ``runs/``, except the aggregate pages' own."""
    digest = hashlib.sha256()
    for root in (results_root(), runs_dir()):
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.name in RESULT_FILES and path.parent.name not in exclude:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(_sha(path.read_bytes()).encode() + b"\n")
    return digest.hexdigest()


class DataFingerprints:
    """Fingerprints of the data sets of one build, each (name, root, options) computed once."""

    def __init__(self) -> None:
        self._cache: dict[bytes, dict[str, Any]] = {}

    def __call__(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        from ..data.fingerprint import dataset_fingerprint

        out = []
        for pair in dataset_pairs(params):
            token = _canonical([pair["dataset"], pair["root"], pair["options"]])
            if token not in self._cache:
                self._cache[token] = dataset_fingerprint(pair["dataset"], pair["root"],
                                                         pair["options"])
            out.append({"parameter": pair["prefix"]} | self._cache[token])
        return out


class InputsOf:
    """Computes :func:`inputs` for the notebooks of one build, sharing what they have in common
    (the lock digest, the data fingerprints)."""

    def __init__(self, *, kernel: str, profile: str,
                 arithmetic: dict[str, Any] | None = None) -> None:
        self.common = {"lock": file_digest(lock_file()), "kernel": kernel, "profile": profile}
        if arithmetic is not None:
            self.common["arithmetic"] = arithmetic
        self.data = DataFingerprints()

    def __call__(self, name: str, source: Path, params: dict[str, Any]) -> dict[str, Any]:
        inputs = {"notebook": notebook_digest(source), "emo_lib": notebook_code_digest(source),
                  "parameters": params,
                  "data": self.data(merged_parameters(name, params))} | self.common
        if name in AGGREGATE_PAGES:  # read when it executes: after the pages it gathers
            inputs["results"] = results_digest()
        return inputs


def key_of(inputs: dict[str, Any]) -> str:
    return _sha(_canonical(inputs))


def recorded(executed: Path) -> dict[str, Any] | None:
    """The ``emo_book`` record of an executed copy, or None (absent, unreadable, no record)."""
    return copy_record(executed)


def results_file(name: str) -> Path:
    return results_root() / name / "results.json"


def staleness(name: str, executed: Path, inputs: dict[str, Any]) -> str | None:
    """None if ``executed`` is up to date for ``inputs``; else why not, in a few words."""
    record = recorded(executed)
    if record is None:
        return "never executed" if not executed.exists() else "no build record in the copy"
    if record.get("status") != "ok":
        return f"last run {record.get('status', 'unknown')}"
    if record.get("key") != key_of(inputs):
        before = record.get("inputs") or {}
        changed = [k for k in inputs if _canonical(before.get(k)) != _canonical(inputs[k])]
        return "changed: " + (", ".join(changed) or "key")
    if not results_file(name).exists():
        return "results.json missing"
    foreign = foreign_results(results_file(name), executed, copy_key=record.get("key"))
    if foreign is not None:
        return foreign
    return None
