"""A tiny trainable problem for the training tests: three brightness classes and a one-layer
network that learns them in an epoch or two (fast on a CPU, no weights to load)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from torch import nn

from emo_lib.models.base import TorchClassifier


def tiny_classifier(classes: Sequence[str], input_size: int = 32,
                    device: str = "cpu") -> TorchClassifier:
    """Conv(3->4) + ReLU + global pooling + Linear: a model registry entry's body."""
    module = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                           nn.Flatten(), nn.Linear(4, len(classes)))
    return TorchClassifier(module=module, classes=tuple(classes), input_size=input_size,
                           device=device, info={"pretrained": False})


def toy(n: int = 36, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of brightness 40 / 128 / 215 with noise; class sizes 18 / 12 / 6."""
    rng = np.random.default_rng(seed)
    y = np.array([0] * (n // 2) + [1] * (n // 3) + [2] * (n - n // 2 - n // 3))
    base = np.array([40, 128, 215])[y][:, None, None, None]
    x = np.clip(base + rng.normal(0, 20, (n, size, size, 3)), 0, 255).astype(np.uint8)
    return x, y
