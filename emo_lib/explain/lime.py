"""LIME on face images, fast: the same explanations as ``lime``, computed in batches.

:func:`explain_batch` gives the same explanation as ``lime``'s
``LimeImageExplainer(random_state=seed).explain_instance(image, fn, labels=(label,),
top_labels=None, hide_color=None, segmentation_fn=segmenter, ...)``, computed faster:

* the superpixels are computed once per image;
* the design matrix is drawn with the same RNG calls as lime (a fresh ``RandomState(seed)``
  per image, ``randint(0, 2, num_samples * n_superpixels)``, first row set to ones), so the
  perturbation masks are identical;
* the perturbed images are built a whole chunk at once (lime loops over samples and
  superpixels in Python), for a GPU model with torch on its device: the image, its mean-colour
  image and the superpixel map are moved there once per image, each chunk's masks once, and
  the perturbed batch goes to the model without leaving the GPU; on the CPU with numpy (faster
  there, see :class:`_Perturbations`). The images are selections of the same uint8 pixels and
  the mean colours exact float64 sums, so they are the same bytes either way (a test checks
  the torch path against the numpy one on the CPU);
* identical rows of the design matrix are sent to the model once;
* the model sees large batches (``batch_size``, lime's default is 10);
* the local linear model is lime's own ``LimeBase.explain_instance_with_data`` (kernel width
  0.25, cosine distance, Ridge), so the weights are lime's.

Superpixels: lime's quickshift (its default) or SLIC, chosen per call (:func:`make_segmenter`,
:data:`SEGMENTATIONS`); the equivalence with stock lime holds for either, since the same
segmenter object is what stock lime would be given.

Holds the superpixel settings and the per-image explanation; not how explanations are averaged
(:mod:`.aggregate`), mapped to face regions (:mod:`.regions`) or drawn (:mod:`.drawing`).
"""
from __future__ import annotations

import inspect
import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sklearn.metrics
import torch
from lime.lime_image import LimeImageExplainer
from lime.wrappers.scikit_image import SegmentationAlgorithm
from tqdm.auto import tqdm

from ..data.manifest import class_indices
from ..validation import check_choice, check_choices

log = logging.getLogger(__name__)

#: lime's defaults (``LimeImageExplainer`` / ``explain_instance``).
LIME_KERNEL_WIDTH = 0.25
LIME_SURROGATE_FEATURES = 100000   # explain_instance's num_features: keep every superpixel
QUICKSHIFT_KERNEL_SIZE = 4          # lime's quickshift settings (for ~224 px images)
QUICKSHIFT_MAX_DIST = 200
QUICKSHIFT_RATIO = 0.2
QUICKSHIFT_SEED = 42                # skimage's default ``rng`` (lime's random_seed is dropped)
#: SLIC settings for small face crops, chosen by measuring on 30 synthetic 64-px crops (children,
#: adolescents, adults; superpixels counted "on the face" when most of their pixels lie inside
#: the face outline of :mod:`.regions`): ``n_segments=160, compactness=10`` gives ~137
#: superpixels per crop (min 118), ~41 on the face (min 27), in ~0.03 s per image; 120 gives 28
#: on the face, 240 gives 68 (SLIC snaps to a grid, so 160-200 give the same at 64 px; at 96 px
#: 160 gives 34 and 180 gives 48). lime's own quickshift at 64 px gives ~12 per crop and ~6 on
#: the face (kernel 2).
SLIC_N_SEGMENTS = 160
SLIC_COMPACTNESS = 10.0
#: The superpixel algorithms, each with its settings and their defaults (``None``: derived
#: from the image side, see :func:`default_kernel_size`).
SEGMENTATIONS: dict[str, dict[str, Any]] = {
    "quickshift": {"kernel_size": None, "max_dist": QUICKSHIFT_MAX_DIST,
                   "ratio": QUICKSHIFT_RATIO, "seed": QUICKSHIFT_SEED},
    "slic": {"n_segments": SLIC_N_SEGMENTS, "compactness": SLIC_COMPACTNESS, "sigma": 0.0},
}

Segmenter = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------
# superpixels
# --------------------------------------------------------------------------------------------
def default_kernel_size(side: int) -> int:
    """Quickshift kernel for a ``side``-pixel image: lime's 4 at 224 px, scaled down with size.

    Quickshift's kernel is in pixels, so lime's 4 leaves a 64 px face with ~5 superpixels.
    ``ceil(4 * side / 224)`` keeps a few dozen per image at 112 px and above (measured on the
    synthetic faces: 64 px -> 2 -> ~12, 112 px -> 2 -> ~50, 160 px -> 3 -> ~45, 224 px -> 4 ->
    ~45); below that use SLIC (:data:`SLIC_N_SEGMENTS`).
    """
    return int(max(1, min(QUICKSHIFT_KERNEL_SIZE,
                          math.ceil(QUICKSHIFT_KERNEL_SIZE * side / 224 - 1e-9))))


def segmentation_settings(method: str = "quickshift", side: int | None = None,
                          **settings: Any) -> dict[str, Any]:
    """The complete settings of a superpixel algorithm as plain JSON (``{"method": ...,
    every setting}``): ``settings`` override :data:`SEGMENTATIONS`' defaults; quickshift's
    ``kernel_size=None`` becomes :func:`default_kernel_size` of ``side`` (lime's 4 without a
    side). What a cache key records and :func:`make_segmenter` builds.

    Raises ValueError naming the method or setting that does not exist."""
    check_choice("segmentation method", method, SEGMENTATIONS)
    check_choices(f"{method}'s settings", sorted(settings), sorted(SEGMENTATIONS[method]))
    out: dict[str, Any] = {"method": method, **SEGMENTATIONS[method],
                           **{k: v for k, v in settings.items() if v is not None}}
    if method == "quickshift" and out["kernel_size"] is None:
        out["kernel_size"] = default_kernel_size(side) if side else QUICKSHIFT_KERNEL_SIZE
    return out


def make_segmenter(side: int | None = None, method: str = "quickshift",
                   **settings: Any) -> SegmentationAlgorithm:
    """A lime ``SegmentationAlgorithm`` (so the same object can be given to stock lime as
    ``segmentation_fn``) for :func:`segmentation_settings` ``(method, side, **settings)``:
    quickshift as lime uses it, or SLIC (``start_label=0``: superpixels numbered 0..n-1, as lime
    expects)."""
    spec = segmentation_settings(method, side, **settings)
    if spec["method"] == "slic":
        return SegmentationAlgorithm("slic", n_segments=int(spec["n_segments"]),
                                     compactness=float(spec["compactness"]),
                                     sigma=float(spec["sigma"]), start_label=0)
    return SegmentationAlgorithm("quickshift", kernel_size=spec["kernel_size"],
                                 max_dist=spec["max_dist"], ratio=spec["ratio"],
                                 rng=spec["seed"])


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
    seg = torch.from_numpy(np.ascontiguousarray(segments, dtype=np.int64))
    return _mean_colour(torch.from_numpy(np.ascontiguousarray(image)), seg).numpy()


def _mean_colour(image: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
    """:func:`mean_colour_image` on ``image``'s device: (H, W, 3) uint8 from (H, W, 3) uint8
    and (H, W) int64 superpixel ids."""
    n = int(segments.max()) + 1
    flat = segments.reshape(-1)
    counts = torch.bincount(flat, minlength=n).to(torch.float64)
    # Sums of uint8 values are exact in float64, so sum / count equals lime's np.mean bit for
    # bit on any device, and the truncating cast matches lime's assignment into a uint8 image.
    sums = torch.zeros((n, 3), dtype=torch.float64, device=image.device)
    sums.index_add_(0, flat, image.reshape(-1, 3).to(torch.float64))
    means = torch.nan_to_num(sums / counts[:, None])
    return means[segments].to(torch.uint8)


class _Perturbations:
    """The perturbed copies of one image: superpixels whose design-matrix entry is 1 keep their
    pixels, the others take their mean colour (lime's hide_color=None).

    Built with torch on ``device`` for a GPU model (one gather and one select per chunk, and
    the batch never leaves the GPU), with numpy on the CPU (``np.take`` gathers the masks
    several times faster than torch's boolean indexing on one CPU thread: measured 2.1 s vs
    5.0 s for 1000 masks at 224 px). Both select the same uint8 bytes (a test checks it), so
    the path does not change a number. ``torch_on_cpu`` forces the torch path on the CPU."""

    def __init__(self, image: np.ndarray, segments: np.ndarray, device: torch.device,
                 torch_on_cpu: bool = False) -> None:
        self.device = device
        self.shape = image.shape
        self.use_torch = device.type != "cpu" or torch_on_cpu
        seg = np.ascontiguousarray(segments, dtype=np.int64)
        if self.use_torch:
            image_t = torch.from_numpy(np.ascontiguousarray(image)).to(device)
            seg_t = torch.from_numpy(seg).to(device)
            self.image = image_t.reshape(-1)
            self.fudge = _mean_colour(image_t, seg_t).reshape(-1)
            # the superpixel of every pixel-channel value (flat): one gather builds a mask
            self.index = seg_t.reshape(-1).repeat_interleave(3)
        else:
            self.image_np = np.ascontiguousarray(image).ravel()
            self.fudge_np = mean_colour_image(image, seg).ravel()
            self.index_np = np.repeat(seg.ravel(), 3)

    def batch(self, keep: np.ndarray) -> torch.Tensor | np.ndarray:
        """(B, H, W, 3) uint8 for the 0/1 rows ``keep`` (B, n_superpixels): a tensor on the
        device (torch path) or an array (numpy path)."""
        if not self.use_torch:
            # np.where(mask[..., None], image, fudge) on flat pixel-channel arrays: the
            # condition gathered at full size is ~3x faster than broadcasting it.
            shown = np.take(keep, self.index_np, axis=1)               # (B, H*W*3)
            return np.where(shown, self.image_np, self.fudge_np).reshape((-1,) + self.shape)
        rows = torch.from_numpy(np.ascontiguousarray(keep, dtype=bool)).to(self.device)
        shown = rows[:, self.index]                                   # (B, H*W*3)
        return torch.where(shown, self.image, self.fudge).reshape((-1,) + self.shape)


def _model_device(model: Any) -> torch.device | None:
    """The device of a torch model (a ``TorchClassifier``) whose ``predict_proba`` takes uint8
    tensors there; None for anything else (it gets numpy arrays)."""
    from ..classifier import TorchClassifier

    return model.device if isinstance(model, TorchClassifier) else None


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
    """One class index per image: an int as is, a name looked up in ``model.classes``."""
    values = list(np.atleast_1d(np.asarray(labels, dtype=object)))
    if len(values) != n:
        raise ValueError(f"got {len(values)} labels for {n} images; pass one class per image")
    classes = list(getattr(model, "classes", []) or [])
    names = [v for v in values if not isinstance(v, (int, np.integer))]
    lookup = dict(zip(names, class_indices(names, classes, of="the model's classes (labels "
                                                  "are neither indices nor class names)")))
    return [int(v) if isinstance(v, (int, np.integer)) else int(lookup[v]) for v in values]


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
    segmentation: Mapping[str, Any] | None = None,
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
        model: a ``TorchClassifier`` (its perturbed images are built on its device and
            passed as uint8 tensors), anything with ``predict_proba(images[, batch_size])``, or
            a function from a (B, H, W, 3) uint8 batch to (B, n_classes) probabilities (both
            given numpy arrays, built on the CPU).
        images: (N, H, W, 3) uint8.
        labels: the class to explain per image: indices, or names from ``model.classes``.
        num_samples: perturbed samples per image (lime's ``num_samples``).
        num_features: k of the top-k positive superpixel mask.
        segmentation: the superpixel algorithm and settings, ``{"method": "quickshift" or
            "slic", setting: value...}`` (:func:`segmentation_settings`); None: quickshift with
            lime's settings, the kernel scaled to the image size (:func:`default_kernel_size`).
        segmenter: any ``image -> segments`` function instead (overrides ``segmentation``).
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
    device = _model_device(model)
    on = device if device is not None else torch.device("cpu")
    if segmenter is None and segments is None:
        spec = dict(segmentation or {})
        segmenter = make_segmenter(min(images.shape[1:3]), spec.pop("method", "quickshift"),
                                   **spec)

    results = []
    for i in tqdm(range(len(images)), desc="LIME", disable=not progress):
        image = images[i]
        seg = segments[i] if segments is not None else segmenter(image)
        seg = _checked_segments(seg, image, i)
        n_feat = int(seg.max()) + 1
        perturb = _Perturbations(image, seg, on)

        # The same RNG calls as lime's explain_instance -> data_labels (random_seed given, so
        # no draw for the segmenter first); LimeBase shares this RandomState, as in lime.
        explainer = LimeImageExplainer(kernel_width=kernel_width, random_state=seed)
        data = explainer.random_state.randint(0, 2, num_samples * n_feat) \
            .reshape((num_samples, n_feat))
        data[0, :] = 1

        first, slot = _unique_rows(data)
        keep = data[first].astype(bool)
        proba = []
        for start in range(0, len(keep), batch_size):
            batch = perturb.batch(keep[start:start + batch_size])
            if isinstance(batch, torch.Tensor) and device is None:
                batch = batch.cpu().numpy()
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


__all__ = [
    "LIME_KERNEL_WIDTH", "LimeResult", "SEGMENTATIONS", "SLIC_COMPACTNESS", "SLIC_N_SEGMENTS",
    "default_kernel_size", "explain_batch", "make_segmenter", "mean_colour_image",
    "segmentation_settings", "top_positive",
]
