"""Re-executed runs side by side: every ``emo-book run`` a reader made (``runs/<page>-<time>/``)
set against the book's own run of that page and, for claims, the paper's.

For each run: the parameters that differ from the book's run, and its glued values and claim
verdicts beside the book's (and the verdict the same rule gives on the paper's own numbers).
Runs are the reader's: this module only reads them, never moves or overwrites them. Results
that the executed copy beside them did not write (the book's results written by another build; a
run folder whose notebook and results come from two executions) are refused: they are listed
with the reason (:func:`refused_note`) and never enter the tables (:mod:`emo_lib.pagekey`).
The machine counts too: torch's arithmetic follows the CPU's instruction set (AVX-512, AVX2),
the GPU and the determinism setting, so a run computed on another machine than the book's can
differ without any parameter changing; :func:`machine_flags` says so for each such run, and the
parameter table shows the machine's differing fields (rows ``machine: ...``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..layout import executed_dir
from ..pagekey import foreign_results
from ..verdicts import PAPER_VERDICT

BOOK = "book"


@dataclass
class RunRecord:
    """One execution of one page: where it lives, its results.json and claims.csv."""

    label: str              # "book" or the run folder's name
    notebook: str
    folder: Path
    record: dict[str, Any]
    claims: pd.DataFrame | None
    html: Path | None       # the run rendered as HTML, when the runner made one
    foreign: str | None = None  # why its results are not its executed copy's (then unused)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.record.get("params", {}))

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.record.get("values", {}))

    @property
    def machine(self) -> dict[str, Any]:
        """What the run's provenance recorded of its machine (empty for an older run)."""
        return dict((self.record.get("provenance") or {}).get("machine") or {})


#: The machine's fields that change numbers, as the tables name them.
MACHINE_FIELDS: dict[str, str] = {
    "cpu_capability": "CPU capability", "pin_cpu": "CPU pinned to", "threads": "threads",
    "blas": "BLAS", "gpu": "GPU", "deterministic": "deterministic",
}


def _machine_value(run: RunRecord, field: str) -> Any:
    value = run.machine.get(field)
    if field == "gpu" and isinstance(value, dict):
        return f"{value.get('name')} (compute {value.get('capability')})"
    return value


def machine_flags(book: RunRecord | None, runs: Sequence[RunRecord]) -> list[str]:
    """One sentence per run computed with other arithmetic than the book's run (another CPU
    capability, CPU pin, GPU or determinism setting), naming both; [] when every run matches
    or either side did not record its machine."""
    if book is None or not book.machine:
        return []
    flags = []
    for run in runs:
        if not run.machine:
            continue
        differ = [f"{MACHINE_FIELDS[f]} {_machine_value(run, f)} (the book: "
                  f"{_machine_value(book, f)})" for f in ("cpu_capability", "pin_cpu", "gpu",
                                                          "deterministic")
                  if _machine_value(run, f) != _machine_value(book, f)]
        if differ:
            flags.append(f"Run {run.label} was computed with other arithmetic than the book's: "
                         + "; ".join(differ) + ". Its numbers can differ from the book's with "
                         "the same parameters and seed (short trainings amplify last-bit "
                         "differences); to compare like with like, rebuild with "
                         "`--pin-cpu avx2` on both machines.")
    return flags


def _read(label: str, notebook: str, results: Path, folder: Path, executed: Path
          ) -> RunRecord | None:
    record_file = results / notebook / "results.json"
    if not record_file.exists():
        return None
    record = json.loads(record_file.read_text())
    foreign = foreign_results(record, executed)
    claims_file = results / notebook / "claims.csv"
    claims = pd.read_csv(claims_file, index_col=0, keep_default_na=False) \
        if claims_file.exists() and foreign is None else None
    html = folder / f"{notebook}.html"
    return RunRecord(label, notebook, folder, record, claims, html if html.exists() else None,
                     foreign)


def find_runs(runs_root: Path) -> list[RunRecord]:
    """Every run under ``runs_root`` (``<page>-<time>/results/<page>/results.json``, beside
    the run's executed ``<page>.ipynb``), oldest first; folders without results (a run that
    failed before writing any) are skipped; results the copy beside them did not write are
    marked ``foreign``."""
    found = []
    for folder in sorted(Path(runs_root).glob("*")):
        results = folder / "results"
        if not results.is_dir():
            continue
        for page in sorted(p.name for p in results.iterdir() if p.is_dir()):
            run = _read(folder.name, page, results, folder, folder / f"{page}.ipynb")
            if run is not None:
                found.append(run)
    return found


def book_run(notebook: str, results_root: Path, executed: Path | None = None
             ) -> RunRecord | None:
    """The book's own run of ``notebook`` (``results/<notebook>``), if it was executed; marked
    ``foreign`` unless the book's executed copy (``executed``, default
    ``executed/<notebook>.ipynb`` of this book) wrote it."""
    return _read(BOOK, notebook, Path(results_root), Path(results_root) / notebook,
                 Path(executed) if executed else executed_dir() / f"{notebook}.ipynb")


def _usable(book: RunRecord | None, runs: Sequence[RunRecord]
            ) -> tuple[RunRecord | None, list[RunRecord]]:
    """The records whose results are their own execution's (the others are refused)."""
    return (book if book is not None and not book.foreign else None,
            [r for r in runs if not r.foreign])


def refused_note(book: RunRecord | None, runs: Sequence[RunRecord]) -> str:
    """Markdown naming each record left out of the tables, and why ("" when none is)."""
    lines = [f"- {'the book' if r.label == BOOK else f'`{r.label}`'}: {r.foreign}"
             for r in ([book] if book is not None else []) + list(runs) if r.foreign]
    return ("Not shown, their results are not the executions beside them:\n" + "\n".join(lines)
            if lines else "")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def parameter_table(book: RunRecord | None, runs: Sequence[RunRecord]) -> pd.DataFrame:
    """Rows: every parameter that differs between the book's run and any run (a run's changed
    seed, model or sample count), then every machine field that differs (``machine: CPU
    capability``...; :data:`MACHINE_FIELDS`); columns: the book's value, then each run's
    (refused records left out)."""
    book, runs = _usable(book, runs)
    columns = ([book] if book else []) + list(runs)
    names = sorted({k for r in columns for k in r.params})
    changed = [k for k in names
               if len({json.dumps(r.params.get(k), sort_keys=True, default=str)
                       for r in columns}) > 1]
    recorded = [r for r in columns if r.machine]
    machine = [f for f in MACHINE_FIELDS if len(recorded) > 1
               and len({json.dumps(_machine_value(r, f), default=str) for r in recorded}) > 1]
    rows = {r.label: [r.params.get(k, "") for k in changed]
            + [("" if not r.machine else _machine_value(r, f)) for f in machine]
            for r in columns}
    index = changed + [f"machine: {MACHINE_FIELDS[f]}" for f in machine]
    return pd.DataFrame(rows, index=pd.Index(index, name="parameter"))


def value_table(book: RunRecord | None, runs: Sequence[RunRecord]) -> pd.DataFrame:
    """Rows: every glued value and every claim's verdict; columns: the paper (its own numbers'
    verdict, for claims), the book's run, each run, and for numbers each run's difference from
    the book (refused records left out)."""
    book, runs = _usable(book, runs)
    columns = ([book] if book else []) + list(runs)
    keys = list(dict.fromkeys(k for r in columns for k in r.values))
    data: dict[str, list[Any]] = {}
    claim_ids = list(dict.fromkeys(i for r in columns if r.claims is not None
                                   for i in r.claims.index))
    paper_col = []
    for cid in claim_ids:
        verdicts = [r.claims.loc[cid, PAPER_VERDICT] for r in columns
                    if r.claims is not None and cid in r.claims.index
                    and PAPER_VERDICT in r.claims.columns]
        paper_col.append(verdicts[0] if verdicts else "")
    rows = [f"verdict: {c}" for c in claim_ids] + keys
    data["paper"] = paper_col + [""] * len(keys)
    for r in columns:
        verdicts = [r.claims.loc[c, "verdict"] if r.claims is not None and c in r.claims.index
                    else "" for c in claim_ids]
        data[r.label] = verdicts + [r.values.get(k, "") for k in keys]
        if book is not None and r is not book:
            diffs = []
            for k in keys:
                a, b = r.values.get(k), book.values.get(k)
                numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool)
                              for x in (a, b))
                diffs.append(a - b if numeric and not _same(a, b) else
                             (0 if numeric else ""))
            data[f"{r.label} - book"] = [""] * len(claim_ids) + diffs
    return pd.DataFrame(data, index=pd.Index(rows, name="value"))


__all__ = ["BOOK", "MACHINE_FIELDS", "RunRecord", "book_run", "find_runs", "machine_flags",
           "parameter_table", "refused_note", "value_table"]
