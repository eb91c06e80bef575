"""Noh & Lim's explanation under test (the page after Figs. 5-6): the experiments once per
training seed and the claims they decide.

- :func:`setup_explanation`, :func:`explanation_by_seed`: the re-drawn children
  (:mod:`.redraw`) and the training-set composition (:mod:`.composition`) once per training
  seed, on the synthetic default; on real data or another model it says which part does not
  apply and why. What a seed changes is what it changes on every paper-1 page (the adult
  stand-in's training, :mod:`.seeded`) plus the composition stand-ins' training (pools, split,
  initialisation); the data sets, the re-drawn children among them, are one draw (``seed``),
  drawn once and shared, and a model that does not depend on the seed reads them once;
- :func:`explanation_claims`: "the gap comes from the training set's lack of children" (the
  gap's trend over the share of children), "gender barely matters because the split is
  balanced enough" (does a skewed split move the gender gap?), and, beyond the paper, "with
  every drawn difference removed the synthetic gap closes" (the evidence behind the "by
  construction" tags of :mod:`.construction`); :func:`explanation_verdicts` per seed, tagged
  and with the paper's column, for ``Run.claims``;
- :func:`explanation_rules`: the rules in words, with their parameters.

The claims table follows the contract of CONTRACTS.md (``value``, ``paper_value``,
``detectable``, ``tags``). Not here: the tags of other pages' claims (:mod:`.construction`),
the stability across seeds (:mod:`emo_lib.seeds`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pandas as pd
from tqdm.auto import tqdm

from ..classifier import TorchClassifier
from ..formatting import readable_columns
from ..seeds import check_seeds
from ..verdicts import (
    CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, SUPPORTED, claims_table, direction_verdict,
    p_equals, with_paper_verdicts,
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
from .seeded import setup_seeds
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
    """One training seed's experiments (``seed``: the seed of the adult stand-in, when it takes
    one, and of the composition stand-ins). ``redraw_note`` / ``composition_note`` say why a
    part did not run (empty when it ran)."""

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


@dataclass
class ExplanationSeeds:
    """The experiments once per training seed, in the order of the page's ``seeds``: the
    first seed's run is the one the page draws; ``timings`` (part -> {"wall": s, "cpu": s})
    says where the time of the whole execution went, shared parts once."""

    runs: dict[int, ExplanationRun]
    timings: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def first(self) -> ExplanationRun:
        return next(iter(self.runs.values()))

    def claims(self) -> dict[int, pd.DataFrame]:
        """{seed: that seed's claims table} (:func:`explanation_claims`)."""
        return {s: r.claims for s, r in self.runs.items()}


def _synthetic(dataset: str) -> bool:
    return dataset.startswith("synthetic:")


def composition_runs(seeds: Sequence[int], *, child_shares: Sequence[float],
                     skewed_male_share: float | None, pretraining: Mapping[str, Any],
                     pools: Mapping[str, int], image_size: int
                     ) -> dict[int, tuple[dict[str, dict[str, Any]], dict[str, Any]]]:
    """{training seed: (the composition sets, the stand-ins' options)}: what the page trains
    per seed (its pools are drawn as the test sets are, at ``image_size``); the build's
    prerequisites (:mod:`.prerequisites`) ask for the same."""
    sets = composition_sets(child_shares, skewed_male_share,
                            {**dict(pools), "image_size": image_size})
    return {s: (sets, {"seed": s, **dict(pretraining)}) for s in check_seeds(list(seeds))}


def composition_takes_seed(model: str, pretraining: Mapping[str, Any]) -> bool:
    """Whether the page's seeds retrain the composition stand-ins: they run for the stand-in
    only, and take the seed unless ``pretraining`` fixes one of its own."""
    return model == "standin" and "seed" not in pretraining


def setup_explanation(run: Any, *, model: str, model_options: Mapping[str, Any] | None,
                      pretraining: Mapping[str, Any],
                      datasets: Mapping[str, tuple[str, str | None, Mapping[str, Any] | None]],
                      image_size: int, seed: int, seeds: Sequence[int], progress: bool = False
                      ) -> tuple[dict[int, TorchClassifier], dict[str, FaceSet]]:
    """:func:`.seeded.setup_seeds` for this page: the adult model per seed as on every paper-1
    page (the stand-in trained with each seed, a fixed model shared), the data sets drawn once
    with ``seed``, and the seed note naming what a seed changes here (the composition stand-ins
    too, when they take the seed)."""
    kind = "explanation" if composition_takes_seed(model, pretraining) else "accuracy"
    return setup_seeds(run, model=model, model_options=model_options, datasets=datasets,
                       image_size=image_size, seed=seed, seeds=seeds, kind=kind,
                       progress=progress)


def explanation_by_seed(*, seeds: Sequence[int], seed: int,
                        datasets: Mapping[str, tuple[str, str | None, Mapping[str, Any] | None]],
                        nets: Mapping[int, TorchClassifier], model: str, image_size: int,
                        mechanisms: Sequence[str] | None, child_shares: Sequence[float],
                        skewed_male_share: float | None, pretraining: Mapping[str, Any],
                        pools: Mapping[str, int], faces: Mapping[str, FaceSet] | None = None,
                        alpha: float = 0.05, margin: float = EXPLANATION_MARGIN,
                        device: str = "cpu", progress: bool = False) -> ExplanationSeeds:
    """Both experiments once per training seed of ``seeds``, then :func:`explanation_claims`
    per seed.

    ``datasets`` maps CAFE and NIMH-ChEFS to (dataset, root, options) as on every paper-1
    page, drawn with ``seed`` (one draw, shared by every training seed); ``nets``: the adult
    model per training seed (:func:`setup_explanation`; a fixed model is one object for every
    seed); ``faces``: the page's face sets at the models' input size, when loaded (else loaded
    here). ``baseline``: each model's gap on the page's data, on any data. The re-drawing
    needs both sets synthetic: each re-drawn set is drawn once and read by each distinct model.
    The composition experiment needs the stand-in (the only model whose training set the book
    can change): its test sets are loaded once, its stand-ins trained per seed (the seed of
    their pools, split and initialisation)."""
    seeds = check_seeds(list(seeds))
    missing = [s for s in seeds if s not in nets]
    if missing:
        raise ValueError(f"nets has no model for seed(s) {missing}: give one per seed of "
                         f"{seeds} (setup_explanation)")
    out = ExplanationSeeds({s: ExplanationRun(seed=s, alpha=alpha,
                                              skewed_male_share=skewed_male_share)
                            for s in seeds})
    runs, clock = out.runs, _Clock(out.timings)
    models = {id(nets[s]): nets[s] for s in seeds}   # a fixed model reads each set once
    first = nets[seeds[0]]
    sizes = {net.input_size for net in models.values()}
    if len(sizes) > 1:
        raise ValueError(f"the seeds' models take different input sizes {sorted(sizes)}: "
                         "give every seed the same model options")
    (cafe_ds, cafe_root, cafe_opts), (nimh_ds, nimh_root, nimh_opts) = \
        datasets[CAFE], datasets[NIMH]

    def load(ds: str, root: str | None, opts: Mapping[str, Any] | None, size: int) -> FaceSet:
        return load_faces(ds, root, opts, size=size, image_size=image_size, seed=seed,
                          device=device, progress=progress)

    page = dict(faces) if faces is not None else {
        CAFE: load(cafe_ds, cafe_root, cafe_opts, first.input_size),
        NIMH: load(nimh_ds, nimh_root, nimh_opts, first.input_size)}
    children = {key: {AS_DRAWN: predict_frame(net, page[CAFE], CAFE)}
                for key, net in models.items()}
    adolescents = {key: predict_frame(net, page[NIMH], NIMH) for key, net in models.items()}
    for s in seeds:
        kids, teens = children[id(nets[s])][AS_DRAWN], adolescents[id(nets[s])]
        runs[s].baseline = contrast(correct(kids), kids["subject_id"], correct(teens),
                                    teens["subject_id"], alpha)
    clock.lap("the model on the page's data" if len(models) == 1 else
              f"the {len(models)} models on the page's data")
    if _synthetic(cafe_ds) and _synthetic(nimh_ds):
        conditions = redraw_conditions(mechanisms)
        for c in conditions:
            if c.name == AS_DRAWN:
                continue
            redrawn = load(cafe_ds, cafe_root, {**dict(cafe_opts or {}), **c.options},
                           first.input_size)
            for key, net in models.items():
                children[key][c.name] = predict_frame(net, redrawn, CAFE)
            del redrawn
        for s in seeds:
            r = runs[s]
            r.redraw, r.gaps, r.changes = redraw_table(children[id(nets[s])],
                                                       adolescents[id(nets[s])], conditions,
                                                       alpha)
        clock.lap(f"re-drawing ({len(conditions) - 1} sets drawn, cropped, read"
                  + ("" if len(models) == 1 else f" by {len(models)} models") + ")")
    else:
        for r in runs.values():
            r.redraw_note = ("the re-drawing needs the generator: on real photographs no "
                             "difference between the two sets can be drawn again with another "
                             "value")
    if model == "standin":
        size = int(pretraining.get("size", 64))
        test = page if size == first.input_size else {
            CAFE: load(cafe_ds, cafe_root, cafe_opts, size),
            NIMH: load(nimh_ds, nimh_root, nimh_opts, size)}
        # the pools are drawn as the test sets are (image_size), then cropped at the budget's
        # size: at the defaults the adult pool is the seed's adult stand-in's own cached set
        plan = composition_runs(seeds, child_shares=child_shares,
                                skewed_male_share=skewed_male_share, pretraining=pretraining,
                                pools=pools, image_size=image_size)
        for s in tqdm(seeds, desc="composition per seed", disable=not progress or len(seeds) < 2):
            sets, options = plan[s]
            _composition(runs[s], sets, test, options, skewed_male_share, alpha, device,
                         progress)
            clock.lap(f"composition, seed {s} ({len(sets)} stand-ins, their pools and "
                      "predictions)")
    else:
        for r in runs.values():
            r.composition_note = (
                f"the composition experiment retrains the model on sets of another make-up; "
                f"the book can do that for its stand-in only, not for {model} (its pretraining "
                f"data, VGGFace2 and AffectNet, are not part of the book)")
    for r in runs.values():
        r.claims = explanation_claims(r, margin=margin)
    clock.lap("claims")
    return out


def _composition(out: ExplanationRun, sets: Mapping[str, Mapping[str, Any]],
                 test: Mapping[str, FaceSet], model_options: Mapping[str, Any],
                 skewed_male_share: float | None, alpha: float, device: str,
                 progress: bool) -> None:
    """One seed's composition stand-ins (``model_options``: the budget and seed), their
    predictions on ``test`` and the tables and trends they give, into ``out``."""
    preds, out.compositions = composition_predictions(
        sets, test, model_options=model_options, device=device, progress=progress)
    by_share = {name: comp["child_share"] for name, comp in sets.items()
                if "male_share" not in comp}
    out.shares = share_table(preds, by_share, alpha)
    out.trends = share_trends(preds, by_share, alpha)
    out.trend = out.trends["gap"]
    out.gender = gender_table(preds, alpha)
    if skewed_male_share is not None:
        baseline = next(n for n, s in by_share.items() if s == 0.0)
        out.skew = skew_effect(preds[baseline], preds[skew_name(skewed_male_share)], alpha)


class _Clock:
    """Wall and CPU seconds per part of :func:`explanation_by_seed`."""

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


def explanation_verdicts(claims_by_seed: Mapping[int, pd.DataFrame], *, synthetic: bool
                         ) -> dict[int, pd.DataFrame]:
    """Per seed, the claims as the page hands them to ``Run.claims``: tagged "by construction"
    where the generator decides them (:func:`.construction.tag`, synthetic data only), with the
    paper's column (:func:`paper_explanation_claims`) beside."""
    from .construction import tag      # construction reads this module's labels

    return {s: with_paper_verdicts(tag(c, synthetic=synthetic), paper_explanation_claims(c))
            for s, c in claims_by_seed.items()}


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


#: Column keys of the explanation page's tables and the words a reader sees instead (the
#: intervals' level is added by :func:`explanation_table`).
EXPLANATION_LABELS: dict[str, str] = {
    "contains_0": "interval contains 0", "share_of_gap": "share of the gap",
    "gap_p_value": "gap p-value", "p_value": "p-value", "child_share": "share of children",
    "male_share": "share of men", "heldout_accuracy": "held-out accuracy",
    "claim_id": "claim", "n_images": "images",
}


def explanation_table(frame: pd.DataFrame, level: float | None = None) -> pd.DataFrame:
    """One of the explanation page's tables as a reader reads it: headers in words
    (:data:`EXPLANATION_LABELS`; ``ci_low``/``gap_ci_low`` as the ``level`` interval's ends),
    True/False as yes/no. The CSV keeps the keys."""
    return readable_columns(frame, EXPLANATION_LABELS, level, {
        "ci_low": "{interval} low", "ci_high": "{interval} high",
        "gap_ci_low": "gap, {interval} low", "gap_ci_high": "gap, {interval} high"})


__all__ = ["CLAIM_IDS", "COMPOSITION_LABEL", "DESCRIPTIVE", "EXPLANATION_LABELS",
           "EXPLANATION_MARGIN", "ExplanationRun", "ExplanationSeeds", "GENDER_LABEL",
           "REDRAW_LABEL", "composition_runs", "composition_takes_seed", "explanation_by_seed",
           "explanation_claims", "explanation_rules", "explanation_table",
           "explanation_verdicts", "paper_explanation_claims", "setup_explanation"]
