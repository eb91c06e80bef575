"""The face pipeline on a real photograph that ships with scikit-image (NASA's astronaut
portrait, public domain), a blank image, a manifest whose landmarks come from the generator
(the synthetic path), the landmark-made box and the proportions measure."""
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


def test_generator_landmarks_replace_detection(tmp_path, monkeypatch) -> None:
    """A manifest with generator landmarks is cropped around them with no detector; a row
    without landmarks is excluded and logged; the crop maps the landmarks exactly."""
    monkeypatch.setattr(faces, "get_detector", lambda *a: pytest.fail("detector loaded"))
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        p = tmp_path / f"syn_{i}.png"
        Image.fromarray(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    m = _manifest(paths, landmarks="generator")
    # eyes 20 px apart on row 30, mouth corners 16 px apart on row 52 (eye_to_mouth 22)
    lm = np.tile(np.array([30, 30, 50, 30, 40, 42, 32, 52, 48, 52], float), (3, 1))
    lm[2] = np.nan
    for col, values in zip(LANDMARK_COLUMNS, lm.T):
        m.frame[col] = values
    fs = faces.prepare_faces(m, 40, progress=False)
    assert len(fs) == 2 and (fs.scores == 1).all()
    assert fs.manifest.exclusions.to_dict("records") == [
        {"path": str(paths[2]), "reason": "no landmarks"}]
    # crop side = 1.4 * box height = 1.4 * 2.62 * 22 px; the crop is centred 0.277 * 22 px
    # below the eye midpoint (40, 30); scaled to 40 px.
    side = 1.4 * faces.MTCNN_BOX_HEIGHT_PER_EYE_MOUTH * 22
    centre = np.array([40, 30 + faces.MTCNN_BOX_CENTRE_BELOW_EYES * 22])
    expected = (lm[0].reshape(5, 2) - centre) * (40 / round(side)) + 20
    np.testing.assert_allclose(fs.landmarks[0], expected, atol=0.05 * 40 / round(side) + 1e-3)
    # the pixel at the crop centre is the photo's pixel at the box centre
    crop_centre = fs.images[0][20, 20].astype(int)
    photo = np.asarray(Image.open(paths[0]), dtype=int)
    cx, cy = int(round(centre[0])), int(round(centre[1]))
    assert np.abs(crop_centre - photo[cy - 1:cy + 2, cx - 1:cx + 2].reshape(-1, 3)).min() < 60


def test_face_from_landmarks_matches_the_measured_box_shape() -> None:
    """Levelled: width 2.20 iod, height 2.62 eye_mouth; a tilted face gives the same box
    about the rotated centre; bad landmarks are refused with the values named."""
    lm = np.array([[30, 30], [50, 30], [40, 42], [32, 52], [48, 52]], float)
    face = faces.face_from_landmarks(lm)
    w, h = face.box[2] - face.box[0], face.box[3] - face.box[1]
    assert w == pytest.approx(2.20 * 20)
    assert h == pytest.approx(faces.MTCNN_BOX_HEIGHT_PER_EYE_MOUTH * 22)
    assert (face.box[1] + face.box[3]) / 2 == pytest.approx(30 + 0.277 * 22)
    theta = np.deg2rad(20)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    tilted = faces.face_from_landmarks((lm - 40) @ rot.T + 40)
    centre = ((np.array([40, 30 + 0.277 * 22]) - 40) @ rot.T) + 40
    np.testing.assert_allclose((tilted.box[:2] + tilted.box[2:]) / 2, centre, atol=1e-9)
    assert tilted.box[3] - tilted.box[1] == pytest.approx(h)
    with pytest.raises(ValueError, match="not below the eyes"):
        faces.face_from_landmarks(lm[[0, 1, 2, 0, 1]] - [0, 5])
    with pytest.raises(ValueError, match=r"finite \(5, 2\)"):
        faces.face_from_landmarks(np.full((5, 2), np.nan))


def test_landmark_proportions_by_hand() -> None:
    """Two crops of side 100 whose distances are known, grouped and ungrouped."""
    lm = np.array([
        [[40, 40], [60, 40], [50, 50], [41, 67], [59, 67]],     # iod 20, mouth 18, em 27
        [[35, 40], [65, 40], [50, 50], [38, 70], [62, 70]],     # iod 30, mouth 24, em 30
    ], np.float32)
    frame = pd.DataFrame({"path": ["a", "b"], "label": "happy", "gender": "female",
                          "age_group": ["child", "adult"], "subject_id": ["1", "2"],
                          "dataset": "t"})
    fs = faces.FaceSet(images=np.zeros((2, 100, 100, 3), np.uint8), landmarks=lm,
                       manifest=make_manifest(frame, name="t"), scores=np.ones(2), size=100)
    allrow = faces.landmark_proportions(fs).loc["all"]
    assert allrow["n"] == 2
    assert allrow["interocular"] == pytest.approx(0.25)
    assert allrow["mouth_width"] == pytest.approx(0.21)
    assert allrow["eye_to_mouth"] == pytest.approx(0.285)
    assert allrow["eye_to_mouth_ratio"] == pytest.approx(0.285 / 0.25)
    by = faces.landmark_proportions(fs, by="age_group")
    assert by.loc["child", "interocular"] == pytest.approx(0.2)
    assert by.loc["adult", "eye_to_mouth_ratio"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not a manifest column"):
        faces.landmark_proportions(fs, by="age")
