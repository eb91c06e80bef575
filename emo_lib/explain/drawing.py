"""Drawing LIME heat maps the paper's way (Figs 4, 7, 8): red on the mean face, yellow on a
simplified map. Only drawing; the maps come from :mod:`.aggregate`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .aggregate import MaskAggregate


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
    map's title names its group and class and the number of images averaged (``n``); a colour
    bar gives the scale (the share of those images whose top-k mask covers a pixel, the same for
    red and yellow). Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

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
            ax_red.set_title(f"{' / '.join(map(str, combo)) or 'all'}: {cls}, n={n_used}",
                             fontsize=7, loc="left")
            if c == 0:
                ax_red.set_ylabel(str(cls), fontsize=9)
            for ax in (ax_red, ax_yel):
                ax.set_xticks([])
                ax.set_yticks([])
    fig.suptitle(f"LIME top-k superpixels, first {agg.n_per_class} correct images per class "
                 "(n: images in the map)\nred: on the mean face; yellow: simplified map",
                 fontsize=9)
    fig.tight_layout(rect=(0.0, 0.0, 0.9, 1.0))
    # The colour bar shows the red overlay on a mid-grey face at each share of images.
    shares = np.linspace(0.0, 1.0, 256)
    swatch = _overlay(np.full((256, 1, 3), 128, np.uint8), shares[:, None], (1.0, 0.0, 0.0),
                      max_alpha)[:, 0]
    cax = fig.add_axes((0.92, 0.2, 0.015, 0.6))
    bar = fig.colorbar(ScalarMappable(Normalize(0.0, 1.0), ListedColormap(swatch)), cax=cax)
    bar.set_label("share of the map's images whose\ntop-k superpixels cover the pixel",
                  fontsize=7)
    bar.ax.tick_params(labelsize=7)
    return fig


def draw_regions(image: np.ndarray, landmarks: Any, alpha: float = 0.45,
                 size: float = 2.6) -> Any:
    """The five face regions (:func:`emo_lib.explain.region_masks`) tinted on ``image`` with
    its five landmarks and a legend: what each region of the tables covers."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from .regions import REGION_LABELS, REGIONS, landmarks_array, region_masks

    image = np.asarray(image)
    masks = region_masks(landmarks, image.shape[:2])
    colours = {"eyes_brows": (0.2, 0.4, 1.0), "glabella_nose": (1.0, 0.6, 0.0),
               "mouth": (0.1, 0.8, 0.2), "face_rest": (0.9, 0.2, 0.2),
               "outside": (0.55, 0.4, 0.75)}
    out = image.astype(float) / 255.0
    for r in REGIONS:
        out[masks[r]] = (1 - alpha) * out[masks[r]] + alpha * np.asarray(colours[r])
    fig, ax = plt.subplots(figsize=(size * 1.9, size))
    ax.imshow(out)
    lm = landmarks_array(landmarks)
    ax.scatter(lm[:, 0], lm[:, 1], s=12, c="white", edgecolors="black", linewidths=0.5)
    ax.set_axis_off()
    ax.legend(handles=[Patch(color=colours[r], label=REGION_LABELS[r]) for r in REGIONS],
              loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


__all__ = ["draw_heatmaps", "draw_regions"]
