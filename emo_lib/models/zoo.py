"""torchvision backbones for paper 2: EfficientNet-B0..B5, ResNet-50, VGG-16 (the paper's),
and MobileNetV3-Small/-Large and ResNet-18 (small enough to fine-tune on a CPU in seconds).

Each constructor builds the ImageNet architecture, sets its initial weights, and replaces the
classification head for ``classes``. The initial weights (``weights``):

- ``"random"`` (the default): torchvision's random initialisation.
- ``"imagenet"`` (or ``pretrained=True``, the paper profile's path): torchvision's ImageNet
  weights from its cache (``$TORCH_HOME``; downloaded when online) or from a local
  ``weights_path``; when neither works the model keeps its random initialisation, a warning says
  so, and ``info["pretrained"]`` is False: a page can then say it was not a transfer-learning run.
- ``"synthetic_faces"``: the backbone pretrained once on synthetic faces
  (:mod:`emo_lib.models.face_pretraining`, on the CPU, cached by recipe; ``pretraining``
  overrides its budget). Every layer but the last classification layer comes from that pretraining
  (BatchNorm running statistics included; BatchNorm momentum 0.1, as in that pretraining); the
  last layer is new, ``len(classes)``-way, with torch's default initialisation drawn from the
  global RNG (seed it first: training code does).

:func:`freeze_prefixes` names a backbone's first feature blocks for
:class:`emo_lib.train.FitConfig` ``freeze`` (fine-tuning the later blocks only: a CPU economy).
:func:`count_params_flops` counts a module's size.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn as nn
import torchvision
from torch.utils.flop_counter import FlopCounterMode

from ..classifier import TorchClassifier
from ..device import resolve_device
from ..validation import check_choice, check_int
from . import families, register_model
from .heads import replace_head

log = logging.getLogger(__name__)

#: The paper's backbones.
ZOO_NAMES: tuple[str, ...] = tuple(f"efficientnet_b{i}" for i in range(6)) + ("resnet50", "vgg16")
#: Smaller backbones for CPU runs (the smoke profile): not the paper's, registered alike
#: (the compound-scaled MobileNetV3-Small family and the narrow ResNet-18: :mod:`.families`).
CPU_NAMES: tuple[str, ...] = ("mobilenet_v3_small", "mobilenet_v3_large", "resnet18",
                              *families.CUSTOM_NAMES)
BACKBONE_NAMES: tuple[str, ...] = ZOO_NAMES + CPU_NAMES
#: ``weights`` choices (``pretrained=True`` is ``"imagenet"``).
WEIGHTS_CHOICES: tuple[str, ...] = ("random", "imagenet", "synthetic_faces")

#: Smallest input each architecture accepts (VGG-16's five 2x2 max-pools need 32 px; its
#: adaptive average pool then stretches the 1x1 map to the 7x7 the classifier expects).
MIN_INPUT_SIZE = {"vgg16": 32}


def _load_imagenet(module: nn.Module, arch: str, weights_path: str | Path | None
                   ) -> tuple[bool, str]:
    """Try to put ImageNet weights into ``module``; return (loaded, where from / why not)."""
    if arch in families.CUSTOM_NAMES:
        return False, f"{arch} has no ImageNet weights (built here: {families.describe(arch)})"
    if weights_path is not None:
        path = Path(weights_path)
        if not path.is_file():
            raise FileNotFoundError(f"weights_path {path} does not exist; give a torchvision "
                                    f"ImageNet state dict for {arch} or leave it unset")
        state = torch.load(path, map_location="cpu", weights_only=True)
        module.load_state_dict(state)
        return True, str(path)
    weights = torchvision.models.get_model_weights(arch).DEFAULT
    try:
        state = weights.get_state_dict(progress=False, check_hash=True)
    except Exception as err:  # no internet, no cache, corrupt file: train from scratch instead
        return False, f"{weights} unavailable ({type(err).__name__}: {err})"
    module.load_state_dict(state)
    return True, str(weights)


def imagenet_file(arch: str) -> Path | None:
    """Where torchvision keeps ``arch``'s ImageNet weights (``torch.hub.get_dir()``, i.e.
    ``$TORCH_HOME/hub``, ``checkpoints/<file>``), whether or not the file is there; None for a
    network without ImageNet weights (:mod:`.families`)."""
    if arch in families.CUSTOM_NAMES:
        return None
    url = torchvision.models.get_model_weights(arch).DEFAULT.url
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name


def cached_imagenet_source(arch: str) -> str | None:
    """The ImageNet weights ``build_backbone(arch, pretrained=True)`` would load, named as its
    ``info["weights"]`` names them, when their file is in torchvision's cache; None when it is
    not (nothing is downloaded: ``emo-book plan`` asks this)."""
    path = imagenet_file(arch)
    if path is None or not path.is_file():
        return None
    return str(torchvision.models.get_model_weights(arch).DEFAULT)


@lru_cache(maxsize=None)
def feature_blocks(arch: str) -> tuple[tuple[str, ...], ...]:
    """The parameter-name prefixes of ``arch``'s feature blocks, input side first: one entry per
    ``features.<i>`` stage (EfficientNet, MobileNetV3), the stem and ``layer1``-``layer4``
    (ResNet), or each convolution stage between two max-pools (VGG)."""
    check_choice("backbone", arch, BACKBONE_NAMES)
    with torch.device("meta"):  # the layout only: nothing allocated or initialised
        module = families.build(arch)
    if arch.startswith("resnet"):
        return (("conv1.", "bn1."), ("layer1.",), ("layer2.",), ("layer3.",), ("layer4.",))
    if arch.startswith("vgg"):
        stages: list[tuple[str, ...]] = []
        current: list[str] = []
        for i, layer in enumerate(module.features):
            if isinstance(layer, nn.Conv2d):
                current.append(f"features.{i}.")
            elif isinstance(layer, nn.MaxPool2d) and current:
                stages.append(tuple(current))
                current = []
        return tuple(stages)
    return tuple((f"features.{i}.",) for i in range(len(module.features)))


def freeze_prefixes(arch: str, n_blocks: int) -> tuple[str, ...]:
    """Prefixes of the first ``n_blocks`` feature blocks of ``arch`` (:func:`feature_blocks`),
    for :class:`emo_lib.train.FitConfig` ``freeze``: fine-tuning then trains the later blocks
    and the head only (frozen BatchNorm layers still update their running statistics in
    training mode). 0 freezes nothing."""
    blocks = feature_blocks(arch)
    check_int(f"n_blocks ({arch} has {len(blocks)} feature blocks)", n_blocks, minimum=0,
              maximum=len(blocks))
    return tuple(p for block in blocks[:n_blocks] for p in block)


def _resolve_weights(arch: str, weights: str | None, pretrained: bool,
                     weights_path: str | Path | None) -> str:
    if weights is None:
        weights = "imagenet" if pretrained or weights_path is not None else "random"
    check_choice(f"{arch}'s weights", weights, WEIGHTS_CHOICES)
    if weights != "imagenet" and (pretrained or weights_path is not None):
        raise ValueError(f"{arch}: pretrained=True / weights_path mean ImageNet weights, which "
                         f"contradicts weights={weights!r}; give one of them")
    return weights


def _load_synthetic_faces(module: nn.Module, arch: str, pretraining: dict[str, Any] | None
                          ) -> dict[str, Any]:
    from . import face_pretraining

    # Pretrained on the CPU whatever device fine-tunes: the pretraining's key names the device
    # that computed it, and a unit's recipe pins its initial weights by that key, so the page
    # that plans the units (on its CPU) and the worker that trains them (maybe on a GPU) must
    # ask for the same entry.
    state, info = face_pretraining.pretrained_state(arch, pretraining, device="cpu")
    replace_head(module, arch, len(face_pretraining.CLASSES))
    module.load_state_dict(state)  # strict: every tensor of the backbone must match
    # Fine-tune with the BatchNorm momentum the weights were trained with (0.1): MobileNetV3's
    # default 0.01 barely moves the running statistics in a few hundred steps (measured on the
    # smoke default, no augmentation, 2 folds: macro F1 0.46/0.44 with 0.01, 0.49/0.48 with 0.1).
    for layer in module.modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layer.momentum = face_pretraining.BN_MOMENTUM
    return info


def build_backbone(arch: str, *, classes: Sequence[str], pretrained: bool = False,
                   input_size: int = 224, device: str = "cpu", batch_size: int = 64,
                   weights_path: str | Path | None = None, weights: str | None = None,
                   pretraining: dict[str, Any] | None = None) -> TorchClassifier:
    """Build ``arch`` (one of ``BACKBONE_NAMES``) with a ``len(classes)``-way head.

    Args:
        classes: output names in logit order.
        pretrained: load ImageNet weights (torchvision cache, download, or ``weights_path``);
            if they cannot be had, warn and continue from random weights.
        input_size: side of the square network input (VGG-16 needs >= 32).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``...
        batch_size: images per forward pass in ``predict_proba``.
        weights_path: a local torchvision ImageNet state dict (implies ``pretrained``).
        weights: ``"random"``, ``"imagenet"`` (as ``pretrained=True``) or
            ``"synthetic_faces"`` (module docstring); default from ``pretrained``.
        pretraining: the synthetic-face pretraining budget (``n``, ``size``, ``epochs``,
            ``seed``; :data:`emo_lib.models.face_pretraining.DEFAULT_BUDGETS` otherwise).

    ``info["weights"]`` names the initial weights exactly (for ``synthetic_faces``:
    ``"synthetic_faces:<cache key>"``, the key hashing the whole pretraining recipe), so a
    results cache keyed by it never mixes two initialisations.
    """
    check_choice("backbone", arch, BACKBONE_NAMES)
    weights = _resolve_weights(arch, weights, pretrained, weights_path)
    if pretraining is not None and weights != "synthetic_faces":
        raise ValueError(f"{arch}: pretraining options apply to weights='synthetic_faces', "
                         f"not {weights!r}")
    classes = tuple(classes)
    if len(classes) < 2:
        raise ValueError(f"need at least 2 classes, got {classes!r}")
    min_size = MIN_INPUT_SIZE.get(arch, 16)
    if input_size < min_size:
        raise ValueError(f"{arch} needs input_size >= {min_size}, got {input_size}")
    module = families.build(arch)
    loaded, source = False, "random initialisation"
    extra: dict[str, Any] = {}
    if weights == "imagenet":
        loaded, source = _load_imagenet(module, arch, weights_path)
        if not loaded:
            log.warning("%s: ImageNet weights could not be loaded (%s); training starts from "
                        "random weights, so this is NOT a transfer-learning run. Put the file "
                        "in torchvision's cache ($TORCH_HOME) or pass weights_path.", arch, source)
    elif weights == "synthetic_faces":
        report = _load_synthetic_faces(module, arch, pretraining)
        loaded, source = True, f"synthetic_faces:{report['cache_key']}"
        extra["pretraining"] = {k: report.get(k) for k in (
            "recipe", "cache_key", "cache", "heldout_accuracy", "heldout_macro_f1",
            "best_epoch", "seconds", "source")}
        extra["initialisation"] = (
            f"every layer but the last from {arch} pretrained on synthetic adult faces "
            f"(7 expressions, {report['recipe']['n_images']} images, "
            f"{report['recipe']['epochs']} epochs, held-out accuracy "
            f"{report['heldout_accuracy']:.2f}); a new {len(classes)}-way last layer")
    replace_head(module, arch, len(classes))
    return TorchClassifier(
        module=module, classes=classes, input_size=int(input_size),
        device=resolve_device(device), batch_size=batch_size,
        info={"architecture": arch, "pretrained": loaded, "weights": source,
              "source": f"torchvision {torchvision.__version__}", **extra},
    )


def _register(arch: str) -> None:
    @register_model(arch)
    def _build(*, classes: Sequence[str], pretrained: bool = False, input_size: int = 224,
               device: str = "cpu", batch_size: int = 64,
               weights_path: str | Path | None = None, weights: str | None = None,
               pretraining: dict[str, Any] | None = None) -> TorchClassifier:
        return build_backbone(arch, classes=classes, pretrained=pretrained,
                              input_size=input_size, device=device, batch_size=batch_size,
                              weights_path=weights_path, weights=weights,
                              pretraining=pretraining)

    _build.__name__ = arch
    _build.__doc__ = f"torchvision {arch} (see :func:`build_backbone`)."


for _arch in BACKBONE_NAMES:
    _register(_arch)


def count_params_flops(module: nn.Module, input_size: int = 224) -> dict[str, float]:
    """Parameters (millions) and multiply-adds (billions) of one forward pass at
    ``input_size`` x ``input_size``.

    ``flops_b`` is FlopCounterMode's count **halved**: FlopCounterMode counts a multiply-add as
    2 FLOPs, while the papers' "FLOPs" (0.39 B for EfficientNet-B0) are multiply-adds. Only
    convolutions and matrix products are counted (as the papers do); activations, pooling and
    normalisation are not.
    """
    params = sum(p.numel() for p in module.parameters())
    try:
        device = next(module.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    was_training = module.training
    module.eval()
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.no_grad():
            module(torch.zeros(1, 3, input_size, input_size, device=device))
    finally:
        module.train(was_training)
    return {"params_m": params / 1e6, "flops_b": counter.get_total_flops() / 2 / 1e9}
