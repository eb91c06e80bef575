"""The paper's way of reading LIME (Noh & Lim 2023, Figs 4, 7, 8): average the top-k masks
of the first N correctly classified images per class and group into heat maps.

Holds :class:`MaskAggregate`, :func:`aggregate_masks` and :func:`mask_iou`; not the
explanations themselves (:mod:`.lime`) or the face regions (:mod:`.regions`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..validation import check_positive_int
from .lime import LimeResult

log = logging.getLogger(__name__)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard index of two boolean masks; two empty masks count as identical (1.0)."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)



@dataclass
class MaskAggregate:
    """Heat maps of top-k masks per (group..., class).

    Attributes:
        table: one row per (group..., class): ``n_images`` (explained), ``n_correct``,
            ``n_used`` (min(n_correct, n_per_class)), ``short`` (fewer than n_per_class) and
            ``n_empty_masks`` (used images without any positive superpixel).
        heatmaps: key -> (H, W) float in [0, 1], the share of used images whose top-k mask
            covers each pixel. Keys are ``(group values..., class)`` tuples.
        mean_images: key -> (H, W, 3) uint8 mean of the used images (if images were given).
        used: key -> the positions (in ``results``) of the images used.
        group_cols: names of the group columns; n_per_class: the cap N.
    """

    table: pd.DataFrame
    heatmaps: dict[tuple, np.ndarray]
    mean_images: dict[tuple, np.ndarray]
    used: dict[tuple, list[int]]
    group_cols: list[str]
    n_per_class: int
    classes: list[Any] = field(default_factory=list)


def aggregate_masks(
    results: Sequence[LimeResult],
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    groups: Mapping[str, Any] | pd.DataFrame | None = None,
    n_per_class: int = 10,
    classes: Sequence[Any] | None = None,
    images: np.ndarray | None = None,
) -> MaskAggregate:
    """Average the top-k masks of the first ``n_per_class`` correctly classified images of each
    (group..., class), in the order of ``results`` (the paper: 10 per class; CAFE male sad had
    only 8 correct, so 8). ``y_true``, ``y_pred``, ``groups`` and ``images`` go with
    ``results`` one to one. A cell with fewer correct images uses what there is; the count is
    in ``table.n_used`` and logged.
    """
    n = len(results)
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    if len(y_true) != n or len(y_pred) != n:
        raise ValueError(f"{n} results but {len(y_true)} true and {len(y_pred)} predicted labels")
    if images is not None and len(images) != n:
        raise ValueError(f"{n} results but {len(images)} images")
    check_positive_int("n_per_class", n_per_class)
    gframe = pd.DataFrame(index=range(n)) if groups is None else (
        groups.reset_index(drop=True) if isinstance(groups, pd.DataFrame)
        else pd.DataFrame({k: np.asarray(v) for k, v in groups.items()}))
    if len(gframe) != n:
        raise ValueError(f"{n} results but groups have {len(gframe)} rows")
    group_cols = list(gframe.columns)
    shapes = {r.top_mask.shape for r in results}
    if len(shapes) > 1:
        raise ValueError(f"masks of different shapes {sorted(shapes)}: resize the images to one "
                         "size before explaining")
    if classes is None:
        classes = sorted(pd.unique(y_true).tolist())
    combos = [()] if not group_cols else \
        [tuple(r) for r in gframe.drop_duplicates().sort_values(group_cols)
         .itertuples(index=False)]
    gkeys = [tuple(r) for r in gframe.itertuples(index=False)] if group_cols else [()] * n

    rows, heatmaps, means, used = [], {}, {}, {}
    for combo in combos:
        for cls in classes:
            key = combo + (cls,)
            members = [i for i in range(n) if gkeys[i] == combo and y_true[i] == cls]
            correct = [i for i in members if y_pred[i] == y_true[i]]
            chosen = correct[:n_per_class]
            n_empty = sum(not results[i].top_mask.any() for i in chosen)
            rows.append({**dict(zip(group_cols, combo)), "class": cls,
                         "n_images": len(members), "n_correct": len(correct),
                         "n_used": len(chosen), "short": len(chosen) < n_per_class,
                         "n_empty_masks": n_empty})
            if n_empty:
                log.warning("aggregate_masks: %s: %d of %d used images have no positive "
                            "superpixel (the model's output did not respond to any)", key,
                            n_empty, len(chosen))
            if len(chosen) < n_per_class:
                log.info("aggregate_masks: %s has %d correctly classified images; using %d of "
                         "%d", key, len(correct), len(chosen), n_per_class)
            if not chosen:
                continue
            used[key] = chosen
            heatmaps[key] = np.mean([results[i].top_mask for i in chosen], axis=0)
            if images is not None:
                means[key] = np.asarray(images)[chosen].mean(axis=0).round().astype(np.uint8)
    table = pd.DataFrame(rows)
    return MaskAggregate(table=table, heatmaps=heatmaps, mean_images=means, used=used,
                         group_cols=group_cols, n_per_class=n_per_class, classes=list(classes))


__all__ = ["MaskAggregate", "aggregate_masks", "mask_iou"]
