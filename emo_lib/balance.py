"""Algorithm 1 of Jeong & Kim 2021 (random over-sampling, one transform per copy), index-based.

The balanced training set is a list of *items* ``(index, transform_name | None)``: which image,
and which transform :class:`emo_lib.train.ArrayDataset` applies when it loads it. No pixel is
copied, so memory stays flat whatever ``n_min`` (a copy costs one small tuple, not an image).
The paper transforms each copy once, before training; ``ArrayDataset(..., item_seed=s)`` does the
same (item k is always transformed with the same random draw), while ``item_seed=None`` draws
the transform's magnitude afresh each epoch (which transform a copy gets is fixed either way).
"""
from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import WeightedRandomSampler

from .augment import validate_names
from .validation import check_positive, check_positive_int

Item = tuple[int, "str | None"]


def _as_labels(labels: Sequence[Hashable] | np.ndarray) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    if len(y) == 0:
        raise ValueError("labels is empty: nothing to balance")
    return y


def balanced_items(labels: Sequence[Hashable] | np.ndarray, n_min: int,
                   transforms: Sequence[str], seed: int) -> list[Item]:
    """Algorithm 1 as items: every original index once with ``None``, then, for each class with
    fewer than ``n_min`` samples, ``n_min - n_j`` copies drawn uniformly with replacement from
    that class, each with one transform name drawn uniformly from ``transforms`` (empty:
    plain random over-sampling, the copies untransformed).

    Classes are visited in sorted order, so the result depends only on (labels, n_min,
    transforms, seed).
    """
    y = _as_labels(labels)
    names = validate_names(transforms)
    n_min = check_positive_int("n_min", n_min)
    rng = np.random.default_rng(seed)
    items: list[Item] = [(i, None) for i in range(len(y))]
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        missing = int(n_min) - len(members)
        if missing <= 0:
            continue
        picks = rng.choice(members, size=missing, replace=True)
        if names:
            draws = rng.integers(0, len(names), size=missing)
            items.extend((int(i), names[t]) for i, t in zip(picks, draws))
        else:
            items.extend((int(i), None) for i in picks)
    return items


def simple_augmentation_items(labels: Sequence[Hashable] | np.ndarray,
                              transform: str | None) -> list[Item]:
    """Tables 2-3's "simple augmentation": every training image once as is and once more
    transformed by ``transform`` (the set doubles). ``transform=None`` gives the originals only
    (the "no augmentation" row)."""
    y = _as_labels(labels)
    items: list[Item] = [(i, None) for i in range(len(y))]
    if transform is not None:
        (name,) = validate_names([transform])
        items.extend((i, name) for i in range(len(y)))
    return items


def item_labels(items: Sequence[Item], labels: Sequence[Hashable] | np.ndarray) -> np.ndarray:
    """The label of every item (the label of the image it points at)."""
    y = np.asarray(labels)
    return y[np.fromiter((i for i, _ in items), dtype=np.int64, count=len(items))]


def item_counts(items: Sequence[Item], labels: Sequence[Hashable] | np.ndarray) -> pd.DataFrame:
    """Per class: originals, copies, total, and copies per transform name (a table to show
    what balancing did)."""
    y = np.asarray(labels)
    frame = pd.DataFrame({"label": item_labels(items, y),
                          "transform": [t if t is not None else "" for _, t in items]})
    is_copy = np.zeros(len(items), dtype=bool)
    seen: set[int] = set()
    for k, (i, _) in enumerate(items):  # the first occurrence of an index is the original
        if i in seen:
            is_copy[k] = True
        seen.add(i)
    frame["copy"] = is_copy
    out = pd.DataFrame({
        "originals": frame[~frame["copy"]].groupby("label").size(),
        "copies": frame[frame["copy"]].groupby("label").size(),
    }).fillna(0).astype(int)
    out["total"] = out["originals"] + out["copies"]
    by_t = frame[frame["copy"] & (frame["transform"] != "")]
    if len(by_t):
        out = out.join(pd.crosstab(by_t["label"], by_t["transform"]).add_prefix("copies_"))
    return out.fillna(0).astype(int)


def class_balanced_sampler(labels: Sequence[Hashable] | np.ndarray, seed: int,
                           num_samples: int | None = None) -> WeightedRandomSampler:
    """A sampler drawing every class equally often (weight 1 / n_class per sample, with
    replacement; ``num_samples`` defaults to len(labels)): the "class-balanced sampling"
    baseline. Pass it to :func:`emo_lib.train.fit` as ``sampler``."""
    y = _as_labels(labels)
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    weights = torch.as_tensor(1.0 / counts[inverse], dtype=torch.double)
    gen = torch.Generator().manual_seed(int(seed))
    return WeightedRandomSampler(weights, num_samples=num_samples or len(y), replacement=True,
                                 generator=gen)


def scaled_n_min(n_min: int, scale: float) -> int:
    """``n_min`` for a data set ``scale`` times the paper's size (e.g. a synthetic SE30K8 of
    2,800 images: scale 0.1 gives 150); at least 1."""
    check_positive("scale", scale)
    return max(1, int(round(n_min * scale)))
