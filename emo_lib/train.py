"""Training and cross-validation: ``fit`` (Adam, early stopping on validation loss, best weights
restored), ``evaluate`` (accuracy, macro F1, per-class F1, confusion), stratified and
subject-grouped folds, and ``cross_validate`` (one row per fold) with ``summarize``.

``cached_cross_validate`` is ``cross_validate`` with each fold's row kept on disk (JSON under
``emo_lib.storage.cache_dir("cv")``), keyed by everything that determines it: identical runs in
different notebooks train once, and an interrupted build resumes at the next fold.

Every random choice is seeded: with the same seed the CPU path gives identical weights.
On CUDA the loop uses autocast (bf16 where supported, else fp16 with a gradient scaler),
channels_last inputs and a pinned-memory DataLoader; that path only runs when
``model.device.type == "cuda"``.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torchvision.transforms.v2.functional as TF
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from . import augment
from .storage import cache_dir, read_json, write_json
from .models.base import TorchClassifier, preprocess

log = logging.getLogger(__name__)

Items = Sequence[tuple[int, Any]]
Folds = list[tuple[np.ndarray, np.ndarray]]


# --------------------------------------------------------------------------- data


class ArrayDataset(Dataset):
    """Images from an (N, H, W, 3) uint8 array (a np.memmap works: nothing is copied) as
    (uint8 CHW tensor, int label) pairs.

    Args:
        images: (N, H, W, 3) uint8 array.
        labels: (N,) integer class indices.
        items: (index, transform) pairs, as :mod:`emo_lib.balance` makes them; a transform is
            None, a name from :data:`emo_lib.augment.TRANSFORMS`, or a callable on CHW tensors.
            Default: every index once, untransformed.
        transform: an optional callable applied to every item after its own transform.
        item_seed: if given, item k's random transform is drawn from a generator seeded with
            (item_seed, k): the same transformed copy every epoch and in any worker (the paper
            transforms each copy once). None: a fresh draw each time, from torch's global RNG.

    A transform that changes the size (random_crop) is resized back to H x W.
    """

    def __init__(self, images: np.ndarray, labels: Sequence[int] | np.ndarray,
                 items: Items | None = None, transform: Callable[[Any], Any] | None = None,
                 item_seed: int | None = None) -> None:
        if not isinstance(images, np.ndarray) or images.ndim != 4 or images.shape[-1] != 3 \
                or images.dtype != np.uint8:
            raise ValueError("images must be a uint8 numpy array (N, H, W, 3), got "
                             f"{getattr(images, 'dtype', type(images))} "
                             f"{getattr(images, 'shape', '')}")
        y = np.asarray(labels)
        if y.shape != (len(images),) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"labels must be {len(images)} integer class indices, got "
                             f"{y.dtype} {y.shape}")
        self.images = images
        self.labels = y.astype(np.int64)
        self.items: list[tuple[int, Any]] = (
            [(i, None) for i in range(len(images))] if items is None else list(items))
        bad = [i for i, _ in self.items if not 0 <= i < len(images)]
        if bad:
            raise IndexError(f"{len(bad)} items point outside the {len(images)} images "
                             f"(first: {bad[0]})")
        for _, t in self.items:
            if isinstance(t, str):
                augment.validate_names([t])
        self.transform = transform
        self.item_seed = item_seed
        self.size = (int(images.shape[1]), int(images.shape[2]))
        self._callables: dict[str, Callable[[Any], Any]] = {}

    def __len__(self) -> int:
        return len(self.items)

    @property
    def item_labels(self) -> np.ndarray:
        """The label of every item (for samplers and class counts)."""
        return self.labels[np.fromiter((i for i, _ in self.items), dtype=np.int64,
                                       count=len(self.items))]

    def _resolve(self, t: Any) -> Callable[[Any], Any] | None:
        if t is None or callable(t):
            return t
        if t not in self._callables:
            self._callables[t] = augment.make_transform(t, min(self.size))
        return self._callables[t]

    def __getitem__(self, k: int) -> tuple[torch.Tensor, int]:
        index, t = self.items[k]
        x = torch.from_numpy(np.array(self.images[index], dtype=np.uint8, copy=True))
        x = x.permute(2, 0, 1)
        fn = self._resolve(t)
        if fn is not None or self.transform is not None:
            if self.item_seed is not None:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed((int(self.item_seed) * 1_000_003 + int(k)) % 2**63)
                    x = self._apply(fn, x)
            else:
                x = self._apply(fn, x)
        return x, int(self.labels[index])

    def _apply(self, fn: Callable[[Any], Any] | None, x: torch.Tensor) -> torch.Tensor:
        if fn is not None:
            x = fn(x)
        if self.transform is not None:
            x = self.transform(x)
        if tuple(x.shape[-2:]) != self.size:
            x = TF.resize(x, list(self.size), antialias=True)
        return x.contiguous()


# --------------------------------------------------------------------------- fitting


@dataclass
class FitConfig:
    """Training settings (defaults: the paper's Adam, lr 1e-4, batch 128, 30 epochs)."""

    epochs: int = 30
    lr: float = 1e-4
    batch_size: int = 128
    patience: int | None = None      # early stopping on validation loss (None: no early stop)
    weight_decay: float = 0.0
    num_workers: int = 0
    amp: bool = True                 # mixed precision, used on CUDA only
    freeze: Sequence[str] = ()       # parameter-name prefixes to freeze (fine-tuning)


@dataclass
class FitResult:
    """``history``: one row per epoch (epoch, train_loss, val_loss, val_accuracy,
    val_macro_f1, seconds); ``best_epoch``: the epoch whose weights the model holds."""

    history: pd.DataFrame
    best_epoch: int
    stopped_early: bool


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) from ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _to_model_input(model: TorchClassifier, x: torch.Tensor) -> torch.Tensor:
    # The loader yields uint8 NCHW; preprocess takes NHWC (a permuted view, no copy).
    return preprocess(x.permute(0, 2, 3, 1), model.input_size, model.mean, model.std,
                      model.device)


def _autocast(model: TorchClassifier, amp: bool) -> tuple[Any, torch.dtype | None]:
    if model.device.type == "cuda" and amp:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype), dtype
    return nullcontext(), None


def _loader(data: Dataset, batch_size: int, *, shuffle: bool, sampler: Sampler | None,
            num_workers: int, device: torch.device, generator: torch.Generator | None,
            drop_last: bool = False) -> DataLoader:
    cuda = device.type == "cuda"
    return DataLoader(
        data, batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
        num_workers=num_workers, pin_memory=cuda, generator=generator, drop_last=drop_last,
        persistent_workers=num_workers > 0, prefetch_factor=4 if cuda and num_workers else None,
    )


@torch.inference_mode()
def _validate(model: TorchClassifier, loader: DataLoader, loss_fn: nn.Module, amp: bool
              ) -> tuple[float, float, float]:
    model.module.eval()
    total, n, preds, trues = 0.0, 0, [], []
    ctx, _ = _autocast(model, amp)
    for x, y in loader:
        y = y.to(model.device, non_blocking=True)
        with ctx:
            logits = model.module(_to_model_input(model, x))
        total += float(loss_fn(logits.float(), y)) * len(y)
        n += len(y)
        preds.append(logits.argmax(1).cpu().numpy())
        trues.append(y.cpu().numpy())
    y_true, y_pred = np.concatenate(trues), np.concatenate(preds)
    labels = list(range(len(model.classes)))
    return (total / max(n, 1), float((y_true == y_pred).mean()),
            float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)))


def fit(model: TorchClassifier, train: Dataset, val: Dataset | None = None, *,
        loss: nn.Module | None = None, config: FitConfig = FitConfig(), seed: int = 0,
        progress: bool = True, sampler: Sampler | None = None) -> FitResult:
    """Train ``model.module`` in place on ``model.device`` with Adam.

    Batches (uint8 CHW from e.g. :class:`ArrayDataset`) go through
    :func:`emo_lib.models.base.preprocess`, as in prediction. With ``val``, the weights of the
    lowest validation loss are kept and restored at the end, and ``config.patience`` epochs
    without improvement stop training. ``loss`` defaults to cross entropy; ``sampler``
    (e.g. :func:`emo_lib.balance.class_balanced_sampler`) replaces shuffling.
    """
    if len(train) == 0:
        raise ValueError("the training set is empty")
    if config.epochs < 1:
        raise ValueError(f"config.epochs must be >= 1, got {config.epochs}")
    seed_everything(seed)
    device = model.device
    module = model.module
    loss_fn = (loss if loss is not None else nn.CrossEntropyLoss()).to(device)

    frozen_before = {n: not p.requires_grad for n, p in module.named_parameters()}
    prefixes = tuple(config.freeze)
    if prefixes:
        hits = [n for n, _ in module.named_parameters() if n.startswith(prefixes)]
        if not hits:
            raise ValueError(f"freeze prefixes {prefixes} match no parameter; names look like "
                             f"{[n for n, _ in module.named_parameters()][:3]}")
        for n, p in module.named_parameters():
            if n.startswith(prefixes):
                p.requires_grad_(False)
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    _, amp_dtype = _autocast(model, config.amp)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None

    gen = torch.Generator().manual_seed(seed)
    # A last batch of one sample breaks BatchNorm in train mode (nets at small inputs end in
    # a 1x1 map): drop it in that one case.
    drop_last = len(train) % config.batch_size == 1 and len(train) > config.batch_size
    train_loader = _loader(train, config.batch_size, shuffle=True, sampler=sampler,
                           num_workers=config.num_workers, device=device, generator=gen,
                           drop_last=drop_last)
    val_loader = None if val is None else _loader(
        val, config.batch_size, shuffle=False, sampler=None, num_workers=config.num_workers,
        device=device, generator=None)

    rows: list[dict[str, float]] = []
    best_loss, best_epoch, best_state, stale, stopped = float("inf"), 0, None, 0, False
    epochs = tqdm(range(1, config.epochs + 1), desc="epochs", disable=not progress)
    try:
        for epoch in epochs:
            start = time.perf_counter()
            module.train()
            total, n = 0.0, 0
            for x, y in tqdm(train_loader, desc=f"epoch {epoch}", leave=False,
                             disable=not progress):
                y = y.to(device, non_blocking=True)
                ctx, _ = _autocast(model, config.amp)
                with ctx:
                    logits = module(_to_model_input(model, x))
                batch_loss = loss_fn(logits.float(), y)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(batch_loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    batch_loss.backward()
                    optimizer.step()
                total += float(batch_loss.detach()) * len(y)
                n += len(y)
            row = {"epoch": epoch, "train_loss": total / max(n, 1), "val_loss": np.nan,
                   "val_accuracy": np.nan, "val_macro_f1": np.nan}
            if val_loader is not None:
                v_loss, v_acc, v_f1 = _validate(model, val_loader, loss_fn, config.amp)
                row.update(val_loss=v_loss, val_accuracy=v_acc, val_macro_f1=v_f1)
                if v_loss < best_loss:
                    best_loss, best_epoch, stale = v_loss, epoch, 0
                    best_state = copy.deepcopy(module.state_dict())
                else:
                    stale += 1
            else:
                best_epoch = epoch
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            epochs.set_postfix(train_loss=f"{row['train_loss']:.4f}",
                               val_loss=f"{row['val_loss']:.4f}")
            if config.patience is not None and val_loader is not None \
                    and stale >= config.patience:
                stopped = epoch < config.epochs
                break
    finally:
        for n_, p in module.named_parameters():
            p.requires_grad_(not frozen_before.get(n_, False))
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return FitResult(history=pd.DataFrame(rows), best_epoch=best_epoch, stopped_early=stopped)


# --------------------------------------------------------------------------- evaluation


def _label_indices(labels: Sequence[Hashable] | np.ndarray, classes: Sequence[str]) -> np.ndarray:
    y = np.asarray(labels)
    if y.dtype.kind in "iu":
        if len(y) and (y.min() < 0 or y.max() >= len(classes)):
            raise ValueError(f"label indices must lie in [0, {len(classes)}), got "
                             f"[{y.min()}, {y.max()}]")
        return y.astype(np.int64)
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = sorted({str(v) for v in y if v not in lookup})
    if unknown:
        raise ValueError(f"labels {unknown} are not among the model's classes {list(classes)}")
    return np.array([lookup[v] for v in y], dtype=np.int64)


def evaluate(model: TorchClassifier, images: np.ndarray, labels: Sequence[Hashable] | np.ndarray,
             indices: np.ndarray | None = None, chunk: int = 1024) -> dict[str, Any]:
    """Accuracy, macro F1, per-class F1 (by class name) and the confusion matrix (rows: true,
    columns: predicted, in ``model.classes`` order) of ``model.predict_proba`` on ``images``.

    ``labels`` are class indices or names. ``indices`` selects rows of ``images``/``labels``
    without copying the whole selection (read ``chunk`` images at a time).
    """
    classes = list(model.classes)
    y_all = _label_indices(labels, classes)
    if len(y_all) != len(images):
        raise ValueError(f"{len(images)} images but {len(y_all)} labels")
    idx = np.arange(len(images)) if indices is None else np.asarray(indices, dtype=np.int64)
    if len(idx) == 0:
        raise ValueError("nothing to evaluate: no images selected")
    proba = np.concatenate([model.predict_proba(images[idx[s:s + chunk]])
                            for s in range(0, len(idx), chunk)])
    y_true, y_pred = y_all[idx], proba.argmax(1)
    ids = list(range(len(classes)))
    per_class = f1_score(y_true, y_pred, labels=ids, average=None, zero_division=0)
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "macro_f1": float(f1_score(y_true, y_pred, labels=ids, average="macro",
                                   zero_division=0)),
        "per_class_f1": {c: float(f) for c, f in zip(classes, per_class)},
        "confusion": confusion_matrix(y_true, y_pred, labels=ids),
        "classes": classes,
        "y_true": y_true,
        "y_pred": y_pred,
        "n": int(len(idx)),
    }


# --------------------------------------------------------------------------- folds


def stratified_folds(labels: Sequence[Hashable] | np.ndarray, k: int, seed: int,
                     reduce_k: bool = False) -> Folds:
    """k stratified folds (shuffled with ``seed``) as (train_idx, test_idx) pairs.

    Every class must have at least ``k`` members, else some test folds would miss a class and
    its F1 would be undefined there: by default that raises a ValueError naming the class;
    with ``reduce_k=True`` k drops to the smallest class size (>= 2) with a logged warning.
    """
    y = np.asarray(labels)
    if k < 2:
        raise ValueError(f"k must be >= 2, got {k}")
    values, counts = np.unique(y, return_counts=True)
    smallest = int(counts.min())
    if smallest < k:
        small = {str(v): int(c) for v, c in zip(values, counts) if c < k}
        if not reduce_k or smallest < 2:
            raise ValueError(f"{k}-fold stratified CV needs >= {k} samples per class; these "
                             f"have fewer: {small}. Lower k, merge or drop those classes, or "
                             "pass reduce_k=True")
        log.warning("classes %s have fewer than %d samples: using %d folds instead of %d",
                    small, k, smallest, k)
        k = smallest
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]


def grouped_folds(labels: Sequence[Hashable] | np.ndarray, groups: Sequence[Hashable] | np.ndarray,
                  k: int, seed: int) -> Folds:
    """k subject-disjoint folds (sklearn StratifiedGroupKFold, shuffled with ``seed``): no
    group (subject) is in both the training and the test part of a fold."""
    y, g = np.asarray(labels), np.asarray(groups)
    if len(y) != len(g):
        raise ValueError(f"{len(y)} labels but {len(g)} groups")
    n_groups = len(np.unique(g))
    if n_groups < k:
        raise ValueError(f"{k} subject-disjoint folds need >= {k} groups, got {n_groups}")
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y, g)]


def _val_split(train_idx: np.ndarray, y: np.ndarray, fraction: float, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    n_classes = len(np.unique(y[train_idx]))
    n_val = max(n_classes, int(round(fraction * len(train_idx))))
    if n_val >= len(train_idx) - n_classes:
        raise ValueError(f"a training fold of {len(train_idx)} images is too small to carve a "
                         f"stratified validation split of {n_val}: lower val_fraction (or 0)")
    try:
        fit_idx, val_idx = train_test_split(train_idx, test_size=n_val, random_state=seed,
                                            stratify=y[train_idx])
    except ValueError as err:
        raise ValueError(f"stratified validation split failed ({err}); every class needs >= 2 "
                         "training images: lower val_fraction to 0 or use fewer folds") from err
    return np.sort(fit_idx), np.sort(val_idx)


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
    classes. Fold f uses seed ``seed + f``.

    Columns: fold, accuracy, macro_f1, f1_<class>..., best_epoch, stopped_early, seconds,
    n_train_items, n_val, n_test (and, with ``keep_confusion``, ``confusion``: the test fold's
    confusion matrix as nested lists, rows true, columns predicted).
    """
    y = np.asarray(labels)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError("cross_validate takes integer class indices as labels")
    if len(y) != len(images):
        raise ValueError(f"{len(images)} images but {len(y)} labels")
    rows = []
    for f, (train_idx, test_idx) in enumerate(tqdm(folds, desc="folds", disable=not progress)):
        fold_seed = seed + f
        start = time.perf_counter()
        if set(np.asarray(train_idx).tolist()) & set(np.asarray(test_idx).tolist()):
            raise ValueError(f"fold {f}: training and test indices overlap")
        if val_fraction > 0:
            fit_idx, val_idx = _val_split(np.asarray(train_idx), y, val_fraction, fold_seed)
        else:
            fit_idx, val_idx = np.sort(np.asarray(train_idx)), np.array([], dtype=np.int64)
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
        result = fit(model, train_set, val_set, loss=loss, config=config, seed=fold_seed,
                     progress=progress, sampler=sampler)
        scores = evaluate(model, images, y, indices=np.asarray(test_idx))
        row: dict[str, Any] = {"fold": f, "accuracy": scores["accuracy"],
                               "macro_f1": scores["macro_f1"]}
        row.update({f"f1_{c}": v for c, v in scores["per_class_f1"].items()})
        if keep_confusion:
            row["confusion"] = scores["confusion"].tolist()
        row.update(best_epoch=result.best_epoch, stopped_early=result.stopped_early,
                   seconds=time.perf_counter() - start, n_train_items=len(items),
                   n_val=len(val_idx), n_test=len(test_idx))
        rows.append(row)
        del model
    return pd.DataFrame(rows)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (ddof 1) over folds of every numeric column but ``fold``."""
    numeric = df.drop(columns=["fold"], errors="ignore").select_dtypes("number")
    return numeric.agg(["mean", "std"])


# --------------------------------------------------------------------------- results cache

#: Part of every cache key: bump it when a change to the training or evaluation code changes
#: results, so folds cached by the old code are never mixed with new ones.
CV_CACHE_VERSION = 1

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


def folds_fingerprint(folds: Folds) -> str:
    """A hash of the fold index arrays (their order included)."""
    h = hashlib.sha256()
    for tr, te in folds:
        h.update(np.asarray(tr, dtype=np.int64).tobytes() + b"|")
        h.update(np.asarray(te, dtype=np.int64).tobytes() + b"#")
    return h.hexdigest()[:16]


def canonical_json(obj: Any) -> str:
    """``obj`` as JSON with sorted keys and no whitespace (tuples as lists): equal descriptions
    give equal strings. Raises TypeError naming the value that is not plain JSON."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)
    except TypeError as err:
        raise TypeError(f"a cache key must be plain JSON (str, int, float, bool, None, lists, "
                        f"dicts); {err}. Describe callables by name and settings instead") from err


def cv_cache_spec(spec: Mapping[str, Any], *, data_id: str, folds: Folds, config: FitConfig,
                  seed: int, val_fraction: float) -> dict[str, Any]:
    """The full description a cached cross-validation is keyed by: the caller's ``spec`` (model,
    training items, loss, sampler, device...) plus the data, folds, training settings, seed,
    validation fraction, cache version and torch version."""
    cfg = {k: (list(v) if isinstance(v, tuple) else v)
           for k, v in dataclasses.asdict(config).items() if k not in _CONFIG_NOT_IN_KEY}
    cfg["freeze"] = list(cfg.get("freeze", ()))
    return {"spec": dict(spec), "data": data_id, "folds": folds_fingerprint(folds),
            "n_folds": len(folds), "config": cfg, "seed": int(seed),
            "val_fraction": float(val_fraction), "version": CV_CACHE_VERSION,
            "torch": torch.__version__}


def cv_cache_key(full_spec: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``full_spec`` (see :func:`cv_cache_spec`)."""
    return hashlib.sha256(canonical_json(full_spec).encode()).hexdigest()


def _cache_root(cache: bool | str | Path | None) -> Path | None:
    if cache is None or cache is False:
        return None
    if cache is True:
        return cache_dir("cv")
    root = Path(cache)
    root.mkdir(parents=True, exist_ok=True)
    return root


def _read_fold(path: Path, key: str, fold: int) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        record = read_json(path)
        if record.get("key") != key or int(record["row"]["fold"]) != fold:
            raise ValueError("key or fold does not match its file name")
        row = record["row"]
        return {c: row[c] for c in record["columns"]}  # JSON keys are sorted: restore order
    except (ValueError, KeyError, TypeError, OSError) as err:
        log.warning("ignoring unreadable cached fold %s (%s); training it again", path, err)
        return None


def cached_cross_validate(spec: Mapping[str, Any], build_model: Callable[[], TorchClassifier],
                          images: np.ndarray, labels: Sequence[int] | np.ndarray, folds: Folds,
                          *, make_train_items: Callable[[np.ndarray], Items] | None = None,
                          loss_factory: Callable[[np.ndarray], nn.Module] | None = None,
                          config: FitConfig = FitConfig(), seed: int = 0,
                          val_fraction: float = 0.1, progress: bool = True,
                          make_sampler: Callable[[np.ndarray], Sampler] | None = None,
                          cache: bool | str | Path | None = True,
                          data_id: str | None = None) -> pd.DataFrame:
    """:func:`cross_validate` (with ``keep_confusion``), one fold at a time, each fold's row
    cached as ``<cache>/<key>/fold<f>.json``.

    ``spec`` must describe, in plain JSON, everything the callables do (model name and input
    size, its initial weights, the training-items recipe, the loss, the sampler, the device):
    the key is the sha256 of ``spec`` plus the data (``data_id``, default
    :func:`array_fingerprint` of ``images`` and ``labels``), the folds, ``config`` (but
    ``num_workers``), ``seed``, ``val_fraction`` and :data:`CV_CACHE_VERSION`. Two calls with
    the same key get the same rows; the second trains nothing. A fold is written as soon as it
    is done (atomically), so an interrupted run resumes at the next fold. ``cache``: True (the
    default folder ``cache_dir("cv")``), a folder, or False (no cache).

    Fold f is trained exactly as ``cross_validate`` trains it (seed ``seed + f``), so the rows
    equal ``cross_validate(..., keep_confusion=True)``'s; the extra column ``from_cache`` says
    which came from disk (their ``seconds`` are those of the run that trained them).
    """
    y = np.asarray(labels)
    data_id = data_id or array_fingerprint(images, y)
    full = cv_cache_spec(spec, data_id=data_id, folds=folds, config=config, seed=seed,
                         val_fraction=val_fraction)
    key = cv_cache_key(full)
    root = _cache_root(cache)
    folder = None if root is None else root / key
    rows = []
    for f, fold in enumerate(tqdm(folds, desc="folds (cached)", disable=not progress)):
        path = None if folder is None else folder / f"fold{f}.json"
        row = None if path is None else _read_fold(path, key, f)
        if row is not None:
            row["from_cache"] = True
        else:
            df = cross_validate(build_model, images, y, [fold],
                                make_train_items=make_train_items, loss_factory=loss_factory,
                                config=config, seed=seed + f, val_fraction=val_fraction,
                                progress=progress, make_sampler=make_sampler,
                                keep_confusion=True)
            row = {k: (v.item() if isinstance(v, np.generic) else v)
                   for k, v in df.iloc[0].to_dict().items()}
            row["fold"] = f
            if path is not None:
                write_json(path, {"key": key, "spec": full, "row": row, "columns": list(row)})
            row["from_cache"] = False
        rows.append(row)
    return pd.DataFrame(rows)
