"""Galleries of synthetic faces (as the models see them: face crops) and the table of age
mechanisms, for the book's pages."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..manifest import EMOTIONS_8
from .expressions import AU_DESCRIPTIONS, EXPRESSION_BY_AGE, INTENSITY_MIN
from .face import render_face
from .face import FaceSpec
from .population import AGE_GEOMETRY, AGE_RANGES, maturity, sample_face
from .presets import photo_side

#: Gallery columns: one identity per age group x gender.
GALLERY_GROUPS: tuple[tuple[str, str], ...] = tuple(
    (age, gender) for age in ("child", "adolescent", "adult") for gender in ("female", "male"))


def face_crop(spec: FaceSpec, size: int, margin: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``spec`` as a photograph for crops of ``size`` and crop its face as
    ``emo_lib.faces.prepare_faces`` crops a preset's images: (crop, landmarks in the crop)."""
    from ...faces import align_face, face_from_landmarks   # lazy: faces imports data

    image, landmarks = render_face(spec, photo_side(size))
    return align_face(image, face_from_landmarks(landmarks), size, margin)


def gallery_array(labels: Sequence[str] = EMOTIONS_8, size: int = 96, seed: int = 0,
                  prototype: bool = True,
                  groups: Sequence[tuple[str, str]] = GALLERY_GROUPS) -> np.ndarray:
    """Face crops (:func:`face_crop`) as one uint8 array of shape
    (len(labels), len(groups), size, size, 3).

    Column ``j`` shows one identity (``groups[j]``, seed ``seed * 100 + j``) in every
    expression; ``prototype=True`` draws each expression's noiseless prototype at intensity 1,
    ``False`` samples it as the presets do (age-dependent intensity, noise, drops, blends).
    """
    out = np.empty((len(labels), len(groups), size, size, 3), dtype=np.uint8)
    for j, (age_group, gender) in enumerate(groups):
        for i, label in enumerate(labels):
            spec, _ = sample_face(label, age_group, gender, seed=seed * 100 + j,
                                  intensity=1.0 if prototype else None)
            out[i, j] = face_crop(spec, size)[0]
    return out


def gallery_figure(labels: Sequence[str] = EMOTIONS_8, size: int = 96, seed: int = 0,
                   prototype: bool = True,
                   groups: Sequence[tuple[str, str]] = GALLERY_GROUPS) -> Any:
    """A matplotlib figure of :func:`gallery_array`: expressions in rows, age group x gender
    in columns."""
    import matplotlib.pyplot as plt

    faces = gallery_array(labels, size, seed, prototype, groups)
    rows, cols = faces.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(1.25 * cols + 0.6, 1.25 * rows + 0.4),
                             squeeze=False)
    for i in range(rows):
        for j in range(cols):
            ax = axes[i, j]
            ax.imshow(faces[i, j], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"{groups[j][0]}\n{groups[j][1]}", fontsize=9)
            if j == 0:
                ax.set_ylabel(labels[i], fontsize=9)
    kind = "prototypes at intensity 1" if prototype else "sampled as in the presets"
    fig.suptitle(f"Synthetic faces: {kind}", fontsize=10)
    fig.tight_layout()
    return fig


#: Mid-age of each group, where the geometry column of :func:`mechanism_table` is evaluated.
def _mid_age(group: str) -> float:
    lo, hi = AGE_RANGES[group]
    return (lo + hi + (0.0 if group == "adult" else 1.0)) / 2.0


def mechanism_table() -> pd.DataFrame:
    """Every constant by which age groups differ, one row each, one column per age group.

    Expression rows come from ``EXPRESSION_BY_AGE``; geometry rows interpolate
    ``AGE_GEOMETRY`` at each group's mid-age (children 5.5, adolescents 14, adults at full
    maturity).
    """
    groups = ("child", "adolescent", "adult")
    rows: list[dict[str, Any]] = []
    meaning = {
        "intensity_mean": "mean expression intensity (scales every prototype AU)",
        "intensity_sd": f"sd of intensity (clipped to [{INTENSITY_MIN}, 1])",
        "au_noise_sd": "per-AU jitter added to each prototype AU",
        "au_dropout": "chance a prototype AU is missing",
        "asymmetry_sd": "per-side jitter of each AU",
        "blend_prob": "chance of blending in the neighbouring expression",
        "blend_weight": "weight range of that neighbour",
        "spurious_sd": "|N(0, sd)| activation of non-prototype AUs",
    }
    for name, text in meaning.items():
        row = {"kind": "expression", "constant": name, "meaning": text}
        for g in groups:
            v = getattr(EXPRESSION_BY_AGE[g], name)
            row[g] = f"{v[0]}-{v[1]}" if isinstance(v, tuple) else v
        rows.append(row)
    m = {g: maturity(_mid_age(g)) for g in groups}
    rows.append({"kind": "geometry", "constant": "maturity", "meaning":
                 "0 at age 2, 1 from 18 on; interpolates every geometry row",
                 **{g: round(m[g], 3) for g in groups}})
    for name, (child, adult) in AGE_GEOMETRY.items():
        rows.append({"kind": "geometry", "constant": name,
                     "meaning": f"child (age 2) {child} -> adult {adult}",
                     **{g: round(child + (adult - child) * m[g], 4) for g in groups}})
    table = pd.DataFrame(rows).set_index(["kind", "constant"])
    return table[[*groups, "meaning"]]


#: Which preset shows each age group in :func:`proportions_table` (as the papers' pages use them).
PROPORTION_PRESETS: tuple[tuple[str, str], ...] = (
    ("synthetic adults", "adult_pretrain"), ("synthetic adolescents", "nimh_like"),
    ("synthetic children", "cafe_like"))


def proportions_table(size: int = 64, seed: int = 0, adult_n: int = 3500,
                      progress: bool = False) -> pd.DataFrame:
    """The presets' face crops measured (``emo_lib.faces.landmark_proportions``) beside the
    reference figures (:mod:`.reference`).

    Rows: synthetic adults, adolescents and children (each preset at ``size`` with ``seed``,
    ``adult_pretrain`` with ``adult_n`` images), then real adults (389 photographs) and the
    children the growth studies describe (5.5 years; their crop fractions follow from the
    cited ratios and the box rule, which fixes eye-to-mouth at 1 / (1.4 x box height factor)).
    Columns: ``n``, the four proportions, ``source``.
    """
    from ...faces import MTCNN_BOX_HEIGHT_PER_EYE_MOUTH, landmark_proportions, prepare_faces
    from .presets import load_preset
    from .reference import (
        CHILD_GROWTH_SOURCE, REAL_ADULT_CROP, REAL_ADULT_CROP_SOURCE, child_landmark_ratios,
    )

    rows = {}
    for group, preset in PROPORTION_PRESETS:
        options = {"n": adult_n} if preset == "adult_pretrain" else {}
        manifest = load_preset(preset, size=size, seed=seed, progress=progress, **options)
        measured = landmark_proportions(prepare_faces(manifest, size, progress=progress))
        rows[group] = {**measured.loc["all"].to_dict(),
                                       "source": f"synthetic:{preset}, {size}-px crops"}
    rows["real adults"] = {"n": 389, **REAL_ADULT_CROP, "source": REAL_ADULT_CROP_SOURCE}
    child = child_landmark_ratios()
    eye_to_mouth = 1.0 / (1.4 * MTCNN_BOX_HEIGHT_PER_EYE_MOUTH)
    interocular = eye_to_mouth / child["eye_to_mouth_ratio"]
    rows["children, growth studies (5.5 years)"] = {
        "n": float("nan"), "interocular": interocular,
        "mouth_width": interocular * child["mouth_per_interocular"],
        "eye_to_mouth": eye_to_mouth, "eye_to_mouth_ratio": child["eye_to_mouth_ratio"],
        "source": CHILD_GROWTH_SOURCE}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "faces"
    return table


__all__ = ["GALLERY_GROUPS", "PROPORTION_PRESETS", "face_crop", "gallery_array",
           "gallery_figure", "mechanism_table", "proportions_table", "AU_DESCRIPTIONS"]
