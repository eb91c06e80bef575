"""Noh & Lim's LIME maps (Figs 4, 7, 8): which images are explained (the first N correct ones
per class and group), their explanations kept in a cache, the averaged maps, how stable they are
across LIME's seeds, and the figure.

Where the maps lie on the face is :mod:`.lime_regions`; the claims are :mod:`.claims`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import paper
from ..cache import DiskCache
from ..data.manifest import class_indices
from ..device import device_identity
from ..explain import (
    LIME_KERNEL_WIDTH, REGIONS, LimeResult, MaskAggregate, aggregate_masks, explain_batch,
    mask_iou, region_shares, segmentation_settings, top_positive,
)
from ..faces import FaceSet
from ..classifier import TorchClassifier
from .names import PAPER, PAPER_KEYS

log = logging.getLogger(__name__)


def lime_cache() -> DiskCache:
    """Where explanations are kept (``$EMO_CACHE/lime``), keyed by this module's code and
    everything it imports from emo_lib (the explainer included)."""
    return DiskCache("lime", code=(__name__,))


def model_fingerprint(model: TorchClassifier) -> str:
    """A hash of what determines a model's outputs: classes, input size, normalisation and
    every tensor of its state dict (weights and buffers)."""
    h = hashlib.sha256(json.dumps([list(model.classes), model.input_size, list(model.mean),
                                   list(model.std)]).encode())
    for name, t in sorted(model.module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _read_lime(index: int, k: int) -> Any:
    def read(path: Path) -> LimeResult:
        with np.load(path) as z:
            local = [(int(f), float(w)) for f, w in z["local_exp"]]
            seg = z["segments"].astype(np.int64)
            top = top_positive(local, k)
            return LimeResult(index=index, label=int(z["label"]), segments=seg,
                              weights=z["weights"], local_exp=local,
                              intercept=float(z["intercept"]), score=float(z["score"]),
                              local_pred=float(z["local_pred"]), top_features=top,
                              top_mask=np.isin(seg, top), data=None,
                              n_evaluated=int(z["n_evaluated"]), seed=int(z["seed"]))
    return read


def _write_lime(store: DiskCache, path: Path, r: LimeResult) -> None:
    store.write_npz(path, label=r.label, segments=r.segments.astype(np.int32),
                    weights=r.weights,
                    local_exp=np.asarray(r.local_exp, dtype=np.float64).reshape(-1, 2),
                    intercept=r.intercept, score=r.score, local_pred=r.local_pred,
                    n_evaluated=r.n_evaluated, seed=r.seed)


def explain_cached(model: TorchClassifier, images: np.ndarray, labels: Sequence[Any], *,
                   num_samples: int = 1000, num_features: int = 5, seed: int = 0,
                   batch_size: int = 256, segmentation: Mapping[str, Any] | None = None,
                   segments: Sequence[np.ndarray] | None = None,
                   cache: bool = True, progress: bool = False) -> list[LimeResult]:
    """:func:`emo_lib.explain.explain_batch`, each image's result kept in :func:`lime_cache`,
    keyed by the model's weights (:func:`model_fingerprint`), the image's pixels, the explained
    class, ``num_samples``, the seed, the complete superpixel settings
    (:func:`emo_lib.explain.segmentation_settings` of ``segmentation``: ``{"method":
    "quickshift" | "slic", setting: value...}``, None for lime's quickshift), the model's
    device (:func:`emo_lib.device.device_identity`) and the code. ``segments``,
    superpixels computed before (e.g. for another seed), must come from those settings. The
    top-k mask is rebuilt from the stored weights, so ``num_features`` is not part of the key;
    ``batch_size`` (perturbed images built at once, and the model's forward-pass size: 256 runs
    ~7 % faster than the CPU default of 64 for a MobileNetV3 at 64 px) only changes speed. Two
    notebooks explaining the same image share one explanation."""
    images = np.asarray(images)
    if len(images) == 0:
        return []
    idx = [int(label) if isinstance(label, (int, np.integer))
           else int(class_indices([label], model.classes, of="the model's classes")[0])
           for label in labels]
    side = min(images.shape[1:3])
    spec = dict(segmentation or {})
    superpixels = segmentation_settings(spec.pop("method", "quickshift"), side, **spec)
    params = {"num_samples": int(num_samples), "seed": int(seed),
              "kernel_width": LIME_KERNEL_WIDTH, "superpixels": superpixels,
              "device": device_identity(model.device)}
    store = lime_cache() if cache else None
    fp = model_fingerprint(model) if cache else ""
    paths = [store.path(store.key({"model": fp, "label": idx[i], "shape": list(images[i].shape),
                                   **params}, np.ascontiguousarray(images[i]).tobytes(),
                                  length=24) + ".npz") if store else None
             for i in range(len(images))]
    results: list[LimeResult | None] = [
        store.read(p, _read_lime(i, num_features)) if store is not None and p is not None
        else None for i, p in enumerate(paths)]
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        new = explain_batch(model, images[todo], [idx[i] for i in todo],
                            num_samples=num_samples, num_features=num_features, seed=seed,
                            batch_size=batch_size, model_batch_size=batch_size,
                            segmentation=superpixels,
                            segments=None if segments is None else [segments[i] for i in todo],
                            progress=progress)
        for i, r in zip(todo, new):
            r.index = i
            results[i] = r
            if store is not None and paths[i] is not None:
                _write_lime(store, paths[i], r)
    log.info("explain_cached: %d of %d explanations from the cache", len(images) - len(todo),
             len(images))
    return results  # type: ignore[return-value]


def lime_classes(classes: Sequence[str], include_happy: bool = False) -> list[str]:
    """The classes the paper draws LIME maps for: all but its ``excluded_classes`` (happy)."""
    excluded = [] if include_happy else paper.paper_value(f"{PAPER}.lime.excluded_classes")
    return [c for c in classes if c not in excluded]


def select_for_lime(preds: pd.DataFrame, group_cols: Sequence[str], classes: Sequence[str],
                    n_per_class: int) -> tuple[np.ndarray, pd.DataFrame]:
    """The first ``n_per_class`` correctly classified images of each (group..., class), in
    the data set's order (the paper: 10; fewer when fewer are correct).

    Returns the row positions in ``preds`` (in order) and a count table per cell: ``n_images``,
    ``n_correct``, ``n_used`` and ``short`` (fewer than ``n_per_class`` used)."""
    if n_per_class < 1:
        raise ValueError(f"images_per_class must be >= 1, got {n_per_class}")
    group_cols = list(group_cols)
    frame = preds.reset_index(drop=True)
    chosen, rows = [], []
    combos = frame[group_cols].drop_duplicates().sort_values(group_cols)
    for combo in combos.itertuples(index=False):
        in_group = np.ones(len(frame), bool)
        for col, v in zip(group_cols, combo):
            in_group &= (frame[col] == v).to_numpy()
        for c in classes:
            members = in_group & (frame["label"] == c).to_numpy()
            if not members.any():
                continue
            correct = np.flatnonzero(members & frame["correct"].to_numpy(bool))
            use = correct[:n_per_class]
            chosen.extend(use.tolist())
            rows.append({**dict(zip(group_cols, combo)), "class": c,
                         "n_images": int(members.sum()), "n_correct": len(correct),
                         "n_used": len(use), "short": len(use) < n_per_class})
    return np.sort(np.asarray(chosen, dtype=np.int64)), pd.DataFrame(rows)


def lime_counts_vs_paper(counts: pd.DataFrame) -> pd.DataFrame:
    """Images per map, the paper's (``lime.images_per_class``, or its listed exception such as
    CAFE male sad: 8) beside this run's ``n_used``, per cell of a :func:`select_for_lime`
    count table."""
    n_paper = paper.paper_value(f"{PAPER}.lime.images_per_class")
    exceptions = paper.paper_value(f"{PAPER}.lime.exceptions")
    group_cols = [c for c in counts.columns if c in ("dataset", "gender")]
    out = counts[group_cols + ["class", "n_correct", "n_used"]].copy()

    def paper_n(row: pd.Series) -> int:
        for e in exceptions:
            if "gender" in e and "gender" not in group_cols:
                continue  # a per-gender exception does not apply to maps pooled over gender
            if (PAPER_KEYS.get(row["dataset"]) == e.get("dataset") and row["class"] == e["class"]
                    and row.get("gender") == e.get("gender")):
                return int(e["images"])
        return int(n_paper)

    out.insert(len(group_cols) + 1, "paper", out.apply(paper_n, axis=1))
    out = out.rename(columns={"n_used": "this run", "n_correct": "correct (this run)"})
    out["difference"] = out["this run"] - out["paper"]
    return out.set_index(group_cols + ["class"])


@dataclass
class LimeRun:
    """LIME on the selected images: results, their rows of the prediction frame, images and
    landmarks (one per result), the aggregate maps, the count table and the settings that made
    them (``num_samples``, ``seed``, ``segmentation``: complete superpixel settings)."""

    results: list[LimeResult]
    rows: pd.DataFrame
    images: np.ndarray
    landmarks: np.ndarray
    agg: MaskAggregate
    counts: pd.DataFrame
    group_cols: list[str]
    num_samples: int = 1000
    seed: int = 0
    segmentation: dict[str, Any] | None = None


def run_lime(model: TorchClassifier, faces: Mapping[str, FaceSet], preds: pd.DataFrame,
             group_cols: Sequence[str], classes: Sequence[str], *, images_per_class: int,
             num_samples: int, num_features: int, batch_size: int, seed: int,
             segmentation: Mapping[str, Any] | None = None, cache: bool = True,
             progress: bool = False) -> LimeRun:
    """Select (:func:`select_for_lime`), explain (:func:`explain_cached`, superpixels from
    ``segmentation``) and aggregate (:func:`emo_lib.explain.aggregate_masks`) the paper's LIME
    maps.

    ``faces`` maps page names (``preds["dataset"]``) to face sets; ``preds`` is their
    :func:`predict_frame` rows concatenated in the same order."""
    all_images = np.concatenate([faces[d].images for d in pd.unique(preds["dataset"])])
    all_lm = np.concatenate([faces[d].landmarks for d in pd.unique(preds["dataset"])])
    if len(all_images) != len(preds):
        raise ValueError(f"{len(preds)} prediction rows but {len(all_images)} face images: "
                         "concatenate predict_frame outputs in the order of `faces`")
    pos, counts = select_for_lime(preds, group_cols, classes, images_per_class)
    rows = preds.iloc[pos].reset_index(drop=True)
    images, landmarks = all_images[pos], all_lm[pos]
    spec = dict(segmentation or {})
    settings = segmentation_settings(spec.pop("method", "quickshift"),
                                     min(all_images.shape[1:3]), **spec)
    results = explain_cached(model, images, rows["label"].tolist(), num_samples=num_samples,
                             num_features=num_features, seed=seed, batch_size=batch_size,
                             segmentation=settings, cache=cache, progress=progress)
    agg = aggregate_masks(results, rows["label"], rows["pred"], rows[list(group_cols)],
                          n_per_class=images_per_class, classes=list(classes), images=images)
    counts = counts.merge(agg.table[list(group_cols) + ["class", "n_empty_masks"]],
                          on=list(group_cols) + ["class"], how="left")
    return LimeRun(results, rows, images, landmarks, agg, counts, list(group_cols),
                   num_samples=int(num_samples), seed=int(seed), segmentation=settings)


def explain_with_seeds(model: TorchClassifier, lr: LimeRun, seeds: Sequence[int],
                       n_images: int | None = None, *, num_features: int, batch_size: int,
                       cache: bool = True, progress: bool = False
                       ) -> tuple[dict[tuple, list[int]], dict[int, list[LimeResult]]]:
    """The first ``n_images`` images of each map (all with None) explained again with every
    LIME sampling seed in ``seeds``, with the run's superpixels and settings (the run's own seed
    comes from the cache). Returns ({map key: its positions in ``lr.results``}, {seed: one
    result per position, indexed like ``lr.results``; positions not re-explained hold the
    run's result})."""
    picks = {k: (v if n_images is None else v[:n_images]) for k, v in lr.agg.used.items()}
    pos = sorted({i for v in picks.values() for i in v})
    runs: dict[int, list[LimeResult]] = {}
    for s in dict.fromkeys(int(s) for s in seeds):
        out = list(lr.results)
        if pos:
            new = explain_cached(model, lr.images[pos], [lr.results[i].label for i in pos],
                                 num_samples=lr.num_samples, num_features=num_features,
                                 seed=int(s), batch_size=batch_size,
                                 segmentation=lr.segmentation,
                                 segments=[lr.results[i].segments for i in pos], cache=cache,
                                 progress=progress)
            for i, r in zip(pos, new):
                out[i] = r
        runs[int(s)] = out
    return picks, runs


def map_stability(model: TorchClassifier, lr: LimeRun, seeds: Sequence[int],
                  n_images: int | None = None, *, num_features: int, batch_size: int,
                  cache: bool = True, progress: bool = False) -> pd.DataFrame:
    """How much each map changes with LIME's sampling seed: per (group..., class), the map's
    first ``n_images`` images (all with None) are explained with every seed (superpixels
    shared, :func:`explain_with_seeds`); ``mask_iou``: mean pairwise Jaccard index of the
    per-image top-k masks across seeds; ``map_correlation``: mean pairwise Pearson correlation
    of the cell's heat maps (built from those images) across seeds; ``<region>_sd``: standard
    deviation across seeds of the map's region shares; ``max_share_sd``: the largest of them."""
    seeds = [int(s) for s in seeds]
    if len(seeds) < 2:
        raise ValueError(f"stability needs at least two seeds, got {seeds}")
    picks, runs = explain_with_seeds(model, lr, seeds, n_images, num_features=num_features,
                                     batch_size=batch_size, cache=cache, progress=progress)
    rows = []
    for key, members in picks.items():
        ious = [mask_iou(runs[a][j].top_mask, runs[b][j].top_mask)
                for j in members for a, b in combinations(seeds, 2)]
        heats = {s: np.mean([runs[s][j].top_mask for j in members], axis=0) for s in seeds}
        corr = []
        for a, b in combinations(seeds, 2):
            x, y = heats[a].ravel(), heats[b].ravel()
            corr.append(float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0
                        else float(np.array_equal(x, y)))
        lm = lr.landmarks[members].mean(axis=0)
        shares = pd.DataFrame([region_shares(heats[s], lm) for s in seeds])
        row = {**dict(zip(lr.group_cols + ["class"], key)), "n_images": len(members),
               "n_seeds": len(seeds), "mask_iou": float(np.mean(ious)),
               "map_correlation": float(np.mean(corr))}
        row.update({f"{r}_sd": float(shares[r].std(ddof=1)) for r in REGIONS})
        row["max_share_sd"] = max(row[f"{r}_sd"] for r in REGIONS)
        rows.append(row)
    return pd.DataFrame(rows)


def heatmap_figure(lr: LimeRun, classes: Sequence[str], columns: Sequence[tuple]) -> Any:
    """:func:`emo_lib.explain.draw_heatmaps` (red on the mean face, yellow simplified map, a
    colour bar, the number of images in each map's title), with the panels of a class a group
    does not have at all labelled so (draw_heatmaps says "no correct images" for any empty
    cell)."""
    from ..explain import draw_heatmaps

    fig = draw_heatmaps(lr.agg, classes=list(classes), columns=list(columns))
    counts = lr.counts.set_index(lr.group_cols + ["class"])["n_images"]
    n_cols = 2 * len(columns)
    for r, cls in enumerate(classes):
        for c, combo in enumerate(columns):
            key = tuple(combo) + (cls,)
            if counts.get(key, 0) == 0:
                ax = fig.axes[r * n_cols + 2 * c]
                for text in ax.texts:
                    text.set_text("class not in\nthis data set")
    return fig


__all__ = [
    "LimeRun", "explain_cached", "explain_with_seeds", "heatmap_figure",
    "lime_cache", "lime_classes", "lime_counts_vs_paper", "map_stability", "model_fingerprint",
    "run_lime", "select_for_lime",
]
