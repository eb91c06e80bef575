"""Fine-tuning the last blocks of a network on its frozen trunk's activations, computed once.

A CPU economy for runs that freeze a network's first blocks (:class:`~.fit.FitConfig`
``freeze`` with ``frozen_features=True``; the paper profile trains every layer and never takes
this path). The frozen prefix (the *trunk*) runs in evaluation mode (its BatchNorm layers use
their running statistics, unchanged by training), so its output for an item is a fixed
function of the item's pixels: it is computed once per item per fold (once per original image
and process: :func:`trunk_features` keeps the originals' activations of the last trunks
asked for), and only the trainable *tail* (the remaining blocks and the head) is trained, on
those activations, with the loop :func:`emo_lib.train.fit` runs (Adam, the same shuffling
generator, the same early stopping on validation loss and best weights restored). Each
transformed copy is fixed per fold (``ArrayDataset(item_seed=...)``), so computing its
activation once is the same as computing it every epoch.

What changes against training the whole network with the first blocks frozen: the frozen
BatchNorm layers no longer update their running statistics on the training batches (in
``fit`` they do, in training mode), and no gradient or activation of the trunk is kept.

:func:`stages` writes a supported torchvision network (EfficientNet, MobileNetV3, VGG, ResNet
and the families built on their classes) as the sequence its ``forward`` runs;
:func:`split_trunk` cuts it after the last stage whose parameters are all frozen.
"""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from sklearn.metrics import f1_score
from torch.utils.data import Sampler
from tqdm.auto import tqdm

from ..classifier import TorchClassifier, preprocess
from .dataset import ArrayDataset
from .fit import BestEpoch, FitConfig, FitResult, epoch_row, optimizer_step, seed_everything

#: How many original-image activation sets :func:`trunk_features` keeps per process (a page
#: trains a few models; each set is (images x trunk output) floats).
MEMO_ENTRIES = 4
#: Images per trunk forward pass.
CHUNK = 256

_MEMO: "OrderedDict[tuple, torch.Tensor]" = OrderedDict()


def stages(module: nn.Module) -> list[nn.Module]:
    """``module``'s forward pass as a list of stages applied one after another (its output
    equals ``nn.Sequential(*stages(module))``'s): the feature blocks, pooling, flattening and
    head of a torchvision EfficientNet / MobileNetV3 / VGG, or a ResNet's stem, layers, pooling
    and head. ValueError for any other layout."""
    names = ("features", "avgpool", "classifier")
    if all(hasattr(module, n) for n in names) and isinstance(module.features, nn.Sequential):
        return [*module.features, module.avgpool, nn.Flatten(1), module.classifier]
    resnet = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
              "avgpool", "fc")
    if all(hasattr(module, n) for n in resnet):
        return [*(getattr(module, n) for n in resnet[:-1]), nn.Flatten(1), module.fc]
    raise ValueError(f"{type(module).__name__}: no stage layout known (EfficientNet, "
                     "MobileNetV3, VGG and ResNet layouts are)")


def split_trunk(module: nn.Module, frozen: set[int]) -> tuple[nn.Sequential, nn.Sequential]:
    """(trunk, tail): the leading stages whose parameters are all in ``frozen`` (parameter
    ``id`` s; parameterless stages go with what precedes them), and the rest. The modules are
    shared with ``module``, not copied."""
    parts = stages(module)
    cut = 0
    for i, stage in enumerate(parts):
        if all(id(p) in frozen for p in stage.parameters()):
            cut = i + 1
        else:
            break
    return nn.Sequential(*parts[:cut]), nn.Sequential(*parts[cut:])


def frozen_parameters(module: nn.Module, prefixes: Sequence[str]) -> set[int]:
    """The ids of ``module``'s parameters named with one of ``prefixes`` (ValueError when
    none is)."""
    hits = {id(p) for n, p in module.named_parameters() if n.startswith(tuple(prefixes))}
    if prefixes and not hits:
        raise ValueError(f"freeze prefixes {tuple(prefixes)} match no parameter; names look "
                         f"like {[n for n, _ in module.named_parameters()][:3]}")
    return hits


def _digest(images: np.ndarray) -> str:
    h = hashlib.sha256(f"{images.shape}|{images.dtype}|".encode())
    for s in range(0, len(images), 1024):
        h.update(np.ascontiguousarray(images[s:s + 1024]).tobytes())
    return h.hexdigest()[:16]


@torch.inference_mode()
def _forward(model: TorchClassifier, trunk: nn.Module, batch_nhwc: torch.Tensor | np.ndarray
             ) -> torch.Tensor:
    # plain NCHW on the CPU: measured 20 % faster than channels_last for these small inputs
    x = preprocess(batch_nhwc, model.input_size, model.mean, model.std, model.device,
                   channels_last=model.device.type != "cpu")
    return trunk(x).float().contiguous()


def trunk_features(model: TorchClassifier, trunk: nn.Module, images: np.ndarray,
                   key: Any) -> torch.Tensor:
    """The trunk's activations of every image of ``images`` (in evaluation mode), computed
    in chunks of :data:`CHUNK` in index order (so the numbers never depend on which caller
    computed them), kept for the last :data:`MEMO_ENTRIES` (``key``, pixels) pairs: ``key``
    must name the trunk exactly (architecture, initial weights, input size, frozen blocks)."""
    trunk.eval()
    full = (key, _digest(images), model.device.type)
    if full in _MEMO:
        _MEMO.move_to_end(full)
        return _MEMO[full]
    out = torch.cat([_forward(model, trunk, images[s:s + CHUNK])
                     for s in range(0, len(images), CHUNK)])
    _MEMO[full] = out
    while len(_MEMO) > MEMO_ENTRIES:
        _MEMO.popitem(last=False)
    return out


def item_features(model: TorchClassifier, trunk: nn.Module, data: ArrayDataset,
                  originals: torch.Tensor) -> torch.Tensor:
    """The trunk's activations of every item of ``data``: an untransformed item's from
    ``originals`` (the activations of ``data.images``), a transformed copy's computed now
    (each copy drawn as ``data`` draws it, fixed per fold)."""
    index = torch.as_tensor([i for i, _ in data.items], dtype=torch.long)
    out = originals[index].clone()
    copies = [k for k, (_, t) in enumerate(data.items) if t is not None or data.transform]
    for s in range(0, len(copies), CHUNK):
        ks = copies[s:s + CHUNK]
        batch = torch.stack([data[k][0] for k in ks]).permute(0, 2, 3, 1)
        out[torch.as_tensor(ks)] = _forward(model, trunk, batch).to(out.device)
    return out


def _metrics(logits: torch.Tensor, y: torch.Tensor, n_classes: int) -> tuple[float, float]:
    pred = logits.argmax(1).cpu().numpy()
    true = y.cpu().numpy()
    return (float((pred == true).mean()),
            float(f1_score(true, pred, labels=list(range(n_classes)), average="macro",
                           zero_division=0)))


@torch.inference_mode()
def tail_logits(tail: nn.Module, features: torch.Tensor, batch_size: int = 1024
                ) -> torch.Tensor:
    """The tail's logits (evaluation mode) for trunk activations ``features``."""
    tail.eval()
    return torch.cat([tail(features[s:s + batch_size]).float()
                      for s in range(0, len(features), batch_size)]) if len(features) \
        else torch.zeros(0)


def fit_tail(tail: nn.Sequential, train_x: torch.Tensor, train_y: torch.Tensor,
             val_x: torch.Tensor | None, val_y: torch.Tensor | None, *, loss: nn.Module,
             config: FitConfig, seed: int, n_classes: int, sampler: Sampler | None = None,
             progress: bool = False) -> FitResult:
    """Train ``tail`` on trunk activations as :func:`emo_lib.train.fit` trains a network:
    Adam over its trainable parameters, each epoch's order from the sampler or a
    ``torch.Generator`` seeded with ``seed`` (the DataLoader's shuffle), a last batch of one
    dropped, validation loss each epoch, ``config.patience`` and the best epoch's weights
    restored."""
    seed_everything(seed)
    params = [p for p in tail.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n, bs = len(train_x), int(config.batch_size)
    drop_last = n % bs == 1 and n > bs
    rows: list[dict[str, float]] = []
    best, stopped = BestEpoch(), False
    for epoch in tqdm(range(1, config.epochs + 1), desc="epochs", disable=not progress):
        start = time.perf_counter()
        tail.train()
        order = (torch.as_tensor(list(iter(sampler)), dtype=torch.long) if sampler is not None
                 else torch.randperm(n, generator=gen))
        stop = len(order) - (len(order) % bs if drop_last else 0)
        total, count = 0.0, 0
        for s in range(0, stop, bs):
            idx = order[s:s + bs]
            batch_loss = loss(tail(train_x[idx]).float(), train_y[idx])
            optimizer_step(batch_loss, optimizer)
            total += float(batch_loss.detach()) * len(idx)
            count += len(idx)
        row = epoch_row(epoch, total / max(count, 1))
        validated = val_x is not None and val_y is not None and len(val_x) > 0
        if validated:
            logits = tail_logits(tail, val_x)
            with torch.inference_mode():
                v_loss = float(loss(logits, val_y))
            v_acc, v_f1 = _metrics(logits, val_y, n_classes)
            row.update(val_loss=v_loss, val_accuracy=v_acc, val_macro_f1=v_f1)
        best.update(row, tail, validated)
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        if best.should_stop(config.patience, validated):
            stopped = epoch < config.epochs
            break
    best.restore(tail)
    tail.eval()
    return FitResult(history=pd.DataFrame(rows), best_epoch=best.epoch, stopped_early=stopped)


def fit_frozen_trunk(model: TorchClassifier, train: ArrayDataset, val: ArrayDataset | None,
                     test_idx: np.ndarray, *, loss: nn.Module | None, config: FitConfig,
                     seed: int, sampler: Sampler | None = None, progress: bool = False
                     ) -> tuple[FitResult, np.ndarray, dict[str, float]]:
    """Train ``model``'s tail on its frozen trunk's activations (module docstring); return
    the fit, the test images' logits (float32, ``test_idx`` order) and the seconds spent
    computing activations and training. ``train`` and ``val`` index ``train.images``."""
    if not config.freeze:
        raise ValueError("the frozen-trunk path needs config.freeze (the blocks to freeze)")
    module = model.module
    loss_fn = (loss if loss is not None else nn.CrossEntropyLoss()).to(model.device)
    frozen = frozen_parameters(module, config.freeze)
    was = {n: p.requires_grad for n, p in module.named_parameters()}
    for p in module.parameters():
        if id(p) in frozen:
            p.requires_grad_(False)
    try:
        trunk, tail = split_trunk(module, frozen)
        arch = str(model.info.get("architecture", type(module).__name__))
        key = (arch, str(model.info.get("weights")), int(model.input_size),
               len(trunk), tuple(config.freeze))
        t0 = time.perf_counter()
        originals = trunk_features(model, trunk, train.images, key)
        train_x = item_features(model, trunk, train, originals)
        train_y = torch.as_tensor(train.item_labels, device=train_x.device)
        val_x = val_y = None
        if val is not None and len(val):
            val_x = item_features(model, trunk, val, originals)
            val_y = torch.as_tensor(val.item_labels, device=val_x.device)
        t1 = time.perf_counter()
        result = fit_tail(tail, train_x, train_y, val_x, val_y, loss=loss_fn, config=config,
                          seed=seed, n_classes=len(model.classes), sampler=sampler,
                          progress=progress)
        t2 = time.perf_counter()
        logits = tail_logits(tail, originals[torch.as_tensor(np.asarray(test_idx))])
    finally:
        for n, p in module.named_parameters():
            p.requires_grad_(was[n])
    module.eval()
    return (result, logits.cpu().numpy().astype(np.float32),
            {"trunk_seconds": t1 - t0, "tail_seconds": t2 - t1})


__all__ = ["CHUNK", "MEMO_ENTRIES", "fit_frozen_trunk", "fit_tail", "frozen_parameters",
           "item_features", "split_trunk", "stages", "tail_logits", "trunk_features"]
