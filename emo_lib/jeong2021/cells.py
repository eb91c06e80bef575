"""Jeong & Kim's grids as *cells*: a model, a training recipe (which items each fold trains on),
a loss; each cell cross-validated with :func:`emo_lib.train.cached_cross_validate`, so a cell two
pages share (Table 3's "no augmentation, EfficientNet-B0, focal" is Table 4's baseline; Table 4's
"proposed" is Fig. 5's B0 point) is trained once when their settings agree.

Results are long frames, one row per (cell, fold): the cell's labels, ``model``, ``loss``,
``fold``, ``accuracy``, ``macro_f1``, ``f1_<class>``..., ``confusion``, ``from_cache``. The
paper-shaped tables built from them are :mod:`.tables`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..augment import TRANSFORMS, validate_names
from ..balance import balanced_items, class_balanced_sampler, simple_augmentation_items
from ..device import resolve_device
from ..losses import LOSS_NAMES, PAPER_ALPHA, PAPER_GAMMA, make_loss
from ..train import FitConfig, cached_cross_validate, stratified_folds
from .names import BASELINE_TABLE4, EXTRA_METHODS, NO_AUGMENTATION, PAPER_METHODS


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

    def spec(self) -> dict[str, Any]:
        """Plain-JSON description (part of the cache key)."""
        return {"items": self.items, "transforms": list(self.transforms),
                "n_min": self.n_min, "sampler": self.sampler}

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
    """(recipe, loss) of a Table 4 row (``PAPER_METHODS``, ``EXTRA_METHODS``)."""
    if method in ("baseline", BASELINE_TABLE4):
        return Recipe(), loss
    if method == "over_sampling":
        return Recipe("balanced", (), n_min), loss
    if method == "over_sampling_all_transforms":
        return Recipe("balanced", TRANSFORMS, n_min), loss
    if method == "proposed":
        return Recipe("balanced", validate_names(list(selected_transforms)), n_min), loss
    if method == "weighted_cross_entropy":
        return Recipe(), "weighted_cross_entropy"
    if method == "class_balanced_sampling":
        return Recipe(sampler="class_balanced"), loss
    raise ValueError(f"unknown method {method!r}; choose from "
                     f"{list(PAPER_METHODS + EXTRA_METHODS + (BASELINE_TABLE4,))}")


def loss_spec(name: str) -> dict[str, Any]:
    """Plain-JSON description of a loss (part of the cache key)."""
    if name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {name!r}; choose one of {LOSS_NAMES}")
    if name == "focal":
        return {"name": name, "alpha": PAPER_ALPHA, "gamma": PAPER_GAMMA}
    return {"name": name}


@lru_cache(maxsize=None)
def weights_source(model: str, pretrained: bool) -> str:
    """Where ``model``'s initial weights come from: ``"random"`` or the ImageNet weights that
    were actually loaded (building it once to find out, so a run whose weights could not be
    had is never keyed as a transfer-learning run)."""
    if not pretrained:
        return "random"
    from ..models import load_model

    built = load_model(model, classes=("a", "b"), pretrained=True)
    return str(built.info.get("weights")) if built.info.get("pretrained") else "random"


def run_cells(cells: Sequence[Mapping[str, Any]], images: np.ndarray, labels: np.ndarray,
              classes: Sequence[str], *, folds: int = 5, config: FitConfig = FitConfig(),
              seed: int = 0, device: str = "cpu", pretrained: bool = False,
              cache: bool | str = True, progress: bool = True,
              data_id: str | None = None) -> pd.DataFrame:
    """Cross-validate every cell on the same ``folds`` stratified folds (seeded by ``seed``).

    A cell is a mapping with ``model`` (a registered model name), ``recipe`` (:class:`Recipe`),
    ``loss`` (a :data:`emo_lib.losses.LOSS_NAMES` name), optionally ``config`` (a FitConfig
    replacing ``config`` for that cell), and any other keys, which become label columns.
    Models are built at the images' size with a ``len(classes)``-way head.
    """
    from tqdm.auto import tqdm

    from ..models import load_model
    from ..train import array_fingerprint

    y = np.asarray(labels)
    classes = tuple(classes)
    image_size = int(images.shape[1])
    dev = resolve_device(device)
    split = stratified_folds(y, folds, seed)
    data_id = data_id or array_fingerprint(images, y)
    frames = []
    for cell in tqdm(cells, desc="cells", disable=not progress):
        model, recipe, loss = cell["model"], cell["recipe"], cell["loss"]
        cfg = cell.get("config") or config
        tags = {k: v for k, v in cell.items() if k not in ("model", "recipe", "loss", "config")}
        spec = {"model": {"name": model, "input_size": image_size,
                          "weights": weights_source(model, bool(pretrained))},
                "classes": list(classes), "recipe": recipe.spec(), "loss": loss_spec(loss),
                "device": dev.type}

        def build(model: str = model) -> Any:
            return load_model(model, classes=classes, input_size=image_size, device=str(dev),
                              pretrained=bool(pretrained))

        df = cached_cross_validate(
            spec, build, images, y, split, make_train_items=recipe.make_items(seed),
            loss_factory=lambda counts, loss=loss: make_loss(loss, counts), config=cfg,
            seed=seed, progress=progress, make_sampler=recipe.make_sampler(seed), cache=cache,
            data_id=data_id)
        head = pd.DataFrame({**tags, "model": model, "loss": loss}, index=df.index)
        frames.append(pd.concat([head, df], axis=1))
    return pd.concat(frames, ignore_index=True)


def _sweep_rows(transforms: Sequence[str]) -> list[str]:
    rows = [t for t in transforms if t != NO_AUGMENTATION]
    validate_names(rows)
    return [NO_AUGMENTATION, *dict.fromkeys(rows)]


def run_sweep(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
              transforms: Sequence[str], models: Sequence[str], losses: Sequence[str],
              **common: Any) -> pd.DataFrame:
    """Tables 2-3: every (transform, model, loss), each transform applied once to every
    training image; the ``no_augmentation`` row is always included. ``common``: the keyword
    arguments of :func:`run_cells`. Columns: transform, model, loss, fold, metrics..."""
    cells = [{"transform": t, "model": m, "loss": loss, "recipe": sweep_recipe(t)}
             for loss in losses for m in models for t in _sweep_rows(transforms)]
    return run_cells(cells, images, labels, classes, **common)


def run_balanced(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                 methods: Sequence[str] = PAPER_METHODS + EXTRA_METHODS, *, n_min: int,
                 selected_transforms: Sequence[str], model: str = "efficientnet_b0",
                 loss: str = "focal", config: FitConfig = FitConfig(),
                 baseline_config: FitConfig | None = None, **common: Any) -> pd.DataFrame:
    """Table 4: each method (``PAPER_METHODS``, ``EXTRA_METHODS``) with ``model`` and ``loss``.

    ``baseline_config`` trains the baseline row with other settings than the rest (the paper's
    baseline repeats Table 3's cell, trained with the sweep's settings); when it differs from
    ``config`` a row ``baseline_table4_settings`` (the baseline with ``config``) is added, so
    the table also has a baseline trained like the other rows. Columns: method, model, loss,
    fold, metrics...
    """
    methods = list(dict.fromkeys(methods))
    if baseline_config is not None and baseline_config != config and "baseline" in methods:
        methods.insert(methods.index("baseline") + 1, BASELINE_TABLE4)
    cells = []
    for method in methods:
        recipe, method_loss = method_cell(method, n_min=n_min,
                                          selected_transforms=selected_transforms, loss=loss)
        cfg = baseline_config if method == "baseline" and baseline_config else config
        cells.append({"method": method, "model": model, "loss": method_loss, "recipe": recipe,
                      "config": cfg})
    return run_cells(cells, images, labels, classes, config=config, **common)


def run_scaling(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                models: Sequence[str], reference_models: Sequence[str] = ("vgg16", "resnet50"),
                *, n_min: int, selected_transforms: Sequence[str], loss: str = "focal",
                config: FitConfig = FitConfig(), baseline_config: FitConfig | None = None,
                gain_reference: str | None = "efficientnet_b0", **common: Any) -> pd.DataFrame:
    """Fig. 5: each of ``models`` with the proposed method, each of ``reference_models`` (and
    ``gain_reference``, the model the paper's gains are measured against) as the
    no-augmentation baseline trained with ``baseline_config`` (default ``config``).
    Columns: method, model, loss, fold, metrics..."""
    cells = []
    recipe, _ = method_cell("proposed", n_min=n_min, selected_transforms=selected_transforms)
    for m in dict.fromkeys(models):
        cells.append({"method": "proposed", "model": m, "loss": loss, "recipe": recipe,
                      "config": config})
    for m in dict.fromkeys([*([gain_reference] if gain_reference else []), *reference_models]):
        cells.append({"method": "baseline", "model": m, "loss": loss, "recipe": Recipe(),
                      "config": baseline_config or config})
    return run_cells(cells, images, labels, classes, config=config, **common)


__all__ = ["Recipe", "loss_spec", "method_cell", "run_balanced", "run_cells", "run_scaling",
           "run_sweep", "sweep_recipe", "weights_source"]
