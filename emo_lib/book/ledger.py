"""The claims ledger: every claim of both papers, once, gathered from each page's ``claims.csv``
(the claims contract: CONTRACTS.md), with the paper's numbers and the verdict the same rule gives
on them, this run's numbers (with their interval) and verdict, its stability across seeds, its
tags, and the page(s) it comes from; above it the two headline summaries (the re-analysis of the
papers' own numbers, and this build's demonstration with the data it ran on); below it the rules
as each page applied them (``rules.md``), checked against every rule :data:`emo_lib.verdicts.
RULES` holds.

A claim tested on several pages (the same ``claim_id`` of the same paper, such as paper 2's
Table 4 claim on the Table 4 and Fig. 5 pages) is one row: it shows the numbers of the first of
those pages in book order, the page of the claim's own table, and names the others with their
verdicts; it is counted once. A page that failed or was not executed shows as such (one row
saying so), never silently missing; so does a page whose results belong to another build
(:mod:`emo_lib.pagekey`): they are refused, not read. What each claim means and how it is tested
lives with its paper (``emo_lib.noh2023.claims``, ``emo_lib.jeong2021.claims``); this module
only reads result files and writes MyST (verdict chips are sphinx-design badges, coloured by the
book's ``_static/emo.css``: colour and the word).
"""
from __future__ import annotations

import json
import logging
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..layout import AGGREGATE_PAGES, book_notebooks, results_root as default_root
from ..pagekey import FOREIGN, page_results_foreign
from ..seeds import MEASURE_COMMAND, NOT_MEASURED
from ..verdicts import (BY_CONSTRUCTION, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE,
                        PAPER_EVIDENCE, PAPER_VERDICT, PARTLY_SUPPORTED, RULE_VERDICTS, RULES,
                        STABILITY, SUPPORTED, VARIES, VERDICTS)

log = logging.getLogger(__name__)

#: Which paper a page belongs to, by its name's prefix.
PAPERS: dict[str, str] = {"noh2023": "Noh & Lim 2023", "jeong2021": "Jeong & Kim 2021"}
LEDGER_COLUMNS: tuple[str, ...] = (
    "paper", "page", "claim_id", "claim", "paper_value", "paper's evidence",
    "verdict on the paper's numbers", "value", "detectable", "this run's evidence", "verdict",
    "stability", "tags", "construction", "synthetic", "data", "datasets", "profile",
    "page status", "also")
#: A claims.csv written before seeds existed has no stability column: one seed.
ONE_SEED = NOT_MEASURED
#: Page statuses (the runner's build record uses the first three).
EXECUTED, UP_TO_DATE, FAILED, NOT_EXECUTED = "executed", "up to date", "failed", "not executed"
UNREADABLE = "unreadable"
#: The tag the ledger adds to a claim computed on synthetic data (from the page's results.json).
SYNTHETIC = "synthetic"
#: Each verdict's chip: a sphinx-design badge role (``_static/emo.css`` sets its colours).
CHIPS: dict[str, str] = {SUPPORTED: "bdg-success", PARTLY_SUPPORTED: "bdg-success-line",
                         INCONCLUSIVE: "bdg-warning", CONTRADICTED: "bdg-danger",
                         NOT_TESTABLE: "bdg-secondary-line", VARIES: "bdg-info"}
#: A claim whose page did not run in this build: its verdict is not known.
NOT_KNOWN = "not known"
#: The CSS class of everything holding chips (their colours are scoped to it).
CHIP_SCOPE = "emo-verdicts"


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
    def synthetic(self) -> bool | None:
        """Whether results.json says the page ran on synthetic data (None: unknown)."""
        return None if not self.record else bool(self.record.get("synthetic"))

    @property
    def data(self) -> str:
        """"synthetic, cpu (2 threads)" or "real, cuda ..." from results.json."""
        if not self.record:
            return "unknown"
        kind = SYNTHETIC if self.record.get("synthetic") else "real"
        return f"{kind}, {self.record.get('device', 'unknown device')}"

    @property
    def datasets(self) -> str:
        """The data sets the page used, by name, from results.json ("" when none recorded)."""
        names = [str(d.get("name")) for d in (self.record or {}).get("datasets", [])
                 if isinstance(d, Mapping) and d.get("name")]
        return ", ".join(dict.fromkeys(names))

    @property
    def profile(self) -> str:
        prov = (self.record or {}).get("provenance") or {}
        return str(prov.get("profile") or "")


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


def _tags(page: PageResult, claim: Mapping[str, Any]) -> str:
    """The claim's tags ("; "-joined): "synthetic" from the page's results.json, then the
    claims table's own (by construction, descriptive only)."""
    tags = [SYNTHETIC] if page.synthetic else []
    tags += [t for t in str(claim.get("tags", "") or "").split("; ") if t]
    return "; ".join(dict.fromkeys(tags))


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def build_ledger(pages: Sequence[PageResult]) -> pd.DataFrame:
    """One row per claim of every paper page, in book order; a paper page that failed, was
    not executed, or whose results belong to another build gets one row saying so (its claims
    are unknown, not absent). A claim of the same paper tested on several pages (the same
    ``claim_id``) is one row, the first page's (book order): ``also`` names the others with
    their verdicts ("page: verdict", "; "-joined)."""
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for page in pages:
        if page.paper is None:
            continue
        common = {"paper": page.paper, "page": page.name, "synthetic": page.synthetic,
                  "data": page.data, "datasets": page.datasets, "profile": page.profile,
                  "page status": page.status, "also": ""}
        if page.status in (FAILED, NOT_EXECUTED) \
                or page.status.startswith((UNREADABLE, FOREIGN)) \
                or (page.claims is None and page.record is None):
            what = (f"({page.status}; not used" if page.status.startswith(FOREIGN)
                    else f"(this page {page.status}")
            rows.append({c: "" for c in LEDGER_COLUMNS} | common | {
                "claim": f"{what}: its claims are not known in this build)",
                "verdict": NOT_TESTABLE, "data": ""})
            continue
        if page.claims is None:
            continue  # an executed page without claims (a data or method page)
        for claim_id, c in page.claims.iterrows():
            key = (page.paper, str(claim_id))
            if key in seen:  # the same claim on a later page: named beside the first's row
                first = seen[key]
                if _text(c["claim"]) != first["claim"]:
                    log.warning("claim %s is worded differently on %s and %s; the ledger "
                                "shows %s's", claim_id, first["page"], page.name, first["page"])
                first["also"] = "; ".join(filter(None, [first["also"],
                                                        f"{page.name}: {c['verdict']}"]))
                continue
            row = common | {
                "claim_id": str(claim_id), "claim": _text(c["claim"]),
                "paper_value": _text(c.get("paper_value", "")),
                "paper's evidence": _text(c.get(PAPER_EVIDENCE, "")),
                "verdict on the paper's numbers": _text(c.get(PAPER_VERDICT, "")),
                "value": _text(c.get("value", "")), "detectable": _text(c.get("detectable", "")),
                "this run's evidence": _text(c["evidence"]), "verdict": c["verdict"],
                "stability": _text(c.get(STABILITY, "")) or ONE_SEED,
                "tags": _tags(page, c), "construction": _text(c.get("construction", ""))}
            seen[key] = row
            rows.append(row)
    return pd.DataFrame(rows, columns=list(LEDGER_COLUMNS))


def _claims(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger[ledger["claim_id"] != ""]


def testable_both(ledger: pd.DataFrame) -> pd.DataFrame:
    """The claims testable on both sides: this run's verdict and the paper's numbers' each
    something other than *not testable* (and known)."""
    claims = _claims(ledger)
    theirs = claims["verdict on the paper's numbers"]
    return claims[(claims["verdict"] != NOT_TESTABLE) & (theirs != NOT_TESTABLE)
                  & (theirs != "")]


def ledger_counts(ledger: pd.DataFrame) -> dict[str, int]:
    """Claims per verdict of this run (every vocabulary word, zeros included) and, as
    ``paper <verdict>``, per verdict on the paper's own numbers; the total; the pages that did
    not run (``pages_missing``); the claims testable on both sides (``testable_both``) and on
    how many of those the two verdicts agree (``agree``)."""
    claims = _claims(ledger)
    counts = {v: int((claims["verdict"] == v).sum()) for v in VERDICTS}
    theirs = claims["verdict on the paper's numbers"]
    counts |= {f"paper {v}": int((theirs == v).sum()) for v in RULE_VERDICTS}
    counts["paper total"] = int(theirs.isin(RULE_VERDICTS).sum())
    counts["total"] = int(len(claims))
    counts["pages_missing"] = int((ledger["claim_id"] == "").sum())
    both = testable_both(ledger)
    counts["testable_both"] = int(len(both))
    counts["agree"] = int((both["verdict"] == both["verdict on the paper's numbers"]).sum())
    return counts


def stability_sentence(ledger: pd.DataFrame) -> str:
    """One sentence on how stable this build's verdicts are across seeds: how many claims were
    computed with several seeds and how many of those vary, or that stability was not
    measured, with the command that measures it."""
    claims = _claims(ledger)
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


# --------------------------------------------------------------------------- MyST

def chip(verdict: str, text: str | None = None) -> str:
    """A verdict as a coloured chip that also says the word (sphinx-design badge)."""
    role = CHIPS.get(verdict, "bdg-secondary-line")
    return f"{{{role}}}`{_role_text(text if text is not None else verdict or NOT_KNOWN)}`"


def _role_text(text: str) -> str:
    return text.replace("`", "'").replace("\n", " ")


def _inline(text: Any) -> str:
    """Claim and evidence text for one line of MyST (no line breaks)."""
    return " ".join(_text(text).split())


def _counts_line(counts: Mapping[str, int], prefix: str = "") -> str:
    """Chips with their counts, every verdict of the vocabulary (zeros too; *varies* only when
    it occurs)."""
    words = RULE_VERDICTS + ((VARIES,) if counts.get(f"{prefix}{VARIES}") else ())
    return " ".join(chip(v, f"{counts.get(f'{prefix}{v}', 0)} {v}") for v in words)


def _kinds(ledger: pd.DataFrame) -> str:
    """"synthetic", "real" or "synthetic and real": what this build's claims ran on."""
    flags = set(_claims(ledger)["synthetic"].dropna().astype(bool))
    return {frozenset({True}): SYNTHETIC, frozenset({False}): "real"}.get(
        frozenset(flags), "synthetic and real")


def data_sentence(ledger: pd.DataFrame) -> str:
    """The data this build's claims ran on, from the pages' results.json: its kind, the data
    sets by name, the profiles and devices."""
    claims = _claims(ledger)
    if claims.empty:
        return "No page of this build computed claims."
    names = ", ".join(dict.fromkeys(n for d in claims["datasets"] for n in str(d).split(", ")
                                    if n))
    profiles = ", ".join(f"`{p}`" for p in dict.fromkeys(claims["profile"]) if p)
    devices = "; ".join(dict.fromkeys(str(d).split(", ", 1)[-1] for d in claims["data"] if d))
    kind = _kinds(ledger)
    what = {SYNTHETIC: "the embedded synthetic data", "real": "the real data"}.get(
        kind, "synthetic and real data")
    return (f"Data: {what}" + (f" ({names})" if names else "")
            + (f"; profile {profiles}" if profiles else "")
            + (f"; {devices}" if devices else "") + ".")


def _named(rows: pd.DataFrame, column: str) -> str:
    return "\n".join(f"- {_inline(r['claim'])} {chip(r[column])} ({{doc}}`{r['page']}`)"
                      for _, r in rows.iterrows())


def headlines_markdown(ledger: pd.DataFrame) -> str:
    """The two headline boxes above the ledger: the re-analysis of the papers' own numbers
    (counts per verdict, and the claims those numbers do not support, named), and this build's
    result (counts per verdict, the data it ran on, said synthetic when it is, its stability
    across seeds, and the agreement counted over the claims testable on both sides)."""
    counts = ledger_counts(ledger)
    claims = _claims(ledger)
    theirs = claims["verdict on the paper's numbers"]
    known = int(theirs.isin(RULE_VERDICTS).sum())
    against = claims[theirs.isin([INCONCLUSIVE, CONTRADICTED])]
    partly = claims[theirs == PARTLY_SUPPORTED]
    paper = [f"The same rules, applied to the numbers the papers themselves print, on "
             f"{known} claims:", "", _counts_line(counts, "paper "), "",
             f"*{NOT_TESTABLE}*: the paper's evidence is pictures, or means with no spread to "
             "test."]
    if len(against):
        paper += ["", "**Not supported by the papers' own numbers:**", "",
                  _named(against, "verdict on the paper's numbers")]
    else:
        paper += ["", "Every claim the papers' own numbers can test is supported by them, at "
                  "least in part."]
    if len(partly):
        paper += ["", "**Supported only in part:**", "",
                  _named(partly, "verdict on the paper's numbers")]
    missing = counts["pages_missing"]
    if missing:
        paper += ["", f"The claims of {missing} page{'s' if missing != 1 else ''} that did not "
                  "run in this build are not counted (their claims are not known)."]
    kind = _kinds(ledger)
    title = {SYNTHETIC: "This build's demonstration on synthetic data",
             "real": "This build's results on the real data"}.get(
        kind, "This build's results on synthetic and real data")
    run = [f"{counts['total']} claims:", "", _counts_line(counts), "", data_sentence(ledger)]
    if kind == SYNTHETIC:
        run += ["", "Synthetic numbers measure the generator's mechanisms, not the papers' "
                "data: read them as a working demonstration of the method, never as a "
                "reproduction of the papers' results."]
    constructed = int(claims["tags"].str.contains(BY_CONSTRUCTION, regex=False).sum())
    if constructed:
        run += ["", f"{constructed} of them are *{BY_CONSTRUCTION}*: the generator decides "
                "their outcome (each row says which setting)."]
    run += ["", stability_sentence(ledger), "",
            f"On the {counts['testable_both']} claims testable on both sides (neither *"
            f"{NOT_TESTABLE}*), this build's verdict and the paper's numbers' agree on "
            f"{counts['agree']}."]
    return (_box("Re-analysis of the papers' own numbers", paper, "note") + "\n\n"
            + _box(title, run, "warning" if kind != "real" else "note"))


def _box(title: str, lines: list[str], kind: str) -> str:
    body = "\n".join(lines)
    return f"::::{{admonition}} {title}\n:class: {kind} {CHIP_SCOPE}\n\n{body}\n::::"


def _page_cell(row: Mapping[str, Any]) -> str:
    """The claim's page link, and, for a claim tested on several pages, which page's numbers
    the row shows and the others' verdicts."""
    link = f"{{doc}}`{row['page']}`"
    if not row.get("also"):
        return link
    others = []
    for item in str(row["also"]).split("; "):
        page, _, verdict = item.partition(": ")
        others.append(f"{{doc}}`{page}` {chip(verdict)}")
    return (f"numbers from {link} (the first page in the book that tests it); also on "
            + ", ".join(others))


def _claim_cell(row: Mapping[str, Any]) -> list[str]:
    """The claim's first line of its row: the claim, its tags and page; a *by construction*
    claim's generator setting on a line of its own."""
    tags = " ".join(f"{{bdg-light}}`{t}`" for t in str(row.get("tags", "")).split("; ") if t)
    lines = [f"**{_inline(row['claim'])}**", "",
             " · ".join(filter(None, [_page_cell(row), tags]))]
    if row.get("construction"):
        lines += ["", f"*{BY_CONSTRUCTION}:* {_inline(row['construction'])}"]
    return lines


def _value(text: Any, evidence: Any) -> str:
    """A side's numbers: its value, else (a page that does not fill ``value`` yet) its
    evidence, marked as such."""
    if _text(text).strip():
        return _inline(text)
    if _text(evidence).strip():
        return f"*evidence:* {_inline(evidence)}"
    return "–"


def _run_verdict(row: Mapping[str, Any]) -> list[str]:
    lines = [chip(row["verdict"])]
    stability = _text(row.get("stability", ""))
    if stability and stability != ONE_SEED:
        # the chip already says "varies": the line under it gives the seeds' verdicts only
        prefix = f"{_text(row['verdict'])}: "
        lines += ["", "across seeds: " + stability.removeprefix(prefix)
                  if stability.startswith(prefix) and row["verdict"] == VARIES else stability]
    return lines


def _row(*cells: list[str] | str) -> str:
    """One list-table row: each cell's first line after its ``-`` (the row's first after
    ``* -``), the rest indented under it."""
    out = []
    for i, lines in enumerate(cells):
        lines = [lines] if isinstance(lines, str) else lines
        out += [f"{'*' if i == 0 else ' '} - {lines[0]}"]
        out += [f"    {line}" if line else "" for line in lines[1:]]
    return "\n".join(out)


def ledger_markdown(ledger: pd.DataFrame) -> str:
    """The ledger for the page, per paper: a table whose rows each take two lines (the claim
    with its tags and page; then the paper's numbers, the verdict on them, this run's numbers
    with their interval and this run's verdict with its stability across seeds), then every
    claim's evidence on both sides, folded."""
    parts = []
    for paper, rows in ledger.groupby("paper", sort=False):
        table = ["```{list-table}", ":header-rows: 1", f":class: emo-ledger {CHIP_SCOPE}", "",
                 _row("claim · page · tags", "the paper's numbers",
                      "verdict on the paper's numbers", "this run's numbers (interval)",
                      "this run's verdict")]
        details = []
        for _, r in rows.iterrows():
            theirs = r["verdict on the paper's numbers"]
            if not r["claim_id"]:  # a page that did not run: its claims are not known
                table.append(_row(_claim_cell(r), "–", chip(NOT_KNOWN), "–", chip(NOT_KNOWN)))
                continue
            value = _value(r["value"], r["this run's evidence"])
            if r["verdict"] == INCONCLUSIVE and _text(r["detectable"]).strip():
                value += f"; could not have seen less than {_inline(r['detectable'])}"
            table.append(_row(_claim_cell(r), _value(r["paper_value"], r["paper's evidence"]),
                              chip(theirs) if theirs else "–", value, _run_verdict(r)))
            their_evidence = _inline(r["paper's evidence"]) or "–"
            our_evidence = _inline(r["this run's evidence"]) or "–"
            details += [f"- **{_inline(r['claim'])}**",
                        f"  - the paper's numbers ({chip(theirs) if theirs else '–'}): "
                        f"{their_evidence}",
                        f"  - this run ({chip(r['verdict'])}; {_inline(r['data'])}): "
                        f"{our_evidence}"]
        parts += [f"### {paper}", "\n".join(table) + "\n```"]
        if details:
            parts.append(f"::::{{dropdown}} {paper}: the evidence behind each verdict\n"
                         f":class-container: {CHIP_SCOPE}\n\n" + "\n".join(details)
                         + "\n::::")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------- the rules

def _rule_pattern(kind: str) -> re.Pattern[str]:
    """A regular expression a rule's sentence matches once its parameters are filled in (the
    bullet's first letter upper case, as :func:`emo_lib.verdicts.rules_markdown` writes it)."""
    pieces = []
    for literal, field, _, _ in string.Formatter().parse(RULES[kind]):
        pieces.append(re.escape(literal))
        if field:
            pieces.append(".+?")
    return re.compile("".join(pieces), re.DOTALL)


def _lower_first(text: str) -> str:
    i = next((i for i, ch in enumerate(text) if ch.isalpha()), 0)
    return text[:i] + text[i:i + 1].lower() + text[i + 1:]


def rule_of(line: str) -> str | None:
    """Which rule of :data:`emo_lib.verdicts.RULES` a page's rule bullet states, or None."""
    text = _lower_first(line.removeprefix("- ").strip())
    return next((k for k in RULES if _rule_pattern(k).fullmatch(text)), None)


def rules_unused(lines: Sequence[str]) -> list[str]:
    """The rules of :data:`emo_lib.verdicts.RULES` none of ``lines`` (the pages' rule bullets)
    states, in RULES' order."""
    used = {rule_of(line) for line in lines}
    return [k for k in RULES if k not in used]


def rule_template(kind: str) -> str:
    """A rule's sentence with its parameters named (``p < *alpha*``), for a rule no page of
    this build applied (so no value to fill in)."""
    text = RULES[kind]
    for field in dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(text) if f):
        text = text.replace(f"{{{field}}}", f"*{field}*")
    i = next((i for i, ch in enumerate(text) if ch.isalpha()), 0)
    return text[:i] + text[i].upper() + text[i + 1:]


def rules_section(results_root: str | Path | None = None) -> str:
    """Every rule a verdict can come from: the rules this build's pages applied, with their
    parameters filled in and the pages that used them (:func:`rules_by_page`), then those no
    page of this build applied (its pages that use them did not run, or none does), with
    their parameters named."""
    used = rules_by_page(results_root)
    lines = used.splitlines()
    unused = rules_unused([line.rsplit(" (", 1)[0] for line in lines])
    parts = ["Each rule as the pages of this build applied it, with its parameters, and the "
             "pages that used it:", "", used] if used else \
        ["No page of this build wrote its rules."]
    if unused:
        parts += ["", "Rules no page of this build applied (their parameters named, not "
                  "filled in):", "", "\n".join(f"- {rule_template(k)}" for k in unused)]
    return "\n".join(parts)


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


#: The page whose Table 4 numbers the Jeong & Kim chapter page quotes (its "What this build
#: found"), and the values it reads from that page's results.json.
BALANCED_PAGE = "jeong2021_balanced_augmentation"


def balanced_found(results_root: str | Path | None = None) -> str:
    """The chapter page's "What this build found" sentence, from the Table 4 page's results:
    each method's macro F1 with its 95 % interval, the claim's verdict and the collapsed folds.
    A number the page could not compute (every fold collapsed) is said in words, never written
    as nan; a page that did not run says so."""
    from ..formatting import format_number

    path = Path(results_root or default_root()) / BALANCED_PAGE / "results.json"
    if not path.exists():
        return ("The Table 4 page did not run in this build, so its numbers are not available "
                "here.")
    values = json.loads(path.read_text()).get("values", {})

    def number(key: str) -> float | None:
        x = values.get(key)
        return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) \
            and x == x and abs(x) != float("inf") else None

    def scored(label: str, method: str) -> str:
        mean, low, high = (number(f"{method}_f1_{s}") for s in ("mean", "ci_low", "ci_high"))
        if mean is None:
            return f"{label} has no macro F1 (no fold it could be computed on)"
        interval = (f" (95 % interval {format_number(low)} to {format_number(high)})"
                    if low is not None and high is not None else "")
        return f"{label} scored macro F1 {format_number(mean)}{interval}"

    claim = str(values.get("claim_proposed_gain_b0") or "not recorded")
    collapsed, total = values.get("balanced_collapsed"), values.get("balanced_folds_total")
    folds = (f" ({collapsed} of {total} folds collapsed)"
             if isinstance(collapsed, int) and isinstance(total, int) else "")
    return (f"On this build's data, {scored('the no-augmentation baseline', 'baseline')} and "
            f"{scored('the proposed method', 'proposed')}; the claim that the method raises the "
            f"F1 is {claim}{folds}.")


__all__ = [
    "BALANCED_PAGE", "balanced_found",
    "AGGREGATE_PAGES", "CHIPS", "EXECUTED", "FAILED", "FOREIGN", "LEDGER_COLUMNS",
    "NOT_EXECUTED", "NOT_KNOWN", "PAPERS", "PageResult", "SYNTHETIC", "UNREADABLE",
    "UP_TO_DATE", "book_ledger", "build_ledger", "chip", "data_sentence", "headlines_markdown",
    "ledger_counts", "ledger_markdown", "page_statuses", "read_page", "rule_of",
    "rule_template", "rules_by_page", "rules_section", "rules_unused", "stability_sentence",
    "testable_both",
]
