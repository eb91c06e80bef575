import tracemalloc
from collections import Counter

import numpy as np
import pytest

from emo_lib.augment import SELECTED_TRANSFORMS
from emo_lib.balance import (
    balanced_items, class_balanced_sampler, item_counts, item_labels, scaled_n_min,
    simple_augmentation_items,
)
from emo_lib.train import ArrayDataset

# a long-tailed toy label set: 40 / 12 / 5 / 1
LABELS = np.array([0] * 40 + [1] * 12 + [2] * 5 + [3] * 1)
rng = np.random.default_rng(0)
LABELS = LABELS[rng.permutation(len(LABELS))]


def test_counts_after_balancing():
    n_min = 20
    items = balanced_items(LABELS, n_min, SELECTED_TRANSFORMS, seed=0)
    counts = Counter(item_labels(items, LABELS).tolist())
    for cls, n in Counter(LABELS.tolist()).items():
        assert counts[cls] == max(n, n_min)
    table = item_counts(items, LABELS)
    assert table.loc[0, "copies"] == 0 and table.loc[3, "copies"] == 19
    assert (table["total"] == [40, 20, 20, 20]).all()


def test_originals_kept_exactly_once_and_copies_from_their_class():
    items = balanced_items(LABELS, 20, SELECTED_TRANSFORMS, seed=0)
    assert items[:len(LABELS)] == [(i, None) for i in range(len(LABELS))]
    copies = items[len(LABELS):]
    assert all(t is not None for _, t in copies)  # every copy is transformed
    # copies of the singleton class all point at its one image
    singleton = int(np.flatnonzero(LABELS == 3)[0])
    assert sum(1 for i, _ in copies if LABELS[i] == 3) == 19
    assert all(i == singleton for i, _ in copies if LABELS[i] == 3)


def test_transforms_only_from_T_and_roughly_uniform():
    T = ["rotation", "cutout"]
    items = balanced_items(LABELS, 400, T, seed=1)
    drawn = Counter(t for _, t in items[len(LABELS):])
    assert set(drawn) == set(T)
    assert abs(drawn["rotation"] - drawn["cutout"]) < 0.15 * sum(drawn.values())
    plain = balanced_items(LABELS, 20, [], seed=1)  # plain random over-sampling
    assert len(plain) == len(items[:len(LABELS)]) + 8 + 15 + 19
    assert all(t is None for _, t in plain)
    with pytest.raises(ValueError, match="not among the choices"):
        balanced_items(LABELS, 20, ["sharpen"], seed=0)
    with pytest.raises(ValueError, match="n_min"):
        balanced_items(LABELS, 0, T, seed=0)


def test_deterministic_per_seed():
    a = balanced_items(LABELS, 30, SELECTED_TRANSFORMS, seed=7)
    b = balanced_items(LABELS, 30, SELECTED_TRANSFORMS, seed=7)
    c = balanced_items(LABELS, 30, SELECTED_TRANSFORMS, seed=8)
    assert a == b and a != c


def test_string_labels_work():
    y = np.array(["happy"] * 6 + ["sad"] * 2)
    items = balanced_items(y, 5, ["blur"], seed=0)
    assert Counter(item_labels(items, y).tolist()) == {"happy": 6, "sad": 5}


def test_memory_stays_flat(tmp_path):
    # 8 classes of 5 images, 224 x 224, on disk; balancing to n_min = 15000 makes 120k copies.
    y = np.repeat(np.arange(8), 5)
    images = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.uint8,
                                       shape=(len(y), 224, 224, 3))
    images.flush()
    per_image = 224 * 224 * 3
    peaks = {}
    for n_min in (1500, 15000):
        tracemalloc.start()
        items = balanced_items(y, n_min, SELECTED_TRANSFORMS, seed=0)
        data = ArrayDataset(images, y, items)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        n_copies = len(items) - len(y)
        assert len(data) == 8 * n_min
        peaks[n_min] = peak
        # a few hundred bytes per copy (one tuple), not an image (150 kB)
        assert peak / n_copies < 500 < per_image
    assert peaks[15000] < 64 * 2**20


def test_simple_augmentation_items():
    items = simple_augmentation_items(LABELS, "rotation")
    assert len(items) == 2 * len(LABELS)
    assert items[len(LABELS):] == [(i, "rotation") for i in range(len(LABELS))]
    assert simple_augmentation_items(LABELS, None) == [(i, None) for i in range(len(LABELS))]
    with pytest.raises(ValueError):
        simple_augmentation_items(LABELS, "sharpen")


def test_class_balanced_sampler():
    s1 = list(class_balanced_sampler(LABELS, seed=3, num_samples=4000))
    s2 = list(class_balanced_sampler(LABELS, seed=3, num_samples=4000))
    assert s1 == s2
    assert s1 != list(class_balanced_sampler(LABELS, seed=4, num_samples=4000))
    share = np.bincount(LABELS[s1], minlength=4) / 4000
    np.testing.assert_allclose(share, 0.25, atol=0.04)
    assert len(list(class_balanced_sampler(LABELS, seed=0))) == len(LABELS)


def test_scaled_n_min():
    assert scaled_n_min(1500, 0.1) == 150
    assert scaled_n_min(1500, 1e-6) == 1
    with pytest.raises(ValueError):
        scaled_n_min(1500, 0)
