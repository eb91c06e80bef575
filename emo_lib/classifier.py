"""The one face every model shows: ``classes``, ``predict_proba(images)``, ``module``.

Images are batches of uint8 HxWx3 RGB arrays (a list or an (N, H, W, 3) array). Resizing and
normalisation happen here, on the model's device, so every caller (evaluation, LIME, training)
feeds the network the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .device import resolve_device

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_uint8_batch(images: Any) -> np.ndarray | torch.Tensor:
    """Stack ``images`` into one (N, H, W, 3) uint8 array (all must share H and W). A uint8
    torch tensor of that shape is kept as it is, on its device (LIME builds its perturbed
    images on the model's device, :mod:`emo_lib.explain.lime`)."""
    if isinstance(images, torch.Tensor) and images.ndim == 4:
        if images.dtype != torch.uint8 or images.shape[-1] != 3:
            raise ValueError(f"expected uint8 images of shape (N, H, W, 3), got "
                             f"{images.dtype} {tuple(images.shape)}")
        return images
    if isinstance(images, np.ndarray) and images.ndim == 4:
        batch = images
    else:
        batch = np.stack([np.asarray(im) for im in images])
    if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[-1] != 3:
        raise ValueError(
            f"expected uint8 images of shape (N, H, W, 3), got {batch.dtype} {batch.shape}"
        )
    return batch


def preprocess(
    batch: np.ndarray | torch.Tensor,
    size: int,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    device: torch.device | str = "cpu",
    channels_last: bool = True,
) -> torch.Tensor:
    """uint8 NHWC (numpy or tensor) -> normalised float NCHW at ``size`` x ``size``."""
    x = torch.as_tensor(batch).to(device, non_blocking=True)
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False)
    m = torch.tensor(mean, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, 3, 1, 1)
    x = (x - m) / s
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@dataclass
class TorchClassifier:
    """A torch image classifier with the project's common interface.

    Attributes:
        module: the ``torch.nn.Module`` (logits out); train it or attribute through it.
        classes: output names, in logit order (canonical lower-case emotion names).
        input_size: side of the square input the network expects.
        mean, std: input normalisation.
        batch_size: images per forward pass in ``predict_proba`` (choose per device).
        info: provenance (source file, blob id, training recipe...).
    """

    module: torch.nn.Module
    classes: tuple[str, ...]
    input_size: int = 224
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    batch_size: int = 64
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.device = torch.device(self.device) if not isinstance(self.device, torch.device) \
            else self.device
        self.module.to(self.device)
        if self.device.type == "cuda" or self.input_size <= 128:
            # channels_last is faster for these convnets on CUDA and (measured) on small CPU inputs
            self.module.to(memory_format=torch.channels_last)

    def to(self, device: str | torch.device) -> "TorchClassifier":
        self.device = resolve_device(str(device))
        self.module.to(self.device)
        return self

    def logits(self, images: Any) -> torch.Tensor:
        """Raw logits for a batch (no batching, no grad handling: for attribution/training)."""
        x = preprocess(to_uint8_batch(images), self.input_size, self.mean, self.std, self.device)
        return self.module(x)

    @torch.inference_mode()
    def _batches(self, images: Any, batch_size: int | None, head: Any) -> np.ndarray:
        """``head(logits)`` of every image, computed in batches in eval mode (the module's
        training flag is restored afterwards)."""
        batch = to_uint8_batch(images)
        bs = batch_size or self.batch_size
        was_training = self.module.training
        self.module.eval()
        out = []
        try:
            for start in range(0, len(batch), bs):
                x = preprocess(batch[start:start + bs], self.input_size, self.mean, self.std,
                               self.device)
                out.append(head(self.module(x).float()).cpu().numpy())
        finally:
            self.module.train(was_training)
        if not out:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return np.concatenate(out)

    def predict_proba(self, images: Any, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities, shape (N, len(classes)), computed in batches in eval mode."""
        return self._batches(images, batch_size, lambda z: torch.softmax(z, dim=1))

    def predict_logits(self, images: Any, batch_size: int | None = None) -> np.ndarray:
        """Float32 logits, shape (N, len(classes)): exactly the numbers :meth:`predict_proba`
        takes the softmax of (same batches, eval mode, same inputs)."""
        return self._batches(images, batch_size, lambda z: z)

    def predict(self, images: Any, batch_size: int | None = None) -> np.ndarray:
        """Predicted class names."""
        proba = self.predict_proba(images, batch_size)
        return np.asarray(self.classes)[proba.argmax(1)]
