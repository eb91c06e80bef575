"""Noh & Lim's explanation under test (the page after Figs. 5-6): one seed's experiments and
the claims they decide.

- :func:`run_explanation`: the re-drawn children (:mod:`.redraw`) and the training-set
  composition (:mod:`.composition`) for one seed, on the synthetic default; on real data or
  another model it says which part does not apply and why;
- :func:`explanation_claims`: "the gap comes from the training set's lack of children" (the
  gap's trend over the share of children), "gender barely matters because the split is
  balanced enough" (does a skewed split move the gender gap?), and, beyond the paper, "with
  every drawn difference removed the synthetic gap closes" (the evidence behind the "by
  construction" tags of :mod:`.construction`);
- :func:`explanation_rules`: the rules in words, with their parameters.

The claims table follows the contract of CONTRACTS.md (``value``, ``paper_value``,
``detectable``, ``tags``). Not here: the tags of other pages' claims (:mod:`.construction`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pandas as pd

from ..verdicts import (
    CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, SUPPORTED, claims_table, direction_verdict,
    p_equals,
)
from .accuracy import OVERALL_GENDER_MARGIN
from .composition import (
    composition_predictions, composition_sets, gender_table, percent, share_table, share_trends,
    skew_effect, skew_name, vggface2_shares,
)
from ..faces import FaceSet
from .contrasts import Contrast, contrast, correct
from .names import CAFE, NIMH
from .redraw import AS_DRAWN, EVERYTHING, redraw_conditions, redraw_table
from .setup import load_faces, predict_frame

#: Equivalence margin of "the gap closes" and "the skew leaves the gender gap alone": the
#: book's margin for "differ little" (:data:`.accuracy.OVERALL_GENDER_MARGIN`), fixed before
#: any run of this page.
EXPLANATION_MARGIN = OVERALL_GENDER_MARGIN
#: Tag of a claim the paper's numbers cannot test (CONTRACTS.md).
DESCRIPTIVE = "descriptive only"
#: MyST labels of the page's sections (links from the "by construction" tags).
REDRAW_LABEL, COMPOSITION_LABEL, GENDER_LABEL = (
    "noh2023-explanation-redraw", "noh2023-explanation-composition",
    "noh2023-explanation-gender")

CLAIM_IDS = ("explanation_children", "explanation_gender", "explanation_redraw_closes")


@dataclass
class ExplanationRun:
    """One seed's experiments. ``redraw_note`` / ``composition_note`` say why a part did not
    run (empty when it ran)."""

    seed: int
    alpha: float
    baseline: Contrast | None = None
    redraw: pd.DataFrame | None = None
    gaps: dict[str, Contrast] = field(default_factory=dict)
    changes: dict[str, Contrast] = field(default_factory=dict)
    compositions: pd.DataFrame | None = None
    shares: pd.DataFrame | None = None
    trend: Contrast | None = None
    trends: dict[str, Contrast] = field(default_factory=dict)
    gender: pd.DataFrame | None = None
    skew: Contrast | None = None
    skewed_male_share: float | None = None
    redraw_note: str = ""
    composition_note: str = ""
    claims: pd.DataFrame | None = None
    #: part -> {"wall": s, "cpu": s}: where the time went (the page records it)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)


def _synthetic(dataset: str) -> bool:
    return dataset.startswith("synthetic:")


def run_explanation(*, seed: int, datasets: Mapping[str, tuple[str, str | None,
                                                                Mapping[str, Any] | None]],
                    net: Any, model: str, image_size: int, mechanisms: Sequence[str] | None,
                    child_shares: Sequence[float], skewed_male_share: float | None,
                    pretraining: Mapping[str, Any], pools: Mapping[str, int],
                    faces: Mapping[str, FaceSet] | None = None, alpha: float = 0.05,
                    margin: float = EXPLANATION_MARGIN, device: str = "cpu",
                    progress: bool = False) -> ExplanationRun:
    """Both experiments for one ``seed`` (the seed of the test sets' draw and of the
    composition stand-ins' pools and training): ``datasets`` maps CAFE and NIMH-ChEFS to
    (dataset, root, options) as on every paper-1 page; ``net`` is the page's model (the
    re-drawn children are evaluated with it) and ``faces`` the page's face sets at its input
    size, when already loaded for this seed (else they are loaded here). ``baseline``: the
    gap of ``net`` on the page's data, on any data. The re-drawing needs both sets synthetic;
    the composition experiment needs the stand-in (the only model whose training set the book
    can change). Then :func:`explanation_claims`."""
    out = ExplanationRun(seed=seed, alpha=alpha, skewed_male_share=skewed_male_share)
    clock = _Clock(out.timings)
    (cafe_ds, cafe_root, cafe_opts), (nimh_ds, nimh_root, nimh_opts) = \
        datasets[CAFE], datasets[NIMH]

    def load(ds: str, root: str | None, opts: Mapping[str, Any] | None, size: int) -> FaceSet:
        return load_faces(ds, root, opts, size=size, image_size=image_size, seed=seed,
                          device=device, progress=progress)

    page = dict(faces) if faces is not None else {
        CAFE: load(cafe_ds, cafe_root, cafe_opts, net.input_size),
        NIMH: load(nimh_ds, nimh_root, nimh_opts, net.input_size)}
    children = {AS_DRAWN: predict_frame(net, page[CAFE], CAFE)}
    adolescents = predict_frame(net, page[NIMH], NIMH)
    out.baseline = contrast(correct(children[AS_DRAWN]), children[AS_DRAWN]["subject_id"],
                            correct(adolescents), adolescents["subject_id"], alpha)
    clock.lap("the model on the page's data")
    if _synthetic(cafe_ds) and _synthetic(nimh_ds):
        conditions = redraw_conditions(mechanisms)
        for c in conditions:
            if c.name not in children:
                redrawn = load(cafe_ds, cafe_root, {**dict(cafe_opts or {}), **c.options},
                               net.input_size)
                children[c.name] = predict_frame(net, redrawn, CAFE)
        out.redraw, out.gaps, out.changes = redraw_table(children, adolescents, conditions,
                                                         alpha)
        clock.lap(f"re-drawing ({len(conditions) - 1} sets drawn, cropped, read)")
    else:
        out.redraw_note = ("the re-drawing needs the generator: on real photographs no "
                           "difference between the two sets can be drawn again with another "
                           "value")
    if model == "standin":
        size = int(pretraining.get("size", 64))
        test = page if size == net.input_size else {
            CAFE: load(cafe_ds, cafe_root, cafe_opts, size),
            NIMH: load(nimh_ds, nimh_root, nimh_opts, size)}
        # the pools are drawn as the test sets are (image_size), then cropped at the budget's
        # size: at the defaults the adult pool is the adult stand-in's own cached set
        sets = composition_sets(child_shares, skewed_male_share,
                                {**dict(pools), "image_size": image_size})
        preds, out.compositions = composition_predictions(
            sets, test, model_options={"seed": seed, **dict(pretraining)}, device=device,
            progress=progress)
        by_share = {name: comp["child_share"] for name, comp in sets.items()
                    if "male_share" not in comp}
        out.shares = share_table(preds, by_share, alpha)
        out.trends = share_trends(preds, by_share, alpha)
        out.trend = out.trends["gap"]
        out.gender = gender_table(preds, alpha)
        if skewed_male_share is not None:
            baseline = next(n for n, s in by_share.items() if s == 0.0)
            out.skew = skew_effect(preds[baseline], preds[skew_name(skewed_male_share)], alpha)
        clock.lap(f"composition ({len(sets)} stand-ins, their pools and predictions)")
    else:
        out.composition_note = (f"the composition experiment retrains the model on sets of "
                                f"another make-up; the book can do that for its stand-in only, "
                                f"not for {model} (its pretraining data, VGGFace2 and AffectNet, "
                                f"are not part of the book)")
    out.claims = explanation_claims(out, margin=margin)
    clock.lap("claims")
    return out


class _Clock:
    """Wall and CPU seconds per part of :func:`run_explanation`."""

    def __init__(self, into: dict[str, dict[str, float]]) -> None:
        self.into, self.wall, self.cpu = into, time.perf_counter(), time.process_time()

    def lap(self, part: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.into[part] = {"wall": round(wall - self.wall, 2), "cpu": round(cpu - self.cpu, 2)}
        self.wall, self.cpu = wall, cpu


def explanation_claims(run: ExplanationRun, margin: float = EXPLANATION_MARGIN) -> pd.DataFrame:
    """The three claims of :data:`CLAIM_IDS` from one :class:`ExplanationRun` (rules:
    :func:`explanation_rules`); a part that did not run makes its claim *not testable*, with
    the reason."""
    alpha = run.alpha
    v = vggface2_shares()
    rows = []

    # 1. the children's share
    claim = ("The gap comes from the training set's lack of children: as the share of "
             "children in the pretraining set rises (the total held), children are read better "
             f"and the gap between {CAFE} and {NIMH} shrinks.")
    paper_value = (f"VGGFace2 ages 0-12 {percent(v['age_0_12'])}, 13-17 "
                   f"{percent(v['age_13_17'])} of its images (no experiment)")
    if run.trend is None:
        rows.append({"claim": claim, "verdict": NOT_TESTABLE, "evidence": run.composition_note,
                     "value": "", "paper_value": paper_value, "detectable": "",
                     "tags": DESCRIPTIVE})
    else:
        t, s = run.trend, run.shares
        kids, teens = run.trends[CAFE], run.trends[NIMH]
        first, last = s.iloc[0], s.iloc[-1]
        gap_v = direction_verdict(t.estimate, t.p_value, alpha)
        kids_v = direction_verdict(kids.estimate, kids.p_value, alpha)
        verdict = SUPPORTED if gap_v == kids_v == SUPPORTED else \
            CONTRADICTED if CONTRADICTED in (gap_v, kids_v) else INCONCLUSIVE
        rows.append({
            "claim": claim, "verdict": verdict,
            "evidence": (f"gap {first['gap']:+.3f} with {percent(first['child_share'])} children, "
                         f"{last['gap']:+.3f} with {percent(last['child_share'])}; linear trend "
                         f"over that range {t.text()} ({p_equals(t.p_value)}); of which the "
                         f"children's accuracy {kids.text()} ({p_equals(kids.p_value)}), the "
                         f"adolescents' {teens.text()} ({p_equals(teens.p_value)}); "
                         f"subject-clustered, the {len(s)} stand-ins held fixed"),
            "value": (f"gap {first['gap']:+.3f} -> {last['gap']:+.3f}; trend {t.text()}"),
            "paper_value": paper_value, "detectable": f"{t.detectable:.3f}",
            "tags": DESCRIPTIVE})

    # 2. gender balance
    skew_share = run.skewed_male_share
    claim = ("Gender barely matters because the pretraining set's gender split is balanced "
             f"enough ({percent(v['male'])} male, {percent(v['female'])} female): a skewed split "
             "would "
             "open a gender gap.")
    paper_value = (f"VGGFace2 {percent(v['male'])} male, {percent(v['female'])} female (no "
                   "experiment)")
    tags = DESCRIPTIVE   # "by construction" comes from .construction.tag, like every page's
    if run.skew is None:
        reason = run.composition_note or "no skewed set was trained (skewed_male_share is None)"
        rows.append({"claim": claim, "verdict": NOT_TESTABLE, "evidence": reason, "value": "",
                     "paper_value": paper_value, "detectable": "", "tags": tags})
    else:
        k = run.skew
        tost, beyond = k.tost_p(margin), k.beyond_p(margin)
        if k.p_value < alpha and k.estimate > 0:
            verdict = SUPPORTED
        elif tost < alpha or (k.p_value < alpha and k.estimate < 0):
            verdict = CONTRADICTED
        else:
            verdict = INCONCLUSIVE
        both = run.gender[run.gender["dataset"] == "both"].set_index("set")
        base = both.iloc[0]
        skewed = both.loc[skew_name(skew_share)]
        rows.append({
            "claim": claim, "verdict": verdict,
            "evidence": (f"male minus female (both sets pooled) {base['gap']:+.3f} with the "
                         f"default split, {skewed['gap']:+.3f} with {percent(skew_share)} men; the "
                         f"skew moves it by {k.text()} ({p_equals(k.p_value)}; within "
                         f"+/-{margin}: TOST {p_equals(tost)}; beyond: {p_equals(beyond)})"),
            "value": f"gender gap {base['gap']:+.3f} -> {skewed['gap']:+.3f}; move {k.text()}",
            "paper_value": paper_value, "detectable": f"{k.detectable:.3f}", "tags": tags})

    # 3. the re-drawing closes the gap (beyond the paper)
    claim = ("(Beyond the paper) On the synthetic faces the gap is the generator's doing: "
             "removing every difference it draws between the two sets closes the gap (to "
             f"within +/-{margin}).")
    if EVERYTHING not in run.gaps:
        rows.append({"claim": claim, "verdict": NOT_TESTABLE, "evidence": run.redraw_note,
                     "value": "", "paper_value": "", "detectable": "", "tags": ""})
    else:
        g, g0, moved = run.gaps[EVERYTHING], run.gaps[AS_DRAWN], run.changes[EVERYTHING]
        tost, beyond = g.tost_p(margin), g.beyond_p(margin)
        toward_zero = moved.estimate * (-1 if g0.estimate > 0 else 1)
        if tost < alpha and toward_zero > 0 and moved.p_value < alpha:
            verdict = SUPPORTED
        elif beyond < alpha:
            verdict = CONTRADICTED
        else:
            verdict = INCONCLUSIVE
        rows.append({
            "claim": claim, "verdict": verdict,
            "evidence": (f"gap as drawn {g0.text()}; with every age mechanism and the mouth "
                         f"variants drawn as the adolescents' {g.text()} (interval "
                         f"{'contains' if g.contains_zero else 'excludes'} 0; within "
                         f"+/-{margin}: TOST {p_equals(tost)}; beyond: {p_equals(beyond)}); "
                         f"the removal moves the gap by {moved.text()} on the same children "
                         f"({p_equals(moved.p_value)})"),
            "value": f"{g0.text()} -> {g.text()}", "paper_value": "",
            "detectable": f"{g.detectable:.3f}", "tags": ""})
    return claims_table(rows, list(CLAIM_IDS))


def paper_explanation_claims(mine: pd.DataFrame) -> pd.DataFrame:
    """The paper's column: its explanation rests on VGGFace2's shares, not on an experiment,
    so no rule can be applied to its numbers (*not testable*)."""
    reason = ("the paper cites VGGFace2's shares and reasons from them; it reports no "
              "experiment that varies them")
    return claims_table([{"claim": r["claim"], "verdict": NOT_TESTABLE,
                          "evidence": reason if not r["claim"].startswith("(Beyond")
                          else "not a claim of the paper"}
                         for _, r in mine.iterrows()], list(mine.index))


def explanation_rules(alpha: float = 0.05, margin: float = EXPLANATION_MARGIN,
                      skewed_male_share: float | None = 0.9) -> str:
    """The three rules in words, each with its parameters (printed under the claims)."""
    skew = "a skewed split" if skewed_male_share is None else f"{percent(skewed_male_share)} men"
    lines = [
        f"- *The lack of children*: *supported* when, over the shares of children tested, the "
        f"gap's linear trend moves it toward 0 and the children's own accuracy rises, each "
        f"with p < {alpha} (a gap that shrinks only because adolescents are read worse is not "
        f"the paper's mechanism); *contradicted* when the gap widens or the children's "
        f"accuracy falls with p < {alpha}; else *inconclusive*. The intervals cluster images by "
        "subject and hold the trained models fixed (another seed retrains them).",
        f"- *Balanced enough*: *supported* when training on {skew} moves the male-minus-female "
        f"gap toward men with p < {alpha} (the split matters, so a balanced one can keep the "
        f"gap small); *contradicted* when the move lies within +/-{margin} (two one-sided "
        f"tests, p < {alpha}: the split does not matter, so it cannot be what keeps the gap "
        f"small) or goes the other way with p < {alpha}; else *inconclusive*.",
        f"- *The gap closes* (beyond the paper): *supported* when removing every drawn "
        f"difference moves the gap toward 0 (paired on the same children, p < {alpha}) and "
        f"leaves it within +/-{margin} (two one-sided tests, p < {alpha}); *contradicted* "
        f"when what is left lies beyond +/-{margin} (one-sided, p < {alpha}); else "
        "*inconclusive*.",
        "- The paper gives VGGFace2's shares and no experiment on them: its column is *not "
        "testable* (tagged *descriptive only*).",
    ]
    return "**How the verdicts are reached.**\n\n" + "\n".join(lines)


__all__ = ["CLAIM_IDS", "COMPOSITION_LABEL", "DESCRIPTIVE", "EXPLANATION_MARGIN",
           "ExplanationRun", "GENDER_LABEL", "REDRAW_LABEL", "explanation_claims",
           "explanation_rules", "paper_explanation_claims", "run_explanation"]
