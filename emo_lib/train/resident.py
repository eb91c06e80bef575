"""The GPU data path: a training set held on the device as one uint8 tensor, every item
(original image or transformed copy) materialised once per fold, batches gathered by index.

Why: the paper transforms each copy once (Algorithm 1; ``ArrayDataset(item_seed=...)`` draws
item k's transform from a generator seeded with (item_seed, k), the same draw every epoch). So a
fold's training set is fixed before training starts, and nothing has to be decoded, transformed
or copied from the host per epoch: a batch is an index gather on the device, and the GPU never
waits for a CPU data loader.

Exactness: each copy is made by the dataset's own transform code on the device, with the same
per-item CPU generator seed as :meth:`ArrayDataset.__getitem__` (torchvision v2 draws its random
parameters from the CPU generator, so every copy gets exactly the parameters the CPU path gives
it). Batches follow the order a ``DataLoader`` with the same generator and sampler yields (its
per-epoch base-seed draw included), so on the CPU this path gives bit-identical training to
:func:`emo_lib.train.fit`'s loader path (a test checks it); on CUDA the pixel arithmetic of a
transform may differ in the last bit from the CPU's, which is why the device is part of every
cache key.

Transforms are applied one item at a time (each item has its own random parameters, and v2
draws one set per call); this happens once per fold, not per epoch.

What it does not do: decide when to use it (:func:`emo_lib.train.fit` does: on CUDA when the
set fits in memory), or training itself.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch.utils.data import BatchSampler, RandomSampler, Sampler

from .dataset import ArrayDataset

#: Share of the device's free memory a resident training + validation set may take.
MEMORY_SHARE = 0.5


def resident_bytes(data: ArrayDataset) -> int:
    """Bytes the resident copy of ``data`` needs: its distinct images plus one image per item
    that is transformed."""
    h, w = data.size
    indices = np.fromiter((i for i, _ in data.items), dtype=np.int64, count=len(data.items))
    transformed = sum(1 for _, t in data.items if t is not None) if data.transform is None \
        else len(data.items)
    return (len(np.unique(indices)) + transformed) * h * w * 3


def can_reside(data: ArrayDataset) -> bool:
    """True when every item is fixed for the fold: untransformed, or transformed with a
    per-item seed (``item_seed``); a fresh draw per epoch cannot be materialised."""
    has_random = data.transform is not None or any(t is not None for _, t in data.items)
    return data.item_seed is not None or not has_random


def fits_on(device: torch.device, n_bytes: int, share: float = MEMORY_SHARE) -> bool:
    """True when ``n_bytes`` fit in ``share`` of the device's free memory (CUDA), always on
    the CPU (the caller decides whether to use this path there)."""
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return n_bytes <= share * free


class ResidentSet:
    """``data``'s items as a uint8 (rows, H, W, 3) tensor on ``device`` (see the module notes).

    Attributes:
        store: distinct images first, then one row per transformed item.
        rows: (len(data),) long tensor on ``device``: the store row of item k.
        labels: (len(data),) long tensor on ``device``.
    """

    def __init__(self, data: ArrayDataset, device: torch.device | str, chunk: int = 256) -> None:
        if not can_reside(data):
            raise ValueError("this dataset draws a fresh random transform every epoch "
                             "(item_seed=None): it cannot be materialised once per fold")
        device = torch.device(device)
        self.device = device
        self.n = len(data)
        h, w = data.size
        indices = np.fromiter((i for i, _ in data.items), dtype=np.int64, count=self.n)
        distinct, first_row = np.unique(indices, return_inverse=True)
        transformed = [k for k, (_, t) in enumerate(data.items)
                       if t is not None or data.transform is not None]
        store = torch.empty((len(distinct) + len(transformed), h, w, 3), dtype=torch.uint8,
                            device=device)
        for s in range(0, len(distinct), chunk):  # sorted indices: sequential reads of a memmap
            block = np.ascontiguousarray(data.images[distinct[s:s + chunk]])
            store[s:s + len(block)] = torch.from_numpy(block).to(device, non_blocking=False)
        rows = torch.as_tensor(first_row, dtype=torch.long)
        for j, k in enumerate(transformed):
            row = len(distinct) + j
            source = store[int(first_row[k])].permute(2, 0, 1)  # CHW view, as __getitem__ makes
            store[row] = data.transformed(k, source).permute(1, 2, 0)
            rows[k] = row
        self.store = store
        self.rows = rows.to(device)
        self.labels = torch.as_tensor(data.item_labels, dtype=torch.long, device=device)

    def __len__(self) -> int:
        return self.n

    def batches(self, batch_sampler: Iterator[list[int]] | BatchSampler
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(uint8 NHWC images, labels) on the device for each list of item indices."""
        for idx in batch_sampler:
            k = torch.as_tensor(idx, dtype=torch.long).to(self.device, non_blocking=True)
            yield self.store[self.rows[k]], self.labels[k]


def epoch_batches(n: int, batch_size: int, *, sampler: Sampler | None,
                  generator: torch.Generator | None, drop_last: bool,
                  shuffle: bool) -> BatchSampler:
    """The item indices a ``DataLoader(range(n), batch_size, shuffle, sampler, generator,
    drop_last)`` yields in one epoch, drawing the same random numbers in the same order: the
    loader's per-epoch base seed (from ``generator``, else the global generator), then its
    sampler's."""
    torch.empty((), dtype=torch.int64).random_(generator=generator)  # DataLoader's base seed
    if sampler is None:
        sampler = RandomSampler(range(n), generator=generator) if shuffle else range(n)
    return BatchSampler(sampler, batch_size, drop_last)  # type: ignore[arg-type]


__all__ = ["MEMORY_SHARE", "ResidentSet", "can_reside", "epoch_batches", "fits_on",
           "resident_bytes"]
