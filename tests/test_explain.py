"""emo_lib.explain: fast LIME equals stock lime; aggregation; face regions."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch
from lime.lime_image import ImageExplanation, LimeImageExplainer
from torch import nn

from emo_lib.explain import (
    FACE_REGIONS, REGIONS, LimeResult, aggregate_masks, draw_heatmaps, explain_batch,
    make_segmenter, mask_iou, mean_colour_image, region_areas, region_masks, region_shares,
    segmentation_settings, top_positive,
)
from emo_lib.classifier import TorchClassifier

matplotlib.use("Agg")
SIDE = 32


@pytest.fixture(scope="module")
def model() -> TorchClassifier:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 3),
    )
    with torch.no_grad():  # sharper outputs, so the surrogate weights are far from ties
        for p in net.parameters():
            p.mul_(4.0)
    return TorchClassifier(net.eval(), ("angry", "happy", "sad"), input_size=SIDE)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    out = []
    for k in range(3):  # smooth blobs + noise: quickshift finds ~10-20 superpixels
        base = np.stack([128 + 100 * np.sin((xx + 7 * k) / (4 + c)) * np.cos(yy / (5 + k))
                         for c in range(3)], axis=-1)
        out.append(np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8))
    return np.stack(out)


class Recorder:
    """A model wrapper that keeps every batch it is given."""

    def __init__(self, model: TorchClassifier):
        self.model, self.batches = model, []
        self.classes = model.classes

    def predict_proba(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        self.batches.append(np.array(x))
        return self.model.predict_proba(x, batch_size=batch_size)


def _stock(model, image, label, seed, num_samples, segmenter):
    """Stock lime, keeping its design matrix and the images it sent to the model."""
    explainer = LimeImageExplainer(random_state=seed)
    captured = {}
    original = explainer.data_labels

    def data_labels(*args, **kwargs):
        captured["data"], captured["labels"] = original(*args, **kwargs)
        return captured["data"], captured["labels"]

    explainer.data_labels = data_labels
    rec = Recorder(model)
    exp = explainer.explain_instance(
        image, rec.predict_proba, labels=(label,), top_labels=None, hide_color=None,
        num_samples=num_samples, segmentation_fn=segmenter, random_seed=123)
    return exp, captured["data"], np.concatenate(rec.batches)


SEGMENTATIONS = {"quickshift": {"method": "quickshift"},
                 "slic": {"method": "slic", "n_segments": 40}}


@pytest.mark.parametrize("seed,method", [(0, "quickshift"), (7, "quickshift"), (0, "slic"),
                                         (7, "slic")])
def test_identical_to_stock_lime(model, images, seed, method):
    spec = dict(SEGMENTATIONS[method])
    segmenter = make_segmenter(SIDE, spec.pop("method"), **spec)
    rec = Recorder(model)
    results = explain_batch(rec, images[:2], [1, "sad"], num_samples=50, seed=seed,
                            segmentation=SEGMENTATIONS[method], keep_data=True, batch_size=16,
                            progress=False)
    ours_sent = np.concatenate(rec.batches)
    offset = 0
    for i, res in enumerate(results):
        exp, data, stock_sent = _stock(model, images[i], res.label, seed, 50, segmenter)
        assert res.n_segments > (25 if method == "slic" else 3)
        np.testing.assert_array_equal(exp.segments, res.segments)
        np.testing.assert_array_equal(data, res.data)               # the same design matrix
        # the same perturbed pixels: every stock image is one of ours (repeats sent once)
        mine = ours_sent[offset:offset + res.n_evaluated]
        offset += res.n_evaluated
        keys = {m.tobytes(): j for j, m in enumerate(mine)}
        assert all(s.tobytes() in keys for s in stock_sent)
        assert len(keys) == res.n_evaluated == len({s.tobytes() for s in stock_sent})
        # lime's surrogate, so lime's weights and top-5 positive mask
        stock_w = dict(exp.local_exp[res.label])
        np.testing.assert_allclose([stock_w[f] for f in range(res.n_segments)], res.weights,
                                   rtol=1e-5, atol=1e-7)
        assert [f for f, _ in exp.local_exp[res.label]] == [f for f, _ in res.local_exp]
        _, stock_mask = exp.get_image_and_mask(res.label, positive_only=True, num_features=5,
                                               hide_rest=False)
        np.testing.assert_array_equal(stock_mask.astype(bool), res.top_mask)
        assert res.top_mask.any() and res.label == [1, 2][i]


def test_repeated_masks_evaluated_once(model, images):
    # 3 superpixels -> at most 8 distinct perturbations, whatever num_samples is
    seg = np.zeros((SIDE, SIDE), int)
    seg[:, 10:20], seg[:, 20:] = 1, 2
    rec = Recorder(model)
    res = explain_batch(rec, images[:1], [0], num_samples=60, segments=[seg], keep_data=True,
                        progress=False)[0]
    sent = np.concatenate(rec.batches)
    assert res.n_evaluated == len(sent) == len(np.unique(res.data, axis=0)) <= 8
    exp = LimeImageExplainer(random_state=0).explain_instance(
        images[0], model.predict_proba, labels=(0,), top_labels=None, num_samples=60,
        segmentation_fn=lambda im: seg, random_seed=1)
    np.testing.assert_allclose([dict(exp.local_exp[0])[f] for f in range(3)], res.weights,
                               rtol=1e-5, atol=1e-7)


def test_segmentation_settings_are_complete_and_checked(images):
    assert segmentation_settings("quickshift", 64) == {
        "method": "quickshift", "kernel_size": 2, "max_dist": 200, "ratio": 0.2, "seed": 42}
    assert segmentation_settings("quickshift", 224)["kernel_size"] == 4   # lime's own
    assert segmentation_settings("slic", n_segments=50) == {
        "method": "slic", "n_segments": 50, "compactness": 10.0, "sigma": 0.0}
    with pytest.raises(ValueError, match="felzenszwalb is not one of the choices quickshift, slic"):
        segmentation_settings("felzenszwalb")
    with pytest.raises(ValueError, match=r"slic's settings: \[kernel_size\] is not among the "):
        segmentation_settings("slic", kernel_size=3)
    # SLIC numbers superpixels from 0, as lime expects; about n_segments of them
    seg = make_segmenter(SIDE, "slic", n_segments=40)(images[0])
    assert seg.min() == 0 and np.array_equal(np.unique(seg), np.arange(seg.max() + 1))
    assert 25 <= seg.max() + 1 <= 45


def test_default_slic_gives_forty_superpixels_on_a_synthetic_face():
    # the measured default: >= ~40 superpixels inside the face outline of a 64 px crop
    from emo_lib.data.synthetic import sample_face
    from emo_lib.face_gallery import face_crop

    counts = []
    for k in range(9):   # SLIC_N_SEGMENTS's comment: 41 on average over 30 faces, min 27
        group, label = ("child", "adolescent", "adult")[k % 3], ("sad", "happy", "fear")[k // 3]
        crop, lm = face_crop(sample_face(label, group, ("female", "male")[k % 2], seed=k)[0], 64)
        seg = make_segmenter(64, "slic")(crop)
        masks = region_masks(lm, (64, 64))
        face = np.any([masks[r] for r in FACE_REGIONS], axis=0)
        inside = np.bincount(seg.ravel(), weights=face.ravel()) / np.bincount(seg.ravel())
        counts.append(int((inside > 0.5).sum()))
    assert min(counts) >= 25 and np.mean(counts) >= 36, counts


def test_relabels_segments_and_converts_to_lime(model, images, caplog):
    seg = np.ones((SIDE, SIDE), int)        # labels 1..3, as slic's start_label=1 gives
    seg[:, 12:], seg[20:, :] = 2, 3
    res = explain_batch(model, images[:1], [2], num_samples=30, segments=[seg], progress=False)[0]
    assert "relabelled" in caplog.text
    assert res.n_segments == 3 and set(np.unique(res.segments)) == {0, 1, 2}
    # lime's own mask from the same weights (its ImageExplanation, as explain_instance builds it)
    exp = ImageExplanation(images[0], res.segments)
    exp.intercept[2], exp.local_exp[2] = res.intercept, list(res.local_exp)
    _, mask = exp.get_image_and_mask(2, num_features=5)
    np.testing.assert_array_equal(mask.astype(bool), res.top_mask)


def test_top_positive_follows_lime():
    # lime keeps weights > 0 (not >= 0), in the order of decreasing |weight|, then the first k
    local_exp = [(2, -0.9), (5, 0.4), (1, 0.0), (0, 0.1), (4, 0.05)]
    assert top_positive(local_exp, 5) == [5, 0, 4]
    assert top_positive(local_exp, 2) == [5, 0]


def test_mean_colour_image_matches_lime(images):
    seg = make_segmenter(SIDE)(images[0])
    fudge = images[0].copy()
    for x in np.unique(seg):  # lime's loop
        fudge[seg == x] = tuple(np.mean(images[0][seg == x][:, c]) for c in range(3))
    np.testing.assert_array_equal(mean_colour_image(images[0], seg), fudge)


def test_deterministic_and_seed_dependent(model, images):
    kw = dict(num_samples=40, keep_data=True, progress=False)
    a = explain_batch(model, images, [0, 1, 2], seed=5, **kw)
    b = explain_batch(model, images, [0, 1, 2], seed=5, **kw)
    c = explain_batch(model, images, [0, 1, 2], seed=6, **kw)
    for ra, rb, rc in zip(a, b, c):
        np.testing.assert_array_equal(ra.data, rb.data)
        np.testing.assert_array_equal(ra.weights, rb.weights)
        np.testing.assert_array_equal(ra.top_mask, rb.top_mask)
        assert not np.array_equal(ra.data, rc.data)


def test_bad_input(model, images):
    with pytest.raises(ValueError, match="uint8"):
        explain_batch(model, images.astype(float), [0, 0, 0], progress=False)
    with pytest.raises(ValueError, match="one class per image"):
        explain_batch(model, images, [0], progress=False)
    with pytest.raises(ValueError, match="neither"):
        explain_batch(model, images[:1], ["contempt"], progress=False)


def test_mask_iou():
    assert mask_iou(np.eye(3, dtype=bool), np.eye(3, dtype=bool)[::-1]) == pytest.approx(1 / 5)
    assert mask_iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool)) == 1.0


# ---------------------------------------------------------------------------------------------
def _fake_result(i: int, mask: np.ndarray) -> LimeResult:
    return LimeResult(index=i, label=0, segments=np.zeros(mask.shape, int), weights=np.zeros(1),
                      local_exp=[], intercept=0.0, score=0.0, local_pred=0.0, top_features=[],
                      top_mask=mask, data=None, n_evaluated=0, seed=0)


def test_aggregate_caps_at_n_and_reports_fewer():
    # group "m": 14 sad images, 12 correct -> first 10 correct used; group "f": 9 sad, 8 correct
    genders = ["m"] * 14 + ["f"] * 9
    y_true = ["sad"] * 23
    y_pred = ["sad"] * 23
    y_pred[3] = y_pred[5] = "angry"      # two wrong among the males
    y_pred[20] = "fear"                  # one wrong among the females
    masks = []
    for i in range(23):
        m = np.zeros((4, 4), bool)
        m[0, 0] = True                   # in every mask
        m[1, 1] = i < 8                  # only in the first 8 (positions 0..7)
        masks.append(m)
    results = [_fake_result(i, m) for i, m in enumerate(masks)]
    images = np.stack([np.full((4, 4, 3), i, np.uint8) for i in range(23)])
    agg = aggregate_masks(results, y_true, y_pred, {"gender": genders}, n_per_class=10,
                          images=images)
    t = agg.table.set_index("gender")
    cols = ["n_images", "n_correct", "n_used", "short", "n_empty_masks"]
    assert t.loc["m", cols].tolist() == [14, 12, 10, False, 0]
    assert t.loc["f", cols].tolist() == [9, 8, 8, True, 0]
    male_used = [0, 1, 2, 4, 6, 7, 8, 9, 10, 11]     # first 10 correct, skipping 3 and 5
    assert agg.used[("m", "sad")] == male_used
    heat = agg.heatmaps[("m", "sad")]
    assert heat[0, 0] == 1.0 and heat[1, 1] == pytest.approx(6 / 10) and heat[2, 2] == 0
    assert agg.mean_images[("m", "sad")][0, 0, 0] == round(np.mean(male_used))
    assert agg.used[("f", "sad")] == [14, 15, 16, 17, 18, 19, 21, 22]

    fig = draw_heatmaps(agg)
    assert len(fig.axes) == 2 * 2 + 1   # one class x (2 groups x red/yellow) + colour bar
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert "f: sad, n=8" in titles and "m: sad, n=10" in titles   # images behind each map
    assert "share of the map's images" in fig.axes[-1].get_ylabel()
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_aggregate_no_correct_image_gives_empty_cell():
    results = [_fake_result(i, np.ones((2, 2), bool)) for i in range(2)]
    agg = aggregate_masks(results, ["fear", "fear"], ["sad", "sad"], classes=["fear"])
    assert agg.table["n_used"].tolist() == [0] and agg.heatmaps == {}


# ---------------------------------------------------------------------------------------------
LANDMARKS = np.array([[35, 40], [65, 40], [50, 55], [40, 70], [60, 70]], float)  # 100 x 100


def test_region_shares_sum_to_one_and_masks_partition():
    rng = np.random.default_rng(0)
    shares = region_shares(rng.random((100, 100)), LANDMARKS)
    assert set(shares) == set(REGIONS) and sum(shares.values()) == pytest.approx(1.0)
    assert REGIONS == ("eyes_brows", "glabella_nose", "mouth", "face_rest", "outside")
    masks = region_masks(LANDMARKS, (100, 100))
    stacked = np.stack([masks[r] for r in REGIONS]).astype(int)
    assert (stacked.sum(0) == 1).all()
    assert all(masks[r].any() for r in REGIONS)
    areas = region_areas(LANDMARKS, (100, 100))
    assert areas == pytest.approx({r: masks[r].mean() for r in REGIONS})


def test_draw_regions_names_the_five_regions():
    from emo_lib.explain import REGION_LABELS, draw_regions

    fig = draw_regions(np.full((100, 100, 3), 128, np.uint8), LANDMARKS)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [REGION_LABELS[r] for r in REGIONS]
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_face_outline_is_the_ellipse_in_the_mtcnn_shaped_box():
    from emo_lib.faces import (
        MTCNN_BOX_CENTRE_BELOW_EYES, MTCNN_BOX_HEIGHT_PER_EYE_MOUTH, MTCNN_BOX_WIDTH_PER_IOD,
    )
    # LANDMARKS: eyes 30 px apart on y=40, mouth corners on y=70 -> eye_mouth 30 px (= 1 IOD)
    masks = region_masks(LANDMARKS, (100, 100))
    centre_y = 40 + MTCNN_BOX_CENTRE_BELOW_EYES * 30
    half_w = MTCNN_BOX_WIDTH_PER_IOD * 30 / 2
    half_h = MTCNN_BOX_HEIGHT_PER_EYE_MOUTH * 30 / 2
    cheek = (round(centre_y), round(50 + 0.9 * half_w))           # inside, beside the nose
    beyond = (round(centre_y), round(50 + 1.1 * half_w))          # just past the cheek
    above = (round(centre_y - 1.1 * half_h), 50)                  # above the outline (hair)
    chin = (round(centre_y + 0.9 * half_h), 50)                   # the chin, inside
    assert masks["face_rest"][cheek] and masks["outside"][beyond]
    assert masks["outside"][above] and masks["face_rest"][chin]
    assert not masks["outside"][40, 35]                           # an eye is never outside
    # the ellipse's area: pi * half_w * half_h pixels (within a pixel's rim)
    face = sum(masks[r] for r in FACE_REGIONS).astype(bool)
    assert face.sum() == pytest.approx(np.pi * half_w * half_h, rel=0.03)


def test_face_outline_sits_on_the_drawn_synthetic_head():
    # OUTLINE_CHECK, measured again on a few faces: the ellipse lies on the head the generator
    # draws and holds most of it below the eyes (tests/test_explain.py is its source).
    import math

    from PIL import Image, ImageDraw

    from emo_lib.data.synthetic import face as F
    from emo_lib.data.synthetic import photo_side, render_face, sample_face
    from emo_lib.explain.regions import OUTLINE_CHECK
    from emo_lib.faces import align_face, face_from_landmarks

    size, on_face, below = 64, [], []
    for k, group in enumerate(("child", "adolescent", "adult") * 2):
        spec, _ = sample_face("neutral", group, ("female", "male")[k % 2], seed=100 + k)
        photo = photo_side(size)
        image, lm = render_face(spec, photo)
        box = face_from_landmarks(lm)
        crop, pts = align_face(image, box, size)
        canvas = F._Canvas(photo, spec.pose)
        outline = (canvas.px(F._face_outline(F._layout(spec), spec.identity.jaw)) + 0.5) \
            / F.SUPERSAMPLE - 0.5
        # the map align_face applies to the landmarks, applied to the drawn outline
        le, re_ = box.landmarks[0], box.landmarks[1]
        th = math.atan2(re_[1] - le[1], re_[0] - le[0])
        cx, cy = (box.box[0] + box.box[2]) / 2, (box.box[1] + box.box[3]) / 2
        side = max(1, int(round(max(box.box[2] - box.box[0], box.box[3] - box.box[1]) * 1.4)))
        rot = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
        poly = ((outline - [cx, cy]) @ rot.T + side / 2) * (size / side)
        drawn = Image.new("L", (size, size), 0)
        ImageDraw.Draw(drawn).polygon(poly.ravel().tolist(), fill=1)
        head = np.asarray(drawn, bool)
        masks = region_masks(pts, (size, size))
        ellipse = np.any([masks[r] for r in FACE_REGIONS], axis=0)
        on_face.append((head & ellipse).sum() / ellipse.sum())
        head[: int(np.ceil(pts[:2, 1].mean()))] = False
        below.append((head & ellipse).sum() / head.sum())
    assert np.mean(on_face) == pytest.approx(OUTLINE_CHECK["ellipse_on_face"], abs=0.02)
    assert np.mean(below) == pytest.approx(OUTLINE_CHECK["face_below_eyes_inside"], abs=0.06)


def test_region_shares_mouth_eyes_and_scaling():
    mouth = np.zeros((100, 100), bool)
    mouth[66:76, 38:62] = True
    assert region_shares(mouth, LANDMARKS)["mouth"] == pytest.approx(1.0)
    eye = np.zeros((100, 100), bool)
    eye[30:44, 30:40] = True
    assert region_shares(eye, LANDMARKS)["eyes_brows"] == pytest.approx(1.0)
    bridge = np.zeros((100, 100), bool)
    bridge[42:54, 47:53] = True
    assert region_shares(bridge, LANDMARKS)["glabella_nose"] == pytest.approx(1.0)
    # the same mouth mask at half resolution with landmarks given for the 100 px image
    small = mouth[::2, ::2]
    assert region_shares(small, LANDMARKS, size=100)["mouth"] == pytest.approx(1.0)
    # a face rolled by 90 degrees: the regions turn with it
    rolled = region_shares(np.rot90(mouth), LANDMARKS[:, ::-1] * [1, -1] + [0, 99])
    assert rolled["mouth"] == pytest.approx(1.0, abs=0.05)
    assert all(np.isnan(v) for v in region_shares(np.zeros((10, 10)), LANDMARKS).values())
    with pytest.raises(ValueError, match="landmarks"):
        region_shares(mouth, LANDMARKS[:4])


# --------------------------------------------------------------------------- on the device

def test_device_perturbations_are_the_cpu_ones_byte_for_byte(images):
    """The torch construction (what runs on a GPU) gives the numpy construction's bytes."""
    from emo_lib.explain.lime import _Perturbations

    rng = np.random.default_rng(3)
    for method in ("quickshift", "slic"):
        segmenter = make_segmenter(SIDE, method)
        for image in images:
            seg = segmenter(image)
            keep = rng.integers(0, 2, (17, int(seg.max()) + 1)).astype(bool)
            on_numpy = _Perturbations(image, seg, torch.device("cpu"))
            on_torch = _Perturbations(image, seg, torch.device("cpu"), torch_on_cpu=True)
            a, b = on_numpy.batch(keep), on_torch.batch(keep)
            assert isinstance(a, np.ndarray) and isinstance(b, torch.Tensor)
            assert b.dtype == torch.uint8 and np.array_equal(a, b.numpy())


def test_torch_path_gives_todays_weights_and_hands_tensors_to_the_model(model, images,
                                                                         monkeypatch):
    """The weights of the device path equal today's (numpy) path exactly; a TorchClassifier
    receives the perturbed batches as uint8 tensors on its device, a plain function numpy."""
    from emo_lib.explain import lime as lime_mod

    labels = [0, 1, 2]
    kwargs = dict(num_samples=60, seed=4, progress=False, batch_size=16)
    today = explain_batch(model, images, labels, **kwargs)
    seen = []
    real = model.predict_proba

    def spy(x, batch_size=None):
        seen.append(type(x))
        return real(x, batch_size=batch_size)

    class OnDevice(lime_mod._Perturbations):
        def __init__(self, image, segments, device):
            super().__init__(image, segments, device, torch_on_cpu=True)

    monkeypatch.setattr(lime_mod, "_Perturbations", OnDevice)
    monkeypatch.setattr(model, "predict_proba", spy)
    device_path = explain_batch(model, images, labels, **kwargs)
    assert seen and all(t is torch.Tensor for t in seen)
    for a, b in zip(today, device_path):
        assert np.array_equal(a.weights, b.weights) and a.top_features == b.top_features
        assert a.intercept == b.intercept and a.score == b.score
    monkeypatch.undo()
    got = []
    explain_batch(lambda x: got.append(type(x)) or real(x), images[:1], [0],
                  num_samples=20, progress=False)
    assert got and all(t is np.ndarray for t in got)
