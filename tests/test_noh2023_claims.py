"""Every Noh & Lim claim rule on small frames built to fall on each side of it, and the
functions the LIME and training pages chain together (run_lime -> map_regions ->
map_stability; paired_changes -> stage_table / training_comparison -> training_claims)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from emo_lib import noh2023 as nh
from emo_lib import paper
from emo_lib.data.manifest import EXCLUSION_COLUMNS, Manifest
from emo_lib.explain import REGIONS
from emo_lib.faces import FaceSet
from emo_lib.metrics import accuracy_table
from emo_lib.models.base import TorchClassifier
from emo_lib.verdicts import INCONCLUSIVE, CONTRADICTED, PARTLY_SUPPORTED, SUPPORTED

SIDE = 32
CLASSES = ("angry", "happy", "sad")


# ------------------------------------------------------------------ additional training


def _changes(rows: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    """A paired_changes-shaped table: class -> (before, after, McNemar p)."""
    return pd.DataFrame([{"class": c, "n": 50, "before": b, "after": a, "change": a - b,
                          "fixed": 0, "broken": 0, "p_value": p}
                         for c, (b, a, p) in rows.items()]).set_index("class")


CAFE_UP = {"angry": (0.5, 0.95, 1e-4), "neutral": (0.45, 0.9, 1e-4), "sad": (0.5, 0.9, 1e-3),
           "happy": (0.9, 0.92, 0.6), "overall": (0.67, 0.92, 1e-9)}
NIMH_DOWN = {"angry": (0.83, 0.2, 1e-6), "sad": (0.8, 0.6, 0.01), "fear": (0.89, 0.93, 0.4),
             "overall": (0.86, 0.7, 1e-4)}


def test_training_claims_supported_when_every_rule_holds():
    v = nh.training_claims(_changes(CAFE_UP), _changes({"overall": (0.67, 0.8, 1e-3)}),
                           _changes(NIMH_DOWN))
    assert list(v.index) == ["cafe_gain", "cafe_named_gains", "gain_survives", "nimh_falls",
                             "nimh_angry_sad_drop"]
    assert (v["verdict"] == SUPPORTED).all(), v
    # the share that survives subject-disjoint evaluation is stated: 0.13 / 0.25 = 52 %
    assert "52% survives" in v.loc["gain_survives", "evidence"]
    # the named classes come from the paper's figures, not from this run
    assert "angry, neutral, sad" in v.loc["cafe_named_gains", "claim"]
    assert "angry, sad" in v.loc["nimh_angry_sad_drop", "claim"]


def test_training_claims_other_side_of_each_rule():
    weak = {c: (b, a, 0.3) for c, (b, a, _) in CAFE_UP.items()}          # right way, n.s.
    reverse = {c: (a, b, 1e-4) for c, (b, a, _) in NIMH_DOWN.items()}     # NIMH-ChEFS rises
    v = nh.training_claims(_changes(weak), None, _changes(reverse))
    assert "gain_survives" not in v.index                                 # no CV: not claimed
    assert v.loc["cafe_gain", "verdict"] == INCONCLUSIVE
    assert v.loc["cafe_named_gains", "verdict"] == INCONCLUSIVE
    assert v.loc["nimh_falls", "verdict"] == CONTRADICTED
    assert v.loc["nimh_angry_sad_drop", "verdict"] == CONTRADICTED
    partly = dict(CAFE_UP, sad=(0.5, 0.55, 0.4))                          # sad: n.s.
    v = nh.training_claims(_changes(partly), _changes({"overall": (0.67, 0.6, 0.01)}),
                           _changes(NIMH_DOWN))
    assert v.loc["cafe_named_gains", "verdict"] == PARTLY_SUPPORTED
    assert v.loc["gain_survives", "verdict"] == CONTRADICTED             # held-out accuracy fell
    mixed = dict(CAFE_UP, sad=(0.5, 0.4, 0.01))                           # sad falls, significantly
    v = nh.training_claims(_changes(mixed), None, _changes(NIMH_DOWN))
    assert v.loc["cafe_named_gains", "verdict"] == INCONCLUSIVE          # supported + contradicted


def test_stage_table_and_training_comparison():
    preds = pd.DataFrame({"label": ["angry"] * 4 + ["sad"] * 4,
                          "pred": ["angry", "sad", "sad", "sad", "sad", "angry", "angry", "sad"],
                          "tuned": ["angry"] * 4 + ["sad"] * 4})
    table = nh.stage_table(preds, {"before": "pred", "after": "tuned"})
    got = table.set_index(["stage", "class"])["accuracy"]
    assert got[("before", "angry")] == 0.25 and got[("before", "sad")] == 0.5
    assert got[("after", "overall")] == 1.0 and set(table["stage"]) == {"before", "after"}
    changes = {"after (paper protocol)": nh.paired_changes(preds, "pred", "tuned")}
    comp = nh.training_comparison(changes, "fig5")
    fig5 = paper.paper_value("noh2023.fig5_cafe_after_additional_training")
    assert comp.loc["angry", "paper before"] == fig5["before"]["angry"]
    assert comp.loc["angry", "run before"] == 0.25
    assert comp.loc["angry", "after (paper protocol) difference"] == \
        pytest.approx(1.0 - fig5["after"]["angry"])
    assert np.isnan(comp.loc["disgust", "paper after"])   # only in the paper's figure
    with pytest.raises(KeyError):
        nh.training_comparison(changes, "fig9")


# ------------------------------------------------------------------ gap tests


def test_gap_tests_put_the_papers_gap_beside_and_need_control_features():
    paper_acc = nh.paper_accuracy_table("gender")
    gaps = nh.gap_tests(paper_acc, "gender", "male", "female", paper_acc,
                        control_features=["dataset"])
    fear = gaps[(gaps["dataset"] == nh.CAFE) & (gaps["class"] == "fear")].iloc[0]
    assert fear["difference"] == pytest.approx(11 / 22 - 45 / 62)
    assert fear["paper difference"] == pytest.approx(fear["difference"])
    assert 0.05 < fear["p_value"] < 0.2   # the paper's fear gap is not significant
    with pytest.raises(ValueError, match="control_features"):
        nh.gap_tests(paper_acc, "gender", "male", "female")


# ------------------------------------------------------------------ LIME claims


def _shares(rng: np.random.Generator, conc: list[float]) -> dict[str, float]:
    return dict(zip(REGIONS, rng.dirichlet(conc)))


def _per_image(rng, shift_gender: bool, datasets=(nh.CAFE, nh.NIMH)) -> pd.DataFrame:
    rows = []
    for ds in datasets:
        for c in ("angry", "sad"):
            for g in nh.GENDERS:
                for _ in range(15):
                    conc = [8, 2, 2, 2] if (shift_gender and ds == nh.CAFE and g == "male") \
                        else [2, 2, 2, 8]
                    rows.append({"dataset": ds, "gender": g, "class": c, "path": "x",
                                 **_shares(rng, conc)})
    return pd.DataFrame(rows)


def test_lime_gender_claims_each_side():
    rng = np.random.default_rng(0)
    same, distances = nh.lime_gender_claims(_per_image(rng, False), n_perm=200)
    # no difference found is not evidence of none: inconclusive without an equivalence test
    assert (same["verdict"] == INCONCLUSIVE).all(), same
    assert set(distances["comparison"]) == {"male vs female", f"{nh.CAFE} vs {nh.NIMH}"}
    shifted, _ = nh.lime_gender_claims(_per_image(rng, True), n_perm=200)
    assert shifted.loc["cafe_no_gender_difference", "verdict"] == CONTRADICTED
    assert shifted.loc["nimh_chefs_no_gender_difference", "verdict"] == INCONCLUSIVE


def _maps(other_cafe: float, other_nimh: float) -> pd.DataFrame:
    rows = []
    for ds, other in ((nh.CAFE, other_cafe), (nh.NIMH, other_nimh)):
        for c in ("angry", "neutral", "sad"):
            rest = (1 - other) / 3
            mouth = rest * (0.2 if c == "neutral" else 1.0)
            rows.append({"dataset": ds, "class": c, "other": other, "eyes_brows": rest,
                         "glabella_nose": rest, "mouth": mouth, "area_eyes_brows": 0.1,
                         "area_glabella_nose": 0.05, "area_mouth": 0.05,
                         "enrichment_glabella_nose": rest / 0.05,
                         "enrichment_mouth": mouth / 0.05})
    return pd.DataFrame(rows)


def _per_image_other(rng, other_cafe: float, other_nimh: float) -> pd.DataFrame:
    rows = []
    for ds, other in ((nh.CAFE, other_cafe), (nh.NIMH, other_nimh)):
        for c in ("angry", "neutral", "sad"):
            for _ in range(12):
                o = float(np.clip(other + rng.normal(0, 0.03), 0, 1))
                rest = (1 - o) / 3
                rows.append({"dataset": ds, "class": c, "gender": "male", "path": "x",
                             "other": o, "eyes_brows": rest, "glabella_nose": rest,
                             "mouth": rest})
    return pd.DataFrame(rows)


def test_lime_age_claims_spread_rule_each_side():
    rng = np.random.default_rng(1)
    spread = nh.lime_age_claims(_maps(0.8, 0.4), _per_image_other(rng, 0.8, 0.4), n_perm=200)
    assert spread.loc["cafe_spread", "verdict"] == SUPPORTED
    assert spread.loc["nimh_upper_face", "verdict"] == SUPPORTED
    assert spread.loc["nimh_mouth_except_neutral", "verdict"] == SUPPORTED
    reverse = nh.lime_age_claims(_maps(0.4, 0.8), _per_image_other(rng, 0.4, 0.8), n_perm=200)
    assert reverse.loc["cafe_spread", "verdict"] == CONTRADICTED
    tie = nh.lime_age_claims(_maps(0.6, 0.6), _per_image_other(rng, 0.6, 0.6), n_perm=200)
    assert tie.loc["cafe_spread", "verdict"] in (CONTRADICTED, INCONCLUSIVE)


# ------------------------------------------------------------------ run_lime -> regions


@pytest.fixture()
def model() -> TorchClassifier:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                        nn.Flatten(), nn.Linear(16, len(CLASSES)))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(4.0)
    return TorchClassifier(net.eval(), CLASSES, input_size=SIDE)


def _faces(name: str, n: int, seed: int) -> FaceSet:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    images = np.stack([np.clip(np.stack([128 + 90 * np.sin((xx + 3 * k) / (3 + c))
                                         * np.cos(yy / (4 + k % 3)) for c in range(3)], -1)
                               + rng.normal(0, 6, (SIDE, SIDE, 3)), 0, 255).astype(np.uint8)
                       for k in range(n)])
    frame = pd.DataFrame({"path": [f"{name}{i}.png" for i in range(n)],
                          "label": [CLASSES[i % 3] for i in range(n)],
                          "gender": ["male", "female"] * (n // 2), "age_group": "child",
                          "subject_id": [f"s{i}" for i in range(n)], "dataset": name})
    manifest = Manifest(frame=frame, exclusions=pd.DataFrame(columns=list(EXCLUSION_COLUMNS)),
                        classes=CLASSES, name=name)
    # eyes at (10, 12) and (22, 12), nose (16, 18), mouth corners (12, 24) and (20, 24)
    lm = np.tile(np.array([[10, 12], [22, 12], [16, 18], [12, 24], [20, 24]], np.float32),
                 (n, 1, 1))
    return FaceSet(images=images, landmarks=lm, manifest=manifest,
                   scores=np.ones(n, np.float32), size=SIDE)


def test_run_lime_map_regions_and_stability(model, tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path))
    faces = {nh.CAFE: _faces("c", 12, 0), nh.NIMH: _faces("n", 12, 1)}
    preds = nh.predict_all(model, faces)
    preds["pred"] = preds["label"]          # every answer right: every image is eligible
    preds["correct"] = True
    lr = nh.run_lime(model, faces, preds, ["dataset"], ["angry", "sad"], images_per_class=2,
                     num_samples=30, num_features=3, batch_size=64, seed=0)
    assert len(lr.results) == 8 and set(lr.rows["label"]) == {"angry", "sad"}
    assert lr.counts["n_used"].tolist() == [2, 2, 2, 2]
    # each map averages its own two images' masks
    key = (nh.CAFE, "angry")
    used = lr.agg.used[key]
    np.testing.assert_allclose(lr.agg.heatmaps[key],
                               np.mean([lr.results[i].top_mask for i in used], axis=0))
    maps = nh.map_regions(lr)
    assert len(maps) == 4
    np.testing.assert_allclose(maps[list(REGIONS)].sum(axis=1), 1.0)
    for r in REGIONS:
        np.testing.assert_allclose(maps[f"enrichment_{r}"], maps[r] / maps[f"area_{r}"])
    per_image = nh.image_regions(lr)
    assert len(per_image) == 8 and set(per_image["dataset"]) == {nh.CAFE, nh.NIMH}
    same = nh.map_stability(model, lr, [5, 5], 2, num_samples=30, num_features=3,
                            batch_size=64)
    assert (same["mask_iou"] == 1.0).all()
    np.testing.assert_allclose(same["map_correlation"], 1.0)
    assert (same[[f"{r}_sd" for r in REGIONS]] == 0).all().all()
    other = nh.map_stability(model, lr, [0, 1, 2], 1, num_samples=30, num_features=3,
                             batch_size=64)
    assert other["mask_iou"].between(0, 1).all() and (other["n_seeds"] == 3).all()
    with pytest.raises(ValueError, match="two seeds"):
        nh.map_stability(model, lr, [0], 1, num_samples=30, num_features=3, batch_size=64)


def test_age_claims_rule_on_constructed_tables():
    def table(cafe: list[tuple[int, int]], nimh: list[tuple[int, int]]) -> pd.DataFrame:
        y_true, y_pred, ds = [], [], []
        for name, cells in ((nh.CAFE, cafe), (nh.NIMH, nimh)):
            for cls, (k, n) in zip(("angry", "happy", "sad"), cells):
                y_true += [cls] * n
                y_pred += [cls] * k + ["x"] * (n - k)
                ds += [name] * n
        return accuracy_table(y_true, y_pred, {"dataset": ds}, classes=["angry", "happy", "sad"])

    clear = nh.age_claims(table([(20, 60), (58, 60), (25, 60)], [(55, 60), (59, 60), (55, 60)]))
    assert (clear["verdict"] == SUPPORTED).all(), clear
    mixed = nh.age_claims(table([(20, 60), (58, 60), (57, 60)], [(55, 60), (59, 60), (55, 60)]))
    assert mixed.loc["shared_gaps_large", "verdict"] == PARTLY_SUPPORTED
    happy_big = nh.age_claims(table([(40, 60), (20, 60), (40, 60)],
                                    [(55, 60), (59, 60), (55, 60)]))
    assert happy_big.loc["happy_exception", "verdict"] == INCONCLUSIVE
