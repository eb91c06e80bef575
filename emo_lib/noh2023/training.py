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
from tqdm.auto import tqdm

from .. import paper
from ..data.manifest import class_indices
from ..faces import FaceSet
from ..metrics import OVERALL
from ..models.base import TorchClassifier
from ..stats import mcnemar_exact
from ..train import ArrayDataset, FitConfig, FitResult, fit, grouped_folds
from .accuracy import accuracy_by
from .names import PAPER, class_order


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


def stage_table(preds: pd.DataFrame, stages: Mapping[str, str],
                classes: Sequence[str] | None = None) -> pd.DataFrame:
    """One :func:`accuracy_table` with a ``stage`` column: ``stages`` maps a stage's name
    ("before", "after (paper protocol)"...) to its prediction column in ``preds``."""
    parts = []
    for name, col in stages.items():
        t = accuracy_by(preds.assign(stage=name), by=("stage",), classes=classes, pred_col=col)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def training_comparison(changes: Mapping[str, pd.DataFrame], figure: str) -> pd.DataFrame:
    """Fig. 5 or 6 (``figure`` = ``"fig5"``/``"fig6"``) against this run: the paper's before and
    after beside this run's (``changes``: stage name -> :func:`paired_changes`; the first one's
    ``before`` is this run's before). Paper nulls (values only in the figure) show NaN."""
    key = {"fig5": "fig5_cafe_after_additional_training",
           "fig6": "fig6_nimh_after_additional_training"}[figure]
    p = paper.paper_value(f"{PAPER}.{key}")
    first = next(iter(changes.values()))
    order = list(dict.fromkeys([*first.index, *p["after"].keys()]))
    table = paper.compare(p["before"], first["before"], order=order,
                          labels=("paper before", "run before"))
    table = table.rename(columns={"difference": "before difference"})
    for stage, ch in changes.items():
        t = paper.compare(p["after"], ch["after"], order=order,
                          labels=("paper after", f"run {stage}"))
        if "paper after" not in table:
            table["paper after"] = t["paper after"]
        table[f"run {stage}"] = t[f"run {stage}"]
        table[f"{stage} difference"] = t["difference"]
    return table


__all__ = ["fine_tune", "paired_changes", "stage_table", "subject_cv_predictions",
           "training_comparison"]
