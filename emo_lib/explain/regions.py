"""Face regions from the five landmarks (eyes, nose tip, mouth corners) and how much of a mask
or heat map lies in each: the measurement behind the paper's reading of its LIME maps.

Five regions partition the image: the three the paper names (eyes and brows; glabella and nose
bridge; mouth), **the rest of the face** (inside a face outline, outside those three: cheeks,
forehead, chin) and **outside the face** (hair, ears, neck, background). The face outline is
the ellipse inscribed in the face box :func:`emo_lib.faces.face_from_landmarks` draws around
the landmarks, the box MTCNN draws around a real face, measured on real photographs (see the
constants there): centred on the eye midpoint's perpendicular, ``MTCNN_BOX_CENTRE_BELOW_EYES``
eye-to-mouth distances below the eye line, ``MTCNN_BOX_WIDTH_PER_IOD`` inter-ocular distances
wide and ``MTCNN_BOX_HEIGHT_PER_EYE_MOUTH`` eye-to-mouth distances high. So the outline runs
from about one eye-to-mouth distance above the eyes (mid-forehead: the hairline and the hair
above it count as outside) to the chin, and from cheek to cheek; a box corner is not face.
Measured on synthetic crops, where the drawn head is known, the ellipse lies on it (99.7 %) and
holds four fifths of it below the eyes (:data:`OUTLINE_CHECK`).

Only geometry; nothing here knows about LIME or models.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

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

#: The regions, in order of precedence (a pixel in two counts for the first); together they
#: cover every pixel once.
REGIONS: tuple[str, ...] = ("eyes_brows", "glabella_nose", "mouth", "face_rest", "outside")
#: The regions the paper names when it reads its maps.
NAMED_REGIONS: tuple[str, ...] = ("eyes_brows", "glabella_nose", "mouth")
#: Every region inside the face outline.
FACE_REGIONS: tuple[str, ...] = ("eyes_brows", "glabella_nose", "mouth", "face_rest")
#: How the regions are named on pages.
REGION_LABELS: dict[str, str] = {
    "eyes_brows": "eyes and brows", "glabella_nose": "glabella and nose bridge",
    "mouth": "mouth", "face_rest": "rest of the face", "outside": "outside the face",
}
#: The face-outline ellipse against the head the synthetic generator draws, on 30 synthetic
#: 64-px crops (10 children, 10 adolescents, 10 adults; checked in tests/test_explain.py):
#: the share of the ellipse that lies on the drawn head; the share of the drawn head below the
#: eye line that lies inside the ellipse (the jaw's corners fall outside: the synthetic heads
#: are wider at the jaw than the box of real faces); the share of the whole drawn head inside
#: it (its top is under the hair).
OUTLINE_CHECK: dict[str, float] = {"ellipse_on_face": 0.997, "face_below_eyes_inside": 0.795,
                                   "head_inside": 0.642}


def landmarks_array(landmarks: Any) -> np.ndarray:
    """(5, 2) float array from a (5, 2)/(10,) array or a row with ``LANDMARK_COLUMNS``."""
    from ..data.manifest import LANDMARK_COLUMNS

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
    """Boolean (H, W) masks of the five :data:`REGIONS` (see the constants above and the module
    docstring): disjoint, covering the image. ``size``: the (H, W) (or side) of the image the
    landmarks' pixel coordinates refer to, when it differs from ``shape``."""
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
    named = out["eyes_brows"] | out["glabella_nose"] | out["mouth"]
    out["face_rest"] = face_outline_mask(u, v, float(mouth[:, 1].mean())) & ~named
    out["outside"] = ~(named | out["face_rest"])
    return out


def face_outline_mask(u: np.ndarray, v: np.ndarray, eye_mouth: float) -> np.ndarray:
    """Inside the face outline, in the face frame (``u``, ``v`` in inter-ocular distances; the
    eye-to-mouth distance ``eye_mouth`` too): the ellipse inscribed in the box
    :func:`emo_lib.faces.face_from_landmarks` builds (module docstring)."""
    from ..faces import (
        MTCNN_BOX_CENTRE_BELOW_EYES, MTCNN_BOX_HEIGHT_PER_EYE_MOUTH, MTCNN_BOX_WIDTH_PER_IOD,
    )

    if not eye_mouth > 0:
        raise ValueError(f"the mouth must lie below the eyes to draw a face outline (eye-to-mouth "
                         f"distance {eye_mouth:.3f} inter-ocular distances)")
    half_w = MTCNN_BOX_WIDTH_PER_IOD / 2
    half_h = MTCNN_BOX_HEIGHT_PER_EYE_MOUTH * eye_mouth / 2
    centre_v = MTCNN_BOX_CENTRE_BELOW_EYES * eye_mouth
    return (u / half_w) ** 2 + ((v - centre_v) / half_h) ** 2 <= 1.0


def region_shares(mask_or_heatmap: np.ndarray, landmarks: Any,
                  size: Any = None) -> dict[str, float]:
    """Share of a mask's (or heat map's) mass in each face region; the shares sum to 1.

    Args:
        mask_or_heatmap: (H, W) bool mask or non-negative heat map.
        landmarks: the 5 landmarks (left eye, right eye, nose, mouth left, mouth right) as
            (x, y) pixels, e.g. the mean landmarks of the images behind a heat map.
        size: the (H, W) or side of the image the landmarks refer to (default: the map's).

    Returns:
        :data:`REGIONS` -> share; all NaN for an empty map (no mass to share).
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


def region_areas(landmarks: Any, shape: tuple[int, int], size: Any = None) -> dict[str, float]:
    """Share of the image each region covers: what a map spread evenly over the image would
    put there (the denominator of enrichment)."""
    masks = region_masks(landmarks, shape, size)
    total = float(np.prod(shape))
    return {r: float(masks[r].sum() / total) for r in REGIONS}


__all__ = [
    "FACE_REGIONS", "NAMED_REGIONS", "OUTLINE_CHECK", "REGIONS", "REGION_LABELS",
    "face_outline_mask", "landmarks_array", "region_areas", "region_masks", "region_shares",
]
