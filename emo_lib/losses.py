"""Loss functions for the imbalance experiments and ``make_loss(name)``, which builds them:

- ``cross_entropy``; ``focal`` (Jeong & Kim 2021, eq. 1); ``weighted_cross_entropy``
  (inverse-frequency class weights);
- ``logit_adjusted`` (Menon et al. 2021, "Long-tail learning via logit adjustment"): cross
  entropy on ``logits + tau * log prior``; at test time the plain logits are used. Its post-hoc
  form needs no training: :func:`posthoc_logit_adjustment` takes a trained baseline's logits
  and predicts ``argmax(logits - tau * log prior)``;
- ``class_balanced_focal`` (Cui et al. 2019, "Class-balanced loss based on effective number of
  samples"): focal loss whose per-class weights are ``(1 - beta) / (1 - beta^n_c)``,
  normalised to sum to the number of classes (:func:`class_balanced_weights`).

Class counts and priors are those of the training items (after any over-sampling), in logit
order. Not here: samplers and over-sampling (:mod:`emo_lib.balance`).

A note on ``alpha``: in Lin et al.'s binary focal loss a scalar alpha weights positives by alpha
and negatives by 1 - alpha. In the multi-class softmax form used here (and, as far as the text
tells, by the paper) a scalar alpha multiplies every sample's loss alike, so it only rescales
the gradient; with Adam, which is nearly invariant to a constant gradient scale, alpha = 0.25
changes little. A per-class vector is the form that actually reweights classes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

#: The paper's focal-loss settings (Sec. 3; paper_values.yaml jeong2021.focal_loss).
PAPER_ALPHA = 0.25
PAPER_GAMMA = 2.0

#: Menon et al.'s default temperature (tau = 1 makes the adjusted loss Bayes-consistent for
#: the balanced error).
DEFAULT_TAU = 1.0
#: Cui et al.'s beta for the effective number of samples; they try 0.9-0.9999 and the best
#: value grows with the data set (0.999 suits classes of a few hundred to a few thousand).
DEFAULT_BETA = 0.999



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


def _counts(class_counts: Sequence[int] | np.ndarray, what: str) -> np.ndarray:
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 1 or len(counts) == 0:
        raise ValueError(f"class_counts must be a 1-D sequence of counts, got {class_counts!r}")
    if (counts <= 0).any():
        empty = np.flatnonzero(counts <= 0).tolist()
        raise ValueError(f"class_counts has empty classes at positions {empty}: {what} is "
                         "undefined; drop those classes or use another loss")
    return counts


def inverse_frequency_weights(class_counts: Sequence[int]) -> np.ndarray:
    """Per-class weights proportional to 1 / count, normalised to mean 1."""
    w = 1.0 / _counts(class_counts, "an inverse-frequency weight")
    return w / w.mean()


def class_balanced_weights(class_counts: Sequence[int], beta: float = DEFAULT_BETA
                           ) -> np.ndarray:
    """Cui et al.'s class-balanced weights: ``(1 - beta) / (1 - beta^n_c)`` (one over the
    effective number of samples), normalised to sum to the number of classes.

    ``beta`` in [0, 1): 0 gives equal weights, beta -> 1 inverse-frequency weights.

    >>> class_balanced_weights([1, 2], beta=0.5).round(4).tolist()  # 1/0.5, 1/0.75, normalised
    [1.2, 0.8]
    """
    counts = _counts(class_counts, "a class-balanced weight")
    if not 0.0 <= float(beta) < 1.0:
        raise ValueError(f"beta must lie in [0, 1), got {beta!r}")
    effective = -np.expm1(counts * np.log1p(beta - 1.0)) / (1.0 - beta) if beta > 0 \
        else np.ones_like(counts)  # (1 - beta^n) / (1 - beta), accurate for beta near 1
    w = 1.0 / effective
    return w * len(w) / w.sum()


def log_prior(class_counts: Sequence[int]) -> np.ndarray:
    """log of the class frequencies ``n_c / sum(n)`` (the label prior logit adjustment uses)."""
    counts = _counts(class_counts, "the log prior of an empty class (-inf)")
    return np.log(counts / counts.sum())


class LogitAdjustedLoss(nn.Module):
    """Menon et al.'s logit-adjusted softmax cross entropy:
    ``CE(logits + tau * log prior, target)``.

    Training with it pushes the plain logits to score as if the classes were balanced, so
    prediction uses ``argmax(logits)`` unchanged (no prior at test time).

    Args:
        class_counts: training samples per class, in logit order (the prior is their
            frequencies).
        tau: temperature; 0 gives plain cross entropy.
    """

    def __init__(self, class_counts: Sequence[int], tau: float = DEFAULT_TAU) -> None:
        super().__init__()
        if not np.isfinite(tau) or tau < 0:
            raise ValueError(f"tau must be a finite number >= 0, got {tau!r}")
        self.tau = float(tau)
        self.register_buffer("log_prior",
                             torch.as_tensor(log_prior(class_counts), dtype=torch.float32))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if logits.shape[1] != self.log_prior.numel():
            raise ValueError(f"the prior has {self.log_prior.numel()} classes but the logits "
                             f"have {logits.shape[1]}")
        return F.cross_entropy(logits.float() + self.tau * self.log_prior, target.long())

    def extra_repr(self) -> str:
        return f"tau={self.tau}, classes={self.log_prior.numel()}"


def adjust_logits(logits: np.ndarray, class_counts: Sequence[int], tau: float = DEFAULT_TAU
                  ) -> np.ndarray:
    """Post-hoc logit adjustment (Menon et al. 2021, eq. 3): ``logits - tau * log prior``,
    for logits of a model trained with plain (or focal) loss on data with ``class_counts``."""
    z = np.asarray(logits, dtype=np.float64)
    prior = log_prior(class_counts)
    if z.ndim != 2 or z.shape[1] != len(prior):
        raise ValueError(f"logits must be (N, {len(prior)}) for {len(prior)} class counts, got "
                         f"shape {z.shape}")
    if not np.isfinite(tau) or tau < 0:
        raise ValueError(f"tau must be a finite number >= 0, got {tau!r}")
    return z - tau * prior


def posthoc_logit_adjustment(logits: np.ndarray, class_counts: Sequence[int],
                             tau: float = DEFAULT_TAU) -> np.ndarray:
    """Class indices ``argmax(logits - tau * log prior)`` (no new training): the post-hoc
    logit-adjustment row of Table 4 from a baseline's test-set logits and the class counts of
    the training items that baseline saw.

    Log-probabilities (``log softmax(logits)``) give the same predictions: they differ from the
    logits by one constant per image, which no argmax sees."""
    return adjust_logits(logits, class_counts, tau).argmax(axis=1)


@dataclass(frozen=True)
class LossEntry:
    """A loss of the registry: what builds it from the training class counts and its
    settings, which settings it uses (in that order in its plain-JSON description), and
    whether it needs the class counts."""

    build: Callable[[Any, dict[str, Any]], nn.Module]
    settings: tuple[str, ...] = ()
    needs_counts: bool = False


#: Every loss by name; adding one is one entry.
LOSSES: dict[str, LossEntry] = {
    "cross_entropy": LossEntry(lambda counts, s: nn.CrossEntropyLoss()),
    "focal": LossEntry(lambda counts, s: FocalLoss(alpha=s["alpha"], gamma=s["gamma"]),
                       ("alpha", "gamma")),
    "weighted_cross_entropy": LossEntry(
        lambda counts, s: nn.CrossEntropyLoss(weight=torch.as_tensor(
            inverse_frequency_weights(counts), dtype=torch.float32)), needs_counts=True),
    "logit_adjusted": LossEntry(lambda counts, s: LogitAdjustedLoss(counts, tau=s["tau"]),
                                ("tau",), needs_counts=True),
    "class_balanced_focal": LossEntry(
        lambda counts, s: FocalLoss(alpha=class_balanced_weights(counts, s["beta"]).tolist(),
                                    gamma=s["gamma"]), ("beta", "gamma"), needs_counts=True),
}
LOSS_NAMES: tuple[str, ...] = tuple(LOSSES)
#: The losses that need the training class counts.
NEEDS_COUNTS: tuple[str, ...] = tuple(n for n, e in LOSSES.items() if e.needs_counts)


def loss_settings(name: str, *, alpha: float | None = PAPER_ALPHA, gamma: float = PAPER_GAMMA,
                  tau: float = DEFAULT_TAU, beta: float = DEFAULT_BETA) -> dict[str, Any]:
    """Plain-JSON description of ``make_loss(name, ...)``'s settings (for cache keys and
    pages): the name and the hyper-parameters that loss uses."""
    if name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {name!r}; choose one of {LOSS_NAMES}")
    given = {"alpha": alpha, "gamma": gamma, "tau": tau, "beta": beta}
    return {"name": name, **{k: given[k] for k in LOSSES[name].settings}}


def make_loss(name: str, class_counts: Sequence[int] | None = None, *,
              alpha: float | Sequence[float] | None = PAPER_ALPHA,
              gamma: float = PAPER_GAMMA, tau: float = DEFAULT_TAU,
              beta: float = DEFAULT_BETA) -> nn.Module:
    """A loss by name (:data:`LOSS_NAMES`):

    - ``"cross_entropy"``;
    - ``"focal"``: the paper's alpha 0.25, gamma 2 unless given;
    - ``"weighted_cross_entropy"``: inverse-frequency class weights, mean 1;
    - ``"logit_adjusted"``: :class:`LogitAdjustedLoss` with temperature ``tau``;
    - ``"class_balanced_focal"``: focal loss (``gamma``) with Cui et al.'s class weights
      (``beta``) in place of alpha.

    The last three need ``class_counts`` (training items per class, in logit order).
    """
    if name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {name!r}; choose one of {LOSS_NAMES}")
    if name in NEEDS_COUNTS and class_counts is None:
        raise ValueError(f"{name} needs class_counts (training samples per class, in logit "
                         "order)")
    return LOSSES[name].build(class_counts, {"alpha": alpha, "gamma": gamma, "tau": tau,
                                             "beta": beta})
