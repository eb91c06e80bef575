"""``weights="synthetic_faces"``: backbones pretrained once on synthetic faces, cached by recipe.

The pretraining data come from a fake ``synthetic:adult_pretrain`` (tiny tinted noise images, one
tint per class) so the tests do not depend on the generator; sizes are tiny (32 px, 70 images,
one epoch).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
import torch

from emo_lib.data.manifest import EMOTIONS_7
from emo_lib.models import face_pretraining, load_model, standin
from emo_lib.models.zoo import build_backbone
from fakes import FakeAdultPretrain

ARCH = "efficientnet_b0"
TINY = {"size": 32, "n": 70, "epochs": 1, "seed": 0}
CLASSES8 = ("happy", "neutral", "sad", "angry", "surprise", "fear", "disgust", "contempt")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A private cache, a fake generator, and one B0 pretrained in it."""
    root = tmp_path_factory.mktemp("face_pretraining")
    load = FakeAdultPretrain(root / "img")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMO_CACHE", str(root / "cache"))
        mp.setattr(face_pretraining, "load_dataset", load)
        mp.setattr(standin, "load_dataset", load)
        weights, info = face_pretraining.pretrained_state(ARCH, TINY)
        yield {"load": load, "calls": load.calls, "cache": root / "cache", "weights": weights,
               "info": info}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert list(a) == list(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_trains_once_then_cache_hit_returns_identical_weights(env: dict[str, Any]) -> None:
    info = env["info"]
    assert info["cache"] == "trained" and env["calls"][0]["n"] == 70
    folder = env["cache"] / "models" / "synthetic_faces"
    key = info["cache_key"]
    assert sorted(p.name for p in folder.iterdir()) == [f"{key}.json", f"{key}.pt"]
    again, info2 = face_pretraining.pretrained_state(ARCH, TINY)
    assert info2["cache"] == "hit" and info2["cache_key"] == key
    _same(env["weights"], again)
    # the report: recipe, held-out accuracy, seconds
    recipe = info2["recipe"]
    assert (recipe["arch"], recipe["size"], recipe["n"], recipe["epochs"], recipe["seed"]) == \
        (ARCH, 32, 70, 1, 0)
    assert recipe["dataset"] == "synthetic:adult_pretrain" and recipe["classes"] == \
        list(EMOTIONS_7)
    assert info2["n_train"] + info2["n_heldout"] == 70
    assert 0.0 <= info2["heldout_accuracy"] <= 1.0 and info2["seconds"] > 0
    assert len(info2["history"]) == 1


def test_recipe_change_changes_the_key(env: dict[str, Any]) -> None:
    recipe = env["info"]["recipe"]
    base = face_pretraining.cache_key(recipe)
    changes = [("size", 48), ("epochs", 2), ("n", 140), ("seed", 1), ("arch", "resnet18"),
               ("generator_version", "x"), ("data_key", "y"),
               ("torchvision", "0.0"), ("lr", 0.1), ("batchnorm_momentum", 0.01)]
    keys = {face_pretraining.cache_key({**recipe, k: v}) for k, v in changes}
    assert len(keys) == len(changes) and base not in keys
    assert face_pretraining.cache_key(dict(recipe)) == base  # same recipe, same key


def test_new_generator_version_trains_a_new_entry(env: dict[str, Any]) -> None:
    env["load"].version = "fake-2"
    try:
        _, info = face_pretraining.pretrained_state(ARCH, TINY)
        assert info["cache"] == "trained" and info["cache_key"] != env["info"]["cache_key"]
    finally:
        env["load"].version = "fake-1"


def test_damaged_entry_is_rebuilt_with_a_warning(env: dict[str, Any],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = Path(env["info"]["cache_path"])
    good = path.read_bytes()
    path.write_bytes(good[:200])  # an interrupted copy
    try:
        with caplog.at_level("WARNING", logger="emo_lib.models.face_pretraining"):
            again, info = face_pretraining.pretrained_state(ARCH, TINY)
        assert info["cache"] == "trained" and "unreadable" in caplog.text
        _same(again, env["weights"])  # same recipe and seed: the same weights
        # a report missing (weights written, JSON not yet) is an incomplete entry: trained again
        Path(str(path).replace(".pt", ".json")).unlink()
        _, info = face_pretraining.pretrained_state(ARCH, TINY)
        assert info["cache"] == "trained"
    finally:
        path.write_bytes(good)


def test_backbone_loads_the_pretrained_weights_with_a_new_head(env: dict[str, Any]) -> None:
    torch.manual_seed(3)
    model = load_model(ARCH, classes=CLASSES8, input_size=32, weights="synthetic_faces",
                       pretraining=TINY)
    info = model.info
    assert info["pretrained"] is True
    assert info["weights"] == f"synthetic_faces:{env['info']['cache_key']}"
    assert info["pretraining"]["cache"] == "hit" and "new 8-way last layer" in \
        info["initialisation"]
    state = model.module.state_dict()
    # the head: the layer holding the module's last parameters (torchvision's own layout)
    head = next(reversed(list(model.module.named_parameters())))[0].rsplit(".", 1)[0] + "."
    body = [k for k in env["weights"] if not k.startswith(head)]
    assert len(body) == len(env["weights"]) - 2  # everything but the head's weight and bias
    for k in body:  # parameters and BatchNorm statistics alike
        assert torch.equal(state[k].cpu(), env["weights"][k]), k
    assert state[head + "weight"].shape == (8, 1280)
    # not random: a randomly initialised B0 differs in every convolution
    torch.manual_seed(3)
    random = build_backbone(ARCH, classes=CLASSES8, input_size=32).module.state_dict()
    convs = [k for k in body if k.endswith("weight") and state[k].ndim == 4]
    assert convs and not any(torch.equal(state[k].cpu(), random[k]) for k in convs)
    # the new head comes from the global RNG (seeded by the training code per fold)
    torch.manual_seed(4)
    other = load_model(ARCH, classes=CLASSES8, input_size=32, weights="synthetic_faces",
                       pretraining=TINY).module.state_dict()
    assert not torch.equal(other[head + "weight"], state[head + "weight"])
    assert torch.equal(other[body[0]], state[body[0]])
    proba = model.predict_proba(np.zeros((2, 32, 32, 3), dtype=np.uint8))
    assert proba.shape == (2, 8)


def test_mobilenet_v3_small_trains_its_own_entry_on_whole_photographs(env: dict[str, Any]
                                                                     ) -> None:
    """Not the stand-in's weights (paper 1's, trained on face crops): its own recipe, its own
    key, and the images it trains on are the manifest's whole images."""
    tiny = {"size": 32, "n": 70, "epochs": 1, "seed": 0}
    seen: list[list[str]] = []
    real = face_pretraining.load_images

    def spy(paths: list[str], size: int, **kw: Any) -> np.ndarray:
        seen.append(list(paths))
        return real(paths, size, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(face_pretraining, "load_images", spy)
        weights, info = face_pretraining.pretrained_state("mobilenet_v3_small", tiny)
    assert info["recipe"]["arch"] == "mobilenet_v3_small" and info["cache"] == "trained"
    assert info["cache_key"].startswith("mobilenet_v3_small-s32-e1-n70-seed0-")
    assert seen and all(Path(p).name.startswith("adult_") for p in seen[0])  # whole images
    with pytest.MonkeyPatch.context() as mp:   # found without training or drawing
        mp.setattr(face_pretraining, "_drawn", lambda budget: True)
        assert face_pretraining.cached_source("mobilenet_v3_small", tiny) == \
            f"synthetic_faces:{info['cache_key']}"
        assert face_pretraining.cached_source("mobilenet_v3_small", {**tiny, "epochs": 2}) \
            is None
        mp.setattr(face_pretraining, "_drawn", lambda budget: False)
        assert face_pretraining.cached_source("mobilenet_v3_small", tiny) is None
    model = load_model("mobilenet_v3_small", classes=CLASSES8, input_size=32,
                       weights="synthetic_faces", pretraining=tiny)
    assert model.info["weights"] == f"synthetic_faces:{info['cache_key']}"
    state = model.module.state_dict()
    assert torch.equal(state["features.0.0.weight"].cpu(), weights["features.0.0.weight"])
    assert state["classifier.3.weight"].shape == (8, 1024)
    assert face_pretraining.budget_for("mobilenet_v3_small")["epochs"] == 6


def test_bad_options_name_the_choices() -> None:
    with pytest.raises(ValueError, match="synthetic_faces"):
        build_backbone(ARCH, classes=CLASSES8, weights="faces")
    with pytest.raises(ValueError, match="contradicts"):
        build_backbone(ARCH, classes=CLASSES8, pretrained=True, weights="synthetic_faces")
    with pytest.raises(ValueError, match="pretraining options"):
        build_backbone(ARCH, classes=CLASSES8, pretraining={"epochs": 1})
    with pytest.raises(ValueError, match=r"pretraining options: \[lr\] is not among the "):
        face_pretraining.budget_for(ARCH, {"lr": 0.1})
    with pytest.raises(ValueError, match="pretraining epochs: 0 is not an integer >= 1"):
        face_pretraining.budget_for(ARCH, {"epochs": 0})
    with pytest.raises(ValueError, match="synthetic-face pretraining: alexnet is not one of"):
        face_pretraining.budget_for("alexnet")
    assert face_pretraining.budget_for(ARCH, {"epochs": 2})["epochs"] == 2


def test_fine_tuning_uses_the_pretraining_batchnorm_momentum(env: dict[str, Any]) -> None:
    model = load_model("mobilenet_v3_small", classes=CLASSES8, input_size=32,
                       weights="synthetic_faces", pretraining=TINY)
    norms = [m for m in model.module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.momentum == face_pretraining.BN_MOMENTUM == 0.1 for m in norms)
    plain = build_backbone("mobilenet_v3_small", classes=CLASSES8, input_size=32)
    assert all(m.momentum == 0.01 for m in plain.module.modules()
               if isinstance(m, torch.nn.BatchNorm2d))  # torchvision's, untouched


@pytest.mark.parametrize("arch, n, first, last", [
    ("mobilenet_v3_small", 13, ("features.0.",), ("features.12.",)),
    ("efficientnet_b0", 9, ("features.0.",), ("features.8.",)),
    ("resnet50", 5, ("conv1.", "bn1."), ("layer4.",)),
    ("vgg16", 5, ("features.0.", "features.2."), ("features.24.", "features.26.",
                                                  "features.28.")),
])
def test_feature_blocks_and_freeze_prefixes(arch: str, n: int, first: tuple, last: tuple
                                            ) -> None:
    from emo_lib.models.zoo import feature_blocks, freeze_prefixes

    blocks = feature_blocks(arch)
    assert len(blocks) == n and blocks[0] == first and blocks[-1] == last
    assert freeze_prefixes(arch, 0) == ()
    import torchvision

    with torch.device("meta"):  # names only (VGG-16 is 138 M parameters)
        names = [k for k, _ in torchvision.models.get_model(arch).named_parameters()]
    frozen = freeze_prefixes(arch, n)
    # every block together covers every parameter but the classifier's
    assert {k for k in names if k.startswith(frozen)} == \
        {k for k in names if not k.startswith(("classifier.", "fc."))}
    two = freeze_prefixes(arch, 2)
    assert set(two) == set(blocks[0] + blocks[1])
    with pytest.raises(ValueError, match=rf"is not an integer >= 0 and <= {n}"):
        freeze_prefixes(arch, n + 1)
