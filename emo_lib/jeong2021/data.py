"""SE30K8 (or its synthetic stand-in) as images and class indices for Jeong & Kim's grids, and
the data-dependent settings (classes by frequency, Algorithm 1's N_min for this data)."""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Mapping, Sequence

import numpy as np

from ..balance import scaled_n_min
from ..data.manifest import Manifest, class_indices

log = logging.getLogger(__name__)


def label_indices(manifest: Manifest) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices of the manifest's rows and the classes they index. Classes without any
    image are left out (their F1 would be undefined) with a logged warning."""
    counts = manifest.frame["label"].value_counts()
    classes = tuple(c for c in manifest.classes if counts.get(c, 0) > 0)
    empty = [c for c in manifest.classes if c not in classes]
    if empty:
        log.warning("%s: classes %s have no image and are left out of training and scoring",
                    manifest.name, empty)
    return class_indices(manifest.frame["label"], classes, of=manifest.name), classes


def load_se30k8(dataset: str, root: str | None = None, options: Mapping[str, Any] | None = None,
                *, scale: float = 1.0, image_size: int = 224, seed: int = 0,
                progress: bool = False) -> tuple[Manifest, np.ndarray, np.ndarray]:
    """SE30K8 (or its synthetic stand-in) as (manifest, (N, S, S, 3) uint8 images, class
    indices into ``manifest.classes``). ``scale`` and ``seed`` only reach the synthetic
    generator; a real data set is loaded whole and resized to ``image_size``.

    The images come from the uint8 image cache (decoded once, then memory-mapped; see
    :func:`emo_lib.data.images.load_images`), keyed by the synthetic generator's key or, for
    real data, by every file's content; training units read the same file in any process."""
    from ..data.images import load_images

    manifest = se30k8_manifest(dataset, root, options, scale=scale, image_size=image_size,
                               seed=seed)
    labels, classes = label_indices(manifest)
    if classes != manifest.classes:
        manifest = dataclasses.replace(manifest, classes=classes)
    images = load_images(manifest.frame["path"].tolist(), image_size, progress=progress,
                         content_key=content_key(manifest))
    return manifest, images, labels


def se30k8_manifest(dataset: str, root: str | None = None,
                    options: Mapping[str, Any] | None = None, *, scale: float = 1.0,
                    image_size: int = 224, seed: int = 0) -> Manifest:
    """The manifest :func:`load_se30k8` loads (a synthetic set is drawn if not cached)."""
    from ..data import load_dataset, synthetic_options

    return load_dataset(dataset, root or None,
                        **synthetic_options(dataset, size=image_size, seed=seed, scale=scale),
                        **dict(options or {}))


def content_key(manifest: Manifest) -> str | None:
    """What identifies the manifest's image files' content without reading them: the
    generator's key for a synthetic set (it determines every pixel); None for real data (the
    files are then hashed)."""
    key = manifest.meta.get("cache_key") if manifest.synthetic else None
    return f"{manifest.name}:{key}" if key else None


def classes_by_frequency(labels: np.ndarray, classes: Sequence[str]) -> list[str]:
    """``classes`` from the most to the least frequent in ``labels`` (ties: given order)."""
    counts = np.bincount(np.asarray(labels), minlength=len(classes))
    return [classes[i] for i in np.argsort(-counts, kind="stable")]


def effective_n_min(n_min: int, scale: float, synthetic: bool) -> int:
    """Algorithm 1's N_min for this data: scaled with the data when a synthetic set is drawn at
    ``scale`` times the paper's size (:func:`emo_lib.balance.scaled_n_min`), else ``n_min``."""
    return scaled_n_min(n_min, scale) if synthetic else int(n_min)


__all__ = ["classes_by_frequency", "content_key", "effective_n_min", "label_indices",
           "load_se30k8", "se30k8_manifest"]
