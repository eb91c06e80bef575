"""The face pipeline on a real photograph that ships with scikit-image (NASA's astronaut
portrait, public domain), a blank image, and an already-aligned synthetic-style manifest."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from emo_lib import faces
from emo_lib.data.manifest import LANDMARK_COLUMNS, make_manifest

skimage_data = pytest.importorskip("skimage.data")

SIZE = 112


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))


def _manifest(paths: list[Path], **meta):
    frame = pd.DataFrame({"path": [str(p) for p in paths], "label": "happy",
                          "gender": "female", "age_group": "adult", "subject_id": "s1",
                          "dataset": "test"})
    return make_manifest(frame, name="test", root=paths[0].parent, meta=meta)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("photos")
    astronaut = Image.fromarray(skimage_data.astronaut())
    astronaut.save(d / "upright.png")
    astronaut.rotate(15, resample=Image.BILINEAR).save(d / "tilted.png")   # head tilted 15 deg
    Image.new("RGB", (256, 256), (128, 128, 128)).save(d / "blank.png")
    return [d / "upright.png", d / "tilted.png", d / "blank.png"]


def test_detect_align_crop_on_a_real_photo(photos) -> None:
    fs = faces.prepare_faces(_manifest(photos), SIZE, progress=False)
    assert fs.images.shape == (2, SIZE, SIZE, 3) and fs.images.dtype == np.uint8
    assert fs.landmarks.shape == (2, 5, 2) and len(fs.manifest.frame) == 2
    assert fs.manifest.exclusions.to_dict("records") == [
        {"path": str(photos[2]), "reason": "face not detected"}]
    assert (fs.scores > 0.9).all()
    # Landmarks inside the crop, in anatomical order: eyes above nose above mouth.
    assert ((fs.landmarks > 0) & (fs.landmarks < SIZE)).all()
    lm = fs.landmarks
    assert (lm[:, 2, 1] > lm[:, 0, 1]).all() and (lm[:, 3, 1] > lm[:, 2, 1]).all()
    # Eyes level after alignment, in the returned coordinates and for a fresh detection on
    # the crop itself (the tilted photo too).
    assert np.abs(lm[:, 0, 1] - lm[:, 1, 1]).max() < 1e-3
    redetected = faces.detect_faces(list(fs.images), min_prob=0.5)
    for face, own in zip(redetected, lm):
        assert face is not None
        assert abs(face.landmarks[0, 1] - face.landmarks[1, 1]) < 3
        assert np.abs(face.landmarks - own).max() < 6
    # The tilted photo, once aligned, matches the upright one.
    diff = np.abs(fs.images[0].astype(int) - fs.images[1].astype(int)).mean()
    assert diff < 25


def test_blank_image_is_excluded_and_the_cache_is_used(photos, monkeypatch) -> None:
    first = faces.prepare_faces(_manifest(photos[1:]), 64, progress=False)
    assert len(first) == 1
    monkeypatch.setattr(faces, "detect_faces", lambda *a, **k: pytest.fail("cache not used"))
    again = faces.prepare_faces(_manifest(photos[1:]), 64, progress=False)
    np.testing.assert_array_equal(again.images, first.images)
    assert again.manifest.exclusions["reason"].tolist() == ["face not detected"]


def test_largest_face_wins_and_min_prob_is_respected() -> None:
    boxes = [np.array([0, 0, 10, 10.]), np.array([0, 0, 40, 40.]), np.array([0, 0, 80, 80.])]
    probs = [0.99, 0.95, 0.5]
    pts = [np.zeros((5, 2))] * 3
    best = faces._pick(boxes, probs, pts, scale=0.5, min_prob=0.9)
    assert best.prob == 0.95 and best.box[2] == 80            # back in full-size pixels
    assert faces._pick(None, [None], None, 1.0, 0.9) is None


def test_aligned_manifest_skips_detection(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(faces, "get_detector", lambda *a: pytest.fail("detector loaded"))
    paths = []
    for i in range(3):
        p = tmp_path / f"syn_{i}.png"
        Image.fromarray(np.full((32, 32, 3), 40 * i, np.uint8)).save(p)
        paths.append(p)
    m = _manifest(paths, aligned=True)
    lm = np.tile(np.array([10, 12, 22, 12, 16, 18, 11, 24, 21, 24], float), (3, 1))
    for col, values in zip(LANDMARK_COLUMNS, lm.T):
        m.frame[col] = values
    fs = faces.prepare_faces(m, 16, progress=False)
    assert fs.images.shape == (3, 16, 16, 3) and (fs.images[2] == 80).all()
    np.testing.assert_allclose(fs.landmarks[0], lm[0].reshape(5, 2) / 2)
    assert fs.manifest.exclusions.empty and (fs.scores == 1).all()
