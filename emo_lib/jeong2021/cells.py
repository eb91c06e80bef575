"""Jeong & Kim's grids as *cells*: a model, a training recipe (which items each fold trains on),
a loss; each fold of each cell a training unit (:mod:`emo_lib.train.units`, kind
``"jeong2021.fold"``), content-addressed, so a cell two pages share (Table 3's "no
augmentation, EfficientNet-B0, focal" is Table 4's baseline; Table 4's "proposed" is Fig. 5's
B0 point) is trained once when their settings agree, and a page's units can be computed by any
executor (:mod:`emo_lib.train.executors`: inline, local processes, SLURM arrays).

A unit's recipe is plain JSON (model name, input size and initial weights with their
pretraining budget, classes, training items, loss, device, data id, folds, FitConfig with the
frozen blocks, seed...); :func:`train_fold_unit` rebuilds the model, items, loss and sampler
from it in whatever process computes it. The cells of each page
are pure functions of its parameters (:func:`sweep_cells`, :func:`balanced_cells`,
:func:`scaling_cells`), so ``emo-book plan`` counts exactly the units the page asks for.

Results are long frames, one row per (cell, fold): the cell's labels, ``model``, ``loss``,
``fold``, ``accuracy``, ``macro_f1``, ``f1_<class>``..., ``confusion``, ``n_test``,
``unit_key`` (where the fold's test logits are kept), ``from_cache``. Table 4's post-hoc rows
(logit adjustment of a trained cell's stored logits, no training) are added by
:func:`run_balanced` (:mod:`.posthoc`). The per-fold collapse rule and the statistics across
folds are :mod:`.foldstats`; the paper-shaped tables, :mod:`.tables`.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

import torch

from ..augment import TRANSFORMS, validate_names
from ..balance import balanced_items, class_balanced_sampler, simple_augmentation_items
from ..device import resolve_device
from ..losses import LOSS_NAMES, loss_settings, make_loss
from ..train import FitConfig, stratified_folds
from ..train.crossval import (
    config_from_spec, cv_cache_spec, data_fingerprint, folds_fingerprint, train_fold,
)
from ..train.executors import ExecutorSettings, resolve_executor, run_units
from ..train.units import Unit, UnitResult, open_array, row_of, unit_kind
from .names import (
    BASELINE_TABLE4, EXTRA_METHODS, METHODS, NO_AUGMENTATION, PAPER_METHODS, POSTHOC_METHODS,
    POSTHOC_SOURCES,
)

#: Initial weights a page can ask for (``weights`` parameter): see
#: :mod:`emo_lib.models.zoo` (``"imagenet"`` is the paper's; ``"synthetic_faces"`` the smoke
#: default's offline stand-in for it).
WEIGHTS_CHOICES: tuple[str, ...] = ("random", "imagenet", "synthetic_faces")


@dataclass(frozen=True)
class Recipe:
    """How each fold's training set is drawn.

    ``items``: ``"original"`` (every training image once), ``"simple"`` (Tables 2-3: every image
    once more, transformed by ``transforms[0]``) or ``"balanced"`` (Algorithm 1: classes below
    ``n_min`` over-sampled, each copy transformed by one of ``transforms``, none: plain
    over-sampling). ``sampler``: None (shuffle) or ``"class_balanced"``.
    """

    items: str = "original"
    transforms: tuple[str, ...] = ()
    n_min: int | None = None
    sampler: str | None = None

    def __post_init__(self) -> None:
        if self.items not in ("original", "simple", "balanced"):
            raise ValueError(f"items must be 'original', 'simple' or 'balanced', got "
                             f"{self.items!r}")
        validate_names(list(self.transforms))
        if self.items == "simple" and len(self.transforms) != 1:
            raise ValueError(f"a simple augmentation takes one transform, got {self.transforms}")
        if self.items == "balanced" and (self.n_min is None or self.n_min < 1):
            raise ValueError(f"a balanced recipe needs n_min >= 1, got {self.n_min}")
        if self.sampler not in (None, "class_balanced"):
            raise ValueError(f"sampler must be None or 'class_balanced', got {self.sampler!r}")

    def to_spec(self) -> dict[str, Any]:
        """Plain-JSON description (part of the cache key); :meth:`from_spec` rebuilds it."""
        return {"items": self.items, "transforms": list(self.transforms),
                "n_min": self.n_min, "sampler": self.sampler}

    spec = to_spec  # the name earlier code used

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "Recipe":
        """The recipe :meth:`to_spec` describes (ValueError naming unknown or bad fields)."""
        allowed = {"items", "transforms", "n_min", "sampler"}
        if not isinstance(spec, Mapping) or set(spec) - allowed:
            raise ValueError(f"a recipe spec is a mapping of {sorted(allowed)}, got {spec!r}")
        n_min = spec.get("n_min")
        return cls(items=spec.get("items", "original"),
                   transforms=tuple(spec.get("transforms") or ()),
                   n_min=None if n_min is None else int(n_min), sampler=spec.get("sampler"))

    def make_items(self, seed: int) -> Callable[[np.ndarray], list] | None:
        if self.items == "original":
            return None
        if self.items == "simple":
            (name,) = self.transforms
            return lambda y: simple_augmentation_items(y, name)
        names, n_min = list(self.transforms), int(self.n_min)  # type: ignore[arg-type]
        return lambda y: balanced_items(y, n_min, names, seed)

    def make_sampler(self, seed: int) -> Callable[[np.ndarray], Any] | None:
        if self.sampler == "class_balanced":
            return lambda item_labels: class_balanced_sampler(item_labels, seed)
        return None


def sweep_recipe(transform: str) -> Recipe:
    """Tables 2-3's row ``transform`` (``NO_AUGMENTATION``: the originals only)."""
    if transform == NO_AUGMENTATION:
        return Recipe()
    return Recipe("simple", (transform,))


def method_cell(method: str, *, n_min: int, selected_transforms: Sequence[str],
                loss: str = "focal") -> tuple[Recipe, str]:
    """(recipe, loss) of a trained Table 4 row, as its :data:`METHODS` entry says
    (:data:`BASELINE_TABLE4`: the baseline's)."""
    spec = METHODS["baseline"] if method == BASELINE_TABLE4 else METHODS.get(method)
    if spec is not None and spec.posthoc_of is None:
        if spec.over_sample is None:
            return Recipe(sampler=spec.sampler), spec.loss or loss
        copies = {"none": (), "all": TRANSFORMS,
                  "selected": validate_names(list(selected_transforms))}[spec.over_sample]
        return Recipe("balanced", tuple(copies), n_min, spec.sampler), spec.loss or loss
    raise ValueError(f"unknown method {method!r}; choose from "
                     f"{list(PAPER_METHODS + EXTRA_METHODS + (BASELINE_TABLE4,))} "
                     f"(post-hoc rows {list(POSTHOC_METHODS)} are computed, not trained)")


def method_recipes(methods: Sequence[str], *, n_min: int, selected_transforms: Sequence[str]
                   ) -> dict[str, dict[str, Any]]:
    """Each Table 4 method's training-items recipe (:meth:`Recipe.to_spec`); a post-hoc method
    has its source cell's (for ``fold_scores.csv``'s augmentation column)."""
    out = {}
    for m in dict.fromkeys(methods):
        source = POSTHOC_SOURCES.get(m, m)
        recipe, _ = method_cell(source, n_min=n_min, selected_transforms=selected_transforms)
        out[m] = recipe.to_spec()
    return out


def loss_spec(name: str) -> dict[str, Any]:
    """Plain-JSON description of a loss (part of the cache key): its name and every setting
    :func:`emo_lib.losses.make_loss` takes besides the class counts (the defaults: the
    paper's focal alpha and gamma, Menon et al.'s tau, Cui et al.'s beta)."""
    if name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {name!r}; choose one of {LOSS_NAMES}")
    return loss_settings(name)


def loss_from_spec(spec: Mapping[str, Any], class_counts: np.ndarray) -> Any:
    """The loss :func:`loss_spec` describes, for training items with these class counts."""
    settings = {k: v for k, v in spec.items() if k != "name"}
    return make_loss(spec["name"], class_counts, **settings)


def initial_weights(weights: str | bool, pretraining: Mapping[str, Any] | None = None
                    ) -> dict[str, Any]:
    """A page's ``weights`` parameter (and the ``pretraining`` budget of ``synthetic_faces``)
    as the plain-JSON request a unit's recipe stores. ``True``/``False`` (an older
    ``pretrained`` flag) mean ``"imagenet"``/``"random"``."""
    if isinstance(weights, bool):
        weights = "imagenet" if weights else "random"
    if weights not in WEIGHTS_CHOICES:
        raise ValueError(f"unknown weights {weights!r}; choose one of {WEIGHTS_CHOICES}")
    if weights != "synthetic_faces":
        if pretraining:
            raise ValueError(f"a pretraining budget applies to weights='synthetic_faces', not "
                             f"{weights!r}; got pretraining={dict(pretraining)!r}")
        return {"weights": weights}
    return {"weights": weights, "pretraining": dict(pretraining or {})}


def weights_source(model: str, weights: str | bool = "random",
                   pretraining: Mapping[str, Any] | None = None) -> str:
    """Where ``model``'s initial weights come from, exactly: ``"random"``, the ImageNet weights
    that were actually loaded (a run whose ImageNet weights could not be had is ``"random"``,
    never keyed as a transfer-learning run), or ``"synthetic_faces:<cache key>"`` (the key
    hashes the whole pretraining recipe; the first call pretrains, once per machine)."""
    request = initial_weights(weights, pretraining)
    return _weights_source(model, json.dumps(request, sort_keys=True))


@lru_cache(maxsize=None)
def _weights_source(model: str, request_json: str) -> str:
    request = json.loads(request_json)
    if request["weights"] == "random":
        return "random"
    built = _build_initial(model, request, classes=("a", "b"), input_size=224, device="cpu")
    return str(built.info.get("weights")) if built.info.get("pretrained") else "random"


def _build_initial(model: str, request: Mapping[str, Any], **options: Any) -> Any:
    from ..models import load_model

    if request["weights"] == "synthetic_faces":
        return load_model(model, weights="synthetic_faces",
                          pretraining=request.get("pretraining") or None, **options)
    # random / ImageNet through ``pretrained``, which every registered network takes
    return load_model(model, pretrained=request["weights"] == "imagenet", **options)


def known_weights_source(model: str, weights: str | bool = "random",
                         pretraining: Mapping[str, Any] | None = None) -> str | None:
    """:func:`weights_source` without pretraining or downloading anything: None when the
    synthetic-face pretraining of ``model`` is not cached yet, or its ImageNet weights are not
    in torchvision's cache (``emo-book plan`` then identifies units by their settings and says
    what is missing)."""
    request = initial_weights(weights, pretraining)
    if request["weights"] == "imagenet":
        # never a download: the file in torchvision's cache, or None (what is missing)
        from ..models.zoo import BACKBONE_NAMES, cached_imagenet_source

        return cached_imagenet_source(model) if model in BACKBONE_NAMES else \
            weights_source(model, weights, pretraining)
    if request["weights"] != "synthetic_faces":
        return weights_source(model, weights, pretraining)
    from ..models.face_pretraining import cached_source

    return cached_source(model, request.get("pretraining") or None)


def describe_weights(models: Sequence[str], weights: str | bool,
                     pretraining: Mapping[str, Any] | None = None, n_classes: int = 8) -> str:
    """What each model started from, for a page (``n_classes``: the new head's outputs)."""
    parts = []
    for m in dict.fromkeys(models):
        source = weights_source(m, weights, pretraining)
        if source == "random":
            what = "random weights (trained from scratch, not the paper's transfer learning)"
        elif source.startswith("synthetic_faces:"):
            info = _build_initial(m, initial_weights(weights, pretraining),
                                  classes=tuple(f"c{i}" for i in range(n_classes)),
                                  input_size=224, device="cpu").info
            what = info.get("initialisation", source)
        else:
            what = f"ImageNet weights ({source})"
        parts.append(f"`{m}`: {what}")
    return "; ".join(parts)


def frozen_prefixes(model: str, finetune_blocks: int | None) -> tuple[str, ...]:
    """The parameter prefixes to freeze so that only the last ``finetune_blocks`` feature
    blocks of ``model`` (and its head) are trained (None: nothing frozen, the paper's full
    fine-tuning). Blocks as :func:`emo_lib.models.zoo.feature_blocks` counts them; a model
    outside the zoo (the tests' small nets) has nothing to freeze."""
    if finetune_blocks is None:
        return ()
    from ..models.zoo import BACKBONE_NAMES, feature_blocks, freeze_prefixes

    if isinstance(finetune_blocks, bool) or not isinstance(finetune_blocks, int) \
            or finetune_blocks < 0:
        raise ValueError(f"finetune_blocks must be None (train everything) or an integer >= "
                         f"0, got {finetune_blocks!r}")
    if model not in BACKBONE_NAMES:
        return ()
    n_blocks = len(feature_blocks(model))
    return freeze_prefixes(model, max(0, n_blocks - finetune_blocks))


def cell_config(cell: Mapping[str, Any], config: FitConfig, finetune_blocks: int | None
                ) -> FitConfig:
    """The FitConfig a cell trains with: its own (``cell["config"]``) or ``config``, with the
    early blocks of its model frozen (:func:`frozen_prefixes`); part of every unit's key."""
    cfg = cell.get("config") or config
    freeze = frozen_prefixes(cell["model"], finetune_blocks)
    # Frozen blocks run in evaluation mode, their activations computed once per item
    # (:mod:`emo_lib.train.trunk`): the CPU economy that comes with freezing; the paper's full
    # fine-tuning (finetune_blocks None) freezes nothing and trains the whole network.
    return dataclasses.replace(cfg, freeze=freeze, frozen_features=True) if freeze else cfg


def unit_device(device: str, executor: ExecutorSettings) -> str:
    """The device a unit trains on, as its recipe records it: this machine's resolution of
    ``device`` (``cuda`` falls back to the CPU with a warning), except on SLURM, whose workers
    have the GPUs this process may lack: there ``cuda``/``auto`` with GPUs per job mean cuda."""
    if executor.kind == "slurm":
        wants = device.startswith("cuda") or (device == "auto" and bool(executor.gpus_per_job))
        return "cuda" if wants else resolve_device("cpu").type
    return resolve_device(device).type


def cell_spec(cell: Mapping[str, Any], classes: Sequence[str], image_size: int, device: str,
              weights: str | bool = "random", pretraining: Mapping[str, Any] | None = None
              ) -> dict[str, Any]:
    """What a cell trains, in plain JSON (part of each of its units' keys): the model with its
    initial weights (``weights``: the exact source; ``init``: how to rebuild them, the
    synthetic-face pretraining budget included), classes, recipe, loss, device."""
    from ..models.families import input_size_for

    model = cell["model"]
    # a compound-scaled model takes its own resolution (the images resized up to it)
    return {"model": {"name": model, "input_size": input_size_for(model, int(image_size)),
                      "weights": weights_source(model, weights, pretraining),
                      "init": initial_weights(weights, pretraining)},
            "classes": list(classes), "recipe": cell["recipe"].to_spec(),
            "loss": loss_spec(cell["loss"]), "device": device}


def cell_units(cells: Sequence[Mapping[str, Any]], labels: np.ndarray, classes: Sequence[str], *,
               data_id: str, image_size: int, folds: int = 5, config: FitConfig = FitConfig(),
               seed: int = 0, device: str = "cpu", weights: str | bool = "random",
               pretraining: Mapping[str, Any] | None = None, finetune_blocks: int | None = None,
               val_fraction: float = 0.1) -> list[list[Unit]]:
    """The training units of each cell (one per fold), a pure function of the arguments: the
    same cells, labels and settings give the same unit keys in a page and in ``emo-book plan``.
    ``device``: as the recipe records it (:func:`unit_device`); ``weights``, ``pretraining``:
    the models' initial weights (:func:`initial_weights`); ``finetune_blocks``: how many of
    each model's last feature blocks are trained (None: all; :func:`cell_config`)."""
    y = np.asarray(labels)
    split = stratified_folds(y, folds, seed)
    scheme = {"scheme": "stratified", "k": int(folds), "seed": int(seed)}
    out = []
    for cell in cells:
        cfg = cell_config(cell, config, finetune_blocks)
        full = cv_cache_spec(cell_spec(cell, classes, image_size, device, weights, pretraining),
                             data_id=data_id, folds=split, config=cfg, seed=seed,
                             val_fraction=val_fraction)
        label = " / ".join(str(v) for k, v in cell.items() if k not in ("recipe", "config"))
        out.append([Unit(UNIT_KIND, full, f, inputs={"folds": scheme}, label=label)
                    for f in range(len(split))])
    return out


#: The unit kind of one fold of one cell (registered with :func:`emo_lib.train.units.unit_kind`).
UNIT_KIND = "jeong2021.fold"


@unit_kind(UNIT_KIND)
def train_fold_unit(unit: Unit, *, arrays: Mapping[str, np.ndarray] | None = None,
                    progress: bool = False) -> UnitResult:
    """Compute one ``"jeong2021.fold"`` unit from its recipe alone: memory-map the images and
    labels its ``inputs`` name (or take ``arrays``), redraw the folds and check their
    fingerprint, rebuild the model (checking its initial weights), the training items, the
    loss and the sampler, and train fold ``unit.fold`` exactly as
    :func:`emo_lib.train.cross_validate` does."""
    spec, cell = unit.spec, unit.spec["spec"]
    arrays = dict(arrays or {})
    images = arrays["images"] if "images" in arrays else open_array(unit.inputs["images"])
    labels = np.asarray(arrays["labels"] if "labels" in arrays
                        else open_array(unit.inputs["labels"]), dtype=np.int64)
    scheme = unit.inputs.get("folds") or {}
    if scheme.get("scheme") != "stratified":
        raise ValueError(f"unit inputs name folds {scheme!r}; only {{'scheme': 'stratified', "
                         "'k': K, 'seed': S}} can be redrawn")
    split = stratified_folds(labels, int(scheme["k"]), int(scheme["seed"]))
    if folds_fingerprint(split) != spec["folds"] or len(split) != spec["n_folds"]:
        raise ValueError("the folds redrawn from the unit's inputs do not match its recipe's "
                         "fingerprint: the labels or fold scheme differ from the page's")
    if cell["device"] == "cuda" and not torch.cuda.is_available():
        raise ValueError("the unit's recipe trains on cuda, but this worker has no GPU (give "
                         "SLURM jobs --gpus, or run with device cpu)")
    weights = cell["model"]["weights"]
    request = cell["model"].get("init") or {
        "weights": "random" if weights == "random" else "imagenet"}
    classes = tuple(cell["classes"])

    def build() -> Any:
        model = _build_initial(cell["model"]["name"], request, classes=classes,
                               input_size=int(cell["model"]["input_size"]),
                               device=cell["device"])
        got = str(model.info.get("weights")) if model.info.get("pretrained") else "random"
        if got != weights:
            raise ValueError(f"{cell['model']['name']}: the recipe starts from {weights!r}, "
                             f"this worker built {got!r} (ImageNet: are the weights in its "
                             "torchvision cache, $TORCH_HOME? synthetic_faces: is its "
                             "$EMO_CACHE the page's?)")
        return model

    recipe = Recipe.from_spec(cell["recipe"])
    seed = int(spec["seed"])
    train_idx, test_idx = split[unit.fold]
    return train_fold(build, images, labels, train_idx, test_idx, unit.fold,
                      make_train_items=recipe.make_items(seed),
                      loss_factory=lambda counts: loss_from_spec(cell["loss"], counts),
                      config=config_from_spec(spec["config"]), seed=seed,
                      val_fraction=float(spec["val_fraction"]), progress=progress,
                      make_sampler=recipe.make_sampler(seed), keep_confusion=True)


def run_cells(cells: Sequence[Mapping[str, Any]], images: np.ndarray, labels: np.ndarray,
              classes: Sequence[str], *, folds: int = 5, config: FitConfig = FitConfig(),
              seed: int = 0, device: str = "cpu", weights: str | bool = "random",
              pretraining: Mapping[str, Any] | None = None, finetune_blocks: int | None = None,
              cache: bool | str = True, progress: bool = True,
              data_id: str | None = None,
              executor: str | ExecutorSettings | None = None) -> pd.DataFrame:
    """Cross-validate every cell on the same ``folds`` stratified folds (seeded by ``seed``).

    A cell is a mapping with ``model`` (a registered model name), ``recipe`` (:class:`Recipe`),
    ``loss`` (a :data:`emo_lib.losses.LOSS_NAMES` name), optionally ``config`` (a FitConfig
    replacing ``config`` for that cell), and any other keys, which become label columns.
    Models are built at the images' size with a ``len(classes)``-way head, from ``weights``
    (``pretraining``: the synthetic-face budget), training their last ``finetune_blocks``
    feature blocks (None: all; see :func:`cell_units`).

    Every fold of every cell is a training unit; the units already done are read, the missing
    ones computed together by ``executor`` (None: ``$EMO_EXECUTOR``, default inline; or
    ``"inline"``/``"local"``/``"slurm"`` or :class:`~emo_lib.train.ExecutorSettings`), so with
    several workers cells and folds run side by side. A failing unit does not stop the others;
    :class:`~emo_lib.train.UnitsFailed` then lists what failed, with recipe and log.
    """
    y = np.asarray(labels)
    classes = tuple(classes)
    settings = resolve_executor(executor)
    data_id = data_id or data_fingerprint(images, y)
    per_cell = cell_units(cells, y, classes, data_id=data_id, image_size=int(images.shape[1]),
                          folds=folds, config=config, seed=seed,
                          device=unit_device(device, settings), weights=weights,
                          pretraining=pretraining, finetune_blocks=finetune_blocks)
    run = run_units([u for units in per_cell for u in units], executor=settings,
                    cache=None if cache is False else cache,
                    arrays={"images": images, "labels": y.astype(np.int64)}, progress=progress)
    run.raise_failures()
    return cell_frames(cells, per_cell, run.records, set(run.computed))


def cell_frames(cells: Sequence[Mapping[str, Any]], per_cell: Sequence[Sequence[Unit]],
                records: Mapping[str, Any], fresh: set[str]) -> pd.DataFrame:
    """The long results frame of ``cells`` (one row per fold, the cell's label columns first)
    from their units' ``records``; ``fresh``: the unit ids computed now, each marked computed
    once (a second identical cell reads what the first computed) and removed from the set."""
    frames = []
    for cell, units in zip(cells, per_cell):
        rows = []
        for unit in units:
            row = row_of(records[unit.id])
            row["fold"] = unit.fold
            row["unit_key"] = unit.key
            row["from_cache"] = unit.id not in fresh
            fresh.discard(unit.id)
            rows.append(row)
        df = pd.DataFrame(rows)
        tags = {k: v for k, v in cell.items() if k not in ("model", "recipe", "loss", "config")}
        head = pd.DataFrame({**tags, "model": cell["model"], "loss": cell["loss"]},
                            index=df.index)
        frames.append(pd.concat([head, df], axis=1))
    return pd.concat(frames, ignore_index=True)


def _sweep_rows(transforms: Sequence[str]) -> list[str]:
    rows = [t for t in transforms if t != NO_AUGMENTATION]
    validate_names(rows)
    return [NO_AUGMENTATION, *dict.fromkeys(rows)]


def sweep_cells(transforms: Sequence[str], models: Sequence[str],
                losses: Sequence[str]) -> list[dict[str, Any]]:
    """Tables 2-3's cells: every (transform, model, loss), the ``no_augmentation`` row always
    included."""
    return [{"transform": t, "model": m, "loss": loss, "recipe": sweep_recipe(t)}
            for loss in losses for m in models for t in _sweep_rows(transforms)]


def run_sweep(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
              transforms: Sequence[str], models: Sequence[str], losses: Sequence[str],
              **common: Any) -> pd.DataFrame:
    """Tables 2-3: every (transform, model, loss), each transform applied once to every
    training image; the ``no_augmentation`` row is always included. ``common``: the keyword
    arguments of :func:`run_cells`. Columns: transform, model, loss, fold, metrics..."""
    return run_cells(sweep_cells(transforms, models, losses), images, labels, classes, **common)


def balanced_cells(methods: Sequence[str] = PAPER_METHODS + EXTRA_METHODS, *, n_min: int,
                   selected_transforms: Sequence[str], model: str = "efficientnet_b0",
                   loss: str = "focal", config: FitConfig = FitConfig(),
                   baseline_config: FitConfig | None = None) -> list[dict[str, Any]]:
    """Table 4's trained cells (see :func:`run_balanced`): one per trained method, plus the
    cell each post-hoc method (:data:`POSTHOC_METHODS`) adjusts when ``methods`` lacks it.
    The no-augmentation baselines (focal and cross entropy) train with ``baseline_config``,
    like Tables 2-3's cells, so the pages share them."""
    methods = list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in
               PAPER_METHODS + EXTRA_METHODS + (BASELINE_TABLE4,)]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from "
                         f"{list(PAPER_METHODS + EXTRA_METHODS)}")
    trained = [m for m in methods if m not in POSTHOC_METHODS]
    for m in methods:
        if m in POSTHOC_METHODS and POSTHOC_SOURCES[m] not in trained:
            trained.append(POSTHOC_SOURCES[m])
    if baseline_config is not None and baseline_config != config and "baseline" in trained:
        trained.insert(trained.index("baseline") + 1, BASELINE_TABLE4)
    cells = []
    for method in trained:
        recipe, method_loss = method_cell(method, n_min=n_min,
                                          selected_transforms=selected_transforms, loss=loss)
        sweep_like = method in ("baseline", "baseline_cross_entropy")
        cfg = baseline_config if sweep_like and baseline_config else config
        cells.append({"method": method, "model": model, "loss": method_loss, "recipe": recipe,
                      "config": cfg})
    return cells


def run_balanced(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                 methods: Sequence[str] = PAPER_METHODS + EXTRA_METHODS, *, n_min: int,
                 selected_transforms: Sequence[str], model: str = "efficientnet_b0",
                 loss: str = "focal", config: FitConfig = FitConfig(),
                 baseline_config: FitConfig | None = None, tau: float = 1.0,
                 **common: Any) -> pd.DataFrame:
    """Table 4: each method (``PAPER_METHODS``, ``EXTRA_METHODS``) with ``model`` and ``loss``.

    ``baseline_config`` trains the no-augmentation baselines with other settings than the rest
    (the paper's baseline repeats Table 3's cell, trained with the sweep's settings); when it
    differs from ``config`` a row ``baseline_table4_settings`` (the baseline with ``config``)
    is added, so the table also has a baseline trained like the other rows. The post-hoc rows
    (:data:`POSTHOC_METHODS`) adjust their source cell's stored test logits with temperature
    ``tau`` (:func:`emo_lib.jeong2021.posthoc.posthoc_rows`); nothing is trained for them.
    Columns: method, model, loss, fold, metrics...
    """
    cells = balanced_cells(methods, n_min=n_min, selected_transforms=selected_transforms,
                           model=model, loss=loss, config=config,
                           baseline_config=baseline_config)
    results = run_cells(cells, images, labels, classes, config=config, **common)
    return add_posthoc(results, methods, labels, classes, tau=tau,
                       cache=common.get("cache", True))


def add_posthoc(results: pd.DataFrame, methods: Sequence[str], labels: np.ndarray,
                classes: Sequence[str], *, tau: float = 1.0, cache: Any = True
                ) -> pd.DataFrame:
    """Table 4's trained rows with the post-hoc rows ``methods`` names
    (:data:`POSTHOC_METHODS`, each from its source cell's stored test logits, temperature
    ``tau``) added, rows in the order of ``methods`` (source cells the page did not ask for
    last)."""
    from .posthoc import posthoc_rows

    extra = [posthoc_rows(results[results["method"] == POSTHOC_SOURCES[m]], labels, classes,
                          tau=tau, cache=cache).assign(method=m)
             for m in dict.fromkeys(methods) if m in POSTHOC_METHODS]
    if not extra:
        return results
    rows = pd.concat([results, *extra], ignore_index=True)
    order = dict.fromkeys([*methods, *results["method"]])
    return pd.concat([rows[rows["method"] == m] for m in order], ignore_index=True)


def scaling_cells(models: Sequence[str], reference_models: Sequence[str] = ("vgg16", "resnet50"),
                  *, n_min: int, selected_transforms: Sequence[str], loss: str = "focal",
                  config: FitConfig = FitConfig(), baseline_config: FitConfig | None = None,
                  gain_reference: str | None = "efficientnet_b0") -> list[dict[str, Any]]:
    """Fig. 5's cells (see :func:`run_scaling`)."""
    cells = []
    recipe, _ = method_cell("proposed", n_min=n_min, selected_transforms=selected_transforms)
    for m in dict.fromkeys(models):
        cells.append({"method": "proposed", "model": m, "loss": loss, "recipe": recipe,
                      "config": config})
    for m in dict.fromkeys([*([gain_reference] if gain_reference else []), *reference_models]):
        cells.append({"method": "baseline", "model": m, "loss": loss, "recipe": Recipe(),
                      "config": baseline_config or config})
    return cells


def run_scaling(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                models: Sequence[str], reference_models: Sequence[str] = ("vgg16", "resnet50"),
                *, n_min: int, selected_transforms: Sequence[str], loss: str = "focal",
                config: FitConfig = FitConfig(), baseline_config: FitConfig | None = None,
                gain_reference: str | None = "efficientnet_b0", **common: Any) -> pd.DataFrame:
    """Fig. 5: each of ``models`` with the proposed method, each of ``reference_models`` (and
    ``gain_reference``, the model the paper's gains are measured against) as the
    no-augmentation baseline trained with ``baseline_config`` (default ``config``).
    Columns: method, model, loss, fold, metrics..."""
    cells = scaling_cells(models, reference_models, n_min=n_min,
                          selected_transforms=selected_transforms, loss=loss, config=config,
                          baseline_config=baseline_config, gain_reference=gain_reference)
    return run_cells(cells, images, labels, classes, config=config, **common)


__all__ = ["Recipe", "UNIT_KIND", "WEIGHTS_CHOICES", "add_posthoc", "balanced_cells",
           "cell_config", "cell_spec", "cell_units", "describe_weights", "frozen_prefixes",
           "initial_weights", "known_weights_source", "loss_from_spec", "loss_spec",
           "method_cell", "method_recipes", "run_balanced", "run_cells", "run_scaling",
           "run_sweep", "scaling_cells", "sweep_cells", "sweep_recipe", "train_fold_unit",
           "unit_device", "weights_source"]
