import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emo_lib.losses import FocalLoss, inverse_frequency_weights, make_loss


def test_focal_matches_hand_computed_values():
    # two classes, equal logits: p_t = 0.5 -> 0.25 * 0.5^2 * ln 2
    loss = FocalLoss(alpha=0.25, gamma=2.0)(torch.zeros(1, 2), torch.tensor([0]))
    assert float(loss) == pytest.approx(0.25 * 0.25 * math.log(2), rel=1e-6)
    # three classes, logits (2, 0, 0), target 0: p = e^2 / (e^2 + 2)
    p = math.exp(2) / (math.exp(2) + 2)
    expected = -0.25 * (1 - p) ** 2 * math.log(p)
    loss = FocalLoss(alpha=0.25, gamma=2.0)(torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([0]))
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    # a wrong, confident prediction is barely down-weighted: target 1, p_t = 1 / (e^2 + 2)
    q = 1 / (math.exp(2) + 2)
    loss = FocalLoss(alpha=None, gamma=2.0)(torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([1]))
    assert float(loss) == pytest.approx(-(1 - q) ** 2 * math.log(q), rel=1e-6)


@pytest.mark.parametrize("alpha", [None, 1.0])
def test_gamma_zero_is_cross_entropy(alpha):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 5, generator=g) * 3
    target = torch.randint(0, 5, (16,), generator=g)
    focal = FocalLoss(alpha=alpha, gamma=0.0)(logits, target)
    assert torch.allclose(focal, F.cross_entropy(logits, target), atol=1e-6)


def test_per_class_alpha_and_reductions():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(10, 3, generator=g)
    target = torch.randint(0, 3, (10,), generator=g)
    alpha = [0.5, 1.0, 2.0]
    per_sample = FocalLoss(alpha=alpha, gamma=0.0, reduction="none")(logits, target)
    ce = F.cross_entropy(logits, target, reduction="none")
    assert torch.allclose(per_sample, ce * torch.tensor(alpha)[target], atol=1e-6)
    total = FocalLoss(alpha=alpha, gamma=0.0, reduction="sum")(logits, target)
    assert torch.allclose(total, per_sample.sum(), atol=1e-5)
    with pytest.raises(ValueError, match="class weights"):
        FocalLoss(alpha=[1.0, 1.0])(logits, target)


def test_focal_down_weights_easy_samples_and_has_gradients():
    logits = torch.tensor([[4.0, 0.0], [0.2, 0.0]], requires_grad=True)
    target = torch.tensor([0, 0])
    fl = FocalLoss(alpha=None, gamma=2.0, reduction="none")(logits, target)
    ce = F.cross_entropy(logits, target, reduction="none")
    ratio = (fl / ce).detach()
    assert ratio[0] < 0.01 < ratio[1]  # the easy sample loses far more weight
    fl.sum().backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    # half-precision logits (autocast) are handled in float32
    half = FocalLoss()(torch.zeros(4, 3, dtype=torch.float16), torch.tensor([0, 1, 2, 0]))
    assert half.dtype == torch.float32 and torch.isfinite(half)


def test_make_loss():
    assert isinstance(make_loss("cross_entropy"), torch.nn.CrossEntropyLoss)
    focal = make_loss("focal")
    assert isinstance(focal, FocalLoss) and focal.gamma == 2.0 and focal.scalar_alpha == 0.25
    wce = make_loss("weighted_cross_entropy", class_counts=[10, 40, 50])
    w = wce.weight.numpy()
    assert w.mean() == pytest.approx(1.0)
    assert w[0] / w[1] == pytest.approx(4.0) and w[1] / w[2] == pytest.approx(1.25)
    with pytest.raises(ValueError, match="class_counts"):
        make_loss("weighted_cross_entropy")
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("hinge")


def test_inverse_frequency_weights_rejects_empty_classes():
    np.testing.assert_allclose(inverse_frequency_weights([5, 5]), [1.0, 1.0])
    with pytest.raises(ValueError, match="empty classes"):
        inverse_frequency_weights([3, 0, 2])
