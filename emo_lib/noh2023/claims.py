"""Noh & Lim's claims, each a rule on numbers (this run's, and the same rule on the paper's
own numbers): Fig. 3 (age), Tables 3-4 (gender), Figs 4, 7, 8 (LIME), Figs 5-6 (additional
training). Every function returns an :func:`emo_lib.verdicts.claims_table` whose rows carry,
besides the verdict and evidence, the claims contract's ``value`` (this run's headline numbers
with their interval) and ``detectable`` (the smallest difference the test could have called
significant with this run's numbers); the same function on the paper's numbers gives the
``paper_value`` (:func:`finish_claims`).

Verdicts follow :mod:`emo_lib.verdicts`: a direction counts when its test is significant at
``alpha``; "no (large) difference" claims need an equivalence test (TOST) with a stated margin
and are contradicted only by a one-sided test beyond it; "large" and "greatly" are tested
against the threshold (:data:`GENDER_GAP_THRESHOLD`, the paper's own yardstick of a large
accuracy gap), not against zero; a claim about several classes or conditions is a list of
:class:`emo_lib.verdicts.Part` (Holm within the claim, untestable parts never support, a
significant counterexample contradicts). :data:`RULE_KINDS` names the rule texts behind each
table; :func:`claim_rules` prints them with the parameters a page used.

Not here: the tables the claims read (:mod:`.accuracy`, :mod:`.lime_regions`,
:mod:`.training`), the per-seed loops (:mod:`.seeded`).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from .. import detectable, paper
from ..explain import REGION_LABELS
from ..formatting import (
    format_estimate, format_number, format_percent, format_ratio, format_signed, p_equals,
)
from ..metrics import OVERALL, POOLED_LABELS, compare_groups
from ..stats import (
    fisher_exact_2x2, mean_difference, paired_difference_p, sign_test_p,
    stratified_permutation_test, tost_two_proportions,
)
from ..verdicts import (
    INCONCLUSIVE, NOT_TESTABLE, Part, claims_table, combine_parts,
    direction_part, direction_verdict, equivalence_part, equivalence_verdict,
    exact_equivalence_verdict, exact_part, rules_markdown, threshold_part, threshold_verdict,
    with_paper_verdicts,
)
from .accuracy import (
    GENDER_GAP_THRESHOLD, OVERALL_GENDER_MARGIN, gap_beyond_p, paper_accuracy_table,
    paper_gender_exceptions,
)
from .lime_regions import enrichment_test, region_difference_test, region_equivalence
from .names import CAFE, GENDERS, NIMH, PAPER, PAPER_KEYS, class_order
from .training import SURVIVING_SHARE

#: The rule texts (``emo_lib.verdicts.RULES``) behind each claims table.
RULE_KINDS: dict[str, tuple[str, ...]] = {
    "age": ("direction", "exceeds", "equivalence", "each", "detectable", "paper", "seeds"),
    "gender": ("equivalence", "exceeds", "each", "detectable", "paper", "seeds"),
    "lime_age": ("direction", "permutation", "area", "each", "detectable", "paper_pictures",
                 "seeds"),
    "lime_gender": ("regions", "equivalence", "each", "detectable", "paper_pictures", "seeds"),
    "training": ("direction", "greatly", "each", "share", "detectable", "paper_pairing",
                 "seeds"),
}
#: Interval level of the ``value`` column (two-sided).
VALUE_LEVEL = 0.95


# --------------------------------------------------------------------------- shared pieces


def paper_classes(dataset: str) -> list[str]:
    """The classes a data set has in the paper (its Section 2), in the papers' order."""
    return list(paper.paper_value(f"{PAPER}.datasets.{PAPER_KEYS[dataset]}.classes"))


def claim_rules(kind: str, params: Mapping[str, Any]) -> str:
    """The rules behind a page's claims table, with the parameters the page used (its
    ``run.params``: ``alpha``, and ``overall_margin``, ``equivalence_margin``,
    ``permutations`` where the page has them), for ``run.claims``."""
    if kind not in RULE_KINDS:
        raise ValueError(f"unknown claims kind {kind!r}; choose from {list(RULE_KINDS)}")
    alpha = params.get("alpha", 0.05)
    values: dict[str, Any] = {"alpha": alpha, "threshold": GENDER_GAP_THRESHOLD}
    if kind == "age":
        values["margin"] = GENDER_GAP_THRESHOLD
    elif kind == "gender":
        overall = params.get("overall_margin", OVERALL_GENDER_MARGIN)
        values["margin"] = (f"{GENDER_GAP_THRESHOLD:g} (per class; {overall:g} for the overall "
                            "accuracy)")
    elif kind == "lime_age":
        values["n_perm"] = params.get("permutations")
    elif kind == "lime_gender":
        values["margin"] = params.get("equivalence_margin")
    return rules_markdown(*RULE_KINDS[kind], **values)


def _interval(ka: int, na: int, kb: int, nb: int, level: float = VALUE_LEVEL
              ) -> tuple[float, float]:
    """Newcombe's hybrid score interval of pa - pb at ``level`` (two-sided)."""
    if not (na and nb):
        return float("nan"), float("nan")
    r = tost_two_proportions(ka, na, kb, nb, 1.0, alpha=(1 - level) / 2, method="newcombe")
    return r.ci_low, r.ci_high


def _detectable(x: float) -> str:
    """A detectable difference for the ``detectable`` column ("" when there is none)."""
    return format_number(x, missing="")


def _range(values: Sequence[float]) -> str:
    """"0.081" or "0.081 to 0.212" (finite values only; "" when none)."""
    v = [float(x) for x in values if x is not None and np.isfinite(x)]
    if not v:
        return ""
    lo, hi = min(v), max(v)
    return format_number(lo) if format_number(lo) == format_number(hi) \
        else f"{format_number(lo)} to {format_number(hi)}"


def _difference(printed: float, counted: float) -> str:
    """A difference as printed, and the one derived from counts beside it when they differ at
    the shown decimals (the paper's rounded accuracies against its counts)."""
    text = format_signed(printed)
    if np.isfinite(counted) and format_signed(counted) != text:
        text += f" ({format_signed(counted)} from counts)"
    return text


def _estimate_value(first: float, second: float, printed: float, counted: float,
                    low: float, high: float, level: float,
                    labels: tuple[str, str] = ("", "")) -> str:
    """"0.413 vs 0.822: -0.409 [-0.452, -0.366] (95 % interval)"; when the paper's printed
    accuracies give another difference than its counts, both, labelled: "0.671 vs 0.861:
    -0.190 (printed); -0.191 [-0.236, -0.144] from counts (95 % interval)"."""
    head = f"{format_number(first)}{labels[0]} vs {format_number(second)}{labels[1]}: "
    estimate = format_estimate(counted, low, high, signed=True)
    if np.isfinite(printed) and format_signed(printed) != format_signed(counted):
        return head + f"{format_signed(printed)} (printed); {estimate} from counts " \
                      f"({format_percent(level)} interval)"
    return head + f"{estimate} ({format_percent(level)} interval)"


def _combined_row(claim: str, combination: Any, evidence: str, value: str,
                  detectable_text: str) -> dict[str, Any]:
    return {"claim": claim, "verdict": combination.verdict,
            "evidence": f"{combination.summary}; {evidence}" if evidence else combination.summary,
            "value": value, "detectable": detectable_text}


def tag_claims(tables: pd.DataFrame | Mapping[int, pd.DataFrame], *, synthetic: bool
               ) -> pd.DataFrame | dict[int, pd.DataFrame]:
    """A claims table (or one per seed) with the contract's ``tags`` and ``construction``
    filled from :mod:`emo_lib.noh2023.construction`: on synthetic data, the claims whose outcome
    the generator decides by design are tagged "by construction", naming the setting; on real
    data nothing is."""
    from .construction import tag

    if isinstance(tables, pd.DataFrame):
        return tag(tables, synthetic=synthetic)
    return {seed: tag(table, synthetic=synthetic) for seed, table in tables.items()}


def finish_claims(mine: pd.DataFrame, own: pd.DataFrame) -> pd.DataFrame:
    """This run's claims with the same rules' verdict, evidence and value on the paper's own
    numbers beside (``paper_value``); the page adds the construction tags (:func:`tag_claims`),
    which depend on whether its data are synthetic."""
    return with_paper_verdicts(mine, own)


# ------------------------------------------------------------------------------ Fig. 3: age


def age_claims(acc: pd.DataFrame, alpha: float = 0.05, except_class: str = "happy",
               threshold: float = GENDER_GAP_THRESHOLD) -> pd.DataFrame:
    """Fig. 3's claims (Section 3.2): CAFE's overall accuracy is lower than NIMH-ChEFS's; in
    every shared class but happy the gap is large (CAFE lower); happy's gap is the exception.

    Rules (:data:`RULE_KINDS` ``"age"``): the overall gap by Fisher's exact test (CAFE lower
    is the paper's direction); "large gaps": per shared class (the classes both data sets have
    in the paper, a class this run lacks counts as a part not testable) the gap tested against
    ``threshold`` (:func:`gap_beyond_p`, CAFE lower by more than it), combined by
    :func:`emo_lib.verdicts.combine_parts`; "happy is the exception" (its gap is not large):
    Newcombe TOST within +/- ``threshold``, contradicted when a one-sided test puts the gap
    beyond it.
    """
    overall = acc[acc["class"] == OVERALL].set_index("dataset")
    if not {CAFE, NIMH} <= set(overall.index):
        raise ValueError(f"age_claims needs both {CAFE} and {NIMH} in the table")
    printed = acc.set_index(["dataset", "class"])["accuracy"]
    rows, keys = [], []
    c, n = overall.loc[CAFE], overall.loc[NIMH]
    kc, nc, kn, nn = int(c["correct"]), int(c["n"]), int(n["correct"]), int(n["n"])
    p = fisher_exact_2x2(kc, nc, kn, nn)
    diff = c["accuracy"] - n["accuracy"]
    lo, hi = _interval(kc, nc, kn, nn)
    rows.append({"claim": f"{CAFE} (children) has a lower overall accuracy than {NIMH} "
                          "(adolescents).",
                 "verdict": direction_verdict(-diff, p, alpha),
                 "evidence": f"{format_number(c['accuracy'])} vs {format_number(n['accuracy'])} "
                             f"(difference {format_signed(diff)}, Fisher {p_equals(p)})",
                 "value": _estimate_value(c["accuracy"], n["accuracy"], diff,
                                          kc / nc - kn / nn, lo, hi, VALUE_LEVEL),
                 "detectable": _detectable(detectable.two_proportions(kc, nc, kn, nn, alpha))})
    keys.append("cafe_overall_lower")

    gaps = compare_groups(acc, "dataset", CAFE, NIMH)
    gaps = gaps[~gaps["class"].isin(POOLED_LABELS)].set_index("class")
    shared = [k for k in paper_classes(CAFE) if k in paper_classes(NIMH)]
    shared += [k for k in gaps.index if k not in shared]
    parts, notes, values, smallest = [], [], [], []
    for k in shared:
        if k == except_class:
            continue
        if k not in gaps.index:
            parts.append(Part(k, note="no images of it in one data set"))
            notes.append(f"{k} not testable (no images in one data set)")
            continue
        r = gaps.loc[k]
        ka, na, kb, nb = (int(r[x]) for x in ("correct_a", "n_a", "correct_b", "n_b"))
        beyond = gap_beyond_p(ka, na, kb, nb, threshold, -1)
        shown = _difference(printed.get((CAFE, k), np.nan) - printed.get((NIMH, k), np.nan),
                            r["difference"]) if (CAFE, k) in printed.index else \
            format_signed(r["difference"])
        parts.append(threshold_part(k, beyond, shown))
        notes.append(f"{k} {shown} (beyond -{threshold:g}: {p_equals(beyond)})")
        values.append(f"{k} {shown}")
        se = math.sqrt(r["accuracy_a"] * (1 - r["accuracy_a"]) / na
                       + r["accuracy_b"] * (1 - r["accuracy_b"]) / nb)
        smallest.append(detectable.beyond_threshold(threshold, se, alpha=alpha))
    combined = combine_parts(parts, alpha)
    rows.append(_combined_row(
        f"In every shared class but {except_class}, {CAFE}'s accuracy is lower than {NIMH}'s "
        f"by more than {threshold:g} (the paper: the classes differ widely).", combined,
        f"{CAFE} minus {NIMH}: " + "; ".join(notes), "; ".join(values),
        _range(smallest)))
    keys.append("shared_gaps_large")

    claim = f"{except_class} is the exception: its gap is not large (within {threshold:g})."
    if except_class in gaps.index and len(gaps) > 1:
        r = gaps.loc[except_class]
        ka, na, kb, nb = (int(r[x]) for x in ("correct_a", "n_a", "correct_b", "n_b"))
        verdict, tost, beyond = _gap_verdicts(ka, na, kb, nb, threshold, alpha)
        absgap = gaps["difference"].abs().drop(except_class)
        rows.append({"claim": claim, "verdict": verdict,
                     "evidence": f"{except_class} {format_signed(r['difference'])} "
                                 f"({format_percent(1 - 2 * alpha)} Newcombe interval "
                                 f"[{format_signed(tost.ci_low)}, {format_signed(tost.ci_high)}],"
                                 f" TOST {p_equals(tost.p_value)}; beyond +/-{threshold:g}: "
                                 f"{p_equals(beyond)}); the other classes' |gap| "
                                 f"{_range(absgap)}",
                     "value": f"{except_class} " + _estimate_value(
                         r["accuracy_a"], r["accuracy_b"],
                         printed.get((CAFE, except_class), np.nan)
                         - printed.get((NIMH, except_class), np.nan),
                         r["difference"], tost.ci_low, tost.ci_high, 1 - 2 * alpha),
                     "detectable": _detectable((tost.ci_high - tost.ci_low) / 2)})
    else:
        rows.append({"claim": claim, "verdict": NOT_TESTABLE,
                     "evidence": f"{except_class} is not a class both data sets have on this "
                                 "run (or it is the only one)"})
    keys.append("happy_exception")
    return claims_table(rows, keys)


def _gap_verdicts(ka: int, na: int, kb: int, nb: int, margin: float, alpha: float
                  ) -> tuple[str, Any, float]:
    """Equivalence verdict of one accuracy gap within ``margin`` (Newcombe TOST; contradicted
    when a one-sided test puts it beyond the margin on its side), the TOST result and that
    p-value."""
    tost = tost_two_proportions(ka, na, kb, nb, margin, alpha=alpha, method="newcombe")
    if not (na and nb):
        return NOT_TESTABLE, tost, float("nan")
    d = ka / na - kb / nb
    beyond = gap_beyond_p(ka, na, kb, nb, margin, 1 if d >= 0 else -1)
    return equivalence_verdict(tost.p_value, beyond, alpha), tost, beyond


# -------------------------------------------------------------------------- Tables 3-4: gender


def gender_claims(acc: pd.DataFrame, alpha: float = 0.05,
                  threshold: float = GENDER_GAP_THRESHOLD,
                  overall_margin: float = OVERALL_GENDER_MARGIN) -> pd.DataFrame:
    """Tables 3-4's claims (Section 3.3), per data set: male and female accuracies differ by at
    most ``threshold`` (the paper's 0.2) in every class but the paper's exception (CAFE fear
    0.226, NIMH-ChEFS neutral 0.274); the exception's gap exceeds it; overall accuracies differ
    little.

    Rules (:data:`RULE_KINDS` ``"gender"``):

    - "within ``threshold`` elsewhere": per class (the data set's classes in the paper; one
      this run cannot test counts as a part not testable), the two one-sided tests on
      Newcombe's hybrid score interval (``method="newcombe"``) with margin ``threshold``
      and the one-sided test beyond it (:func:`gap_beyond_p`), combined by
      :func:`emo_lib.verdicts.combine_parts`. Not finding a gap is never support.
    - "the exception": the gap tested against the threshold on the paper's side
      (:func:`emo_lib.verdicts.threshold_verdict`).
    - "overall differ little": the same equivalence test on the overall accuracies with margin
      ``overall_margin`` (:data:`OVERALL_GENDER_MARGIN`).
    """
    exceptions = paper_gender_exceptions(threshold)
    paper_gaps = compare_groups(paper_accuracy_table("gender"), "gender", "male", "female",
                                control_features=["dataset"])
    gaps = compare_groups(acc, "gender", "male", "female", control_features=["dataset"])
    printed = acc.set_index(["dataset", "gender", "class"])["accuracy"] \
        if "gender" in acc.columns else pd.Series(dtype=float)
    rows, keys = [], []
    for ds in (CAFE, NIMH):
        g = gaps[gaps["dataset"] == ds].set_index("class")
        exc = exceptions[ds]
        if g.empty:
            # No male/female pair in this data set: its claims stay in the table, untestable
            # (the same claims with every seed and every data set).
            whats = [("small_gaps", f"male and female accuracies differ by at most "
                                    f"{threshold:g} in every class but {', '.join(exc) or 'none'}")]
            whats += [(f"{c}_exception", f"{c} is the exception, with a gap beyond "
                                         f"{threshold:g}") for c in exc]
            whats += [("overall_gender", f"overall, male and female accuracies differ little "
                                         f"(within {overall_margin:g})")]
            for key, what in whats:
                rows.append({"claim": f"{ds}: {what}.", "verdict": NOT_TESTABLE,
                             "evidence": f"{ds} has no class with both genders on this run"})
                keys.append(f"{PAPER_KEYS[ds]}_{key}")
            continue
        cls = g.drop(index=[c for c in POOLED_LABELS if c in g.index])
        classes = [c for c in paper_classes(ds) + [c for c in cls.index
                                                  if c not in paper_classes(ds)]
                   if c not in exc]

        def shown(c: str, r: pd.Series, ds: str = ds) -> str:
            m, f = printed.get((ds, "male", c), np.nan), printed.get((ds, "female", c), np.nan)
            return _difference(m - f, r["difference"]) if np.isfinite(m - f) \
                else format_signed(r["difference"])

        parts, details, values, widths = [], [], [], []
        for c in classes:
            if c not in cls.index:
                parts.append(Part(c, note="not both genders on this run"))
                details.append(f"{c} not testable")
                continue
            r = cls.loc[c]
            ka, na, kb, nb = (int(r[x]) for x in ("correct_a", "n_a", "correct_b", "n_b"))
            v, tost, beyond = _gap_verdicts(ka, na, kb, nb, threshold, alpha)
            parts.append(equivalence_part(c, tost.p_value, beyond, shown(c, r)))
            details.append(f"{c} {shown(c, r)} [{format_signed(tost.ci_low)}, "
                           f"{format_signed(tost.ci_high)}]")
            values.append(f"{c} {shown(c, r)}")
            widths.append((tost.ci_high - tost.ci_low) / 2)
        combined = combine_parts(parts, alpha)
        rows.append(_combined_row(
            f"{ds}: male and female accuracies differ by at most {threshold:g} in every class "
            f"but {', '.join(exc) or 'none'}.", combined,
            f"male minus female, {format_percent(1 - 2 * alpha)} Newcombe interval, TOST margin "
            f"{threshold:g}: " + "; ".join(details) if details else "no other class",
            "; ".join(values), _range(widths)))
        keys.append(f"{PAPER_KEYS[ds]}_small_gaps")
        pg = paper_gaps[paper_gaps["dataset"] == ds].set_index("class")
        for c in exc:
            if c not in cls.index:
                rows.append({"claim": f"{ds}: {c} is the exception, with a gap beyond "
                                      f"{threshold:g} (paper "
                                      f"{format_signed(pg.loc[c, 'difference'])}, male minus "
                                      "female).", "verdict": NOT_TESTABLE,
                             "evidence": f"this run has no {c} images of both genders in {ds}"})
                keys.append(f"{PAPER_KEYS[ds]}_{c}_exception")
                continue
            r = cls.loc[c]
            ka, na, kb, nb = (int(r[x]) for x in ("correct_a", "n_a", "correct_b", "n_b"))
            side = 1 if pg.loc[c, "difference"] >= 0 else -1
            p_beyond = gap_beyond_p(ka, na, kb, nb, threshold, side)
            lo, hi = _interval(ka, na, kb, nb)
            se = math.sqrt(r["accuracy_a"] * (1 - r["accuracy_a"]) / na
                           + r["accuracy_b"] * (1 - r["accuracy_b"]) / nb)
            rows.append({
                "claim": f"{ds}: {c} is the exception, with a gap beyond {threshold:g} (paper "
                         f"{format_signed(pg.loc[c, 'difference'])}, male minus female).",
                "verdict": threshold_verdict(p_beyond, alpha),
                "evidence": f"{c}: male {format_number(r['accuracy_a'])}, female "
                            f"{format_number(r['accuracy_b'])}, gap "
                            f"{format_signed(r['difference'])}; that it lies beyond "
                            f"{format_signed(side * threshold, 1)}: one-sided "
                            f"{p_equals(p_beyond)} (that it lies within: "
                            f"{p_equals(1 - p_beyond)}); against no gap: Fisher "
                            f"{p_equals(r['p_value'])}",
                "value": f"{c} " + _estimate_value(
                    r["accuracy_a"], r["accuracy_b"],
                    printed.get((ds, "male", c), np.nan) - printed.get((ds, "female", c), np.nan),
                    r["difference"], lo, hi, VALUE_LEVEL, (" (male)", " (female)")),
                "detectable": _detectable(detectable.beyond_threshold(threshold, se,
                                                                        alpha=alpha))})
            keys.append(f"{PAPER_KEYS[ds]}_{c}_exception")
        ov = acc[(acc["dataset"] == ds) & (acc["class"] == OVERALL)].set_index("gender")
        claim = (f"{ds}: overall, male and female accuracies differ little (within "
                 f"{overall_margin:g}).")
        if set(GENDERS) <= set(ov.index):
            m, f = ov.loc["male"], ov.loc["female"]
            ka, na, kb, nb = int(m["correct"]), int(m["n"]), int(f["correct"]), int(f["n"])
            v, tost, beyond = _gap_verdicts(ka, na, kb, nb, overall_margin, alpha)
            d = m["accuracy"] - f["accuracy"]
            rows.append({
                "claim": claim, "verdict": v,
                "evidence": f"male {format_number(m['accuracy'])} vs female "
                            f"{format_number(f['accuracy'])} ({format_signed(d)}; "
                            f"{format_percent(1 - 2 * alpha)} Newcombe interval "
                            f"[{format_signed(tost.ci_low)}, {format_signed(tost.ci_high)}], "
                            f"TOST {p_equals(tost.p_value)} for margin {overall_margin:g}; "
                            f"beyond it: {p_equals(beyond)})",
                "value": _estimate_value(m["accuracy"], f["accuracy"], d, ka / na - kb / nb,
                                         tost.ci_low, tost.ci_high, 1 - 2 * alpha),
                "detectable": _detectable((tost.ci_high - tost.ci_low) / 2)})
        else:
            rows.append({"claim": claim, "verdict": NOT_TESTABLE,
                         "evidence": f"{ds} lacks one gender's overall accuracy on this run"})
        keys.append(f"{PAPER_KEYS[ds]}_overall_gender")
    return claims_table(rows, keys)


# ------------------------------------------------------------------------ Figs 4, 7, 8: LIME


def _per_dataset(img: pd.DataFrame, values: pd.Series) -> pd.Series:
    """Per data set, the mean over classes of the per-image mean (the weighting of the
    stratified tests)."""
    return values.groupby([img["dataset"], img["class"]]).mean().groupby(level=0).mean()


def _strata_se(values: np.ndarray, is_a: np.ndarray, strata: np.ndarray) -> float:
    """Standard error of the mean over strata of (mean of a - mean of b) (Welch, strata with
    at least two of each group)."""
    terms = []
    for s in pd.unique(strata):
        m = strata == s
        a, b = values[m & is_a], values[m & ~is_a]
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if len(a) >= 2 and len(b) >= 2:
            terms.append(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return math.sqrt(sum(terms)) / len(terms) if terms else float("nan")


def _permutation(img: pd.DataFrame, values: pd.Series, n_perm: int, seed: int
                 ) -> tuple[float, float, float]:
    """(CAFE minus NIMH-ChEFS, mean over classes; two-sided permutation p, data-set labels
    permuted within class; its standard error)."""
    x = values.to_numpy(float)
    is_cafe = (img["dataset"] == CAFE).to_numpy()
    strata = img["class"].to_numpy()
    result = stratified_permutation_test(x, is_cafe, strata, mean_difference, n_perm=n_perm,
                                         seed=seed, alternative="two-sided")
    return result.statistic, result.p_value, _strata_se(x, is_cafe, strata)


def _one_sample(name: str, excess: np.ndarray, sign: int, note: str
                ) -> tuple[Part, float, float, float]:
    """A part tested by a one-sample t test of per-image ``excess`` against 0, the paper's
    way being ``sign`` (+1: above 0). With no spread the excess is exact: the same in every
    image, judged by the sign test (all 0: an exact *inconclusive*). Returns (part, mean, p,
    standard error)."""
    x = excess[np.isfinite(excess)]
    if len(x) < 2:
        return Part(name, note=note), float(x.mean()) if len(x) else float("nan"), \
            float("nan"), float("nan")
    mean = float(x.mean())
    if np.ptp(x) == 0:
        if mean == 0:
            return exact_part(name, INCONCLUSIVE, note + " (0 in every image)"), 0.0, 1.0, 0.0
        p = sign_test_p(x)
        return direction_part(name, sign * mean, p, note + " (the same in every image)"), \
            mean, p, 0.0
    p = float(scipy_stats.ttest_1samp(x, 0.0).pvalue)
    return direction_part(name, sign * mean, p, note), mean, p, float(x.std(ddof=1)
                                                                      / math.sqrt(len(x)))


def _excess(img: pd.DataFrame, regions: Sequence[str]) -> np.ndarray:
    return (img[list(regions)].sum(axis=1)
            - img[[f"area_{r}" for r in regions]].sum(axis=1)).to_numpy(float)


def lime_age_claims(maps: pd.DataFrame, per_image: pd.DataFrame, alpha: float = 0.05,
                    n_perm: int = 2000, seed: int = 0) -> pd.DataFrame:
    """The paper's reading of Fig. 4, tested on the per-image region shares (per_image:
    :func:`image_regions`; maps: :func:`map_regions`, to find the classes both data sets have
    maps of), each condition of a reading with its own test (:data:`RULE_KINDS`
    ``"lime_age"``):

    - CAFE "spread over the whole face": more of CAFE's masks on the rest of the face (inside
      the face outline, outside the named regions) than NIMH-ChEFS's (permutation);
    - CAFE "little on the nose bridge": (a) CAFE's glabella/nose share below its area
      (enrichment below 1; one-sample t over CAFE's images of share minus area) and (b) below
      NIMH-ChEFS's share (permutation);
    - NIMH-ChEFS "eyes, brows, glabella, nose bridge": their combined share (a) above CAFE's
      (permutation) and (b) above their area (one-sample t over NIMH-ChEFS's images);
    - NIMH-ChEFS "mouth too, except neutral": in each NIMH-ChEFS class but neutral the mouth
      above its area (one-sample t), and neutral's mouth share below the other classes'
      (permutation of class labels).

    A reading of several conditions is a claim about every condition
    (:func:`emo_lib.verdicts.combine_parts`): contradicted only when a tested condition is
    significantly the other way. Means over the classes both data sets have; permutations
    ``n_perm`` times with ``seed``.
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
        # tiny data): no usable numbers, which is a finding, not a crash.
        reason = ("no class has LIME maps in both data sets (too few correctly classified "
                  "images), so the maps cannot be compared")
        return claims_table([{"claim": claim, "verdict": NOT_TESTABLE, "evidence": reason}
                             for claim in claims], keys_all)
    rows, keys = [], []
    img = per_image[per_image["class"].isin(shared)].dropna(subset=["face_rest"])
    cafe_img, nimh_img = img[img["dataset"] == CAFE], img[img["dataset"] == NIMH]
    z = detectable.from_se

    rest = _per_dataset(img, img["face_rest"])
    stat, p, se = _permutation(img, img["face_rest"], n_perm, seed)
    rows.append({"claim": claims[0], "verdict": direction_verdict(stat, p, alpha),
                 "evidence": f"per-image share on the rest of the face {format_number(rest[CAFE])} "
                             f"vs {format_number(rest[NIMH])} ({format_signed(stat)}, permutation "
                             f"{p_equals(p)}); outside the face "
                             f"{format_number(_per_dataset(img, img['outside'])[CAFE])} vs "
                             f"{format_number(_per_dataset(img, img['outside'])[NIMH])}",
                 "value": f"rest of the face {format_number(rest[CAFE])} vs "
                          f"{format_number(rest[NIMH])} ({format_signed(stat)})",
                 "detectable": _detectable(z(se, alpha=alpha))})
    keys.append("cafe_spread")

    nose = _per_dataset(img, img["glabella_nose"])
    area = _per_dataset(img, img["area_glabella_nose"])
    below_area, ex, p_a, se_a = _one_sample(
        "share below its area", _excess(cafe_img, ["glabella_nose"]), -1,
        f"{CAFE} enrichment {format_ratio(nose[CAFE] / area[CAFE])}")
    stat, p_b, se_b = _permutation(img, img["glabella_nose"], n_perm, seed)
    below_nimh = direction_part(f"share below {NIMH}'s", -stat, p_b, format_signed(stat))
    combined = combine_parts([below_area, below_nimh], alpha)
    rows.append(_combined_row(
        claims[1], combined,
        f"glabella/nose share of {CAFE}'s masks {format_number(nose[CAFE])} against its area "
        f"{format_number(area[CAFE])} (enrichment {format_ratio(nose[CAFE] / area[CAFE])}, "
        f"t test {p_equals(p_a)}); {NIMH}'s share {format_number(nose[NIMH])} (enrichment "
        f"{format_ratio(nose[NIMH] / area[NIMH])}), difference {format_signed(stat)} "
        f"(permutation {p_equals(p_b)})",
        f"enrichment {format_ratio(nose[CAFE] / area[CAFE])} ({CAFE}) vs "
        f"{format_ratio(nose[NIMH] / area[NIMH])} ({NIMH})",
        _range([z(se_a, len(cafe_img) - 1, alpha), z(se_b, alpha=alpha)])))
    keys.append("cafe_little_nose")

    upper_cols = ["eyes_brows", "glabella_nose"]
    upper_values = img[upper_cols].sum(axis=1)
    upper = _per_dataset(img, upper_values)
    upper_area = _per_dataset(img, img[[f"area_{r}" for r in upper_cols]].sum(axis=1))
    stat, p_a, se_a = _permutation(img, upper_values, n_perm, seed)
    above_cafe = direction_part(f"share above {CAFE}'s", -stat, p_a, format_signed(-stat))
    above_area, ex, p_b, se_b = _one_sample(
        "share above their area", _excess(nimh_img, upper_cols), 1,
        f"share {format_number(upper[NIMH])} vs area {format_number(upper_area[NIMH])}")
    combined = combine_parts([above_cafe, above_area], alpha)
    rows.append(_combined_row(
        claims[2], combined,
        f"eyes/brows + glabella/nose share of {NIMH}'s masks {format_number(upper[NIMH])} vs "
        f"{CAFE}'s {format_number(upper[CAFE])} ({format_signed(-stat)}, permutation "
        f"{p_equals(p_a)}); against their area {format_number(upper_area[NIMH])} "
        f"({format_signed(ex)}, t test {p_equals(p_b)})",
        f"{format_number(upper[NIMH])} vs {format_number(upper[CAFE])} ({CAFE}); area "
        f"{format_number(upper_area[NIMH])}",
        _range([z(se_a, alpha=alpha), z(se_b, len(nimh_img) - 1, alpha)])))
    keys.append("nimh_upper_face")

    nimh_all = per_image[per_image["dataset"] == NIMH].dropna(subset=["mouth"])
    if "neutral" in set(nimh_all["class"]) and nimh_all["class"].nunique() > 1:
        parts, notes, smallest = [], [], []
        for cls, sub in nimh_all.groupby("class", sort=False):
            if cls == "neutral":
                continue
            t = enrichment_test(sub, ["mouth"])
            part, _, p, se = _one_sample(cls, _excess(sub, ["mouth"]), 1,
                                         f"enrichment {format_ratio(t['enrichment'])}")
            parts.append(part)
            notes.append(f"{cls} {format_ratio(t['enrichment'])} ({p_equals(p)})")
            smallest.append(z(se, len(sub) - 1, alpha))
        is_neutral = (nimh_all["class"] == "neutral").to_numpy()
        others = nimh_all.loc[~is_neutral, "mouth"].mean()
        neutral = nimh_all.loc[is_neutral, "mouth"].mean()
        mouth = nimh_all["mouth"].to_numpy(float)
        p_neutral = stratified_permutation_test(
            mouth, ~is_neutral, np.zeros(len(nimh_all)), mean_difference, n_perm=n_perm,
            seed=seed).p_value
        parts.append(direction_part("neutral's share below the others'", others - neutral,
                                    p_neutral,
                                    format_signed(neutral - others)))
        smallest.append(z(_strata_se(mouth, ~is_neutral, np.zeros(len(mouth))), alpha=alpha))
        combined = combine_parts(parts, alpha)
        rows.append(_combined_row(
            claims[3], combined,
            # the images' own masks (the page's per-image enrichment table), not the overlaid
            # map's enrichment of the region-share table: the page says why they differ
            f"{NIMH} mouth enrichment of the images' own masks " + "; ".join(notes)
            + f"; mouth share neutral {format_number(neutral)} vs the other classes "
              f"{format_number(others)} (permutation {p_equals(p_neutral)})",
            "mouth enrichment (images' own masks) " + "; ".join(n.split(" (")[0] for n in notes)
            + f"; neutral {format_number(neutral)} vs {format_number(others)}",
            _range(smallest)))
    else:
        # The claim needs NIMH-ChEFS maps of neutral and of another class; say so, never drop it.
        rows.append({"claim": claims[3], "verdict": NOT_TESTABLE,
                     "evidence": f"{NIMH} maps of neutral and of at least one other class are "
                                 "needed; this run has maps of "
                                 + (", ".join(class_order(nimh_all["class"])) or "no class")})
    keys.append("nimh_mouth_except_neutral")
    return claims_table(rows, keys)


def lime_gender_claims(per_image: pd.DataFrame, alpha: float = 0.05, n_perm: int = 2000,
                       seed: int = 0, margin: float = 0.1
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """"No clear male/female difference in either data set", per data set.

    Rule (:data:`RULE_KINDS` ``"lime_gender"``): per region, the male minus female difference
    of the per-image region shares, averaged over classes, with the two one-sided tests at
    ``margin`` (:func:`region_equivalence`) and the one-sided test that it lies beyond the
    margin; the regions combined as a claim about every region
    (:func:`emo_lib.verdicts.combine_parts`: *supported* when every region is within the
    margin, *contradicted* when one is significantly beyond it after Holm over the regions).
    A region whose share does not vary in either gender (e.g. never in a mask) has an exactly
    known difference: within the margin it counts as equivalent, beyond it as contradicted.
    For scale, the evidence gives the total-variation distance of the share vectors between
    the genders and between CAFE and NIMH-ChEFS (permutation tests, not part of the rule).

    Returns (verdicts, per-(data set, class) distance table, per-(data set, region)
    equivalence table)."""
    age_tab, age_stat, age_p = region_difference_test(per_image, "dataset", CAFE, NIMH,
                                                      ("class",), n_perm, seed)
    rows, keys, tables, equiv = [], [], [], []
    for ds in (CAFE, NIMH):
        sub = per_image[per_image["dataset"] == ds]
        claim = f"{ds}: no clear male/female difference in where the maps lie."
        if sub.empty or not set(GENDERS) <= set(sub["gender"]):
            # every data set keeps its claim (the same claims with every seed), untestable
            rows.append({"claim": claim, "verdict": NOT_TESTABLE,
                         "evidence": f"no LIME maps of both genders in {ds} on this run (too "
                                     "few correctly classified images)"})
            keys.append(f"{PAPER_KEYS[ds]}_no_gender_difference")
            continue
        tab, stat, p = region_difference_test(sub, "gender", "male", "female", ("class",),
                                              n_perm, seed)
        tables.append(tab.assign(dataset=ds, comparison="male vs female"))
        eq = region_equivalence(sub, "gender", "male", "female", margin, ("class",), alpha)
        eq = eq.assign(beyond_p=_beyond_column(eq, margin))
        parts, widths = [], []
        for region, r in eq.iterrows():
            label = REGION_LABELS.get(region, region)
            d = r["difference"]
            if not (r["n_strata"] and np.isfinite(d)):
                parts.append(Part(label, note="too few images of each gender"))
            elif r["se"] == 0:
                parts.append(exact_part(label, exact_equivalence_verdict(d, margin),
                                        f"{format_signed(d)} in every image"))
                widths.append(0.0)
            else:
                parts.append(equivalence_part(label, r["tost_p"], r["beyond_p"],
                                              format_signed(d)))
                widths.append((r["ci_high"] - r["ci_low"]) / 2)
        equiv.append(eq.assign(dataset=ds))
        combined = combine_parts(parts, alpha)
        worst = eq["difference"].abs().idxmax() if eq["difference"].notna().any() else None
        if worst is not None:
            w = eq.loc[worst]
            # the region named in quotes: "outside the face" is a region, not a position
            value = (f"largest male minus female difference, in the region "
                     f"\u201c{REGION_LABELS.get(worst, worst)}\u201d: "
                     f"{format_estimate(w['difference'], w['ci_low'], w['ci_high'], signed=True)}"
                     f" ({format_percent(1 - 2 * alpha)} interval; margin {margin:g})")
        else:
            value = ""
        rows.append(_combined_row(
            claim, combined,
            f"male minus female share per region, {format_percent(1 - 2 * alpha)} interval, margin "
            f"+/-{margin:g}: " + "; ".join(
                f"{REGION_LABELS.get(k, k)} {format_signed(r['difference'])} "
                f"[{format_signed(r['ci_low'])}, {format_signed(r['ci_high'])}]"
                if np.isfinite(r["ci_low"]) else
                f"{REGION_LABELS.get(k, k)} {format_signed(r['difference'])}"
                for k, r in eq.iterrows())
            + f"; for scale, male-female distance of the share vectors {format_number(stat)} "
              f"(permutation {p_equals(p)}), {CAFE}-vs-{NIMH} {format_number(age_stat)} "
              f"({p_equals(age_p)})",
            value, _range(widths)))
        keys.append(f"{PAPER_KEYS[ds]}_no_gender_difference")
    tables.append(age_tab.assign(dataset="both", comparison=f"{CAFE} vs {NIMH}"))
    table = pd.concat(tables, ignore_index=True)
    equivalence = pd.concat(equiv).reset_index().set_index(["dataset", "region"]) if equiv \
        else pd.DataFrame()
    return claims_table(rows, keys), table, equivalence


def _beyond_column(eq: pd.DataFrame, margin: float) -> list[float]:
    """Per region of :func:`region_equivalence`, the one-sided p that the difference lies
    beyond ``margin`` (NaN without spread or data)."""
    out = []
    for _, r in eq.iterrows():
        ok = np.isfinite(r["difference"]) and np.isfinite(r["se"]) and r["se"] > 0
        out.append(float(scipy_stats.t.sf((abs(r["difference"]) - margin) / r["se"], r["df"]))
                   if ok else float("nan"))
    return out


# -------------------------------------------------------------- Figs 5-6: additional training


def _before_after(r: pd.Series) -> str:
    """"0.553 to 0.991": before and after as the paper prints them when the row has them
    (:func:`paper_changes`), with the values derived from its counts beside when they differ
    at the shown decimals; else this run's."""
    counted = f"{format_number(r['before'])} to {format_number(r['after'])}"
    pb, pa = r.get("printed_before", np.nan), r.get("printed_after", np.nan)
    if not (pd.notna(pb) and pd.notna(pa)):
        return counted
    printed = f"{format_number(pb)} to {format_number(pa)}"
    return printed if printed == counted else f"{printed} ({counted} from counts)"


def _change_value(r: pd.Series) -> str:
    """"0.671 to 0.921 (+0.250 [+0.205, +0.295])": before, after, the change with its 95 %
    Wald interval from the paired counts."""
    se = detectable.paired_se(int(r["fixed"]), int(r["broken"]), int(r["n"]))
    half = detectable.from_se(se)
    return (f"{_before_after(r)}: "
            f"{format_estimate(r['change'], r['change'] - half, r['change'] + half, signed=True)}"
            f" ({format_percent(VALUE_LEVEL)} interval)")


def _greatly(sub: pd.DataFrame, side: int, threshold: float, alpha: float
             ) -> tuple[list[Part], list[str], list[float]]:
    """Each class's change tested against ``side`` x ``threshold`` (Tango's score test on its
    paired counts): parts, notes, detectable changes."""
    parts, notes, smallest = [], [], []
    for c, r in sub.iterrows():
        fixed, broken, n = int(r["fixed"]), int(r["broken"]), int(r["n"])
        p = paired_difference_p(fixed, broken, n, side * threshold,
                                alternative="greater" if side > 0 else "less")
        parts.append(threshold_part(c, p, format_signed(r["change"])))
        notes.append(f"{c} {_before_after(r)} ({format_signed(r['change'])}; beyond "
                     f"{format_signed(side * threshold, 1)}: {p_equals(p)})")
        smallest.append(detectable.beyond_threshold(threshold, detectable.paired_se(fixed, broken,
                                                                                    n),
                                                    alpha=alpha))
    return parts, notes, smallest


def training_claims(cafe_paper: pd.DataFrame, gain: Mapping[str, float] | None,
                    nimh_paper: pd.DataFrame, alpha: float = 0.05,
                    threshold: float = GENDER_GAP_THRESHOLD) -> pd.DataFrame:
    """Figs. 5-6's claims, from :func:`paired_changes` tables (McNemar p-values; on the paper's
    own numbers :func:`paper_changes`): training on CAFE lifts CAFE's accuracy, greatly in
    angry, neutral and sad; (beyond the paper) at least a stated share of the gain survives
    subject-disjoint evaluation (``gain``: :func:`gain_share_test`; None: not testable, e.g.
    on the paper's numbers, which have no such evaluation); NIMH-ChEFS's accuracy then falls
    overall and greatly in angry and sad.

    Rules (:data:`RULE_KINDS` ``"training"``): "lifts"/"falls" by McNemar's test; "greatly"
    per named class against a change of ``threshold`` (Tango's score test on the paired
    counts, :func:`emo_lib.stats.paired_difference_p`), the classes combined by
    :func:`emo_lib.verdicts.combine_parts` (a class significantly the other way contradicts,
    named "mixed" when another holds); "the gain survives" by :func:`gain_share_test`."""
    fig5 = paper.paper_value(f"{PAPER}.fig5_cafe_after_additional_training")
    fig6 = paper.paper_value(f"{PAPER}.fig6_nimh_after_additional_training")
    rows, keys = [], []
    o = cafe_paper.loc[OVERALL]
    rows.append({"claim": f"Training on {CAFE} lifts its accuracy (paper "
                          f"{format_number(fig5['before']['overall'])} to "
                          f"{format_number(fig5['after']['overall'])}).",
                 "verdict": direction_verdict(o["change"], o["p_value"], alpha),
                 "evidence": f"{_before_after(o)} on the same images "
                             f"({format_signed(o['change'])}, McNemar {p_equals(o['p_value'])})",
                 "value": _change_value(o),
                 "detectable": _detectable(detectable.paired_change(
                     int(o["fixed"]), int(o["broken"]), int(o["n"]), alpha))})
    keys.append("cafe_gain")
    named = [c for c in fig5["after"] if c != OVERALL and fig5["after"][c] is not None
             and fig5["before"].get(c) is not None]
    present = [c for c in named if c in cafe_paper.index]
    parts, notes, smallest = _greatly(cafe_paper.loc[present], 1, threshold, alpha)
    parts += [Part(c, note="no images of it") for c in named if c not in present]
    combined = combine_parts(parts, alpha)
    rows.append(_combined_row(
        f"{CAFE} gains greatly (by more than {threshold:g}) in {', '.join(named)} (the classes "
        "the paper names).", combined,
        "; ".join(notes) + f"; median change over all classes given "
        f"{format_signed(cafe_paper.drop(index=OVERALL)['change'].median())}",
        "; ".join(f"{c} {format_signed(cafe_paper.loc[c, 'change'])}" for c in present),
        _range(smallest)))
    keys.append("cafe_named_gains")
    claim = (f"(Beyond the paper) At least {format_percent(SURVIVING_SHARE)} of the gain "
             "survives on children the model was not trained on (subject-disjoint folds).")
    if gain is None:
        rows.append({"claim": claim, "verdict": NOT_TESTABLE,
                     "evidence": "no subject-disjoint evaluation (the paper scores the images "
                                 "it trained on)"})
    elif not gain["gain_paper"] > 0:
        rows.append({"claim": claim, "verdict": NOT_TESTABLE,
                     "evidence": f"no gain on the training images to survive "
                                 f"({format_signed(gain['gain_paper'])})"})
    else:
        se, df = gain.get("se", float("nan")), gain.get("df", float("nan"))
        half = detectable.from_se(se, df) if np.isfinite(df) and df > 0 else float("nan")
        rows.append({
            "claim": claim.replace(format_percent(SURVIVING_SHARE),
                                   format_percent(gain["share"])),
            "verdict": direction_verdict(gain["cluster_mean"], gain["p_value"], alpha),
            "evidence": f"gain {format_signed(gain['gain_held_out'])} held out vs "
                        f"{format_signed(gain['gain_paper'])} on the training images: "
                        f"{format_percent(gain['share_observed'])} survives; held-out gain "
                        f"minus {format_percent(gain['share'])} of the training-images gain, "
                        f"per child {format_signed(gain['cluster_mean'])} (t test over "
                        f"{gain['n_clusters']} children, {p_equals(gain['p_value'])})",
            "value": f"{format_percent(gain['share_observed'])} survives "
                     f"({format_signed(gain['gain_held_out'])} of "
                     f"{format_signed(gain['gain_paper'])}); per child "
                     + format_estimate(gain["cluster_mean"], gain["cluster_mean"] - half,
                                       gain["cluster_mean"] + half, signed=True),
            "detectable": _detectable(detectable.from_se(se, df, alpha))
            if np.isfinite(df) and df > 0 else ""})
    keys.append("gain_survives")
    if OVERALL not in nimh_paper.index:
        n = pd.Series({"before": np.nan, "after": np.nan, "change": np.nan, "p_value": np.nan,
                       "fixed": 0, "broken": 0, "n": 0})
    else:
        n = nimh_paper.loc[OVERALL]
    derived = bool(nimh_paper.get("derived", pd.Series(False, index=nimh_paper.index))
                   .get(OVERALL, False))
    rows.append({"claim": f"{NIMH}'s accuracy falls after training on {CAFE} (never trained "
                          "on).",
                 "verdict": direction_verdict(-n["change"], n["p_value"], alpha),
                 "evidence": f"{_before_after(n)} ({format_signed(n['change'])}, McNemar "
                             f"{p_equals(n['p_value'])})"
                             + ("; overall derived from the per-class values and Table 2's "
                                "counts" if derived else ""),
                 "value": (_change_value(n) if n["n"] else "")
                          + (" (after: derived from the per-class values)" if derived else ""),
                 "detectable": _detectable(detectable.paired_change(
                     int(n["fixed"]), int(n["broken"]), int(n["n"]), alpha))})
    keys.append("nimh_falls")
    # The paper singles out the classes that fell "greatly" (angry, sad): those whose drop
    # exceeds the largest rise in its Fig. 6.
    change6 = {c: fig6["after"][c] - fig6["before"][c] for c in fig6["after"]
               if c != OVERALL and fig6["after"][c] is not None}
    largest_rise = max([v for v in change6.values() if v > 0], default=0.0)
    drops = [c for c, v in change6.items() if -v > largest_rise]
    present = [c for c in drops if c in nimh_paper.index]
    parts, notes, smallest = _greatly(nimh_paper.loc[present], -1, threshold, alpha)
    parts += [Part(c, note="no images of it") for c in drops if c not in present]
    combined = combine_parts(parts, alpha)
    rows.append(_combined_row(
        f"{NIMH} falls greatly (by more than {threshold:g}) in {', '.join(drops)} (paper: "
        + ", ".join(f"{c} {format_number(fig6['before'][c])} to "
                    f"{format_number(fig6['after'][c])}" for c in drops) + ").",
        combined, "; ".join(notes),
        "; ".join(f"{c} {format_signed(nimh_paper.loc[c, 'change'])}" for c in present),
        _range(smallest)))
    keys.append("nimh_angry_sad_drop")
    return claims_table(rows, keys)


def paper_not_testable(mine: pd.DataFrame, reason: str) -> pd.DataFrame:
    """A claims table of *not testable* verdicts with the same ids as ``mine``: the paper's
    column where the paper's evidence is not numbers (its LIME pictures)."""
    return claims_table([{"claim": r["claim"], "verdict": NOT_TESTABLE, "evidence": reason,
                          "value": "pictures (read by eye)"}
                         for _, r in mine.iterrows()], list(mine.index))


__all__ = ["RULE_KINDS", "VALUE_LEVEL", "age_claims", "claim_rules", "finish_claims",
           "gender_claims", "lime_age_claims", "lime_gender_claims", "paper_classes",
           "paper_not_testable", "tag_claims", "training_claims"]
