"""emo_lib.stats: every test against a value the module did not compute itself (a textbook
or paper's worked example, a hand computation, scipy on an equivalent problem, a verbatim
copy of the code it replaces, or values from statsmodels 0.15.0), plus size simulations and
edge cases."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from emo_lib.stats import (
    ALTERNATIVES, CorrectedT, PermutationResult, TostResult, corrected_paired_t,
    corrected_resampled_t, fisher_exact_2x2, holm, mcnemar_exact, mean_difference,
    stratified_permutation_test, total_variation_distance, tost_from_estimate, tost_two_means,
    tost_two_proportions,
)

# ------------------------------------------------------------------ references (verbatim)
# The two permutation tests stratified_permutation_test replaces, copied verbatim from
# emo_lib/noh2023.py (commit c2c405a) so the refactor provably keeps the book's numbers.
# Docstrings dropped; REGIONS defined here (the region columns of that time); in mcnemar_p
# scipy.stats is spelled `sps`. The bodies are otherwise identical (checked by AST).

REGIONS = ("eyes_brows", "glabella_nose", "mouth", "other")


def region_difference_test(per_image: pd.DataFrame, group_col: str, a: Any, b: Any,
                           strata: Sequence[str] = ("class",), n_perm: int = 2000,
                           seed: int = 0) -> tuple[pd.DataFrame, float, float]:
    data = per_image.dropna(subset=list(REGIONS))
    data = data[data[group_col].isin([a, b])]
    strata = list(strata)
    blocks = []
    for key, sub in data.groupby(strata, sort=False):
        g = (sub[group_col] == a).to_numpy()
        if g.all() or not g.any():
            continue
        blocks.append((key if isinstance(key, tuple) else (key,), sub[list(REGIONS)]
                       .to_numpy(float), g))
    if not blocks:
        return pd.DataFrame(columns=strata + ["n_a", "n_b", "tv_distance"]), np.nan, np.nan

    def tv(x: np.ndarray, g: np.ndarray) -> float:
        return 0.5 * float(np.abs(x[g].mean(0) - x[~g].mean(0)).sum())

    observed = [tv(x, g) for _, x, g in blocks]
    stat = float(np.mean(observed))
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_perm):
        s = np.mean([tv(x, rng.permutation(g)) for _, x, g in blocks])
        hits += s >= stat - 1e-12
    p = (1 + hits) / (1 + n_perm)
    table = pd.DataFrame([{**dict(zip(strata, k)), "n_a": int(g.sum()), "n_b": int((~g).sum()),
                           "tv_distance": d} for (k, _, g), d in zip(blocks, observed)])
    return table, stat, p


def _stratified_perm_p(values: np.ndarray, is_a: np.ndarray, strata: np.ndarray,
                       n_perm: int, seed: int) -> float:
    ok = np.isfinite(values)
    blocks = []
    for s in pd.unique(strata[ok]):
        m = ok & (strata == s)
        if is_a[m].any() and (~is_a[m]).any():
            blocks.append((values[m], is_a[m]))
    if not blocks:
        return float("nan")

    def gap(labels: list[np.ndarray]) -> float:
        return float(np.mean([v[g].mean() - v[~g].mean() for (v, _), g in zip(blocks, labels)]))

    observed = abs(gap([g for _, g in blocks]))
    rng = np.random.default_rng(seed)
    hits = sum(abs(gap([rng.permutation(g) for _, g in blocks])) >= observed - 1e-12
               for _ in range(n_perm))
    return (1 + hits) / (1 + n_perm)


def mcnemar_p(before_correct: np.ndarray, after_correct: np.ndarray) -> float:
    b = int(np.sum(before_correct & ~after_correct))
    c = int(np.sum(~before_correct & after_correct))
    return 1.0 if b + c == 0 else float(sps.binomtest(c, b + c, 0.5).pvalue)


# ------------------------------------------------------------------------- random frames


def _per_image(seed: int, n: int = 90) -> pd.DataFrame:
    """LIME-like per-image region shares: classes unevenly filled (one holding a single
    group, one empty of a group after NaNs), some empty masks (NaN rows)."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(len(REGIONS)), size=n)
    frame = pd.DataFrame(shares, columns=list(REGIONS))
    frame["class"] = rng.choice(["sad", "happy", "fear", "angry", "neutral"], size=n,
                                p=[0.3, 0.3, 0.2, 0.15, 0.05])
    frame["gender"] = rng.choice(["male", "female"], size=n)
    frame["dataset"] = rng.choice(["CAFE", "NIMH-ChEFS", "other"], size=n, p=[0.45, 0.45, 0.1])
    frame.loc[frame["class"] == "neutral", "gender"] = "male"   # a one-group stratum
    frame.loc[rng.random(n) < 0.1, list(REGIONS)] = np.nan      # empty masks
    return frame


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_permutation_matches_todays_region_difference_test(seed):
    frame = _per_image(seed)
    n_perm = 150
    for group_col, a, b in (("gender", "male", "female"), ("dataset", "CAFE", "NIMH-ChEFS")):
        want_table, want_stat, want_p = region_difference_test(frame, group_col, a, b,
                                                               ("class",), n_perm, seed)
        data = frame[frame[group_col].isin([a, b])]
        got = stratified_permutation_test(
            data[list(REGIONS)].to_numpy(float), (data[group_col] == a).to_numpy(),
            data["class"], total_variation_distance, n_perm=n_perm, seed=seed,
            alternative="greater")
        assert got.statistic == want_stat
        assert got.p_value == want_p
        table = got.per_stratum.rename(columns={"stratum": "class", "statistic": "tv_distance"})
        pd.testing.assert_frame_equal(table, want_table, check_dtype=False)
        # a one-column DataFrame of strata names the column and gives plain labels
        framed = stratified_permutation_test(
            data[list(REGIONS)].to_numpy(float), (data[group_col] == a).to_numpy(),
            data[["class"]], total_variation_distance, n_perm=n_perm, seed=seed,
            alternative="greater")
        pd.testing.assert_frame_equal(
            framed.per_stratum.rename(columns={"statistic": "tv_distance"}), want_table,
            check_dtype=False)
        # "two-sided" counts the same hits for a non-negative statistic
        both = stratified_permutation_test(
            data[list(REGIONS)].to_numpy(float), (data[group_col] == a).to_numpy(),
            data["class"], total_variation_distance, n_perm=n_perm, seed=seed)
        assert both.p_value == want_p
        # counts in = used + excluded
        assert got.n_used + got.n_excluded == len(data)
        assert got.n_used == int(table["n_a"].sum() + table["n_b"].sum())


def test_permutation_matches_region_test_with_two_strata_columns():
    frame = _per_image(7, n=120)
    want_table, want_stat, want_p = region_difference_test(
        frame, "gender", "male", "female", ("dataset", "class"), 100, 3)
    got = stratified_permutation_test(
        frame[list(REGIONS)].to_numpy(float), (frame["gender"] == "male").to_numpy(),
        frame[["dataset", "class"]], total_variation_distance, n_perm=100, seed=3,
        alternative="greater")
    assert (got.statistic, got.p_value) == (want_stat, want_p)
    pd.testing.assert_frame_equal(got.per_stratum.rename(columns={"statistic": "tv_distance"}),
                                  want_table, check_dtype=False)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_permutation_matches_todays_stratified_perm_p(seed):
    frame = _per_image(seed)
    values = (frame["eyes_brows"] + frame["glabella_nose"]).to_numpy(float)
    is_a = (frame["dataset"] == "CAFE").to_numpy()
    strata = frame["class"].to_numpy()
    want = _stratified_perm_p(values, is_a, strata, 200, seed)
    got = stratified_permutation_test(values, is_a, strata, mean_difference, n_perm=200,
                                      seed=seed, alternative="two-sided")
    assert got.p_value == want
    # the statistic is the signed mean over strata of mean(a) - mean(b), computed by hand
    ok = np.isfinite(values)
    gaps = []
    for s in pd.unique(strata[ok]):
        m = ok & (strata == s)
        if is_a[m].any() and (~is_a[m]).any():
            gaps.append(values[m & is_a].mean() - values[m & ~is_a].mean())
    assert got.statistic == pytest.approx(np.mean(gaps), abs=1e-15)
    assert got.per_stratum["statistic"].to_numpy() == pytest.approx(gaps, abs=1e-15)
    assert got.per_stratum["stratum"].tolist() == [
        s for s in pd.unique(strata[ok]) if is_a[ok & (strata == s)].any()
        and (~is_a[ok & (strata == s)]).any()]


def test_permutation_exact_null_distribution_by_enumeration():
    # One stratum, 3 + 3 values: the 20 relabelings give the exact p-value; with many random
    # permutations the Monte Carlo p must come close to it (an oracle independent of the code).
    from itertools import combinations
    values = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
    is_a = np.array([False, False, False, True, True, True])
    observed = values[is_a].mean() - values[~is_a].mean()
    diffs = []
    for idx in combinations(range(6), 3):
        g = np.zeros(6, bool)
        g[list(idx)] = True
        diffs.append(values[g].mean() - values[~g].mean())
    exact_greater = np.mean(np.array(diffs) >= observed - 1e-12)   # 1/20
    exact_two = np.mean(np.abs(diffs) >= abs(observed) - 1e-12)     # 2/20
    assert (exact_greater, exact_two) == (0.05, 0.1)
    strata = np.zeros(6)
    for alternative, exact in (("greater", exact_greater), ("two-sided", exact_two),
                               ("less", 1.0)):
        r = stratified_permutation_test(values, is_a, strata, mean_difference, n_perm=4000,
                                        seed=0, alternative=alternative)
        assert r.statistic == pytest.approx(observed)
        assert r.p_value == pytest.approx(exact, abs=0.015)


def test_permutation_p_values_keep_their_size_under_the_null():
    # Exchangeable data: P(p <= 0.1) must not exceed 0.1 (plus Monte Carlo slack).
    rng = np.random.default_rng(11)
    ps = []
    for i in range(300):
        values = rng.normal(size=24)
        is_a = np.tile([True, False], 12)
        strata = np.repeat([0, 1, 2], 8)
        ps.append(stratified_permutation_test(values, is_a, strata, mean_difference,
                                              n_perm=39, seed=i).p_value)
    assert np.mean(np.array(ps) <= 0.1) <= 0.1 + 0.04


def test_permutation_edge_cases_and_errors():
    # no stratum holds both groups: NaN, with every row counted as excluded
    r = stratified_permutation_test(np.arange(4.0), np.array([True, True, False, False]),
                                    np.array(["x", "x", "y", "y"]), mean_difference,
                                    n_perm=10, seed=0)
    assert math.isnan(r.statistic) and math.isnan(r.p_value)
    assert (r.n_used, r.n_excluded, r.skipped_strata) == (0, 4, ("x", "y"))
    assert list(r.per_stratum.columns) == ["stratum", "n_a", "n_b", "statistic"]
    # missing stratum labels and NaN values are left out and counted
    r = stratified_permutation_test(np.array([1.0, 2, np.nan, 4, 5, 6]),
                                    np.array([True, False, True, False, True, False]),
                                    pd.Series(["u", "u", "u", None, "v", "v"], name="class"),
                                    mean_difference, n_perm=20, seed=0)
    assert (r.n_used, r.n_excluded) == (4, 2)
    assert r.per_stratum["class"].tolist() == ["u", "v"]
    assert r.statistic == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="alternative: bigger is not one of the choices "
                                         "two-sided, greater, less"):
        stratified_permutation_test(np.ones(4), np.array([1, 0, 1, 0], bool), np.zeros(4),
                                    mean_difference, n_perm=5, seed=0, alternative="bigger")
    with pytest.raises(ValueError, match="is_a must be a boolean array"):
        stratified_permutation_test(np.ones(4), np.array([1, 0, 1, 0]), np.zeros(4),
                                    mean_difference, n_perm=5, seed=0)
    with pytest.raises(ValueError, match="n_perm: 0 is not an integer >= 1"):
        stratified_permutation_test(np.ones(4), np.array([1, 0, 1, 0], bool), np.zeros(4),
                                    mean_difference, n_perm=0, seed=0)
    with pytest.raises(ValueError, match="strata has 3 rows"):
        stratified_permutation_test(np.ones(4), np.array([1, 0, 1, 0], bool), np.zeros(3),
                                    mean_difference, n_perm=5, seed=0)
    with pytest.raises(ValueError, match="mean_difference needs one value per row"):
        stratified_permutation_test(np.ones((4, 2)), np.array([1, 0, 1, 0], bool), np.zeros(4),
                                    mean_difference, n_perm=5, seed=0)
    with pytest.raises(ValueError, match="total_variation_distance needs a vector"):
        stratified_permutation_test(np.ones(4), np.array([1, 0, 1, 0], bool), np.zeros(4),
                                    total_variation_distance, n_perm=5, seed=0)


def test_permutation_same_seed_same_result_and_result_type():
    frame = _per_image(5)
    args = (frame[list(REGIONS)].to_numpy(float), (frame["gender"] == "male").to_numpy(),
            frame["class"], total_variation_distance)
    r1 = stratified_permutation_test(*args, n_perm=50, seed=9)
    r2 = stratified_permutation_test(*args, n_perm=50, seed=9)
    assert isinstance(r1, PermutationResult) and r1.alternative in ALTERNATIVES
    assert (r1.statistic, r1.p_value) == (r2.statistic, r2.p_value)


# --------------------------------------------------------------------------------- counts


def test_fisher_lady_tasting_tea_and_hypergeometric():
    # Fisher (1935): 3 of 4 cups right each way; two-sided p = 34/70.
    assert fisher_exact_2x2(3, 4, 1, 4) == pytest.approx(34 / 70, abs=1e-12)
    # by hand: sum of hypergeometric probabilities no larger than the observed table's
    ka, na, kb, nb = 7, 12, 2, 10
    dist = sps.hypergeom(na + nb, ka + kb, na)
    support = np.arange(max(0, ka + kb - nb), min(na, ka + kb) + 1)
    probs = dist.pmf(support)
    want = probs[probs <= dist.pmf(ka) * (1 + 1e-7)].sum()
    assert fisher_exact_2x2(ka, na, kb, nb) == pytest.approx(want, rel=1e-9)
    assert fisher_exact_2x2(5.0, 10.0, 5, 10) == pytest.approx(1.0)   # pandas sums are floats


def test_fisher_empty_group_and_bad_counts():
    assert math.isnan(fisher_exact_2x2(0, 0, 3, 5))
    assert math.isnan(fisher_exact_2x2(3, 5, 0, 0))
    with pytest.raises(ValueError, match="correct_a=6 exceeds n_a=5"):
        fisher_exact_2x2(6, 5, 1, 2)
    with pytest.raises(ValueError, match="n_b: 2.5 is not a whole number >= 0"):
        fisher_exact_2x2(1, 2, 1, 2.5)
    with pytest.raises(ValueError, match="correct_b: -1 is not a whole number >= 0"):
        fisher_exact_2x2(1, 2, -1, 2)


def test_mcnemar_by_hand_and_against_todays_function():
    # b = 1 broken, c = 9 fixed: p = 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024
    before = np.array([True] * 1 + [False] * 9 + [True] * 5 + [False] * 3)
    after = np.array([False] * 1 + [True] * 9 + [True] * 5 + [False] * 3)
    assert mcnemar_exact(before, after) == pytest.approx(22 / 1024, abs=1e-15)
    assert mcnemar_exact(before, before) == 1.0
    rng = np.random.default_rng(0)
    for _ in range(20):
        b, a = rng.random(40) < 0.6, rng.random(40) < rng.random()
        assert mcnemar_exact(b, a) == mcnemar_p(b, a)
    with pytest.raises(ValueError, match="same shape"):
        mcnemar_exact(before, after[:-1])
    with pytest.raises(ValueError, match="boolean"):
        mcnemar_exact(before.astype(int), after)


# ---------------------------------------------------------------------- corrected resampled t


def test_corrected_t_by_hand():
    scores = [0.80, 0.82, 0.78, 0.85, 0.79]
    r = corrected_resampled_t(scores, n_train=900, n_test=100)
    # by hand: mean 0.808, s^2 = sum of squared deviations / 4 = 0.00308 / 4 = 0.00077
    assert r.mean == pytest.approx(0.808) and r.sd == pytest.approx(math.sqrt(0.00077))
    se = math.sqrt((1 / 5 + 100 / 900) * 0.00077)
    assert r.se == pytest.approx(se) and r.df == 4 and r.k == 5
    assert r.t == pytest.approx(0.808 / se)
    t975 = 2.7764451051977987   # t_{0.975, 4} (statistical tables: 2.776)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.808 - t975 * se, 0.808 + t975 * se))
    assert r.p_value == pytest.approx(2 * sps.t.sf(0.808 / se, 4))
    assert isinstance(r, CorrectedT)


def test_corrected_t_is_the_naive_t_scaled():
    # With the correction factor c = 1/k + n_test/n_train, t_corrected = t_naive * sqrt(1/k / c)
    rng = np.random.default_rng(2)
    d = rng.normal(0.02, 0.03, size=10)
    naive = sps.ttest_1samp(d, 0.0)
    c = 1 / 10 + 1 / 9
    r = corrected_paired_t(d + 0.5, np.full(10, 0.5), n_train=9, n_test=1)
    assert r.t == pytest.approx(naive.statistic * math.sqrt(0.1 / c))
    assert r.p_value == pytest.approx(2 * sps.t.sf(abs(r.t), 9))
    assert r.p_value > naive.pvalue   # the correction is conservative
    for alternative in ("greater", "less"):
        one = corrected_resampled_t(d, 9, 1, alternative=alternative)
        assert one.p_value == pytest.approx(
            sps.t.sf(r.t, 9) if alternative == "greater" else sps.t.cdf(r.t, 9))
    # the ordinary t is the limit of a vanishing test share
    tiny = corrected_resampled_t(d, n_train=1e12, n_test=1)
    assert tiny.t == pytest.approx(naive.statistic) and tiny.p_value == pytest.approx(
        naive.pvalue)
    ci = naive.confidence_interval(0.9)
    wide = corrected_resampled_t(d, 1e12, 1, alpha=0.1)
    assert (wide.ci_low, wide.ci_high) == pytest.approx((ci.low, ci.high))


def test_corrected_t_undefined_cases():
    r = corrected_resampled_t([], 10, 5)
    assert r.k == 0 and all(math.isnan(v) for v in (r.mean, r.sd, r.se, r.t, r.p_value))
    r = corrected_resampled_t([0.7], 10, 5)
    assert r.mean == 0.7 and math.isnan(r.sd) and math.isnan(r.p_value) and r.df == 0
    # k equal differences (here 0.1 up to rounding): no variance, so not testable
    r = corrected_paired_t([0.3, 0.5, 0.8], [0.2, 0.4, 0.7], 100, 50)
    assert r.sd == 0.0 and r.se == 0.0 and math.isnan(r.t) and math.isnan(r.p_value)
    assert math.isnan(r.ci_low) and r.mean == pytest.approx(0.1)
    r = corrected_paired_t([0.3, 0.5], [0.3, 0.5], 100, 50)
    assert r.mean == 0.0 and math.isnan(r.p_value)
    with pytest.raises(ValueError, match="scores_a has 3 folds and scores_b 2"):
        corrected_paired_t([0.1, 0.2, 0.3], [0.1, 0.2], 10, 5)
    with pytest.raises(ValueError, match=r"non-finite values at positions \[1\]"):
        corrected_resampled_t([0.1, np.nan, 0.3], 10, 5)
    with pytest.raises(ValueError, match="n_test: 0 is not a finite number > 0"):
        corrected_resampled_t([0.1, 0.2], 10, 0)
    with pytest.raises(ValueError, match=r"alpha: 1.5 is not in \(0, 1\)"):
        corrected_resampled_t([0.1, 0.2], 10, 5, alpha=1.5)
    with pytest.raises(ValueError, match="alternative: larger is not one of the choices"):
        corrected_resampled_t([0.1, 0.2], 10, 5, alternative="larger")


# --------------------------------------------------------------------------------- holm


def test_holm_hand_computation_and_nan():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, max(1*0.04, 0.06)
    p = [0.01, 0.04, np.nan, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, np.nan, 0.06, 0.02], nan_ok=True)
    # statsmodels 0.15.0 multipletests(method="holm") on the same four values agrees
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # capped at 1, ties, one test, none
    assert holm([0.5, 0.5, 0.9]) == pytest.approx([1.0, 1.0, 1.0])
    assert holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    assert holm([0.03]) == pytest.approx([0.03])
    assert np.isnan(holm([np.nan, np.nan])).all() and holm([]).shape == (0,)
    # Holm (1979)'s defining property: reject H_(i) iff p_(j) <= alpha / (m - j + 1), j <= i
    rng = np.random.default_rng(4)
    for _ in range(50):
        ps = rng.random(6) ** 3
        order = np.argsort(ps)
        step = ps[order] <= 0.05 / (6 - np.arange(6))
        rejected = np.cumprod(step).astype(bool)
        want = np.zeros(6, bool)
        want[order] = rejected
        assert ((holm(ps) <= 0.05) == want).all()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.2, 1.2])


# ----------------------------------------------------------------------------- equivalence


def test_tost_from_estimate_by_hand():
    # estimate 0.02, se 0.05, margin 0.1, normal: p = max(sf(2.4), cdf(-1.6)) = cdf(-1.6)
    r = tost_from_estimate(0.02, 0.05, math.inf, 0.1)
    assert r.p_value == pytest.approx(0.054799291699557974)   # Phi(-1.6), normal tables 0.0548
    assert (r.ci_low, r.ci_high) == pytest.approx((0.02 - 1.6448536 * 0.05,
                                                   0.02 + 1.6448536 * 0.05), abs=1e-7)
    assert not r.equivalent and r.method == "normal" and isinstance(r, TostResult)
    r = tost_from_estimate(0.0, 0.05, 20, 0.1)
    assert r.p_value == pytest.approx(sps.t.sf(2.0, 20)) and r.equivalent   # 0.0296
    assert r.method == "t"
    # equivalent exactly when the (1 - 2 alpha) interval lies inside the margins
    rng = np.random.default_rng(0)
    for est, se in zip(rng.normal(0, 0.1, 200), rng.uniform(0.01, 0.1, 200)):
        r = tost_from_estimate(float(est), float(se), 15, 0.15)
        assert r.equivalent == (-0.15 < r.ci_low and r.ci_high < 0.15)


def test_tost_edge_cases_and_errors():
    r = tost_from_estimate(0.01, 0.0, math.inf, 0.1)
    assert math.isnan(r.p_value) and not r.equivalent
    with pytest.raises(ValueError, match="margin: 0 is not a finite number > 0"):
        tost_from_estimate(0.0, 0.1, 10, 0)
    with pytest.raises(ValueError, match=r"alpha: 0.5 is not in \(0, 0.5\)"):
        tost_from_estimate(0.0, 0.1, 10, 0.1, alpha=0.5)
    with pytest.raises(ValueError, match="se=-0.1"):
        tost_from_estimate(0.0, -0.1, 10, 0.1)
    with pytest.raises(ValueError, match="df=0"):
        tost_from_estimate(0.0, 0.1, 0, 0.1)
    # proportions: empty group, Wald's vanishing standard error, bad method
    assert math.isnan(tost_two_proportions(0, 0, 3, 4, 0.1).p_value)
    wald = tost_two_proportions(20, 20, 30, 30, 0.1)
    assert math.isnan(wald.p_value) and not wald.equivalent and wald.method == "wald"
    score = tost_two_proportions(20, 20, 30, 30, 0.1, method="newcombe")
    assert score.p_value > 0.05 and not score.equivalent   # 20/20 vs 30/30 is too few
    assert tost_two_proportions(400, 400, 600, 600, 0.1, method="newcombe").equivalent
    with pytest.raises(ValueError, match="method: score is not one of the choices wald, newcombe"):
        tost_two_proportions(1, 2, 1, 2, 0.1, method="score")
    # means: constant samples, too few values
    assert math.isnan(tost_two_means([1.0, 1.0], [1.0, 1.0], 0.5).p_value)
    with pytest.raises(ValueError, match="at least 2 values per sample, got 1 and 3"):
        tost_two_means([1.0], [1.0, 2.0, 3.0], 0.5)


# Wald TOST p-values from statsmodels 0.15.0, tost_proportions_2indep(..., method="wald",
# correction=False), computed outside this project's environment.
STATSMODELS_WALD = [((45, 50, 40, 50, 0.1), 0.49999999999999983),
                    ((56, 70, 48, 80, 0.25), 0.2458113160156582),
                    ((9, 10, 3, 10, 0.7), 0.2818514308253867),
                    ((5, 56, 0, 29, 0.2), 0.0018335406821934743),
                    ((30, 40, 28, 40, 0.15), 0.15789672501837115)]


@pytest.mark.parametrize("args,want", STATSMODELS_WALD)
def test_tost_two_proportions_wald_against_statsmodels(args, want):
    r = tost_two_proportions(*args)
    assert r.p_value == pytest.approx(want, rel=1e-9)
    ka, na, kb, nb, margin = args
    assert r.estimate == pytest.approx(ka / na - kb / nb)


@pytest.mark.parametrize("args,interval", [
    # Newcombe (1998), Table II, method 10 (score, no continuity correction), 95 %:
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
])
def test_newcombe_interval_matches_the_paper(args, interval):
    # the (1 - 2 alpha) interval at alpha = 0.025 is the paper's 95 % interval
    r = tost_two_proportions(*args, 0.5, alpha=0.025, method="newcombe")
    assert (r.ci_low, r.ci_high) == pytest.approx(interval, abs=6e-5)


@pytest.mark.parametrize("args", [(56, 70, 48, 80, 0.25), (9, 10, 3, 10, 0.7),
                                  (5, 56, 0, 29, 0.2), (20, 20, 30, 30, 0.1),
                                  (30, 40, 28, 40, 0.15)])
def test_newcombe_p_value_is_the_interval_inverted(args):
    # at alpha = p, the (1 - 2p) interval touches a margin, and it lies inside exactly when
    # alpha > p
    r = tost_two_proportions(*args, method="newcombe")
    margin = args[-1]
    at_p = tost_two_proportions(*args, alpha=r.p_value, method="newcombe")
    assert min(abs(at_p.ci_low + margin), abs(at_p.ci_high - margin)) < 1e-8
    assert tost_two_proportions(*args, alpha=min(0.49, r.p_value * 1.01),
                                method="newcombe").equivalent
    assert not tost_two_proportions(*args, alpha=r.p_value * 0.99, method="newcombe").equivalent


def test_newcombe_p_value_on_and_beyond_the_margin():
    # estimate on the margin: one-sided p = 1/2; beyond it: above 1/2 (as Wald's would be)
    assert tost_two_proportions(45, 50, 40, 50, 0.1, method="newcombe").p_value == \
        pytest.approx(0.5)
    beyond = tost_two_proportions(10, 40, 35, 40, 0.3, method="newcombe")
    assert 0.5 < beyond.p_value < 1 and not beyond.equivalent
    assert tost_two_proportions(10, 40, 35, 40, 0.3).p_value > 0.5


def test_tost_two_means_against_scipy_welch():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 12), rng.normal(0.2, 2, 17)
    r = tost_two_means(a, b, 1.0)
    # the two one-sided Welch tests, done by scipy on shifted samples
    lower = sps.ttest_ind(a + 1.0, b, equal_var=False, alternative="greater").pvalue
    upper = sps.ttest_ind(a - 1.0, b, equal_var=False, alternative="less").pvalue
    assert r.p_value == pytest.approx(max(lower, upper), rel=1e-10)
    # statsmodels 0.15.0 ttost_ind(a, b, -1, 1, usevar="unequal") gives 0.22841087775319982
    assert r.p_value == pytest.approx(0.22841087775319982, rel=1e-9)
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.9)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high))
    assert r.method == "welch" and r.estimate == pytest.approx(a.mean() - b.mean())


def _rejection_rate(test, draws) -> float:
    return float(np.mean([test(*d).equivalent for d in draws]))


def test_tost_size_at_the_margin():
    """With the true difference equal to the margin, equivalence is declared at most alpha of
    the time (plus Monte Carlo slack: 1,000 draws give a standard error of ~0.007)."""
    rng = np.random.default_rng(2024)
    alpha, reps = 0.05, 1000
    # proportions: 0.7 vs 0.6, margin 0.1, 150 per group
    ka, kb = rng.binomial(150, 0.7, reps), rng.binomial(150, 0.6, reps)
    for method in ("wald", "newcombe"):
        rate = _rejection_rate(
            lambda x, y, method=method: tost_two_proportions(x, 150, y, 150, 0.1, method=method),
            zip(ka, kb))
        assert rate <= alpha + 0.02, (method, rate)
    # means: unequal variances and sizes, true difference 0.5 = margin
    draws = [(rng.normal(0.5, 1, 15), rng.normal(0, 2, 25)) for _ in range(reps)]
    assert _rejection_rate(lambda x, y: tost_two_means(x, y, 0.5), draws) <= alpha + 0.02
    # and it has power when the truth is well inside the margin
    draws = [(rng.normal(0, 1, 60), rng.normal(0, 1, 60)) for _ in range(200)]
    assert _rejection_rate(lambda x, y: tost_two_means(x, y, 0.6), draws) > 0.8
