"""Jeong & Kim 2021 drivers (emo_lib.jeong2021) and the cross-validation cache
(emo_lib.train.cached_cross_validate): tiny arrays, a tiny registered network, 1 epoch."""
import numpy as np
import pandas as pd
import pytest

from emo_lib import jeong2021 as jg
from emo_lib import paper
from emo_lib.jeong2021 import sizes as sizes_mod
from emo_lib.train import crossval as crossval_mod
from emo_lib.models import register_model
from emo_lib.train import FitConfig, cached_cross_validate, cross_validate, stratified_folds
from toytrain import tiny_classifier, toy

CLASSES = ("happy", "sad", "fear")
CONFIG = FitConfig(epochs=1, lr=0.01, batch_size=8)


@register_model("test_tiny_net")
def _tiny(*, classes, input_size=32, device="cpu", pretrained=False, batch_size=64):
    return tiny_classifier(classes, input_size, device)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def fits(monkeypatch):
    """Count the models trained."""
    calls = []
    real = crossval_mod.fit

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(crossval_mod, "fit", spy)
    return calls


COMMON = dict(folds=2, config=CONFIG, seed=0, progress=False)


# --------------------------------------------------------------------------- the cache


def _cv(x, y, folds, **kw):
    kw = {"config": CONFIG, "seed": 3, "progress": False, **kw}
    return cached_cross_validate({"model": "tiny"}, lambda: _tiny(classes=CLASSES), x, y,
                                 folds, **kw)


def test_cache_matches_cross_validate_and_trains_once(cache, fits):
    x, y = toy()
    folds = stratified_folds(y, 2, seed=0)
    first = _cv(x, y, folds)
    assert len(fits) == 2 and not first["from_cache"].any()
    plain = cross_validate(lambda: _tiny(classes=CLASSES), x, y, folds, config=CONFIG, seed=3,
                           progress=False, keep_confusion=True)
    cols = ["fold", "accuracy", "macro_f1", "f1_happy", "f1_sad", "f1_fear", "n_train_items"]
    pd.testing.assert_frame_equal(first[cols], plain[cols], check_dtype=False)
    assert first["confusion"].tolist() == plain["confusion"].tolist()
    assert len(fits) == 4
    again = _cv(x, y, folds)
    assert len(fits) == 4 and again["from_cache"].all()   # nothing trained the second time
    pd.testing.assert_frame_equal(first.drop(columns="from_cache"),
                                  again.drop(columns="from_cache"), check_dtype=False)


def test_cache_key_covers_what_changes_the_result(cache, fits):
    x, y = toy()
    folds = stratified_folds(y, 2, seed=0)
    _cv(x, y, folds)
    _cv(x, y, folds, config=FitConfig(epochs=1, lr=0.02, batch_size=8))   # lr
    _cv(x, y, folds, seed=4)                                               # seed
    x2 = x.copy()
    x2[0, 0, 0, 0] ^= 1
    _cv(x2, y, folds)                                                      # one pixel
    _cv(x, y, stratified_folds(y, 2, seed=1))                              # other folds
    assert len(fits) == 10
    _cv(x, y, folds, config=FitConfig(epochs=1, lr=0.01, batch_size=8, num_workers=0))
    assert len(fits) == 10   # num_workers does not change a result: still cached


def test_cache_resumes_after_an_interrupted_fold_and_skips_a_corrupt_file(cache, fits, caplog):
    x, y = toy()
    folds = stratified_folds(y, 2, seed=0)
    _cv(x, y, folds)
    files = sorted(cache.rglob("fold*.json"))
    assert [f.name for f in files] == ["fold0.json", "fold1.json"]
    files[1].unlink()                       # as if the run died during fold 1
    resumed = _cv(x, y, folds)
    assert len(fits) == 3 and resumed["from_cache"].tolist() == [True, False]
    files[0].write_text("{not json")
    again = _cv(x, y, folds)
    assert len(fits) == 4 and again["from_cache"].tolist() == [False, True]
    assert "unreadable entry" in caplog.text


def test_cache_off_and_bad_spec(cache, fits):
    x, y = toy()
    folds = stratified_folds(y, 2, seed=0)
    _cv(x, y, folds, cache=False)
    _cv(x, y, folds, cache=False)
    assert len(fits) == 4 and not list(cache.rglob("*.json"))
    with pytest.raises(TypeError, match="plain JSON"):
        cached_cross_validate({"model": object()}, lambda: _tiny(classes=CLASSES), x, y, folds,
                              config=CONFIG, progress=False)


# --------------------------------------------------------------------------- recipes


def test_recipes_and_methods():
    y = np.array([0] * 10 + [1] * 4 + [2] * 2)
    assert jg.sweep_recipe(jg.NO_AUGMENTATION).make_items(0) is None
    items = jg.sweep_recipe("cutout").make_items(0)(y)
    assert len(items) == 32 and items[-1] == (15, "cutout")
    recipe, loss = jg.method_cell("proposed", n_min=8, selected_transforms=["rotation"])
    counts = np.bincount(y[[i for i, _ in recipe.make_items(0)(y)]])
    assert counts.tolist() == [10, 8, 8] and loss == "focal"
    assert jg.method_cell("baseline", n_min=8, selected_transforms=[]) == \
        (jg.sweep_recipe(jg.NO_AUGMENTATION), "focal")   # Table 4's baseline is Table 3's cell
    assert jg.method_cell("weighted_cross_entropy", n_min=8,
                          selected_transforms=[])[1] == "weighted_cross_entropy"
    sampler = jg.method_cell("class_balanced_sampling", n_min=8,
                             selected_transforms=[])[0].make_sampler(0)(y)
    assert len(list(sampler)) == len(y)
    with pytest.raises(ValueError, match="unknown method"):
        jg.method_cell("smote", n_min=8, selected_transforms=[])
    with pytest.raises(ValueError, match="n_min"):
        jg.Recipe("balanced", ("rotation",))
    with pytest.raises(ValueError, match="not among the choices"):
        jg.sweep_recipe("sharpen")
    assert jg.effective_n_min(1500, 0.02, synthetic=True) == 30
    assert jg.effective_n_min(1500, 0.02, synthetic=False) == 1500


# --------------------------------------------------------------------------- grids


def test_sweep_shares_cells_with_table4_and_fig5(cache, fits):
    x, y = toy()
    sweep = jg.run_sweep(x, y, CLASSES, ["cutout"], ["test_tiny_net"],
                         ["focal", "cross_entropy"], **COMMON)
    assert len(fits) == 2 * 2 * 2   # 2 transforms (with no augmentation) x 2 losses x 2 folds
    assert list(sweep.columns[:4]) == ["transform", "model", "loss", "fold"]
    assert {"accuracy", "macro_f1", "f1_fear", "confusion"} <= set(sweep.columns)
    assert sweep["transform"].unique().tolist() == [jg.NO_AUGMENTATION, "cutout"]
    balanced = jg.run_balanced(x, y, CLASSES, ["baseline", "proposed"], n_min=12,
                               selected_transforms=["rotation"], model="test_tiny_net",
                               **COMMON)
    assert len(fits) == 8 + 2        # the baseline came from the sweep's cache
    assert balanced.groupby("method")["from_cache"].all().to_dict() == \
        {"baseline": True, "proposed": False}
    base = jg.select(sweep, transform=jg.NO_AUGMENTATION, loss="focal")
    assert base["macro_f1"].tolist() == jg.select(balanced, method="baseline")["macro_f1"].tolist()
    scaling = jg.run_scaling(x, y, CLASSES, ["test_tiny_net"], reference_models=[],
                             gain_reference="test_tiny_net", n_min=12,
                             selected_transforms=["rotation"], **COMMON)
    assert len(fits) == 10           # proposed and baseline both cached
    assert list(zip(scaling["method"], scaling["model"]))[::2] == \
        [("proposed", "test_tiny_net"), ("baseline", "test_tiny_net")]


def test_balanced_baseline_with_sweep_settings_adds_a_row(cache, fits):
    x, y = toy()
    long = FitConfig(epochs=2, lr=0.01, batch_size=8, patience=1)
    df = jg.run_balanced(x, y, CLASSES, ["baseline", "weighted_cross_entropy"], n_min=12,
                         selected_transforms=["rotation"], model="test_tiny_net",
                         baseline_config=CONFIG, folds=2, config=long, seed=0, progress=False)
    assert df["method"].unique().tolist() == ["baseline", jg.BASELINE_TABLE4,
                                              "weighted_cross_entropy"]
    assert df.loc[df["method"] == "weighted_cross_entropy", "loss"].eq(
        "weighted_cross_entropy").all()
    table = jg.balanced_vs_paper(jg.with_collapse(df))
    assert table["method"].tolist() == ["baseline", jg.BASELINE_TABLE4,
                                        "weighted_cross_entropy"]
    assert table.loc[0, "paper F1"] == \
        paper.paper_value("jeong2021.table4_efficientnet_b0_focal.baseline")[1]
    assert np.isnan(table.loc[2, "paper F1"])
    assert table["learning folds"].str.endswith("of 2").all()


# --------------------------------------------------------------------------- tables, claims


def fake_results(cells, folds=(-0.01, 0.01), n_test=100):
    """Long results frame with given mean macro F1 / accuracy per cell, one row per offset in
    ``folds`` (learning folds of ``n_test`` images)."""
    rows = []
    for cell, (acc, f1) in cells.items():
        for fold, d in enumerate(folds):
            rows.append({**dict(cell), "fold": fold, "accuracy": acc + d, "macro_f1": f1 + d,
                         "n_test": n_test, "collapsed": False})
    return pd.DataFrame(rows)


def test_select_top_transforms_reports_the_papers_tie():
    names, ties = jg.select_top_transforms(jg.paper_sweep("focal"))
    # ranked by F1, the tie broken by the catalogue order: the paper's five
    assert names == ["random_crop", "random_width", "random_zoom", "rotation", "cutout"]
    assert sorted(names) == sorted(paper.paper_value("jeong2021.selected_transforms"))
    assert sorted(ties) == ["cutout", "random_contrast", "rotation"]
    names, ties = jg.select_top_transforms(jg.paper_sweep("cross_entropy"),
                                           loss="cross_entropy", k=1)
    assert names == ["random_height"]
    assert sorted(ties) == ["random_height", "random_width"]   # both 0.276
    run = fake_results({(("transform", t), ("model", "m"), ("loss", "focal")): (0.5, f)
                        for t, f in [("blur", 0.3), ("cutout", 0.2), ("rotation", 0.25)]})
    assert jg.select_top_transforms(run, model="m", k=2) == (["blur", "rotation"], [])
    # a collapsed fold does not count: blur's learning fold scores 0.29 + 0 -> still first
    run.loc[(run["transform"] == "rotation") & (run["fold"] == 1), "collapsed"] = True
    run.loc[(run["transform"] == "rotation") & (run["fold"] == 1), "macro_f1"] = 0.9
    assert jg.select_top_transforms(run, model="m", k=2)[0] == ["blur", "rotation"]
    with pytest.raises(ValueError, match="no sweep results"):
        jg.select_top_transforms(run, model="vgg16")


def test_sweep_vs_paper_layout():
    run = fake_results({(("transform", t), ("model", m), ("loss", "focal")): (0.5, 0.2)
                        for t in [jg.NO_AUGMENTATION, "cutout"]
                        for m in ["mobilenet_v3_small", "resnet50", "resnet18"]})
    table = jg.paper_table(run, "table3", reference_model="mobilenet_v3_small")
    assert table["transform"].tolist() == [jg.NO_AUGMENTATION] * 3 + ["cutout"] * 3
    assert table["model"].tolist()[:3] == ["MobileNetV3-Small", "ResNet-50", "ResNet-18"]
    cut = paper.paper_value("jeong2021.table3_focal.cutout")
    # the paper's own model gets its own number; the model in B0's role gets B0's; others none
    assert table.loc[3, "paper F1"] == cut["efficientnet_b0"][1]
    assert table.loc[4, "paper F1"] == cut["resnet50"][1]
    assert table.loc[4, "paper accuracy"] == cut["resnet50"][0]
    assert np.isnan(table.loc[5, "paper F1"])
    assert table.loc[3, "macro F1"] == pytest.approx(0.2)
    assert table.loc[3, "accuracy"] == pytest.approx(0.5)
    assert table.loc[3, "learning folds"] == "2 of 2"
    with pytest.raises(ValueError):
        jg.paper_table(run, "table2")


def test_relative_gain_and_paper_gain():
    rows = fake_results({(("method", "baseline"),): (0.5, 0.2),
                         (("method", "proposed"),): (0.5, 0.3)})
    g = jg.relative_gain(jg.select(rows, method="baseline"), jg.select(rows, method="proposed"))
    assert g["gain"] == pytest.approx(0.5) and g["folds_gained"] == 2 and g["folds"] == 2
    assert jg.paper_gain("proposed") == pytest.approx((0.325 - 0.249) / 0.249)
    with pytest.raises(ValueError, match="both cells"):
        jg.relative_gain(jg.select(rows, method="x"), rows)


def test_confusion_and_scaling_tables(cache):
    x, y = toy()
    df = jg.with_collapse(jg.run_scaling(
        x, y, CLASSES, ["test_tiny_net"], reference_models=["test_tiny_net"],
        gain_reference=None, n_min=12, selected_transforms=["rotation"], **COMMON), CLASSES)
    cm = jg.confusion_sum(df, model="test_tiny_net", method="proposed")
    assert cm.shape == (3, 3) and cm.sum() == len(y)
    sizes = pd.DataFrame({"params_m": [0.1]}, index=pd.Index(["test_tiny_net"], name="model"))
    table = jg.paper_table(df, "fig5", sizes=sizes)
    assert table.index.tolist() == [("test_tiny_net", "proposed"), ("test_tiny_net", "baseline")]
    assert table["paper_macro_f1"].isna().all()   # the paper has no such model
    assert table.loc[("test_tiny_net", "proposed"), "params_m"] == 0.1
    shown = jg.scaling_display(table)
    assert list(shown.columns[:3]) == ["model", "method", "learning folds"]
    fig = jg.scaling_figure(table.dropna(subset=["params_m"]))
    assert len(fig.axes) == 2
    assert len(jg.confusion_figure({"a": cm, "b": cm}, CLASSES).axes) == 2
    fig = jg.confusion_figure({"a": cm}, CLASSES, order=["fear", "happy", "sad"])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["fear", "happy", "sad"]
    assert jg.classes_by_frequency(np.array([2, 2, 1, 0, 2, 1]), CLASSES) == \
        ["fear", "sad", "happy"]
    fig = jg.fold_figure(df, ["model", "method"])
    points = [c for ax in fig.axes for c in ax.collections]
    assert sum(len(c.get_offsets()) for c in points) == len(df)   # every fold is drawn


def test_model_sizes_small_and_reference(cache):
    sizes_mod._count.cache_clear()   # counted afresh, so the disk cache is written here
    sizes = jg.model_sizes(["efficientnet_b0"], n_classes=8, input_size=32, reference=False)
    assert len(list(cache.rglob("efficientnet_b0-8-32-*.json"))) == 1
    assert sizes.loc["efficientnet_b0", "params_m"] == pytest.approx(4.02, abs=0.02)
    assert 0 < sizes.loc["efficientnet_b0", "flops_b"] < 0.39 * (32 / 224) ** 2 * 1.5
    assert jg.reference_input_size("efficientnet_b5") == 456


def test_load_se30k8_drops_empty_classes(caplog):
    from emo_lib.data.manifest import Manifest

    frame = pd.DataFrame({"label": ["happy", "sad", "happy"]})
    m = Manifest(frame=frame, exclusions=pd.DataFrame(), classes=("happy", "fear", "sad"),
                 name="t")
    y, classes = jg.label_indices(m)
    assert classes == ("happy", "sad") and y.tolist() == [0, 1, 0]
    assert "fear" in caplog.text


def test_scaling_trend():
    idx = pd.MultiIndex.from_tuples([("b0", "proposed"), ("b1", "proposed"), ("b2", "proposed"),
                                     ("r", "baseline")], names=["model", "method"])
    table = pd.DataFrame({"params_m": [4, 6, 8, 20], "macro_f1": [0.2, 0.25, 0.24, 0.9]},
                         index=idx)
    t = jg.scaling_trend(table)
    assert t["models"] == ["b0", "b1", "b2"] and not t["monotone"]
    assert t["rho"] == pytest.approx(0.5)
    flat = jg.scaling_trend(table.assign(macro_f1=0.1))
    assert np.isnan(flat["rho"]) and flat["monotone"]


# --------------------------------------------------------------------------- training seeds


def _balanced_params(**over):
    """Table 4's page parameters at their defaults, shrunk to the toy problem (tiny net, 2
    folds, 1 epoch; ``over`` replaces any)."""
    from emo_lib import runner
    from emo_lib.notebook_parameters import literal

    params = {k: literal(v["default"]) for k, v in
              runner.declared_parameters("jeong2021_balanced_augmentation").items()}
    params.update(reference_model="test_tiny_net", methods=["baseline", "proposed"],
                  selected_transforms=["rotation"], weights="random", finetune_blocks=None,
                  n_min=12, scale=1.0, folds=2, epochs=1, sweep_epochs=1, batch_size=8,
                  lr=0.01, patience=None)
    params.update(over)
    return params


def _unit_ids(grid, y, seed=None):
    return [u.id for units in jg.cell_units(grid.cells, y, CLASSES, data_id="toy", image_size=32,
                                            **grid.training_options(seed)) for u in units]


def test_seed_0_units_are_the_units_without_seeds_and_seeds_are_training_seeds():
    _, y = toy()
    params = _balanced_params()
    assert params["seeds"] == [0] and params["seed"] == 0   # the page's defaults
    before = {k: v for k, v in params.items() if k != "seeds"}   # a page without `seeds`
    old = jg.page_grid("jeong2021_balanced_augmentation", before)
    assert old.training_seeds == [0]
    new = jg.page_grid("jeong2021_balanced_augmentation", {**params, "seeds": [0, 1]})
    assert new.training_seeds == [0, 1]
    # as the page keyed its units before it had seeds: cell_units with seed 0
    today = [u.id for units in jg.cell_units(old.cells, y, CLASSES, data_id="toy",
                                             image_size=32, folds=2, config=old.config,
                                             seed=0, weights="random") for u in units]
    assert _unit_ids(old, y) == today
    assert _unit_ids(new, y, 0) == today == _unit_ids(new, y)   # the first seed is seed 0
    assert set(_unit_ids(new, y, 1)).isdisjoint(today)          # seed 1: other units
    # `seed` stays the data's draw: it does not seed the training when `seeds` is given
    drawn = jg.page_grid("jeong2021_balanced_augmentation", {**params, "seed": 3})
    assert drawn.data["seed"] == 3 and drawn.training_options()["seed"] == 0
    with pytest.raises(ValueError, match="repeats"):
        jg.page_grid("jeong2021_balanced_augmentation", {**params, "seeds": [1, 1]})


def test_two_training_seeds_train_once_each_and_give_two_claim_tables(cache, fits, tmp_path,
                                                                       monkeypatch):
    from emo_lib.book.report import Run
    from emo_lib.seeds import BY_SEED_COLUMNS
    from emo_lib.verdicts import PAPER_VERDICT

    monkeypatch.setenv("EMO_RESULTS", str(tmp_path / "results"))
    x, y = toy()
    nb = "jeong2021_balanced_augmentation"
    params = _balanced_params(seeds=[0, 1])
    by_seed = jg.run_page_by_seed(nb, params, x, y, CLASSES)
    assert list(by_seed) == [0, 1]
    assert len(fits) == 2 * 2 * 2   # (baseline, proposed) x 2 folds x 2 seeds, in one batch
    first, second = by_seed[0], by_seed[1]
    assert not first["from_cache"].any() and not second["from_cache"].any()
    assert set(first["unit_key"]).isdisjoint(second["unit_key"])
    # seed 0's frame is the one the page gave with one seed (same units, read from the cache)
    alone = jg.run_page(nb, _balanced_params(), x, y, CLASSES)
    assert len(fits) == 8 and alone["from_cache"].all()
    cols = ["method", "model", "loss", "fold", "unit_key", "accuracy", "macro_f1"]
    pd.testing.assert_frame_equal(alone[cols], first[cols])
    # ... and the one the page trained before it had seeds (run_cells with seed 0)
    grid = jg.page_grid(nb, params)
    plain = jg.run_cells(grid.cells, x, y, CLASSES, **grid.training_options(0), progress=False)
    pd.testing.assert_frame_equal(plain[cols], first[cols])
    # the page's claims once per seed: two tables, a claims_by_seed.csv row per claim and seed
    only = ["proposed_gain_b0", "accuracy_kept"]
    tables = jg.claims_by_seed({s: jg.with_collapse(r, CLASSES) for s, r in by_seed.items()},
                               "balanced", reference_model="test_tiny_net", only=only)
    assert list(tables) == [0, 1] and all(list(t.index) == only for t in tables.values())
    assert all(PAPER_VERDICT in t.columns for t in tables.values())   # the paper's beside
    run = Run(nb, params={"device": "cpu", "seed": 0, "seeds": [0, 1]})
    claims = run.claims(tables, jg.rules_markdown(*jg.RULE_KINDS, alpha=0.05))
    long = pd.read_csv(run.out / "claims_by_seed.csv")
    assert list(long.columns) == list(BY_SEED_COLUMNS)
    assert sorted(zip(long["claim_id"], long["seed"])) == \
        sorted((c, s) for c in only for s in (0, 1))
    assert claims["stability"].str.match(r"(stable|varies): ").all()
    with pytest.raises(ValueError, match="grid must be"):
        jg.claims_by_seed(tables, "table4", only=only)
