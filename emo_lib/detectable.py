"""The smallest difference a test could have called significant with a run's numbers: what an
*inconclusive* verdict could not have seen (the claims contract's ``detectable`` column).

Each function is the normal (or t) approximation of one of the book's tests at level
``alpha``, computed from the design (group sizes, pooled rates, standard errors), not from the
observed difference:

- :func:`two_proportions`: two independent accuracies (Fisher's exact test; its normal
  approximation with the pooled rate): z_{1-alpha/2} sqrt(p (1 - p) (1/n_a + 1/n_b));
- :func:`paired_change`: the same items before and after (McNemar):
  z_{1-alpha/2} sqrt(fixed + broken) / n;
- :func:`from_se`: any estimate with a standard error and degrees of freedom (a corrected
  paired t over folds, a one-sample t over images or children): t_{1-alpha/2, df} se;
- :func:`beyond_threshold`: a test against a threshold (one-sided): threshold +
  z_{1-alpha} se, the smallest gap shown beyond it;
- :func:`equivalence_half_width`: the half-width of the (1 - 2 alpha) interval of a TOST:
  equivalence within a margin needs the difference at least that far inside it.

Not here: the tests themselves (:mod:`emo_lib.stats`) or verdicts (:mod:`emo_lib.verdicts`).
"""
from __future__ import annotations

import math

from scipy import stats


def _quantile(level: float, df: float = math.inf) -> float:
    return float(stats.norm.ppf(level) if math.isinf(df) else stats.t.ppf(level, df))


def _check_alpha(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r} must lie strictly between 0 and 1")
    return float(alpha)


def from_se(se: float, df: float = math.inf, alpha: float = 0.05, *, sides: int = 2) -> float:
    """t_{1-alpha/sides, df} * se (normal when df is infinite); NaN for a missing or zero
    standard error or df <= 0."""
    alpha = _check_alpha(alpha)
    if sides not in (1, 2):
        raise ValueError(f"sides must be 1 or 2, got {sides!r}")
    if not (se is not None and math.isfinite(se) and se > 0 and df is not None and df > 0):
        return float("nan")
    return _quantile(1 - alpha / sides, df) * float(se)


def two_proportions(correct_a: int, n_a: int, correct_b: int, n_b: int,
                    alpha: float = 0.05) -> float:
    """The smallest accuracy difference a two-sided test of two independent groups of
    ``n_a`` and ``n_b`` items calls significant, at their pooled accuracy. NaN for an empty
    group or a pooled accuracy of 0 or 1 (no difference could show)."""
    if not (n_a and n_b):
        return float("nan")
    pooled = (correct_a + correct_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return from_se(se, alpha=alpha)


def paired_change(fixed: int, broken: int, n: int, alpha: float = 0.05) -> float:
    """The smallest before/after change on the same ``n`` items that McNemar's test (normal
    approximation) calls significant, given how many items changed answer (``fixed`` +
    ``broken``). NaN for no item or no changed item."""
    if not n or not (fixed + broken):
        return float("nan")
    return from_se(math.sqrt(fixed + broken) / n, alpha=alpha)


def beyond_threshold(threshold: float, se: float, df: float = math.inf,
                     alpha: float = 0.05) -> float:
    """The smallest gap (in absolute value) a one-sided test shows beyond ``threshold``:
    threshold + t_{1-alpha, df} se."""
    return abs(threshold) + from_se(se, df, alpha, sides=1)


def equivalence_half_width(se: float, df: float = math.inf, alpha: float = 0.05) -> float:
    """Half-width of the (1 - 2 alpha) interval of the two one-sided tests:
    t_{1-alpha, df} se."""
    return from_se(se, df, alpha, sides=1)


def proportions_se(correct_a: int, n_a: int, correct_b: int, n_b: int) -> float:
    """Standard error of a difference of two independent accuracies at their pooled rate."""
    if not (n_a and n_b):
        return float("nan")
    pooled = (correct_a + correct_b) / (n_a + n_b)
    return math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))


def paired_se(fixed: int, broken: int, n: int) -> float:
    """Standard error of a paired change of accuracy, (fixed - broken) / n, from the
    discordant counts: sqrt((fixed + broken) / n - change^2) / sqrt(n)."""
    if not n:
        return float("nan")
    d = (fixed - broken) / n
    return math.sqrt(max((fixed + broken) / n - d * d, 0.0) / n)


__all__ = ["beyond_threshold", "equivalence_half_width", "from_se", "paired_change",
           "paired_se", "proportions_se", "two_proportions"]
