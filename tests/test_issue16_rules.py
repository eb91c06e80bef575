"""The nine rule cases of issue 16, each on frames built to fall on one side of its rule, with
the verdict the issue asks for. Each test names its case."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emo_lib import noh2023 as nh
from emo_lib.explain import REGIONS
from emo_lib.metrics import accuracy_table
from emo_lib.verdicts import (
    CONTRADICTED, INCONCLUSIVE, PARTLY_SUPPORTED, SUPPORTED, combine_parts, direction_part,
)

CLASSES5 = ("angry", "fear", "happy", "neutral", "sad")


def _age_acc(cafe: dict[str, tuple[int, int]], nimh: dict[str, tuple[int, int]]) -> pd.DataFrame:
    y_true, y_pred, ds = [], [], []
    for name, cells in ((nh.CAFE, cafe), (nh.NIMH, nimh)):
        for cls, (k, n) in cells.items():
            y_true += [cls] * n
            y_pred += [cls] * k + ["x"] * (n - k)
            ds += [name] * n
    return accuracy_table(y_true, y_pred, {"dataset": ds},
                          classes=sorted({c for d in (cafe, nimh) for c in d}))


def _row(dataset: str, cls: str, gender: str, shares: dict[str, float],
         areas: dict[str, float]) -> dict:
    return {"dataset": dataset, "class": cls, "gender": gender, "path": "x", **shares,
            **{f"area_{k}": v for k, v in areas.items()}}


AREAS = {"eyes_brows": 0.15, "glabella_nose": 0.15, "mouth": 0.05, "face_rest": 0.35,
         "outside": 0.30}


def _exact_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` standard normal draws rescaled to mean 0 and standard deviation 1 exactly."""
    z = rng.normal(size=n)
    return (z - z.mean()) / z.std(ddof=1)


def _maps(per_image: pd.DataFrame) -> pd.DataFrame:
    return per_image.drop(columns=["gender", "path"]).groupby(
        ["dataset", "class"], as_index=False).mean()


def test_case1_lime_age_a_tested_part_and_an_untested_one_are_not_a_contradiction():
    """NIMH-ChEFS's upper-face share significantly above CAFE's (the paper's way) but 0.286
    against an area of 0.300, not significantly below: partly supported, not contradicted."""
    rng = np.random.default_rng(0)
    rows = []
    for cls in ("angry", "sad", "neutral"):
        for z_n, z_c in zip(_exact_noise(rng, 15), _exact_noise(rng, 15)):
            up_n = 0.286 + 0.08 * z_n        # NIMH-ChEFS: near its area (0.300)
            up_c = 0.20 + 0.08 * z_c         # CAFE: clearly less
            for ds, up in ((nh.NIMH, up_n), (nh.CAFE, up_c)):
                rest = 1 - up - 0.05 - 0.10
                rows.append(_row(ds, cls, "male", {"eyes_brows": up / 2, "glabella_nose": up / 2,
                                                    "mouth": 0.05, "face_rest": rest,
                                                    "outside": 0.10}, AREAS))
    img = pd.DataFrame(rows)
    v = nh.lime_age_claims(_maps(img), img, n_perm=400)
    row = v.loc["nimh_upper_face"]
    assert row["verdict"] == PARTLY_SUPPORTED, row["evidence"]
    assert row["evidence"].startswith(f"supported: share above {nh.CAFE}'s; inconclusive: "
                                      "share above their area")


def _gender_frame(rng, diffs: dict[str, float], sd: float, n: int,
                  constant: dict[str, float] | None = None) -> pd.DataFrame:
    """One data set, two classes, ``n`` images per gender and class: each region's female
    share + ``diffs[region]`` for men (noise ``sd``); ``constant`` regions fixed in every
    image."""
    base = {"eyes_brows": 0.30, "glabella_nose": 0.20, "mouth": 0.20, "face_rest": 0.20,
            "outside": 0.10}
    constant = constant or {}
    rows = []
    for cls in ("angry", "sad"):
        for g in ("male", "female"):
            noise = {r: _exact_noise(rng, n) for r in REGIONS}
            for i in range(n):
                shares = {}
                for r in REGIONS:
                    if r in constant:
                        shares[r] = constant[r]
                    else:
                        shares[r] = base[r] + (diffs.get(r, 0.0) if g == "male" else 0.0) \
                            + sd * noise[r][i]
                rows.append(_row(nh.CAFE, cls, g, shares, AREAS))
    return pd.DataFrame(rows)


def test_case2_lime_gender_contradicted_only_by_a_one_sided_test_beyond_the_margin():
    """Eyes/brows +0.125 with its 90 % interval about [0.086, 0.164], margin 0.1: beyond the
    margin on the point, not significantly: the region is inconclusive, the claim not
    contradicted (the other regions, within the margin, leave it partly supported)."""
    rng = np.random.default_rng(1)
    spread = {"glabella_nose": -0.03125, "mouth": -0.03125, "face_rest": -0.03125,
              "outside": -0.03125}
    img = _gender_frame(rng, {"eyes_brows": 0.125, **spread}, sd=0.15, n=40)
    v, _, eq = nh.lime_gender_claims(img, n_perm=200, margin=0.1)
    eyes = eq.loc[(nh.CAFE, "eyes_brows")]
    assert eyes["difference"] == pytest.approx(0.125)
    assert eyes["ci_low"] == pytest.approx(0.086, abs=0.002)
    assert eyes["ci_high"] == pytest.approx(0.164, abs=0.002)
    assert eyes["beyond_p"] > 0.05
    row = v.loc["cafe_no_gender_difference"]
    assert row["verdict"] == PARTLY_SUPPORTED, row["evidence"]
    assert "inconclusive: eyes" in row["evidence"]


def test_case3_a_region_with_no_spread_does_not_block_support():
    """"Outside" 0 in every image (no spread, TOST undefined), every other region differing by
    0.002: supported (the constant region's difference is exactly 0)."""
    rng = np.random.default_rng(2)
    img = _gender_frame(rng, {"eyes_brows": 0.002, "mouth": -0.002}, sd=0.01, n=60,
                        constant={"outside": 0.0})
    v, _, eq = nh.lime_gender_claims(img, n_perm=200, margin=0.1)
    assert np.isnan(eq.loc[(nh.CAFE, "outside"), "tost_p"])
    assert v.loc["cafe_no_gender_difference", "verdict"] == SUPPORTED


def test_case4_untestable_parts_give_partly_supported_never_supported():
    """One testable class of four (the others lack a gender on this run): partly supported."""
    same = ((380, 400), (380, 400))
    y_true, y_pred, ds, gender = [], [], [], []
    cells = {"angry": same, "neutral": ((20, 39), (64, 72))}    # the paper's exception
    for c, ((km, nm), (kf, nf)) in cells.items():
        for g, k, n in (("male", km, nm), ("female", kf, nf)):
            y_true += [c] * n
            y_pred += [c] * k + ["x"] * (n - k)
            ds += [nh.NIMH] * n
            gender += [g] * n
    acc = accuracy_table(y_true, y_pred, pd.DataFrame({"dataset": ds, "gender": gender}),
                         classes=["angry", "neutral"])
    v = nh.gender_claims(acc)
    row = v.loc["nimh_chefs_small_gaps"]
    assert row["verdict"] == PARTLY_SUPPORTED
    assert "supported: angry" in row["evidence"]
    assert "not testable: fear, happy, sad" in row["evidence"]


def test_case5_a_significant_counterexample_contradicts_an_every_class_claim():
    high = {c: (570, 600) for c in CLASSES5}
    cafe = {"angry": (100, 600), "fear": (300, 600), "happy": (560, 600), "neutral": (100, 600),
            "sad": (560, 600)}                                   # sad's gap shown within 0.2
    v = nh.age_claims(_age_acc(cafe, high))
    row = v.loc["shared_gaps_large"]
    assert row["verdict"] == CONTRADICTED
    assert row["evidence"].startswith("mixed — supported: angry, fear, neutral; "
                                      "contradicted: sad")


def test_case6_large_is_tested_against_the_threshold_not_against_zero():
    """n = 2,000 per class, a gap of -0.05 in every class: "the shared gaps are large" is
    contradicted and "happy is the exception" supported, never both supported."""
    nimh = {c: (1700, 2000) for c in CLASSES5}
    cafe = {c: (1600, 2000) for c in CLASSES5}
    v = nh.age_claims(_age_acc(cafe, nimh))
    assert v.loc["cafe_overall_lower", "verdict"] == SUPPORTED     # lower, significantly
    assert v.loc["shared_gaps_large", "verdict"] == CONTRADICTED   # but not by 0.2
    assert v.loc["happy_exception", "verdict"] == SUPPORTED


def _changes(rows: dict[str, tuple[float, int, int]], n: int = 100) -> pd.DataFrame:
    """class -> (before, fixed, broken): a paired_changes-shaped table (McNemar p from the
    counts)."""
    from emo_lib.stats import mcnemar_exact

    out = []
    for c, (b, fixed, broken) in rows.items():
        before = np.zeros(n, bool)
        before[: round(b * n)] = True
        after = before.copy()
        after[np.flatnonzero(~before)[:fixed]] = True
        after[np.flatnonzero(before)[:broken]] = False
        out.append({"class": c, "n": n, "before": before.mean(), "after": after.mean(),
                    "change": after.mean() - before.mean(), "fixed": fixed, "broken": broken,
                    "p_value": mcnemar_exact(before, after)})
    return pd.DataFrame(out).set_index("class")


NIMH_DOWN = {"angry": (0.85, 0, 60), "sad": (0.85, 0, 45), "fear": (0.9, 2, 2),
             "overall": (0.86, 2, 107)}


def test_case7_per_class_claims_are_holm_corrected_within_the_claim():
    """One class of three just significant (p = 0.023 for a gain beyond 0.2), the others not:
    uncorrected it would be "partly supported"; Holm over the claim's three classes: not."""
    cafe = _changes({"angry": (0.5, 28, 0), "neutral": (0.5, 20, 0), "sad": (0.5, 20, 0),
                     "overall": (0.5, 68, 0)})
    v = nh.training_claims(cafe, None, _changes(NIMH_DOWN))
    row = v.loc["cafe_named_gains"]
    assert "angry 0.500 to 0.780 (+0.280; beyond +0.2: p = 0.023)" in row["evidence"]
    assert row["verdict"] == INCONCLUSIVE
    raw = combine_parts([direction_part("angry", 1.0, 0.023), direction_part("x", 1.0, 0.5),
                         direction_part("y", 1.0, 0.5)])
    assert raw.verdict == INCONCLUSIVE and raw.parts["p_support_holm"].iloc[0] == \
        pytest.approx(0.069)


def test_case8_a_constant_difference_in_every_fold_is_reported_as_what_it_is():
    from emo_lib.jeong2021.foldstats import compare_cells, comparison_part

    folds = pd.DataFrame({"fold": range(5), "macro_f1": [0.3, 0.32, 0.28, 0.31, 0.29],
                          "accuracy": 0.5, "collapsed": False, "n_test": 100})
    same = compare_cells(folds, folds.copy(), "macro_f1")
    assert same.describe() == "identical in every fold (5 folds)"
    assert comparison_part(same).testable                     # counted, never dropped
    ahead = compare_cells(folds.assign(macro_f1=folds["macro_f1"] + 0.02), folds, "macro_f1")
    assert ahead.describe() == "+0.020 in every one of 5 folds (sign test p = 0.062)"


def test_case9_a_reversal_beside_a_drop_is_named_mixed_and_contradicts():
    """NIMH-ChEFS angry rising significantly (0.692 to 0.846) while sad falls greatly:
    "falls greatly in angry and sad" is contradicted, named mixed (not inconclusive)."""
    nimh = _changes({"angry": (0.692, 16, 0), "sad": (0.85, 0, 45), "fear": (0.9, 2, 2),
                     "overall": (0.8, 18, 47)}, n=104)
    cafe = _changes({"angry": (0.5, 45, 0), "neutral": (0.5, 45, 0), "sad": (0.5, 40, 0),
                     "overall": (0.5, 130, 0)})
    v = nh.training_claims(cafe, None, nimh)
    row = v.loc["nimh_angry_sad_drop"]
    assert row["verdict"] == CONTRADICTED
    assert row["evidence"].startswith("mixed — supported: sad; contradicted: angry")
    assert "angry 0.692 to 0.846 (+0.154" in row["evidence"]
