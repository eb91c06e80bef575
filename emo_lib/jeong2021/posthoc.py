"""Post-hoc logit adjustment (Menon et al. 2021) as Table 4 rows: a trained cell's stored test
logits, adjusted by ``- tau * log prior`` and scored again, fold by fold. Nothing is trained:
each fold's logits, test indices and labels come from the training unit's result
(:mod:`emo_lib.train.units`, ``fold<f>.npz``), the prior from the class counts of the items
that fold's model was trained on.

Which prior: the frequencies of the training items the source cell's model saw in that fold
(the fold's training part minus its validation split, redrawn exactly from the unit's seed and
validation fraction). For the no-augmentation cells this section adjusts, the items are those
images once each, so the prior is the training distribution Menon et al. assume.

Not here: the adjustment itself (:func:`emo_lib.losses.posthoc_logit_adjustment`), training
(:mod:`.cells`).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, f1_score

from ..losses import DEFAULT_TAU, posthoc_logit_adjustment
from ..train.folds import validation_split
from ..train.units import read_arrays, read_result, unit_store


def scores_of(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """A fold's metrics row from its predictions, as a trained fold's row holds them:
    accuracy, macro F1, ``f1_<class>`` and the confusion matrix (rows true, columns
    predicted, as nested lists), over all ``classes`` (as :func:`emo_lib.train.evaluate`)."""
    ids = list(range(len(classes)))
    per_class = f1_score(y_true, y_pred, labels=ids, average=None, zero_division=0)
    row: dict[str, Any] = {
        "accuracy": float(np.mean(y_true == y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=ids, average="macro",
                                   zero_division=0))}
    row.update({f"f1_{c}": float(f) for c, f in zip(classes, per_class)})
    row["confusion"] = confusion_matrix(y_true, y_pred, labels=ids).tolist()
    return row


def training_counts(labels: np.ndarray, test_index: np.ndarray, n_classes: int,
                    val_fraction: float, fold_seed: int) -> np.ndarray:
    """Per-class counts of the images a fold's model trained on: every image outside the
    test fold, less the validation split :func:`emo_lib.train.crossval.train_fold` drew."""
    y = np.asarray(labels)
    train_idx = np.setdiff1d(np.arange(len(y)), np.asarray(test_index))
    if val_fraction > 0:
        train_idx, _ = validation_split(train_idx, y, val_fraction, fold_seed)
    return np.bincount(y[train_idx], minlength=n_classes)


def posthoc_rows(source: pd.DataFrame, labels: np.ndarray, classes: Sequence[str], *,
                 tau: float = DEFAULT_TAU, cache: Any = True) -> pd.DataFrame:
    """The post-hoc logit-adjusted rows of one trained cell (``source``: its fold rows from
    :func:`emo_lib.jeong2021.run_cells`, with ``unit_key``): per fold, the stored test logits
    minus ``tau`` times the log of the training prior, scored as a trained fold is. The other
    columns are the source's (``n_test``, ``model``...), ``loss`` names the source's loss,
    ``seconds`` is 0 and ``posthoc_of`` names the source's unit.

    Raises ValueError when ``source`` is empty, lacks ``unit_key``, or a fold's stored result
    cannot be read (post-hoc rows need the results cache: ``cache`` must not be False)."""
    if source.empty:
        raise ValueError("post-hoc logit adjustment needs the rows of a trained cell; none "
                         "given (is its source method among the trained ones?)")
    if "unit_key" not in source.columns:
        raise ValueError("the source rows carry no unit_key: run them through run_cells, "
                         "which records where each fold's test logits are kept")
    store = unit_store(cache)
    if store is None:
        raise ValueError("post-hoc logit adjustment reads the stored test logits: it needs the "
                         "results cache (cache=True or a folder), not cache=False")
    y = np.asarray(labels)
    rows = []
    for _, src in source.iterrows():
        key, fold = str(src["unit_key"]), int(src["fold"])
        record, arrays = read_result(store, key, fold), read_arrays(store, key, fold)
        if record is None or arrays is None:
            raise ValueError(f"no stored result for unit {key}/fold{fold} in {store.root}: "
                             "train the source cell with this cache first")
        spec = record["spec"]
        test_index = np.asarray(arrays["test_index"])
        if not np.array_equal(y[test_index], arrays["y_true"]):
            raise ValueError(f"unit {key}/fold{fold}: its stored labels differ from the given "
                             "labels at its test indices (another data set?)")
        counts = training_counts(y, test_index, len(classes), float(spec["val_fraction"]),
                                 int(spec["seed"]) + fold)
        y_pred = posthoc_logit_adjustment(arrays["logits"], counts, tau)
        row = src.to_dict()
        row.update(scores_of(arrays["y_true"], y_pred, classes))
        row.update(seconds=0.0, from_cache=True, posthoc_of=f"{key}/fold{fold}",
                   tau=float(tau))
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["posthoc_rows", "scores_of", "training_counts"]
