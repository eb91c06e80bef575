import logging

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn
from sklearn.metrics import f1_score

from emo_lib.balance import balanced_items
from emo_lib.losses import make_loss
from emo_lib.classifier import TorchClassifier
from emo_lib.models.zoo import build_backbone
from emo_lib.train import (
    ArrayDataset, FitConfig, cross_validate, evaluate, fit, grouped_folds, stratified_folds,
)
from emo_lib.train import crossval as crossval_mod

CLASSES = ("dark", "bright")


def toy_data(n=40, size=32, seed=0):
    """Class 0 dark, class 1 bright images (with noise): separable by mean brightness."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    base = np.where(y == 1, 170, 70)[:, None, None, None]
    x = np.clip(base + rng.normal(0, 25, (n, size, size, 3)), 0, 255).astype(np.uint8)
    return x, y


def tiny_model(batch_norm=False, seed=0):
    torch.manual_seed(seed)
    layers = [nn.Conv2d(3, 4, 3, padding=1)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)]
    return TorchClassifier(module=nn.Sequential(*layers), classes=CLASSES, input_size=32)


def weights(model):
    return torch.cat([p.detach().flatten() for p in model.module.parameters()])


# ----------------------------------------------------------------------------- ArrayDataset

def test_array_dataset_items_and_resize_back(tmp_path):
    x, y = toy_data(6)
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.uint8, shape=x.shape)
    mm[:] = x
    data = ArrayDataset(mm, y, [(0, None), (3, "random_crop"), (3, "rotation")])
    assert len(data) == 3
    img, label = data[0]
    assert img.dtype == torch.uint8 and img.shape == (3, 32, 32) and label == 0
    assert torch.equal(img, torch.from_numpy(x[0]).permute(2, 0, 1))
    cropped, label = data[1]
    assert cropped.shape == (3, 32, 32) and label == 1  # random_crop resized back
    np.testing.assert_array_equal(data.item_labels, [0, 1, 1])
    assert len(ArrayDataset(x, y)) == 6


def test_array_dataset_item_seed_fixes_each_copy():
    x, y = toy_data(4)
    items = [(1, "rotation"), (1, "rotation")]
    fixed = ArrayDataset(x, y, items, item_seed=5)
    assert torch.equal(fixed[0][0], fixed[0][0])          # same copy every epoch
    assert not torch.equal(fixed[0][0], fixed[1][0])      # two copies differ
    fresh = ArrayDataset(x, y, items)
    torch.manual_seed(0)
    a = fresh[0][0]
    b = fresh[0][0]
    assert not torch.equal(a, b)


def test_array_dataset_rejects_bad_input():
    x, y = toy_data(4)
    with pytest.raises(ValueError, match="uint8"):
        ArrayDataset(x.astype(np.float32), y)
    with pytest.raises(ValueError, match="integer class indices"):
        ArrayDataset(x, y[:3])
    with pytest.raises(IndexError, match="outside"):
        ArrayDataset(x, y, [(4, None)])
    with pytest.raises(ValueError, match="not among the choices"):
        ArrayDataset(x, y, [(0, "sharpen")])


# ----------------------------------------------------------------------------- fit

def test_fit_learns_and_reports_history():
    x, y = toy_data(48)
    model = tiny_model()
    result = fit(model, ArrayDataset(x[:32], y[:32]), ArrayDataset(x[32:], y[32:]),
                 config=FitConfig(epochs=6, lr=0.05, batch_size=8), progress=False)
    assert list(result.history.columns) == ["epoch", "train_loss", "val_loss", "val_accuracy",
                                            "val_macro_f1", "seconds"]
    assert len(result.history) == 6 and not result.stopped_early
    assert result.history["val_accuracy"].iloc[-1] >= 0.9
    assert evaluate(model, x[32:], y[32:])["accuracy"] >= 0.9


def test_fit_is_deterministic_on_cpu():
    x, y = toy_data(24)
    items = balanced_items(y[:20], 12, ["rotation", "cutout"], seed=0)
    runs = []
    for seed in (3, 3, 4):
        model = tiny_model(seed=0)
        fit(model, ArrayDataset(x[:20], y[:20], items), loss=make_loss("focal"),
            config=FitConfig(epochs=2, lr=0.01, batch_size=8), seed=seed, progress=False)
        runs.append(weights(model))
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


def test_early_stopping_and_best_weights_restored():
    x, y = toy_data(20)
    model = tiny_model()
    before = weights(model).clone()
    # lr 0: the validation loss never improves after epoch 1, so patience 2 stops at epoch 3
    result = fit(model, ArrayDataset(x, y), ArrayDataset(x, y),
                 config=FitConfig(epochs=10, lr=0.0, batch_size=8, patience=2), progress=False)
    assert result.stopped_early and result.best_epoch == 1 and len(result.history) == 3
    assert torch.equal(before, weights(model))

    model = tiny_model()
    result = fit(model, ArrayDataset(x[:12], y[:12]), ArrayDataset(x[12:], y[12:]),
                 config=FitConfig(epochs=5, lr=0.2, batch_size=4), progress=False)
    best = result.history.set_index("epoch").loc[result.best_epoch, "val_loss"]
    assert best == result.history["val_loss"].min()
    with torch.no_grad():
        logits = model.logits(x[12:])
    restored = float(nn.functional.cross_entropy(logits, torch.as_tensor(y[12:])))
    assert restored == pytest.approx(best, rel=1e-4)


def test_freeze_prefixes():
    x, y = toy_data(16)
    model = tiny_model()
    conv_before = model.module[0].weight.detach().clone()
    head_before = model.module[4].weight.detach().clone()
    fit(model, ArrayDataset(x, y), config=FitConfig(epochs=1, lr=0.05, batch_size=8,
                                                    freeze=("0.",)), progress=False)
    assert torch.equal(conv_before, model.module[0].weight)
    assert not torch.equal(head_before, model.module[4].weight)
    assert all(p.requires_grad for p in model.module.parameters())  # unfrozen afterwards
    with pytest.raises(ValueError, match="match no parameter"):
        fit(model, ArrayDataset(x, y), config=FitConfig(epochs=1, freeze=("backbone.",)),
            progress=False)


def test_fit_efficientnet_b0_small_and_a_lone_last_batch():
    x, y = toy_data(17)
    model = build_backbone("efficientnet_b0", classes=CLASSES, input_size=32)
    # 17 = 2 x 8 + 1: a batch of one would break BatchNorm; it is dropped
    result = fit(model, ArrayDataset(x, y), config=FitConfig(epochs=1, batch_size=8),
                 progress=False)
    assert result.best_epoch == 1 and np.isfinite(result.history["train_loss"]).all()


class RecordingDataset(ArrayDataset):
    """An ArrayDataset that remembers which items the loader asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: list[int] = []

    def __getitem__(self, k):
        self.asked.append(int(k))
        return super().__getitem__(k)


def test_sampler_replaces_shuffling():
    from emo_lib.balance import class_balanced_sampler

    x, y = toy_data(16)
    y = np.array([0] * 14 + [1] * 2)   # class 1 is rare
    plain = RecordingDataset(x, y)
    fit(tiny_model(), plain, config=FitConfig(epochs=1, batch_size=8), progress=False)
    assert sorted(plain.asked) == list(range(16))          # shuffling: every item once
    drawn = RecordingDataset(x, y)
    fit(tiny_model(), drawn, config=FitConfig(epochs=3, batch_size=8),
        sampler=class_balanced_sampler(y, seed=0), progress=False)
    # the sampler decides: drawn with replacement, the 2 rare items about half the time
    assert len(drawn.asked) == 3 * 16
    rare = np.isin(drawn.asked, [14, 15]).mean()
    assert 0.3 < rare < 0.7, rare
    assert len(set(drawn.asked)) < 16 or rare > 2 / 16


# ----------------------------------------------------------------------------- evaluate

class Brightness(nn.Module):
    """Logits from mean brightness: predicts 'bright' above the threshold."""

    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        m = x.mean(dim=(1, 2, 3))
        return torch.stack([-m + self.threshold, m - self.threshold], 1) + self.dummy * 0


def test_evaluate_matches_sklearn():
    x, y = toy_data(30, seed=1)
    model = TorchClassifier(module=Brightness(1.5), classes=CLASSES, input_size=32,
                            mean=(0, 0, 0), std=(1 / 255, 1 / 255, 1 / 255))
    # threshold 1.5 on the 0..255 scale: everything is "bright"
    out = evaluate(model, x, y)
    y_pred = np.ones_like(y)
    assert out["accuracy"] == pytest.approx((y == 1).mean())
    assert out["macro_f1"] == pytest.approx(f1_score(y, y_pred, average="macro",
                                                     zero_division=0))
    assert out["per_class_f1"]["dark"] == 0.0
    np.testing.assert_array_equal(out["confusion"], [[0, 15], [0, 15]])
    names = np.array(CLASSES)[y]
    by_name = evaluate(model, x, names, indices=np.arange(10), chunk=3)
    assert by_name["n"] == 10 and by_name["confusion"].sum() == 10
    with pytest.raises(ValueError, match="not among"):
        evaluate(model, x, np.array(["x"] * len(x)))


# ----------------------------------------------------------------------------- folds

def test_stratified_folds():
    y = np.array([0] * 20 + [1] * 10 + [2] * 5)
    folds = stratified_folds(y, 5, seed=0)
    assert len(folds) == 5
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(len(y)))
    for tr, te in folds:
        assert not set(tr) & set(te)
        assert np.bincount(y[te]).tolist() == [4, 2, 1]
    again = stratified_folds(y, 5, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    other = stratified_folds(y, 5, seed=1)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


def test_stratified_folds_small_class(caplog):
    y = np.array([0] * 20 + [1] * 3)
    with pytest.raises(ValueError, match="fewer"):
        stratified_folds(y, 5, seed=0)
    with caplog.at_level(logging.WARNING, logger="emo_lib.train"):
        folds = stratified_folds(y, 5, seed=0, reduce_k=True)
    assert len(folds) == 3 and "3 folds instead of 5" in caplog.text


def test_grouped_folds_are_subject_disjoint():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(12), 4)
    y = rng.integers(0, 3, len(groups))
    folds = grouped_folds(y, groups, 4, seed=0)
    assert len(folds) == 4
    for tr, te in folds:
        assert not set(groups[tr]) & set(groups[te])
    with pytest.raises(ValueError, match="groups"):
        grouped_folds(y, groups, 20, seed=0)


# ----------------------------------------------------------------------------- cross_validate

def test_cross_validate_rows_reproducible_and_test_fold_unseen(monkeypatch):
    x, y = toy_data(36)
    folds = stratified_folds(y, 3, seed=0)
    seen = []
    real_fit = crossval_mod.fit

    def spy(model, train, val=None, **kw):
        seen.append(({i for i, _ in train.items}, {i for i, _ in val.items}))
        return real_fit(model, train, val, **kw)

    monkeypatch.setattr(crossval_mod, "fit", spy)
    kwargs = dict(make_train_items=lambda yy: balanced_items(yy, 12, ["cutout"], seed=0),
                  loss_factory=lambda counts: make_loss("weighted_cross_entropy", counts),
                  config=FitConfig(epochs=1, lr=0.01, batch_size=8), seed=1, progress=False)
    df = cross_validate(lambda: tiny_model(), x, y, folds, **kwargs)
    assert list(df["fold"]) == [0, 1, 2]
    for col in ["accuracy", "macro_f1", "f1_dark", "f1_bright", "best_epoch", "seconds",
                "n_train_items"]:
        assert col in df.columns
    for (train_seen, val_seen), (_, test_idx) in zip(seen, folds):
        assert not train_seen & set(test_idx) and not val_seen & set(test_idx)
        assert not train_seen & val_seen
    # 24 training images, 10 % (2) to validation, 11 + 11 left, each class balanced up to 12
    assert (df["n_train_items"] == 24).all() and (df["n_val"] == 2).all()
    again = cross_validate(lambda: tiny_model(), x, y, folds, **kwargs)
    pd.testing.assert_frame_equal(df.drop(columns="seconds"), again.drop(columns="seconds"))
