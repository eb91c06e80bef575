"""LIME on face images, fast, and the paper's way of reading it (Noh & Lim 2023, Figs 4, 7, 8).

:func:`explain_batch` gives the same explanation as ``lime``'s
``LimeImageExplainer(random_state=seed).explain_instance(image, fn, labels=(label,),
top_labels=None, hide_color=None, segmentation_fn=segmenter, ...)``, computed faster:

* the superpixels are computed once per image;
* the design matrix is drawn with the same RNG calls as lime (a fresh ``RandomState(seed)``
  per image, ``randint(0, 2, num_samples * n_superpixels)``, first row set to ones), so the
  perturbation masks are identical;
* the perturbed images are built in numpy for a whole chunk at once (lime loops over samples
  and superpixels in Python);
* identical rows of the design matrix are sent to the model once;
* the model sees large batches (``batch_size``, lime's default is 10);
* the local linear model is lime's own ``LimeBase.explain_instance_with_data`` (kernel width
  0.25, cosine distance, Ridge), so the weights are lime's.

Then :func:`aggregate_masks` averages the top-k positive superpixel masks of the first N
correctly classified images per class and group (N = 10 in the paper) into heat maps,
:func:`draw_heatmaps` draws them, :func:`region_shares` measures how much of a map lies on the
eyes and brows, the glabella and nose, or the mouth, and :func:`stability` measures how much a
top-k mask changes with LIME's seed.
"""
from __future__ import annotations

import inspect
import logging
import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import sklearn.metrics
from lime.lime_image import ImageExplanation, LimeImageExplainer
from lime.wrappers.scikit_image import SegmentationAlgorithm
from tqdm.auto import tqdm

log = logging.getLogger(__name__)

#: lime's defaults (``LimeImageExplainer`` / ``explain_instance``).
LIME_KERNEL_WIDTH = 0.25
LIME_SURROGATE_FEATURES = 100000   # explain_instance's num_features: keep every superpixel
QUICKSHIFT_KERNEL_SIZE = 4          # lime's quickshift settings (for ~224 px images)
QUICKSHIFT_MAX_DIST = 200
QUICKSHIFT_RATIO = 0.2
QUICKSHIFT_SEED = 42                # skimage's default ``rng`` (lime's random_seed is dropped)

Segmenter = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------
# superpixels
# --------------------------------------------------------------------------------------------
def default_kernel_size(side: int) -> int:
    """Quickshift kernel for a ``side``-pixel image: lime's 4 at 224 px, scaled down with size.

    Quickshift's kernel is in pixels, so lime's 4 leaves a 64 px face with ~5 superpixels.
    ``ceil(4 * side / 224)`` keeps a few dozen per face (measured on the synthetic faces:
    64 px -> 2 -> ~18, 112 px -> 2 -> ~50, 160 px -> 3 -> ~45, 224 px -> 4 -> ~45).
    """
    return int(max(1, min(QUICKSHIFT_KERNEL_SIZE,
                          math.ceil(QUICKSHIFT_KERNEL_SIZE * side / 224 - 1e-9))))


def make_segmenter(
    side: int | None = None,
    kernel_size: int | None = None,
    max_dist: float = QUICKSHIFT_MAX_DIST,
    ratio: float = QUICKSHIFT_RATIO,
    seed: int = QUICKSHIFT_SEED,
) -> SegmentationAlgorithm:
    """lime's quickshift segmenter (a ``lime`` ``SegmentationAlgorithm``, so the same object
    can be given to stock lime as ``segmentation_fn``).

    ``kernel_size=None`` picks :func:`default_kernel_size` for ``side`` (lime's 4 if no side).
    """
    if kernel_size is None:
        kernel_size = default_kernel_size(side) if side else QUICKSHIFT_KERNEL_SIZE
    return SegmentationAlgorithm("quickshift", kernel_size=kernel_size, max_dist=max_dist,
                                 ratio=ratio, rng=seed)


def _checked_segments(segments: np.ndarray, image: np.ndarray, index: int) -> np.ndarray:
    segments = np.asarray(segments)
    if segments.shape != image.shape[:2]:
        raise ValueError(f"image {index}: segments have shape {segments.shape}, the image "
                         f"{image.shape[:2]}")
    ids = np.unique(segments)
    if ids[0] != 0 or ids[-1] != len(ids) - 1:
        # lime indexes superpixels 0..n-1; other labels (slic's start_label=1) would leave a
        # superpixel never hidden, so relabel instead of copying that bug.
        log.warning("image %d: segment labels are not 0..n-1 (%s..%s, %d labels); relabelled",
                    index, ids[0], ids[-1], len(ids))
        segments = np.searchsorted(ids, segments)
    return segments.astype(np.int64, copy=False)


def mean_colour_image(image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Each superpixel filled with its mean colour, truncated to uint8 (lime, hide_color=None)."""
    n = int(segments.max()) + 1
    flat = segments.ravel()
    counts = np.bincount(flat, minlength=n).astype(np.float64)
    # Sums of uint8 values are exact in float64, so sum / count equals lime's np.mean bit for
    # bit, and the truncating cast matches lime's assignment into a uint8 image.
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.stack([np.bincount(flat, weights=image[..., c].ravel().astype(np.float64),
                                      minlength=n) for c in range(3)], axis=1) / counts[:, None]
    return np.nan_to_num(means)[segments].astype(np.uint8)


# --------------------------------------------------------------------------------------------
# explanations
# --------------------------------------------------------------------------------------------
@dataclass
class LimeResult:
    """One image's LIME explanation for one class.

    Attributes:
        index: position of the image in the batch.
        label: the explained class index.
        segments: (H, W) superpixel ids 0..n-1.
        weights: (n,) the local linear model's weight per superpixel.
        local_exp: lime's ``(superpixel, weight)`` list, by decreasing absolute weight.
        intercept, score, local_pred: the surrogate's intercept, weighted R^2 and prediction on
            the unperturbed image (lime's return values).
        top_features: the superpixels of the top-k positive mask, in lime's order.
        top_mask: (H, W) bool, those superpixels (lime's ``get_image_and_mask(label,
            positive_only=True, num_features=k)``).
        data: the (num_samples, n) 0/1 design matrix (kept for checks; None if dropped).
        n_evaluated: distinct perturbed images the model was run on (<= num_samples).
        seed: the LIME sampling seed.
    """

    index: int
    label: int
    segments: np.ndarray
    weights: np.ndarray
    local_exp: list[tuple[int, float]]
    intercept: float
    score: float
    local_pred: float
    top_features: list[int]
    top_mask: np.ndarray
    data: np.ndarray | None
    n_evaluated: int
    seed: int

    @property
    def n_segments(self) -> int:
        return len(self.weights)

    def to_lime(self, image: np.ndarray) -> ImageExplanation:
        """The equivalent ``lime`` ImageExplanation (for lime's own plotting helpers)."""
        exp = ImageExplanation(image, self.segments)
        exp.intercept[self.label] = self.intercept
        exp.local_exp[self.label] = list(self.local_exp)
        exp.score, exp.local_pred = self.score, np.array([self.local_pred])
        return exp


def top_positive(local_exp: Sequence[tuple[int, float]], k: int) -> list[int]:
    """lime's top-k positive superpixels: by decreasing |weight|, keeping weights > 0."""
    return [int(f) for f, w in local_exp if w > 0][:k]


def _predict_fn(model: Any, batch_size: int | None) -> Callable[[np.ndarray], np.ndarray]:
    if hasattr(model, "predict_proba"):
        fn = model.predict_proba
        try:
            takes_bs = "batch_size" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            takes_bs = False
        return (lambda x: fn(x, batch_size=batch_size)) if takes_bs else fn
    if callable(model):
        return model
    raise TypeError(f"model must have predict_proba(images) or be callable, got "
                    f"{type(model).__name__}")


def _label_indices(model: Any, labels: Sequence[Any], n: int) -> list[int]:
    labels = list(np.atleast_1d(np.asarray(labels, dtype=object)))
    if len(labels) != n:
        raise ValueError(f"got {len(labels)} labels for {n} images; pass one class per image")
    classes = list(getattr(model, "classes", []) or [])
    out = []
    for i, lab in enumerate(labels):
        if isinstance(lab, (int, np.integer)):
            out.append(int(lab))
        elif lab in classes:
            out.append(classes.index(lab))
        else:
            raise ValueError(f"label {lab!r} of image {i} is neither a class index nor one of "
                             f"the model's classes {classes}")
    return out


def _unique_rows(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first occurrence of each distinct row (in order) and each row's slot."""
    packed = np.packbits(data.astype(bool), axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)
    slot = np.empty_like(order)
    slot[order] = np.arange(len(order))
    return first[order], slot[np.ravel(inverse)]


def explain_batch(
    model: Any,
    images: np.ndarray,
    labels: Sequence[Any],
    *,
    num_samples: int = 1000,
    num_features: int = 5,
    kernel_size: int | None = None,
    max_dist: float = QUICKSHIFT_MAX_DIST,
    ratio: float = QUICKSHIFT_RATIO,
    segmenter: Segmenter | None = None,
    segments: Sequence[np.ndarray] | None = None,
    batch_size: int = 256,
    model_batch_size: int | None = None,
    seed: int = 0,
    kernel_width: float = LIME_KERNEL_WIDTH,
    keep_data: bool = False,
    progress: bool = True,
) -> list[LimeResult]:
    """Explain ``labels[i]`` for ``images[i]`` with LIME, for every image.

    Args:
        model: a ``TorchClassifier`` (anything with ``predict_proba(images[, batch_size])``), or
            a function from a (B, H, W, 3) uint8 batch to (B, n_classes) probabilities.
        images: (N, H, W, 3) uint8.
        labels: the class to explain per image: indices, or names from ``model.classes``.
        num_samples: perturbed samples per image (lime's ``num_samples``).
        num_features: k of the top-k positive superpixel mask.
        kernel_size, max_dist, ratio: quickshift settings (lime's defaults; ``kernel_size=None``
            scales lime's 4 to the image size, see :func:`default_kernel_size`).
        segmenter: any ``image -> segments`` function instead of quickshift.
        segments: precomputed superpixels, one (H, W) array per image (overrides segmenter).
        batch_size: perturbed images built and sent to the model per call (lime sends 10).
        model_batch_size: images per forward pass inside ``model.predict_proba``; None keeps
            the model's own ``batch_size`` (TorchClassifier: chosen per device). Measured with
            MobileNetV3-Small on 2 CPU cores, 16-64 beats 256 at 224 px (cache); on a GPU use
            256 or more.
        seed: LIME sampling seed. Each image draws from a fresh ``RandomState(seed)``, exactly
            as a fresh ``LimeImageExplainer(random_state=seed)`` would, so any single image
            can be checked against stock lime.
        kernel_width: lime's proximity kernel width.
        keep_data: keep each design matrix in the result (memory: num_samples x n bytes x 8).

    Returns:
        One :class:`LimeResult` per image.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be (N, H, W, 3) uint8, got {images.dtype} {images.shape}")
    if segments is not None and len(segments) != len(images):
        raise ValueError(f"got {len(segments)} segment maps for {len(images)} images")
    label_idx = _label_indices(model, labels, len(images))
    predict = _predict_fn(model, model_batch_size)
    if segmenter is None and segments is None:
        segmenter = make_segmenter(min(images.shape[1:3]), kernel_size, max_dist, ratio)

    results = []
    for i in tqdm(range(len(images)), desc="LIME", disable=not progress):
        image = images[i]
        seg = segments[i] if segments is not None else segmenter(image)
        seg = _checked_segments(seg, image, i)
        n_feat = int(seg.max()) + 1
        fudge = mean_colour_image(image, seg)

        # The same RNG calls as lime's explain_instance -> data_labels (random_seed given, so
        # no draw for the segmenter first); LimeBase shares this RandomState, as in lime.
        explainer = LimeImageExplainer(kernel_width=kernel_width, random_state=seed)
        data = explainer.random_state.randint(0, 2, num_samples * n_feat) \
            .reshape((num_samples, n_feat))
        data[0, :] = 1

        first, slot = _unique_rows(data)
        keep = data[first].astype(bool)
        # np.where(mask[..., None], image, fudge) on flat pixel-channel arrays: the condition
        # gathered at full size is ~3x faster than broadcasting it over the channel axis.
        seg3 = np.repeat(seg.ravel(), 3)
        image_flat, fudge_flat = image.ravel(), fudge.ravel()
        proba = []
        for start in range(0, len(keep), batch_size):
            shown = np.take(keep[start:start + batch_size], seg3, axis=1)  # (B, H*W*3)
            batch = np.where(shown, image_flat, fudge_flat).reshape((-1,) + image.shape)
            proba.append(np.asarray(predict(batch)))
        proba_all = np.concatenate(proba)[slot]
        if not 0 <= label_idx[i] < proba_all.shape[1]:
            raise ValueError(f"label {label_idx[i]} of image {i} is out of range for a model "
                             f"with {proba_all.shape[1]} outputs")

        distances = sklearn.metrics.pairwise_distances(
            data, data[0].reshape(1, -1), metric="cosine").ravel()
        intercept, local_exp, score, local_pred = explainer.base.explain_instance_with_data(
            data, proba_all, distances, label_idx[i], LIME_SURROGATE_FEATURES,
            model_regressor=None, feature_selection=explainer.feature_selection)
        weights = np.zeros(n_feat)
        for f, w in local_exp:
            weights[f] = w
        top = top_positive(local_exp, num_features)
        results.append(LimeResult(
            index=i, label=label_idx[i], segments=seg, weights=weights,
            local_exp=[(int(f), float(w)) for f, w in local_exp], intercept=float(intercept),
            score=float(score), local_pred=float(np.ravel(local_pred)[0]), top_features=top,
            top_mask=np.isin(seg, top), data=data if keep_data else None,
            n_evaluated=len(first), seed=seed))
    return results


# --------------------------------------------------------------------------------------------
# stability
# --------------------------------------------------------------------------------------------
def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard index of two boolean masks; two empty masks count as identical (1.0)."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def stability(
    model: Any,
    images: np.ndarray,
    labels: Sequence[Any],
    seeds: Sequence[int] = (0, 1, 2),
    **explain_options: Any,
) -> pd.DataFrame:
    """How much the top-k mask of each image changes with LIME's sampling seed.

    The superpixels are computed once and shared by every seed, so only the sampling varies.
    Returns one row per image: ``image``, ``label``, ``n_segments``, ``mean_iou`` (mean pairwise
    Jaccard index of the top-k masks across ``seeds``) and ``min_iou``.
    """
    if len(seeds) < 2:
        raise ValueError("stability needs at least two seeds")
    runs = [explain_batch(model, images, labels, seed=seeds[0], **explain_options)]
    explain_options = {k: v for k, v in explain_options.items() if k != "segmenter"}
    explain_options["segments"] = [r.segments for r in runs[0]]
    runs += [explain_batch(model, images, labels, seed=s, **explain_options) for s in seeds[1:]]
    rows = []
    for i in range(len(images)):
        ious = [mask_iou(runs[a][i].top_mask, runs[b][i].top_mask)
                for a, b in combinations(range(len(runs)), 2)]
        rows.append({"image": i, "label": runs[0][i].label,
                     "n_segments": runs[0][i].n_segments, "mean_iou": float(np.mean(ious)),
                     "min_iou": float(np.min(ious))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# aggregation (the paper's 10 images per class)
# --------------------------------------------------------------------------------------------
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

    def region_table(self, landmarks: np.ndarray, size: Any = None) -> pd.DataFrame:
        """:func:`region_shares` of every heat map, with the mean landmarks of its images.

        ``landmarks``: (N, 5, 2) per result (same order as ``results``), or one (5, 2) set for
        all (e.g. the aligned template); ``size``: the frame the landmarks are in (see
        :func:`region_shares`).
        """
        lm = np.asarray(landmarks, dtype=float)
        rows = []
        for key, heat in self.heatmaps.items():
            mean_lm = lm if lm.ndim == 2 else lm[self.used[key]].mean(axis=0)
            rows.append({**dict(zip(self.group_cols + ["class"], key)),
                         **region_shares(heat, mean_lm, size)})
        return pd.DataFrame(rows)


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
    if n_per_class < 1:
        raise ValueError("n_per_class must be at least 1")
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


# --------------------------------------------------------------------------------------------
# drawing (Figs 4, 7, 8)
# --------------------------------------------------------------------------------------------
def _overlay(base: np.ndarray, heat: np.ndarray, colour: Sequence[float], max_alpha: float) -> \
        np.ndarray:
    base = base.astype(float) / 255.0
    alpha = (np.clip(heat, 0, 1) * max_alpha)[..., None]
    return base * (1 - alpha) + np.asarray(colour, dtype=float) * alpha


def draw_heatmaps(
    agg: MaskAggregate,
    classes: Sequence[Any] | None = None,
    columns: Sequence[tuple] | None = None,
    threshold: float = 0.5,
    max_alpha: float = 0.85,
    panel_size: float = 1.6,
) -> Any:
    """A grid of heat maps: one row per class; per group two panels, the map in red on the mean
    face and in yellow on a simplified map (the dimmed grey face with the superpixels chosen
    in at least ``threshold`` of the images outlined), as the paper's Figs 4, 7, 8.

    ``columns``: the group keys to draw, in order (default: every group of ``agg``); each
    panel's title gives the number of images averaged. Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    classes = list(classes) if classes is not None else list(agg.classes)
    if columns is None:
        columns = list(dict.fromkeys(k[:-1] for k in agg.used)) or [()]
    columns = [tuple(c) if isinstance(c, (tuple, list)) else (c,) for c in columns]
    shape = next(iter(agg.heatmaps.values())).shape if agg.heatmaps else (8, 8)
    fig, axes = plt.subplots(len(classes), 2 * len(columns), squeeze=False,
                             figsize=(panel_size * 2 * len(columns), panel_size * len(classes)))
    for r, cls in enumerate(classes):
        for c, combo in enumerate(columns):
            key = combo + (cls,)
            heat = agg.heatmaps.get(key)
            face = agg.mean_images.get(key, np.full(shape + (3,), 160, np.uint8))
            grey = np.repeat(face.mean(axis=2, keepdims=True), 3, axis=2)
            simple = 40 + 0.35 * grey
            ax_red, ax_yel = axes[r, 2 * c], axes[r, 2 * c + 1]
            if heat is None:
                ax_red.imshow(face)
                ax_yel.imshow(simple.astype(np.uint8))
                ax_red.text(0.5, 0.5, "no correct\nimages", ha="center", va="center",
                            transform=ax_red.transAxes, color="white", fontsize=8)
            else:
                ax_red.imshow(_overlay(face, heat, (1.0, 0.0, 0.0), max_alpha))
                ax_yel.imshow(_overlay(simple, heat, (1.0, 0.9, 0.0), max_alpha))
                if heat.max() >= threshold:
                    ax_yel.contour(heat >= threshold, levels=[0.5], colors="yellow",
                                   linewidths=0.8)
            n_used = len(agg.used.get(key, []))
            if r == 0:
                ax_red.set_title(" / ".join(map(str, combo)) or "all", fontsize=9, loc="left")
            ax_red.set_xlabel(f"n={n_used}", fontsize=7, labelpad=1)
            if c == 0:
                ax_red.set_ylabel(str(cls), fontsize=9)
            for ax in (ax_red, ax_yel):
                ax.set_xticks([])
                ax.set_yticks([])
    fig.suptitle(f"LIME top-k superpixels, first {agg.n_per_class} correct images per class\n"
                 "red: on the mean face; yellow: simplified map", fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# regions of the face from the five landmarks
# --------------------------------------------------------------------------------------------
# Geometry in a face frame: origin at the midpoint of the eyes, u along the line from the left
# to the right eye, v perpendicular to it pointing down the face, both in units of the
# inter-ocular distance (IOD), so the eyes sit at (-0.5, 0) and (0.5, 0) whatever the face's
# size, position or roll. Boxes are assigned in the order eyes_brows, glabella_nose, mouth: a
# pixel inside two regions counts for the first.
EYE_HALF_WIDTH = 0.35       # each eye box spans eye_u +- 0.35 IOD (the boxes leave 0.3 IOD between)
BROW_ABOVE = 0.45           # eye boxes reach 0.45 IOD above the eye line (covers the brows)
EYE_BELOW = 0.20            # ... and 0.20 IOD below it (lower lid)
GLABELLA_HALF_WIDTH = 0.15  # glabella: |u| <= 0.15 IOD, from the brow line down to the eye line
NOSE_HALF_WIDTH = 0.20      # nose: 0.20 IOD either side of the line from eye midpoint to nose tip
NOSE_BELOW = 0.10           # ... down to 0.10 IOD below the nose tip
MOUTH_SIDE = 0.15           # mouth box: corners +- 0.15 IOD sideways
MOUTH_ABOVE = 0.20          # ... from 0.20 IOD above the higher corner
MOUTH_BELOW = 0.25          # ... to 0.25 IOD below the lower corner (lower lip)

REGIONS: tuple[str, ...] = ("eyes_brows", "glabella_nose", "mouth", "other")


def landmarks_array(landmarks: Any) -> np.ndarray:
    """(5, 2) float array from a (5, 2)/(10,) array or a row with ``LANDMARK_COLUMNS``."""
    from .data.manifest import LANDMARK_COLUMNS

    if isinstance(landmarks, (pd.Series, Mapping)):
        missing = [c for c in LANDMARK_COLUMNS if c not in landmarks]
        if missing:
            raise ValueError(f"landmarks lack columns {missing}")
        landmarks = [landmarks[c] for c in LANDMARK_COLUMNS]
    lm = np.asarray(landmarks, dtype=float).reshape(-1)
    if lm.size != 10 or not np.isfinite(lm).all():
        raise ValueError(f"expected 5 finite (x, y) landmarks (left eye, right eye, nose, mouth "
                         f"left, mouth right), got {np.asarray(landmarks).tolist()}")
    return lm.reshape(5, 2)


def region_masks(landmarks: Any, shape: tuple[int, int], size: Any = None) -> dict[str, np.ndarray]:
    """Boolean (H, W) masks of the regions (see the constants above), disjoint, covering the
    image together with "other". ``size``: the (H, W) (or side) of the image the landmarks'
    pixel coordinates refer to, when it differs from ``shape``."""
    lm = landmarks_array(landmarks)
    h, w = shape
    if size is not None:
        sh, sw = (size, size) if np.isscalar(size) else size
        lm = lm * np.array([w / sw, h / sh])
    le, re, nose, ml, mr = lm
    iod = float(np.hypot(*(re - le)))
    if iod <= 0:
        raise ValueError(f"the two eye landmarks coincide ({le.tolist()}); cannot build regions")
    ex = (re - le) / iod
    ey = np.array([-ex[1], ex[0]])
    mid = (le + re) / 2

    def frame(p: np.ndarray) -> np.ndarray:
        d = p - mid
        return np.stack([d @ ex, d @ ey], axis=-1) / iod

    yy, xx = np.mgrid[0:h, 0:w]
    # landmarks put pixel centres at integer coordinates (MTCNN, the synthetic generator)
    uv = frame(np.stack([xx, yy], axis=-1).astype(float))
    u, v = uv[..., 0], uv[..., 1]
    nose_u, nose_v = frame(nose)
    mouth = frame(np.stack([ml, mr]))

    in_v_eye = (v >= -BROW_ABOVE) & (v <= EYE_BELOW)
    eyes = in_v_eye & ((np.abs(u + 0.5) <= EYE_HALF_WIDTH) | (np.abs(u - 0.5) <= EYE_HALF_WIDTH))
    glabella = (v >= -BROW_ABOVE) & (v < 0) & (np.abs(u) <= GLABELLA_HALF_WIDTH)
    t = np.clip(v / nose_v, 0, 1) if nose_v > 0 else np.zeros_like(v)
    nose_box = (v >= 0) & (v <= nose_v + NOSE_BELOW) & (np.abs(u - t * nose_u) <= NOSE_HALF_WIDTH)
    mouth_box = ((u >= mouth[:, 0].min() - MOUTH_SIDE) & (u <= mouth[:, 0].max() + MOUTH_SIDE)
                 & (v >= mouth[:, 1].min() - MOUTH_ABOVE) & (v <= mouth[:, 1].max() + MOUTH_BELOW))
    out = {"eyes_brows": eyes}
    out["glabella_nose"] = (glabella | nose_box) & ~eyes
    out["mouth"] = mouth_box & ~eyes & ~out["glabella_nose"]
    out["other"] = ~(out["eyes_brows"] | out["glabella_nose"] | out["mouth"])
    return out


def region_shares(mask_or_heatmap: np.ndarray, landmarks: Any,
                  size: Any = None) -> dict[str, float]:
    """Share of a mask's (or heat map's) mass in each face region; the shares sum to 1.

    Args:
        mask_or_heatmap: (H, W) bool mask or non-negative heat map.
        landmarks: the 5 landmarks (left eye, right eye, nose, mouth left, mouth right) as
            (x, y) pixels, e.g. the mean landmarks of the images behind a heat map.
        size: the (H, W) or side of the image the landmarks refer to (default: the map's).

    Returns:
        ``{"eyes_brows", "glabella_nose", "mouth", "other"} -> share``; all NaN for an empty
        map (no mass to share).
    """
    heat = np.asarray(mask_or_heatmap, dtype=float)
    if heat.ndim != 2:
        raise ValueError(f"expected an (H, W) mask or heat map, got shape {heat.shape}")
    if (heat < 0).any():
        raise ValueError("a heat map for region shares must be non-negative")
    total = heat.sum()
    masks = region_masks(landmarks, heat.shape, size)
    if total == 0:
        return {name: float("nan") for name in REGIONS}
    return {name: float(heat[masks[name]].sum() / total) for name in REGIONS}


__all__ = [
    "LimeResult", "MaskAggregate", "REGIONS", "aggregate_masks", "default_kernel_size",
    "draw_heatmaps", "explain_batch", "landmarks_array", "make_segmenter", "mask_iou",
    "mean_colour_image", "region_masks", "region_shares", "stability", "top_positive",
]
