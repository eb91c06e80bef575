"""The statistical tests both papers' claims rest on, each with its formula and a reference.

Holds:

- counts: :func:`fisher_exact_2x2` (two accuracies), :func:`mcnemar_exact` (paired
  before/after answers on the same images), :func:`paired_difference_p` (a paired change
  against a threshold, Tango's score test), :func:`sign_test_p` (signs only, no spread
  needed);
- :func:`stratified_permutation_test`, one permutation test for any statistic of blocks of
  (values, group labels), with the two statistics the book uses, :func:`mean_difference` and
  :func:`total_variation_distance`;
- fold scores: :func:`corrected_resampled_t` and :func:`corrected_paired_t` (the
  Nadeau-Bengio corrected resampled t for cross-validation folds);
- multiplicity: :func:`holm`;
- equivalence (TOST): :func:`tost_from_estimate`, :func:`tost_two_proportions`,
  :func:`tost_two_means`.

Does not hold: verdicts or their wording (``emo_lib.verdicts``), intervals of a single
proportion (``emo_lib.metrics.wilson_interval``), or anything that reads data frames of the
papers' tables: every function here takes plain numbers or arrays, so it can be checked
against a textbook value or a reference implementation.

Conventions: ``alpha`` is the significance level; ``alternative`` is one of
:data:`ALTERNATIVES` and names the direction of the alternative hypothesis for the first
group or the estimate ("greater": a > b, or estimate > 0); bad arguments raise ``ValueError``
naming the value and the valid choices. A result that cannot be computed from the data (an
empty group, a single fold, zero variance) is NaN, never an exception, and the docstring says
which. Distributions come from scipy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Literal, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats
from tqdm.auto import tqdm

from .validation import (
    check_choice, check_count, check_fraction, check_int, check_positive, check_positive_int,
)

#: The directions an ``alternative`` argument accepts.
ALTERNATIVES: tuple[str, ...] = ("two-sided", "greater", "less")
Alternative = Literal["two-sided", "greater", "less"]
#: One stratum's data as a statistic sees it: (values, is_a), values (n,) or (n, k).
Block = tuple[np.ndarray, np.ndarray]
#: Slack when comparing a permuted statistic with the observed one, so that permutations that
#: reproduce the observed value up to rounding count as "at least as extreme".
PERMUTATION_TOLERANCE = 1e-12
#: Scores whose range is at most this (relative to their magnitude, at least 1) count as
#: having zero variance (e.g. differences 0.1 and 0.09999999999999998).
ZERO_SPREAD = 1e-12


# ------------------------------------------------------------------------------- validation


def _check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    return str(check_choice(name, value, choices))


def _check_alpha(alpha: float, *, upper: float = 1.0) -> float:
    return check_fraction("alpha", alpha, low=0.0, high=upper, closed=(False, False))


def _check_correct_of_n(correct: object, n: object, group: str) -> tuple[int, int]:
    k, m = check_count(f"correct_{group}", correct), check_count(f"n_{group}", n)
    if k > m:
        raise ValueError(f"correct_{group}={k} exceeds n_{group}={m}")
    return k, m


def _finite_1d(name: str, values: object) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {x.shape}")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(f"{name} has non-finite values at positions {bad.tolist()}; leave "
                         "excluded entries (e.g. collapsed folds) out before calling")
    return x


def _check_bool_array(name: str, values: object) -> np.ndarray:
    x = np.asarray(values)
    if x.dtype != bool:
        raise ValueError(f"{name} must be a boolean array, got dtype {x.dtype}")
    return x


# ----------------------------------------------------------------------------------- counts


def fisher_exact_2x2(correct_a: int, n_a: int, correct_b: int, n_b: int) -> float:
    """Two-sided p-value of Fisher's exact test that groups a and b are equally accurate.

    The table is [[correct_a, n_a - correct_a], [correct_b, n_b - correct_b]]; conditional on
    its margins, the count correct_a is hypergeometric, and the two-sided p sums the
    probabilities of all tables no more likely than the observed one (scipy's
    ``fisher_exact``). NaN when a group is empty (n_a or n_b is 0).

    Reference: Fisher, R. A. (1935). *The Design of Experiments*, Sec. 2 (the lady tasting
    tea); Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., Sec. 3.5.
    """
    ka, na = _check_correct_of_n(correct_a, n_a, "a")
    kb, nb = _check_correct_of_n(correct_b, n_b, "b")
    if na == 0 or nb == 0:
        return float("nan")
    return float(stats.fisher_exact([[ka, na - ka], [kb, nb - kb]])[1])


def mcnemar_exact(before_correct: np.ndarray, after_correct: np.ndarray) -> float:
    """Two-sided exact McNemar p-value for paired right/wrong answers on the same items.

    With b = items right before and wrong after and c = wrong before and right after, under
    no change c ~ Binomial(b + c, 1/2); the p-value is scipy's two-sided binomial test of c.
    1.0 when nothing changed (b + c = 0).

    Reference: McNemar, Q. (1947). Psychometrika 12(2), 153-157; the exact (conditional)
    version: Fagerland, M. W., Lydersen, S. & Laake, P. (2013). BMC Medical Research
    Methodology 13, 91.
    """
    before = _check_bool_array("before_correct", before_correct)
    after = _check_bool_array("after_correct", after_correct)
    if before.shape != after.shape:
        raise ValueError(f"before_correct {before.shape} and after_correct {after.shape} "
                         "must pair the same items (same shape)")
    b = int(np.sum(before & ~after))
    c = int(np.sum(~before & after))
    return 1.0 if b + c == 0 else float(stats.binomtest(c, b + c, 0.5).pvalue)


def paired_difference_p(fixed: int, broken: int, n: int, delta: float = 0.0, *,
                        alternative: Alternative = "greater") -> float:
    """Tango's score test that a paired change of accuracy, after minus before on the same
    ``n`` items, differs from ``delta`` (a threshold: "changed by more than 0.2").

    With ``fixed`` items wrong before and right after, ``broken`` right before and wrong after,
    the change is d = (fixed - broken) / n. Under H0 (true change = delta) the cell
    probabilities are fitted by constrained maximum likelihood: the probability q of a broken
    item solves 2n q^2 - B q - broken * delta * (1 - delta) = 0 with
    B = fixed (1 - delta) + broken (1 - 3 delta) - 2 (n - fixed - broken) delta (its positive
    root), and Z = (d - delta) / sqrt((2 q + delta (1 - delta)) / n), referred to the normal
    distribution. ``alternative="greater"``: true change > delta; ``"less"``: < delta;
    ``"two-sided"``. At delta = 0 it is McNemar's asymptotic test, (fixed - broken) /
    sqrt(fixed + broken). No discordant item and delta = 0: p = 1 (nothing changed) for
    "two-sided", 0.5 one-sided; n = 0: NaN.

    Reference: Tango, T. (1998). Equivalence test and confidence interval for the difference
    in proportions for the paired-sample design. Statistics in Medicine 17(8), 891-908.
    """
    b = check_count("fixed", fixed)
    c = check_count("broken", broken)
    m = check_count("n", n)
    alternative = _check_choice("alternative", alternative, ALTERNATIVES)
    if b + c > m:
        raise ValueError(f"fixed={b} + broken={c} exceed n={m}")
    if not (isinstance(delta, (int, float, np.integer, np.floating)) and -1 < delta < 1):
        raise ValueError(f"delta={delta!r} must lie strictly between -1 and 1")
    if m == 0:
        return float("nan")
    d = (b - c) / m
    big_b = b * (1 - delta) + c * (1 - 3 * delta) - 2 * (m - b - c) * delta
    q = (big_b + math.sqrt(big_b ** 2 + 8 * m * c * delta * (1 - delta))) / (4 * m)
    var = (2 * q + delta * (1 - delta)) / m
    if var <= 0:
        if d == delta:
            return 1.0 if alternative == "two-sided" else 0.5
        z = math.copysign(math.inf, d - delta)
    else:
        z = (d - delta) / math.sqrt(var)
    if alternative == "greater":
        return float(stats.norm.sf(z))
    if alternative == "less":
        return float(stats.norm.cdf(z))
    return float(min(1.0, 2 * stats.norm.sf(abs(z))))


def sign_test_p(differences: Sequence[float], *, alternative: Alternative = "two-sided"
                ) -> float:
    """Exact sign test that the differences' median is 0 (zeros dropped): the count of
    positive differences is Binomial(k, 1/2) under H0 (scipy's binomtest). k identical
    non-zero differences give p = 2^(1-k) two-sided; all differences 0: p = 1. It needs no
    spread, so it judges a difference that is the same in every fold, where a t test cannot.

    Reference: Conover, W. J. (1999). *Practical Nonparametric Statistics*, 3rd ed., Sec. 3.4.
    """
    x = _finite_1d("differences", differences)
    alternative = _check_choice("alternative", alternative, ALTERNATIVES)
    nonzero = x[x != 0]
    if not len(nonzero):
        return 1.0
    return float(stats.binomtest(int((nonzero > 0).sum()), len(nonzero), 0.5,
                                 alternative=alternative).pvalue)


# ------------------------------------------------------------------------ permutation test


def mean_difference(blocks: Sequence[Block]) -> float:
    """Mean over strata of mean(values of a) - mean(values of b); values one-dimensional."""
    for values, _ in blocks:
        if values.ndim != 1:
            raise ValueError(f"mean_difference needs one value per row, got shape "
                             f"{values.shape}; use total_variation_distance for vectors")
    return float(np.mean([v[g].mean() - v[~g].mean() for v, g in blocks]))


def total_variation_distance(blocks: Sequence[Block]) -> float:
    """Mean over strata of the total-variation distance between the two groups' mean vectors,
    0.5 * sum_j |mean(a)_j - mean(b)_j| (0: same, 1: disjoint, for share vectors summing
    to 1); values (n, k)."""
    for values, _ in blocks:
        if values.ndim != 2:
            raise ValueError(f"total_variation_distance needs a vector per row, got shape "
                             f"{values.shape}; use mean_difference for single values")
    return float(np.mean([0.5 * float(np.abs(x[g].mean(0) - x[~g].mean(0)).sum())
                          for x, g in blocks]))


@dataclass(frozen=True)
class PermutationResult:
    """The outcome of :func:`stratified_permutation_test`.

    ``statistic``: the observed statistic (signed); ``p_value``: (1 + hits) / (1 + n_perm);
    ``per_stratum``: one row per tested stratum, in order of first appearance: the stratum
    column(s), ``n_a``, ``n_b`` and ``statistic`` (the statistic of that stratum alone);
    ``n_used`` + ``n_excluded`` = the rows given (excluded: non-finite values, a missing
    stratum, or a stratum holding only one group, listed in ``skipped_strata``).
    """
    statistic: float
    p_value: float
    n_perm: int
    alternative: str
    per_stratum: pd.DataFrame
    n_used: int
    n_excluded: int
    skipped_strata: tuple


def _strata_keys(strata: object, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(keys as an object array, missing mask, column names) of a 1-D array, a Series or a
    DataFrame of stratum labels; a DataFrame's rows become tuples."""
    if isinstance(strata, pd.DataFrame) and strata.shape[1] == 1:
        strata = strata.iloc[:, 0]  # one column: plain labels, not 1-tuples
    if isinstance(strata, pd.DataFrame):
        if strata.shape[1] == 0:
            raise ValueError("strata is a DataFrame with no columns; pass at least one")
        names = [str(c) for c in strata.columns]
        missing = strata.isna().any(axis=1).to_numpy()
        keys = np.empty(len(strata), dtype=object)
        keys[:] = list(strata.itertuples(index=False, name=None))
    else:
        names = [str(strata.name) if isinstance(strata, pd.Series) and strata.name is not None
                 else "stratum"]
        keys = np.asarray(strata, dtype=object)
        if keys.ndim != 1:
            raise ValueError(f"strata must be one label per row (1-D) or a DataFrame, got "
                             f"shape {keys.shape}")
        missing = pd.isna(keys)
    if len(keys) != n:
        raise ValueError(f"strata has {len(keys)} rows, values has {n}")
    return keys, np.asarray(missing, bool), names


def stratified_permutation_test(values: np.ndarray, is_a: np.ndarray, strata: object,
                                statistic: Callable[[Sequence[Block]], float], *,
                                n_perm: int, seed: int,
                                alternative: Alternative = "two-sided",
                                progress: bool = False) -> PermutationResult:
    """Permutation test of a statistic of two groups, permuting group labels within strata.

    ``values``: (N,) or (N, k) floats (rows with any non-finite value are left out);
    ``is_a``: (N,) bool, True for group a; ``strata``: (N,) labels, a Series, or a DataFrame
    whose rows are the strata (rows with a missing label are left out). Strata are taken in
    order of first appearance among the rows kept; those holding both groups become blocks
    (values_block, is_a_block), and ``statistic(blocks)`` is the test statistic T (e.g.
    :func:`mean_difference`, :func:`total_variation_distance`).

    With ``rng = np.random.default_rng(seed)``, each of ``n_perm`` permutations draws
    ``rng.permutation(is_a_block)`` for each block in order and recomputes T*. Hits count
    T* >= T ("greater"), T* <= T ("less") or |T*| >= |T| ("two-sided"), each with a slack of
    :data:`PERMUTATION_TOLERANCE`, and p = (1 + hits) / (1 + n_perm), which is never 0 and
    keeps P(p <= alpha) <= alpha under exchangeability. For a non-negative statistic such as
    the total-variation distance "two-sided" and "greater" count the same hits. No block:
    statistic and p are NaN.

    References: Good, P. (2005). *Permutation, Parametric, and Bootstrap Tests of Hypotheses*,
    3rd ed., Springer (within-strata permutation); Phipson, B. & Smyth, G. K. (2010).
    Permutation p-values should never be zero. Statistical Applications in Genetics and
    Molecular Biology 9(1), 39.
    """
    alternative = _check_choice("alternative", alternative, ALTERNATIVES)
    n_perm = check_positive_int("n_perm", n_perm)
    seed = check_int("seed (same seed, same p-value)", seed)
    x = np.asarray(values, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"values must be (N,) or (N, k), got shape {x.shape}")
    g = _check_bool_array("is_a", is_a)
    if g.shape != (len(x),):
        raise ValueError(f"is_a has shape {g.shape}, values has {len(x)} rows")
    keys, missing, names = _strata_keys(strata, len(x))

    finite = np.isfinite(x) if x.ndim == 1 else np.isfinite(x).all(axis=1)
    kept = finite & ~missing
    codes, uniques = pd.factorize(keys[kept])  # order of first appearance
    rows = np.flatnonzero(kept)
    blocks: list[Block] = []
    tested, skipped = [], []
    for code, key in enumerate(uniques):
        idx = rows[codes == code]
        labels = g[idx]
        if labels.all() or not labels.any():
            skipped.append(key)
            continue
        blocks.append((x[idx], labels))
        tested.append(key)
    n_used = int(sum(len(b[1]) for b in blocks))
    columns = names + ["n_a", "n_b", "statistic"]
    if not blocks:
        return PermutationResult(float("nan"), float("nan"), int(n_perm), alternative,
                                 pd.DataFrame(columns=columns), 0, len(x), tuple(skipped))

    observed = float(statistic(blocks))
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in tqdm(range(n_perm), disable=not progress, desc="permutations", leave=False):
        s = statistic([(v, rng.permutation(labels)) for v, labels in blocks])
        if alternative == "greater":
            hits += s >= observed - PERMUTATION_TOLERANCE
        elif alternative == "less":
            hits += s <= observed + PERMUTATION_TOLERANCE
        else:
            hits += abs(s) >= abs(observed) - PERMUTATION_TOLERANCE
    p = (1 + hits) / (1 + n_perm)

    per_stratum = pd.DataFrame(
        [{**dict(zip(names, key if len(names) > 1 else (key,))), "n_a": int(labels.sum()),
          "n_b": int((~labels).sum()), "statistic": float(statistic([(v, labels)]))}
         for key, (v, labels) in zip(tested, blocks)], columns=columns)
    return PermutationResult(observed, float(p), int(n_perm), alternative, per_stratum,
                             n_used, len(x) - n_used, tuple(skipped))


# ------------------------------------------------------------------------- fold statistics


@dataclass(frozen=True)
class CorrectedT:
    """Nadeau-Bengio corrected resampled t over k fold scores (or paired differences).

    ``mean``, ``sd`` (ddof 1), ``k``; ``se`` = sqrt((1/k + n_test/n_train) * sd^2);
    ``df`` = k - 1; ``ci_low``/``ci_high``: the two-sided (1 - ``alpha``) interval
    mean -/+ t_{1-alpha/2, df} * se (two-sided whatever ``alternative``); ``t`` = mean / se
    and ``p_value`` against a true mean of 0 in the direction ``alternative``.
    """
    mean: float
    sd: float
    k: int
    se: float
    df: float
    ci_low: float
    ci_high: float
    t: float
    p_value: float
    alpha: float
    alternative: str


def _t_p_value(t: float, df: float, alternative: str) -> float:
    if alternative == "greater":
        return float(stats.t.sf(t, df))
    if alternative == "less":
        return float(stats.t.cdf(t, df))
    return float(min(1.0, 2 * stats.t.sf(abs(t), df)))


def corrected_resampled_t(scores: Sequence[float], n_train: float, n_test: float, *,
                          alpha: float = 0.05,
                          alternative: Alternative = "two-sided") -> CorrectedT:
    """Mean, spread, interval and test against 0 of k resampled scores (cross-validation
    folds), with the variance inflated for the overlap of the training sets.

    Formula (Nadeau & Bengio's "corrected resampled t", as written by Bouckaert & Frank
    2004): with mean m and sample variance s^2 of the k scores,
    se = sqrt((1/k + n_test/n_train) * s^2),
    t = m / se on k - 1 degrees of freedom (scipy.stats.t); the naive t would use 1/k alone
    and is far too liberal because the folds share training data. For k-fold cross-validation
    n_test/n_train = 1/(k - 1); pass the (mean) numbers of training and test items per fold.
    For one cell's interval pass its fold scores; for a paired comparison pass the per-fold
    differences (or use :func:`corrected_paired_t`).

    Undefined cases, chosen so a caller can read NaN p as "not testable": k = 0: everything
    NaN; k = 1: mean only; zero spread (all scores equal within :data:`ZERO_SPREAD`):
    sd = se = 0 but t, p and the interval are NaN -- a t-test cannot weigh a difference with
    no variance estimate, and calling k identical differences "significant" (p = 0) would
    turn a handful of coarse scores into certainty. Scores must be finite (leave excluded
    folds out).

    References: Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error.
    Machine Learning 52(3), 239-281; Bouckaert, R. R. & Frank, E. (2004). Evaluating the
    replicability of significance tests for comparing learning algorithms. PAKDD 2004,
    LNCS 3056, 3-12.
    """
    x = _finite_1d("scores", scores)
    n_train = check_positive("n_train", n_train)
    n_test = check_positive("n_test", n_test)
    alpha = _check_alpha(alpha)
    alternative = _check_choice("alternative", alternative, ALTERNATIVES)
    k = len(x)
    nan = float("nan")
    mean = float(x.mean()) if k else nan
    if k < 2:
        return CorrectedT(mean, nan, k, nan, float(k - 1) if k else nan, nan, nan, nan, nan,
                          alpha, alternative)
    df = float(k - 1)
    if np.ptp(x) <= ZERO_SPREAD * max(1.0, float(np.abs(x).max())):
        return CorrectedT(mean, 0.0, k, 0.0, df, nan, nan, nan, nan, alpha, alternative)
    sd = float(x.std(ddof=1))
    se = math.sqrt((1 / k + n_test / n_train) * sd ** 2)
    t = mean / se
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return CorrectedT(mean, sd, k, se, df, mean - half, mean + half, t,
                      _t_p_value(t, df, alternative), alpha, alternative)


def corrected_paired_t(scores_a: Sequence[float], scores_b: Sequence[float], n_train: float,
                       n_test: float, *, alpha: float = 0.05,
                       alternative: Alternative = "two-sided") -> CorrectedT:
    """:func:`corrected_resampled_t` of the per-fold differences a - b (fold i of a paired
    with fold i of b: same split, two methods). ``alternative="greater"`` tests a > b. Same
    undefined cases (k identical differences, including all zero: NaN p).

    References: as :func:`corrected_resampled_t` (Nadeau & Bengio 2003; Bouckaert & Frank
    2004, who use it on paired differences).
    """
    a, b = _finite_1d("scores_a", scores_a), _finite_1d("scores_b", scores_b)
    if len(a) != len(b):
        raise ValueError(f"scores_a has {len(a)} folds and scores_b {len(b)}: the paired test "
                         "needs the same folds for both, matched by position")
    return corrected_resampled_t(a - b, n_train, n_test, alpha=alpha, alternative=alternative)


# ----------------------------------------------------------------------------- multiplicity


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values, in the input's order and shape.

    With the m non-NaN p-values sorted p_(1) <= ... <= p_(m):
    adj_(i) = max_{j <= i} min(1, (m - j + 1) * p_(j)); rejecting adj < alpha controls the
    family-wise error rate at alpha. NaN stays NaN and does not count in m (a cell that could
    not be tested is not a test).

    Reference: Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Scandinavian Journal of Statistics 6(2), 65-70.
    """
    p = np.asarray(p_values, dtype=float)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    if np.any((flat[ok] < 0) | (flat[ok] > 1)):
        raise ValueError(f"p_values must lie in [0, 1] (or be NaN), got {flat[ok].tolist()}")
    out = np.full(flat.shape, np.nan)
    m = int(ok.sum())
    if m:
        idx = np.flatnonzero(ok)
        order = idx[np.argsort(flat[idx], kind="stable")]
        scaled = np.minimum(1.0, (m - np.arange(m)) * flat[order])
        out[order] = np.maximum.accumulate(scaled)
    return out.reshape(p.shape)


# ------------------------------------------------------------------------------ equivalence


@dataclass(frozen=True)
class TostResult:
    """Two one-sided tests of |true difference| < ``margin``.

    ``p_value`` = max of the two one-sided p-values; ``ci_low``/``ci_high``: the
    (1 - 2 * ``alpha``) interval; ``equivalent``: p < alpha, which is the same as the
    interval lying inside (-margin, margin). ``method`` names the interval: "t", "normal",
    "wald", "newcombe" or "welch".
    """
    estimate: float
    margin: float
    p_value: float
    ci_low: float
    ci_high: float
    equivalent: bool
    alpha: float
    method: str


def _untestable(estimate: float, margin: float, alpha: float, method: str) -> TostResult:
    nan = float("nan")
    return TostResult(estimate, margin, nan, nan, nan, False, alpha, method)


def tost_from_estimate(estimate: float, se: float, df: float, margin: float, *,
                       alpha: float = 0.05) -> TostResult:
    """TOST for an estimate with standard error ``se`` and a t (or, df = inf, normal)
    sampling distribution: is the true value inside (-margin, margin)?

    p_lower = P(T >= (estimate + margin) / se) tests H0: value <= -margin,
    p_upper = P(T <= (estimate - margin) / se) tests H0: value >= margin, p = max of the two;
    equivalence at level alpha when p < alpha, equivalently when the (1 - 2 alpha) interval
    estimate -/+ q_{1-alpha} * se lies inside the margins. ``se`` = 0 (no sampling variation
    estimated): NaN p and interval, not equivalent. ``alpha`` must be below 0.5.

    Reference: Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure
    and the power approach for assessing the equivalence of average bioavailability. Journal
    of Pharmacokinetics and Biopharmaceutics 15(6), 657-680.
    """
    alpha = _check_alpha(alpha, upper=0.5)
    margin = check_positive("margin", margin)
    if not (isinstance(estimate, (int, float, np.integer, np.floating))
            and math.isfinite(estimate)):
        raise ValueError(f"estimate={estimate!r} must be a finite number")
    if not (isinstance(se, (int, float, np.integer, np.floating)) and math.isfinite(se)
            and se >= 0):
        raise ValueError(f"se={se!r} must be a finite number >= 0")
    if not (isinstance(df, (int, float, np.integer, np.floating)) and df > 0):
        raise ValueError(f"df={df!r} must be positive (math.inf for a normal approximation)")
    method = "normal" if math.isinf(df) else "t"
    if se == 0:
        return _untestable(float(estimate), margin, alpha, method)
    # scipy's distribution functions called directly: a frozen distribution costs ~1 ms
    shape = () if math.isinf(df) else (df,)
    dist = stats.norm if math.isinf(df) else stats.t
    p_lower = float(dist.sf((estimate + margin) / se, *shape))
    p_upper = float(dist.cdf((estimate - margin) / se, *shape))
    p = max(p_lower, p_upper)
    half = float(dist.ppf(1 - alpha, *shape)) * se
    return TostResult(float(estimate), margin, p, estimate - half, estimate + half,
                      bool(p < alpha), alpha, method)


def _wilson_bound(k: int, n: int, z: float) -> float:
    """The proportion pi where the score statistic (k/n - pi) / sqrt(pi (1 - pi) / n) equals
    z: the Wilson lower bound for z > 0, the upper bound at |z| for z < 0."""
    p = k / n
    z2 = z * z
    return (p + z2 / (2 * n) - z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n)


def _newcombe_lower(ka: int, na: int, kb: int, nb: int, z: float) -> float:
    """Newcombe's hybrid-score lower bound of pa - pb at signed z (decreasing in z; for
    z < 0 it is the upper bound at |z|)."""
    pa, pb = ka / na, kb / nb
    spread = math.hypot(pa - _wilson_bound(ka, na, z), _wilson_bound(kb, nb, -z) - pb)
    return pa - pb - math.copysign(spread, z)


_Z_MAX = 38.0  # norm.sf(38) ~ 3e-316: beyond it a p-value is 0 in double precision


def _newcombe_one_sided_p(bound: Callable[[float], float], target: float) -> float:
    """norm.sf(z*) where the decreasing ``bound(z*)`` = ``target``: the p-value of the
    one-sided test obtained by inverting the interval."""
    def f(z: float) -> float:
        return bound(z) - target

    if f(_Z_MAX) > 0:
        return float(stats.norm.sf(_Z_MAX))
    if f(-_Z_MAX) < 0:
        return float(stats.norm.sf(-_Z_MAX))
    return float(stats.norm.sf(optimize.brentq(f, -_Z_MAX, _Z_MAX, xtol=1e-12)))


def tost_two_proportions(correct_a: int, n_a: int, correct_b: int, n_b: int, margin: float,
                         *, alpha: float = 0.05,
                         method: Literal["wald", "newcombe"] = "wald") -> TostResult:
    """TOST that two independent accuracies differ by less than ``margin`` (pa - pb).

    ``method="wald"``: estimate pa - pb with the unpooled standard error
    sqrt(pa (1 - pa) / n_a + pb (1 - pb) / n_b) and a normal distribution
    (:func:`tost_from_estimate` with df = inf). Weakness: with small groups or accuracies
    near 0 or 1 the Wald interval is too narrow (its coverage falls below nominal, so
    equivalence is declared too easily), and when both accuracies are 0 or 1 its standard
    error is 0 and the test returns NaN.

    ``method="newcombe"``: Newcombe's hybrid score interval (his method 10), built from the
    two Wilson score intervals (l, u): pa - pb - sqrt((pa - la)^2 + (ub - pb)^2) to
    pa - pb + sqrt((ua - pa)^2 + (pb - lb)^2) at z = q_{1-alpha}; it keeps its coverage near
    0 and 1 and at small n. Each one-sided p-value is norm.sf(z*), z* the z at which that
    bound meets the margin (found by root finding), so p < alpha exactly when the interval
    lies inside the margins.

    Empty group: NaN p, not equivalent.

    References: Schuirmann (1987) (see :func:`tost_from_estimate`); Newcombe, R. G. (1998).
    Interval estimation for the difference between independent proportions: comparison of
    eleven methods. Statistics in Medicine 17(8), 873-890; Wilson, E. B. (1927). JASA 22,
    209-212.
    """
    method = _check_choice("method", method, ("wald", "newcombe"))
    ka, na = _check_correct_of_n(correct_a, n_a, "a")
    kb, nb = _check_correct_of_n(correct_b, n_b, "b")
    alpha = _check_alpha(alpha, upper=0.5)
    margin = check_positive("margin", margin)
    if na == 0 or nb == 0:
        return _untestable(float("nan"), margin, alpha, method)
    pa, pb = ka / na, kb / nb
    if method == "wald":
        se = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
        return replace(tost_from_estimate(pa - pb, se, math.inf, margin, alpha=alpha),
                       method="wald")

    def lower(z: float) -> float:
        return _newcombe_lower(ka, na, kb, nb, z)

    def upper_negated(z: float) -> float:  # -(upper bound at z): decreasing in z
        return -_newcombe_lower(ka, na, kb, nb, -z)

    p = max(_newcombe_one_sided_p(lower, -margin), _newcombe_one_sided_p(upper_negated, -margin))
    z = float(stats.norm.ppf(1 - alpha))
    low, high = lower(z), -upper_negated(z)
    return TostResult(pa - pb, margin, p, low, high, bool(p < alpha), alpha, "newcombe")


def tost_two_means(a: Sequence[float], b: Sequence[float], margin: float, *,
                   alpha: float = 0.05) -> TostResult:
    """TOST that two independent means differ by less than ``margin`` (mean(a) - mean(b)),
    without assuming equal variances (Welch).

    se = sqrt(s_a^2 / n_a + s_b^2 / n_b), Welch-Satterthwaite
    df = se^4 / ((s_a^2 / n_a)^2 / (n_a - 1) + (s_b^2 / n_b)^2 / (n_b - 1)), then
    :func:`tost_from_estimate`. Each sample needs at least 2 finite values (ValueError
    otherwise); both samples constant (se = 0): NaN p, not equivalent.

    References: Schuirmann (1987); Welch, B. L. (1947). Biometrika 34(1-2), 28-35;
    Satterthwaite, F. E. (1946). Biometrics Bulletin 2(6), 110-114.
    """
    x, y = _finite_1d("a", a), _finite_1d("b", b)
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"tost_two_means needs at least 2 values per sample, got {len(x)} "
                         f"and {len(y)}")
    alpha = _check_alpha(alpha, upper=0.5)
    margin = check_positive("margin", margin)
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    estimate = float(x.mean() - y.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return _untestable(estimate, margin, alpha, "welch")
    df = (va + vb) ** 2 / (va ** 2 / (len(x) - 1) + vb ** 2 / (len(y) - 1))
    return replace(tost_from_estimate(estimate, se, df, margin, alpha=alpha), method="welch")
