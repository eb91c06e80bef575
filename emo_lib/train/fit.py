"""Fitting and scoring one model: ``fit`` (Adam, early stopping on validation loss, best
weights restored) and ``evaluate`` (accuracy, macro F1, per-class F1, confusion).

Every random choice is seeded: with the same seed the CPU path gives identical weights.
On CUDA the loop is deterministic unless the profile says otherwise (:func:`seed_everything`)
and uses autocast (bf16 where the GPU has it natively, else fp16 with a gradient scaler),
channels_last inputs and, when the fold's training set fits in device memory, the resident data
path of :mod:`.resident` (every item materialised once on the GPU, batches gathered there; else
a pinned-memory DataLoader); that path only runs when ``model.device.type == "cuda"``. Folds
and cross-validation are in :mod:`.folds` and :mod:`.crossval`.
"""
from __future__ import annotations

import copy
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Hashable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.metrics import confusion_matrix, f1_score
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from ..compute_settings import ComputeSettings
from ..data.manifest import class_indices
from ..classifier import TorchClassifier, preprocess
from ..device import bf16_supported, set_determinism
from ..validation import check_positive_int
from .resident import DataPath, DataPathError, ResidentSet, decide_data_path, epoch_batches


@dataclass(frozen=True)
class FitConfig:
    """Training settings (defaults: the paper's Adam, lr 1e-4, batch 128, 30 epochs). Frozen:
    one instance serves as a default argument everywhere (``dataclasses.replace`` for variants)."""

    epochs: int = 30
    lr: float = 1e-4
    batch_size: int = 128
    patience: int | None = None      # early stopping on validation loss (None: no early stop)
    weight_decay: float = 0.0
    num_workers: int = 0
    amp: bool = True                 # mixed precision, used on CUDA only
    freeze: Sequence[str] = ()       # parameter-name prefixes to freeze (fine-tuning)
    # the frozen prefix in eval mode, its activations computed once per item and only the
    # rest trained on them (a CPU economy: :mod:`.trunk`; needs ``freeze``)
    frozen_features: bool = False


@dataclass
class FitResult:
    """``history``: one row per epoch (epoch, train_loss, val_loss, val_accuracy,
    val_macro_f1, seconds); ``best_epoch``: the epoch whose weights the model holds;
    ``data_path``: how the data reached the model and why (:class:`.resident.DataPath`)."""

    history: pd.DataFrame
    best_epoch: int
    stopped_early: bool
    data_path: DataPath | None = None


def seed_everything(seed: int, device: torch.device | str | None = None) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) from ``seed``; on a CUDA ``device``, also
    set the determinism flags of this process's compute settings
    (:func:`emo_lib.device.set_determinism`: deterministic cuDNN and algorithms unless the
    profile says ``deterministic: false``), so the same seed gives the same numbers there."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if device is not None:
        set_determinism(device)


def _to_model_input(model: TorchClassifier, x: torch.Tensor, nhwc: bool = False) -> torch.Tensor:
    # The loader yields uint8 NCHW, the resident set NHWC; preprocess takes NHWC (for NCHW a
    # permuted view, no copy). Either way the same elementwise arithmetic: identical inputs.
    return preprocess(x if nhwc else x.permute(0, 2, 3, 1), model.input_size, model.mean,
                      model.std, model.device)


def _autocast(model: TorchClassifier, amp: bool) -> tuple[Any, torch.dtype | None]:
    if model.device.type == "cuda" and amp:
        dtype = torch.bfloat16 if bf16_supported() else torch.float16
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


class _Batches:
    """One epoch's (images, labels) batches: from a DataLoader, or gathered from a
    :class:`~.resident.ResidentSet` in the order that DataLoader would yield (see
    :func:`~.resident.epoch_batches`). ``nhwc``: the layout of the image batches."""

    def __init__(self, data: Dataset, batch_size: int, *, shuffle: bool,
                 sampler: Sampler | None, num_workers: int, device: torch.device,
                 generator: torch.Generator | None, drop_last: bool = False,
                 resident: bool = False) -> None:
        self.resident = ResidentSet(data, device) if resident else None  # type: ignore[arg-type]
        self.nhwc = resident
        self.args = dict(batch_size=batch_size, sampler=sampler, generator=generator,
                         drop_last=drop_last, shuffle=shuffle)
        self.n_batches = len(BatchSampler(range(len(data)), batch_size, drop_last)) \
            if sampler is None else len(BatchSampler(sampler, batch_size, drop_last))
        self.loader = None if resident else _loader(
            data, batch_size, shuffle=shuffle, sampler=sampler, num_workers=num_workers,
            device=device, generator=generator, drop_last=drop_last)

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.resident is None:
            return iter(self.loader)  # type: ignore[arg-type]
        return self.resident.batches(epoch_batches(len(self.resident), **self.args))


def data_path_of(resident: bool | None, device: torch.device, train: Dataset,
                 val: Dataset | None) -> DataPath:
    """The unit's data path (:func:`.resident.decide_data_path`): ``resident`` True/False
    forces it, None follows this process's ``data_path`` compute setting (default ``auto``)."""
    policy = ComputeSettings.from_env().data_path if resident is None else \
        ("resident" if resident else "loader")
    try:
        return decide_data_path(policy, device, [train, val])
    except DataPathError as err:
        if resident:
            raise ValueError(f"resident=True needs ArrayDatasets whose items are fixed per fold "
                             f"(item_seed set, or no random transform) that fit the device: "
                             f"{err}") from err
        raise


@torch.inference_mode()
def _validate(model: TorchClassifier, loader: _Batches, loss_fn: nn.Module, amp: bool
              ) -> tuple[float, float, float]:
    model.module.eval()
    total, n, preds, trues = 0.0, 0, [], []
    ctx, _ = _autocast(model, amp)
    for x, y in loader:
        y = y.to(model.device, non_blocking=True)
        with ctx:
            logits = model.module(_to_model_input(model, x, loader.nhwc))
        total += float(loss_fn(logits.float(), y)) * len(y)
        n += len(y)
        preds.append(logits.argmax(1).cpu().numpy())
        trues.append(y.cpu().numpy())
    y_true, y_pred = np.concatenate(trues), np.concatenate(preds)
    labels = list(range(len(model.classes)))
    return (total / max(n, 1), float((y_true == y_pred).mean()),
            float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)))


def optimizer_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer,
                   scaler: Any | None = None) -> None:
    """One update from ``loss``: gradients cleared, backward (scaled when ``scaler``, the fp16
    GradScaler of CUDA runs, is given), step."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()


def epoch_row(epoch: int, train_loss: float) -> dict[str, float]:
    """One row of a training history, validation columns still missing."""
    return {"epoch": epoch, "train_loss": train_loss, "val_loss": np.nan,
            "val_accuracy": np.nan, "val_macro_f1": np.nan}


@dataclass
class BestEpoch:
    """Early stopping's bookkeeping, one for :func:`fit` and the frozen-trunk tail
    (:func:`emo_lib.train.trunk.fit_tail`): the lowest validation loss so far, its epoch and a
    copy of its weights, and the epochs since. Without validation the last epoch is the best."""

    loss: float = float("inf")
    epoch: int = 0
    state: dict[str, Any] | None = None
    stale: int = 0

    def update(self, row: Mapping[str, float], module: nn.Module, validated: bool) -> None:
        if not validated:
            self.epoch = int(row["epoch"])
        elif row["val_loss"] < self.loss:
            self.loss, self.epoch, self.stale = row["val_loss"], int(row["epoch"]), 0
            self.state = copy.deepcopy(module.state_dict())
        else:
            self.stale += 1

    def should_stop(self, patience: int | None, validated: bool) -> bool:
        return patience is not None and validated and self.stale >= patience

    def restore(self, module: nn.Module) -> None:
        if self.state is not None:
            module.load_state_dict(self.state)


def fit(model: TorchClassifier, train: Dataset, val: Dataset | None = None, *,
        loss: nn.Module | None = None, config: FitConfig = FitConfig(), seed: int = 0,
        progress: bool = True, sampler: Sampler | None = None,
        resident: bool | None = None) -> FitResult:
    """Train ``model.module`` in place on ``model.device`` with Adam.

    Batches (uint8 CHW from e.g. :class:`ArrayDataset`) go through
    :func:`emo_lib.classifier.preprocess`, as in prediction. With ``val``, the weights of the
    lowest validation loss are kept and restored at the end, and ``config.patience`` epochs
    without improvement stop training. ``loss`` defaults to cross entropy; ``sampler``
    (e.g. :func:`emo_lib.balance.class_balanced_sampler`) replaces shuffling.

    ``resident``: hold the training and validation sets on the device, every item materialised
    once (:mod:`.resident`), instead of a DataLoader. None (default): the ``data_path`` compute
    setting decides (``auto``: on CUDA when both are :class:`ArrayDataset` s with items fixed
    per fold needing at most half the device's total memory, stated in the result's
    ``data_path``; never on the CPU, where the loader path is the reference; ``True`` there
    gives the same numbers, which a test checks).
    """
    if len(train) == 0:
        raise ValueError("the training set is empty")
    check_positive_int("config.epochs", config.epochs)
    device = model.device
    seed_everything(seed, device)
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
    scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None

    gen = torch.Generator().manual_seed(seed)
    # A last batch of one sample breaks BatchNorm in train mode (nets at small inputs end in
    # a 1x1 map): drop it in that one case.
    drop_last = len(train) % config.batch_size == 1 and len(train) > config.batch_size
    data_path = data_path_of(resident, device, train, val)
    on_device = data_path.resident
    train_loader = _Batches(train, config.batch_size, shuffle=True, sampler=sampler,
                            num_workers=config.num_workers, device=device, generator=gen,
                            drop_last=drop_last, resident=on_device)
    val_loader = None if val is None else _Batches(
        val, config.batch_size, shuffle=False, sampler=None, num_workers=config.num_workers,
        device=device, generator=None, resident=on_device)

    rows: list[dict[str, float]] = []
    best, stopped = BestEpoch(), False
    epochs = tqdm(range(1, config.epochs + 1), desc="epochs", disable=not progress)
    try:
        for epoch in epochs:
            start = time.perf_counter()
            module.train()
            # Summed on the device in float64 (no host sync per batch; the same arithmetic as
            # adding Python floats, so CPU histories are unchanged).
            total, n = torch.zeros((), dtype=torch.float64, device=device), 0
            for x, y in tqdm(train_loader, desc=f"epoch {epoch}", leave=False,
                             disable=not progress):
                y = y.to(device, non_blocking=True)
                ctx, _ = _autocast(model, config.amp)
                with ctx:
                    logits = module(_to_model_input(model, x, train_loader.nhwc))
                batch_loss = loss_fn(logits.float(), y)
                optimizer_step(batch_loss, optimizer, scaler)
                total += batch_loss.detach().double() * len(y)
                n += len(y)
            row = epoch_row(epoch, float(total) / max(n, 1))
            if val_loader is not None:
                v_loss, v_acc, v_f1 = _validate(model, val_loader, loss_fn, config.amp)
                row.update(val_loss=v_loss, val_accuracy=v_acc, val_macro_f1=v_f1)
            best.update(row, module, val_loader is not None)
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            epochs.set_postfix(train_loss=f"{row['train_loss']:.4f}",
                               val_loss=f"{row['val_loss']:.4f}")
            if best.should_stop(config.patience, val_loader is not None):
                stopped = epoch < config.epochs
                break
    finally:
        for n_, p in module.named_parameters():
            p.requires_grad_(not frozen_before.get(n_, False))
    best.restore(module)
    module.eval()
    return FitResult(history=pd.DataFrame(rows), best_epoch=best.epoch, stopped_early=stopped,
                     data_path=data_path)


def predict_logits(model: TorchClassifier, images: Any,
                   batch_size: int | None = None) -> np.ndarray:
    """Float32 logits (:meth:`TorchClassifier.predict_logits`): ``softmax(predict_logits(...))``
    equals ``predict_proba(...)`` bit for bit."""
    return model.predict_logits(images, batch_size)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax computed as ``predict_proba`` computes it (torch, float32)."""
    return torch.softmax(torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32)),
                         dim=1).numpy()


def evaluate(model: TorchClassifier, images: np.ndarray, labels: Sequence[Hashable] | np.ndarray,
             indices: np.ndarray | None = None, chunk: int = 1024) -> dict[str, Any]:
    """Accuracy, macro F1, per-class F1 (by class name) and the confusion matrix (rows: true,
    columns: predicted, in ``model.classes`` order) of ``model.predict_proba`` on ``images``,
    and the logits behind it (``logits``: (n, classes) float32, rows in ``indices`` order).

    ``labels`` are class indices or names. ``indices`` selects rows of ``images``/``labels``
    without copying the whole selection (read ``chunk`` images at a time).
    """
    classes = list(model.classes)
    y_all = class_indices(labels, classes, of="the model's classes")
    if len(y_all) != len(images):
        raise ValueError(f"{len(images)} images but {len(y_all)} labels")
    idx = np.arange(len(images)) if indices is None else np.asarray(indices, dtype=np.int64)
    if len(idx) == 0:
        raise ValueError("nothing to evaluate: no images selected")
    logits = np.concatenate([predict_logits(model, images[idx[s:s + chunk]])
                             for s in range(0, len(idx), chunk)])
    return scores_from_logits(logits, y_all[idx], classes)


def scores_from_logits(logits: np.ndarray, y_true: np.ndarray, classes: Sequence[str]
                       ) -> dict[str, Any]:
    """:func:`evaluate`'s scores from test logits (rows) and true class indices."""
    classes = list(classes)
    proba = softmax(logits)
    y_pred = proba.argmax(1)
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
        "logits": logits,
        "n": int(len(y_true)),
    }


__all__ = ["FitConfig", "FitResult", "evaluate", "fit", "predict_logits", "scores_from_logits",
           "seed_everything", "softmax"]
