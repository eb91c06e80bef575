"""The frozen-trunk economy (emo_lib.train.trunk) and the CPU families (emo_lib.models.families)."""
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn as nn
import torchvision

from emo_lib.models import families
from emo_lib.models.zoo import build_backbone, freeze_prefixes
from emo_lib.train import FitConfig, config_from_spec, config_spec
from emo_lib.train.crossval import train_fold
from emo_lib.train.dataset import ArrayDataset
from emo_lib.train.trunk import fit_frozen_trunk, split_trunk, stages, trunk_features

CLASSES = ("a", "b", "c")


def _data(n=60, size=32, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    images = rng.integers(0, 60, (n, size, size, 3), dtype=np.uint8)
    images[..., 0] += (80 * y).astype(np.uint8)[:, None, None]   # a learnable colour cue
    return images, y


@pytest.mark.parametrize("arch", ["mobilenet_v3_small", "mobilenet_v3_small_s1",
                                  "resnet18_narrow"])
def test_stages_reproduce_the_forward_pass(arch):
    torch.manual_seed(0)
    module = families.build(arch).eval()
    x = torch.randn(2, 3, 40, 40)
    with torch.no_grad():
        assert torch.allclose(nn.Sequential(*stages(module))(x), module(x), atol=1e-5)


def test_stages_reject_an_unknown_layout():
    with pytest.raises(ValueError, match="no stage layout"):
        stages(nn.Linear(2, 2))


def test_split_trunk_cuts_after_the_frozen_blocks():
    module = families.build("resnet18_narrow")
    prefixes = freeze_prefixes("resnet18_narrow", 4)     # stem and layer1-3
    frozen = {id(p) for n, p in module.named_parameters() if n.startswith(prefixes)}
    trunk, tail = split_trunk(module, frozen)
    assert all(id(p) in frozen for p in trunk.parameters())
    assert not any(id(p) in frozen for p in tail.parameters())
    assert tail[0] is module.layer4


def test_scaled_family_grows_along_depth_width_and_resolution():
    base = torchvision.models.mobilenet_v3_small()
    assert str(families.build("mobilenet_v3_small")) == str(base)   # phi 0 is torchvision's
    s1, s2 = families.build("mobilenet_v3_small_s1"), families.build("mobilenet_v3_small_s2")
    assert len(base.features) < len(s1.features) < len(s2.features)      # depth
    widths = [m.features[0][0].out_channels for m in (base, s1, s2)]
    assert widths[0] < widths[2]                                          # width
    sizes = [families.input_size_for(a, 64) for a in families.SCALED]
    assert sizes == [64, round(64 * 1.15), round(64 * 1.15 ** 2)]         # resolution
    assert families.input_size_for("resnet18_narrow", 64) == 64


def test_narrow_resnet_is_a_quarter_width_resnet18():
    narrow, full = families.build("resnet18_narrow"), torchvision.models.resnet18()
    assert narrow.layer4[-1].conv2.out_channels * 4 == full.layer4[-1].conv2.out_channels
    assert [len(getattr(narrow, f"layer{i}")) for i in range(1, 5)] == [2, 2, 2, 2]


def test_custom_models_have_no_imagenet_weights():
    model = build_backbone("resnet18_narrow", classes=CLASSES, input_size=32, pretrained=True)
    assert model.info["pretrained"] is False and "no ImageNet" in model.info["weights"]


def _model(arch="mobilenet_v3_small", seed=0):
    torch.manual_seed(seed)
    return build_backbone(arch, classes=CLASSES, input_size=32)


def test_frozen_trunk_trains_only_the_tail_and_keeps_the_trunk_statistics():
    images, y = _data()
    model = _model()
    n_blocks = len(model.module.features) - 1
    config = FitConfig(epochs=2, lr=1e-2, batch_size=16,
                       freeze=freeze_prefixes("mobilenet_v3_small", n_blocks),
                       frozen_features=True)
    before = {k: v.clone() for k, v in model.module.state_dict().items()}
    train = ArrayDataset(images, y, [(i, None) for i in range(40)] +
                         [(i, "rotation") for i in range(40)], item_seed=3)
    val = ArrayDataset(images, y, [(i, None) for i in range(40, 50)])
    result, logits, seconds = fit_frozen_trunk(model, train, val, np.arange(50, 60),
                                               loss=None, config=config, seed=0)
    after = model.module.state_dict()
    trunk_keys = [k for k in before if k.startswith(tuple(config.freeze))]
    assert trunk_keys and all(torch.equal(before[k], after[k]) for k in trunk_keys)
    assert any(not torch.equal(before[k], after[k]) for k in before if k not in trunk_keys)
    assert len(result.history) == 2 and logits.shape == (10, 3)
    assert all(p.requires_grad for p in model.module.parameters())   # restored
    # the logits are the model's own on those images (trunk and trained tail together)
    np.testing.assert_allclose(model.predict_logits(images[50:60]), logits, atol=1e-4)
    assert set(seconds) == {"trunk_seconds", "tail_seconds"}


def test_trunk_features_are_kept_per_trunk_and_pixels():
    images, _ = _data(20)
    model = _model()
    trunk, _ = split_trunk(model.module, {id(p) for p in model.module.features.parameters()})
    a = trunk_features(model, trunk, images, ("k",))
    assert trunk_features(model, trunk, images, ("k",)) is a              # kept
    other = images.copy()
    other[0] = 255 - other[0]
    assert trunk_features(model, trunk, other, ("k",)) is not a          # other pixels


def test_train_fold_with_frozen_features_is_reproducible():
    images, y = _data()
    prefixes = freeze_prefixes("mobilenet_v3_small", 12)
    config = FitConfig(epochs=2, lr=1e-2, batch_size=16, freeze=prefixes,
                       frozen_features=True)
    runs = [train_fold(lambda: _model(), images, y, np.arange(45), np.arange(45, 60), 0,
                       config=config, progress=False) for _ in range(2)]
    assert runs[0].row["macro_f1"] == runs[1].row["macro_f1"]
    np.testing.assert_array_equal(runs[0].arrays["logits"], runs[1].arrays["logits"])
    assert runs[0].arrays["logits"].shape == (15, 3)


def test_config_spec_leaves_frozen_features_out_when_off():
    # keys of runs that never used the economy stay as they were
    assert "frozen_features" not in config_spec(FitConfig())
    on = dataclasses.replace(FitConfig(), freeze=("x.",), frozen_features=True)
    assert config_spec(on)["frozen_features"] is True
    assert config_from_spec(config_spec(on)) == on
