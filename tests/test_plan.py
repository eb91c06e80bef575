"""emo-book plan (emo_lib.jeong2021.plan): each paper-2 page's units as a function of its
parameters, agreeing with what the page trains; done counts; GPU hours; the CLI."""
import json

import numpy as np
import pytest

from emo_lib import jeong2021 as jg
from emo_lib import runner
from emo_lib.runner.notebooks import literal
from emo_lib.jeong2021 import cells as cells_mod
from emo_lib.jeong2021 import plan
from emo_lib.train import FitConfig, UnitResult, unit_store
from emo_lib.train.units import write_result


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EMO_EXECUTOR", raising=False)
    return tmp_path / "cache"


class Captured(Exception):
    pass


@pytest.fixture
def capture_units(monkeypatch):
    """run_cells' units, without training anything."""
    seen = []

    def fake(units, **kwargs):
        seen.append({u.id for u in units})
        raise Captured

    monkeypatch.setattr(cells_mod, "run_units", fake)
    return seen


def notebook_defaults(name):
    return {k: literal(v["default"]) for k, v in runner.declared_parameters(name).items()}


def test_run_page_and_plan_ask_for_the_units_the_notebooks_train(cache, capture_units):
    """The pages' calls as their notebooks make them today, against run_page and the plan."""
    params = {nb: notebook_defaults(nb) for nb in plan.PAGES}
    p = params["jeong2021_augmentation_sweep"]
    se, images, labels = jg.load_se30k8(p["se30k8_dataset"], p["se30k8_root"],
                                        p["se30k8_options"], scale=p["scale"],
                                        image_size=p["image_size"], seed=p["seed"])
    common = dict(seed=p["seed"], device="cpu", pretrained=p["pretrained"], progress=False)
    config = FitConfig(epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"])
    with pytest.raises(Captured):   # notebooks/src/jeong2021_augmentation_sweep.py
        jg.run_sweep(images, labels, se.classes, p["transforms"], p["models"], p["losses"],
                     folds=p["folds"], config=config, **common)
    for nb in ("jeong2021_balanced_augmentation", "jeong2021_model_scaling"):
        q = params[nb]
        n_min_used = jg.effective_n_min(q["n_min"], q["scale"], se.synthetic)
        config = FitConfig(epochs=q["epochs"], lr=q["lr"], batch_size=q["batch_size"],
                           patience=q["patience"])
        baseline = FitConfig(epochs=q["sweep_epochs"], lr=q["lr"], batch_size=q["batch_size"])
        with pytest.raises(Captured):
            if nb == "jeong2021_balanced_augmentation":
                jg.run_balanced(images, labels, se.classes, q["methods"], n_min=n_min_used,
                                selected_transforms=q["selected_transforms"], config=config,
                                baseline_config=baseline, folds=q["folds"], **common)
            else:
                jg.run_scaling(images, labels, se.classes, q["models"], q["reference_models"],
                               n_min=n_min_used, selected_transforms=q["selected_transforms"],
                               config=config, baseline_config=baseline, folds=q["folds"],
                               **common)
    notebooks = list(capture_units)
    for nb in plan.PAGES:
        with pytest.raises(Captured):
            jg.run_page(nb, params[nb], images, labels, se.classes)
    assert capture_units[3:] == notebooks
    planned = [plan.plan_page(nb, params[nb], rate=1000).unit_ids for nb in plan.PAGES]
    assert planned == notebooks
    assert [len(ids) for ids in planned] == [12, 12, 8]    # smoke defaults: cells x 2 folds


def test_done_units_and_measured_gpu_hours(cache):
    params = {**notebook_defaults("jeong2021_augmentation_sweep"), "transforms": [],
              "losses": ["focal"], "epochs": 4}
    before = plan.plan_page("jeong2021_augmentation_sweep", params, rate=1000)
    assert before.done is None and "not drawn yet" in before.data_note and before.units == 2
    se, images, labels = jg.load_se30k8(params["se30k8_dataset"], scale=params["scale"],
                                        image_size=params["image_size"], seed=0)
    grid = plan.page_grid("jeong2021_augmentation_sweep", params)
    (units,) = jg.cell_units(grid.cells, labels, se.classes,
                             data_id=cells_mod.data_fingerprint(images, labels),
                             image_size=grid.image_size, folds=grid.folds, config=grid.config,
                             seed=grid.seed)
    # unit 0 done, trained on CUDA at 100 items/s (a record as a GPU run writes it)
    timing = {"device": "cuda", "model": "efficientnet_b0", "input_size": grid.image_size,
              "epochs_run": 2, "epoch_seconds": [3.0, 3.0], "n_train_items": 270, "n_val": 90}
    write_result(unit_store(True), units[0].key, 0, units[0].spec,
                 UnitResult({"fold": 0}, {"test_index": np.arange(2), "y_true": np.arange(2),
                                          "logits": np.zeros((2, 8))}, timing))
    after = plan.plan_page("jeong2021_augmentation_sweep", params, rate=1000)
    assert after.done == 1 and after.units == 2 and after.unit_ids == {u.id for u in units}
    assert after.basis == "measured units"
    # the missing fold: epochs x (items + val / 3) + test / 3 at (270 + 30) * 2 / 6 = 100 img/s
    fit, n_val, n_test = plan._fold_sizes(np.bincount(labels), 2)
    work = 4 * (fit.sum() + n_val / 3) + n_test / 3
    assert after.gpu_hours == pytest.approx(work / 100 / 3600)
    assert n_val + fit.sum() + n_test == pytest.approx(len(labels))


def test_training_items_and_rates():
    fit = np.array([50.0, 10.0, 2.0])
    assert plan.training_items(jg.Recipe().to_spec(), fit) == 62
    assert plan.training_items(jg.sweep_recipe("rotation").to_spec(), fit) == 124
    assert plan.training_items(jg.Recipe("balanced", ("rotation",), 20).to_spec(), fit) == \
        62 + 10 + 18
    known = {("efficientnet_b0", 224): (1000.0, "rates file (model alone)")}
    assert plan.rate_for("efficientnet_b0", 224, known, 5.0) == known[("efficientnet_b0", 224)]
    r, basis = plan.rate_for("efficientnet_b0", 112, known, 5.0)
    assert basis.startswith("scaled by multiply-adds from B0") and r > 1000


def test_cli_plan_for_the_paper_profile(cache, monkeypatch, capsys, tmp_path):
    for var in ("SE30K8_ROOT", "CAFE_ROOT", "NIMH_CHEFS_ROOT"):
        monkeypatch.delenv(var, raising=False)
    rates = tmp_path / "rates.json"
    models = [f"efficientnet_b{i}" for i in range(6)] + ["resnet50", "vgg16"]
    rates.write_text(json.dumps({m: {"224": 1000.0} for m in models}))
    assert runner.main(["plan", "--profile", "paper", "--rates", str(rates)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.strip().startswith("jeong2021_") and ":" not in line}
    # Tables 2-3: 11 rows x 3 models x 2 losses; Table 4: 6 methods + the Table-4-settings
    # baseline; Fig. 5: B0-B5 + B0, VGG-16, ResNet-50 baselines; 5 folds each
    assert [rows[nb][1:4] for nb in plan.PAGES] == [["66", "330", "?"], ["7", "35", "?"],
                                                    ["9", "45", "?"]]
    assert "distinct units 385" in out    # Table 4's baseline is a Table 3 cell, and so on
    assert "se30k8 not available here" in out and "rates file" in out
    assert "no training units:" in out and "noh2023_lime_age" in out
