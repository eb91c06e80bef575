"""emo_lib.noh2023: paper tables, verdict rules, LIME selection and cache, region tests,
fine-tuning helpers. Tiny synthetic inputs only (a few seconds)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from emo_lib import noh2023 as nh
from emo_lib.verdicts import INCONCLUSIVE, CONTRADICTED, SUPPORTED
from emo_lib.stats import mcnemar_exact
from emo_lib.data.manifest import EXCLUSION_COLUMNS, Manifest
from emo_lib.explain import REGIONS, explain_batch
from emo_lib.faces import FaceSet
from emo_lib.models.base import TorchClassifier
from emo_lib.train import FitConfig

SIDE = 24
CLASSES = ("angry", "happy", "sad")


@pytest.fixture()
def model() -> TorchClassifier:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                        nn.Flatten(), nn.Linear(16, len(CLASSES)))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(4.0)
    return TorchClassifier(net.eval(), CLASSES, input_size=SIDE)


def _images(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    out = []
    for k in range(n):  # smooth blobs + noise: quickshift finds a handful of superpixels
        base = np.stack([128 + 100 * np.sin((xx + 5 * k) / (3 + c)) * np.cos(yy / (4 + k % 3))
                         for c in range(3)], axis=-1)
        out.append(np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8))
    return np.stack(out)


# ------------------------------------------------------------------ paper tables and verdicts


def test_paper_tables_and_rules_agree_with_the_paper():
    age = nh.paper_accuracy_table("age")
    cafe_all = age[(age.dataset == nh.CAFE) & (age["class"] == "overall")].iloc[0]
    assert cafe_all["n"] == 668 and cafe_all["correct"] == round(0.671 * 668)
    own = nh.age_claims(age)
    assert (own["verdict"] == SUPPORTED).all(), own
    # Swapping the data sets reverses the paper's direction: the rules must say so.
    swapped = age.assign(dataset=age["dataset"].map({nh.CAFE: nh.NIMH, nh.NIMH: nh.CAFE}))
    flipped = nh.age_claims(swapped)
    assert flipped.loc["cafe_overall_lower", "verdict"] == CONTRADICTED
    assert flipped.loc["shared_gaps_large", "verdict"] == CONTRADICTED

    assert nh.paper_gender_exceptions() == {nh.CAFE: ["fear"], nh.NIMH: ["neutral"]}
    g = nh.gender_claims(nh.paper_accuracy_table("gender"))
    assert g.loc["cafe_small_gaps", "verdict"] == SUPPORTED
    # The paper's own CAFE fear gap (11/22 vs 45/62) is not significant at 0.05.
    assert g.loc["cafe_fear_exception", "verdict"] == INCONCLUSIVE
    assert g.loc["nimh_chefs_neutral_exception", "verdict"] == SUPPORTED


def test_fig3_and_gender_comparisons_put_paper_beside_run():
    rng = np.random.default_rng(0)
    rows = []
    for ds, classes in ((nh.CAFE, ["angry", "sad"]), (nh.NIMH, ["angry", "sad"])):
        for c in classes:
            for g in nh.GENDERS:
                for _ in range(6):
                    rows.append({"dataset": ds, "gender": g, "label": c,
                                 "pred": c if rng.random() < 0.6 else "happy"})
    preds = pd.DataFrame(rows)
    acc = nh.accuracy_by(preds)
    table = nh.fig3_comparison(acc)
    assert table.loc[(nh.CAFE, "angry"), "paper"] == 0.553
    assert np.isnan(table.loc[(nh.CAFE, "disgust"), "this run"])  # paper-only class
    run_acc = acc.set_index(["dataset", "class"]).loc[(nh.CAFE, "sad"), "accuracy"]
    assert table.loc[(nh.CAFE, "sad"), "difference"] == pytest.approx(run_acc - 0.491)
    accg = nh.accuracy_by(preds, by=("dataset", "gender"))
    comp = nh.gender_comparison(accg, nh.CAFE)
    assert comp.loc[("male", "sad"), "paper correct"] == 8
    assert comp.loc[("male", "sad"), "n"] == 6
    layout = nh.gender_layout(accg, nh.NIMH)
    assert list(layout.index) == ["male", "female"] and layout.columns[-1] == "total"


# ------------------------------------------------------------------ LIME selection and cache


def test_select_for_lime_takes_the_first_correct_in_order():
    preds = pd.DataFrame({
        "dataset": ["A"] * 6, "gender": ["male"] * 6,
        "label": ["sad", "sad", "sad", "sad", "angry", "angry"],
        "correct": [False, True, True, True, False, True]})
    pos, counts = nh.select_for_lime(preds, ["dataset"], ["angry", "sad"], 2)
    assert pos.tolist() == [1, 2, 5]
    c = counts.set_index("class")
    assert c.loc["sad", "n_correct"] == 3 and c.loc["sad", "n_used"] == 2
    assert c.loc["angry", "short"] and not c.loc["sad", "short"]
    with pytest.raises(ValueError):
        nh.select_for_lime(preds, ["dataset"], ["sad"], 0)


def test_lime_counts_vs_paper_applies_the_gender_exception_only_by_gender():
    counts = pd.DataFrame({"dataset": [nh.CAFE, nh.CAFE], "gender": ["male", "female"],
                           "class": ["sad", "sad"], "n_correct": [3, 12], "n_used": [3, 10]})
    by_gender = nh.lime_counts_vs_paper(counts)
    assert by_gender.loc[(nh.CAFE, "male", "sad"), "paper"] == 8
    assert by_gender.loc[(nh.CAFE, "female", "sad"), "paper"] == 10
    pooled = nh.lime_counts_vs_paper(counts.drop(columns="gender").iloc[:1])
    assert pooled.loc[(nh.CAFE, "sad"), "paper"] == 10


def test_explain_cached_equals_explain_batch_and_reuses(model, tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path))
    images = _images(2)
    first = nh.explain_cached(model, images, ["sad", 0], num_samples=40, num_features=3)
    direct = explain_batch(model, images, [2, 0], num_samples=40, num_features=3, progress=False)
    for a, b in zip(first, direct):
        np.testing.assert_allclose(a.weights, b.weights)
        assert a.top_features == b.top_features
    files = sorted((tmp_path / "lime").glob("*.npz"))
    assert len(files) == 2
    again = nh.explain_cached(model, images, ["sad", 0], num_samples=40, num_features=2)
    assert sorted((tmp_path / "lime").glob("*.npz")) == files  # nothing recomputed
    for a, b in zip(again, first):
        np.testing.assert_allclose(a.weights, b.weights)
        assert a.top_features == b.top_features[:2]  # k applied to the stored weights
    nh.explain_cached(model, images[:1], ["sad"], num_samples=40, seed=1)
    assert len(list((tmp_path / "lime").glob("*.npz"))) == 3  # another seed, another entry
    with torch.no_grad():
        model.module[-1].bias.add_(1.0)
    nh.explain_cached(model, images[:1], ["sad"], num_samples=40)
    assert len(list((tmp_path / "lime").glob("*.npz"))) == 4  # other weights, another entry


# ------------------------------------------------------------------ region tests


def test_region_difference_test_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(0)
    rows = []
    for c in ("angry", "sad"):
        for g in ("male", "female"):
            for _ in range(12):
                w = rng.dirichlet([2, 2, 2, 8]) if g == "male" else rng.dirichlet([8, 2, 2, 2])
                rows.append({"class": c, "gender": g, **dict(zip(REGIONS, w))})
    shifted = pd.DataFrame(rows)
    _, stat, p = nh.region_difference_test(shifted, "gender", "male", "female", n_perm=300)
    assert stat > 0.2 and p < 0.01
    same = shifted.assign(gender=np.tile(["male", "female"], len(shifted) // 2))
    _, stat2, p2 = nh.region_difference_test(same, "gender", "male", "female", n_perm=300)
    assert stat2 < stat and p2 > 0.05


# ------------------------------------------------------------------ additional training


def test_mcnemar_and_paired_changes():
    before = np.array([True] * 5 + [False] * 15)
    after = np.array([True] * 3 + [False] * 2 + [True] * 12 + [False] * 3)
    # 2 broken, 12 fixed: binomial(12 of 14, 0.5) two-sided
    assert mcnemar_exact(before, after) == pytest.approx(0.01293, abs=1e-4)
    assert mcnemar_exact(before, before) == 1.0
    preds = pd.DataFrame({"label": ["sad"] * 20, "before": np.where(before, "sad", "angry"),
                          "after": np.where(after, "sad", "angry")})
    ch = nh.paired_changes(preds, "before", "after")
    assert ch.loc["sad", "fixed"] == 12 and ch.loc["sad", "broken"] == 2
    assert ch.loc["overall", "change"] == pytest.approx(0.5)


def _faceset(n_subjects: int = 4, per: int = 6) -> FaceSet:
    n = n_subjects * per
    frame = pd.DataFrame({
        "path": [f"img{i}.png" for i in range(n)],
        "label": [CLASSES[i % 3] for i in range(n)], "gender": "female", "age_group": "child",
        "subject_id": [f"s{i // per}" for i in range(n)], "dataset": "tiny"})
    manifest = Manifest(frame=frame, exclusions=pd.DataFrame(columns=list(EXCLUSION_COLUMNS)),
                        classes=CLASSES, name="tiny")
    return FaceSet(images=_images(n), landmarks=np.zeros((n, 5, 2), np.float32),
                   manifest=manifest, scores=np.ones(n, np.float32), size=SIDE)


def test_fine_tune_copies_and_subject_folds_are_disjoint(model):
    faces = _faceset()
    before = {k: v.clone() for k, v in model.module.state_dict().items()}
    config = FitConfig(epochs=1, lr=1e-2, batch_size=8)
    tuned, result = nh.fine_tune(model, faces.images, faces.manifest.frame["label"], config)
    assert len(result.history) == 1
    for k, v in model.module.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} changed in the original model"
    assert any(not torch.equal(v, before[k]) for k, v in tuned.module.state_dict().items())
    oof, folds = nh.subject_cv_predictions(model, faces, config, k=2)
    assert folds["n_test"].sum() == len(faces) and set(oof) <= set(CLASSES)
    assert (folds["subjects_train"] + folds["subjects_test"] == 4).all()
    with pytest.raises(ValueError, match="not among the model's outputs"):
        nh.fine_tune(model, faces.images[:2], ["angry", "disgust"], config)


def test_model_note_names_the_paper_model_and_contempt():
    standin = TorchClassifier(nn.Linear(1, 1), CLASSES, input_size=SIDE, info={
        "recipe": {"model": "standin", "n_images": 140, "epochs": 1}, "heldout_accuracy": 0.5,
        "n_heldout": 21, "seconds": 3.0, "cache": "hit"})
    text = nh.model_note(standin, "standin")
    assert "0.500" in text and "mobilenet_7.h5" in text and "never HSEmotion" in text
    hs = TorchClassifier(nn.Linear(1, 1), CLASSES, info={
        "source": "hsemotion", "name": "enet_b0_8_best", "class_note": "outputs ['contempt'] "
        "dropped"})
    assert "contempt" in nh.model_note(hs, "hsemotion:enet_b0_8_best")


def test_rates_figure_draws_cells_at_zero_and_full_accuracy():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    preds = pd.DataFrame({"dataset": ["A"] * 14 + ["B"] * 9,
                          "label": ["sad"] * 7 + ["angry"] * 7 + ["sad"] * 9,
                          "pred": ["happy"] * 7 + ["angry"] * 7 + ["sad"] * 9})
    acc = nh.accuracy_by(preds)  # 0/7, 7/7 and 9/9: Wilson bounds touch the estimate
    fig = nh.rates_figure(acc, "dataset")
    assert len(fig.axes) == 2
    plt.close(fig)


def test_lime_age_claims_without_shared_classes_are_inconclusive():
    import pandas as pd
    from emo_lib import noh2023 as nh
    maps = pd.DataFrame({"dataset": [nh.CAFE, nh.NIMH], "class": ["disgust", "fear"]})
    verdicts = nh.lime_age_claims(maps, pd.DataFrame(), n_perm=10)
    assert len(verdicts) == 4 and set(verdicts["verdict"]) == {INCONCLUSIVE}
