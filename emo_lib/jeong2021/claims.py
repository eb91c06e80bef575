"""Jeong & Kim's claims (paper_values ``claims``), each judged on this run's folds with the
corrected paired t and Holm's correction, and, with the same rules, on the paper's own numbers.

What each claim compares (the paper's direction first; macro F1 unless said):

- ``proposed_gain_b0``: the proposed method against the no-augmentation baseline, both with the
  reference model (the paper's EfficientNet-B0, or the model playing its role) and focal loss;
- ``gain_b5``: the largest model with the proposed method against the reference model's
  baseline (the paper: EfficientNet-B5 against B0); not testable when the run has no model
  larger than the reference;
- ``b0_beats_others``: the reference model against every other model of the sweep, in macro F1
  and accuracy, in every (transform, loss) cell;
- ``focal_beats_ce``: with the reference model, focal loss against cross entropy for every
  transform but no augmentation and the paper's exceptions (random flip, random height);
- ``augmentation_helps``: Tables 2-3, for every (model, loss) of the sweep, the augmented rows
  against the no-augmentation row: per fold, the mean macro F1 over every transform the run
  tries (a transform's fold counted where it did not collapse) minus the no-augmentation
  fold's; one part per (model, loss), the claim about every part (the mean over the
  transforms, not the best one: picking the best of several rows would favour the claim);
- ``over_sampling_gain``: Table 4, plain over-sampling against the baseline (reference model);
- ``proposed_beats_over_sampling``: Table 4, the proposed method against plain over-sampling;
- ``gain_grows_with_size``: Fig. 5, macro F1 of the proposed method across the scaled family
  in size order: per fold, the least-squares slope of macro F1 against the size step (0, 1,
  2...: one compound-scaling step each), tested against 0 with the corrected t (one-sided in
  the paper's direction is not used: two-sided, as every comparison here);
- ``accuracy_kept``: "without loss of accuracy", Table 4's proposed method against the
  baseline in accuracy, an equivalence claim: the two one-sided corrected t tests within
  +/- :data:`ACCURACY_MARGIN`.

Each comparison is :func:`emo_lib.jeong2021.foldstats.compare_cells` (learning folds only); the
p-values of one claim's comparisons are Holm-corrected together; each comparison's verdict is
:func:`emo_lib.verdicts.direction_verdict` on the corrected p, and a claim with several
comparisons combines them with :func:`emo_lib.verdicts.each_verdict`. The paper reports one
mean per cell, no fold scores: on its numbers the tests cannot run (*not testable*), and the
evidence gives the direction its means take.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import detectable as detect
from .. import paper
from ..formatting import format_number
from ..stats import holm
from ..verdicts import (
    CONTRADICTED, NOT_TESTABLE, SUPPORTED, claims_table, combine_parts, direction_verdict,
    each_verdict, format_p,
)
from .foldstats import (
    Comparison, compare_cells, comparison_equivalence_part, select_rows,
)
from .names import (
    METRICS, NO_AUGMENTATION, PAPER, PAPER_REFERENCE_MODEL, SWEEP_TABLES, model_label,
)
from .tables import paper_gain, paper_sweep, paper_table4

CLAIM_IDS: tuple[str, ...] = ("proposed_gain_b0", "gain_b5", "b0_beats_others",
                              "focal_beats_ce", "augmentation_helps", "over_sampling_gain",
                              "proposed_beats_over_sampling", "gain_grows_with_size",
                              "accuracy_kept")
#: "Without loss of accuracy": the equivalence margin on accuracy (2 points: four times the
#: 0.5-point drop the paper's own Table 4 shows, a change a reader would call a loss).
ACCURACY_MARGIN = 0.02
#: The transforms the paper names as exceptions in its focal-vs-cross-entropy claim.
FOCAL_EXCEPTIONS: tuple[str, ...] = ("random_flip", "random_height")
#: The rules printed under every paper-2 claims table (:func:`emo_lib.verdicts.rules_markdown`).
#: (Table 4's page adds ``"equivalence"``, with :data:`ACCURACY_MARGIN`, for ``accuracy_kept``.)
RULE_KINDS: tuple[str, ...] = ("collapse", "folds", "direction", "each", "detectable",
                               "paper_means")
#: Columns of :func:`claim_comparisons`.
COMPARISON_COLUMNS: tuple[str, ...] = ("claim_id", "comparison", "metric", "folds", "excluded",
                                       "mean_a", "mean_b", "difference", "ci_low", "ci_high",
                                       "p", "p_holm", "verdict", "detectable",
                                       "paper_difference")


def _claim_texts() -> dict[str, str]:
    texts = paper.paper_value(f"{PAPER}.claims")
    if len(texts) != len(CLAIM_IDS):
        raise ValueError(f"paper_values.yaml lists {len(texts)} jeong2021 claims, "
                         f"emo_lib.jeong2021 knows {len(CLAIM_IDS)}: update CLAIM_IDS")
    return dict(zip(CLAIM_IDS, texts))


def _role(model: str) -> str:
    return (model_label(model) if model == PAPER_REFERENCE_MODEL
            else f"{model_label(model)} (in EfficientNet-B0's role)")


def _judge(claim_id: str, comparisons: Sequence[Comparison], alpha: float,
           paper_differences: Sequence[float] | None = None) -> pd.DataFrame:
    """One row per comparison: its numbers, the Holm-corrected p over the claim's comparisons,
    its direction verdict, the smallest difference it could have called significant
    (``detectable``: the corrected t's standard error times t at Holm's strictest level,
    alpha / m for m comparisons) and the paper's difference for it (COMPARISON_COLUMNS)."""
    p = np.array([c.test.p_value for c in comparisons], dtype=float)
    adjusted = holm(p) if len(p) else p
    m = max(len(comparisons), 1)
    theirs = list(paper_differences) if paper_differences is not None else \
        [float("nan")] * len(comparisons)
    return pd.DataFrame([{
        "claim_id": claim_id, "comparison": c.label, "metric": None, "folds": c.folds,
        "excluded": c.excluded, "mean_a": c.mean_a, "mean_b": c.mean_b,
        "difference": c.difference, "ci_low": c.test.ci_low,
        "ci_high": c.test.ci_high, "p": c.test.p_value, "p_holm": ph,
        "verdict": direction_verdict(c.difference, ph, alpha),
        "detectable": detect.from_se(c.test.se, c.test.df, alpha / m),
        "paper_difference": pd_}
        for c, ph, pd_ in zip(comparisons, adjusted, theirs)], columns=list(COMPARISON_COLUMNS))


def _detectable_text(judged: pd.DataFrame) -> str:
    """The ``detectable`` column of a claim: "0.081" or "0.081 to 0.212" over its comparisons
    ("" when none could be tested)."""
    v = [float(x) for x in judged.get("detectable", []) if np.isfinite(x)]
    if not v:
        return ""
    lo, hi = format_number(min(v)), format_number(max(v))
    return lo if lo == hi else f"{lo} to {hi}"


def _could_not(judged: pd.DataFrame, verdict: str) -> str:
    """For an inconclusive claim: what its design could not have seen."""
    text = _detectable_text(judged)
    if verdict != "inconclusive" or not text:
        return ""
    return f" This design could not have called a difference smaller than {text} significant."


def _signed(x: float) -> str:
    return f"{x:+.3f}" if np.isfinite(x) else "n/a (no learning folds)"


def _one(label: str, a: pd.DataFrame, b: pd.DataFrame, metric: str, alpha: float
         ) -> Comparison:
    return compare_cells(a, b, metric, label=label, alpha=alpha)


def _gain(results: pd.DataFrame | None, model: str, reference: str, alpha: float
          ) -> tuple[list[Comparison], list[str], str]:
    """(comparisons, metric per comparison, a sentence on accuracy) of ``model``'s proposed
    method against ``reference``'s baseline."""
    base = select_rows(results, method="baseline", model=reference)
    other = select_rows(results, method="proposed", model=model)
    if base.empty or other.empty:
        return [], [], ""
    f1 = _one(f"{model_label(model)} proposed vs {model_label(reference)} baseline",
              other, base, "macro_f1", alpha)
    acc = _one("accuracy", other, base, "accuracy", alpha)
    note = (f"accuracy {acc.difference:+.3f} [{acc.test.ci_low:+.3f}, {acc.test.ci_high:+.3f}]"
            if np.isfinite(acc.test.ci_low) else f"accuracy {acc.difference:+.3f}")
    return [f1], ["macro_f1"], note


def _gain_claim(claim_id: str, results: pd.DataFrame | None, model: str | None,
                reference: str, paper_rel: float, alpha: float, paper_diff: float = np.nan
                ) -> tuple[str, str, pd.DataFrame]:
    if results is None:
        return NOT_TESTABLE, "this page does not train it.", _judge(claim_id, [], alpha)
    if model is None:
        return (NOT_TESTABLE, f"this run trains no model larger than {model_label(reference)} "
                "with the proposed method (the page does not have the cells).",
                _judge(claim_id, [], alpha))
    comps, metrics, acc_note = _gain(results, model, reference, alpha)
    if not comps:
        return (NOT_TESTABLE, f"this run has no {model_label(model)} with the proposed method "
                f"or no {model_label(reference)} baseline.", _judge(claim_id, [], alpha))
    judged = _judge(claim_id, comps, alpha, [paper_diff]).assign(metric=metrics)
    c, row = comps[0], judged.iloc[0]
    if c.folds < 2:
        return (str(row["verdict"]), f"{c.label}: {c.folds} fold(s) where both cells learned "
                f"({c.excluded} left out as collapsed); the paired test needs at least 2.",
                judged)
    interval = (f" [{c.test.ci_low:+.3f}, {c.test.ci_high:+.3f}]"
                if np.isfinite(c.test.ci_low) else "")
    if model == reference:
        against = f"{_role(model)} with the proposed method: macro F1 {c.mean_a:.3f} against " \
                  f"its no-augmentation baseline's {c.mean_b:.3f}"
    else:
        against = f"{model_label(model)} with the proposed method: macro F1 {c.mean_a:.3f} " \
                  f"against the {_role(reference)} baseline's {c.mean_b:.3f}"
    evidence = (f"{against} ({c.relative:+.0%}; paper {paper_rel:+.0%}), difference "
                f"{c.difference:+.3f}{interval}, corrected paired t p = "
                f"{format_p(c.test.p_value)} over {c.folds} learning folds"
                + (f" ({c.excluded} collapsed left out)" if c.excluded else "")
                + (f"; {acc_note}" if acc_note else "") + "."
                + _could_not(judged, str(row["verdict"])))
    return str(row["verdict"]), evidence, judged


def _b0_beats_claim(sweep: pd.DataFrame | None, reference: str, alpha: float
                    ) -> tuple[str, str, pd.DataFrame]:
    cid = "b0_beats_others"
    if sweep is None:
        return NOT_TESTABLE, "this page does not run the sweep.", _judge(cid, [], alpha)
    models = list(dict.fromkeys(sweep["model"]))
    rivals = [m for m in models if m != reference]
    if reference not in models or not rivals:
        return (NOT_TESTABLE, f"this run's sweep trains {', '.join(map(model_label, models))}: "
                f"the claim needs {model_label(reference)} and at least one other model beside "
                "it (the page does not have the cells).", _judge(cid, [], alpha))
    comps, metrics = [], []
    for (t, loss), cell in sweep.groupby(["transform", "loss"], sort=False):
        ref = select_rows(cell, model=reference)
        for rival in rivals:
            other = select_rows(cell, model=rival)
            if ref.empty or other.empty:
                continue
            for metric in METRICS:
                comps.append(_one(f"{t} / {loss}: {model_label(reference)} vs "
                                  f"{model_label(rival)}", ref, other, metric, alpha))
                metrics.append(metric)
    judged = _judge(cid, comps, alpha).assign(metric=metrics)
    verdict = each_verdict(list(judged["verdict"]))
    ahead = int((judged["difference"] > 0).sum())
    counts = judged["verdict"].value_counts()
    return verdict, (
        f"{_role(reference)} against {', '.join(map(model_label, rivals))} in "
        f"{len(judged) // len(METRICS)} (transform, loss, rival) cells, macro F1 and accuracy: "
        f"ahead in {ahead} of {len(judged)} comparisons; Holm-corrected, significantly ahead in "
        f"{counts.get('supported', 0)}, significantly behind in "
        f"{counts.get('contradicted', 0)}, not testable in {counts.get(NOT_TESTABLE, 0)}."
    ), judged


def _focal_claim(sweep: pd.DataFrame | None, reference: str, alpha: float
                 ) -> tuple[str, str, pd.DataFrame]:
    cid = "focal_beats_ce"
    if sweep is None:
        return NOT_TESTABLE, "this page does not run the sweep.", _judge(cid, [], alpha)
    ref = select_rows(sweep, model=reference)
    if not {"focal", "cross_entropy"} <= set(ref["loss"]):
        return (NOT_TESTABLE, f"this run's sweep lacks {model_label(reference)} with both "
                "losses.", _judge(cid, [], alpha))
    transforms = [t for t in dict.fromkeys(ref["transform"])
                  if t != NO_AUGMENTATION and t not in FOCAL_EXCEPTIONS]
    if not transforms:
        return (NOT_TESTABLE, "this run's sweep has no transform the claim covers (it excludes "
                f"no augmentation and the paper's exceptions {', '.join(FOCAL_EXCEPTIONS)}).",
                _judge(cid, [], alpha))
    comps = [_one(f"{t}: focal vs cross entropy", select_rows(ref, transform=t, loss="focal"),
                  select_rows(ref, transform=t, loss="cross_entropy"), "macro_f1", alpha)
             for t in transforms]
    judged = _judge(cid, comps, alpha).assign(metric="macro_f1")
    verdict = each_verdict(list(judged["verdict"]))
    parts = [f"{t} {_signed(c.difference)} (p Holm {format_p(ph)})"
             for t, c, ph in zip(transforms, comps, judged["p_holm"])]
    base = [_one("no augmentation", select_rows(ref, transform=NO_AUGMENTATION, loss="focal"),
                 select_rows(ref, transform=NO_AUGMENTATION, loss="cross_entropy"),
                 "macro_f1", alpha)] if NO_AUGMENTATION in set(ref["transform"]) else []
    tail = (f"; without augmentation (not part of the claim) {_signed(base[0].difference)}"
            if base else "")
    return verdict, (f"with {_role(reference)}, focal minus cross-entropy macro F1 per "
                     f"transform: {'; '.join(parts)}{tail}."), judged


def _pair_claim(claim_id: str, results: pd.DataFrame | None, a: str, b: str, reference: str,
                paper_diff: float, alpha: float) -> tuple[str, str, pd.DataFrame]:
    """Table 4's method ``a`` against method ``b`` (macro F1, the reference model)."""
    if results is None:
        return NOT_TESTABLE, "this page does not train Table 4.", _judge(claim_id, [], alpha)
    ra, rb = (select_rows(results, method=m, model=reference) for m in (a, b))
    if ra.empty or rb.empty:
        return (NOT_TESTABLE, f"this run's Table 4 lacks {a} or {b} with "
                f"{model_label(reference)}.", _judge(claim_id, [], alpha))
    c = _one(f"{a} vs {b}", ra, rb, "macro_f1", alpha)
    judged = _judge(claim_id, [c], alpha, [paper_diff]).assign(metric="macro_f1")
    verdict = str(judged.iloc[0]["verdict"])
    if c.folds < 2:
        return (verdict, f"{c.label}: {c.folds} fold(s) where both cells learned; the paired "
                "test needs at least 2.", judged)
    return verdict, (
        f"with {_role(reference)}, macro F1 {c.mean_a:.3f} ({a}) against {c.mean_b:.3f} ({b}): "
        f"{c.describe()}, corrected paired t p = {format_p(c.p_value)}; the paper "
        f"{paper_diff:+.3f}." + _could_not(judged, verdict)), judged


def _augmented_mean(rows: pd.DataFrame) -> pd.DataFrame:
    """Per fold, the mean macro F1 and accuracy over the augmented rows that did not collapse
    (a fold is collapsed when every one of them did), as one cell's fold rows."""
    out = []
    for fold, g in rows.groupby("fold", sort=True):
        learning = g[~g["collapsed"].astype(bool)]
        use = learning if len(learning) else g
        out.append({"fold": fold, "macro_f1": float(use["macro_f1"].mean()),
                    "accuracy": float(use["accuracy"].mean()),
                    "collapsed": learning.empty, "n_test": int(g["n_test"].iloc[0])})
    return pd.DataFrame(out)


def _augmentation_claim(sweep: pd.DataFrame | None, alpha: float
                        ) -> tuple[str, str, pd.DataFrame]:
    cid = "augmentation_helps"
    if sweep is None:
        return NOT_TESTABLE, "this page does not run the sweep.", _judge(cid, [], alpha)
    theirs = pd.concat([paper_sweep(loss) for loss in SWEEP_TABLES], ignore_index=True)
    comps, paper_diffs = [], []
    for (model, loss), cell in sweep.groupby(["model", "loss"], sort=False):
        base = select_rows(cell, transform=NO_AUGMENTATION)
        aug = cell[cell["transform"] != NO_AUGMENTATION]
        if base.empty or aug.empty:
            continue
        comps.append(_one(f"{model_label(model)} / {loss}: mean of "
                          f"{aug['transform'].nunique()} augmented rows vs no augmentation",
                          _augmented_mean(aug), base, "macro_f1", alpha))
        ref = theirs[(theirs["model"] == _paper_model(model)) & (theirs["loss"] == loss)]
        ref = ref.set_index("transform")["macro_f1"]
        used = [t for t in aug["transform"].unique() if t in ref.index]
        paper_diffs.append(float(ref[used].mean() - ref[NO_AUGMENTATION])
                           if used and NO_AUGMENTATION in ref.index else np.nan)
    if not comps:
        return (NOT_TESTABLE, "this run's sweep has no transform beside no augmentation.",
                _judge(cid, [], alpha))
    judged = _judge(cid, comps, alpha, paper_diffs).assign(metric="macro_f1")
    verdict = each_verdict(list(judged["verdict"]))
    parts = [f"{c.label.split(':')[0]} {_signed(c.difference)} (p Holm {format_p(ph)})"
             for c, ph in zip(comps, judged["p_holm"])]
    return verdict, ("mean macro F1 of the augmented rows minus no augmentation, per (model, "
                     f"loss): {'; '.join(parts)}." + _could_not(judged, verdict)), judged


def _paper_model(model: str) -> str:
    """The paper's model a run's model stands for in the sweep's paper columns (the reference
    role is EfficientNet-B0's; a ResNet's, ResNet-50's; else VGG-16's)."""
    if model in ("vgg16", "resnet50", PAPER_REFERENCE_MODEL):
        return model
    if model.startswith("resnet"):
        return "resnet50"
    if model.startswith(("mobilenet", "efficientnet")):
        return PAPER_REFERENCE_MODEL
    return "vgg16"


def size_slopes(scaling: pd.DataFrame, models: Sequence[str], metric: str = "macro_f1"
                ) -> pd.DataFrame:
    """Per fold, the least-squares slope of ``metric`` against the size step (0, 1, 2... in
    ``models``' order) of the proposed method's rows, as one cell's fold rows; a fold is
    collapsed when any size's is."""
    rows = select_rows(scaling, method="proposed")
    rows = rows[rows["model"].isin(models)]
    steps = {m: i for i, m in enumerate(models)}
    out = []
    for fold, g in rows.groupby("fold", sort=True):
        if g["model"].nunique() < len(models):
            continue
        x = g["model"].map(steps).to_numpy(float)
        y = g[metric].to_numpy(float)
        slope = float(np.polyfit(x, y, 1)[0])
        out.append({"fold": fold, metric: slope, "accuracy": slope if metric == "accuracy"
                    else float(np.polyfit(x, g["accuracy"].to_numpy(float), 1)[0]),
                    "collapsed": bool(g["collapsed"].astype(bool).any()),
                    "n_test": int(g["n_test"].iloc[0])})
    return pd.DataFrame(out, columns=["fold", metric, "accuracy", "collapsed", "n_test"]
                        if metric != "accuracy" else ["fold", "accuracy", "collapsed",
                                                      "n_test"])


def _growth_claim(scaling: pd.DataFrame | None, size_order: Sequence[str] | None,
                  alpha: float) -> tuple[str, str, pd.DataFrame]:
    cid = "gain_grows_with_size"
    if scaling is None:
        return NOT_TESTABLE, "this page does not train Fig. 5.", _judge(cid, [], alpha)
    models = list(size_order or dict.fromkeys(select_rows(scaling, method="proposed")["model"]))
    if len(models) < 3:
        return (NOT_TESTABLE, f"this run trains {len(models)} model size(s) with the proposed "
                "method; a trend needs at least 3.", _judge(cid, [], alpha))
    slopes = size_slopes(scaling, models)
    if len(slopes) < 2:
        return (NOT_TESTABLE, "fewer than 2 folds have every size.", _judge(cid, [], alpha))
    zero = slopes.assign(macro_f1=0.0, accuracy=0.0, collapsed=False)
    c = _one(f"macro F1 slope per size step across {', '.join(map(model_label, models))}",
             slopes, zero, "macro_f1", alpha)
    b0, b5 = (paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")["proposed"][1],
              paper.paper_value(f"{PAPER}.fig5_scaling")["efficientnet_b5"][1])
    judged = _judge(cid, [c], alpha, [(b5 - b0) / 5]).assign(metric="macro_f1")
    verdict = str(judged.iloc[0]["verdict"])
    return verdict, (
        f"per fold, the least-squares slope of macro F1 against the size step over "
        f"{len(models)} sizes (proposed method): {c.describe()} per step, corrected t p = "
        f"{format_p(c.p_value)}; the paper's end points (B0 {b0:.3f}, B5 {b5:.3f}) give "
        f"{(b5 - b0) / 5:+.4f} per step on average." + _could_not(judged, verdict)), judged


def _accuracy_claim(results: pd.DataFrame | None, reference: str, alpha: float,
                    margin: float = ACCURACY_MARGIN) -> tuple[str, str, pd.DataFrame]:
    cid = "accuracy_kept"
    if results is None:
        return NOT_TESTABLE, "this page does not train Table 4.", _judge(cid, [], alpha)
    ra, rb = (select_rows(results, method=m, model=reference) for m in ("proposed", "baseline"))
    if ra.empty or rb.empty:
        return (NOT_TESTABLE, f"this run lacks the proposed method or the baseline with "
                f"{model_label(reference)}.", _judge(cid, [], alpha))
    c = _one("proposed vs baseline, accuracy", ra, rb, "accuracy", alpha)
    t4 = paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")
    judged = _judge(cid, [c], alpha, [t4["proposed"][0] - t4["baseline"][0]]
                    ).assign(metric="accuracy")
    part = comparison_equivalence_part(c, margin, alpha=alpha)
    verdict = combine_parts([part], alpha).verdict
    half = detect.equivalence_half_width(c.test.se, c.test.df, alpha)
    judged["verdict"] = verdict
    judged["detectable"] = half
    room = (f" Equivalence within +/-{margin:g} needs the difference at least {half:.3f} inside "
            "the margin (the half-width of its 90 % interval)." if np.isfinite(half) else "")
    return verdict, (
        f"with {_role(reference)}, accuracy {format_number(c.mean_a)} (proposed) against "
        f"{format_number(c.mean_b)} (baseline): {c.describe()}; two one-sided corrected t "
        f"tests against +/-{margin:g}."
        + room), judged


def claim_tests(sweep: pd.DataFrame | None = None, balanced: pd.DataFrame | None = None,
                scaling: pd.DataFrame | None = None, *,
                reference_model: str = PAPER_REFERENCE_MODEL,
                largest_model: str | None = None, size_order: Sequence[str] | None = None,
                alpha: float = 0.05) -> dict[str, tuple[str, str, pd.DataFrame]]:
    """Per claim id: (verdict, evidence, its comparisons as :data:`COMPARISON_COLUMNS`).
    Results frames must carry the collapse columns (:func:`.foldstats.with_collapse`);
    ``largest_model``: the scaling page's largest model with the proposed method (None or the
    reference itself: ``gain_b5`` is not testable); ``size_order``: the scaled family in size
    order (default: the proposed rows' order of appearance)."""
    gains = balanced if balanced is not None else scaling
    larger = largest_model if largest_model not in (None, reference_model) else None
    t4 = paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")
    b5 = paper.paper_value(f"{PAPER}.fig5_scaling")["efficientnet_b5"]
    return {
        "proposed_gain_b0": _gain_claim("proposed_gain_b0", gains, reference_model,
                                        reference_model, paper_gain("proposed"), alpha,
                                        t4["proposed"][1] - t4["baseline"][1]),
        "gain_b5": _gain_claim("gain_b5", scaling, larger, reference_model,
                               paper_gain("efficientnet_b5"), alpha,
                               b5[1] - t4["baseline"][1]),
        "b0_beats_others": _b0_beats_claim(sweep, reference_model, alpha),
        "focal_beats_ce": _focal_claim(sweep, reference_model, alpha),
        "augmentation_helps": _augmentation_claim(sweep, alpha),
        "over_sampling_gain": _pair_claim("over_sampling_gain", balanced, "over_sampling",
                                          "baseline", reference_model,
                                          t4["over_sampling"][1] - t4["baseline"][1], alpha),
        "proposed_beats_over_sampling": _pair_claim(
            "proposed_beats_over_sampling", balanced, "proposed", "over_sampling",
            reference_model, t4["proposed"][1] - t4["over_sampling"][1], alpha),
        "gain_grows_with_size": _growth_claim(scaling, size_order, alpha),
        "accuracy_kept": _accuracy_claim(balanced, reference_model, alpha),
    }


def _value(judged: pd.DataFrame) -> str:
    """This run's headline number of a claim: with one comparison, the difference and its
    interval; with several, the range of their differences and how many were significant
    either way after Holm ("" when none could be computed)."""
    finite = judged[np.isfinite(judged["difference"].astype(float))] if len(judged) else judged
    if len(finite) == 0:
        return ""
    if len(judged) > 1:
        sig = finite["verdict"].value_counts()
        return (f"{finite['difference'].min():+.3f} to {finite['difference'].max():+.3f} over "
                f"{len(finite)} comparisons ({sig.get(SUPPORTED, 0)} significantly the "
                f"paper's way, {sig.get(CONTRADICTED, 0)} the other way)")
    r = judged.iloc[0]
    interval = (f" [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]" if np.isfinite(r["ci_low"])
                else "")
    return f"{r['difference']:+.3f}{interval}"


def _paper_value(judged: pd.DataFrame) -> str:
    v = [float(x) for x in judged.get("paper_difference", []) if np.isfinite(x)]
    if len(v) == 1:
        return f"{v[0]:+.3f}"
    return f"{min(v):+.3f} to {max(v):+.3f}" if v else ""


def claim_verdicts(sweep: pd.DataFrame | None = None, balanced: pd.DataFrame | None = None,
                   scaling: pd.DataFrame | None = None, *,
                   reference_model: str = PAPER_REFERENCE_MODEL,
                   largest_model: str | None = None, size_order: Sequence[str] | None = None,
                   alpha: float = 0.05, only: Sequence[str] | None = None) -> pd.DataFrame:
    """The claims table (:func:`emo_lib.verdicts.claims_table`) from :func:`claim_tests`, with
    ``value`` (this run's difference), ``paper_value`` (the paper's) and ``detectable``;
    ``only``: the claim ids a page tests (default all)."""
    texts, found = _claim_texts(), claim_tests(sweep, balanced, scaling,
                                               reference_model=reference_model,
                                               largest_model=largest_model,
                                               size_order=size_order, alpha=alpha)
    ids = list(only or CLAIM_IDS)
    return claims_table([{"claim": texts[k], "verdict": found[k][0], "evidence": found[k][1],
                          "value": _value(found[k][2]), "paper_value": _paper_value(found[k][2]),
                          "detectable": _detectable_text(found[k][2])}
                         for k in ids], ids)


def claim_comparisons(sweep: pd.DataFrame | None = None, balanced: pd.DataFrame | None = None,
                      scaling: pd.DataFrame | None = None, *,
                      reference_model: str = PAPER_REFERENCE_MODEL,
                      largest_model: str | None = None, size_order: Sequence[str] | None = None,
                      alpha: float = 0.05, only: Sequence[str] | None = None) -> pd.DataFrame:
    """Every comparison behind the claims (:data:`COMPARISON_COLUMNS`), claim by claim."""
    found = claim_tests(sweep, balanced, scaling, reference_model=reference_model,
                        largest_model=largest_model, size_order=size_order, alpha=alpha)
    frames = [found[k][2] for k in (only or CLAIM_IDS) if not found[k][2].empty]
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=list(COMPARISON_COLUMNS)))


# ----------------------------------------------------------------- the paper's own numbers

NO_FOLDS = ("the paper gives one mean per cell and no fold scores, so the tests cannot run on "
            "its numbers")


def paper_verdicts(only: Sequence[str] | None = None) -> pd.DataFrame:
    """The same rules on the paper's own numbers: every claim *not testable* (one mean per
    cell, no folds), the evidence giving the direction the paper's means take."""
    texts = _claim_texts()
    t4 = paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")
    ce = paper.paper_value(f"{PAPER}.table2_cross_entropy")[NO_AUGMENTATION]["efficientnet_b0"]
    base, prop = t4["baseline"], t4["proposed"]
    b5 = paper.paper_value(f"{PAPER}.fig5_scaling")["efficientnet_b5"]
    sweep = pd.concat([paper_sweep(loss) for loss in SWEEP_TABLES], ignore_index=True)
    wide = sweep.pivot_table(index=["transform", "loss"], columns="model",
                             values=list(METRICS))
    rivals = [m for m in sweep["model"].unique() if m != PAPER_REFERENCE_MODEL]
    ahead = {m: int((wide[m][PAPER_REFERENCE_MODEL]
                     > wide[m][rivals].max(axis=1)).sum()) for m in METRICS}
    b0 = sweep[sweep["model"] == PAPER_REFERENCE_MODEL].pivot(
        index="transform", columns="loss", values="macro_f1")
    covered = [t for t in b0.index if t != NO_AUGMENTATION and t not in FOCAL_EXCEPTIONS]
    focal_ahead = int((b0.loc[covered, "focal"] > b0.loc[covered, "cross_entropy"]).sum())
    evidence = {
        "proposed_gain_b0": (
            f"{NO_FOLDS}; its direction: macro F1 {prop[1]:.3f} against the focal baseline's "
            f"{base[1]:.3f} ({paper_gain('proposed'):+.0%}), as claimed, and "
            f"{(prop[1] - ce[1]) / ce[1]:+.0%} against the cross-entropy baseline of Table 2 "
            f"({ce[1]:.3f}), which scores above the focal one; accuracy "
            f"{100 * (prop[0] - base[0]):+.1f} points."),
        "gain_b5": (
            f"{NO_FOLDS}; its direction: EfficientNet-B5 with the method {b5[1]:.3f} against the "
            f"EfficientNet-B0 baseline's {base[1]:.3f} ({paper_gain('efficientnet_b5'):+.0%}), "
            f"which mixes the method with a larger model: against B0 with the method "
            f"({prop[1]:.3f}) the larger model adds {(b5[1] - prop[1]) / prop[1]:+.0%}."),
        "b0_beats_others": (
            f"{NO_FOLDS}; its direction: EfficientNet-B0 above VGG-16 and ResNet-50 in "
            f"macro F1 in {ahead['macro_f1']} and in accuracy in {ahead['accuracy']} of "
            f"{len(wide)} (transform, loss) cells."),
        "focal_beats_ce": (
            f"{NO_FOLDS}; its direction: with EfficientNet-B0 focal loss above cross entropy "
            f"in {focal_ahead} of the {len(covered)} transforms the claim covers; without "
            f"augmentation focal scores below ({b0.loc[NO_AUGMENTATION, 'focal']:.3f} vs "
            f"{b0.loc[NO_AUGMENTATION, 'cross_entropy']:.3f})."),
        "augmentation_helps": (
            f"{NO_FOLDS}; its direction: the mean of the augmented rows minus no augmentation, "
            "per (model, loss): " + "; ".join(
                f"{model_label(m)} / {loss} {d:+.3f} ({n} of {k} transforms above)"
                for (m, loss), (d, n, k) in _paper_augmentation(sweep).items()) + "."),
        "over_sampling_gain": (
            f"{NO_FOLDS}; its direction: over-sampling {t4['over_sampling'][1]:.3f} against the "
            f"baseline's {base[1]:.3f} ({t4['over_sampling'][1] - base[1]:+.3f})."),
        "proposed_beats_over_sampling": (
            f"{NO_FOLDS}; its direction: {prop[1]:.3f} against over-sampling's "
            f"{t4['over_sampling'][1]:.3f} ({prop[1] - t4['over_sampling'][1]:+.3f}, a third "
            "decimal's worth)."),
        "gain_grows_with_size": (
            f"{NO_FOLDS}; the text gives only the end points of Fig. 5: B0 with the method "
            f"{prop[1]:.3f}, B5 {b5[1]:.3f} ({b5[1] - prop[1]:+.3f} over five steps); a trend "
            "over the sizes between cannot be read from numbers the paper prints."),
        "accuracy_kept": (
            f"{NO_FOLDS}; its direction: accuracy {prop[0]:.4f} against the baseline's "
            f"{base[0]:.4f} ({prop[0] - base[0]:+.4f}), within +/-{ACCURACY_MARGIN:g}."),
    }
    values = {
        "proposed_gain_b0": prop[1] - base[1], "gain_b5": b5[1] - base[1],
        "over_sampling_gain": t4["over_sampling"][1] - base[1],
        "proposed_beats_over_sampling": prop[1] - t4["over_sampling"][1],
        "gain_grows_with_size": (b5[1] - prop[1]) / 5, "accuracy_kept": prop[0] - base[0]}
    ids = list(only or CLAIM_IDS)
    return claims_table([{"claim": texts[k], "verdict": NOT_TESTABLE, "evidence": evidence[k],
                          "value": f"{values[k]:+.3f}" if k in values else ""}
                         for k in ids], ids)


def _paper_augmentation(sweep: pd.DataFrame) -> dict[tuple[str, str], tuple[float, int, int]]:
    """Per (model, loss) of the paper's Tables 2-3: the mean of the augmented rows minus no
    augmentation, how many transforms score above it, and how many there are."""
    out = {}
    for (m, loss), g in sweep.groupby(["model", "loss"], sort=False):
        f1 = g.set_index("transform")["macro_f1"]
        aug = f1.drop(NO_AUGMENTATION)
        out[(m, loss)] = (float(aug.mean() - f1[NO_AUGMENTATION]),
                          int((aug > f1[NO_AUGMENTATION]).sum()), len(aug))
    return out


def paper_results() -> dict[str, pd.DataFrame]:
    """The paper's own tables as results frames (one "fold" per cell): ``sweep`` (Tables
    2-3), ``balanced`` (Table 4) and ``scaling`` (Fig. 5's B5 end point with Table 4's
    baseline). With one fold per cell every corrected test is undefined (NaN p), so
    :func:`claim_verdicts` on them gives *not testable*: what :func:`paper_verdicts` says."""
    sweep = pd.concat([paper_sweep(loss) for loss in SWEEP_TABLES], ignore_index=True)
    balanced = paper_table4().assign(model=PAPER_REFERENCE_MODEL, loss="focal")
    base = balanced[balanced["method"] == "baseline"]
    b5 = [{"method": "proposed", "model": m, "loss": "focal", "accuracy": v[0], "macro_f1": v[1]}
          for m, v in paper.paper_value(f"{PAPER}.fig5_scaling").items()]
    scaling = pd.concat([pd.DataFrame(b5), base], ignore_index=True)
    n = paper.paper_value(f"{PAPER}.dataset.images")
    return {k: v.assign(fold=0, collapsed=False, n_test=n // 5) for k, v in
            {"sweep": sweep, "balanced": balanced, "scaling": scaling}.items()}


__all__ = ["ACCURACY_MARGIN", "CLAIM_IDS", "COMPARISON_COLUMNS", "FOCAL_EXCEPTIONS", "RULE_KINDS",
           "claim_comparisons", "claim_tests", "claim_verdicts", "paper_results",
           "paper_verdicts", "size_slopes"]
