"""The claims ledger: every claim of both papers, gathered from each page's ``claims.csv``, with
the paper's evidence and the verdict the same rule gives on the paper's own numbers, this run's
evidence and verdict, its stability across seeds, the data it ran on, and the page it comes
from; the rules as each page applied them (``rules.md``).

A page that failed or was not executed shows as such (one row saying so), never silently
missing; so does a page whose results belong to another build (:mod:`emo_lib.pagekey`: another
book root or another build wrote them into this results folder): they are refused, not read.
What each claim means and how it is tested lives with its paper (``emo_lib.noh2023.claims``,
``emo_lib.jeong2021.claims``); this module only reads result files.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..layout import AGGREGATE_PAGES, book_notebooks, results_root as default_root
from ..pagekey import FOREIGN, page_results_foreign
from ..seeds import MEASURE_COMMAND, NOT_MEASURED
from ..verdicts import NOT_TESTABLE, PAPER_VERDICT, STABILITY, VARIES, VERDICTS

log = logging.getLogger(__name__)

#: Which paper a page belongs to, by its name's prefix.
PAPERS: dict[str, str] = {"noh2023": "Noh & Lim 2023", "jeong2021": "Jeong & Kim 2021"}
PAPER_EVIDENCE = f"evidence ({PAPER_VERDICT})"
LEDGER_COLUMNS: tuple[str, ...] = (
    "paper", "page", "claim_id", "claim", "paper's evidence", "verdict on the paper's numbers",
    "this run's evidence", "verdict", "stability", "data", "page status")
#: A claims.csv written before seeds existed has no stability column: one seed.
ONE_SEED = NOT_MEASURED
#: Page statuses (the runner's build record uses the first three).
EXECUTED, UP_TO_DATE, FAILED, NOT_EXECUTED = "executed", "up to date", "failed", "not executed"
UNREADABLE = "unreadable"


@dataclass
class PageResult:
    """What one page left in its results folder."""

    name: str
    status: str
    claims: pd.DataFrame | None
    record: dict[str, Any] | None

    @property
    def paper(self) -> str | None:
        return next((title for key, title in PAPERS.items() if self.name.startswith(key)), None)

    @property
    def data(self) -> str:
        """"synthetic, cpu (2 threads)" or "real (CAFE, NIMH-ChEFS), cuda ..." from results.json."""
        if not self.record:
            return "unknown"
        kind = "synthetic" if self.record.get("synthetic") else "real"
        return f"{kind}, {self.record.get('device', 'unknown device')}"


def read_page(name: str, results_root: Path, status: str | None = None) -> PageResult:
    """A page's results (``<results_root>/<name>/results.json`` and ``claims.csv``); the status
    comes from the build record when given, else from whether results.json exists. A page that
    failed or was not executed is not read (its files are an earlier run's, not this build's);
    a claims file with verdicts outside the vocabulary marks the page ``unreadable`` (the
    ledger shows why) instead of stopping the ledger."""
    folder = Path(results_root) / name
    record_file, claims_file = folder / "results.json", folder / "claims.csv"
    if status in (FAILED, NOT_EXECUTED):
        return PageResult(name, status, None, None)
    record = json.loads(record_file.read_text()) if record_file.exists() else None
    claims = None
    if claims_file.exists():
        claims = pd.read_csv(claims_file, index_col=0, keep_default_na=False)
        unknown = sorted(set(claims["verdict"]) - set(VERDICTS))
        if unknown:
            log.warning("%s: verdicts %s are not in the vocabulary %s; rebuild that page",
                        claims_file, unknown, list(VERDICTS))
            return PageResult(name, f"{UNREADABLE} (verdicts {', '.join(unknown)} are not in "
                              "the vocabulary: rebuild the page)", None, record)
    if status is None:
        status = EXECUTED if record is not None else NOT_EXECUTED
    return PageResult(name, status, claims, record)


def build_ledger(pages: Sequence[PageResult]) -> pd.DataFrame:
    """One row per claim of every paper page, in book order; a paper page that failed, was
    not executed, or whose results belong to another build gets one row saying so (its claims
    are unknown, not absent)."""
    rows: list[dict[str, Any]] = []
    for page in pages:
        if page.paper is None:
            continue
        if page.status in (FAILED, NOT_EXECUTED) \
                or page.status.startswith((UNREADABLE, FOREIGN)) \
                or (page.claims is None and page.record is None):
            what = (f"({page.status}; not used" if page.status.startswith(FOREIGN)
                    else f"(this page {page.status}")
            rows.append({"paper": page.paper, "page": page.name, "claim_id": "",
                         "claim": f"{what}: its claims are not known in this build)",
                         "paper's evidence": "", "verdict on the paper's numbers": "",
                         "this run's evidence": "", "verdict": NOT_TESTABLE, "stability": "",
                         "data": "",
                         "page status": page.status})
            continue
        if page.claims is None:
            continue  # an executed page without claims (a data or method page)
        for claim_id, c in page.claims.iterrows():
            rows.append({"paper": page.paper, "page": page.name, "claim_id": claim_id,
                         "claim": c["claim"], "paper's evidence": c.get(PAPER_EVIDENCE, ""),
                         "verdict on the paper's numbers": c.get(PAPER_VERDICT, ""),
                         "this run's evidence": c["evidence"], "verdict": c["verdict"],
                         "stability": c.get(STABILITY, "") or ONE_SEED,
                         "data": page.data, "page status": page.status})
    return pd.DataFrame(rows, columns=list(LEDGER_COLUMNS))


def ledger_counts(ledger: pd.DataFrame) -> dict[str, int]:
    """Claims per verdict (every vocabulary word, zeros included), the total, the claims of
    pages that did not run, and the claims whose verdict matches the paper's own numbers'."""
    claims = ledger[ledger["claim_id"] != ""]
    counts = {v: int((claims["verdict"] == v).sum()) for v in VERDICTS}
    counts["total"] = int(len(claims))
    counts["pages_missing"] = int((ledger["claim_id"] == "").sum())
    counts["agree_with_paper_rule"] = int(
        (claims["verdict"] == claims["verdict on the paper's numbers"]).sum())
    return counts


def stability_sentence(ledger: pd.DataFrame) -> str:
    """One sentence on how stable this build's verdicts are across seeds: how many claims were
    computed with several seeds and how many of those vary, or that stability was not
    measured, with the command that measures it."""
    claims = ledger[ledger["claim_id"] != ""]
    measured = claims[~claims["stability"].isin(["", ONE_SEED])]
    if measured.empty:
        return (f"Stability across seeds was not measured in this build (each page ran one "
                f"seed); `{MEASURE_COMMAND}` computes every training-dependent page's claims "
                "with three seeds and labels each claim *stable* or *varies*.")
    varies = int(measured["stability"].str.startswith("varies").sum())
    return (f"{len(measured)} of {len(claims)} claims were computed with several seeds: "
            f"{len(measured) - varies} stable, {varies} varying (their verdict reads "
            f"*{VARIES}*, never one seed's); the other claims come from pages that take no "
            "seed or ran one.")


def ledger_markdown(ledger: pd.DataFrame) -> str:
    """The ledger for a page: per paper, a compact table (claim, the verdict on the paper's
    numbers, this run's verdict, its stability across seeds when some claim was computed with
    several, the page as a ``{doc}`` link) that fits the text column, then every claim's
    evidence on both sides and the data it ran on."""
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    def verdict(value: Any) -> str:
        return f"*{value}*" if value else "–"

    measured = bool((~ledger["stability"].isin(["", ONE_SEED])).any()) \
        if "stability" in ledger.columns else False
    parts = []
    for paper, rows in ledger.groupby("paper", sort=False):
        # the seeds column only when some claim was computed with several seeds (else the
        # stability sentence says it was not measured)
        head = "| claim | paper's numbers | this run |" + (" across seeds |" if measured else "")
        table = [f"### {paper}", "", head + " page |",
                 "|---|---|---|" + ("---|" if measured else "") + "---|"]
        details = [f"**{paper}: the evidence**", ""]
        for _, r in rows.iterrows():
            claim, page = cell(r["claim"]), r["page"]
            theirs, ours = verdict(r[LEDGER_COLUMNS[5]]), verdict(r["verdict"])
            seeds = f" {cell(r.get('stability', '')) or '–'} |" if measured else ""
            table.append(f"| {claim} | {theirs} | {ours} |{seeds} {{doc}}`{page}` |")
            if r["claim_id"]:
                details += [f"- **{claim}**",
                            f"  - paper's numbers ({theirs}): {cell(r[LEDGER_COLUMNS[4]]) or '–'}",
                            f"  - this run ({ours}; {cell(r['data'])}): "
                            f"{cell(r[LEDGER_COLUMNS[6]])}"]
        parts += ["\n".join(table), "\n".join(details)]
    return "\n\n".join(parts)


def rules_by_page(results_root: str | Path | None = None) -> str:
    """Every rule a verdict of this build came from, as the pages applied it (each page's
    ``rules.md``, written by ``Run.claims``, parameters filled in): one bullet per distinct
    rule sentence, with the pages that used it; "" when no page wrote rules."""
    root = Path(results_root) if results_root else default_root()
    pages: dict[str, list[str]] = {}
    for name in book_notebooks():
        path = root / name / "rules.md"
        if name in AGGREGATE_PAGES or not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line.startswith("- "):
                pages.setdefault(line, []).append(name)
    return "\n".join(f"{line} ({', '.join(f'{{doc}}`{p}`' for p in names)})"
                     for line, names in pages.items())


def page_statuses(notebooks: Sequence[str], results_root: Path,
                  build_record: Mapping[str, Any] | None = None) -> dict[str, str | None]:
    """Each page's status from the runner's build record (``{"notebooks": {name: {"status":
    ...}}}``) when there is one, else None (``read_page`` then looks at results.json)."""
    entries = (build_record or {}).get("notebooks", {})
    return {nb: (entries.get(nb) or {}).get("status") for nb in notebooks}


def book_ledger(results_root: str | Path | None = None,
                build_record: str | Path | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """The ledger of this build: every page of the book (in ``_toc.yml`` order) read from
    ``results_root`` (default: this build's), with the runner's build record
    (``<results_root>/build_status.json``) for the pages' statuses when it exists. Results that
    the book's executed copy of their page did not write are refused
    (:func:`emo_lib.pagekey.page_results_foreign`): such a page shows as results from another
    build."""
    from .build_status import read_build_record

    root = Path(results_root) if results_root else default_root()
    record = json.loads(Path(build_record).read_text()) if build_record \
        else read_build_record(root)
    names = [n for n in book_notebooks() if n not in AGGREGATE_PAGES]
    statuses = page_statuses(names, root, record)
    pages = []
    for n in names:
        foreign = None if statuses[n] in (FAILED, NOT_EXECUTED) else page_results_foreign(n, root)
        pages.append(PageResult(n, foreign, None, None) if foreign
                     else read_page(n, root, statuses[n]))
    table = build_ledger(pages)
    return table, ledger_counts(table)


__all__ = [
    "AGGREGATE_PAGES", "EXECUTED", "FAILED", "FOREIGN", "UNREADABLE", "LEDGER_COLUMNS",
    "NOT_EXECUTED", "PAPERS",
    "PageResult", "book_ledger",
    "UP_TO_DATE", "build_ledger", "ledger_counts", "ledger_markdown", "page_statuses",
    "read_page", "rules_by_page", "stability_sentence",
]
