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
  transform but no augmentation and the paper's exceptions (random flip, random height).

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

from .. import paper
from ..stats import holm
from ..verdicts import NOT_TESTABLE, claims_table, direction_verdict, each_verdict, format_p
from .foldstats import Comparison, compare_cells, select_rows
from .names import (
    METRICS, NO_AUGMENTATION, PAPER, PAPER_REFERENCE_MODEL, SWEEP_TABLES, model_label,
)
from .tables import paper_gain, paper_sweep, paper_table4

CLAIM_IDS: tuple[str, ...] = ("proposed_gain_b0", "gain_b5", "b0_beats_others",
                              "focal_beats_ce")
#: The transforms the paper names as exceptions in its focal-vs-cross-entropy claim.
FOCAL_EXCEPTIONS: tuple[str, ...] = ("random_flip", "random_height")
#: The rules printed under every paper-2 claims table (:func:`emo_lib.verdicts.rules_markdown`).
RULE_KINDS: tuple[str, ...] = ("collapse", "folds", "direction", "each", "paper_means")
#: Columns of :func:`claim_comparisons`.
COMPARISON_COLUMNS: tuple[str, ...] = ("claim_id", "comparison", "metric", "folds", "excluded",
                                       "mean_a", "mean_b", "difference", "ci_low", "ci_high",
                                       "p", "p_holm", "verdict")


def _claim_texts() -> dict[str, str]:
    texts = paper.paper_value(f"{PAPER}.claims")
    if len(texts) != len(CLAIM_IDS):
        raise ValueError(f"paper_values.yaml lists {len(texts)} jeong2021 claims, "
                         f"emo_lib.jeong2021 knows {len(CLAIM_IDS)}: update CLAIM_IDS")
    return dict(zip(CLAIM_IDS, texts))


def _role(model: str) -> str:
    return (model_label(model) if model == PAPER_REFERENCE_MODEL
            else f"{model_label(model)} (in EfficientNet-B0's role)")


def _judge(claim_id: str, comparisons: Sequence[Comparison], alpha: float) -> pd.DataFrame:
    """One row per comparison: its numbers, the Holm-corrected p over the claim's comparisons
    and its direction verdict (COMPARISON_COLUMNS)."""
    p = np.array([c.test.p_value for c in comparisons], dtype=float)
    adjusted = holm(p) if len(p) else p
    return pd.DataFrame([{
        "claim_id": claim_id, "comparison": c.label, "metric": None, "folds": c.folds,
        "excluded": c.excluded, "mean_a": c.mean_a, "mean_b": c.mean_b, "difference": c.difference,
        "ci_low": c.test.ci_low,
        "ci_high": c.test.ci_high, "p": c.test.p_value, "p_holm": ph,
        "verdict": direction_verdict(c.difference, ph, alpha)}
        for c, ph in zip(comparisons, adjusted)], columns=list(COMPARISON_COLUMNS))


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
                reference: str, paper_rel: float, alpha: float
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
    judged = _judge(claim_id, comps, alpha).assign(metric=metrics)
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
                + (f"; {acc_note}" if acc_note else "") + ".")
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


def claim_tests(sweep: pd.DataFrame | None = None, balanced: pd.DataFrame | None = None,
                scaling: pd.DataFrame | None = None, *,
                reference_model: str = PAPER_REFERENCE_MODEL,
                largest_model: str | None = None, alpha: float = 0.05
                ) -> dict[str, tuple[str, str, pd.DataFrame]]:
    """Per claim id: (verdict, evidence, its comparisons as :data:`COMPARISON_COLUMNS`).
    Results frames must carry the collapse columns (:func:`.foldstats.with_collapse`);
    ``largest_model``: the scaling page's largest model with the proposed method (None or the
    reference itself: ``gain_b5`` is not testable)."""
    gains = balanced if balanced is not None else scaling
    larger = largest_model if largest_model not in (None, reference_model) else None
    return {
        "proposed_gain_b0": _gain_claim("proposed_gain_b0", gains, reference_model,
                                        reference_model, paper_gain("proposed"), alpha),
        "gain_b5": _gain_claim("gain_b5", scaling, larger, reference_model,
                               paper_gain("efficientnet_b5"), alpha),
        "b0_beats_others": _b0_beats_claim(sweep, reference_model, alpha),
        "focal_beats_ce": _focal_claim(sweep, reference_model, alpha),
    }


def claim_verdicts(sweep: pd.DataFrame | None = None, balanced: pd.DataFrame | None = None,
                   scaling: pd.DataFrame | None = None, *,
                   reference_model: str = PAPER_REFERENCE_MODEL,
                   largest_model: str | None = None, alpha: float = 0.05,
                   only: Sequence[str] | None = None) -> pd.DataFrame:
    """The claims table (:func:`emo_lib.verdicts.claims_table`) from :func:`claim_tests`;
    ``only``: the claim ids a page tests (default all)."""
    texts, found = _claim_texts(), claim_tests(sweep, balanced, scaling,
                                               reference_model=reference_model,
                                               largest_model=largest_model, alpha=alpha)
    ids = list(only or CLAIM_IDS)
    return claims_table([{"claim": texts[k], "verdict": found[k][0], "evidence": found[k][1]}
                         for k in ids], ids)


def claim_comparisons(sweep: pd.DataFrame | None = None, balanced: pd.DataFrame | None = None,
                      scaling: pd.DataFrame | None = None, *,
                      reference_model: str = PAPER_REFERENCE_MODEL,
                      largest_model: str | None = None, alpha: float = 0.05,
                      only: Sequence[str] | None = None) -> pd.DataFrame:
    """Every comparison behind the claims (:data:`COMPARISON_COLUMNS`), claim by claim."""
    found = claim_tests(sweep, balanced, scaling, reference_model=reference_model,
                        largest_model=largest_model, alpha=alpha)
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
    b5 = paper.paper_value(f"{PAPER}.fig5_scaling")["efficientnet_b5"]
    ce = paper.paper_value(f"{PAPER}.table2_cross_entropy")[NO_AUGMENTATION]["efficientnet_b0"]
    base, prop = t4["baseline"], t4["proposed"]
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
    }
    ids = list(only or CLAIM_IDS)
    return claims_table([{"claim": texts[k], "verdict": NOT_TESTABLE, "evidence": evidence[k]}
                         for k in ids], ids)


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


__all__ = ["CLAIM_IDS", "COMPARISON_COLUMNS", "FOCAL_EXCEPTIONS", "RULE_KINDS",
           "claim_comparisons", "claim_tests", "claim_verdicts", "paper_results",
           "paper_verdicts"]
