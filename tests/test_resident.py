"""The GPU data path (emo_lib.train.resident): items materialised once on the device, batches
gathered in the DataLoader's order. On the CPU it must give bit-identical training to the
loader path, which is what makes the CUDA path trustworthy without a GPU here."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from emo_lib.augment import TRANSFORMS
from emo_lib.balance import balanced_items, class_balanced_sampler
from emo_lib.classifier import TorchClassifier
from emo_lib.train import ArrayDataset, FitConfig, fit
from emo_lib.train.resident import (
    ResidentSet, can_reside, epoch_batches, fits_on, resident_bytes,
)


def toy(n=40, size=24, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array([0] * (n // 2) + [1] * (n // 4) + [2] * (n - n // 2 - n // 4))
    x = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    return x, y


def net(seed=0):
    torch.manual_seed(seed)
    module = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                           nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3),
                           nn.Linear(6, 3))
    return TorchClassifier(module=module, classes=("a", "b", "c"), input_size=24)


def every_transform_items(y):
    return balanced_items(y, 30, TRANSFORMS, seed=1)   # copies with all ten transforms


def test_materialised_items_are_the_datasets_items_bit_for_bit():
    x, y = toy()
    data = ArrayDataset(x, y, every_transform_items(y), item_seed=7)
    assert {t for _, t in data.items} == {None, *TRANSFORMS}
    resident = ResidentSet(data, "cpu", chunk=5)
    assert len(resident) == len(data)
    assert resident.store.shape[0] * 24 * 24 * 3 == resident_bytes(data)
    for k in range(len(data)):
        image, label = data[k]
        stored = resident.store[resident.rows[k]]
        assert torch.equal(stored, image.permute(1, 2, 0)), data.items[k]
        assert int(resident.labels[k]) == label
    # the global RNG is untouched by materialising (each item forks it)
    state = torch.get_rng_state()
    ResidentSet(data, "cpu")
    assert torch.equal(state, torch.get_rng_state())


def test_batches_follow_the_dataloaders_order_and_random_draws():
    n, bs = 23, 4
    for shuffle, sampler_seed, drop_last, gen_seed in [(True, None, False, 3),
                                                       (True, 5, True, 3),
                                                       (False, None, False, None)]:
        torch.manual_seed(11)
        gen = torch.Generator().manual_seed(gen_seed) if gen_seed is not None else None
        sampler = class_balanced_sampler(np.arange(n) % 3, sampler_seed) \
            if sampler_seed is not None else None
        loader = DataLoader(range(n), batch_size=bs, shuffle=shuffle and sampler is None,
                            sampler=sampler, generator=gen, drop_last=drop_last)
        want = [[b.tolist() for b in loader] for _ in range(2)]
        after = torch.get_rng_state()
        torch.manual_seed(11)
        gen = torch.Generator().manual_seed(gen_seed) if gen_seed is not None else None
        sampler = class_balanced_sampler(np.arange(n) % 3, sampler_seed) \
            if sampler_seed is not None else None
        got = [list(epoch_batches(n, bs, sampler=sampler, generator=gen, drop_last=drop_last,
                                  shuffle=shuffle)) for _ in range(2)]
        assert got == want
        assert torch.equal(after, torch.get_rng_state())


@pytest.mark.parametrize("with_sampler", [False, True])
def test_fit_on_the_resident_path_equals_the_loader_path_on_the_cpu(with_sampler, monkeypatch):
    import importlib

    fit_mod = importlib.import_module("emo_lib.train.fit")  # (the name fit is the function)

    built = []

    class Counted(ResidentSet):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(fit_mod, "ResidentSet", Counted)
    x, y = toy(41)   # 41 items: a lone last batch of one is dropped (batch 8 -> 5 * 8 + 1)
    items = every_transform_items(y)
    val = ArrayDataset(x, y, [(i, None) for i in range(0, 41, 5)])
    histories, states = [], []
    for resident in (False, True):
        model = net()
        train = ArrayDataset(x, y, items, item_seed=3)
        sampler = class_balanced_sampler(train.item_labels, 2) if with_sampler else None
        result = fit(model, train, val, config=FitConfig(epochs=3, lr=0.01, batch_size=8),
                     seed=5, progress=False, sampler=sampler, resident=resident)
        histories.append(result.history.drop(columns="seconds"))
        states.append(model.module.state_dict())
    assert len(built) == 2                  # train and validation, resident run only
    assert histories[0].equals(histories[1])
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k


def test_when_the_resident_path_is_used():
    x, y = toy()
    fixed = ArrayDataset(x, y, every_transform_items(y), item_seed=1)
    fresh = ArrayDataset(x, y, every_transform_items(y))
    plain = ArrayDataset(x, y)
    assert can_reside(fixed) and can_reside(plain) and not can_reside(fresh)
    with pytest.raises(ValueError, match="fresh random transform"):
        ResidentSet(fresh, "cpu")
    with pytest.raises(ValueError, match="resident=True"):
        fit(net(), fresh, config=FitConfig(epochs=1, batch_size=8), progress=False,
            resident=True)
    from emo_lib.train.fit import data_path_of

    cpu = torch.device("cpu")
    assert not data_path_of(None, cpu, fixed, plain).resident   # the CPU keeps the loader path
    assert data_path_of(True, cpu, fixed, plain).resident
    assert fits_on(cpu, 10**15)
