"""One vocabulary, one table format and one rule book for the papers' claims, used by both
papers' pages.

A claim's verdict comes from a rule applied to numbers (this run's, and the same rule on the
paper's own numbers beside):

- *supported*: the paper's direction, significant (p < alpha); for a "no (large) difference"
  claim, an equivalence test (TOST) puts the difference within a stated margin;
- *contradicted*: the other direction, significant; for a "no difference" claim, a one-sided
  test puts the difference beyond the margin; for a claim about every class (region,
  condition), one part significantly the other way (a counterexample);
- *inconclusive*: neither (a direction without significance is not support);
- *partly supported*: a claim about several parts, supported in some, contradicted in none,
  with the rest inconclusive or not testable (never *supported* by its testable parts alone);
- *not testable*: this run has no usable numbers for it;
- *varies*: only across seeds (:mod:`emo_lib.seeds`): the seeds' verdicts differ.

Each rule is one function and one sentence in :data:`RULES`, printed with its parameters
filled in by :func:`rules_markdown` (a parameter left out, None or NaN is an error, never
"+/-None" on a page).

A claim about several parts (classes, regions, conditions) is a list of :class:`Part`, each
holding the p-value of the test that it holds (the paper's way) and of the test that it fails
significantly (the other way), or an exactly known outcome; :func:`combine_parts` judges the
claim (:data:`RULES` ``"each"``): *supported* when every part is, each at ``alpha`` (an
intersection-union test: the conjunction needs no correction, Berger 1982); otherwise the
parts' p-values are Holm-corrected within the claim (Holm 1979) and a part significantly the
other way contradicts the claim (named "mixed" when another part is significantly the paper's
way: a universal claim is false once one part is shown false, so the verdict is
*contradicted*, and the evidence says what held and what did not).

This module also holds the claims table every page writes as ``claims.csv`` (required columns
:data:`CLAIM_COLUMNS`, optional :data:`OPTIONAL_COLUMNS`: the claims contract) and the markdown
every page shows. What each claim tests lives with its paper (``emo_lib.noh2023.claims``,
``emo_lib.jeong2021.claims``); numbers are formatted by :mod:`emo_lib.formatting`.
"""
from __future__ import annotations

import math
import string
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .formatting import format_p, p_equals
from .stats import holm

SUPPORTED = "supported"
PARTLY_SUPPORTED = "partly supported"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable"
VARIES = "varies"
#: The verdicts a rule gives, from support to none.
RULE_VERDICTS: tuple[str, ...] = (SUPPORTED, PARTLY_SUPPORTED, INCONCLUSIVE, CONTRADICTED,
                                  NOT_TESTABLE)
#: Every verdict a claims table may hold: the rules' and, across seeds, *varies*.
VERDICTS: tuple[str, ...] = (*RULE_VERDICTS, VARIES)

#: Required columns of a claims table (its index, ``claim_id``, names each claim).
CLAIM_COLUMNS: tuple[str, ...] = ("claim", "verdict", "evidence")
#: Columns every claims table carries, "" when a page has nothing for them (CONTRACTS.md):
#: this run's headline number(s) with interval, the paper's, the smallest difference the test
#: could have called significant, tags, and the generator setting behind a "by construction" tag.
OPTIONAL_COLUMNS: tuple[str, ...] = ("value", "paper_value", "detectable", "tags",
                                     "construction")
BY_CONSTRUCTION = "by construction"
DESCRIPTIVE_ONLY = "descriptive only"
#: The tags a claim may carry ("; "-joined in ``tags``).
TAGS: tuple[str, ...] = (BY_CONSTRUCTION, DESCRIPTIVE_ONLY)
PAPER_VERDICT = "paper's own numbers"
PAPER_EVIDENCE = f"evidence ({PAPER_VERDICT})"
#: Per-claim stability across seeds (:mod:`emo_lib.seeds`).
STABILITY = "stability"

#: The rules, in words, printed under each claims table (:func:`rules_markdown`); ``{name}``
#: fields are the parameters each needs.
RULES: dict[str, str] = {
    "direction": ("*supported*: the paper's direction with p < {alpha}; *contradicted*: the "
                  "other direction with p < {alpha}; *inconclusive*: neither (a difference in "
                  "the paper's direction that is not significant does not support it); *not "
                  "testable*: no usable numbers."),
    "each": ("a claim about every class, region or condition is *supported* only when every "
             "part is, each with p < {alpha} (an intersection-union test, which needs no "
             "correction); otherwise the parts' p-values are Holm-corrected within the claim: "
             "*contradicted* when a part is significantly the other way (a counterexample; "
             "\"mixed\" in the evidence when another part is significantly the paper's way), "
             "*partly supported* when some parts are supported and the rest inconclusive or not "
             "testable, *inconclusive* when no part is either way, *not testable* when no part "
             "can be tested. A part that cannot be tested is never counted as support."),
    "equivalence": ("a \"no (large) difference\" claim is *supported* only by an equivalence "
                    "test: the two one-sided tests (TOST) put the difference within "
                    "+/-{margin} with p < {alpha}; *contradicted* when a one-sided test puts "
                    "it beyond the margin with p < {alpha}; failing to find a difference is "
                    "*inconclusive*, never support."),
    "exceeds": ("a claim that a gap is large (beyond {threshold}) is tested against "
                "{threshold}, not against zero: *supported* when a one-sided test puts the gap "
                "beyond {threshold} on the paper's side with p < {alpha}; *contradicted* when "
                "the opposite one-sided test puts it within {threshold} (or on the other side) "
                "with p < {alpha}; else *inconclusive*."),
    "greatly": ("a claim that accuracy changed greatly is tested against a change of "
                "{threshold}: on the same images before and after, Tango's score test for a "
                "paired difference of proportions, one-sided: *supported* when the change lies "
                "beyond {threshold} on the paper's side with p < {alpha}, *contradicted* when "
                "it lies within {threshold} with p < {alpha}, else *inconclusive*."),
    "area": ("a region holding more (or less) of the LIME masks than its share of the image is "
             "tested per image on share minus area, with a two-sided one-sample t test over "
             "the images (p < {alpha})."),
    "permutation": ("a difference between CAFE's and NIMH-ChEFS's maps is a two-sided "
                    "permutation test of the mean per-image share, the data-set labels "
                    "permuted within class {n_perm} times (p < {alpha})."),
    "regions": ("per region, the male minus female difference of the per-image shares, "
                "averaged over classes, with the two one-sided tests at +/-{margin} (Welch); "
                "the claim (every region within the margin) combines the regions by the rule "
                "for every part. A region whose share does not vary (the same in every image, "
                "e.g. never in a mask) has an exactly known difference: within the margin it "
                "counts as equivalent, beyond it as contradicted, without a test."),
    "share": ("a claim that at least a share of a gain survives is tested per child on "
              "(held-out gain) minus that share of (the training-images gain), averaged over "
              "each child's images, with a one-sample t test over children: *supported* when "
              "positive with p < {alpha}, *contradicted* when negative with p < {alpha}, else "
              "*inconclusive*."),
    "paper": ("the same rules on the paper's own numbers stand beside (where the paper gives "
              "no per-item data, its counts are used as if they were this run's)."),
    "paper_pairing": ("the paper gives accuracies before and after, not which images changed: "
                      "on its numbers the paired tests use the pairing least favourable to a "
                      "change (the most images broken its accuracies allow), so a change "
                      "significant there is significant under any pairing."),
    "collapse": ("a cross-validation fold is collapsed when more than 90 % of its test "
                 "predictions fall on one class or its macro F1 is within 10 % of the "
                 "majority-class F1; collapsed folds are shown but left out of every statistic "
                 "and verdict."),
    "folds": ("each comparison of two cells is a corrected paired t test (Nadeau & Bengio's "
              "corrected resampled t) on the per-fold differences over the folds where neither "
              "cell collapsed, two-sided; with fewer than 2 such folds it is *not testable*. "
              "A difference that is the same in every fold has no spread for a t test: it is "
              "reported as what it is (\"identical in every fold\", or the constant "
              "difference) and judged by the sign test (all k folds on one side: p = "
              "2^(1-k))."),
    "paper_means": ("the paper reports one mean per cell and no fold scores: the tests cannot "
                    "run on its numbers, so its column says *not testable* and its evidence "
                    "gives the direction its means take."),
    "paper_pictures": ("the paper's own evidence for these claims is pictures, not numbers: "
                       "the rules cannot run on it (*not testable* in the paper's column)."),
    "detectable": ("*detectable*: the smallest difference this run's test could have called "
                   "significant at {alpha} with this run's numbers (normal approximation; for a "
                   "claim tested against a threshold, the smallest gap shown beyond it; for an "
                   "equivalence claim, the half-width of its interval: equivalence needs the "
                   "difference at least that far inside the margin). An *inconclusive* verdict "
                   "then reads: a smaller difference could not have been seen."),
    "seeds": ("with several seeds, each seed's claims come from the same rules; a claim's "
              "verdict is the seeds' common verdict, or *varies* when they differ (never the "
              "first seed's), with the counts beside it."),
}


# ------------------------------------------------------------------------- single tests


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def direction_verdict(effect: float, p: float, alpha: float) -> str:
    """``effect`` is signed so that > 0 is the paper's direction; ``p`` tests it against none.
    Significant and positive: supported; significant and negative: contradicted; else
    inconclusive; a missing effect or p-value: not testable (:data:`RULES` ``"direction"``)."""
    if not (_finite(effect) and _finite(p)):
        return NOT_TESTABLE
    if p < alpha and effect > 0:
        return SUPPORTED
    if p < alpha and effect < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def equivalence_verdict(tost_p: float, beyond_p: float, alpha: float) -> str:
    """A "no (large) difference" claim (:data:`RULES` ``"equivalence"``): supported when the
    TOST p-value is below ``alpha``; contradicted when the one-sided test that the difference
    lies beyond the margin (on its observed side) is; else inconclusive; neither test: not
    testable. Failing to find a difference is never support."""
    if not (_finite(tost_p) or _finite(beyond_p)):
        return NOT_TESTABLE
    if _finite(tost_p) and tost_p < alpha:
        return SUPPORTED
    if _finite(beyond_p) and beyond_p < alpha:
        return CONTRADICTED
    return INCONCLUSIVE


def exact_equivalence_verdict(difference: float, margin: float) -> str:
    """A difference known exactly (no spread to test: every image or fold gives the same
    value): within +/- ``margin`` it is equivalent (*supported*), beyond it *contradicted*."""
    if not _finite(difference):
        return NOT_TESTABLE
    return SUPPORTED if abs(difference) < margin else CONTRADICTED


def threshold_verdict(beyond_p: float, alpha: float) -> str:
    """A claim that a gap lies beyond a threshold (:data:`RULES` ``"exceeds"``): ``beyond_p``
    is the one-sided p-value that it does (on the paper's side); the opposite one-sided test's
    p-value is 1 - ``beyond_p``. Supported, contradicted, inconclusive; NaN: not testable."""
    if not _finite(beyond_p):
        return NOT_TESTABLE
    if beyond_p < alpha:
        return SUPPORTED
    if 1 - beyond_p < alpha:
        return CONTRADICTED
    return INCONCLUSIVE


# ------------------------------------------------------------------- claims of several parts


@dataclass(frozen=True)
class Part:
    """One part of a claim about several classes, regions or conditions.

    ``p_support``: p-value of the test that the part holds (the paper's way); ``p_contradict``:
    of the test that it fails significantly (the other way, or beyond an equivalence margin);
    NaN where there is no such test. ``exact``: the part's verdict when its outcome is known
    without a test (a difference with no spread); then the p-values are ignored. ``note``: its
    numbers in a few words, for the evidence. Build one with :func:`direction_part`,
    :func:`equivalence_part`, :func:`threshold_part` or :func:`exact_part`.
    """

    name: str
    p_support: float = float("nan")
    p_contradict: float = float("nan")
    exact: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.exact is not None and self.exact not in RULE_VERDICTS:
            raise ValueError(f"part {self.name}: exact verdict {self.exact!r} is not one of "
                             f"{list(RULE_VERDICTS)}")

    @property
    def testable(self) -> bool:
        if self.exact is not None:
            return self.exact != NOT_TESTABLE
        return _finite(self.p_support) or _finite(self.p_contradict)


def direction_part(name: str, effect: float, p: float, note: str = "") -> Part:
    """A part tested two-sided (``p``) whose ``effect`` is signed so that > 0 is the paper's
    way: its p-value counts for support or for contradiction by the effect's sign."""
    if not (_finite(effect) and _finite(p)):
        return Part(name, note=note)
    return Part(name, p if effect > 0 else 1.0, p if effect < 0 else 1.0, note=note)


def equivalence_part(name: str, tost_p: float, beyond_p: float, note: str = "") -> Part:
    """A part of a "no (large) difference" claim: its TOST p-value and the one-sided p-value
    that it lies beyond the margin."""
    return Part(name, tost_p if _finite(tost_p) else float("nan"),
                beyond_p if _finite(beyond_p) else float("nan"), note=note)


def threshold_part(name: str, beyond_p: float, note: str = "") -> Part:
    """A part of a "large gap" claim: the one-sided p-value that it lies beyond the threshold
    on the paper's side (the opposite test's p-value is its complement)."""
    if not _finite(beyond_p):
        return Part(name, note=note)
    return Part(name, float(beyond_p), 1.0 - float(beyond_p), note=note)


def exact_part(name: str, verdict: str, note: str = "") -> Part:
    """A part whose outcome is known exactly (no spread to test), e.g. a region that no mask
    ever touches in either group, or two cells identical in every fold."""
    return Part(name, exact=verdict, note=note)


@dataclass(frozen=True)
class Combination:
    """A claim about several parts, judged (:func:`combine_parts`): ``verdict``; ``parts``, one
    row per part (``part``, ``verdict``, ``p_support``, ``p_support_holm``, ``p_contradict``,
    ``p_contradict_holm``, ``note``); ``summary``, the parts' verdicts in words ("mixed —
    supported: sad; contradicted: angry")."""

    verdict: str
    parts: pd.DataFrame
    summary: str
    mixed: bool


def combine_parts(parts: Sequence[Part], alpha: float = 0.05) -> Combination:
    """Judge a claim about every part (:data:`RULES` ``"each"``).

    1. No testable part: *not testable*.
    2. Every part testable and supported at ``alpha`` (raw p, or exactly): *supported*
       (intersection-union test).
    3. Otherwise each part's ``p_support`` and ``p_contradict`` are Holm-corrected (separately,
       over the testable parts that have tests; exact parts are not tests): a part is
       contradicted, supported, inconclusive or not testable by them.
    4. A contradicted part: *contradicted* (``mixed`` when another part is supported);
       else a supported part: *partly supported*; else *inconclusive*.
    """
    parts = list(parts)
    tested = [i for i, q in enumerate(parts) if q.exact is None and q.testable]
    sup_holm = np.full(len(parts), np.nan)
    con_holm = np.full(len(parts), np.nan)
    if tested:
        sup = np.array([parts[i].p_support for i in tested], float)
        con = np.array([parts[i].p_contradict for i in tested], float)
        sup_holm[tested] = holm(sup)
        con_holm[tested] = holm(con)
    everyone = bool(parts) and all(
        q.exact == SUPPORTED if q.exact is not None
        else (_finite(q.p_support) and q.p_support < alpha) for q in parts)
    verdicts = []
    for i, q in enumerate(parts):
        if q.exact is not None:
            v = q.exact
        elif not q.testable:
            v = NOT_TESTABLE
        elif everyone:
            v = SUPPORTED
        elif _finite(con_holm[i]) and con_holm[i] < alpha:
            v = CONTRADICTED
        elif _finite(sup_holm[i]) and sup_holm[i] < alpha:
            v = SUPPORTED
        else:
            v = INCONCLUSIVE
        verdicts.append(v)
    has = {v: [q.name for q, w in zip(parts, verdicts) if w == v] for v in RULE_VERDICTS}
    mixed = bool(has[CONTRADICTED] and has[SUPPORTED])
    if not any(q.testable for q in parts):
        verdict = NOT_TESTABLE
    elif everyone:
        verdict = SUPPORTED
    elif has[CONTRADICTED]:
        verdict = CONTRADICTED
    elif has[SUPPORTED]:
        verdict = PARTLY_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    table = pd.DataFrame({
        "part": [q.name for q in parts], "verdict": verdicts,
        "p_support": [q.p_support for q in parts], "p_support_holm": sup_holm,
        "p_contradict": [q.p_contradict for q in parts], "p_contradict_holm": con_holm,
        "note": [q.note for q in parts]},
        columns=["part", "verdict", "p_support", "p_support_holm", "p_contradict",
                 "p_contradict_holm", "note"])
    groups = [f"{v}: {', '.join(has[v])}" for v in
              (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE) if has[v]]
    if verdict == SUPPORTED and len(parts) > 1:
        summary = f"every part supported ({len(parts)} of {len(parts)})"
    else:
        summary = ("mixed — " if mixed else "") + "; ".join(groups)
    return Combination(verdict, table, summary, mixed)


def each_verdict(parts: Sequence[Part | str], alpha: float = 0.05) -> str:
    """The verdict of a claim about every part (:func:`combine_parts`). Parts may also be
    verdicts already reached (strings, e.g. after a Holm correction done by the caller): then
    a contradicted part contradicts, every part supported supports, some supported is *partly
    supported*, a part not testable is never counted as support."""
    parts = list(parts)
    if all(isinstance(q, str) for q in parts):
        return combine_parts([exact_part(str(i), v) for i, v in enumerate(parts)], alpha).verdict
    if any(isinstance(q, str) for q in parts):
        raise TypeError("each_verdict takes Parts or verdict strings, not a mixture")
    return combine_parts(parts, alpha).verdict  # type: ignore[arg-type]


# --------------------------------------------------------------------------- claims tables


def claims_table(rows: Sequence[Mapping[str, Any]], ids: Sequence[str]) -> pd.DataFrame:
    """The claims table: one row per claim (``claim``, ``verdict``, ``evidence``, the contract's
    optional columns (:data:`OPTIONAL_COLUMNS`, "" where a row has none) and any extra columns
    the rows carry), indexed by ``claim_id``."""
    if len(rows) != len(ids):
        raise ValueError(f"{len(rows)} claim rows but {len(ids)} ids")
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids must be unique, got {list(ids)}")
    bad = [r.get("verdict") for r in rows if r.get("verdict") not in VERDICTS]
    if bad:
        raise ValueError(f"unknown verdict(s) {bad}; the vocabulary is {list(VERDICTS)}")
    for r in rows:
        unknown = [t for t in str(r.get("tags", "") or "").split("; ") if t and t not in TAGS]
        if unknown:
            raise ValueError(f"unknown tag(s) {unknown} on claim {r.get('claim')!r}; tags are "
                             f"{list(TAGS)}")
    extra = [c for r in rows for c in r if c not in CLAIM_COLUMNS + OPTIONAL_COLUMNS]
    columns = [*CLAIM_COLUMNS, *OPTIONAL_COLUMNS, *dict.fromkeys(extra)]
    table = pd.DataFrame(list(rows), index=pd.Index(list(ids), name="claim_id"),
                         columns=columns)
    for c in OPTIONAL_COLUMNS:
        table[c] = [("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
                    for v in table[c]]
    return table


def with_paper_verdicts(mine: pd.DataFrame, own: pd.DataFrame) -> pd.DataFrame:
    """``mine`` with the verdicts the same rules give on the paper's own numbers beside, and
    the evidence they rest on (the claims ledger shows both); ``paper_value`` is filled from
    ``own``'s ``value`` where ``mine`` has none."""
    out = mine.copy()
    out[PAPER_VERDICT] = own["verdict"].reindex(out.index)
    out[PAPER_EVIDENCE] = own["evidence"].reindex(out.index)
    if "value" in own.columns:
        theirs = own["value"].reindex(out.index).fillna("").astype(str)
        current = out["paper_value"] if "paper_value" in out.columns else \
            pd.Series("", index=out.index)
        out["paper_value"] = current.where(current.astype(str) != "", theirs)
    return out


def claim_lines(table: pd.DataFrame) -> str:
    """Markdown bullets, one per claim: the claim, this run's verdict (with its stability
    across seeds when measured) and evidence, and (when the table has them) the verdict and
    evidence of the same rule on the paper's own numbers."""
    lines = []
    for _, r in table.iterrows():
        verdict = f"*{r['verdict']}*"
        stability = str(r.get(STABILITY, "") or "")
        if stability.startswith("stable: "):
            verdict += f" (every seed: {stability.split(' in ', 1)[-1]})"
        elif stability.startswith("varies: "):
            verdict += f" (across seeds: {stability[len('varies: '):]})"
        line = f"- **{r['claim']}** This run: {verdict}: {str(r['evidence']).rstrip('.')}."
        if PAPER_VERDICT in table.columns and str(r[PAPER_VERDICT]):
            evidence = str(r.get(PAPER_EVIDENCE, "") or "").rstrip(".")
            line += f" The paper's numbers: *{r[PAPER_VERDICT]}*" + \
                (f": {evidence}." if evidence else ".")
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------------------- the rules


def rule_parameters(kind: str) -> list[str]:
    """The parameters the sentence of rule ``kind`` needs."""
    if kind not in RULES:
        raise ValueError(f"unknown rule {kind!r}; choose from {list(RULES)}")
    return list(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(RULES[kind]) if f))


def _parameter_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def rule_text(kind: str, **params: Any) -> str:
    """Rule ``kind``'s sentence with its parameters filled in. A parameter it needs that is
    missing, None, NaN or empty raises ValueError naming the rule and the parameter."""
    needed = rule_parameters(kind)
    bad = [p for p in needed if p not in params or params[p] is None
           or (isinstance(params[p], float) and not math.isfinite(params[p]))
           or str(params[p]).strip() in ("", "nan", "None")]
    if bad:
        raise ValueError(f"rule {kind!r} needs {', '.join(bad)} (got "
                         f"{ {p: params.get(p) for p in bad} }): pass the value the page used")
    return RULES[kind].format(**{p: _parameter_text(params[p]) for p in needed})


def rules_markdown(*kinds: str, **params: Any) -> str:
    """The rules behind a claims table, in words (printed under it): one bullet per rule of
    ``kinds`` (from :data:`RULES`), each with its parameters (``alpha=0.05``, ``margin=0.1``,
    ``threshold=0.2``, ``n_perm=2000``...) filled in; ``alpha`` defaults to 0.05."""
    unknown = [k for k in kinds if k not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {unknown}; choose from {list(RULES)}")
    params = {"alpha": 0.05, **params}
    lines = []
    for k in kinds:
        rule = rule_text(k, **params)
        # the rule texts start in lower case to read inline; a bullet starts a sentence
        first = next((i for i, ch in enumerate(rule) if ch.isalpha()), 0)
        lines.append(f"- {rule[:first]}{rule[first].upper()}{rule[first + 1:]}")
    return "**How the verdicts are reached.**\n\n" + "\n".join(lines)


__all__ = [
    "BY_CONSTRUCTION", "CLAIM_COLUMNS", "CONTRADICTED", "Combination", "DESCRIPTIVE_ONLY",
    "INCONCLUSIVE", "NOT_TESTABLE", "OPTIONAL_COLUMNS", "PAPER_EVIDENCE", "PAPER_VERDICT",
    "PARTLY_SUPPORTED", "Part", "RULES", "RULE_VERDICTS", "STABILITY", "SUPPORTED", "TAGS",
    "VARIES", "VERDICTS", "claim_lines", "claims_table", "combine_parts", "direction_part",
    "direction_verdict", "each_verdict", "equivalence_part", "equivalence_verdict",
    "exact_equivalence_verdict", "exact_part", "format_p", "p_equals", "rule_parameters",
    "rule_text", "rules_markdown", "threshold_part", "threshold_verdict",
    "with_paper_verdicts",
]
