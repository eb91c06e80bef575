"""Noh & Lim's claims, each a rule on numbers (this run's, and the same rule on the paper's
own numbers): Fig. 3 (age), Tables 3-4 (gender), Figs 4, 7, 8 (LIME), Figs 5-6 (additional
training). Every function returns an :func:`emo_lib.verdicts.claims_table`.

Verdicts follow :mod:`emo_lib.verdicts`: *supported* when this run's numbers point the paper's
way and the test the claim implies is significant at ``alpha``; *contradicted* when they point
the other way significantly; *inconclusive* otherwise. "No (large) difference" claims need an
equivalence test (TOST) with a stated margin; a claim that a gap exceeds a threshold is tested
against the threshold. Each function states its rule; each page prints the rules in words
(:data:`RULE_KINDS` names those behind each table, for :func:`emo_lib.verdicts.rules_markdown`).
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from typing import Any, Mapping

from .. import paper
from ..metrics import OVERALL, OVERALL_SHARED, compare_groups
from ..stats import (
    fisher_exact_2x2, mean_difference, stratified_permutation_test, tost_two_proportions,
)
from ..verdicts import (
    CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, SUPPORTED, claims_table, direction_verdict,
    each_verdict, equivalence_verdict, p_equals,
)
from .accuracy import (
    GENDER_GAP_THRESHOLD, OVERALL_GENDER_MARGIN, gap_beyond_p, paper_accuracy_table,
    paper_gender_exceptions,
)
from .lime_regions import enrichment_test, region_difference_test, region_equivalence
from .names import CAFE, GENDERS, NIMH, PAPER, PAPER_KEYS
from .training import SURVIVING_SHARE


#: The rule texts (``emo_lib.verdicts.RULES``) behind each claims table.
RULE_KINDS: dict[str, tuple[str, ...]] = {
    "age": ("direction", "each", "equivalence", "paper"),
    "gender": ("equivalence", "exceeds", "each", "paper"),
    "lime_age": ("direction", "each", "paper_pictures"),
    "lime_gender": ("equivalence", "paper_pictures"),
    "training": ("direction", "each", "share", "paper_pairing"),
}


def _sign(agrees: bool) -> float:
    """A compound condition as the sign ``direction_verdict`` reads (+1: the paper's way)."""
    return 1.0 if agrees else -1.0


def age_claims(acc: pd.DataFrame, alpha: float = 0.05, except_class: str = "happy",
               margin: float = GENDER_GAP_THRESHOLD) -> pd.DataFrame:
    """Fig. 3's claims (Section 3.2): CAFE's overall accuracy is lower than NIMH-ChEFS's; in
    every shared class but happy the gap is large (CAFE lower); happy's gap is the exception.

    Rules: overall and per-class gaps use Fisher's exact test (CAFE lower is the paper's
    direction); "large gaps" combines the per-class verdicts of every shared class but
    ``except_class`` (:func:`emo_lib.verdicts.each_verdict`); "happy is the exception" (its
    gap is not large) is an equivalence claim: Newcombe TOST within +/- ``margin`` (the paper's
    own yardstick of a large accuracy gap, 0.2 in Section 3.3), contradicted when a one-sided
    test puts the gap beyond it.
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
                             f"{diff:+.3f}, Fisher {p_equals(p)})"})
    keys.append("cafe_overall_lower")

    gaps = compare_groups(acc, "dataset", CAFE, NIMH)
    gaps = gaps[gaps["class"] != OVERALL_SHARED].set_index("class")
    others = gaps.drop(index=[except_class], errors="ignore")
    sig = (others["difference"] < 0) & (others["p_value"] < alpha)
    verdict = each_verdict([direction_verdict(-r["difference"], r["p_value"], alpha)
                            for _, r in others.iterrows()])
    detail = "; ".join(f"{k} {r['difference']:+.3f} ({p_equals(r['p_value'])})"
                       for k, r in others.iterrows())
    rows.append({"claim": f"In every shared class but {except_class}, {CAFE}'s accuracy is "
                          f"clearly lower than {NIMH}'s.",
                 "verdict": verdict,
                 "evidence": f"{CAFE} minus {NIMH}: {detail}; lower and significant in "
                             f"{int(sig.sum())} of {len(others)}"})
    keys.append("shared_gaps_large")

    if except_class in gaps.index and len(gaps) > 1:
        r = gaps.loc[except_class]
        verdict, tost, beyond = _gap_verdicts(int(r["correct_a"]), int(r["n_a"]),
                                              int(r["correct_b"]), int(r["n_b"]), margin, alpha)
        absgap = gaps["difference"].abs()
        rows.append({"claim": f"{except_class} is the exception: its gap is not large (within "
                              f"{margin}).",
                     "verdict": verdict,
                     "evidence": f"{except_class} {r['difference']:+.3f} ({1 - 2 * alpha:.0%} "
                                 f"Newcombe interval [{tost.ci_low:+.3f}, {tost.ci_high:+.3f}], "
                                 f"TOST {p_equals(tost.p_value)}); the other classes' |gap| "
                                 f"{absgap.drop(except_class).min():.3f}-"
                                 f"{absgap.drop(except_class).max():.3f}"})
    else:
        rows.append({"claim": f"{except_class} is the exception: its gap is not large (within "
                              f"{margin}).", "verdict": NOT_TESTABLE,
                     "evidence": f"{except_class} is not a class both data sets have on this "
                                 "run (or it is the only one)"})
    keys.append("happy_exception")
    return claims_table(rows, keys)



def _gap_verdicts(ka: int, na: int, kb: int, nb: int, margin: float, alpha: float
                  ) -> tuple[str, Any, float]:
    """Equivalence verdict of one male/female gap within ``margin`` (Newcombe TOST; contradicted
    when a one-sided test puts it beyond the margin), the TOST result and that p-value."""
    tost = tost_two_proportions(ka, na, kb, nb, margin, alpha=alpha, method="newcombe")
    if not (na and nb):
        return NOT_TESTABLE, tost, float("nan")
    d = ka / na - kb / nb
    beyond = gap_beyond_p(ka, na, kb, nb, margin, 1 if d >= 0 else -1)
    return equivalence_verdict(tost.p_value, beyond, alpha), tost, beyond


def gender_claims(acc: pd.DataFrame, alpha: float = 0.05,
                  threshold: float = GENDER_GAP_THRESHOLD,
                  overall_margin: float = OVERALL_GENDER_MARGIN) -> pd.DataFrame:
    """Tables 3-4's claims (Section 3.3), per data set: male and female accuracies differ by at
    most ``threshold`` (the paper's 0.2) in every class but the paper's exception (CAFE fear
    0.226, NIMH-ChEFS neutral 0.274); the exception's gap exceeds it; overall accuracies differ
    little.

    Rules (:data:`RULE_KINDS` ``"gender"``):

    - "within ``threshold`` elsewhere": per class, the two one-sided tests on Newcombe's hybrid
      score interval (``emo_lib.stats.tost_two_proportions``, ``method="newcombe"``) with margin
      ``threshold``: *supported* when the (1 - 2 alpha) interval of the male minus female gap
      lies within +/- ``threshold``; *contradicted* when a one-sided test puts the gap beyond it
      (:func:`gap_beyond_p`); else inconclusive; the classes combined by
      :func:`emo_lib.verdicts.each_verdict`. Not finding a gap is never support.
    - "the exception": the gap tested against the threshold on the paper's side
      (:func:`gap_beyond_p`): supported when beyond it with p < ``alpha``, contradicted when
      significantly within it (the opposite one-sided test), else inconclusive.
    - "overall differ little": the same equivalence test on the overall accuracies with margin
      ``overall_margin`` (:data:`OVERALL_GENDER_MARGIN`).
    """
    exceptions = paper_gender_exceptions(threshold)
    paper_gaps = compare_groups(paper_accuracy_table("gender"), "gender", "male", "female",
                                control_features=["dataset"])
    gaps = compare_groups(acc, "gender", "male", "female", control_features=["dataset"])
    rows, keys = [], []
    for ds in (CAFE, NIMH):
        g = gaps[gaps["dataset"] == ds].set_index("class")
        if g.empty:
            # No male/female pair in this data set: its claims stay in the table, untestable.
            for key, what in (("small_gaps", "per-class gaps small"),
                              ("overall_gender", "overall gap small")):
                rows.append({"claim": f"{ds}: {what}.", "verdict": NOT_TESTABLE,
                             "evidence": f"{ds} has no class with both genders on this run"})
                keys.append(f"{PAPER_KEYS[ds]}_{key}")
            continue
        cls = g.drop(index=[OVERALL_SHARED])
        exc = exceptions[ds]
        rest = cls.drop(index=exc, errors="ignore")
        per_class, details = [], []
        for c, r in rest.iterrows():
            v, tost, _ = _gap_verdicts(int(r["correct_a"]), int(r["n_a"]), int(r["correct_b"]),
                                       int(r["n_b"]), threshold, alpha)
            per_class.append(v)
            details.append(f"{c} {r['difference']:+.3f} [{tost.ci_low:+.2f}, {tost.ci_high:+.2f}]"
                           f" {v}")
        rows.append({
            "claim": f"{ds}: male and female accuracies differ by at most {threshold} in every "
                     f"class but {', '.join(exc) or 'none'}.",
            "verdict": each_verdict(per_class),
            "evidence": (f"male minus female, {1 - 2 * alpha:.0%} Newcombe interval, TOST "
                         f"margin {threshold}: " + "; ".join(details)) if details
                        else "no other class"})
        keys.append(f"{PAPER_KEYS[ds]}_small_gaps")
        pg = paper_gaps[paper_gaps["dataset"] == ds].set_index("class")
        for c in exc:
            if c not in cls.index:
                continue
            r = cls.loc[c]
            side = 1 if pg.loc[c, "difference"] >= 0 else -1
            p_beyond = gap_beyond_p(int(r["correct_a"]), int(r["n_a"]), int(r["correct_b"]),
                                    int(r["n_b"]), threshold, side)
            if not np.isfinite(p_beyond):
                verdict = NOT_TESTABLE
            elif p_beyond < alpha:
                verdict = SUPPORTED
            elif 1 - p_beyond < alpha:
                verdict = CONTRADICTED
            else:
                verdict = INCONCLUSIVE
            rows.append({
                "claim": f"{ds}: {c} is the exception, with a gap beyond {threshold} (paper "
                         f"{pg.loc[c, 'difference']:+.3f}, male minus female).",
                "verdict": verdict,
                "evidence": f"{c}: male {r['accuracy_a']:.3f}, female {r['accuracy_b']:.3f}, "
                            f"gap {r['difference']:+.3f}; that it lies beyond "
                            f"{side * threshold:+.1f}: one-sided {p_equals(p_beyond)} (that it "
                            f"lies within: {p_equals(1 - p_beyond)}); against no gap: Fisher "
                            f"{p_equals(r['p_value'])}"})
            keys.append(f"{PAPER_KEYS[ds]}_{c}_exception")
        ov = acc[(acc["dataset"] == ds) & (acc["class"] == OVERALL)].set_index("gender")
        if set(GENDERS) <= set(ov.index):
            m, f = ov.loc["male"], ov.loc["female"]
            v, tost, beyond = _gap_verdicts(int(m["correct"]), int(m["n"]), int(f["correct"]),
                                            int(f["n"]), overall_margin, alpha)
            d = m["accuracy"] - f["accuracy"]
            rows.append({
                "claim": f"{ds}: overall, male and female accuracies differ little (within "
                         f"{overall_margin}).",
                "verdict": v,
                "evidence": f"male {m['accuracy']:.3f} vs female {f['accuracy']:.3f} ({d:+.3f}; "
                            f"{1 - 2 * alpha:.0%} Newcombe interval [{tost.ci_low:+.3f}, "
                            f"{tost.ci_high:+.3f}], TOST {p_equals(tost.p_value)} for margin "
                            f"{overall_margin})"})
        else:
            rows.append({"claim": f"{ds}: overall, male and female accuracies differ little "
                                  f"(within {overall_margin}).", "verdict": NOT_TESTABLE,
                         "evidence": f"{ds} lacks one gender's overall accuracy on this run"})
        keys.append(f"{PAPER_KEYS[ds]}_overall_gender")
    return claims_table(rows, keys)



def _mean(frame: pd.DataFrame, col: str) -> float:
    return float(frame[col].mean()) if len(frame) else float("nan")


def lime_age_claims(maps: pd.DataFrame, per_image: pd.DataFrame, alpha: float = 0.05,
                    n_perm: int = 2000, seed: int = 0) -> pd.DataFrame:
    """The paper's reading of Fig. 4, tested on region shares (maps: :func:`map_regions` by
    data set; per_image: :func:`image_regions`).

    Rules (means over the classes both data sets have; "permutation" p-values permute the
    data-set labels of the per-image shares within class, ``n_perm`` times; a direction that
    holds with p >= ``alpha`` is inconclusive):

    - CAFE "spread over the whole face": more of CAFE's masks on the rest of the face (inside
      the face outline, outside eyes/brows, glabella/nose and mouth) than NIMH-ChEFS's;
    - CAFE "little on the nose bridge": CAFE's glabella/nose enrichment below 1 and below
      NIMH-ChEFS's (permutation on the glabella/nose share);
    - NIMH-ChEFS "eyes, brows, glabella, nose bridge": their combined share above CAFE's and
      above their area (permutation on the combined share);
    - NIMH-ChEFS "mouth too, except neutral": in each NIMH-ChEFS class but neutral, the mouth
      holds more of the masks than its area (one-sample t over images,
      :func:`enrichment_test`), and neutral's mouth share is below the other classes'
      (permutation of class labels); combined by :func:`emo_lib.verdicts.each_verdict`.
    """
    c = maps[maps["dataset"] == CAFE].set_index("class")
    n = maps[maps["dataset"] == NIMH].set_index("class")
    shared = [k for k in c.index if k in n.index]
    keys_all = ["cafe_spread", "cafe_little_nose", "nimh_upper_face",
                "nimh_mouth_except_neutral"]
    claims = [f"{CAFE}: influence spread over the whole face (more on the rest of the face "
              f"than {NIMH}).", f"{CAFE}: little influence on the nose bridge.",
              f"{NIMH}: concentrated on eyes, eyebrows, glabella and nose bridge.",
              f"{NIMH}: the mouth matters too, except for neutral."]
    if not shared:
        # Too few correct answers for any class to have a map in both data sets (a weak model,
        # tiny data): nothing to compare, which is a finding, not a crash.
        reason = ("no class has LIME maps in both data sets (too few correctly classified "
                  "images), so the maps cannot be compared")
        rows = [{"claim": claim, "verdict": INCONCLUSIVE, "evidence": reason}
                for claim in claims]
        return claims_table(rows, keys_all)
    c, n = c.loc[shared], n.loc[shared]
    rows, keys = [], []
    img = per_image[per_image["class"].isin(shared)]

    def perm_p(values: pd.Series) -> float:
        return stratified_permutation_test(
            values.to_numpy(float), (img["dataset"] == CAFE).to_numpy(), img["class"].to_numpy(),
            mean_difference, n_perm=n_perm, seed=seed, alternative="two-sided").p_value

    rest_c, rest_n = _mean(c, "face_rest"), _mean(n, "face_rest")
    p = perm_p(img["face_rest"])
    rows.append({"claim": claims[0],
                 "verdict": direction_verdict(rest_c - rest_n, p, alpha),
                 "evidence": f"share on the rest of the face {rest_c:.3f} vs {rest_n:.3f} "
                             f"(enrichment {_mean(c, 'enrichment_face_rest'):.2f} vs "
                             f"{_mean(n, 'enrichment_face_rest'):.2f}; permutation "
                             f"{p_equals(p)}); outside the face {_mean(c, 'outside'):.3f} vs "
                             f"{_mean(n, 'outside'):.3f}"})
    keys.append("cafe_spread")

    en_c, en_n = _mean(c, "enrichment_glabella_nose"), _mean(n, "enrichment_glabella_nose")
    p = perm_p(img["glabella_nose"])
    rows.append({"claim": claims[1],
                 "verdict": direction_verdict(_sign(en_c < 1 and en_c < en_n), p, alpha),
                 "evidence": f"glabella/nose enrichment {en_c:.2f} ({CAFE}) vs {en_n:.2f} "
                             f"({NIMH}), shares {_mean(c, 'glabella_nose'):.3f} vs "
                             f"{_mean(n, 'glabella_nose'):.3f} (permutation {p_equals(p)})"})
    keys.append("cafe_little_nose")

    upper_c = _mean(c, "eyes_brows") + _mean(c, "glabella_nose")
    upper_n = _mean(n, "eyes_brows") + _mean(n, "glabella_nose")
    area_n = _mean(n, "area_eyes_brows") + _mean(n, "area_glabella_nose")
    p = perm_p(img["eyes_brows"] + img["glabella_nose"])
    rows.append({"claim": claims[2],
                 "verdict": direction_verdict(_sign(upper_n > upper_c and upper_n > area_n), p,
                                              alpha),
                 "evidence": f"eyes/brows + glabella/nose share {upper_n:.3f} vs {upper_c:.3f} "
                             f"({CAFE}); their area {area_n:.3f} (permutation {p_equals(p)})"})
    keys.append("nimh_upper_face")

    nimh_img = per_image[per_image["dataset"] == NIMH].dropna(subset=["mouth"])
    if "neutral" in set(nimh_img["class"]) and nimh_img["class"].nunique() > 1:
        verdicts, parts = [], []
        for cls, sub in nimh_img.groupby("class", sort=False):
            if cls == "neutral":
                continue
            t = enrichment_test(sub, ["mouth"])
            v = direction_verdict(t["excess"], t["p_value"], alpha)
            verdicts.append(v)
            parts.append(f"{cls} {t['enrichment']:.2f} ({p_equals(t['p_value'])})")
        is_neutral = (nimh_img["class"] == "neutral").to_numpy()
        others = nimh_img.loc[~is_neutral, "mouth"].mean()
        neutral = nimh_img.loc[is_neutral, "mouth"].mean()
        p_neutral = stratified_permutation_test(
            nimh_img["mouth"].to_numpy(float), ~is_neutral, np.zeros(len(nimh_img)),
            mean_difference, n_perm=n_perm, seed=seed).p_value
        verdicts.append(direction_verdict(others - neutral, p_neutral, alpha))
        rows.append({"claim": claims[3], "verdict": each_verdict(verdicts),
                     "evidence": "mouth enrichment " + "; ".join(parts)
                                 + f"; mouth share neutral {neutral:.3f} vs the other classes "
                                   f"{others:.3f} (permutation {p_equals(p_neutral)})"})
    else:
        # The claim needs NIMH-ChEFS maps of neutral and of another class; say so, never drop it.
        rows.append({"claim": claims[3], "verdict": NOT_TESTABLE,
                     "evidence": f"{NIMH} maps of neutral and of at least one other class are "
                                 "needed; this run has maps of "
                                 + (", ".join(sorted(set(nimh_img["class"]))) or "no class")})
    keys.append("nimh_mouth_except_neutral")
    return claims_table(rows, keys)



def lime_gender_claims(per_image: pd.DataFrame, alpha: float = 0.05, n_perm: int = 2000,
                       seed: int = 0, margin: float = 0.1
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """"No clear male/female difference in either data set", per data set.

    Rule (an equivalence rule, :data:`RULE_KINDS` ``"lime_gender"``): per region, the male
    minus female difference of the per-image region shares, averaged over classes, with the two
    one-sided tests at ``margin`` (:func:`region_equivalence`): *supported* when every region's
    (1 - 2 alpha) interval lies within +/- ``margin`` (intersection-union: no correction
    needed); *contradicted* when the male/female permutation test of the share vectors
    (:func:`region_difference_test`, gender permuted within class) finds a difference (p <
    ``alpha``) and some region's difference exceeds the margin; else *inconclusive*. For scale,
    the evidence gives the CAFE-vs-NIMH-ChEFS distance of the same images (shared classes).

    Returns (verdicts, per-(data set, class) distance table, per-(data set, region)
    equivalence table)."""
    age_tab, age_stat, age_p = region_difference_test(per_image, "dataset", CAFE, NIMH,
                                                      ("class",), n_perm, seed)
    rows, keys, tables, equiv = [], [], [], []
    for ds in (CAFE, NIMH):
        sub = per_image[per_image["dataset"] == ds]
        if sub.empty:
            continue
        tab, stat, p = region_difference_test(sub, "gender", "male", "female", ("class",),
                                              n_perm, seed)
        tables.append(tab.assign(dataset=ds, comparison="male vs female"))
        eq = region_equivalence(sub, "gender", "male", "female", margin, ("class",), alpha)
        equiv.append(eq.assign(dataset=ds))
        worst = eq["difference"].abs().idxmax() if eq["difference"].notna().any() else None
        diff = float(eq.loc[worst, "difference"]) if worst is not None else float("nan")
        tost_p = float(eq["tost_p"].max()) if eq["tost_p"].notna().all() else float("nan")
        verdict = equivalence_verdict(tost_p, p if abs(diff) > margin else float('nan'), alpha)
        rows.append({"claim": f"{ds}: no clear male/female difference in where the maps lie.",
                     "verdict": verdict,
                     "evidence": (f"largest male-female region difference {worst} {diff:+.3f}; "
                                  f"every region within +/-{margin}: TOST {p_equals(tost_p)} "
                                  f"(largest of the five); regions equivalent: "
                                  f"{int(eq['equivalent'].sum())} of {len(eq)}; male-female "
                                  f"distance of the shares {stat:.3f} (permutation "
                                  f"{p_equals(p)}); {CAFE}-vs-{NIMH} distance {age_stat:.3f} "
                                  f"({p_equals(age_p)})")})
        keys.append(f"{PAPER_KEYS[ds]}_no_gender_difference")
    tables.append(age_tab.assign(dataset="both", comparison=f"{CAFE} vs {NIMH}"))
    table = pd.concat(tables, ignore_index=True)
    equivalence = pd.concat(equiv).reset_index().set_index(["dataset", "region"]) if equiv \
        else pd.DataFrame()
    return claims_table(rows, keys), table, equivalence



def training_claims(cafe_paper: pd.DataFrame, gain: Mapping[str, float] | None,
                    nimh_paper: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Figs. 5-6's claims, from :func:`paired_changes` tables (McNemar p-values; on the paper's
    own numbers :func:`paper_changes`): training on CAFE lifts CAFE's accuracy, greatly in
    angry, neutral and sad; (beyond the paper) at least a stated share of the gain survives
    subject-disjoint evaluation (``gain``: :func:`gain_share_test`; None: not testable, e.g.
    on the paper's numbers, which have no such evaluation); NIMH-ChEFS's accuracy then falls
    overall and greatly in angry and sad. A change the paper's way with p >= ``alpha`` is
    inconclusive; a claim about several classes combines them with
    :func:`emo_lib.verdicts.each_verdict`."""
    fig5 = paper.paper_value(f"{PAPER}.fig5_cafe_after_additional_training")
    fig6 = paper.paper_value(f"{PAPER}.fig6_nimh_after_additional_training")
    rows, keys = [], []
    o = cafe_paper.loc[OVERALL]
    rows.append({"claim": f"Training on {CAFE} lifts its accuracy (paper "
                          f"{fig5['before']['overall']:.3f} to {fig5['after']['overall']:.3f}).",
                 "verdict": direction_verdict(o["change"], o["p_value"], alpha),
                 "evidence": f"{o['before']:.3f} to {o['after']:.3f} on the same images "
                             f"({o['change']:+.3f}, McNemar {p_equals(o['p_value'])})"})
    keys.append("cafe_gain")
    named = [c for c in fig5["after"] if c != OVERALL and fig5["after"][c] is not None
             and fig5["before"].get(c) is not None]
    sub = cafe_paper.loc[[c for c in named if c in cafe_paper.index]]
    rows.append({"claim": f"{CAFE} gains greatly in {', '.join(named)} (the classes the paper "
                          "names).",
                 "verdict": each_verdict([direction_verdict(r["change"], r["p_value"], alpha)
                                          for _, r in sub.iterrows()]),
                 "evidence": "; ".join(f"{c} {r['change']:+.3f} ({p_equals(r['p_value'])})"
                                       for c, r in sub.iterrows())
                             + f"; median change over all classes given "
                               f"{cafe_paper.drop(index=OVERALL)['change'].median():+.3f}"})
    keys.append("cafe_named_gains")
    claim = (f"(Beyond the paper) At least {SURVIVING_SHARE:.0%} of the gain survives on "
             "children the model was not trained on (subject-disjoint folds).")
    if gain is None:
        rows.append({"claim": claim, "verdict": NOT_TESTABLE,
                     "evidence": "no subject-disjoint evaluation (the paper scores the images "
                                 "it trained on)"})
    elif not gain["gain_paper"] > 0:
        rows.append({"claim": claim, "verdict": NOT_TESTABLE,
                     "evidence": f"no gain on the training images to survive "
                                 f"({gain['gain_paper']:+.3f})"})
    else:
        rows.append({"claim": claim.replace(f"{SURVIVING_SHARE:.0%}", f"{gain['share']:.0%}"),
                     "verdict": direction_verdict(gain["cluster_mean"], gain["p_value"], alpha),
                     "evidence": f"gain {gain['gain_held_out']:+.3f} held out vs "
                                 f"{gain['gain_paper']:+.3f} on the training images: "
                                 f"{gain['share_observed']:.0%} survives; held-out gain minus "
                                 f"{gain['share']:.0%} of the training-images gain, per child "
                                 f"{gain['cluster_mean']:+.3f} (t test over "
                                 f"{gain['n_clusters']} children, {p_equals(gain['p_value'])})"})
    keys.append("gain_survives")
    if OVERALL not in nimh_paper.index:
        n = pd.Series({"before": np.nan, "after": np.nan, "change": np.nan, "p_value": np.nan})
    else:
        n = nimh_paper.loc[OVERALL]
    derived = bool(nimh_paper.get("derived", pd.Series(False, index=nimh_paper.index))
                   .get(OVERALL, False))
    rows.append({"claim": f"{NIMH}'s accuracy falls after training on {CAFE} (never trained "
                          "on).",
                 "verdict": direction_verdict(-n["change"], n["p_value"], alpha),
                 "evidence": f"{n['before']:.3f} to {n['after']:.3f} ({n['change']:+.3f}, "
                             f"McNemar {p_equals(n['p_value'])})"
                             + ("; overall derived from the per-class values and Table 2's "
                                "counts" if derived else "")})
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
                                       f"({p_equals(r['p_value'])})" for c, r in sub.iterrows())})
    keys.append("nimh_angry_sad_drop")
    return claims_table(rows, keys)


def paper_not_testable(mine: pd.DataFrame, reason: str) -> pd.DataFrame:
    """A claims table of *not testable* verdicts with the same ids as ``mine``: the paper's
    column where the paper's evidence is not numbers (its LIME pictures)."""
    return claims_table([{"claim": r["claim"], "verdict": NOT_TESTABLE, "evidence": reason}
                         for _, r in mine.iterrows()], list(mine.index))


__all__ = ["RULE_KINDS", "age_claims", "gender_claims", "lime_age_claims", "lime_gender_claims",
           "paper_not_testable", "training_claims"]
