"""``synthetic_faces``: an offline pretrained initialisation for paper 2's backbones.

Jeong & Kim fine-tune ImageNet-pretrained networks. ImageNet weights cannot be downloaded on an
offline machine, and from random weights the smoke profile's short CPU training predicts one
class whatever the image. This module plays ImageNet's part for the synthetic default: each
torchvision backbone is trained ONCE on a large synthetic face set that is not the evaluation
set (the ``adult_pretrain`` preset: balanced 7-class expressions of adults, other identities and
other draws than ``se30k8_like``), and its weights are cached by recipe. A fine-tuning run then
starts from those weights with a new head for its own classes (see
:func:`emo_lib.models.zoo.build_backbone`, ``weights="synthetic_faces"``).

What the initialisation is, honestly: a backbone that already tells 7 of the 8 SE30K8 classes
apart on *balanced* synthetic adults (it is a facial-expression model, closer to an AffectNet
pretraining than to ImageNet's generic features). What imbalance does to the new head and the
fine-tuned features is still what paper 2 studies; how large the gains are is not comparable.

The images are whole synthetic photographs resized to ``size``, framed as paper 2's
``se30k8_like`` images are (not the face crops paper 1's stand-in,
:mod:`emo_lib.models.standin`, trains on: measured on the smoke default, MobileNetV3-Small
fine-tuned from the stand-in's face-crop weights reached macro F1 0.09-0.12, barely above the
majority-class 0.076, and from whole-photograph weights 0.36-0.40). The rest of the recipe is
the stand-in's: 85/15 stratified split, Adam at lr 1e-3, batch 64, random horizontal flips,
BatchNorm momentum 0.1, the weights of the epoch with the lowest held-out loss. Each backbone is
cached under ``$EMO_CACHE/models/synthetic_faces`` (:func:`pretraining_cache`, keyed by the
recipe, the code and the device) as ``<key>.pt`` (state
dict, 7-class pretraining head included) and ``<key>.json`` (recipe, held-out accuracy,
history, seconds), both written atomically, the JSON last: an entry without its JSON, or one
that cannot be read, is trained again with a warning.

Not here: the fine-tuning itself (:mod:`emo_lib.train`), ImageNet weights (:mod:`.zoo`).
"""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch
import torchvision

from .. import storage
from ..classifier import TorchClassifier
from ..data.images import load_images
from ..data.manifest import EMOTIONS_7, Manifest
from ..data.registry import load_dataset
from ..cache import DiskCache
from ..device import describe_device, device_identity, resolve_device
from ..prerequisites import Prerequisite, runnable, target_of
from ..validation import check_choice, check_choices, check_int
from . import families, standin  # standin: its recipe constants, one recipe for both
from .heads import replace_head

log = logging.getLogger(__name__)

#: The name of this initialisation in ``load_model(..., weights=...)``.
WEIGHTS_NAME = "synthetic_faces"
DATASET = standin.DATASET
LR = standin.LR
TRAIN_BATCH = standin.TRAIN_BATCH
BN_MOMENTUM = standin.BN_MOMENTUM
HELDOUT_FRACTION = standin.HELDOUT_FRACTION
AUGMENTATION = standin.AUGMENTATION
#: Pretraining classes (the adult_pretrain preset's), in the pretraining head's order.
CLASSES = EMOTIONS_7

#: Pretraining budget per backbone when none is given: images drawn (``n``), image side
#: (``size``) and epochs: the stand-in's 3,500 images (the same drawn set) at 64 px, 8 epochs, a
#: one-off cost per backbone (several minutes for the larger networks on 2 CPU cores). For
#: MobileNetV3-Small, the smoke default's, 6 epochs: measured, the held-out loss is lowest after
#: epoch 6 of 8 (held-out accuracy 0.57, chance 0.14), and the best epoch's weights are kept, so
#: 6 epochs give the same weights as 8 in three quarters of the time (about 70 s on 2 CPU cores).
#: Half the images for 5 epochs (held-out accuracy 0.32) left fine-tuning folds collapsed.
DEFAULT_BUDGETS: dict[str, dict[str, int]] = {
    **{arch: {"n": 3500, "size": 64, "epochs": 8}
       for arch in ("mobilenet_v3_large", "resnet18", "resnet50", "vgg16",
                    *(f"efficientnet_b{i}" for i in range(6)))},
    "mobilenet_v3_small": {"n": 3500, "size": 64, "epochs": 6},
    # the CPU networks of :mod:`.families`: MobileNetV3-Small's budget on the same drawn
    # images, so Fig. 5's sizes differ in the network alone, not in their pretraining
    # (measured with 4 epochs the scaled members were still improving at the last one:
    # held-out accuracy 0.35 and 0.45 against MobileNetV3-Small's 0.57 after 6)
    **{arch: {"n": 3500, "size": 64, "epochs": 6} for arch in families.CUSTOM_NAMES},
}
BUDGET_KEYS: tuple[str, ...] = ("n", "size", "epochs", "seed")


def budget_for(arch: str, pretraining: dict[str, Any] | None = None) -> dict[str, int]:
    """The pretraining budget of ``arch``: :data:`DEFAULT_BUDGETS` (seed 0) updated with
    ``pretraining`` (keys ``n``, ``size``, ``epochs``, ``seed``)."""
    check_choice("architecture with a synthetic-face pretraining", arch, sorted(DEFAULT_BUDGETS))
    given = dict(pretraining or {})
    check_choices("pretraining options", sorted(given), BUDGET_KEYS)
    budget = {**DEFAULT_BUDGETS[arch], "seed": 0, **given}
    for k in BUDGET_KEYS:
        budget[k] = check_int(f"pretraining {k}", budget[k], minimum=0 if k == "seed" else 1)
    return budget


def build_module(arch: str, n_classes: int, *, bn_momentum: float | None = None
                 ) -> torch.nn.Module:
    """torchvision ``arch`` (random weights) with an ``n_classes``-way head; every BatchNorm's
    momentum set to ``bn_momentum`` when given."""

    module = families.build(arch)
    replace_head(module, arch, n_classes)
    if bn_momentum is not None:
        for layer in module.modules():
            if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
                layer.momentum = bn_momentum
    return module


def recipe_for(arch: str, manifest: Manifest, *, size: int, epochs: int, n: int, seed: int
               ) -> dict[str, Any]:
    """Everything that determines the pretrained weights of ``arch`` (hashed into the key)."""
    return {
        "weights": WEIGHTS_NAME,
        "architecture": families.describe(arch), "arch": arch,
        "input_size": families.input_size_for(arch, size),
        "torchvision": torchvision.__version__,
        **standin.training_recipe(manifest, size=size, epochs=epochs, n=n, seed=seed),
        "classes": list(CLASSES),
    }


def pretraining_cache() -> DiskCache:
    """Where pretrained backbones are kept (``$EMO_CACHE/models/synthetic_faces``), keyed by this
    module's code and everything it imports from emo_lib (the training loop included)."""
    return DiskCache(f"models/{WEIGHTS_NAME}", code=(__name__,))


def cache_key(recipe: dict[str, Any], device: torch.device | str = "cpu") -> str:
    """``<arch>-s<size>-e<epochs>-n<n>-seed<seed>-<12 hex>``: the hex hashes the whole recipe,
    the code and the identity of the ``device`` it is trained on."""
    return (f"{recipe['arch']}-s{recipe['size']}-e{recipe['epochs']}-n{recipe['n']}-"
            f"seed{recipe['seed']}-" + pretraining_cache().key(
                {"recipe": recipe, "device": device_identity(device)}, length=12))


def _labels(manifest: Manifest) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(CLASSES)}
    bad = sorted(set(manifest.frame["label"]) - set(lookup))
    if bad:
        raise ValueError(f"{manifest.name}: labels {bad} are outside the pretraining classes "
                         f"{list(CLASSES)}")
    return manifest.frame["label"].map(lookup).to_numpy(np.int64)


def _train(arch: str, manifest: Manifest, recipe: dict[str, Any], device: torch.device,
           progress: bool) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    start, cpu_start = time.perf_counter(), time.process_time()
    size, seed = recipe["size"], recipe["seed"]
    images = load_images(manifest.frame["path"].tolist(), size)
    y = _labels(manifest)
    torch.manual_seed(seed)  # the initialisation is part of the recipe
    module = build_module(arch, len(CLASSES), bn_momentum=BN_MOMENTUM)
    # a compound-scaled network takes its own (larger) resolution: the images resized up to it
    model = TorchClassifier(module=module, classes=CLASSES,
                            input_size=families.input_size_for(arch, size), device=device)
    result, scores, train_idx, held_idx = standin.fit_recipe(model, images, y, recipe, progress)
    report = {
        "recipe": recipe,
        "heldout_accuracy": scores["accuracy"], "heldout_macro_f1": scores["macro_f1"],
        "manifest_fingerprint": manifest.fingerprint(),
        "n_train": int(len(train_idx)), "n_heldout": int(len(held_idx)),
        "best_epoch": int(result.best_epoch),
        "history": result.history.to_dict(orient="records"),
        "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start,
        "trained_on": describe_device(device), "torch": torch.__version__,
        "note": "held-out = the 15 % of synthetic adults not trained on (it also chose the "
                "best epoch); pretraining for paper 2's synthetic default, not ImageNet",
    }
    state = {k: v.detach().cpu() for k, v in model.module.state_dict().items()}
    return state, report


def pretrained_state(arch: str, pretraining: dict[str, Any] | None = None, *,
                     device: str = "cpu", progress: bool = False, retrain: bool = False
                     ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``arch``'s weights after synthetic-face pretraining, from the cache or trained now.

    Args:
        arch: a torchvision backbone name with a budget in :data:`DEFAULT_BUDGETS`.
        pretraining: budget overrides (``n``, ``size``, ``epochs``, ``seed``).
        device: where to train (``"cpu"``, ``"cuda"``, ``"auto"``); the weights are on the CPU.
        progress: tqdm bars while generating and training.
        retrain: ignore a cached entry and train again (overwrites it).

    Returns (state dict with the 7-class pretraining head, info): info holds the ``recipe``,
    ``cache_key``, ``heldout_accuracy``, ``history``, ``seconds`` and ``cache`` (``"hit"`` or
    ``"trained"``).
    """
    budget = budget_for(arch, pretraining)
    dev = resolve_device(device)
    manifest = load_dataset(DATASET, n=budget["n"], size=budget["size"], seed=budget["seed"],
                            progress=progress)
    recipe = recipe_for(arch, manifest, size=budget["size"], epochs=budget["epochs"],
                        n=budget["n"], seed=budget["seed"])
    key = cache_key(recipe, dev)
    folder = pretraining_cache().root
    weights, meta = folder / f"{key}.pt", folder / f"{key}.json"

    if not retrain and weights.is_file() and meta.is_file():
        try:
            report = storage.read_json(meta)
            state = torch.load(weights, map_location="cpu", weights_only=True)
            build_module(arch, len(CLASSES)).load_state_dict(state)  # complete and matching
        except Exception as err:  # a damaged entry is rebuilt, not fatal
            log.warning("synthetic-face pretraining cache %s unreadable (%s: %s); training "
                        "again", weights, type(err).__name__, err)
        else:
            return state, {**report, "cache_key": key, "cache": "hit",
                           "cache_path": str(weights)}

    log.info("pretraining %s on synthetic faces (%s) on %s; cached as %s", arch, key,
             describe_device(dev), weights)
    state, report = _train(arch, manifest, recipe, dev, progress)
    meta.unlink(missing_ok=True)  # never pair new weights with an old report
    with storage.atomic_path(weights) as tmp:
        torch.save(state, tmp)
    storage.write_json(meta, report)  # last: its presence marks a complete entry
    return state, {**storage.read_json(meta), "cache_key": key, "cache": "trained",
                   "cache_path": str(weights)}


@runnable
def pretrain(arch: str, pretraining: dict[str, Any] | None = None) -> dict[str, Any]:
    """A build's prerequisite (:mod:`emo_lib.prerequisites`): ``arch``'s pretraining in the
    cache, trained on the CPU as :func:`emo_lib.models.zoo.build_backbone` asks for it."""
    _, info = pretrained_state(arch, pretraining, device="cpu")
    return {k: info.get(k) for k in ("cache", "cache_key", "seconds", "heldout_accuracy")}


def prerequisite(arch: str, pretraining: dict[str, Any] | None = None) -> Prerequisite:
    """``arch``'s pretraining as a page's prerequisite; its cost: images x epochs x input
    pixels (the network's own resolution)."""
    budget = budget_for(arch, pretraining)
    side = families.input_size_for(arch, budget["size"])
    return Prerequisite(target_of(pretrain),
                        {"arch": arch, "pretraining": dict(pretraining) if pretraining else None},
                        label=f"synthetic-face pretraining of {arch}",
                        cost=float(budget["n"] * budget["epochs"] * side * side))


def _drawn(budget: dict[str, int]) -> bool:
    """Whether the pretraining images of ``budget`` are drawn already (nothing is drawn)."""
    from ..data.synthetic import presets

    preset = DATASET.split(":", 1)[1]
    opts = presets._options(preset, budget["seed"], budget["size"], 1.0, budget["n"])
    folder = presets.synthetic_cache().root / f"{preset}-{presets.cache_key(preset, opts)}"
    return (folder / "manifest.csv").is_file()


def cached_source(arch: str, pretraining: dict[str, Any] | None = None) -> str | None:
    """``"synthetic_faces:<cache key>"`` when ``arch``'s pretraining with this budget is
    already cached, else None, found without drawing or training anything (``emo-book plan``
    uses it: a plan never starts a pretraining). The key is the one :func:`pretrained_state`
    reports."""
    budget = budget_for(arch, pretraining)
    if not _drawn(budget):
        return None
    manifest = load_dataset(DATASET, n=budget["n"], size=budget["size"], seed=budget["seed"],
                            progress=False)   # drawn already: read, not drawn
    key = cache_key(recipe_for(arch, manifest, size=budget["size"], epochs=budget["epochs"],
                               n=budget["n"], seed=budget["seed"]))
    meta = pretraining_cache().path(f"{key}.json")
    return f"{WEIGHTS_NAME}:{key}" if meta.is_file() else None


__all__ = ["CLASSES", "DATASET", "DEFAULT_BUDGETS",
           "WEIGHTS_NAME", "budget_for", "build_module", "cache_key",
           "cached_source", "prerequisite", "pretrain",
           "pretrained_state", "recipe_for"]
