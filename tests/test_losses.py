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


# --------------------------------------------------------------------------- logit adjustment

from emo_lib.losses import (  # noqa: E402
    DEFAULT_BETA, DEFAULT_TAU, LOSS_NAMES, LogitAdjustedLoss, adjust_logits,
    class_balanced_weights, log_prior, loss_settings, posthoc_logit_adjustment,
)


def _batch(seed: int, n: int = 12, k: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=g) * 2, torch.randint(0, k, (n,), generator=g)


@pytest.mark.parametrize("tau", [0.0, 1.0, 2.5])
def test_logit_adjusted_loss_with_uniform_prior_is_cross_entropy(tau):
    logits, target = _batch(0)
    loss = LogitAdjustedLoss([7, 7, 7, 7], tau=tau)(logits, target)
    assert torch.allclose(loss, F.cross_entropy(logits, target), atol=1e-6)


def test_logit_adjusted_loss_matches_hand_computation():
    # counts 3:1 -> prior (0.75, 0.25); zero logits, tau 1: adjusted logits (ln .75, ln .25),
    # softmax of which is the prior itself, so the loss of class 1 is -ln 0.25 = ln 4
    loss = LogitAdjustedLoss([3, 1])(torch.zeros(1, 2), torch.tensor([1]))
    assert float(loss) == pytest.approx(math.log(4), rel=1e-6)
    # tau 2, logits (1, 0), target 0: z = (1 + 2 ln .75, 2 ln .25)
    z0, z1 = 1 + 2 * math.log(0.75), 2 * math.log(0.25)
    expected = -(z0 - math.log(math.exp(z0) + math.exp(z1)))
    loss = LogitAdjustedLoss([3, 1], tau=2.0)(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    # tau 0 is plain cross entropy whatever the prior
    logits, target = _batch(1)
    assert torch.allclose(LogitAdjustedLoss([1, 10, 100, 1000], tau=0.0)(logits, target),
                          F.cross_entropy(logits, target), atol=1e-6)


def test_logit_adjusted_loss_pushes_the_rare_class_margin():
    # the same logits cost more for a rare-class target than plain CE, less for a common one
    logits = torch.zeros(2, 2)
    la = LogitAdjustedLoss([9, 1])
    rare = la(logits[:1], torch.tensor([1]))
    common = la(logits[:1], torch.tensor([0]))
    ce = F.cross_entropy(logits[:1], torch.tensor([1]))
    assert rare > ce > common
    with pytest.raises(ValueError, match="classes"):
        la(torch.zeros(1, 3), torch.tensor([0]))
    with pytest.raises(ValueError, match="tau"):
        LogitAdjustedLoss([1, 1], tau=-1)


def test_posthoc_logit_adjustment():
    counts = [9, 1]
    logits = np.array([[1.0, 0.5], [3.0, 0.0], [0.0, 1.0]])
    # logits - log prior: row 0 -> (1 - ln .9, .5 - ln .1) = (1.105, 2.803): class 1
    expected = logits - np.log([0.9, 0.1])
    np.testing.assert_allclose(adjust_logits(logits, counts), expected)
    np.testing.assert_array_equal(posthoc_logit_adjustment(logits, counts), [1, 0, 1])
    np.testing.assert_array_equal(posthoc_logit_adjustment(logits, counts, tau=0.0), [0, 0, 1])
    # a uniform prior changes nothing
    np.testing.assert_array_equal(posthoc_logit_adjustment(logits, [5, 5]), logits.argmax(1))
    # log-probabilities predict as the logits do
    many = np.random.default_rng(0).normal(size=(200, 5)) * 3
    log_p = many - np.log(np.exp(many).sum(1, keepdims=True))
    np.testing.assert_array_equal(posthoc_logit_adjustment(log_p, [50, 20, 9, 3, 1]),
                                  posthoc_logit_adjustment(many, [50, 20, 9, 3, 1]))
    with pytest.raises(ValueError, match="logits must be"):
        adjust_logits(np.zeros((2, 3)), counts)
    with pytest.raises(ValueError, match="empty classes"):
        posthoc_logit_adjustment(logits, [4, 0])
    np.testing.assert_allclose(log_prior([1, 3]), np.log([0.25, 0.75]))


# --------------------------------------------------------------------------- class-balanced


def test_class_balanced_weights_match_hand_computation():
    # beta 0.9: effective numbers (1 - 0.9^n) / 0.1 for n = 10, 100
    e10, e100 = (1 - 0.9 ** 10) / 0.1, (1 - 0.9 ** 100) / 0.1
    w = np.array([1 / e10, 1 / e100])
    np.testing.assert_allclose(class_balanced_weights([10, 100], beta=0.9), 2 * w / w.sum())
    # the formula as Cui et al. write it, at the default beta, for SE30K8-like counts
    counts = np.array([1231, 696, 393, 222, 125, 70, 40, 23])
    raw = (1 - DEFAULT_BETA) / (1 - DEFAULT_BETA ** counts)
    got = class_balanced_weights(counts)
    np.testing.assert_allclose(got, len(counts) * raw / raw.sum(), rtol=1e-10)
    assert got.sum() == pytest.approx(8.0) and (np.diff(got) > 0).all()  # rarer, heavier
    # beta 0: equal weights; beta -> 1: inverse frequency
    np.testing.assert_allclose(class_balanced_weights([3, 30, 300], beta=0.0), [1, 1, 1])
    inv = 1 / np.array([3, 30, 300])
    np.testing.assert_allclose(class_balanced_weights([3, 30, 300], beta=1 - 1e-9),
                               3 * inv / inv.sum(), rtol=1e-5)
    with pytest.raises(ValueError, match="beta"):
        class_balanced_weights([3, 4], beta=1.0)
    with pytest.raises(ValueError, match="empty classes"):
        class_balanced_weights([3, 0])


def test_class_balanced_focal_reduces_to_cross_entropy_and_weighted_focal():
    logits, target = _batch(2)
    counts = [5, 50, 500, 40]
    cbf = make_loss("class_balanced_focal", counts, gamma=0.0, beta=0.0)
    assert torch.allclose(cbf(logits, target), F.cross_entropy(logits, target), atol=1e-6)
    # gamma 0: per sample, the class weight times cross entropy (mean over samples)
    w = torch.tensor(class_balanced_weights(counts, 0.99), dtype=torch.float32)
    cbf = make_loss("class_balanced_focal", counts, gamma=0.0, beta=0.99)
    ce = F.cross_entropy(logits, target, reduction="none")
    assert torch.allclose(cbf(logits, target), (w[target] * ce).mean(), atol=1e-6)
    # gamma 2: the focal term on top, by hand for one sample
    p = torch.softmax(logits[:1], 1)[0, target[0]]
    one = make_loss("class_balanced_focal", counts, beta=0.99)(logits[:1], target[:1])
    assert float(one) == pytest.approx(float(-w[target[0]] * (1 - p) ** 2 * torch.log(p)),
                                       rel=1e-5)


def test_make_loss_new_names_and_validation():
    assert set(LOSS_NAMES) >= {"logit_adjusted", "class_balanced_focal"}
    la = make_loss("logit_adjusted", [1, 3], tau=0.5)
    assert isinstance(la, LogitAdjustedLoss) and la.tau == 0.5
    np.testing.assert_allclose(la.log_prior.numpy(), np.log([0.25, 0.75]), rtol=1e-6)
    cbf = make_loss("class_balanced_focal", [2, 20])
    assert isinstance(cbf, FocalLoss) and cbf.gamma == 2.0
    np.testing.assert_allclose(cbf.alpha.numpy(), class_balanced_weights([2, 20]), rtol=1e-6)
    for name in ("logit_adjusted", "class_balanced_focal"):
        with pytest.raises(ValueError, match="class_counts"):
            make_loss(name)
    with pytest.raises(ValueError, match="class_balanced_focal"):  # the message lists choices
        make_loss("balanced_focal")
    assert loss_settings("logit_adjusted") == {"name": "logit_adjusted", "tau": DEFAULT_TAU}
    assert loss_settings("class_balanced_focal", beta=0.9999) == {
        "name": "class_balanced_focal", "beta": 0.9999, "gamma": 2.0}
    assert loss_settings("cross_entropy") == {"name": "cross_entropy"}
    with pytest.raises(ValueError, match="unknown loss"):
        loss_settings("hinge")
