import logging
import urllib.error

import numpy as np
import pytest
import torch
import torchvision

from emo_lib import paper
from emo_lib.models import load_model, model_names
from emo_lib.models.zoo import BACKBONE_NAMES, ZOO_NAMES, build_backbone, count_params_flops

CLASSES = ("angry", "happy", "sad")


def test_all_backbones_registered():
    # the paper's backbones: the models whose sizes the paper's reference table gives
    assert set(ZOO_NAMES) == set(paper.paper_value("jeong2021.reference_model_sizes"))
    assert set(BACKBONE_NAMES) <= set(model_names())   # the CPU ones too


def test_efficientnet_b0_size_matches_the_paper_table():
    model = load_model("efficientnet_b0", classes=[f"c{i}" for i in range(1000)])
    counts = count_params_flops(model.module, 224)
    assert counts["params_m"] == pytest.approx(5.3, abs=0.05)
    assert counts["flops_b"] == pytest.approx(0.39, abs=0.01)  # multiply-adds


def test_count_is_multiply_adds():
    conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
    counts = count_params_flops(conv, 8)
    assert counts["params_m"] == pytest.approx(8 * 3 * 9 / 1e6)
    assert counts["flops_b"] == pytest.approx(8 * 3 * 9 * 64 / 1e9)  # one MAC per weight/pixel


@pytest.mark.parametrize("name", ["efficientnet_b0", "resnet50", "vgg16"])
def test_head_replaced_and_small_inputs_work(name):
    model = build_backbone(name, classes=CLASSES, input_size=32)
    assert model.info["architecture"] == name and model.info["pretrained"] is False
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    proba = model.predict_proba(images)
    assert proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)


def test_vgg16_rejects_inputs_below_32px():
    with pytest.raises(ValueError, match="input_size >= 32"):
        build_backbone("vgg16", classes=CLASSES, input_size=24)


def test_pretrained_unavailable_warns_and_continues(monkeypatch, caplog):
    def offline(self, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.models.WeightsEnum, "get_state_dict", offline)
    with caplog.at_level(logging.WARNING, logger="emo_lib.models.zoo"):
        model = build_backbone("efficientnet_b0", classes=CLASSES, pretrained=True,
                               input_size=32)
    assert model.info["pretrained"] is False
    assert "could not be loaded" in caplog.text and "NOT a transfer-learning run" in caplog.text


def test_pretrained_from_local_file(tmp_path):
    torch.manual_seed(0)
    reference = torchvision.models.efficientnet_b0()
    path = tmp_path / "b0.pth"
    torch.save(reference.state_dict(), path)
    model = build_backbone("efficientnet_b0", classes=CLASSES, weights_path=path,
                           input_size=32)
    assert model.info["pretrained"] is True and model.info["weights"] == str(path)
    got = model.module.features[0][0].weight.detach().cpu()
    assert torch.equal(got, reference.features[0][0].weight.detach())
    assert model.module.classifier[-1].out_features == 3
    with pytest.raises(FileNotFoundError, match="weights_path"):
        build_backbone("efficientnet_b0", classes=CLASSES, weights_path=tmp_path / "none.pth")


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_backbone("resnet50", classes=["happy"])
    with pytest.raises(ValueError, match="backbone: alexnet is not one of the choices"):
        build_backbone("alexnet", classes=CLASSES)
