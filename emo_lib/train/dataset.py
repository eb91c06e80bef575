"""Training images as a torch Dataset: items ``(index, transform)`` over one uint8 array.

Only the data side of training; fitting is in :mod:`.fit`, folds in :mod:`.folds`.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from torch.utils.data import Dataset

from .. import augment

Items = Sequence[tuple[int, Any]]


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
        index, _ = self.items[k]
        x = torch.from_numpy(np.array(self.images[index], dtype=np.uint8, copy=True))
        return self.transformed(k, x.permute(2, 0, 1)), int(self.labels[index])

    def transformed(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """Item k's transform (and ``transform``) applied to ``x``, its image as a uint8 CHW
        tensor on any device; ``x`` itself when item k is untransformed.

        With ``item_seed`` the random parameters come from the CPU generator seeded with
        (item_seed, k) (torchvision v2 draws them there, whatever the tensor's device), and only
        the CPU generator is touched: the global CPU state is restored afterwards and the CUDA
        generators (dropout) are left alone."""
        fn = self._resolve(self.items[k][1])
        if fn is None and self.transform is None:
            return x
        if self.item_seed is None:
            return self._apply(fn, x)
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(
                (int(self.item_seed) * 1_000_003 + int(k)) % 2**63)
            return self._apply(fn, x)

    def _apply(self, fn: Callable[[Any], Any] | None, x: torch.Tensor) -> torch.Tensor:
        if fn is not None:
            x = fn(x)
        if self.transform is not None:
            x = self.transform(x)
        if tuple(x.shape[-2:]) != self.size:
            x = TF.resize(x, list(self.size), antialias=True)
        return x.contiguous()


__all__ = ["ArrayDataset", "Items"]
