"""The adult-trained stand-in: trained once (tiny), cached, reloaded identically.

The data come from a fake ``synthetic:adult_pretrain`` (tiny coloured noise images, one tint per
class) so the test does not depend on the generator; one test runs the real preset when it
exists.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
import torch

from emo_lib.data.manifest import EMOTIONS_7, make_manifest
from emo_lib.models import load_model
from emo_lib.models import standin
from fakes import FakeAdultPretrain

TINY = dict(size=32, n=140, epochs=1, seed=0, progress=False)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A private cache, a fake generator (version switchable), and one stand-in trained in it."""
    root = tmp_path_factory.mktemp("standin")
    load = FakeAdultPretrain(root / "img")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMO_CACHE", str(root / "cache"))
        mp.setattr(standin, "load_dataset", load)
        first = standin.load_standin(**TINY)
        yield {"load": load, "calls": load.calls, "cache": root / "cache", "first": first}


def _images(n: int = 4) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_trains_caches_and_reloads_identically(env: dict[str, Any]) -> None:
    first = env["first"]
    assert first.info["cache"] == "trained"
    assert first.classes == EMOTIONS_7 and first.input_size == 32
    assert env["calls"][0] == {"n": 140, "size": 32, "seed": 0, "progress": False}
    files = sorted(p.name for p in (env["cache"] / "models" / "standin").iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".pt")

    second = load_model("standin", **TINY)
    assert second.info["cache"] == "hit"
    assert second.info["cache_path"] == first.info["cache_path"]
    _same_weights(first.module, second.module)
    proba = second.predict_proba(_images())
    assert proba.shape == (4, 7)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(proba, first.predict_proba(_images()))
    assert {k: v for k, v in second.info.items() if k != "cache"} == \
        {k: v for k, v in first.info.items() if k != "cache"}


def test_recipe_and_scores_recorded(env: dict[str, Any]) -> None:
    info = env["first"].info
    recipe = info["recipe"]
    assert recipe["size"] == 32 and recipe["epochs"] == 1 and recipe["n"] == 140
    assert recipe["seed"] == 0 and recipe["lr"] == standin.LR
    assert recipe["generator_version"] == "fake-1"
    assert recipe["dataset"] == "synthetic:adult_pretrain"
    assert info["n_train"] + info["n_heldout"] == 140 and info["n_heldout"] == 21
    assert 0.0 <= info["heldout_accuracy"] <= 1.0
    assert set(info["per_class_accuracy"]) == set(EMOTIONS_7)
    assert len(info["history"]) == 1 and {"train_loss", "val_loss"} <= set(info["history"][0])
    assert info["seconds"] > 0
    assert recipe["batchnorm_momentum"] == 0.1 and "flip" in recipe["augmentation"]
    norms = [m for m in env["first"].module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.1 for m in norms)


def test_cache_key_covers_every_option(env: dict[str, Any]) -> None:
    recipe = env["first"].info["recipe"]
    keys = {standin.cache_key({**recipe, field: value}) for field, value in
            [("size", 48), ("epochs", 2), ("n", 280), ("seed", 1), ("generator_version", "x"),
             ("data_key", "y"), ("lr", 0.1)]}
    assert len(keys) == 7 and standin.cache_key(recipe) not in keys


def test_cache_key_names_the_device_it_was_trained_on(env: dict[str, Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The weights torch computes differ between instruction sets and devices: another CPU
    capability or device is another entry."""
    recipe = env["first"].info["recipe"]
    base = standin.cache_key(recipe, "cpu")
    assert standin.cache_key(recipe) == base
    assert standin.cache_key(recipe, "meta") != base
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2-elsewhere")
    assert standin.cache_key(recipe, "cpu") != base


def test_new_generator_retrains_and_retrain_is_deterministic(env: dict[str, Any]) -> None:
    env["load"].version = "fake-2"  # a new generator must not reuse old weights
    try:
        b = standin.load_standin(**TINY)
        assert b.info["cache"] == "trained"
        assert b.info["cache_path"] != env["first"].info["cache_path"]
        assert len(list(standin.standin_cache().root.glob("standin-*.json"))) == 2
        c = standin.load_standin(**TINY, retrain=True)  # same seed, same weights
        assert c.info["cache"] == "trained" and c.info["cache_path"] == b.info["cache_path"]
        _same_weights(b.module, c.module)
        _same_weights(b.module, env["first"].module)  # same pixels here, only the version moved
    finally:
        env["load"].version = "fake-1"


def test_damaged_cache_entry_is_rebuilt(env: dict[str, Any], caplog: pytest.LogCaptureFixture
                                        ) -> None:
    weights = Path(env["first"].info["cache_path"])
    good = weights.read_bytes()
    weights.write_bytes(good[:100])  # an interrupted copy
    try:
        with caplog.at_level("WARNING", logger="emo_lib.models.standin"):
            again = standin.load_standin(**TINY)
        assert again.info["cache"] == "trained" and "unreadable" in caplog.text
        _same_weights(again.module, env["first"].module)
    finally:
        weights.write_bytes(good)


def test_real_preset_when_available(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from emo_lib.data import synthetic

    if "adult_pretrain" not in getattr(synthetic, "preset_names", lambda: [])():
        pytest.skip("synthetic:adult_pretrain is not written yet")
    monkeypatch.setenv("EMO_CACHE", str(tmp_path))
    model = standin.load_standin(**TINY)
    assert model.info["recipe"]["dataset"] == "synthetic:adult_pretrain"
    assert model.predict_proba(_images()).shape == (4, 7)


def test_training_images_are_the_face_crops_the_pages_evaluate(tmp_path: Path) -> None:
    # a synthetic-style manifest (generator landmarks): the stand-in trains on the crops that
    # prepare_faces makes, not on the whole photograph resized
    from emo_lib.data.manifest import LANDMARK_COLUMNS
    from emo_lib.faces import prepare_faces

    manifest = FakeAdultPretrain(tmp_path)("synthetic:adult_pretrain", n=7, size=48, seed=3)
    lm = [12, 18, 36, 18, 24, 26, 15, 34, 33, 34]    # eyes, nose, mouth corners in a 48 px photo
    frame = manifest.frame.assign(**dict(zip(LANDMARK_COLUMNS, lm)))
    synthetic = make_manifest(frame, name="synthetic:adult_pretrain", synthetic=True,
                              root=manifest.root,
                              meta={"generator_version": "fake-1", "landmarks": "generator"})
    images, kept = standin.training_images(synthetic, 32)
    np.testing.assert_array_equal(images, prepare_faces(synthetic, 32, progress=False).images)
    assert len(kept) == 7 and images.shape == (7, 32, 32, 3)
    whole, _ = standin.training_images(manifest, 32)        # no generator landmarks: resized
    assert not np.array_equal(whole, images)
    assert standin.recipe_for(synthetic, size=32, epochs=1, n=7, seed=0)["faces"] == \
        standin.FACE_STEP
