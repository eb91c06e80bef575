"""Jeong & Kim's claims (paper_values ``claims``), each judged on this run's results and, with
the same rule, on the paper's own tables."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import paper
from ..verdicts import (
    INCONCLUSIVE, CONTRADICTED, NOT_TESTABLE, PARTLY_SUPPORTED, SUPPORTED, claims_table,
)
from .names import METRICS, NO_AUGMENTATION, PAPER, SWEEP_TABLES
from .tables import fold_means, paper_gain, paper_sweep, paper_table4, relative_gain, select


CLAIM_IDS: tuple[str, ...] = ("proposed_gain_b0", "gain_b5", "b0_beats_others",
                              "focal_beats_ce")
#: The transforms the paper names as exceptions in its focal-vs-cross-entropy claim.
FOCAL_EXCEPTIONS: tuple[str, ...] = ("random_flip", "random_height")


def _claims() -> dict[str, str]:
    texts = paper.paper_value(f"{PAPER}.claims")
    if len(texts) != len(CLAIM_IDS):
        raise ValueError(f"paper_values.yaml lists {len(texts)} jeong2021 claims, "
                         f"emo_lib.jeong2021 knows {len(CLAIM_IDS)}: update CLAIM_IDS")
    return dict(zip(CLAIM_IDS, texts))


def _collapsed(rows: pd.DataFrame, threshold: float = 0.99) -> bool:
    """True when the rows' (one cell's) test predictions fall (nearly) all on one class;
    False when they do not, or when the rows carry no confusion matrices (paper tables)."""
    if rows.empty or "confusion" not in rows.columns:
        return False
    predicted = np.sum([np.asarray(m) for m in rows["confusion"]], axis=0).sum(axis=0)
    return bool(predicted.max() >= threshold * max(predicted.sum(), 1))


COLLAPSED = (INCONCLUSIVE, "the compared cells all predict one class for (nearly) every "
             "test image (see the collapse warning), so their difference measures nothing. ")


def _verdict_gain(results: pd.DataFrame | None, model: str, paper_rel: float
                  ) -> tuple[str, str]:
    label = model.replace("efficientnet_b", "EfficientNet-B")
    if results is None:
        return NOT_TESTABLE, "this page does not train it."
    base = select(results, method="baseline", model="efficientnet_b0")
    other = select(results, method="proposed", model=model)
    if base.empty or other.empty:
        return NOT_TESTABLE, (f"this run has no {label} with the proposed method (or no "
                              "EfficientNet-B0 baseline).")
    g = relative_gain(base, other)
    acc = relative_gain(base, other, "accuracy")
    verdict = SUPPORTED if g["gain"] > 0 else CONTRADICTED
    prefix = ""
    if _collapsed(base) and _collapsed(other):
        verdict, prefix = COLLAPSED[0], COLLAPSED[1].capitalize()
    return verdict, (f"{prefix}{label} with the proposed method: macro F1 {g['other']:.3f} "
                     f"against the EfficientNet-B0 baseline's {g['base']:.3f} ({g['gain']:+.0%}; "
                     f"paper {paper_rel:+.0%}), higher in {g['folds_gained']} of {g['folds']} "
                     f"folds; accuracy {acc['other'] - acc['base']:+.3f}.")


def _verdict_b0_beats(sweep: pd.DataFrame | None) -> tuple[str, str]:
    if sweep is None:
        return NOT_TESTABLE, "this page does not run the sweep."
    others = [m for m in ("vgg16", "resnet50") if m in set(sweep["model"])]
    if "efficientnet_b0" not in set(sweep["model"]) or not others:
        return NOT_TESTABLE, (f"this run's sweep has models {sorted(set(sweep['model']))}: it "
                              "needs EfficientNet-B0 and VGG-16 or ResNet-50.")
    lost: dict[str, list[str]] = {m: [] for m in METRICS}
    n, skipped = 0, 0
    for (t, loss), cell in sweep.groupby(["transform", "loss"], sort=False):
        g = fold_means(cell, ["model"])
        rivals = g.index.intersection(others)
        if "efficientnet_b0" not in g.index or not rivals.size:
            continue
        if all(_collapsed(cell[cell["model"] == m]) for m in ["efficientnet_b0", *rivals]):
            skipped += 1
            continue
        n += 1
        for metric in METRICS:
            if g.loc["efficientnet_b0", metric] <= g.loc[rivals, metric].max():
                lost[metric].append(f"{t}/{loss}")
    if n == 0:
        return COLLAPSED[0], COLLAPSED[1] + f"({skipped} (transform, loss) cells.)"
    held = [m for m in METRICS if not lost[m]]
    verdict = (SUPPORTED if len(held) == len(METRICS)
               else PARTLY_SUPPORTED if held else CONTRADICTED)
    parts = [f"{m.replace('_', ' ')}: " + ("ahead in all" if not lost[m] else
             f"not ahead in {len(lost[m])} ({', '.join(lost[m][:6])}"
             + (" ..." if len(lost[m]) > 6 else "") + ")") for m in METRICS]
    left_out = f" ({skipped} cells left out: all collapsed)" if skipped else ""
    return verdict, (f"EfficientNet-B0 against {', '.join(others)} over {n} (transform, loss) "
                     f"cells{left_out}; {'; '.join(parts)}.")


def _verdict_focal(sweep: pd.DataFrame | None) -> tuple[str, str]:
    if sweep is None:
        return NOT_TESTABLE, "this page does not run the sweep."
    b0 = sweep[sweep["model"] == "efficientnet_b0"]
    if not {"focal", "cross_entropy"} <= set(b0["loss"]):
        return NOT_TESTABLE, "this run's sweep lacks EfficientNet-B0 with both losses."
    f1 = fold_means(b0, ["transform", "loss"])["macro_f1"].unstack("loss")
    f1 = f1.drop(index=NO_AUGMENTATION, errors="ignore")
    if f1.empty:
        return NOT_TESTABLE, "this run's sweep has no transform besides no augmentation."
    skipped = [t for t in f1.index
               if all(_collapsed(select(b0, transform=t, loss=loss))
                      for loss in ("focal", "cross_entropy"))]
    f1 = f1.drop(index=skipped)
    if f1.empty:
        return COLLAPSED[0], COLLAPSED[1] + f"({len(skipped)} transforms.)"
    worse = [t for t in f1.index if f1.loc[t, "focal"] <= f1.loc[t, "cross_entropy"]]
    against = [t for t in worse if t not in FOCAL_EXCEPTIONS]
    verdict = SUPPORTED if not against else CONTRADICTED
    left_out = f" ({', '.join(skipped)} left out: collapsed)" if skipped else ""
    return verdict, (f"with EfficientNet-B0, focal loss beats cross entropy in macro F1 for "
                     f"{len(f1) - len(worse)} of {len(f1)} transforms tested{left_out}; not "
                     f"for {', '.join(worse) or 'none'} (the paper's exceptions: "
                     f"{', '.join(FOCAL_EXCEPTIONS)}).")


def claim_verdicts(sweep: pd.DataFrame | None = None, balanced: pd.DataFrame | None = None,
                   scaling: pd.DataFrame | None = None) -> pd.DataFrame:
    """For each of the paper's claims: ``verdict`` (SUPPORTED, PARTLY_SUPPORTED, "not
    supported", INCONCLUSIVE (the compared networks predict one class whatever the image)
    or NOT_TESTABLE) and ``evidence``, one sentence computed from this run's results (``sweep`` from
    :func:`run_sweep`, ``balanced`` from :func:`run_balanced`, ``scaling`` from
    :func:`run_scaling`; give those the page has). A gain claim is SUPPORTED when the
    direction holds (mean over folds); the sentence gives the size beside the paper's."""
    texts = _claims()
    gains = balanced if balanced is not None else scaling
    found = {
        "proposed_gain_b0": _verdict_gain(gains, "efficientnet_b0", paper_gain("proposed")),
        "gain_b5": _verdict_gain(scaling, "efficientnet_b5", paper_gain("efficientnet_b5")),
        "b0_beats_others": _verdict_b0_beats(sweep),
        "focal_beats_ce": _verdict_focal(sweep),
    }
    return claims_table([{"claim": texts[k], "verdict": found[k][0], "evidence": found[k][1]}
                         for k in CLAIM_IDS], CLAIM_IDS)


def paper_results() -> dict[str, pd.DataFrame]:
    """The paper's own tables as results frames (one "fold"), for :func:`claim_verdicts`:
    ``sweep`` (Tables 2-3), ``balanced`` (Table 4) and ``scaling`` (Fig. 5's B5 end point with
    Table 4's baseline). Lets a page check each claim against the paper's own numbers."""
    sweep = pd.concat([paper_sweep(loss) for loss in SWEEP_TABLES], ignore_index=True)
    balanced = paper_table4().assign(model="efficientnet_b0", loss="focal")
    base = balanced[balanced["method"] == "baseline"]
    b5 = [{"method": "proposed", "model": m, "loss": "focal", "accuracy": v[0], "macro_f1": v[1]}
          for m, v in paper.paper_value(f"{PAPER}.fig5_scaling").items()]
    scaling = pd.concat([pd.DataFrame(b5), base], ignore_index=True)
    return {k: v.assign(fold=0) for k, v in
            {"sweep": sweep, "balanced": balanced, "scaling": scaling}.items()}


__all__ = ["CLAIM_IDS", "FOCAL_EXCEPTIONS", "claim_verdicts", "paper_results"]
