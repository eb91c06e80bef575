"""Splitting data for cross-validation: stratified folds, subject-disjoint folds, and the
stratified validation part carved from a training fold."""
from __future__ import annotations

import logging
from typing import Hashable, Sequence

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split

from ..validation import check_int

log = logging.getLogger(__name__)

Folds = list[tuple[np.ndarray, np.ndarray]]


def stratified_folds(labels: Sequence[Hashable] | np.ndarray, k: int, seed: int,
                     reduce_k: bool = False) -> Folds:
    """k stratified folds (shuffled with ``seed``) as (train_idx, test_idx) pairs.

    Every class must have at least ``k`` members, else some test folds would miss a class and
    its F1 would be undefined there: by default that raises a ValueError naming the class;
    with ``reduce_k=True`` k drops to the smallest class size (>= 2) with a logged warning.
    """
    y = np.asarray(labels)
    check_int("k (folds)", k, minimum=2)
    values, counts = np.unique(y, return_counts=True)
    smallest = int(counts.min())
    if smallest < k:
        small = {str(v): int(c) for v, c in zip(values, counts) if c < k}
        if not reduce_k or smallest < 2:
            raise ValueError(f"{k}-fold stratified CV needs >= {k} samples per class; these "
                             f"have fewer: {small}. Lower k, merge or drop those classes, or "
                             "pass reduce_k=True")
        log.warning("classes %s have fewer than %d samples: using %d folds instead of %d",
                    small, k, smallest, k)
        k = smallest
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]


def grouped_folds(labels: Sequence[Hashable] | np.ndarray, groups: Sequence[Hashable] | np.ndarray,
                  k: int, seed: int) -> Folds:
    """k subject-disjoint folds (sklearn StratifiedGroupKFold, shuffled with ``seed``): no
    group (subject) is in both the training and the test part of a fold."""
    y, g = np.asarray(labels), np.asarray(groups)
    if len(y) != len(g):
        raise ValueError(f"{len(y)} labels but {len(g)} groups")
    n_groups = len(np.unique(g))
    if n_groups < k:
        raise ValueError(f"{k} subject-disjoint folds need >= {k} groups, got {n_groups}")
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y, g)]


def validation_split(train_idx: np.ndarray, y: np.ndarray, fraction: float, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    n_classes = len(np.unique(y[train_idx]))
    n_val = max(n_classes, int(round(fraction * len(train_idx))))
    if n_val >= len(train_idx) - n_classes:
        raise ValueError(f"a training fold of {len(train_idx)} images is too small to carve a "
                         f"stratified validation split of {n_val}: lower val_fraction (or 0)")
    try:
        fit_idx, val_idx = train_test_split(train_idx, test_size=n_val, random_state=seed,
                                            stratify=y[train_idx])
    except ValueError as err:
        raise ValueError(f"stratified validation split failed ({err}); every class needs >= 2 "
                         "training images: lower val_fraction to 0 or use fewer folds") from err
    return np.sort(fit_idx), np.sort(val_idx)


__all__ = ["Folds", "grouped_folds", "stratified_folds", "validation_split"]
