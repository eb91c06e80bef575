"""Loss functions for the imbalance experiments: focal loss (Jeong & Kim 2021, eq. 1) and
``make_loss(name)`` for the three losses the notebooks compare.

A note on ``alpha``: in Lin et al.'s binary focal loss a scalar alpha weights positives by alpha
and negatives by 1 - alpha. In the multi-class softmax form used here (and, as far as the text
tells, by the paper) a scalar alpha multiplies every sample's loss alike, so it only rescales
the gradient; with Adam, which is nearly invariant to a constant gradient scale, alpha = 0.25
changes little. A per-class vector is the form that actually reweights classes.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

#: The paper's focal-loss settings (Sec. 3; paper_values.yaml jeong2021.focal_loss).
PAPER_ALPHA = 0.25
PAPER_GAMMA = 2.0

LOSS_NAMES: tuple[str, ...] = ("cross_entropy", "focal", "weighted_cross_entropy")


class FocalLoss(nn.Module):
    """Multi-class softmax focal loss ``FL = -alpha_t (1 - p_t)^gamma log(p_t)``.

    Args:
        alpha: None (no weighting, alpha_t = 1), a scalar applied to every sample, or one
            weight per class (alpha_t = alpha[target]).
        gamma: focusing parameter; 0 gives (alpha-weighted) cross entropy.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """

    def __init__(self, alpha: float | Sequence[float] | None = PAPER_ALPHA,
                 gamma: float = PAPER_GAMMA, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        self.gamma = float(gamma)
        self.reduction = reduction
        self.scalar_alpha: float | None = None
        if alpha is None or np.isscalar(alpha):
            self.scalar_alpha = None if alpha is None else float(alpha)  # type: ignore[arg-type]
            self.register_buffer("alpha", None)
        else:
            vec = torch.as_tensor(np.asarray(alpha, dtype=np.float32))
            if vec.ndim != 1 or (vec < 0).any():
                raise ValueError(f"alpha must be a scalar or a 1-D vector of non-negative "
                                 f"per-class weights, got {alpha!r}")
            self.register_buffer("alpha", vec)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # float32 log-softmax: under autocast the logits may be half precision, where
        # (1 - p_t)^gamma and log p_t lose too much.
        log_p = F.log_softmax(logits.float(), dim=1)
        log_pt = log_p.gather(1, target.long().unsqueeze(1)).squeeze(1)
        pt = log_pt.exp()
        loss = -((1.0 - pt).clamp_min(0.0) ** self.gamma) * log_pt
        if self.alpha is not None:
            if self.alpha.numel() != logits.shape[1]:
                raise ValueError(f"alpha has {self.alpha.numel()} class weights but the logits "
                                 f"have {logits.shape[1]} classes")
            loss = loss * self.alpha[target.long()]
        elif self.scalar_alpha is not None:
            loss = loss * self.scalar_alpha
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss

    def extra_repr(self) -> str:
        alpha = self.scalar_alpha if self.alpha is None else self.alpha.tolist()
        return f"alpha={alpha}, gamma={self.gamma}, reduction={self.reduction!r}"


def inverse_frequency_weights(class_counts: Sequence[int]) -> np.ndarray:
    """Per-class weights proportional to 1 / count, normalised to mean 1."""
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 1 or len(counts) == 0:
        raise ValueError(f"class_counts must be a 1-D sequence of counts, got {class_counts!r}")
    if (counts <= 0).any():
        empty = np.flatnonzero(counts <= 0).tolist()
        raise ValueError(f"class_counts has empty classes at positions {empty}: an inverse-"
                         "frequency weight is undefined; drop those classes or use another loss")
    w = 1.0 / counts
    return w / w.mean()


def make_loss(name: str, class_counts: Sequence[int] | None = None, *,
              alpha: float | Sequence[float] | None = PAPER_ALPHA,
              gamma: float = PAPER_GAMMA) -> nn.Module:
    """A loss by name: ``"cross_entropy"``, ``"focal"`` (the paper's alpha 0.25, gamma 2 unless
    given) or ``"weighted_cross_entropy"`` (inverse-frequency class weights, mean 1; needs
    ``class_counts`` in logit order)."""
    if name == "cross_entropy":
        return nn.CrossEntropyLoss()
    if name == "focal":
        return FocalLoss(alpha=alpha, gamma=gamma)
    if name == "weighted_cross_entropy":
        if class_counts is None:
            raise ValueError("weighted_cross_entropy needs class_counts (training samples per "
                             "class, in logit order)")
        weights = torch.as_tensor(inverse_frequency_weights(class_counts), dtype=torch.float32)
        return nn.CrossEntropyLoss(weight=weights)
    raise ValueError(f"unknown loss {name!r}; choose one of {LOSS_NAMES}")
