"""Paper 2's folds as evidence: which folds learned (the per-fold collapse rule), each cell's
mean, spread and interval over its learning folds, paired comparisons between cells, and the
machine-readable ``fold_scores.csv`` every paper-2 page writes.

The collapse rule, per fold (never pooled over folds): a fold is *collapsed* when more than
:data:`COLLAPSE_SHARE` of its test predictions fall on one class, or when its macro F1 is
within :data:`COLLAPSE_MARGIN` of the majority-class F1 (the macro F1 of predicting the test
fold's most frequent class for every image: ``2p / (1 + p) / K`` for that class's share ``p``
and ``K`` classes). A collapsed network scores a class frequency, not what it learned, so
collapsed folds are shown but left out of every statistic and verdict.

The statistics are the Nadeau-Bengio corrected resampled t (:mod:`emo_lib.stats`): a cell's
interval from its learning folds' scores, a comparison's from the per-fold differences of two
cells on the same folds (only folds where neither collapsed). A difference that is the same in
every fold (zero variance) is not "not testable": it is an exact result, reported as such and
judged by the sign test (:class:`Comparison`, :func:`comparison_part`). Each fold tests ``n_test``
images and trains on the rest of the data set, so ``n_train / n_test`` comes from the rows.

Not here: what each claim compares and its verdict (:mod:`.claims`), the paper-shaped tables
(:mod:`.tables`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from scipy.stats import t as stats_t

from ..formatting import format_estimate, format_signed, p_equals
from ..stats import (
    ZERO_SPREAD, CorrectedT, corrected_paired_t, corrected_resampled_t, sign_test_p,
    tost_from_estimate,
)
from ..verdicts import (
    INCONCLUSIVE, Part, direction_part, equivalence_part, exact_equivalence_verdict, exact_part,
)

#: A fold whose predictions put more than this share on one class is collapsed.
COLLAPSE_SHARE = 0.9
#: ... or whose macro F1 is at most (1 + this) times the majority-class F1.
COLLAPSE_MARGIN = 0.1
#: The columns of ``fold_scores.csv`` (the contract other tools read), in order.
FOLD_SCORE_COLUMNS: tuple[str, ...] = (
    "page", "cell", "model", "loss", "augmentation", "method", "fold", "accuracy", "macro_f1",
    "majority_f1", "top_class_share", "collapsed")


def majority_f1(true_counts: Sequence[int] | np.ndarray) -> float:
    """Macro F1 of predicting the most frequent class for every image, for test-set class
    counts ``true_counts`` (every class counted in the macro average, as the folds' scores
    are): that class scores ``2p / (1 + p)`` (precision p, recall 1), the others 0.

    >>> round(majority_f1([50, 30, 20]), 4)   # p = 0.5: (2 * 0.5 / 1.5) / 3
    0.2222
    """
    counts = np.asarray(true_counts, dtype=float)
    if counts.ndim != 1 or len(counts) < 2 or counts.sum() <= 0 or (counts < 0).any():
        raise ValueError(f"true_counts must be >= 2 non-negative class counts with a positive "
                         f"total, got {true_counts!r}")
    p = counts.max() / counts.sum()
    return float(2 * p / (1 + p) / len(counts))


def fold_collapse(confusion: Sequence[Sequence[int]] | np.ndarray, macro_f1: float, *,
                  share: float = COLLAPSE_SHARE, margin: float = COLLAPSE_MARGIN
                  ) -> dict[str, Any]:
    """The collapse rule for one fold (module docstring) from its confusion matrix (rows true,
    columns predicted) and macro F1: ``majority_f1``, ``top_class`` (index of the class
    predicted most), ``top_class_share`` and ``collapsed``."""
    cm = np.asarray(confusion, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.sum() <= 0:
        raise ValueError(f"confusion must be a square, non-empty count matrix, got shape "
                         f"{cm.shape}")
    predicted = cm.sum(axis=0)
    top = int(predicted.argmax())
    top_share = float(predicted[top] / predicted.sum())
    majority = majority_f1(cm.sum(axis=1))
    collapsed = top_share > share or float(macro_f1) <= (1 + margin) * majority
    return {"majority_f1": majority, "top_class": top, "top_class_share": top_share,
            "collapsed": bool(collapsed)}


def with_collapse(results: pd.DataFrame, classes: Sequence[str] | None = None) -> pd.DataFrame:
    """``results`` (fold rows with ``confusion`` and ``macro_f1``) with the collapse rule's
    columns added: ``majority_f1``, ``top_class_share``, ``top_class`` (a name when
    ``classes`` is given) and ``collapsed``."""
    if results.empty:
        return results.assign(majority_f1=[], top_class_share=[], top_class=[], collapsed=[])
    if "confusion" not in results.columns:
        raise ValueError("the collapse rule needs each fold's confusion matrix; these rows "
                         f"have columns {list(results.columns)}")
    found = pd.DataFrame([fold_collapse(cm, f1) for cm, f1 in
                          zip(results["confusion"], results["macro_f1"])], index=results.index)
    if classes is not None:
        found["top_class"] = [classes[i] for i in found["top_class"]]
    out = results.drop(columns=[c for c in found.columns if c in results.columns])
    return pd.concat([out, found], axis=1)


def _learning(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[~rows["collapsed"].astype(bool)] if "collapsed" in rows.columns else rows


def split_sizes(rows: pd.DataFrame) -> tuple[float, float]:
    """(n_train, n_test) per fold for the corrected t: the mean test-fold size of one cell's
    rows, and the rest of the data set (every image is tested once over the folds, so the
    data set is the sum of the folds' test sizes). A single fold has no such split and no
    test either (the t is undefined with one score): (1, 1) keeps the arithmetic defined."""
    if rows.empty or "n_test" not in rows.columns:
        raise ValueError("the corrected t needs each fold's n_test; these rows have none")
    n_test = rows["n_test"].astype(float)
    if len(n_test) < 2:
        return 1.0, 1.0
    total = float(n_test.sum())
    return total - float(n_test.mean()), float(n_test.mean())


def cell_summary(results: pd.DataFrame, by: Sequence[str], metric: str = "macro_f1", *,
                 alpha: float = 0.05) -> pd.DataFrame:
    """One row per cell (``by`` groups, in order of appearance): ``folds``, ``collapsed``
    (count), ``learning`` folds, and over the learning folds ``mean``, ``sd`` and the
    (1 - alpha) interval ``ci_low``/``ci_high`` of ``metric`` (Nadeau-Bengio corrected
    resampled t; NaN with fewer than 2 learning folds), and ``accuracy`` (mean over the same
    folds). ``results`` must carry the collapse columns (:func:`with_collapse`)."""
    rows = []
    for key, g in results.groupby(list(by), sort=False):
        learning = _learning(g)
        n_train, n_test = split_sizes(g)
        t = corrected_resampled_t(learning[metric].to_numpy(float), n_train, n_test,
                                  alpha=alpha)
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                     "folds": len(g), "collapsed": int(len(g) - len(learning)),
                     "learning": len(learning), "mean": t.mean, "sd": t.sd,
                     "ci_low": t.ci_low, "ci_high": t.ci_high,
                     "accuracy": float(learning["accuracy"].mean()) if len(learning)
                     else float("nan")})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Comparison:
    """Cell ``a`` against cell ``b`` on their shared learning folds: the corrected paired t
    of the per-fold differences a - b (``test``; NaN p with fewer than 2 folds), the means of
    each over those folds, and how many folds were paired or left out.

    A difference that is the same in every fold (``constant``: at least 2 folds, no spread)
    has no variance for the t test (its p is NaN); it is an exact result, reported as such
    (:meth:`describe`: "identical in every fold" or "+0.010 in every one of 5 folds") and
    judged by the sign test (``sign_p``, two-sided: 2^(1-k) for k folds on one side, 1 when
    identical)."""

    label: str
    test: CorrectedT
    mean_a: float
    mean_b: float
    folds: int
    excluded: int
    sign_p: float = float("nan")

    @property
    def difference(self) -> float:
        return self.test.mean

    @property
    def relative(self) -> float:
        """(a - b) / b over the paired folds (NaN when b's mean is 0)."""
        return self.difference / self.mean_b if self.mean_b else float("nan")

    @property
    def constant(self) -> bool:
        """The same difference in every one of at least 2 paired folds (no spread)."""
        return self.folds >= 2 and self.test.sd == 0

    @property
    def identical(self) -> bool:
        """Both cells scored the same in every paired fold."""
        return self.constant and abs(self.difference) <= ZERO_SPREAD

    @property
    def p_value(self) -> float:
        """The comparison's two-sided p: the corrected paired t, or for a constant difference
        the sign test."""
        return self.sign_p if self.constant else self.test.p_value

    def describe(self) -> str:
        """The difference in words: "identical in every fold (5 folds)", "+0.010 in every one
        of 5 folds (sign test p = 0.062)" or "+0.012 [-0.010, +0.034] over 5 folds"."""
        if self.identical:
            return f"identical in every fold ({self.folds} folds)"
        if self.constant:
            return (f"{format_signed(self.difference)} in every one of {self.folds} folds "
                    f"(sign test {p_equals(self.sign_p)})")
        estimate = format_estimate(self.difference, self.test.ci_low, self.test.ci_high,
                                   signed=True)
        return f"{estimate} over {self.folds} folds"


def compare_cells(a: pd.DataFrame, b: pd.DataFrame, metric: str = "macro_f1", *,
                  label: str = "", alpha: float = 0.05) -> Comparison:
    """Cell ``a``'s fold rows against cell ``b``'s, paired by ``fold``, over the folds where
    neither collapsed (:func:`emo_lib.stats.corrected_paired_t`, two-sided; a difference with
    no spread also gets the sign test, see :class:`Comparison`)."""
    if a.empty or b.empty:
        raise ValueError(f"{label or 'comparison'}: both cells need fold rows (got {len(a)} "
                         f"and {len(b)})")
    both = a.merge(b, on="fold", how="inner", suffixes=("_a", "_b"))
    keep = ~(both["collapsed_a"].astype(bool) | both["collapsed_b"].astype(bool))
    n_train, n_test = split_sizes(a)
    xa, xb = both.loc[keep, f"{metric}_a"].to_numpy(float), \
        both.loc[keep, f"{metric}_b"].to_numpy(float)
    test = corrected_paired_t(xa, xb, n_train, n_test, alpha=alpha)
    nan = float("nan")
    sign_p = sign_test_p(np.full(len(xa), test.mean)) if len(xa) >= 2 and test.sd == 0 \
        else nan
    return Comparison(label, test, float(xa.mean()) if len(xa) else nan,
                      float(xb.mean()) if len(xb) else nan, int(keep.sum()),
                      int(len(both) - keep.sum()), sign_p)


def comparison_part(c: Comparison, name: str | None = None, *, direction: int = 1) -> Part:
    """One comparison as a part of a claim (:func:`emo_lib.verdicts.combine_parts`), the
    paper's way being a - b > 0 (``direction=-1``: a - b < 0). Two cells identical in every
    fold: an exact *inconclusive* part (no difference either way: tested, and not support);
    a constant non-zero difference: judged by the sign test; else the corrected paired t."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    name = name or c.label
    if c.identical:
        return exact_part(name, INCONCLUSIVE, c.describe())
    return direction_part(name, direction * c.difference, c.p_value, c.describe())


def comparison_equivalence_part(c: Comparison, margin: float, name: str | None = None, *,
                                alpha: float = 0.05) -> Part:
    """One comparison as a part of a "no (large) difference" claim within +/- ``margin``: the
    two one-sided corrected t tests (:func:`emo_lib.stats.tost_from_estimate` on the corrected
    standard error) and the one-sided test that the difference lies beyond the margin; a
    constant difference is exact (within the margin: supported; beyond: contradicted)."""
    name = name or c.label
    if c.constant:
        return exact_part(name, exact_equivalence_verdict(c.difference, margin), c.describe())
    t = c.test
    if not (np.isfinite(t.se) and t.se > 0):
        return Part(name, note=c.describe())
    tost = tost_from_estimate(t.mean, t.se, t.df, margin, alpha=alpha)
    beyond = float(stats_t.sf((abs(t.mean) - margin) / t.se, t.df))
    return equivalence_part(name, tost.p_value, beyond, c.describe())


def select_rows(results: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """The rows where every ``column=value`` holds (an empty frame when a column is absent)."""
    mask = np.ones(len(results), dtype=bool)
    for col, value in where.items():
        if col not in results.columns:
            return results.iloc[0:0]
        mask &= (results[col] == value).to_numpy()
    return results[mask]


def augmentation_label(recipe: Mapping[str, Any] | None) -> str:
    """A cell's training items in words for ``fold_scores.csv``: ``none``, the transform of a
    Tables 2-3 row, ``over-sampling`` or ``over-sampling + <transforms>`` (Algorithm 1),
    ``class-balanced sampling``."""
    if not recipe:
        return ""
    if recipe["items"] == "simple":
        return recipe["transforms"][0]
    if recipe["items"] == "balanced":
        return "over-sampling" + (f" + {'/'.join(recipe['transforms'])}"
                                  if recipe["transforms"] else "")
    return "class-balanced sampling" if recipe.get("sampler") else "none"


def fold_scores(results: pd.DataFrame, page: str, *, cell_columns: Sequence[str],
                recipes: Mapping[Any, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """The contract frame (:data:`FOLD_SCORE_COLUMNS`): one row per fold of ``results``
    (with the collapse columns). ``cell`` joins the row's ``cell_columns`` values; ``method``
    and ``augmentation`` come from the rows when they have them (``transform`` is the
    augmentation of a Tables 2-3 cell), else from ``recipes`` (method -> recipe spec), else
    empty."""
    missing = [c for c in ("model", "loss", "fold", "accuracy", "macro_f1", "majority_f1",
                           "top_class_share", "collapsed") if c not in results.columns]
    if missing:
        raise ValueError(f"fold rows lack {missing} (add the collapse columns with "
                         "with_collapse first)")
    out = pd.DataFrame(index=results.index)
    out["page"] = page
    out["cell"] = [" / ".join(str(r[c]) for c in cell_columns) for _, r in results.iterrows()]
    out["model"] = results["model"]
    out["loss"] = results["loss"]
    if "transform" in results.columns:
        out["augmentation"] = results["transform"]
    elif "method" in results.columns and recipes is not None:
        out["augmentation"] = [augmentation_label(recipes.get(m)) for m in results["method"]]
    else:
        out["augmentation"] = ""
    out["method"] = results["method"] if "method" in results.columns else ""
    for c in FOLD_SCORE_COLUMNS[6:]:
        out[c] = results[c]
    out["collapsed"] = out["collapsed"].astype(bool)
    return out.reset_index(drop=True)[list(FOLD_SCORE_COLUMNS)]


__all__ = ["COLLAPSE_MARGIN", "COLLAPSE_SHARE", "Comparison", "FOLD_SCORE_COLUMNS",
           "augmentation_label", "cell_summary", "compare_cells", "comparison_equivalence_part",
           "comparison_part", "fold_collapse",
           "fold_scores", "majority_f1", "select_rows", "split_sizes", "with_collapse"]
