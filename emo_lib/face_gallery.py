"""Galleries of synthetic faces as the models see them (face crops, cut the way
:func:`emo_lib.faces.prepare_faces` cuts them) and the presets' crop proportions beside the
reference figures, for the book's pages.

It sits above both :mod:`emo_lib.data.synthetic` (which draws the faces) and :mod:`emo_lib.faces`
(which crops them, and reads data); the generator's mechanism table needs no crop and stays with
the generator (:mod:`emo_lib.data.synthetic.mechanisms`). What it does not do: draw data sets or
detect faces in photographs.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .data.manifest import EMOTIONS_8
from .data.synthetic.face import FaceSpec, render_face
from .data.synthetic.population import sample_face
from .data.synthetic.presets import load_preset, photo_side
from .data.synthetic.reference import (
    REAL_ADULT_CROP, REAL_ADULT_CROP_SOURCE, child_growth_source, child_landmark_ratios,
)
from .faces import (
    MTCNN_BOX_HEIGHT_PER_EYE_MOUTH, align_face, face_from_landmarks, landmark_proportions,
    prepare_faces,
)

#: Gallery columns: one identity per age group x gender.
GALLERY_GROUPS: tuple[tuple[str, str], ...] = tuple(
    (age, gender) for age in ("child", "adolescent", "adult") for gender in ("female", "male"))


def face_crop(spec: FaceSpec, size: int, margin: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``spec`` as a photograph for crops of ``size`` and crop its face as
    ``emo_lib.faces.prepare_faces`` crops a preset's images: (crop, landmarks in the crop)."""
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


#: Which preset shows each age group in :func:`proportions_table` (as the papers' pages use them).
PROPORTION_PRESETS: tuple[tuple[str, str], ...] = (
    ("synthetic adults", "adult_pretrain"), ("synthetic adolescents", "nimh_like"),
    ("synthetic children", "cafe_like"))

#: The measured proportions as :func:`proportions_table`'s headers name them (a reader sees
#: names, not the keys of ``landmark_proportions``).
PROPORTION_LABELS: dict[str, str] = {
    "interocular": "eye to eye", "mouth_width": "mouth width", "eye_to_mouth": "eye to mouth",
    "eye_to_mouth_ratio": "eye to mouth / eye to eye"}


def proportions_table(size: int = 64, seed: int = 0, adult_n: int = 3500,
                      progress: bool = False) -> pd.DataFrame:
    """The presets' face crops measured (``emo_lib.faces.landmark_proportions``) beside the
    reference figures (:mod:`.reference`).

    Rows: synthetic adults, adolescents and children (each preset at ``size`` with ``seed``,
    ``adult_pretrain`` with ``adult_n`` images), then real adults (389 photographs) and the
    children the growth studies describe (5.5 years; their crop fractions follow from the
    cited ratios and the box rule, which fixes eye-to-mouth at 1 / (1.4 x box height factor)).
    Columns: ``n``, the four proportions (headed as :data:`PROPORTION_LABELS` names them),
    ``source`` (citations, not BibTeX keys).
    """
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
        "source": child_growth_source()}
    table = pd.DataFrame.from_dict(rows, orient="index").rename(columns=PROPORTION_LABELS)
    table.index.name = "faces"
    return table


__all__ = ["GALLERY_GROUPS", "PROPORTION_LABELS", "PROPORTION_PRESETS", "face_crop",
           "gallery_array", "gallery_figure", "proportions_table"]
