"""A tiny trainable problem for the training tests: three brightness classes and a one-layer
network that learns them in an epoch or two (fast on a CPU, no weights to load)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

from emo_lib.classifier import TorchClassifier


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


def sharp_classifier(classes: Sequence[str], side: int) -> TorchClassifier:
    """A fixed random network (seed 0) with weights scaled up, so its probabilities move when
    parts of an image change: a model for the explanation tests, no training."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                        nn.Flatten(), nn.Linear(16, len(classes)))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(4.0)
    return TorchClassifier(net.eval(), tuple(classes), input_size=side)
