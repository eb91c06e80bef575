"""Noh & Lim's additional training (Figs 5-6): fine-tune a copy of the pretrained model on
children, by the paper's protocol and subject-disjoint; the paired before/after changes with
McNemar's test; the paper-vs-run tables.

The claims about it are in :mod:`.claims`.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats
from tqdm.auto import tqdm

from .. import paper
from ..data.manifest import class_indices
from ..faces import FaceSet
from ..metrics import OVERALL
from ..classifier import TorchClassifier
from ..stats import mcnemar_exact
from ..train import ArrayDataset, FitConfig, FitResult, fit, grouped_folds
from .accuracy import accuracy_by
from .names import PAPER, PAPER_KEYS, CAFE, NIMH, class_order

#: The share of the paper-protocol gain that "the gain survives" asks to survive
#: subject-disjoint evaluation: at least half (less would be mostly memorised images).
SURVIVING_SHARE = 0.5


def fine_tune(model: TorchClassifier, images: np.ndarray, labels: Sequence[str],
              config: FitConfig, seed: int = 0, progress: bool = False
              ) -> tuple[TorchClassifier, FitResult]:
    """A fresh copy of ``model`` (``copy.deepcopy`` of its module: the original is untouched)
    trained on ``images`` for ``config.epochs`` epochs, no validation split (as the paper)."""
    tuned = dataclasses.replace(model, module=copy.deepcopy(model.module),
                                info={**model.info, "fine_tuned": True})
    y = class_indices(list(labels), model.classes,
                      of="the model's outputs (it cannot be trained on other classes)")
    result = fit(tuned, ArrayDataset(np.ascontiguousarray(images), y), None, config=config,
                 seed=seed, progress=progress)
    return tuned, result


def subject_cv_predictions(model: TorchClassifier, faces: FaceSet, config: FitConfig, k: int,
                           seed: int = 0, progress: bool = False
                           ) -> tuple[np.ndarray, pd.DataFrame]:
    """Subject-disjoint k-fold fine-tuning (:func:`emo_lib.train.grouped_folds` on
    ``subject_id``: no child in both parts): each fold fine-tunes a fresh copy of ``model`` on
    the training subjects and predicts the test subjects. Returns the out-of-fold predicted
    class of every image and one row per fold (sizes, subjects, accuracy, seconds)."""
    frame = faces.manifest.frame
    labels = frame["label"].to_numpy(object)
    folds = grouped_folds(labels, frame["subject_id"].astype(str).to_numpy(), k, seed)
    oof = np.empty(len(frame), dtype=object)
    rows = []
    for f, (tr, te) in enumerate(tqdm(folds, desc="subject folds", disable=not progress)):
        subjects_tr = set(frame["subject_id"].iloc[tr].astype(str))
        subjects_te = set(frame["subject_id"].iloc[te].astype(str))
        if subjects_tr & subjects_te:
            raise AssertionError(f"fold {f}: subjects in both parts")
        tuned, result = fine_tune(model, faces.images[tr], labels[tr], config, seed + f,
                                  progress)
        pred = np.asarray(tuned.classes, dtype=object)[
            tuned.predict_proba(faces.images[te]).argmax(1)]
        oof[te] = pred
        rows.append({"fold": f, "n_train": len(tr), "n_test": len(te),
                     "subjects_train": len(subjects_tr), "subjects_test": len(subjects_te),
                     "accuracy": float((pred == labels[te]).mean()),
                     "seconds": float(result.history["seconds"].sum())})
        del tuned
    return oof, pd.DataFrame(rows)



def paired_changes(preds: pd.DataFrame, before: str, after: str,
                   classes: Sequence[str] | None = None) -> pd.DataFrame:
    """Per class and overall: accuracy with predictions ``before`` and ``after`` (columns of
    ``preds``), the change, images fixed / broken, and the exact McNemar p-value."""
    classes = list(classes) if classes is not None else class_order(preds["label"])
    truth = preds["label"].to_numpy(object)
    ok_b = preds[before].to_numpy(object) == truth
    ok_a = preds[after].to_numpy(object) == truth
    rows = []
    for c in [*classes, OVERALL]:
        m = np.ones(len(truth), bool) if c == OVERALL else truth == c
        if not m.any():
            continue
        rows.append({"class": c, "n": int(m.sum()), "before": float(ok_b[m].mean()),
                     "after": float(ok_a[m].mean()),
                     "change": float(ok_a[m].mean() - ok_b[m].mean()),
                     "fixed": int((~ok_b[m] & ok_a[m]).sum()),
                     "broken": int((ok_b[m] & ~ok_a[m]).sum()),
                     "p_value": mcnemar_exact(ok_b[m], ok_a[m])})
    return pd.DataFrame(rows).set_index("class")


def mcnemar_from_margins(n: int, correct_before: int, correct_after: int) -> tuple[int, int,
                                                                                   float]:
    """McNemar's exact test when only the marginal counts are known (a paper's before/after
    accuracies on the same ``n`` images): the pairing least favourable to a change, with the
    most images broken that the margins allow (broken = min(before, n - after), fixed = broken +
    after - before). Any other pairing gives a smaller p-value, so a change significant here is
    significant under every pairing. Returns (fixed, broken, p)."""
    if not 0 <= correct_before <= n or not 0 <= correct_after <= n:
        raise ValueError(f"correct counts {correct_before}, {correct_after} must lie in 0..{n}")
    broken = min(correct_before, n - correct_after)
    fixed = broken + correct_after - correct_before
    before = np.zeros(n, bool)
    after = np.zeros(n, bool)
    # images 0..broken-1 right before, wrong after; the next `fixed` wrong before, right after;
    # then the rest right in both (as many as the margins need), then wrong in both
    both = correct_before - broken
    before[:broken] = True
    after[broken:broken + fixed] = True
    before[broken + fixed:broken + fixed + both] = True
    after[broken + fixed:broken + fixed + both] = True
    return int(fixed), int(broken), mcnemar_exact(before, after)


def paper_counts(dataset: str) -> dict[str, int]:
    """Images per class and ``overall`` of a data set in the paper (Tables 1-2 totals)."""
    key = {CAFE: "table1_cafe_counts", NIMH: "table2_nimh_counts"}[dataset]
    total = paper.paper_value(f"{PAPER}.{key}.total")
    return {(OVERALL if c == "total" else c): int(v) for c, v in total.items()}


def paper_before_after(figure: str) -> tuple[dict[str, float], dict[str, float | None]]:
    """Fig. 5's or 6's (``"fig5"``/``"fig6"``) accuracies before and after the additional
    training as the paper gives them; where its text gives no "before" value (Fig. 5 names only
    the classes that changed most), Fig. 3's accuracy of the same pretrained model on the same
    images stands in."""
    key = {"fig5": "fig5_cafe_after_additional_training",
           "fig6": "fig6_nimh_after_additional_training"}
    if figure not in key:
        raise ValueError(f"figure must be one of {list(key)}, not {figure!r}")
    p = paper.paper_value(f"{PAPER}.{key[figure]}")
    dataset = CAFE if figure == "fig5" else NIMH
    fig3 = paper.paper_value(f"{PAPER}.fig3_accuracy_pretrained.{PAPER_KEYS[dataset]}")
    before = {c: (p["before"].get(c) if p["before"].get(c) is not None else fig3.get(c))
              for c in dict.fromkeys([*fig3, *p["before"]])}
    return before, dict(p["after"])


def paper_changes(figure: str) -> pd.DataFrame:
    """A :func:`paired_changes`-shaped table of the paper's Fig. 5 or 6, so the same claim rules
    run on the paper's own numbers: per class with a before and an after value, ``n`` from
    Tables 1-2, correct counts rounded from the accuracies, the change and McNemar's test on the
    least favourable pairing (:func:`mcnemar_from_margins`). An ``overall`` the paper does not
    give (Fig. 6) is derived from the per-class counts (``derived`` True). ``printed_before``
    and ``printed_after`` keep the accuracies as the paper prints them (the others are
    derived from the rounded counts; NaN where the paper prints none)."""
    before, after = paper_before_after(figure)
    counts = paper_counts(CAFE if figure == "fig5" else NIMH)
    rows = []
    for c in [k for k in after if k != OVERALL] + [OVERALL]:
        derived = False
        if c == OVERALL and after.get(OVERALL) is None:
            classes = [k for k in after if k != OVERALL]
            if any(after[k] is None for k in classes):
                continue
            n = sum(counts[k] for k in classes)
            kb = sum(round(before[k] * counts[k]) for k in classes)
            ka = sum(round(after[k] * counts[k]) for k in classes)
            derived = True
        else:
            if after.get(c) is None or before.get(c) is None or c not in counts:
                continue
            n = counts[c]
            kb, ka = round(before[c] * n), round(after[c] * n)
        fixed, broken, p = mcnemar_from_margins(n, kb, ka)
        rows.append({"class": c, "n": n, "before": kb / n, "after": ka / n,
                     "change": (ka - kb) / n, "fixed": fixed, "broken": broken, "p_value": p,
                     "derived": derived, "printed_before": before.get(c, np.nan),
                     "printed_after": np.nan if derived else after.get(c, np.nan)})
    return pd.DataFrame(rows).set_index("class")


def gain_share_test(preds: pd.DataFrame, before: str, paper_after: str, held_out: str,
                    share: float = SURVIVING_SHARE, cluster: str | None = "subject_id"
                    ) -> dict[str, float]:
    """Does at least ``share`` of the paper-protocol gain survive held-out evaluation? On the
    same images, per image D = (held-out correct - before correct) - share x (paper-protocol
    correct - before correct); D averages above 0 exactly when the held-out gain exceeds
    ``share`` of the paper-protocol gain. Images of one ``cluster`` (a child) are averaged
    first (their answers are not independent), then a one-sample t test over clusters
    (two-sided p; NaN with fewer than two clusters or no spread).

    Returns ``gain_paper``, ``gain_held_out``, ``share_observed`` (their ratio), ``share``,
    ``excess`` (mean D over images), ``cluster_mean`` (mean of the cluster means), ``se`` and
    ``df`` of that mean (NaN with fewer than two clusters), ``p_value``, ``n_images``,
    ``n_clusters``."""
    if not 0 < share <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share!r}")
    truth = preds["label"].to_numpy(object)
    b = (preds[before].to_numpy(object) == truth).astype(float)
    a = (preds[paper_after].to_numpy(object) == truth).astype(float)
    h = (preds[held_out].to_numpy(object) == truth).astype(float)
    d = (h - b) - share * (a - b)
    groups = preds[cluster].astype(str).to_numpy() if cluster and cluster in preds else \
        np.arange(len(preds)).astype(str)
    means = pd.Series(d).groupby(groups).mean().to_numpy(float)
    p = float(scipy_stats.ttest_1samp(means, 0.0).pvalue) \
        if len(means) >= 2 and np.ptp(means) > 0 else float("nan")
    gain_paper, gain_held = float((a - b).mean()), float((h - b).mean())
    return {"gain_paper": gain_paper, "gain_held_out": gain_held,
            "share_observed": gain_held / gain_paper if gain_paper else float("nan"),
            "share": float(share), "excess": float(d.mean()),
            "cluster_mean": float(means.mean()), "p_value": p,
            "se": float(means.std(ddof=1) / np.sqrt(len(means))) if len(means) >= 2
            else float("nan"), "df": float(len(means) - 1), "n_images": int(len(d)),
            "n_clusters": int(len(means))}


def stage_table(preds: pd.DataFrame, stages: Mapping[str, str],
                classes: Sequence[str] | None = None) -> pd.DataFrame:
    """One :func:`accuracy_table` with a ``stage`` column: ``stages`` maps a stage's name
    ("before", "after (paper protocol)"...) to its prediction column in ``preds``."""
    parts = []
    for name, col in stages.items():
        t = accuracy_by(preds.assign(stage=name), by=("stage",), classes=classes, pred_col=col)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


#: Column keys of the training page's tables and the words a reader sees instead.
TRAINING_LABELS: dict[str, str] = {
    "p_value": "McNemar p-value", "n_train": "training images", "n_test": "test images",
    "subjects_train": "training children", "subjects_test": "test children",
}


def training_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A training table (:func:`paired_changes`, the subject folds) with its headers in words
    (:data:`TRAINING_LABELS`); the CSV keeps the keys."""
    return frame.rename(columns=TRAINING_LABELS)


#: The protocol whose "after" the paper reports (it scores the images it trained on).
PAPER_STAGE = "after (paper protocol)"
#: training_comparison's column of the paper's value as its counts give it.
DERIVED = "paper, derived from counts"


def training_comparison(changes: Mapping[str, pd.DataFrame], figure: str) -> pd.DataFrame:
    """Fig. 5 or 6 (``figure`` = ``"fig5"``/``"fig6"``) against this run, one row per stage
    and class (``before`` and :data:`PAPER_STAGE`; ``changes``: stage name ->
    :func:`paired_changes`, the first one's ``before`` being this run's before). Columns: the
    paper's accuracy as printed (``paper``; its "before" from Fig. 3 where the text gives none,
    :func:`paper_before_after`; NaN where only the figure shows it), :data:`DERIVED` (the value
    Tables 1-2's counts give: correct = round(accuracy x n), or, for an overall the paper does
    not print, the per-class counts pooled as :func:`paper_changes` derives it; shown only where
    it differs from the printed value at three decimals or replaces a missing one), ``this
    run`` and ``difference`` (this run minus the printed value, else the derived one). A stage
    other than the paper's (held-out children) has no paper value: it is left out here."""
    before, after = paper_before_after(figure)
    counts = paper_counts(CAFE if figure == "fig5" else NIMH)
    derived_rows = paper_changes(figure)
    first = next(iter(changes.values()))
    order = list(dict.fromkeys([*first.index, *after.keys()]))

    def derived(printed: float | None, c: str, side: str) -> float:
        if printed is None or not np.isfinite(printed):
            row = derived_rows.loc[c] if c in derived_rows.index else None
            return float(row[side]) if row is not None and bool(row["derived"]) else np.nan
        n = counts.get(c)
        if not n:
            return np.nan
        value = round(printed * n) / n
        return value if f"{value:.3f}" != f"{printed:.3f}" else np.nan

    rows = []
    stages = [("before", before, first["before"])]
    stages += [(stage, after, ch["after"]) for stage, ch in changes.items() if stage == PAPER_STAGE]
    for stage, values, run_values in stages:
        for c in order:
            printed = values.get(c)
            printed = np.nan if printed is None else float(printed)
            d = derived(printed, c, "after" if stage != "before" else "before")
            mine = float(run_values.get(c, np.nan))
            reference = printed if np.isfinite(printed) else d
            rows.append({"stage": stage, "class": c, "paper": printed, DERIVED: d,
                         "this run": mine, "difference": mine - reference})
    return pd.DataFrame(rows)


__all__ = ["DERIVED", "PAPER_STAGE", "SURVIVING_SHARE", "fine_tune", "gain_share_test",
           "mcnemar_from_margins",
           "paired_changes", "paper_before_after", "paper_changes", "paper_counts",
           "stage_table", "subject_cv_predictions", "training_comparison", "training_table"]
