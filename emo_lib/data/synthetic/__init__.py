"""The embedded synthetic default: procedurally drawn frontal faces, no download needed.

Faces are built from facial action units (EMFACS-style prototypes per expression), with age
and gender acting through named, documented mechanisms (see ``book/synthetic_faces.md``).
Presets mirror the papers' counts; results on them measure the mechanisms, never the papers'
data.

    load_preset("cafe_like", seed=0, size=96)      # Manifest of 144-px photos, cached on disk
    spec, expr = sample_face("happy", "child", "female", seed=3)
    image, landmarks = render_face(spec, 144)      # the photograph and its five landmarks

The crops of these faces that the models see, in galleries, are :mod:`emo_lib.face_gallery`.
"""
from .expressions import (
    AU_DESCRIPTIONS, AU_NAMES, EXPRESSION_BY_AGE, NEIGHBOURS, PROTOTYPES, Expression,
    ExpressionStyle, prototype_aus, sample_expression,
)
from .face import FaceSpec, Identity, Pose, Scene, render_face
from .mechanisms import mechanism_table
from .population import maturity, sample_face, sample_identity, sample_photo
from .presets import (
    PHOTO_PER_CROP, PRESETS, adult_counts, cafe_counts, constants, generator_version, load_preset,
    nimh_counts, photo_side, preset_names, se30k8_counts,
)

__all__ = [
    "AU_DESCRIPTIONS", "AU_NAMES", "EXPRESSION_BY_AGE", "NEIGHBOURS", "PROTOTYPES", "Expression",
    "ExpressionStyle", "prototype_aus", "sample_expression", "FaceSpec", "Identity", "Pose",
    "Scene", "render_face", "mechanism_table",
    "maturity", "sample_face", "sample_identity", "sample_photo",
    "PHOTO_PER_CROP", "PRESETS", "adult_counts", "cafe_counts", "constants", "generator_version",
    "load_preset", "nimh_counts", "photo_side", "preset_names", "se30k8_counts",
]
