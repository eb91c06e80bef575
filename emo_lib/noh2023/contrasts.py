"""Differences of accuracies with subject-clustered intervals: the statistics of the
explanation page (:mod:`.redraw`, :mod:`.composition`).

Every quantity there is a difference of two means of per-image scores over two independent sets
of people: the CAFE-vs-NIMH-ChEFS gap (score: correct or not), a change on the same children
(score: correct after minus before), a trend over several models evaluated on the same images
(score: a weighted sum of the models' answers, :func:`trend_scores`), a gender gap or its change.
The images of one subject are not independent answers, so each mean's standard error is
cluster-robust over subjects (CR1: the squared sums of each subject's deviations, times
G / (G - 1) for G subjects); the interval and the p-value are normal (two-sided). The models
are fixed: training noise (another seed) is not in these intervals; the seeds parameter
measures it.

Not here: the verdicts built from these numbers (:mod:`.explanation`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..stats import tost_from_estimate


@dataclass(frozen=True)
class Contrast:
    """``estimate`` = mean(a) - mean(b) (or mean(a) alone) with its cluster-robust ``se``,
    the (1 - ``alpha``) normal interval, the two-sided ``p_value`` against 0, and
    ``detectable``: the smallest |difference| this design could call significant at ``alpha``
    (z_{1 - alpha/2} x se)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    detectable: float
    alpha: float
    n_images: int
    n_clusters: int

    @property
    def contains_zero(self) -> bool:
        return bool(self.ci_low <= 0.0 <= self.ci_high)

    def tost_p(self, margin: float) -> float:
        """p of the two one-sided tests that the true value lies within +/- ``margin``. With
        no spread at all (every per-image score equal) the difference is exact: 0 inside the
        margin, 1 outside."""
        if not math.isfinite(self.estimate) or not math.isfinite(self.se):
            return float("nan")
        if self.se == 0:
            return 0.0 if abs(self.estimate) < margin else 1.0
        return tost_from_estimate(self.estimate, self.se, math.inf, margin,
                                  alpha=min(self.alpha, 0.49)).p_value

    def beyond_p(self, margin: float) -> float:
        """One-sided p that the true value lies beyond +/- ``margin`` on the estimate's side
        (exact, 0 or 1, with no spread)."""
        if not math.isfinite(self.estimate) or not math.isfinite(self.se):
            return float("nan")
        if self.se == 0:
            return 0.0 if abs(self.estimate) > margin else 1.0
        return float(stats.norm.sf((abs(self.estimate) - margin) / self.se))

    def text(self, digits: int = 3) -> str:
        """``-0.409 [-0.452, -0.366]``."""
        return (f"{self.estimate:+.{digits}f} [{self.ci_low:+.{digits}f}, "
                f"{self.ci_high:+.{digits}f}]")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cluster_mean(values: Sequence[float], clusters: Sequence[Any]) -> tuple[float, float, int]:
    """Mean of ``values`` over images and its cluster-robust (CR1) standard error, and the
    number of clusters. NaN standard error with fewer than two clusters."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return float("nan"), float("nan"), 0
    mean = float(v.mean())
    sums = pd.Series(v - mean).groupby(np.asarray(clusters).astype(str)).sum().to_numpy()
    g = len(sums)
    if g < 2:
        return mean, float("nan"), g
    var = float((sums ** 2).sum()) / len(v) ** 2 * g / (g - 1)
    return mean, math.sqrt(var), g


def contrast(a: Sequence[float], clusters_a: Sequence[Any], b: Sequence[float] | None = None,
             clusters_b: Sequence[Any] | None = None, alpha: float = 0.05) -> Contrast:
    """mean(a) - mean(b) over two independent sets of subjects (``b`` None: mean(a) against
    0), with the cluster-robust normal interval (module docstring)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    mean_a, se_a, g_a = cluster_mean(a, clusters_a)
    n = len(a)
    estimate, var, g = mean_a, se_a ** 2, g_a
    if b is not None:
        if clusters_b is None:
            raise ValueError("clusters_b is needed with b")
        shared = set(map(str, clusters_a)) & set(map(str, clusters_b))
        if shared:
            raise ValueError(f"the two groups share subjects ({sorted(shared)[:3]}...): they "
                             "are not independent; compare per-image differences instead")
        mean_b, se_b, g_b = cluster_mean(b, clusters_b)
        estimate, var, g, n = mean_a - mean_b, var + se_b ** 2, g + g_b, n + len(b)
    se = math.sqrt(var) if math.isfinite(var) else float("nan")
    z = float(stats.norm.ppf(1 - alpha / 2))
    if se > 0:
        p = float(2 * stats.norm.sf(abs(estimate) / se))
    else:   # no spread: an exact difference; significant unless it is 0
        p = float("nan") if not math.isfinite(se) else (1.0 if estimate == 0 else 0.0)
    return Contrast(float(estimate), se, estimate - z * se, estimate + z * se, p, z * se,
                    float(alpha), int(n), int(g))


def correct(preds: pd.DataFrame, column: str = "pred") -> np.ndarray:
    """1.0 where ``column`` equals the label, else 0.0."""
    return (preds[column].to_numpy(object) == preds["label"].to_numpy(object)).astype(float)


def trend_weights(xs: Sequence[float]) -> np.ndarray:
    """Weights w with sum(w * y) = the least-squares slope of y on ``xs`` times the range of
    ``xs`` (the fitted change from the smallest x to the largest)."""
    x = np.asarray(xs, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0:
        raise ValueError(f"a trend needs at least two different x values, got {list(xs)}")
    d = x - x.mean()
    return d / (d ** 2).sum() * np.ptp(x)


def trend_scores(answers: Sequence[np.ndarray], xs: Sequence[float]) -> np.ndarray:
    """Per image, the weighted sum of its answers (1 correct, 0 wrong) under the models fitted
    at ``xs``: their mean over a data set is the linear trend of its accuracy over the range of
    ``xs``, so a difference of two data sets' means is the trend of their gap."""
    w = trend_weights(xs)
    stacked = np.vstack([np.asarray(a, dtype=float) for a in answers])
    return w @ stacked


__all__ = ["Contrast", "cluster_mean", "contrast", "correct", "trend_scores", "trend_weights"]
