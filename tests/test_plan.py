"""emo-book plan (emo_lib.planning's registry; emo_lib.jeong2021.plan's provider): each paper-2
page's units as a function of its parameters, agreeing with what the page trains; done counts;
GPU hours; the CLI; how pages name their provider."""
import json

import jupytext
import nbformat
import numpy as np
import pytest

from emo_lib import jeong2021 as jg
from emo_lib import planning, runner
from emo_lib.notebook_parameters import literal
from emo_lib.jeong2021 import cells as cells_mod
from emo_lib.jeong2021 import plan
from emo_lib.jeong2021 import seeded as seeded_mod
from emo_lib.train import UnitResult, unit_store
from emo_lib.train.units import write_result
from tinybook import make_book


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EMO_EXECUTOR", raising=False)
    return tmp_path / "cache"


class Captured(Exception):
    pass


@pytest.fixture
def capture_units(monkeypatch):
    """run_cells' units (and run_cells_by_seed's, which the pages call), without training
    anything."""
    seen = []

    def fake(units, **kwargs):
        seen.append({u.id for u in units})
        raise Captured

    monkeypatch.setattr(cells_mod, "run_units", fake)
    monkeypatch.setattr(seeded_mod, "run_units", fake)
    return seen


def notebook_defaults(name):
    return {k: literal(v["default"]) for k, v in runner.declared_parameters(name).items()}


def units_the_page_trains(name, capture_units, **params):
    """Execute the page's own code cells (its source, at its defaults, ``params`` set after its
    parameters cell as papermill would) in this process until it hands its first units to
    run_units (captured, nothing trained): the ids of those units."""
    page = jupytext.read(runner.notebooks_dir() / "src" / f"{name}.py")
    namespace = {"__name__": "__main__"}
    for cell in page.cells:
        if cell.cell_type != "code":
            continue
        try:
            exec(compile(cell.source, f"{name}.py", "exec"), namespace)
        except Captured:
            return capture_units[-1]
        if "parameters" in cell.metadata.get("tags", []):
            namespace.update(params)
    pytest.fail(f"{name} ran to its end without handing units to run_units")


@pytest.fixture
def pretrained_ids(monkeypatch):
    """Synthetic-face weights identified without pretraining (as if cached)."""
    from emo_lib.models import face_pretraining

    ident = lambda model, pretraining=None: f"synthetic_faces:{model}-{pretraining}"  # noqa: E731
    monkeypatch.setattr(face_pretraining, "cached_source", ident)
    monkeypatch.setattr(cells_mod, "_weights_source",
                        lambda model, request: ident(model, json.loads(request).get(
                            "pretraining") or None))


def test_plan_counts_the_units_the_pages_train(cache, capture_units, pretrained_ids,
                                               tmp_path, monkeypatch):
    """Each page, its own code run at its defaults, hands run_units the units the plan names."""
    from emo_lib.jeong2021 import sizes

    monkeypatch.setenv("EMO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # prose that would build models (Fig. 5's sizes count every backbone; describing synthetic-
    # face weights pretrains them) is no unit's business
    monkeypatch.setattr(sizes, "_count", lambda model, n_classes, size: (1.0, 1.0))
    monkeypatch.setattr(jg, "describe_weights", lambda *args, **kwargs: "(not built here)")
    assert sorted(planning.plan_providers(runner.book_notebooks())) == sorted(plan.PAGES)
    params = {nb: notebook_defaults(nb) for nb in plan.PAGES}
    trained = [units_the_page_trains(nb, capture_units) for nb in plan.PAGES]
    planned = [plan.plan_page(nb, params[nb], rate=1000).unit_ids for nb in plan.PAGES]
    assert planned == trained
    # smoke defaults, 5 folds: the sweep's 4 rows x 2 models x 2 losses; Table 4's 9 trained
    # cells (its two post-hoc rows train nothing); Fig. 5's three sizes with the method and
    # the two baselines (the reference model's and the ResNet's)
    assert [len(ids) for ids in planned] == [80, 45, 25]
    assert len(planned[2] & planned[1]) == 10   # Fig. 5's B0 point and baseline are Table 4's
    assert len(planned[0] & planned[1]) == 10   # the no-augmentation baselines are the sweep's
    assert len(planned[0] & planned[2]) == 10   # Fig. 5's baselines are the sweep's focal cells
    # without the pretraining cached, the plan counts the same units by their settings
    monkeypatch = pytest.MonkeyPatch()
    from emo_lib.models import face_pretraining
    monkeypatch.setattr(face_pretraining, "cached_source", lambda *a, **k: None)
    try:
        later = plan.plan_page("jeong2021_balanced_augmentation",
                               params["jeong2021_balanced_augmentation"], rate=1000)
    finally:
        monkeypatch.undo()
    assert later.units == 45 and later.done is None
    assert "synthetic-face pretraining of mobilenet_v3_small not cached yet" in later.data_note
    # two training seeds: the page hands every seed's units at once, the ones the plan counts
    nb = "jeong2021_balanced_augmentation"
    both = units_the_page_trains(nb, capture_units, seeds=[0, 1])
    assert both == plan.plan_page(nb, {**params[nb], "seeds": [0, 1]}, rate=1000).unit_ids
    assert len(both) == 90 and planned[1] < both   # seed 0's units are the one-seed page's


def test_done_units_and_measured_gpu_hours(cache):
    params = {**notebook_defaults("jeong2021_augmentation_sweep"), "transforms": [],
              "models": ["mobilenet_v3_small"], "losses": ["focal"], "epochs": 4, "folds": 2,
              "weights": "random"}
    before = plan.plan_page("jeong2021_augmentation_sweep", params, rate=1000)
    assert before.done is None and "not drawn yet" in before.data_note and before.units == 2
    se, images, labels = jg.load_se30k8(params["se30k8_dataset"], scale=params["scale"],
                                        image_size=params["image_size"], seed=0)
    grid = plan.page_grid("jeong2021_augmentation_sweep", params)
    (units,) = jg.cell_units(grid.cells, labels, se.classes,
                             data_id=cells_mod.data_fingerprint(images, labels),
                             image_size=grid.image_size, **grid.training_options())
    # unit 0 done, trained on CUDA at 100 items/s (a record as a GPU run writes it)
    timing = {"device": "cuda", "model": grid.cells[0]["model"], "input_size": grid.image_size,
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
    assert n_val + fit.sum() + n_test == pytest.approx(len(labels), abs=1)  # rounded sizes


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
    # Table 4: 6 trained methods + 3 baselines beyond the paper (class-balanced focal, the
    # logit-adjusted loss, the cross-entropy baseline the post-hoc rows adjust) + the
    # Table-4-settings baseline
    assert [rows[nb][1:4] for nb in plan.PAGES] == [["66", "330", "?"], ["10", "50", "?"],
                                                    ["9", "45", "?"]]
    # Table 4's baselines are Table 3's and Table 2's cells, Fig. 5's B0 is Table 4's, ...
    assert "distinct units 395" in out
    assert "se30k8 not available here" in out and "rates file" in out
    assert "no training units:" in out and "noh2023_lime_age" in out


def test_plan_counts_every_training_seeds_units(cache, monkeypatch, capsys, tmp_path,
                                                pretrained_ids):
    """--seeds (or a profile's seeds) multiplies each page's units: one cross-validation per
    training seed, still shared across pages seed by seed; seed 0's are the one-seed plan's."""
    for var in ("SE30K8_ROOT", "CAFE_ROOT", "NIMH_CHEFS_ROOT"):
        monkeypatch.delenv(var, raising=False)
    assert runner.main(["plan", "--profile", "paper", "--seeds", "0,1,2"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.strip().startswith("jeong2021_") and ":" not in line}
    assert [rows[nb][1:3] for nb in plan.PAGES] == [["66", "990"], ["10", "150"], ["9", "135"]]
    assert "distinct units 1185" in out   # 3 x the one-seed plan's 395
    assert "seeds: claims computed per seed, [0, 1, 2]" in out
    nb = "jeong2021_balanced_augmentation"
    one = plan.plan_page(nb, notebook_defaults(nb), rate=1000)
    three = plan.plan_page(nb, {**notebook_defaults(nb), "seeds": [0, 1, 2]}, rate=1000)
    assert three.units == 3 * one.units and one.unit_ids < three.unit_ids
    assert three.gpu_hours == pytest.approx(3 * one.gpu_hours)


def test_paper_plan_never_downloads_and_names_the_missing_imagenet_files(
        cache, monkeypatch, capsys, tmp_path):
    import torch
    import torchvision

    from emo_lib.models import zoo

    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))

    def no_download(*args, **kwargs):
        raise AssertionError("a plan must not download weights")

    monkeypatch.setattr(torchvision.models.WeightsEnum, "get_state_dict", no_download)
    for var in ("SE30K8_ROOT", "CAFE_ROOT", "NIMH_CHEFS_ROOT"):
        monkeypatch.delenv(var, raising=False)
    assert runner.main(["plan", "--profile", "paper"]) == 0
    out = capsys.readouterr().out
    assert "ImageNet weights missing from torchvision's cache" in out
    assert str(hub) in out and zoo.imagenet_file("efficientnet_b5").name in out
    # a file in the cache is found without loading it
    path = zoo.imagenet_file("vgg16")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    assert zoo.cached_imagenet_source("vgg16") == str(
        torchvision.models.get_model_weights("vgg16").DEFAULT)
    assert jg.cells.known_weights_source("resnet50", "imagenet") is None
    assert zoo.imagenet_file("resnet18_narrow") is None


def test_pages_name_their_plan_provider_in_their_metadata(tmp_path, monkeypatch, capsys):
    """The runner finds a page's provider through the page's metadata and the registry alone."""
    book = make_book(tmp_path / "book", monkeypatch)
    monkeypatch.setenv("EMO_TEST_ROOT", str(tmp_path))
    path = book / "notebooks" / "alpha.ipynb"

    def declare(module):
        page = nbformat.read(path, as_version=4)
        page.metadata["emo_book"] = {"plan": module}
        nbformat.write(page, path)

    seen = {}

    def provider(notebook, params, **options):
        seen[notebook] = (params, options)
        return planning.PagePlan(notebook, cells=2, units=6, done=None, max_epochs=3,
                                 gpu_hours=0.5, basis="assumed", data_note="no data here",
                                 unit_ids={"u1", "u2", "u3"})

    declare("emo_lib.planning")      # a module of emo_lib that registers alpha (here: the test)
    monkeypatch.setitem(planning._PROVIDERS, "alpha", provider)
    assert planning.plan_providers(["alpha", "beta"]) == {"alpha": provider}
    assert runner.main(["plan", "--profile", "p", "-p", "alpha.rate=0.25"]) == 0
    out = capsys.readouterr().out
    params, options = seen["alpha"]
    assert (params["x"], params["rate"], params["tag"]) == (5, 0.25, None)  # profile, -p, default
    assert options["executor"] == "inline"
    assert "distinct units 3" in out and "no training units: beta" in out
    assert [line.split()[:4] for line in out.splitlines() if line.strip().startswith("alpha ")] \
        == [["alpha", "2", "6", "?"]]
    for module, why in (("os", "not a module of emo_lib"),
                        ("emo_lib.nowhere", "does not exist")):
        declare(module)
        with pytest.raises(planning.PlanError, match=why):
            planning.plan_provider("alpha")
    declare("emo_lib.stats")        # imported, but nothing registers alpha
    monkeypatch.delitem(planning._PROVIDERS, "alpha")
    with pytest.raises(planning.PlanError, match="emo_lib.stats, which registers no plan"):
        planning.plan_provider("alpha")
    assert runner.main(["plan", "--profile", "p"]) == 2      # the CLI says so, no traceback
    assert "registers no plan" in capsys.readouterr().err
