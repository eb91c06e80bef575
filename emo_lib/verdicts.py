"""One vocabulary and one table format for the papers' claims, used by both papers' pages.

A claim's verdict comes from a rule applied to numbers (this run's, and the same rule on the
paper's own numbers beside). This module holds the words, the table every page writes as
``claims.csv``, the markdown every page shows, and the small rules shared by several claims.
What each claim tests lives with its paper (``emo_lib.noh2023.claims``,
``emo_lib.jeong2021.claims``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

SUPPORTED = "supported"
PARTLY_SUPPORTED = "partly supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
NOT_TESTED = "not tested"
#: Every verdict a claim can get, strongest support first.
VERDICTS: tuple[str, ...] = (SUPPORTED, PARTLY_SUPPORTED, INCONCLUSIVE, NOT_SUPPORTED, NOT_TESTED)

#: Columns of a claims table (its index, ``claim_id``, names each claim).
CLAIM_COLUMNS: tuple[str, ...] = ("claim", "verdict", "evidence")
PAPER_VERDICT = "paper's own numbers"


def format_p(p: float | None) -> str:
    """A p-value for prose: two significant digits, scientific below 1e-4, "n/a" if missing."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def direction_verdict(agrees: bool, p: float, alpha: float) -> str:
    """The paper's direction with p < ``alpha``: supported; its direction without significance:
    inconclusive; the other direction: not supported."""
    if not agrees:
        return NOT_SUPPORTED
    return SUPPORTED if np.isfinite(p) and p < alpha else INCONCLUSIVE


def each_verdict(direction: pd.Series | Sequence[bool],
                 significant: pd.Series | Sequence[bool]) -> str:
    """A claim about several classes: supported when each goes the paper's way significantly,
    inconclusive when each goes its way but not all significantly, partly supported when some
    but not all go its way significantly, else not supported (also for no classes at all)."""
    direction = np.asarray(direction, dtype=bool)
    significant = np.asarray(significant, dtype=bool)
    if len(direction) == 0:
        return NOT_SUPPORTED
    if significant.all():
        return SUPPORTED
    if direction.all():
        return INCONCLUSIVE
    return PARTLY_SUPPORTED if significant.any() else NOT_SUPPORTED


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


def with_paper_verdicts(mine: pd.DataFrame, own: pd.DataFrame,
                        evidence: bool = False) -> pd.DataFrame:
    """``mine`` with the verdicts the same rules give on the paper's own numbers beside (and,
    with ``evidence``, their evidence)."""
    out = mine.copy()
    out[PAPER_VERDICT] = own["verdict"].reindex(out.index)
    if evidence:
        out[f"evidence ({PAPER_VERDICT})"] = own["evidence"].reindex(out.index)
    return out


def claim_lines(table: pd.DataFrame) -> str:
    """Markdown bullets, one sentence per claim: the claim, this run's verdict, the evidence."""
    return "\n".join(f"- **{r['claim']}** This run: *{r['verdict']}*: "
                     f"{str(r['evidence']).rstrip('.')}." for _, r in table.iterrows())


__all__ = [
    "CLAIM_COLUMNS", "INCONCLUSIVE", "NOT_SUPPORTED", "NOT_TESTED", "PAPER_VERDICT",
    "PARTLY_SUPPORTED", "SUPPORTED", "VERDICTS", "claim_lines", "claims_table",
    "direction_verdict", "each_verdict", "format_p", "with_paper_verdicts",
]
