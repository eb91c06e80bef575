"""One vocabulary, one table format and one rule printer for the papers' claims, used by both
papers' pages.

A claim's verdict comes from a rule applied to numbers (this run's, and the same rule on the
paper's own numbers beside):

- *supported*: the paper's direction, significant (p < alpha); for a "no difference" claim, an
  equivalence test (TOST) shows the difference lies within a stated margin;
- *contradicted*: the other direction, significant; for a "no difference" claim, a difference
  significantly larger than the margin;
- *inconclusive*: neither (a direction without significance is not support);
- *partly supported*: a claim about several classes, supported in some and contradicted in none;
- *not testable*: this run has no usable numbers for it (too few learning folds, a class it
  does not have, a page that does not compute it).

This module holds the words, the table every page writes as ``claims.csv``, the markdown every
page shows (the claims and, under them, the rules), and the small rules shared by several
claims. What each claim tests lives with its paper (``emo_lib.noh2023.claims``,
``emo_lib.jeong2021.claims``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

SUPPORTED = "supported"
PARTLY_SUPPORTED = "partly supported"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable"
#: Every verdict a claim can get, from support to none.
VERDICTS: tuple[str, ...] = (SUPPORTED, PARTLY_SUPPORTED, INCONCLUSIVE, CONTRADICTED,
                             NOT_TESTABLE)

#: Columns of a claims table (its index, ``claim_id``, names each claim).
CLAIM_COLUMNS: tuple[str, ...] = ("claim", "verdict", "evidence")
PAPER_VERDICT = "paper's own numbers"

#: The rules, in words, printed under each claims table (``rules_markdown``).
RULES: dict[str, str] = {
    "direction": ("*supported*: the paper's direction with p < {alpha}; *contradicted*: the "
                  "other direction with p < {alpha}; *inconclusive*: neither (a difference in "
                  "the paper's direction that is not significant does not support it); *not "
                  "testable*: no usable numbers."),
    "each": ("a claim about several classes is *supported* when each class is, *partly "
             "supported* when some are and none is contradicted, *contradicted* when some are "
             "contradicted and none supported, else *inconclusive*."),
    "equivalence": ("a \"no (large) difference\" claim is *supported* only by an equivalence "
                    "test: the two one-sided tests (TOST) put the difference within "
                    "+/-{margin} with p < {alpha}; *contradicted* when the difference is "
                    "significantly beyond the margin; failing to find a difference is "
                    "*inconclusive*, never support."),
    "threshold": ("a claim that a quantity exceeds a threshold is *supported* when it does "
                  "with p < {alpha} against no difference, *contradicted* when it is "
                  "significantly below the threshold's other side, else *inconclusive*."),
    "paper": ("the same rules on the paper's own numbers stand beside (where the paper gives "
              "no per-item data, its counts are used as if they were this run's)."),
    "exceeds": ("a claim that a gap exceeds a threshold is tested against the threshold, not "
                "against zero: *supported* when a one-sided test puts the gap beyond the "
                "threshold, on the paper's side, with p < {alpha}; *contradicted* when the "
                "opposite one-sided test puts it within the threshold with p < {alpha}; else "
                "*inconclusive*."),
    "share": ("a claim that at least a share of a gain survives is tested per child on "
              "(held-out gain) minus that share of (the training-images gain), averaged over "
              "each child's images, with a one-sample t test over children: *supported* when "
              "positive with p < {alpha}, *contradicted* when negative with p < {alpha}, else "
              "*inconclusive*."),
    "paper_pairing": ("the paper gives accuracies before and after, not which images changed: "
                      "on its numbers McNemar's test uses the pairing least favourable to a "
                      "change (the most images broken its accuracies allow), so a change "
                      "significant there is significant under any pairing."),
    "collapse": ("a cross-validation fold is collapsed when more than 90 % of its test "
                 "predictions fall on one class or its macro F1 is within 10 % of the "
                 "majority-class F1; collapsed folds are shown but left out of every statistic "
                 "and verdict."),
    "folds": ("each comparison of two cells is a corrected paired t test (Nadeau & Bengio's "
              "corrected resampled t) on the per-fold differences over the folds where neither "
              "cell collapsed, two-sided; the p-values of one claim's comparisons are "
              "Holm-corrected together, and a comparison with fewer than 2 such folds (or no "
              "spread) is *not testable*."),
    "paper_means": ("the paper reports one mean per cell and no fold scores: the tests cannot "
                    "run on its numbers, so its column says *not testable* and its evidence "
                    "gives the direction its means take."),
    "paper_pictures": ("the paper's own evidence for these claims is pictures, not numbers: "
                       "the rules cannot run on it (*not testable* in the paper's column)."),
}


def format_p(p: float | None) -> str:
    """A p-value for prose: two significant digits, "< 0.001" below that, "n/a" if missing."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def p_equals(p: float | None) -> str:
    """A p-value in a sentence: "p = 0.012", "p < 0.001" or "p n/a"."""
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else ("p n/a" if text == "n/a" else f"p = {text}")


def direction_verdict(effect: float, p: float, alpha: float) -> str:
    """``effect`` is signed so that > 0 is the paper's direction; ``p`` tests it against none.
    Significant and positive: supported; significant and negative: contradicted; else
    inconclusive; a missing effect or p-value: not testable."""
    if effect is None or p is None or not np.isfinite(effect) or not np.isfinite(p):
        return NOT_TESTABLE
    if p < alpha and effect > 0:
        return SUPPORTED
    if p < alpha and effect < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def equivalence_verdict(tost_p: float, difference: float, difference_p: float, margin: float,
                        alpha: float) -> str:
    """A "no (large) difference" claim: supported when the TOST p-value is below ``alpha``
    (the difference lies within +/- ``margin``); contradicted when the difference exceeds the
    margin and a test against zero is significant; else inconclusive (not testable without
    numbers)."""
    if not np.isfinite(difference):
        return NOT_TESTABLE
    if np.isfinite(tost_p) and tost_p < alpha:
        return SUPPORTED
    if abs(difference) > margin and np.isfinite(difference_p) and difference_p < alpha:
        return CONTRADICTED
    return INCONCLUSIVE


def each_verdict(verdicts: Sequence[str]) -> str:
    """A claim about several classes from each class's verdict (see ``RULES["each"]``)."""
    v = list(verdicts)
    testable = [x for x in v if x != NOT_TESTABLE]
    if not testable:
        return NOT_TESTABLE
    if all(x == SUPPORTED for x in testable):
        return SUPPORTED
    supported = any(x == SUPPORTED for x in testable)
    contradicted = any(x == CONTRADICTED for x in testable)
    if supported and not contradicted:
        return PARTLY_SUPPORTED
    if contradicted and not supported:
        return CONTRADICTED
    return INCONCLUSIVE


def claims_table(rows: Sequence[Mapping[str, Any]], ids: Sequence[str]) -> pd.DataFrame:
    """The claims table: one row per claim (``claim``, ``verdict``, ``evidence`` and any extra
    columns the rows carry), indexed by ``claim_id``."""
    if len(rows) != len(ids):
        raise ValueError(f"{len(rows)} claim rows but {len(ids)} ids")
    bad = [r.get("verdict") for r in rows if r.get("verdict") not in VERDICTS]
    if bad:
        raise ValueError(f"unknown verdict(s) {bad}; the vocabulary is {list(VERDICTS)}")
    extra = [c for r in rows for c in r if c not in CLAIM_COLUMNS]
    columns = [*CLAIM_COLUMNS, *dict.fromkeys(extra)]
    return pd.DataFrame(list(rows), index=pd.Index(list(ids), name="claim_id"), columns=columns)


def with_paper_verdicts(mine: pd.DataFrame, own: pd.DataFrame) -> pd.DataFrame:
    """``mine`` with the verdicts the same rules give on the paper's own numbers beside, and
    the evidence they rest on (the claims ledger shows both)."""
    out = mine.copy()
    out[PAPER_VERDICT] = own["verdict"].reindex(out.index)
    out[f"evidence ({PAPER_VERDICT})"] = own["evidence"].reindex(out.index)
    return out


def claim_lines(table: pd.DataFrame) -> str:
    """Markdown bullets, one per claim: the claim, this run's verdict and evidence, and (when
    the table has them) the verdict and evidence of the same rule on the paper's own numbers.
    With this, a page shows each claim once (its claims.csv keeps the table)."""
    paper_evidence = f"evidence ({PAPER_VERDICT})"
    lines = []
    for _, r in table.iterrows():
        line = f"- **{r['claim']}** This run: *{r['verdict']}*: {str(r['evidence']).rstrip('.')}."
        if PAPER_VERDICT in table.columns and str(r[PAPER_VERDICT]):
            evidence = str(r.get(paper_evidence, "") or "").rstrip(".")
            line += f" The paper's numbers: *{r[PAPER_VERDICT]}*" + \
                (f": {evidence}." if evidence else ".")
        lines.append(line)
    return "\n".join(lines)


def rules_markdown(*kinds: str, alpha: float = 0.05, margin: float | None = None) -> str:
    """The rules behind a claims table, in words (printed under it): ``kinds`` from
    :data:`RULES`."""
    unknown = [k for k in kinds if k not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {unknown}; choose from {list(RULES)}")
    # one bullet per rule, each a sentence (the rule texts start in lower case to read inline)
    lines = []
    for k in kinds:
        rule = RULES[k].format(alpha=alpha, margin=margin)
        first = next((i for i, ch in enumerate(rule) if ch.isalpha()), 0)
        lines.append(f"- {rule[:first]}{rule[first].upper()}{rule[first + 1:]}")
    return "**How the verdicts are reached.**\n\n" + "\n".join(lines)


__all__ = [
    "CLAIM_COLUMNS", "CONTRADICTED", "INCONCLUSIVE", "NOT_TESTABLE", "PAPER_VERDICT",
    "PARTLY_SUPPORTED", "RULES", "SUPPORTED", "VERDICTS", "claim_lines", "claims_table",
    "direction_verdict", "each_verdict", "p_equals", "equivalence_verdict", "format_p", "rules_markdown",
    "with_paper_verdicts",
]
