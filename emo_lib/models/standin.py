"""``standin``: the CPU stand-in for "a CNN pretrained mostly on adults".

Paper 1 evaluates HSEmotion's AffectNet model, whose weights cannot ship and may not be on the
reader's machine. The stand-in keeps the shape of that experiment without them: a torchvision
MobileNetV3-Small (random initialisation, nothing downloaded) trained from scratch on the
synthetic ``adult_pretrain`` preset, cropped by :func:`emo_lib.faces.prepare_faces` exactly as
the evaluated sets are (generator landmarks, MTCNN-shaped box, margin 0.2), 85/15 stratified
split, Adam at lr 1e-3 (from scratch, so ten times the paper's fine-tuning rate), horizontal
flips, BatchNorm momentum 0.1. Its numbers are the stand-in's, never HSEmotion's.

**Composition** (the explanation page's experiment, Noh & Lim's VGGFace2 argument): with
``composition={"child_share": s, "male_share": m}`` the stand-in trains on ``n`` images drawn
from two fixed pools instead: the ``adult_pretrain`` set of ``adult_pool`` adults (default
:data:`ADULT_POOL_N`, the default stand-in's own set) and one of ``child_pool`` children
(default :data:`CHILD_POOL_N`; the same preset with ``child_share=1``: aged and posing as
``cafe_like``'s children, other people), both drawn for ``image_size`` crops (default: the
stand-in's ``size``) and cropped at ``size``, as the pages crop their test sets. Each
(gender, age group, class) cell takes its first images in the pool's (shuffled) order, so the
sets of one seed are nested: a larger share of children adds children and drops adults, the
rest unchanged; the total and the class balance are held. Without ``composition`` nothing changes.

Training takes minutes on a CPU, so the weights are cached (:func:`standin_cache`,
``$EMO_CACHE/models/standin``), keyed by every option that changes them (and by the generator's
version and data key), the code that trains them and the device they are trained on, as
``<key>.pt`` (state dict) plus
``<key>.json`` (recipe, held-out adult accuracy, per-class accuracy, history, seconds), both
written atomically, the JSON last: an entry without its JSON is ignored and rebuilt.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torchvision
import torchvision.transforms.v2 as transforms
from sklearn.model_selection import train_test_split

from ..cache import DiskCache
from ..classifier import TorchClassifier
from ..data.images import load_images
from ..data.manifest import EMOTIONS_7, Manifest, class_indices, make_manifest
from ..data.registry import load_dataset
from ..device import describe_device, device_identity, resolve_device
from ..faces import prepare_faces
from ..prerequisites import Prerequisite, runnable, target_of
from ..train import ArrayDataset, FitConfig, evaluate, fit
from . import register_model

log = logging.getLogger(__name__)

DATASET = "synthetic:adult_pretrain"
LR = 1e-3
TRAIN_BATCH = 64
#: torchvision's MobileNetV3 uses BatchNorm momentum 0.01 (tuned for long ImageNet runs); over
#: the few hundred steps here the running statistics stay near their initial values and the
#: eval-mode network predicts one class (measured: 14 % held-out accuracy, chance). 0.1, the
#: PyTorch default, lets them converge (62 %).
BN_MOMENTUM = 0.1
HELDOUT_FRACTION = 0.15
#: Composition pools: the default adult set, and children enough for a 30 % share of it.
ADULT_POOL_N = 3500
CHILD_POOL_N = 1050
#: This process's composition pools (folder -> manifest) and the crops cut from them so far
#: ((path, size) -> crop): the sets of one page overlap, so each image is cropped once.
_POOLS: dict[str, Manifest] = {}
_POOL_CROPS: dict[tuple[str, int], np.ndarray] = {}
ARCH = "torchvision.models.mobilenet_v3_small(weights=None)"
#: Faces are near-symmetric, so a mirrored face keeps its label; it lifts held-out accuracy
#: at the defaults from 62 % to 69 % (8 epochs, measured) and delays overfitting.
AUGMENTATION = "random horizontal flip (p=0.5), a fresh draw each epoch"
#: How the training photographs become network inputs. The pages evaluate face crops
#: (``prepare_faces``), so the stand-in is trained on the same crops (it once saw the whole
#: 1.5x photograph resized, a framing it was never evaluated on).
FACE_STEP = ("emo_lib.faces.prepare_faces(manifest, size): generator landmarks, MTCNN-shaped "
             "box, margin 0.2 (manifests whose meta says landmarks='generator'; others resized)")


def _generator_version(manifest: Manifest) -> str:
    meta = manifest.meta
    for key in ("generator_version", "version"):
        if meta.get(key) is not None:
            return str(meta[key])
    return "unknown"


def _build_module(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)  # the initialisation is part of the recipe
    module = torchvision.models.mobilenet_v3_small(weights=None, num_classes=len(EMOTIONS_7))
    for layer in module.modules():
        if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
            layer.momentum = BN_MOMENTUM
    return module


def _labels(manifest: Manifest) -> np.ndarray:
    return class_indices(manifest.frame["label"], EMOTIONS_7,
                         of=f"{manifest.name}: the stand-in's 7 classes")


def _split(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(y))
    train, held = train_test_split(idx, test_size=HELDOUT_FRACTION, random_state=seed,
                                   stratify=y)
    return np.sort(train), np.sort(held)


def fit_recipe(model: TorchClassifier, images: np.ndarray, y: np.ndarray,
               recipe: dict[str, Any], progress: bool = False
               ) -> tuple[Any, dict[str, Any], np.ndarray, np.ndarray]:
    """Train ``model`` as :func:`training_recipe` says (shared with :mod:`.face_pretraining`):
    the stratified split, random horizontal flips, Adam, the best held-out epoch. Returns the
    fit result, the held-out scores and the two index arrays."""
    train_idx, held_idx = _split(y, recipe["seed"])
    result = fit(
        model, ArrayDataset(images[train_idx], y[train_idx],
                            transform=transforms.RandomHorizontalFlip(p=0.5)),
        ArrayDataset(images[held_idx], y[held_idx]),
        config=FitConfig(epochs=recipe["epochs"], lr=LR, batch_size=TRAIN_BATCH, patience=None),
        seed=recipe["seed"], progress=progress,
    )
    return result, evaluate(model, images, y, indices=held_idx), train_idx, held_idx


def training_recipe(manifest: Manifest, *, size: int, epochs: int, n: int, seed: int
                    ) -> dict[str, Any]:
    """The training part of a recipe, shared with :mod:`.face_pretraining` (one recipe for
    both pretrainings): data, budget, optimiser, split and selection."""
    return {
        "dataset": manifest.name, "generator_version": _generator_version(manifest),
        "data_key": manifest.meta.get("cache_key"), "n": n, "n_images": len(manifest),
        "size": size, "epochs": epochs, "seed": seed, "optimizer": "Adam", "lr": LR,
        "train_batch_size": TRAIN_BATCH, "loss": "cross entropy",
        "batchnorm_momentum": BN_MOMENTUM, "augmentation": AUGMENTATION,
        "split": f"stratified {1 - HELDOUT_FRACTION:.0%}/{HELDOUT_FRACTION:.0%} "
                 "(sklearn train_test_split, random_state=seed)",
        "selection": "weights of the epoch with the lowest held-out loss (emo_lib.train.fit)",
        "classes": list(EMOTIONS_7),
    }


def recipe_for(manifest: Manifest, *, size: int, epochs: int, n: int, seed: int) -> dict[str, Any]:
    """Everything that determines the stand-in's weights (hashed into the cache key)."""
    recipe = {"model": "standin", "architecture": ARCH,
              **training_recipe(manifest, size=size, epochs=epochs, n=n, seed=seed),
              "faces": FACE_STEP}
    if "composition" in manifest.meta:
        recipe["composition"] = manifest.meta["composition"]
    return recipe


def check_composition(composition: Any) -> dict[str, Any] | None:
    """``composition`` with its defaults filled in (``child_share`` 0, ``male_share`` None:
    VGGFace2's as cited, the pools :data:`ADULT_POOL_N` and :data:`CHILD_POOL_N`), or None; a
    bad key or value says what is allowed."""
    if composition is None:
        return None
    allowed = ("child_share", "male_share", "adult_pool", "child_pool", "image_size")
    if not isinstance(composition, dict):
        raise ValueError(f"composition must be a mapping with keys {list(allowed)}; got "
                         f"{composition!r}")
    unknown = sorted(set(composition) - set(allowed))
    if unknown:
        raise ValueError(f"composition: unknown key(s) {unknown}; allowed: {list(allowed)}")
    from ..data.synthetic.presets import _check_composition

    child, male = _check_composition(composition.get("child_share", 0.0),
                                     composition.get("male_share"))
    pools = {}
    for key, default in (("adult_pool", ADULT_POOL_N), ("child_pool", CHILD_POOL_N)):
        value = composition.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 7:
            raise ValueError(f"composition: {key} must be an integer >= 7, got {value!r}")
        pools[key] = int(value)
    image_size = composition.get("image_size")
    if image_size is not None and (isinstance(image_size, bool)
                                   or not isinstance(image_size, (int, np.integer))
                                   or image_size < 16):
        raise ValueError(f"composition: image_size must be an integer >= 16, got {image_size!r}")
    return {"child_share": child, "male_share": male, **pools,
            "image_size": None if image_size is None else int(image_size)}


def composed_manifest(composition: dict[str, Any], *, n: int, size: int, seed: int,
                      progress: bool = False) -> Manifest:
    """``n`` pretraining images of the given composition, taken from the two pools (module
    docstring). Raises ValueError when a pool is too small for it, naming the cell."""
    from ..data.synthetic.presets import pretrain_counts

    composition = check_composition(composition)
    drawn = composition["image_size"] or size
    pools = {"adult": load_dataset(DATASET, n=composition["adult_pool"], size=drawn, seed=seed,
                                   progress=progress),
             "child": load_dataset(DATASET, n=composition["child_pool"], size=drawn, seed=seed,
                                   child_share=1.0, progress=progress)}
    taken: dict[str, list[pd.Index]] = {"adult": [], "child": []}
    shares = {k: composition[k] for k in ("child_share", "male_share")}
    for (gender, group), counts in pretrain_counts(n, 1.0, **shares).items():
        frame = pools[group].frame
        for label, k in counts.items():
            cell = frame.index[(frame["gender"] == gender) & (frame["label"] == label)]
            if len(cell) < k:
                raise ValueError(
                    f"the stand-in's {group} pool has {len(cell)} {gender} {label} images, "
                    f"the composition {shares} of n={n} needs {k}: lower n or the share, or "
                    f"raise {group}_pool")
            taken[group].append(cell[:k])
    # each pool's rows in its own order, adults first
    frame = pd.concat([pools[g].frame.loc[np.sort(np.concatenate(ix))]
                       for g, ix in taken.items() if ix], ignore_index=True)
    for pool in pools.values():
        _POOLS[str(pool.root)] = pool
    meta = {"generator_version": _generator_version(pools["adult"]), "landmarks": "generator",
            "pool_folders": [str(pool.root) for pool in pools.values()],
            "composition": {**composition,
                            "pool_keys": {g: m.meta.get("cache_key") for g, m in pools.items()}}}
    meta["cache_key"] = standin_cache().key(meta["composition"], length=12)
    return make_manifest(frame, name=DATASET, classes=EMOTIONS_7, synthetic=True, meta=meta,
                         source=f"{DATASET} pools, composition {shares}")


def standin_cache() -> DiskCache:
    """Where stand-in weights are kept (``$EMO_CACHE/models/standin``), keyed by this module's
    code and everything it imports from emo_lib (the training loop included)."""
    return DiskCache("models/standin", code=(__name__,))


def cache_key(recipe: dict[str, Any], device: torch.device | str = "cpu") -> str:
    """A readable prefix (size, epochs, n, composition, seed) and the hash of the whole
    recipe, the code and the identity of the ``device`` it is trained on."""
    mix = recipe.get("composition")
    tag = "" if mix is None else f"-c{mix['child_share']:g}" + (
        "" if mix["male_share"] is None else f"-m{mix['male_share']:g}")
    return (f"standin-s{recipe['size']}-e{recipe['epochs']}-n{recipe['n']}{tag}-"
            f"seed{recipe['seed']}-"
            + standin_cache().key({"recipe": recipe, "device": device_identity(device)},
                                  length=12))


def _classifier(module: torch.nn.Module, size: int, device: torch.device, batch_size: int,
                info: dict[str, Any]) -> TorchClassifier:
    return TorchClassifier(module=module, classes=EMOTIONS_7, input_size=size, device=device,
                           batch_size=batch_size, info=info)


def training_images(manifest: Manifest, size: int, progress: bool = False
                    ) -> tuple[np.ndarray, Manifest]:
    """The network inputs of ``manifest`` at ``size``: face crops of :func:`prepare_faces` when
    the manifest carries generator landmarks (the synthetic presets), else the images resized.
    Returns (images, the manifest of the rows kept, excluded faces in its exclusions).
    A composed set (:func:`composed_manifest`) takes its crops from its pools', each pool
    cropped once per process."""
    folders = manifest.meta.get("pool_folders") or []
    if folders and all(f in _POOLS for f in folders):
        return _composed_images(manifest, folders, size, progress)
    if manifest.meta.get("landmarks") == "generator":
        faces = prepare_faces(manifest, size, progress=progress)
        return faces.images, faces.manifest
    return load_images(manifest.frame["path"].tolist(), size), manifest


def _composed_images(manifest: Manifest, folders: list[str], size: int, progress: bool
                     ) -> tuple[np.ndarray, Manifest]:
    """The crops of a composed set's rows, each image cropped once per process (the rows not
    cropped yet go through :func:`prepare_faces` together, per pool)."""
    import dataclasses

    frame = manifest.frame
    excluded = [manifest.exclusions]
    for folder in folders:
        pool = _POOLS[folder]
        todo = pool.frame[pool.frame["path"].isin(set(frame["path"]))
                          & ~pool.frame["path"].map(lambda p: (p, size) in _POOL_CROPS)]
        if len(todo):
            faces = prepare_faces(dataclasses.replace(pool, frame=todo.reset_index(drop=True)),
                                  size, progress=progress)
            for path, crop in zip(faces.manifest.frame["path"], faces.images):
                _POOL_CROPS[(path, size)] = crop
            excluded.append(faces.manifest.exclusions)
    kept = [i for i, p in enumerate(frame["path"]) if (p, size) in _POOL_CROPS]
    images = np.stack([_POOL_CROPS[(p, size)] for p in frame["path"].iloc[kept]]) if kept \
        else np.empty((0, size, size, 3), np.uint8)
    gone = pd.concat(excluded, ignore_index=True).drop_duplicates()
    out = dataclasses.replace(manifest, frame=frame.iloc[kept].reset_index(drop=True),
                              exclusions=gone[gone["path"].isin(set(frame["path"]))]
                              .reset_index(drop=True))
    return images, out


def _train(manifest: Manifest, recipe: dict[str, Any], device: torch.device, batch_size: int,
           progress: bool) -> tuple[TorchClassifier, dict[str, Any]]:
    start = time.perf_counter()
    size, seed = recipe["size"], recipe["seed"]
    images, manifest = training_images(manifest, size, progress)
    y = _labels(manifest)
    model = _classifier(_build_module(seed), size, device, batch_size, {})
    result, scores, train_idx, held_idx = fit_recipe(model, images, y, recipe, progress)
    confusion = np.asarray(scores["confusion"])
    support = confusion.sum(1)
    per_class = {c: (float(confusion[i, i] / support[i]) if support[i] else None)
                 for i, c in enumerate(EMOTIONS_7)}
    report = {
        "recipe": recipe,
        "heldout_accuracy": scores["accuracy"], "heldout_macro_f1": scores["macro_f1"],
        "per_class_accuracy": per_class, "manifest_fingerprint": manifest.fingerprint(),
        "n_train": int(len(train_idx)), "n_excluded": int(len(manifest.exclusions)),
        "n_heldout": int(len(held_idx)), "best_epoch": int(result.best_epoch),
        "history": result.history.to_dict(orient="records"),
        "seconds": time.perf_counter() - start, "trained_on": describe_device(device),
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "note": "held-out = the 15 % of synthetic adults not trained on (it also chose the "
                "best epoch); a synthetic stand-in, not HSEmotion",
    }
    return model, report


def load_standin(*, size: int = 64, epochs: int = 8, n: int = 3500, seed: int = 0,
                 device: str = "cpu", batch_size: int = 64, progress: bool = True,
                 retrain: bool = False, composition: dict[str, Any] | None = None
                 ) -> TorchClassifier:
    """The stand-in adult-trained model, from the cache or trained now (module docstring).

    Args:
        size: image side for the data set and the network input.
        epochs, n, seed: training epochs, synthetic images drawn, seed of data/split/init.
        device: where to train and predict (``"cpu"``, ``"cuda"``, ``"auto"``).
        batch_size: images per forward pass in ``predict_proba`` (training uses 64).
        progress: tqdm bars while generating and training.
        retrain: ignore a cached entry and train again (overwrites it).
        composition: ``{"child_share": s, "male_share": m}``: train on ``n`` images of that
            composition from the pools (module docstring); None: the default adult set.

    ``info`` holds the recipe, ``heldout_accuracy`` on the adults not trained on, per-class
    accuracy, the training history and seconds, and ``cache``: ``"hit"`` or ``"trained"``.
    """
    dev = resolve_device(device)
    composition = check_composition(composition)
    manifest = load_dataset(DATASET, n=n, size=size, seed=seed, progress=progress) \
        if composition is None else \
        composed_manifest(composition, n=n, size=size, seed=seed, progress=progress)
    recipe = recipe_for(manifest, size=size, epochs=epochs, n=n, seed=seed)
    key = cache_key(recipe, dev)
    store = standin_cache()
    weights, meta = store.path(f"{key}.pt"), store.path(f"{key}.json")

    if not retrain:
        # The JSON report is written last, so its presence marks a complete entry; a damaged
        # file of either kind is reported by the cache and the stand-in trained again.
        report = store.read_json(meta)
        module = None if report is None else store.read(weights, lambda p: _load_module(p, seed))
        if module is not None:
            info = {**report, "cache": "hit", "cache_path": str(weights)}
            return _classifier(module, size, dev, batch_size, info)

    log.info("training the stand-in (%s) on %s; cached as %s", key, describe_device(dev), weights)
    model, report = _train(manifest, recipe, dev, batch_size, progress)
    meta.unlink(missing_ok=True)  # never pair new weights with an old report
    state = {k: v.detach().cpu() for k, v in model.module.state_dict().items()}
    store.write(weights, lambda tmp: torch.save(state, tmp))
    store.write_json(meta, report)  # last: its presence marks a complete entry
    model.info = {**report, "cache": "trained", "cache_path": str(weights)}
    return model


@runnable
def train(device: str = "cpu", **options: Any) -> dict[str, Any]:
    """A build's prerequisite (:mod:`emo_lib.prerequisites`): the stand-in of ``options``
    (:func:`load_standin`'s) in the cache."""
    info = load_standin(device=device, progress=False, **options).info
    return {k: info.get(k) for k in ("cache", "cache_path", "seconds", "heldout_accuracy")}


def training_cost(options: dict[str, Any]) -> float:
    """Images x epochs x input pixels of the stand-in of ``options`` (:func:`load_standin`'s
    defaults filled in): a prerequisite's relative cost."""
    size = int(options.get("size", 64))
    return float(int(options.get("n", 3500)) * int(options.get("epochs", 8)) * size * size)


def prerequisite(options: dict[str, Any], device: str = "cpu") -> Prerequisite:
    """The stand-in of ``options`` as a page's prerequisite."""
    return Prerequisite(target_of(train), {"device": device, **options},
                        label=f"stand-in (seed {options.get('seed', 0)})",
                        cost=training_cost(options))


def _load_module(path: Path, seed: int) -> torch.nn.Module:
    module = _build_module(seed)
    module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return module.eval()


@register_model("standin")
def _standin(**options: Any) -> TorchClassifier:
    return load_standin(**options)


__all__ = ["ADULT_POOL_N", "CHILD_POOL_N", "DATASET", "FACE_STEP", "LR",
           "cache_key", "check_composition", "composed_manifest", "load_standin", "prerequisite",
           "recipe_for", "standin_cache", "train", "training_cost", "training_images"]
