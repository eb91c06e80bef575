"""Noh & Lim's claims, each a rule on numbers (this run's, and the same rule on the paper's
own numbers): Fig. 3 (age), Tables 3-4 (gender), Figs 4, 7, 8 (LIME), Figs 5-6 (additional
training). Every function returns an :func:`emo_lib.verdicts.claims_table`.

Verdicts follow :mod:`emo_lib.verdicts`: *supported* when this run's numbers point the paper's
way and the test the claim implies is significant at ``alpha``; *contradicted* when they point
the other way significantly; *inconclusive* otherwise (each function states its rule).
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from .. import paper
from ..metrics import OVERALL, OVERALL_SHARED, compare_groups
from ..stats import fisher_exact_2x2, mean_difference, stratified_permutation_test
from ..verdicts import (
    CONTRADICTED, INCONCLUSIVE, SUPPORTED, claims_table, direction_verdict, each_verdict,
    format_p,
)
from .accuracy import GENDER_GAP_THRESHOLD, paper_accuracy_table, paper_gender_exceptions
from .lime_regions import region_difference_test
from .names import CAFE, GENDERS, NIMH, PAPER, PAPER_KEYS


def _sign(agrees: bool) -> float:
    """A compound condition as the sign ``direction_verdict`` reads (+1: the paper's way)."""
    return 1.0 if agrees else -1.0


def age_claims(acc: pd.DataFrame, alpha: float = 0.05,
               except_class: str = "happy") -> pd.DataFrame:
    """Fig. 3's claims (Section 3.2): CAFE's overall accuracy is lower than NIMH-ChEFS's; in
    every shared class but happy the gap is large (CAFE lower); happy's gap is the exception.

    Rules: overall and per-class gaps use Fisher's exact test (CAFE lower is the paper's
    direction); "large gaps" combines the per-class verdicts of every shared class but
    ``except_class`` (:func:`emo_lib.verdicts.each_verdict`); "happy is the exception" is
    supported when its absolute gap is the smallest of the shared classes, else inconclusive.
    """
    overall = acc[acc["class"] == OVERALL].set_index("dataset")
    rows, keys = [], []
    if not {CAFE, NIMH} <= set(overall.index):
        raise ValueError(f"age_claims needs both {CAFE} and {NIMH} in the table")
    c, n = overall.loc[CAFE], overall.loc[NIMH]
    p = fisher_exact_2x2(c["correct"], c["n"], n["correct"], n["n"])
    diff = c["accuracy"] - n["accuracy"]
    rows.append({"claim": f"{CAFE} (children) has a lower overall accuracy than {NIMH} "
                          "(adolescents).",
                 "verdict": direction_verdict(-diff, p, alpha),
                 "evidence": f"{c['accuracy']:.3f} vs {n['accuracy']:.3f} (difference "
                             f"{diff:+.3f}, Fisher p={format_p(p)})"})
    keys.append("cafe_overall_lower")

    gaps = compare_groups(acc, "dataset", CAFE, NIMH)
    gaps = gaps[gaps["class"] != OVERALL_SHARED].set_index("class")
    others = gaps.drop(index=[except_class], errors="ignore")
    sig = (others["difference"] < 0) & (others["p_value"] < alpha)
    verdict = each_verdict([direction_verdict(-r["difference"], r["p_value"], alpha)
                            for _, r in others.iterrows()])
    detail = "; ".join(f"{k} {r['difference']:+.3f} (p={format_p(r['p_value'])})"
                       for k, r in others.iterrows())
    rows.append({"claim": f"In every shared class but {except_class}, {CAFE}'s accuracy is "
                          f"clearly lower than {NIMH}'s.",
                 "verdict": verdict,
                 "evidence": f"{CAFE} minus {NIMH}: {detail}; lower and significant in "
                             f"{int(sig.sum())} of {len(others)}"})
    keys.append("shared_gaps_large")

    if except_class in gaps.index and len(gaps) > 1:
        absgap = gaps["difference"].abs()
        smallest = absgap.idxmin()
        rows.append({"claim": f"{except_class} is the exception: its gap is the smallest of "
                              "the shared classes.",
                     "verdict": SUPPORTED if smallest == except_class else INCONCLUSIVE,
                     "evidence": f"|gap| {except_class} {absgap[except_class]:.3f} "
                                 f"(p={format_p(gaps.loc[except_class, 'p_value'])}); smallest: "
                                 f"{smallest} {absgap[smallest]:.3f}; others "
                                 f"{absgap.drop(except_class).min():.3f}-"
                                 f"{absgap.drop(except_class).max():.3f}"})
        keys.append("happy_exception")
    return claims_table(rows, keys)



def gender_claims(acc: pd.DataFrame, alpha: float = 0.05,
                  threshold: float = GENDER_GAP_THRESHOLD) -> pd.DataFrame:
    """Tables 3-4's claims (Section 3.3), per data set: male and female accuracies differ by at
    most ``threshold`` (the paper's 0.2) in every class but the paper's exception (CAFE fear
    0.226, NIMH-ChEFS neutral 0.274); the exception's gap exceeds it; overall accuracies differ
    little.

    Rules: "within 0.2 elsewhere" is supported when no other class's gap exceeds the threshold
    (the evidence lists the largest gap and its Fisher p); "the exception" when its gap exceeds
    the threshold with the paper's sign and p < ``alpha`` (contradicted when it does not,
    significantly); "overall" when the overall gap is within the threshold; a gap not shown to
    be small is inconclusive.
    """
    exceptions = paper_gender_exceptions(threshold)
    paper_gaps = compare_groups(paper_accuracy_table("gender"), "gender", "male", "female",
                                control_features=["dataset"])
    gaps = compare_groups(acc, "gender", "male", "female", control_features=["dataset"])
    rows, keys = [], []
    for ds in (CAFE, NIMH):
        g = gaps[gaps["dataset"] == ds].set_index("class")
        if g.empty:
            continue
        cls = g.drop(index=[OVERALL_SHARED])
        exc = exceptions[ds]
        rest = cls.drop(index=exc, errors="ignore")
        big = rest[rest["difference"].abs() > threshold]
        worst = rest["difference"].abs().idxmax() if len(rest) else None
        rows.append({
            "claim": f"{ds}: male and female accuracies differ by at most {threshold} in every "
                     f"class but {', '.join(exc) or 'none'}.",
            "verdict": SUPPORTED if big.empty else INCONCLUSIVE,
            "evidence": (f"largest other gap: {worst} {rest.loc[worst, 'difference']:+.3f} "
                         f"(male minus female, Fisher p={format_p(rest.loc[worst, 'p_value'])})"
                         if worst is not None else "no other class")
                        + (f"; above {threshold}: {', '.join(big.index)}" if len(big) else "")})
        keys.append(f"{PAPER_KEYS[ds]}_small_gaps")
        pg = paper_gaps[paper_gaps["dataset"] == ds].set_index("class")
        for c in exc:
            if c not in cls.index:
                continue
            d, p = cls.loc[c, "difference"], cls.loc[c, "p_value"]
            same_sign = np.sign(d) == np.sign(pg.loc[c, "difference"])
            verdict = direction_verdict(_sign(bool(abs(d) > threshold and same_sign)), p, alpha)
            rows.append({
                "claim": f"{ds}: {c} is the exception, with a gap above {threshold} (paper "
                         f"{pg.loc[c, 'difference']:+.3f}, male minus female).",
                "verdict": verdict,
                "evidence": f"{c}: male {cls.loc[c, 'accuracy_a']:.3f}, female "
                            f"{cls.loc[c, 'accuracy_b']:.3f}, gap {d:+.3f} (Fisher "
                            f"p={format_p(p)})"})
            keys.append(f"{PAPER_KEYS[ds]}_{c}_exception")
        ov = acc[(acc["dataset"] == ds) & (acc["class"] == OVERALL)].set_index("gender")
        if set(GENDERS) <= set(ov.index):
            m, f = ov.loc["male"], ov.loc["female"]
            p = fisher_exact_2x2(m["correct"], m["n"], f["correct"], f["n"])
            d = m["accuracy"] - f["accuracy"]
            rows.append({
                "claim": f"{ds}: overall, male and female accuracies differ little (within "
                         f"{threshold}).",
                "verdict": SUPPORTED if abs(d) <= threshold else INCONCLUSIVE,
                "evidence": f"male {m['accuracy']:.3f} vs female {f['accuracy']:.3f} "
                            f"({d:+.3f}, Fisher p={format_p(p)})"})
            keys.append(f"{PAPER_KEYS[ds]}_overall_gender")
    return claims_table(rows, keys)



def _mean(frame: pd.DataFrame, col: str) -> float:
    return float(frame[col].mean()) if len(frame) else float("nan")


def lime_age_claims(maps: pd.DataFrame, per_image: pd.DataFrame, alpha: float = 0.05,
                    n_perm: int = 2000, seed: int = 0) -> pd.DataFrame:
    """The paper's reading of Fig. 4, tested on region shares (maps: :func:`map_regions` by
    data set; per_image: :func:`image_regions`).

    Rules (means over the classes both data sets have; p-values permute data-set labels of
    the per-image shares within class, see :func:`region_difference_test`):
    CAFE "spread over the whole face" -- CAFE puts more of its maps outside the named regions
    ("other") than NIMH-ChEFS; CAFE "little on the nose bridge" -- CAFE's glabella/nose
    enrichment is below 1 and below NIMH-ChEFS's; NIMH-ChEFS "eyes, brows, glabella, nose
    bridge" -- their combined share is above CAFE's and enriched (> 1); NIMH-ChEFS "mouth too,
    except neutral" -- every other class's mouth enrichment is above 1 and neutral's mouth share
    is the lowest (one of the two: partly supported). A direction that holds with p >= alpha is
    inconclusive.
    """
    c = maps[maps["dataset"] == CAFE].set_index("class")
    n = maps[maps["dataset"] == NIMH].set_index("class")
    shared = [k for k in c.index if k in n.index]
    if not shared:
        # Too few correct answers for any class to have a map in both data sets (a weak model,
        # tiny data): nothing to compare, which is a finding, not a crash.
        reason = ("no class has LIME maps in both data sets (too few correctly classified "
                  "images), so the maps cannot be compared")
        claims = ["influence spread over the whole face", "little influence on the nose bridge",
                  "concentrated on eyes, eyebrows, glabella and nose bridge",
                  "the mouth matters too, except for neutral"]
        rows = [{"claim": f"{ds}: {claim}.", "verdict": INCONCLUSIVE, "evidence": reason}
                for ds, claim in zip((CAFE, CAFE, NIMH, NIMH), claims)]
        return claims_table(rows, ["cafe_spread", "cafe_little_nose", "nimh_upper_face",
                                "nimh_mouth_except_neutral"])
    c, n = c.loc[shared], n.loc[shared]
    rows, keys = [], []
    img = per_image[per_image["class"].isin(shared)]

    def perm_p(values: pd.Series) -> float:
        return stratified_permutation_test(
            values.to_numpy(float), (img["dataset"] == CAFE).to_numpy(), img["class"].to_numpy(),
            mean_difference, n_perm=n_perm, seed=seed, alternative="two-sided").p_value

    other_c, other_n = _mean(c, "other"), _mean(n, "other")
    p = perm_p(img["other"])
    rows.append({"claim": f"{CAFE}: influence spread over the whole face (more outside eyes, "
                          f"nose and mouth than {NIMH}).",
                 "verdict": direction_verdict(other_c - other_n, p, alpha),
                 "evidence": f"share outside the named regions {other_c:.3f} vs {other_n:.3f} "
                             f"(permutation p={format_p(p)})"})
    keys.append("cafe_spread")

    en_c, en_n = _mean(c, "enrichment_glabella_nose"), _mean(n, "enrichment_glabella_nose")
    p = perm_p(img["glabella_nose"])
    rows.append({"claim": f"{CAFE}: little influence on the nose bridge.",
                 "verdict": direction_verdict(_sign(en_c < 1 and en_c < en_n), p, alpha),
                 "evidence": f"glabella/nose enrichment {en_c:.2f} ({CAFE}) vs {en_n:.2f} "
                             f"({NIMH}), shares {_mean(c, 'glabella_nose'):.3f} vs "
                             f"{_mean(n, 'glabella_nose'):.3f} (permutation p={format_p(p)})"})
    keys.append("cafe_little_nose")

    upper_c = _mean(c, "eyes_brows") + _mean(c, "glabella_nose")
    upper_n = _mean(n, "eyes_brows") + _mean(n, "glabella_nose")
    area_n = _mean(n, "area_eyes_brows") + _mean(n, "area_glabella_nose")
    p = perm_p(img["eyes_brows"] + img["glabella_nose"])
    rows.append({"claim": f"{NIMH}: concentrated on eyes, eyebrows, glabella and nose bridge.",
                 "verdict": direction_verdict(_sign(upper_n > upper_c and upper_n > area_n), p,
                                              alpha),
                 "evidence": f"eyes/brows + glabella/nose share {upper_n:.3f} vs {upper_c:.3f} "
                             f"({CAFE}); their area {area_n:.3f} (permutation p={format_p(p)})"})
    keys.append("nimh_upper_face")

    nimh_all = maps[maps["dataset"] == NIMH].set_index("class")
    if "neutral" in nimh_all.index and len(nimh_all) > 1:
        rest = nimh_all.drop(index="neutral")
        enriched = rest["enrichment_mouth"] > 1
        lowest = nimh_all["mouth"].idxmin() == "neutral"
        verdict = SUPPORTED if enriched.all() and lowest else INCONCLUSIVE
        rows.append({"claim": f"{NIMH}: the mouth matters too, except for neutral.",
                     "verdict": verdict,
                     "evidence": "mouth enrichment " + ", ".join(
                         f"{k} {v:.2f}" for k, v in nimh_all["enrichment_mouth"].items())
                                 + f"; lowest mouth share: {nimh_all['mouth'].idxmin()}"})
        keys.append("nimh_mouth_except_neutral")
    return claims_table(rows, keys)



def lime_gender_claims(per_image: pd.DataFrame, alpha: float = 0.05, n_perm: int = 2000,
                       seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """"No clear male/female difference in either data set", tested per data set with
    :func:`region_difference_test` (gender permuted within class). Contradicted when p <
    ``alpha``; otherwise inconclusive (finding no difference is not evidence of none). For
    scale, the evidence
    gives the CAFE-vs-NIMH-ChEFS distance of the same images (shared classes).

    Returns (verdicts, per-(data set, class) distance table)."""
    age_tab, age_stat, age_p = region_difference_test(per_image, "dataset", CAFE, NIMH,
                                                      ("class",), n_perm, seed)
    rows, keys, tables = [], [], []
    for ds in (CAFE, NIMH):
        sub = per_image[per_image["dataset"] == ds]
        if sub.empty:
            continue
        tab, stat, p = region_difference_test(sub, "gender", "male", "female", ("class",),
                                              n_perm, seed)
        tables.append(tab.assign(dataset=ds, comparison="male vs female"))
        # A difference found contradicts "no clear difference"; none found is no evidence of
        # sameness (that needs an equivalence test), so it stays inconclusive.
        verdict = CONTRADICTED if np.isfinite(p) and p < alpha else INCONCLUSIVE
        rows.append({"claim": f"{ds}: no clear male/female difference in where the maps lie.",
                     "verdict": verdict,
                     "evidence": f"mean male-female distance of region shares {stat:.3f} "
                                 f"(permutation p={format_p(p)}); {CAFE}-vs-{NIMH} distance "
                                 f"{age_stat:.3f} (p={format_p(age_p)})"})
        keys.append(f"{PAPER_KEYS[ds]}_no_gender_difference")
    tables.append(age_tab.assign(dataset="both", comparison=f"{CAFE} vs {NIMH}"))
    table = pd.concat(tables, ignore_index=True)
    return claims_table(rows, keys), table



def training_claims(cafe_paper: pd.DataFrame, cafe_cv: pd.DataFrame | None,
                    nimh_paper: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Figs. 5-6's claims, from :func:`paired_changes` tables (McNemar p-values): training on
    CAFE lifts CAFE's accuracy, greatly in angry, neutral and sad; (beyond the paper) how much
    of the gain survives subject-disjoint evaluation; NIMH-ChEFS's accuracy then falls overall
    and greatly in angry and sad. A change the paper's way with p >= ``alpha`` is
    inconclusive; a claim about several classes is supported when each is significant."""
    fig5 = paper.paper_value(f"{PAPER}.fig5_cafe_after_additional_training")
    fig6 = paper.paper_value(f"{PAPER}.fig6_nimh_after_additional_training")
    rows, keys = [], []
    o = cafe_paper.loc[OVERALL]
    rows.append({"claim": f"Training on {CAFE} lifts its accuracy (paper "
                          f"{fig5['before']['overall']:.3f} to {fig5['after']['overall']:.3f}).",
                 "verdict": direction_verdict(o["change"], o["p_value"], alpha),
                 "evidence": f"{o['before']:.3f} to {o['after']:.3f} on the same images "
                             f"({o['change']:+.3f}, McNemar p={format_p(o['p_value'])})"})
    keys.append("cafe_gain")
    named = [c for c in fig5["after"] if c != OVERALL and fig5["after"][c] is not None
             and c in cafe_paper.index]
    sub = cafe_paper.loc[named]
    rows.append({"claim": f"{CAFE} gains greatly in {', '.join(named)} (the classes the paper "
                          "names).",
                 "verdict": each_verdict([direction_verdict(r["change"], r["p_value"], alpha)
                                          for _, r in sub.iterrows()]),
                 "evidence": "; ".join(f"{c} {r['change']:+.3f} (p={format_p(r['p_value'])})"
                                       for c, r in sub.iterrows())
                             + f"; median change over all classes "
                               f"{cafe_paper.drop(index=OVERALL)['change'].median():+.3f}"})
    keys.append("cafe_named_gains")
    if cafe_cv is not None:
        gain_paper = o["change"]
        gain_cv = cafe_cv.loc[OVERALL, "change"]
        share = gain_cv / gain_paper if gain_paper else float("nan")
        rows.append({"claim": "(Beyond the paper) The gain survives on children the model was "
                              "not trained on (subject-disjoint folds).",
                     "verdict": direction_verdict(gain_cv, cafe_cv.loc[OVERALL, "p_value"],
                                                   alpha),
                     "evidence": f"gain {gain_cv:+.3f} held out vs {gain_paper:+.3f} on the "
                                 f"training images: {share:.0%} survives (McNemar "
                                 f"p={format_p(cafe_cv.loc[OVERALL, 'p_value'])})"})
        keys.append("gain_survives")
    n = nimh_paper.loc[OVERALL]
    rows.append({"claim": f"{NIMH}'s accuracy falls after training on {CAFE} (never trained "
                          "on).",
                 "verdict": direction_verdict(-n["change"], n["p_value"], alpha),
                 "evidence": f"{n['before']:.3f} to {n['after']:.3f} ({n['change']:+.3f}, "
                             f"McNemar p={format_p(n['p_value'])})"})
    keys.append("nimh_falls")
    # The paper singles out the classes that fell "greatly" (angry, sad): those whose drop
    # exceeds the largest rise in its Fig. 6.
    change6 = {c: fig6["after"][c] - fig6["before"][c] for c in fig6["after"]
               if c != OVERALL and fig6["after"][c] is not None}
    largest_rise = max([v for v in change6.values() if v > 0], default=0.0)
    drops = [c for c, v in change6.items() if -v > largest_rise and c in nimh_paper.index]
    sub = nimh_paper.loc[drops]
    rows.append({"claim": f"{NIMH} falls greatly in {', '.join(drops)} (paper: "
                          + ", ".join(f"{c} {fig6['before'][c]:.3f} to {fig6['after'][c]:.3f}"
                                      for c in drops) + ").",
                 "verdict": each_verdict([direction_verdict(-r["change"], r["p_value"], alpha)
                                          for _, r in sub.iterrows()]),
                 "evidence": "; ".join(f"{c} {r['before']:.3f} to {r['after']:.3f} "
                                       f"(p={format_p(r['p_value'])})" for c, r in sub.iterrows())})
    keys.append("nimh_angry_sad_drop")
    return claims_table(rows, keys)


__all__ = ["age_claims", "gender_claims", "lime_age_claims", "lime_gender_claims",
           "training_claims"]
