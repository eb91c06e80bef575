from pathlib import Path

import numpy as np
import pytest
import torch

from emo_lib import augment
from emo_lib.augment import (
    PAPER_RANGES, SELECTED_TRANSFORMS, TRANSFORMS, blur_settings, catalogue, crop_side,
    cutout_max_side, example_grid, make_transform,
)

REPO = Path(__file__).resolve().parent.parent


def _image(size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g)


def test_names_in_paper_order():
    assert len(TRANSFORMS) == 10
    assert TRANSFORMS[0] == "blur" and TRANSFORMS[-1] == "random_zoom"
    assert set(SELECTED_TRANSFORMS) <= set(TRANSFORMS) and len(SELECTED_TRANSFORMS) == 5
    assert list(catalogue()["name"]) == list(TRANSFORMS)


def test_ranges_match_paper_values_yaml():
    yaml = pytest.importorskip("yaml")
    path = REPO / "book" / "paper_values.yaml"
    if not path.exists():
        pytest.skip("book/paper_values.yaml not there yet")
    table = yaml.safe_load(path.read_text())["jeong2021"]["table1_transforms"]
    assert list(table) == list(TRANSFORMS)
    for name, entry in table.items():
        expected = entry["range"]
        got = PAPER_RANGES[name]
        assert (got is None) == (expected is None), name
        if got is not None:
            assert list(got) == pytest.approx(expected), name


@pytest.mark.parametrize("name", TRANSFORMS)
def test_output_shape_and_dtype(name):
    x = _image(32)
    torch.manual_seed(0)
    y = make_transform(name, 32)(x)
    assert y.dtype == torch.uint8 and y.shape[0] == 3
    expected = (crop_side(32),) * 2 if name == "random_crop" else (32, 32)
    assert tuple(y.shape[-2:]) == expected


@pytest.mark.parametrize("name", TRANSFORMS)
def test_deterministic_under_manual_seed(name):
    x = _image(32)
    t = make_transform(name, 32)
    outs = []
    for seed in (3, 3, 4, 5, 6):
        torch.manual_seed(seed)
        outs.append(t(x))
    assert torch.equal(outs[0], outs[1])
    # every transform is random: some other seed gives another result
    assert any(not torch.equal(outs[0], o) or o.shape != outs[0].shape for o in outs[2:])


def test_pixel_magnitudes_scale_with_size():
    assert crop_side(224) == 200 and crop_side(112) == 100 and crop_side(32) == 29
    assert cutout_max_side(224) == 70 and cutout_max_side(112) == 35
    at_224 = blur_settings(224)
    assert [k for k, _ in at_224] == [3, 5, 7]
    assert [s for _, s in at_224] == pytest.approx([0.8, 1.1, 1.4])
    assert blur_settings(64) == at_224  # the blur kernel is deliberately not scaled
    assert "side [0, 35] px" in catalogue(112).set_index("name").loc["cutout", "range_used"]
    with pytest.raises(ValueError):
        make_transform("blur", 4)


def test_rate_ranges():
    assert list(make_transform("rotation").degrees) == [-45.0, 45.0]
    assert tuple(make_transform("translation").translate) == (0.3, 0.3)
    assert tuple(make_transform("random_zoom").scale) == (0.7, 1.3)
    assert tuple(make_transform("random_contrast").contrast) == pytest.approx((0.7, 1.3))
    torch.manual_seed(0)
    stretch = make_transform("random_width")
    factors = [stretch.make_params([_image(8)])["factor"] for _ in range(300)]
    assert 0.7 <= min(factors) < 0.75 and 1.25 < max(factors) <= 1.3


def test_cutout_is_a_grey_square_up_to_70px():
    t = make_transform("cutout", 224)
    x = torch.zeros(3, 224, 224, dtype=torch.uint8)
    torch.manual_seed(0)
    sides = []
    for _ in range(200):
        y = t(x)
        grey = (y == 128).all(0)
        assert torch.equal(y[:, ~grey], x[:, ~grey])  # nothing else changes
        if grey.any():
            rows, cols = grey.any(1).nonzero(), grey.any(0).nonzero()
            h, w = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
            assert int(grey.sum()) == h * w  # a filled rectangle (a square clipped at a border)
            sides.append(max(h, w))
    assert max(sides) <= 70 and max(sides) >= 60


def test_flip_covers_both_axes():
    x = torch.arange(64, dtype=torch.uint8).reshape(1, 8, 8).repeat(3, 1, 1)
    t = make_transform("random_flip", 8)
    seen = set()
    torch.manual_seed(0)
    for _ in range(40):
        y = t(x)
        seen.add((torch.equal(y, x.flip(-1)), torch.equal(y, x.flip(-2)),
                  torch.equal(y, x.flip(-1).flip(-2)), torch.equal(y, x)))
    assert len(seen) == 4


def test_stretch_changes_content_not_size():
    x = torch.zeros(3, 40, 40, dtype=torch.uint8)
    x[:, 18:22, :] = 255  # a horizontal bar: height stretch changes its thickness
    t = augment.StretchAxis("height", (0.5, 0.5))
    y = t(x)
    assert y.shape == x.shape
    assert int((y[0, :, 20] > 127).sum()) == 6


def test_unknown_name():
    with pytest.raises(ValueError, match="is not one of the choices"):
        make_transform("sharpen", 32)
    with pytest.raises(TypeError):
        augment.validate_names("blur")


def test_example_grid_leaves_global_rng_alone():
    img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    fig = example_grid(img, seed=1)
    assert torch.equal(before, torch.get_rng_state())
    assert sum(1 for ax in fig.axes if ax.images) == len(TRANSFORMS) + 1


def test_catalogue_comparison_reads_as_words_and_counts_table1():
    """The transforms page's table: names in words, no key headers, Table 1's nine operations
    marked (random zoom is not in it), both image sizes' ranges."""
    import re

    from emo_lib.augment import catalogue_comparison

    table = catalogue_comparison(64)
    assert not [c for c in table.columns if re.search(r"[a-z]_[a-z]", c)], list(table.columns)
    assert table.index.name == "transform" and "random zoom" in table.index
    assert (table["in Table 1"] == "yes").sum() == len(TRANSFORMS) - 1
    assert table.loc["random zoom", "in Table 1"] == "no"
    assert "range at 64 px (this run)" in table.columns
    assert "range at 224 px (this run)" not in catalogue_comparison(224).columns
