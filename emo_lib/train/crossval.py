"""Cross-validation: one fold trained and tested (``train_fold``), one fresh model per fold
(``cross_validate``), and the same with every fold's result kept on disk
(``cached_cross_validate``), keyed by everything that determines it, so identical runs in
different notebooks train once and an interrupted build resumes at the next fold.

Fitting one model is :mod:`.fit`; the folds themselves are :mod:`.folds`; a fold as a unit of
work that other processes can compute is :mod:`.units`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torchvision
from torch.utils.data import Sampler
from tqdm.auto import tqdm

from ..cache import DiskCache
from ..data.images import cached_image_key
from ..device import describe_device, device_identity
from ..classifier import TorchClassifier
from ..validation import check_choices
from .dataset import ArrayDataset, Items
from .fit import FitConfig, evaluate, fit, scores_from_logits, seed_everything
from .folds import Folds, validation_split
from .units import UnitResult, read_result, row_of, unit_key, unit_store, write_result


def train_fold(build_model: Callable[[], TorchClassifier], images: np.ndarray,
               labels: Sequence[int] | np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray,
               fold: int = 0, *, make_train_items: Callable[[np.ndarray], Items] | None = None,
               loss_factory: Callable[[np.ndarray], nn.Module] | None = None,
               config: FitConfig = FitConfig(), seed: int = 0, val_fraction: float = 0.1,
               progress: bool = True,
               make_sampler: Callable[[np.ndarray], Sampler] | None = None,
               keep_confusion: bool = True) -> UnitResult:
    """Train and test one fresh model on one fold (seed ``seed + fold``): its metrics row, the
    test fold's logits, indices and labels, and timing. :func:`cross_validate` is this, fold by
    fold; a training unit (:mod:`.units`) is this on a recipe."""
    y = np.asarray(labels)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError("cross_validate takes integer class indices as labels")
    if len(y) != len(images):
        raise ValueError(f"{len(images)} images but {len(y)} labels")
    fold_seed = seed + fold
    start = time.perf_counter()
    train_idx, test_idx = np.asarray(train_idx), np.asarray(test_idx)
    if set(train_idx.tolist()) & set(test_idx.tolist()):
        raise ValueError(f"fold {fold}: training and test indices overlap")
    if val_fraction > 0:
        fit_idx, val_idx = validation_split(train_idx, y, val_fraction, fold_seed)
    else:
        fit_idx, val_idx = np.sort(train_idx), np.array([], dtype=np.int64)
    local = make_train_items(y[fit_idx]) if make_train_items else None
    items = ([(int(i), None) for i in fit_idx] if local is None
             else [(int(fit_idx[j]), t) for j, t in local])
    seed_everything(fold_seed)  # the new head's initialisation depends on it
    model = build_model()
    n_classes = len(model.classes)
    if y.max() >= n_classes:
        raise ValueError(f"label index {y.max()} but the model has {n_classes} classes")
    train_set = ArrayDataset(images, y, items, item_seed=fold_seed)
    counts = np.bincount(train_set.item_labels, minlength=n_classes)
    loss = loss_factory(counts) if loss_factory else None
    sampler = make_sampler(train_set.item_labels) if make_sampler else None
    val_set = ArrayDataset(images, y, [(int(i), None) for i in val_idx]) \
        if len(val_idx) else None
    if config.frozen_features:
        from .trunk import fit_frozen_trunk

        result, test_logits, _ = fit_frozen_trunk(
            model, train_set, val_set, test_idx, loss=loss, config=config, seed=fold_seed,
            sampler=sampler, progress=progress)
        scores = scores_from_logits(test_logits, y[test_idx], model.classes)
    else:
        result = fit(model, train_set, val_set, loss=loss, config=config, seed=fold_seed,
                     progress=progress, sampler=sampler)
        scores = evaluate(model, images, y, indices=test_idx)
    row: dict[str, Any] = {"fold": fold, "accuracy": scores["accuracy"],
                           "macro_f1": scores["macro_f1"]}
    row.update({f"f1_{c}": v for c, v in scores["per_class_f1"].items()})
    if keep_confusion:
        row["confusion"] = scores["confusion"].tolist()
    row.update(best_epoch=result.best_epoch, stopped_early=result.stopped_early,
               seconds=time.perf_counter() - start, n_train_items=len(items),
               n_val=len(val_idx), n_test=len(test_idx))
    timing = {"epochs_run": int(len(result.history)),
              "epoch_seconds": [float(v) for v in result.history["seconds"]],
              "n_train_items": len(items), "n_val": int(len(val_idx)),
              "device": model.device.type, "device_name": describe_device(model.device),
              "model": str(model.info.get("architecture", type(model.module).__name__)),
              "input_size": int(model.input_size),
              **(result.data_path.record() if result.data_path is not None else {})}
    arrays = {"test_index": test_idx.astype(np.int64), "y_true": y[test_idx].astype(np.int64),
              "logits": scores["logits"].astype(np.float32)}
    del model
    return UnitResult(row=row, arrays=arrays, timing=timing)


def cross_validate(build_model: Callable[[], TorchClassifier], images: np.ndarray,
                   labels: Sequence[int] | np.ndarray, folds: Folds, *,
                   make_train_items: Callable[[np.ndarray], Items] | None = None,
                   loss_factory: Callable[[np.ndarray], nn.Module] | None = None,
                   config: FitConfig = FitConfig(), seed: int = 0, val_fraction: float = 0.1,
                   progress: bool = True,
                   make_sampler: Callable[[np.ndarray], Sampler] | None = None,
                   keep_confusion: bool = False) -> pd.DataFrame:
    """Train and test one fresh model per fold; one row per fold.

    Per fold: a stratified ``val_fraction`` of the training part is held out for early stopping
    (0: none); ``make_train_items(y_fit)`` gets the labels of the rest and returns items
    indexing that array (e.g. ``lambda y: balanced_items(y, n_min, T, seed)``; default: each
    image once), mapped back to rows of ``images``; ``loss_factory(class_counts)`` gets the
    per-class counts of the training items (default: cross entropy); ``make_sampler(item_labels)``
    optionally replaces shuffling. Each transformed copy is drawn once per fold and reused every
    epoch (``ArrayDataset(item_seed=...)``), as the paper transforms each copy once. The test
    fold is only used for the final evaluation. ``labels`` are class indices into the model's
    classes. Fold f uses seed ``seed + f`` (:func:`train_fold`).

    Columns: fold, accuracy, macro_f1, f1_<class>..., best_epoch, stopped_early, seconds,
    n_train_items, n_val, n_test (and, with ``keep_confusion``, ``confusion``: the test fold's
    confusion matrix as nested lists, rows true, columns predicted).
    """
    rows = []
    for f, (train_idx, test_idx) in enumerate(tqdm(folds, desc="folds", disable=not progress)):
        rows.append(train_fold(build_model, images, labels, train_idx, test_idx, f,
                               make_train_items=make_train_items, loss_factory=loss_factory,
                               config=config, seed=seed, val_fraction=val_fraction,
                               progress=progress, make_sampler=make_sampler,
                               keep_confusion=keep_confusion).row)
    return pd.DataFrame(rows)


#: FitConfig fields that cannot change a result (left out of the key).
_CONFIG_NOT_IN_KEY = ("num_workers",)


def array_fingerprint(images: np.ndarray, labels: Sequence[int] | np.ndarray,
                      chunk: int = 1024) -> str:
    """A content hash of ``images`` (shape, dtype, pixels) and ``labels``: two arrays with the
    same fingerprint train to the same numbers. Reads ``chunk`` images at a time (memmaps)."""
    h = hashlib.sha256(f"{images.shape}|{images.dtype}|".encode())
    for s in range(0, len(images), chunk):
        h.update(np.ascontiguousarray(images[s:s + chunk]).tobytes())
    h.update(np.ascontiguousarray(np.asarray(labels, dtype=np.int64)).tobytes())
    return h.hexdigest()[:16]


def data_fingerprint(images: np.ndarray, labels: Sequence[int] | np.ndarray) -> str:
    """A content id of ``images`` and ``labels`` for cache keys: for a whole uint8-image-cache
    file (as :func:`emo_lib.data.images.load_images` returns it) its cache key, which already
    hashes the files' content and size, plus a hash of the labels (nothing is read); for any
    other array :func:`array_fingerprint` (every pixel hashed)."""
    key = cached_image_key(images)
    return array_fingerprint(images, labels) if key is None else u8_data_id(key, labels)


def u8_data_id(image_key: str, labels: Sequence[int] | np.ndarray) -> str:
    """The data id of a uint8-image-cache entry with these labels (see
    :func:`data_fingerprint`); ``emo-book plan`` computes it from a manifest alone."""
    y = np.ascontiguousarray(np.asarray(labels, dtype=np.int64))
    return f"u8-{image_key[:24]}-{hashlib.sha256(y.tobytes()).hexdigest()[:16]}"


def folds_fingerprint(folds: Folds) -> str:
    """A hash of the fold index arrays (their order included)."""
    h = hashlib.sha256()
    for tr, te in folds:
        h.update(np.asarray(tr, dtype=np.int64).tobytes() + b"|")
        h.update(np.asarray(te, dtype=np.int64).tobytes() + b"#")
    return h.hexdigest()[:16]


def cv_cache_spec(spec: Mapping[str, Any], *, data_id: str, folds: Folds, config: FitConfig,
                  seed: int, val_fraction: float) -> dict[str, Any]:
    """The full description a cached cross-validation is keyed by: the caller's ``spec`` (model,
    training items, loss, sampler, device...) plus the data, folds, training settings, seed,
    validation fraction, torch version and the identity of ``spec["device"]`` (default cpu:
    :func:`emo_lib.device.device_identity`, made here, where the units are planned; the cache
    adds the code's digest)."""
    return {"spec": dict(spec), "data": data_id, "folds": folds_fingerprint(folds),
            "n_folds": len(folds), "config": config_spec(config), "seed": int(seed),
            "val_fraction": float(val_fraction), "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "device": device_identity(str(spec.get("device") or "cpu"))}


def config_spec(config: FitConfig) -> dict[str, Any]:
    """``config`` as plain JSON, without the fields that cannot change a result."""
    cfg = {k: (list(v) if isinstance(v, tuple) else v)
           for k, v in dataclasses.asdict(config).items() if k not in _CONFIG_NOT_IN_KEY}
    cfg["freeze"] = list(cfg.get("freeze", ()))
    if not cfg.get("frozen_features"):
        # absent when off, so the keys of every run that never used it stay what they were
        cfg.pop("frozen_features", None)
    return cfg


def config_from_spec(spec: Mapping[str, Any]) -> FitConfig:
    """The FitConfig :func:`config_spec` describes (ValueError naming unknown fields)."""
    check_choices("FitConfig fields", sorted(spec), [f.name for f in dataclasses.fields(FitConfig)])
    values = dict(spec)
    values["freeze"] = tuple(values.get("freeze", ()))
    return FitConfig(**values)


def cv_cache(cache: bool | str | Path | DiskCache | None = True) -> DiskCache | None:
    """The cross-validation cache: True (``$EMO_CACHE/cv``), a folder, a DiskCache, or None /
    False (no cache). The same store as the training units' (:func:`.units.unit_store`)."""
    return unit_store(cache)


def cached_cross_validate(spec: Mapping[str, Any], build_model: Callable[[], TorchClassifier],
                          images: np.ndarray, labels: Sequence[int] | np.ndarray, folds: Folds,
                          *, make_train_items: Callable[[np.ndarray], Items] | None = None,
                          loss_factory: Callable[[np.ndarray], nn.Module] | None = None,
                          config: FitConfig = FitConfig(), seed: int = 0,
                          val_fraction: float = 0.1, progress: bool = True,
                          make_sampler: Callable[[np.ndarray], Sampler] | None = None,
                          cache: bool | str | Path | DiskCache | None = True,
                          data_id: str | None = None) -> pd.DataFrame:
    """:func:`cross_validate` (with ``keep_confusion``), one fold at a time, each fold kept as
    ``<cache>/<key>/fold<f>.json`` (the row) and ``fold<f>.npz`` (the test fold's logits), in
    the training units' format (:mod:`.units`), in this process. Callables cannot travel to
    other processes; :func:`emo_lib.jeong2021.run_cells` builds units from plain-JSON recipes
    instead, which any executor can run.

    ``spec`` must describe, in plain JSON, everything the callables do (model name and input
    size, its initial weights, the training-items recipe, the loss, the sampler, the device):
    the key is the hash of ``spec`` plus the data (``data_id``, default
    :func:`array_fingerprint` of ``images`` and ``labels``), the folds, ``config`` (but
    ``num_workers``), ``seed``, ``val_fraction``, the device and the code
    (:func:`.units.unit_key`). Two calls with
    the same key get the same rows; the second trains nothing. A fold is written as soon as it
    is done (atomically), so an interrupted run resumes at the next fold. ``cache``: see
    :func:`cv_cache`.

    Fold f is trained exactly as ``cross_validate`` trains it (seed ``seed + f``), so the rows
    equal ``cross_validate(..., keep_confusion=True)``'s; the extra column ``from_cache`` says
    which came from disk (their ``seconds`` are those of the run that trained them).
    """
    y = np.asarray(labels)
    data_id = data_id or array_fingerprint(images, y)
    full = cv_cache_spec(spec, data_id=data_id, folds=folds, config=config, seed=seed,
                         val_fraction=val_fraction)
    store = cv_cache(cache)
    key = unit_key(None, full) if store is not None else ""
    rows = []
    for f, (train_idx, test_idx) in enumerate(tqdm(folds, desc="folds (cached)",
                                                    disable=not progress)):
        record = None if store is None else read_result(store, key, f)
        if record is not None:
            row = row_of(record)
            row["from_cache"] = True
        else:
            result = train_fold(build_model, images, y, train_idx, test_idx, f,
                                make_train_items=make_train_items, loss_factory=loss_factory,
                                config=config, seed=seed, val_fraction=val_fraction,
                                progress=progress, make_sampler=make_sampler,
                                keep_confusion=True)
            if store is not None:
                write_result(store, key, f, full, result)
            row = {k: (v.item() if isinstance(v, np.generic) else v)
                   for k, v in result.row.items()}
            row["from_cache"] = False
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["array_fingerprint", "cached_cross_validate", "config_from_spec",
           "config_spec", "cross_validate", "cv_cache", "cv_cache_spec", "data_fingerprint",
           "folds_fingerprint", "train_fold", "u8_data_id"]
