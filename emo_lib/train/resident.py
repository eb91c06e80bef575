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

When: a stated decision, once per unit (:func:`decide_data_path`), from the data's size, the
device's *total* memory and the ``data_path`` compute setting (``auto``, ``resident``,
``loader``: :mod:`emo_lib.compute_settings`). Free memory is not consulted: PyTorch's allocator
keeps freed blocks cached, so in a kernel training many cells free memory shrinks fold after
fold, and a decision based on it would switch later folds to the other path (whose pixels
differ in the last bit) under the same key. Total memory, the GPU's name and the setting are in
every key (:func:`emo_lib.device.device_identity`), so the key decides the path. ``auto`` takes
the resident path on CUDA when every item is fixed per fold and the data needs at most
:data:`MEMORY_SHARE` of the device's memory, else the loader path, saying why; ``resident``
takes it or stops with an error saying the unit cannot hold its data; the chosen path and the
reason are recorded in the unit's timing. A resident set whose allocation still fails stops
with that error too, never falling back.

What it does not do: training itself (:func:`emo_lib.train.fit`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import BatchSampler, Dataset, RandomSampler, Sampler

from ..compute_settings import DATA_PATHS
from .dataset import ArrayDataset

log = logging.getLogger(__name__)

#: Share of the device's total memory a resident training + validation set may take (the rest
#: is the model's: EfficientNet-B5 or VGG-16 at batch 128 in AMP need about 22 GiB).
MEMORY_SHARE = 0.5


class DataPathError(RuntimeError):
    """A unit asked to hold its data on the device cannot (too large, or not fixed per fold)."""


@dataclass(frozen=True)
class DataPath:
    """The data path of one unit: ``path`` (``resident`` or ``loader``), the ``policy`` it came
    from, the bytes the resident copy needs, the device's total memory (CUDA; None elsewhere)
    and ``reason``, a sentence for logs and timings."""

    path: str
    policy: str
    needed_bytes: int
    total_bytes: int | None
    reason: str

    @property
    def resident(self) -> bool:
        return self.path == "resident"

    def record(self) -> dict[str, object]:
        return {"data_path": self.path, "data_path_policy": self.policy,
                "data_path_reason": self.reason, "data_bytes": self.needed_bytes,
                "device_memory_bytes": self.total_bytes}


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


def device_memory(device: torch.device) -> int | None:
    """Total memory of a CUDA device in bytes (None for other devices)."""
    if device.type != "cuda":
        return None
    return int(torch.cuda.get_device_properties(device).total_memory)


def fits_on(device: torch.device, n_bytes: int, share: float = MEMORY_SHARE) -> bool:
    """True when ``n_bytes`` fit in ``share`` of the device's total memory (CUDA), always on
    the CPU (the caller decides whether to use this path there)."""
    total = device_memory(device)
    return total is None or n_bytes <= share * total


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def decide_data_path(policy: str, device: torch.device | str,
                     sets: Sequence[Dataset | None]) -> DataPath:
    """The data path of a unit training on ``sets`` (training, validation) on ``device``
    under ``policy`` (see the module docstring).

    Raises:
        DataPathError: ``policy="resident"`` and the data cannot reside (a fresh transform per
            epoch, not ArrayDatasets, or more than :data:`MEMORY_SHARE` of the device).
        ValueError: an unknown policy.
    """
    if policy not in DATA_PATHS:
        raise ValueError(f"data path: {policy} is not one of the choices {', '.join(DATA_PATHS)}")
    device = torch.device(device)
    present = [d for d in sets if d is not None]
    arrays = all(isinstance(d, ArrayDataset) for d in present)
    fixed = arrays and all(can_reside(d) for d in present)  # type: ignore[arg-type]
    needed = sum(resident_bytes(d) for d in present) if arrays else 0  # type: ignore[arg-type]
    total: int | None = None

    def chosen(path: str, reason: str) -> DataPath:
        return DataPath(path, policy, int(needed), total, reason)

    if policy == "loader":
        return chosen("loader", "the compute setting data_path is loader")
    if not fixed:
        why = ("the items draw a fresh random transform every epoch (item_seed unset)" if arrays
               else "the data are not ArrayDatasets")
        if policy == "resident":
            raise DataPathError(f"data_path resident: this unit's data cannot be held on the "
                                f"device: {why}")
        return chosen("loader", f"auto: {why}")
    total = device_memory(device)
    share = f"{MEMORY_SHARE:.0%} of the device's {_gib(total)}" if total else ""
    if policy == "resident":
        if total is not None and needed > MEMORY_SHARE * total:
            raise DataPathError(
                f"data_path resident: this unit cannot hold its data on {device}: it needs "
                f"{_gib(needed)}, more than {share}; set data_path: loader (or auto)")
        return chosen("resident", "the compute setting data_path is resident")
    if device.type != "cuda":
        return chosen("loader", f"auto on {device.type}: the loader path is the reference")
    if needed > MEMORY_SHARE * total:  # type: ignore[operator]
        reason = f"auto: the data need {_gib(needed)}, more than {share}"
        log.warning("training on the DataLoader path: %s", reason)
        return chosen("loader", reason)
    return chosen("resident", f"auto: the data need {_gib(needed)}, within {share}")


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
        rows_needed = len(distinct) + len(transformed)
        try:
            store = torch.empty((rows_needed, h, w, 3), dtype=torch.uint8, device=device)
        except torch.OutOfMemoryError as err:  # say so; never fall back to the other path
            raise DataPathError(
                f"this unit cannot hold its data on {device}: {_gib(rows_needed * h * w * 3)} "
                f"could not be allocated ({err}); set data_path: loader, or run it in a fresh "
                "process") from err
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


__all__ = ["DataPath", "DataPathError", "MEMORY_SHARE", "ResidentSet", "can_reside",
           "decide_data_path", "device_memory", "epoch_batches", "fits_on", "resident_bytes"]
