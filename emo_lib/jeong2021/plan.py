"""Paper 2's pages as grids of training units, before anything runs: each page's cells as a pure
function of its parameters (:func:`page_grid`, which :func:`run_page_by_seed` trains once per
training seed, so a page and ``emo-book plan`` agree by construction), how many of its units
are already done, and the GPU hours the missing ones need (:func:`plan_page`, every training
seed's units counted; registered for ``emo-book plan`` with
:func:`emo_lib.planning.register_plan`; each page's source names this module in its metadata).

GPU hours: per unit, epochs x (training items + a third of the validation images, whose
forward pass costs about a third of a training step) at a training rate in images per second.
The rate is *measured* when the cache holds units trained on CUDA (their recorded epoch times,
per model and input size), else taken from a rates file (model-alone rates per model and size,
``benchmarks/train_throughput.py --rates-json``, which ``benchmarks/gpu_check.sh`` runs), else
``rate`` (EfficientNet-B0 at 224 px), else the stated assumption :data:`ASSUMED_B0_RATE`;
a model without a rate of its own is scaled from B0's by multiply-adds, which flatters
EfficientNets (depthwise convolutions use a GPU far less efficiently than VGG-16's or
ResNet-50's dense ones), so those hours are an overestimate for VGG-16 and ResNet-50. Early
stopping is not predicted: the hours are an upper bound for pages with ``patience``.

What it does not do: load or decode images (it reads manifests only when the data are already
there and never draws a synthetic set), or train.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..planning import PagePlan, register_plan
from ..train import FitConfig
from ..train.crossval import u8_data_id
from ..train.executors import ExecutorSettings, resolve_executor
from ..train.units import is_done, unit_store
from .cells import (
    add_posthoc, balanced_cells, cell_units, known_weights_source, scaling_cells, sweep_cells,
    unit_device,
)
from .data import effective_n_min, label_indices
from .names import table4_methods
from .seeded import run_cells_by_seed, training_seeds

#: The pages whose cells are training units.
PAGES: tuple[str, ...] = ("jeong2021_augmentation_sweep", "jeong2021_balanced_augmentation",
                          "jeong2021_model_scaling")

#: Assumed when nothing was measured: EfficientNet-B0 trains at this many images per second at
#: 224 px (AMP, channels_last, resident data, one current datacenter GPU). An assumption, not
#: a measurement: run benchmarks/gpu_check.sh on the target GPU and pass its figure as ``rate``.
ASSUMED_B0_RATE = 1500.0

#: A validation forward pass costs about this fraction of a training step per image.
VALIDATION_COST = 1.0 / 3.0


@dataclass
class PageGrid:
    """A page's training grid: its ``cells`` and everything :func:`run_cells` needs besides
    the data, plus where the data come from (``data``: dataset, root, options, scale, seed,
    image_size). ``seed``: the data's draw; ``seeds``: the training seeds (empty: ``[seed]``),
    each a cross-validation of every cell (:mod:`.seeded`)."""

    notebook: str
    cells: list[dict[str, Any]]
    folds: int
    config: FitConfig
    seed: int
    image_size: int
    device: str
    weights: str
    pretraining: dict[str, Any] = field(default_factory=dict)
    finetune_blocks: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)

    @property
    def training_seeds(self) -> list[int]:
        """The training seeds, the first the one whose figures the page shows."""
        return list(self.seeds) or [self.seed]

    def training_options(self, seed: int | None = None) -> dict[str, Any]:
        """The :func:`run_cells` / :func:`cell_units` keywords besides the data, for training
        seed ``seed`` (default: the first training seed)."""
        return dict(folds=self.folds, config=self.config,
                    seed=self.training_seeds[0] if seed is None else int(seed),
                    weights=self.weights, pretraining=self.pretraining or None,
                    finetune_blocks=self.finetune_blocks)


def _need(params: Mapping[str, Any], notebook: str, names: Sequence[str]) -> list[Any]:
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"{notebook}: parameters {missing} are missing; the page declares "
                         "them (pass the notebook's defaults merged with the profile's)")
    return [params[n] for n in names]


def page_grid(notebook: str, params: Mapping[str, Any]) -> PageGrid:
    """The training grid of paper-2 page ``notebook`` (one of :data:`PAGES`) for these
    parameters (the page's parameter cell: its defaults merged with the profile's)."""
    if notebook not in PAGES:
        raise ValueError(f"{notebook!r} has no training units; pages with units: {list(PAGES)}")
    names = ("se30k8_dataset", "se30k8_root", "se30k8_options", "scale", "image_size",
             "folds", "epochs", "batch_size", "lr", "weights", "pretraining", "finetune_blocks",
             "seed", "device")
    common = dict(zip(names, _need(params, notebook, names)))
    synthetic = str(common["se30k8_dataset"]).startswith("synthetic:")
    if notebook == "jeong2021_augmentation_sweep":
        transforms, models, losses = _need(params, notebook, ("transforms", "models", "losses"))
        config = FitConfig(epochs=common["epochs"], lr=common["lr"],
                           batch_size=common["batch_size"])
        cells = sweep_cells(transforms, models, losses)
    else:
        n_min, patience, sweep_epochs, selected, reference = _need(
            params, notebook, ("n_min", "patience", "sweep_epochs", "selected_transforms",
                               "reference_model"))
        n_min_used = effective_n_min(n_min, common["scale"], synthetic)
        config = FitConfig(epochs=common["epochs"], lr=common["lr"],
                           batch_size=common["batch_size"], patience=patience)
        baseline = FitConfig(epochs=sweep_epochs, lr=common["lr"],
                             batch_size=common["batch_size"])
        if notebook == "jeong2021_balanced_augmentation":
            (methods,) = _need(params, notebook, ("methods",))
            cells = balanced_cells(table4_methods(methods), n_min=n_min_used,
                                   selected_transforms=selected, model=reference, config=config,
                                   baseline_config=baseline)
        else:
            models, references = _need(params, notebook, ("models", "reference_models"))
            cells = scaling_cells(models, references, n_min=n_min_used,
                                  selected_transforms=selected, config=config,
                                  baseline_config=baseline, gain_reference=reference)
    return PageGrid(notebook, cells, int(common["folds"]), config, int(common["seed"]),
                    int(common["image_size"]), str(common["device"]), str(common["weights"]),
                    dict(common["pretraining"] or {}), common["finetune_blocks"],
                    data={"dataset": common["se30k8_dataset"], "root": common["se30k8_root"],
                          "options": common["se30k8_options"], "scale": common["scale"],
                          "seed": common["seed"], "image_size": common["image_size"]},
                    seeds=training_seeds(params))


def run_page(notebook: str, params: Mapping[str, Any], images: np.ndarray, labels: np.ndarray,
             classes: Sequence[str], **overrides: Any) -> pd.DataFrame:
    """Train (or read) page ``notebook``'s grid for these parameters with its first training
    seed only (:func:`run_page_by_seed` trains them all). ``overrides``: :func:`run_cells`
    keywords (``progress``, ``executor``, ``device``...)."""
    first = training_seeds(params)[0]
    return run_page_by_seed(notebook, {**params, "seeds": [first]}, images, labels, classes,
                            **overrides)[first]


def run_page_by_seed(notebook: str, params: Mapping[str, Any], images: np.ndarray,
                     labels: np.ndarray, classes: Sequence[str], **overrides: Any
                     ) -> dict[int, pd.DataFrame]:
    """Train (or read) page ``notebook``'s grid once per training seed (``seeds``, else
    ``[seed]``): exactly the units :func:`plan_page` counts, every seed's handed to the
    executor together (:func:`emo_lib.jeong2021.seeded.run_cells_by_seed`). Returns ``{seed:
    results}`` in the order of the seeds, Table 4's with its post-hoc rows.
    ``overrides``: :func:`run_cells` keywords (``progress``, ``executor``, ``device``...)."""
    grid = page_grid(notebook, params)
    kwargs = dict(grid.training_options(), device=grid.device,
                  progress=bool(params.get("progress", False)))
    kwargs.update(overrides)
    kwargs.pop("seed", None)   # the grid's training seeds decide
    by_seed = run_cells_by_seed(grid.cells, images, labels, classes, seeds=grid.training_seeds,
                                **kwargs)
    if notebook != "jeong2021_balanced_augmentation":
        return by_seed
    return {s: add_posthoc(results, table4_methods(params["methods"]), labels, classes,
                           tau=params.get("tau", 1.0), cache=kwargs.get("cache", True))
            for s, results in by_seed.items()}


# ------------------------------------------------------------------------------ the data

@dataclass
class DataProbe:
    """What the plan knows about a page's data without decoding it: per-class ``counts``;
    ``labels``, ``classes`` and ``data_id`` when the data are there (else None), and a note."""

    counts: np.ndarray
    labels: np.ndarray | None
    classes: tuple[str, ...] | None
    data_id: str | None
    note: str


def probe_data(data: Mapping[str, Any]) -> DataProbe:
    """The data of a :class:`PageGrid`, read as far as it can be without drawing or decoding:
    a synthetic set already drawn, or real data whose folder exists, give exact unit keys
    (their images are hashed for real data); otherwise the class counts come from the
    generator's plan (synthetic) or the paper's class profile (real data, approximate)."""
    from ..data import DatasetNotFound, check_available
    from ..data.images import image_cache_key
    from ..data.synthetic import presets
    from ..storage import cache_dir
    from .data import content_key, se30k8_manifest

    name, size = str(data["dataset"]), int(data["image_size"])
    if name.startswith("synthetic:"):
        preset = name.split(":", 1)[1]
        opts = presets._options(preset, data["seed"], size, data["scale"], None)
        folder = cache_dir("synthetic") / f"{preset}-{presets.cache_key(preset, opts)}"
        if not (folder / "manifest.csv").is_file():
            counts = np.array(list(presets.se30k8_counts(float(data["scale"])).values()))
            return DataProbe(counts, None, None, None,
                             f"{name} not drawn yet (counts from its generator's plan)")
    else:
        try:
            check_available(name, data["root"] or None)
        except (DatasetNotFound, ValueError) as err:
            counts = np.array(list(presets.se30k8_counts(1.0).values()))
            return DataProbe(counts, None, None, None,
                             f"{name} not available here ({type(err).__name__}); counts from "
                             "the paper's class profile (approximate)")
    manifest = se30k8_manifest(name, data["root"], data["options"], scale=data["scale"],
                               image_size=size, seed=data["seed"])
    labels, classes = label_indices(manifest)
    content = content_key(manifest)
    key = image_cache_key(manifest.frame["path"].tolist(), size, content_key=content)
    return DataProbe(np.bincount(labels, minlength=len(classes)), labels, classes,
                     u8_data_id(key, labels), f"{name}: {len(labels)} images")


# ------------------------------------------------------------------------------ the estimate

def _fold_sizes(counts: np.ndarray, folds: int, val_fraction: float = 0.1
                ) -> tuple[np.ndarray, int, int]:
    """Approximate per-class fit counts, validation and test images of one fold."""
    n = int(counts.sum())
    train = counts * (folds - 1) / folds
    n_val = max(len(counts), int(round(val_fraction * train.sum())))
    fit = train * (1 - n_val / train.sum())
    return fit, n_val, n - int(round(train.sum()))


def training_items(recipe: Mapping[str, Any], fit_counts: np.ndarray) -> float:
    """Training items of one fold under a recipe spec (:meth:`Recipe.to_spec`)."""
    n_fit = float(fit_counts.sum())
    if recipe["items"] == "simple":
        return 2 * n_fit
    if recipe["items"] == "balanced":
        return n_fit + float(np.clip(int(recipe["n_min"]) - fit_counts, 0, None).sum())
    return n_fit


def measured_rates(store: Any) -> dict[tuple[str, int], float]:
    """Training images per second per (model, input size), from units trained on CUDA (the
    median over their records)."""
    rates: dict[tuple[str, int], list[float]] = {}
    if store is None or not store.root.is_dir():
        return {}
    for path in store.root.glob("*/fold*.json"):
        record = store.read_json(path)
        timing = (record or {}).get("timing") or {}
        seconds = sum(timing.get("epoch_seconds") or [])
        if timing.get("device") != "cuda" or seconds <= 0:
            continue
        work = (timing["n_train_items"] + VALIDATION_COST * timing.get("n_val", 0)) \
            * timing["epochs_run"]
        rates.setdefault((timing["model"], int(timing["input_size"])), []).append(work / seconds)
    return {k: float(np.median(v)) for k, v in rates.items()}


def _macs(model: str, size: int) -> float:
    from .sizes import _count

    return _count(model, 8, size)[1]


def rate_for(model: str, size: int, known: Mapping[tuple[str, int], tuple[float, str]],
             b0_rate: float) -> tuple[float, str]:
    """(images/s, basis) for ``model`` at ``size``: known (measured units or a rates file),
    else scaled by multiply-adds from a known B0 (any size) or from ``b0_rate`` at 224 px."""
    if (model, size) in known:
        return known[(model, size)]
    b0 = [(s, r, basis) for (m, s), (r, basis) in known.items() if m == "efficientnet_b0"]
    if b0:
        s, r, basis = b0[0]
        return (r * _macs("efficientnet_b0", s) / _macs(model, size),
                f"scaled by multiply-adds from B0 ({basis})")
    return (b0_rate * _macs("efficientnet_b0", 224) / _macs(model, size),
            "scaled by multiply-adds from the B0 rate")


def known_rates(store: Any, rates: Mapping[str, Mapping[str, float]] | None
                ) -> dict[tuple[str, int], tuple[float, str]]:
    """Rates per (model, size): a rates file ({model: {size: img/s}}, as
    ``benchmarks/train_throughput.py --rates-json`` writes it: model alone), overridden by
    units this cache holds that were trained on CUDA."""
    known = {(m, int(size)): (float(r), "rates file (model alone)")
             for m, by_size in (rates or {}).items() for size, r in by_size.items()}
    known.update({k: (r, "measured units") for k, r in measured_rates(store).items()})
    return known


@register_plan(*PAGES)
def plan_page(notebook: str, params: Mapping[str, Any], *,
              executor: str | ExecutorSettings | None = None, rate: float | None = None,
              rates: Mapping[str, Mapping[str, float]] | None = None,
              cache: Any = True) -> PagePlan:
    """One page's plan (see the module docstring). ``rate``: B0 images/s at 224 px;
    ``rates``: {model: {size: images/s}} (see :func:`known_rates`)."""
    grid = page_grid(notebook, params)
    settings = resolve_executor(executor)
    probe = probe_data(grid.data)
    store = unit_store(cache)
    b0_rate = float(rate) if rate else ASSUMED_B0_RATE
    known = known_rates(store, rates)
    # a unit's key holds its initial weights' exact id: without a pretraining cached yet (a
    # plan never pretrains), units are identified by their settings, as without data
    unready = sorted({c["model"] for c in grid.cells
                      if known_weights_source(c["model"], grid.weights,
                                              grid.pretraining or None) is None})
    note = probe.note + (f"; {missing_weights_note(unready, grid.weights)}" if unready else "")
    seeds = grid.training_seeds
    if probe.labels is not None and not unready:
        per_seed = {s: cell_units(grid.cells, probe.labels, probe.classes,
                                  data_id=probe.data_id, image_size=grid.image_size,
                                  device=unit_device(grid.device, settings),
                                  **grid.training_options(s))
                    for s in seeds}
        units = [u for per_cell in per_seed.values() for us in per_cell for u in us]
        ids = {u.id for u in units}
        done_ids = {u.id for u in units if store is not None and is_done(store, u.key, u.fold)}
    else:   # no data (or weights) here: identify units by their settings (dedupes pages)
        per_seed, done_ids = None, set()
        ids = {_settings_id(grid, cell, f, s) for s in seeds for cell in grid.cells
               for f in range(grid.folds)}
    fit_counts, n_val, n_test = _fold_sizes(probe.counts, grid.folds)
    hours, bases, seen = 0.0, set(), set()
    for c, cell in enumerate(grid.cells):
        cfg = cell.get("config") or grid.config
        items = training_items(cell["recipe"].to_spec(), fit_counts)
        r, basis = rate_for(cell["model"], grid.image_size, known, b0_rate)
        bases.add(basis)
        for s in seeds:
            for f in range(grid.folds):
                uid = (per_seed[s][c][f].id if per_seed is not None
                       else _settings_id(grid, cell, f, s))
                if uid in done_ids or uid in seen:
                    continue
                seen.add(uid)
                work = cfg.epochs * (items + VALIDATION_COST * n_val) + VALIDATION_COST * n_test
                hours += work / r / 3600
    if any(b.endswith("from the B0 rate") for b in bases):
        assumed = (f"ASSUMED, not measured: B0 trains at {b0_rate:g} img/s at 224 px"
                   if not rate else f"given: B0 trains at {b0_rate:g} img/s at 224 px")
        bases = {f"{b} ({assumed})" if b.endswith("from the B0 rate") else b for b in bases}
    return PagePlan(notebook, len(grid.cells), len(ids),
                    len(done_ids) if per_seed is not None else None,
                    max((c.get("config") or grid.config).epochs for c in grid.cells),
                    hours, "; ".join(sorted(bases)), note, ids)


def missing_weights_note(models: Sequence[str], weights: str) -> str:
    """What a plan lacks to key its units exactly: the synthetic-face pretraining of
    ``models`` (not cached yet), or their ImageNet weights (not in torchvision's cache, named
    with the files expected there: nothing is downloaded)."""
    if weights != "imagenet":
        return f"synthetic-face pretraining of {', '.join(models)} not cached yet"
    import torch

    from ..models.zoo import imagenet_file

    files = [f"{m} ({imagenet_file(m).name})" if imagenet_file(m) else m for m in models]
    return (f"ImageNet weights missing from torchvision's cache {torch.hub.get_dir()}/"
            f"checkpoints: {', '.join(files)} (not downloaded by a plan; put them there, or "
            "set $TORCH_HOME)")


def _settings_id(grid: PageGrid, cell: Mapping[str, Any], fold: int, seed: int) -> str:
    """A unit's id from its settings (``seed``: the training seed; the data's draw is in
    ``grid.data``)."""
    cfg = cell.get("config") or grid.config
    blob = repr((grid.data, cell["model"], cell["recipe"].to_spec(), cell["loss"], cfg,
                 int(seed), grid.folds, grid.weights, sorted(grid.pretraining.items()),
                 grid.finetune_blocks, fold))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


__all__ = ["ASSUMED_B0_RATE", "DataProbe", "PAGES", "PageGrid", "known_rates",
           "measured_rates", "missing_weights_note",
           "page_grid", "plan_page", "probe_data", "rate_for", "run_page", "run_page_by_seed",
           "training_items"]
