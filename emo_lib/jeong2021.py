"""Jeong & Kim 2021's experiments as functions: the data, the grids behind Tables 2-4 and
Fig. 5, the paper-shaped tables with the paper's numbers beside, and the claim verdicts.

Every grid is a list of *cells* (model, training recipe, loss), each cross-validated with
:func:`emo_lib.train.cached_cross_validate`, so a cell two pages share (Table 3's
"no augmentation, EfficientNet-B0, focal" is Table 4's baseline; Table 4's "proposed" is
Fig. 5's B0 point) is trained once when their settings agree. Results are long frames, one row
per (cell, fold): the cell's labels, ``model``, ``loss``, ``fold``, ``accuracy``, ``macro_f1``,
``f1_<class>``..., ``confusion``, ``from_cache``.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import paper
from .augment import TRANSFORMS, validate_names
from .balance import (
    balanced_items, class_balanced_sampler, scaled_n_min, simple_augmentation_items,
)
from .data.manifest import Manifest
from .device import resolve_device
from .losses import LOSS_NAMES, PAPER_ALPHA, PAPER_GAMMA, make_loss
from .train import FitConfig, cached_cross_validate, stratified_folds

log = logging.getLogger(__name__)

PAPER = "jeong2021"
#: The first row of Tables 2-3: the training images once, untransformed.
NO_AUGMENTATION = "no_augmentation"
#: Tables 2-3's models, in the paper's column order.
PAPER_MODELS: tuple[str, ...] = ("vgg16", "resnet50", "efficientnet_b0")
#: Which paper table holds which loss's sweep.
SWEEP_TABLES: dict[str, str] = {"cross_entropy": "table2_cross_entropy", "focal": "table3_focal"}
#: Table 4's rows, in the paper's order.
PAPER_METHODS: tuple[str, ...] = ("baseline", "over_sampling", "over_sampling_all_transforms",
                                  "proposed")
#: Rows beyond the paper: two standard rebalancing baselines.
EXTRA_METHODS: tuple[str, ...] = ("weighted_cross_entropy", "class_balanced_sampling")
#: Added to Table 4 when its baseline is trained with the sweep's settings (as the paper's
#: baseline, which repeats Table 3's numbers) and those differ from the other rows'.
BASELINE_TABLE4 = "baseline_table4_settings"
METRICS: tuple[str, ...] = ("accuracy", "macro_f1")


# --------------------------------------------------------------------------- data


def label_indices(manifest: Manifest) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices of the manifest's rows and the classes they index. Classes without any
    image are left out (their F1 would be undefined) with a logged warning."""
    counts = manifest.frame["label"].value_counts()
    classes = tuple(c for c in manifest.classes if counts.get(c, 0) > 0)
    empty = [c for c in manifest.classes if c not in classes]
    if empty:
        log.warning("%s: classes %s have no image and are left out of training and scoring",
                    manifest.name, empty)
    lookup = {c: i for i, c in enumerate(classes)}
    return manifest.frame["label"].map(lookup).to_numpy(dtype=np.int64), classes


def load_se30k8(dataset: str, root: str | None = None, options: Mapping[str, Any] | None = None,
                *, scale: float = 1.0, image_size: int = 224, seed: int = 0,
                progress: bool = False) -> tuple[Manifest, np.ndarray, np.ndarray]:
    """SE30K8 (or its synthetic stand-in) as (manifest, (N, S, S, 3) uint8 images, class
    indices into ``manifest.classes``). ``scale`` and ``seed`` only reach the synthetic
    generator; a real data set is loaded whole and resized to ``image_size``."""
    from .data import load_dataset, synthetic_options
    from .data.images import load_images

    manifest = load_dataset(dataset, root or None,
                            **synthetic_options(dataset, size=image_size, seed=seed, scale=scale),
                            **dict(options or {}))
    labels, classes = label_indices(manifest)
    if classes != manifest.classes:
        manifest = dataclasses.replace(manifest, classes=classes)
    images = load_images(manifest.frame["path"].tolist(), image_size, progress=progress)
    return manifest, images, labels


def classes_by_frequency(labels: np.ndarray, classes: Sequence[str]) -> list[str]:
    """``classes`` from the most to the least frequent in ``labels`` (ties: given order)."""
    counts = np.bincount(np.asarray(labels), minlength=len(classes))
    return [classes[i] for i in np.argsort(-counts, kind="stable")]


def effective_n_min(n_min: int, scale: float, synthetic: bool) -> int:
    """Algorithm 1's N_min for this data: scaled with the data when a synthetic set is drawn at
    ``scale`` times the paper's size (:func:`emo_lib.balance.scaled_n_min`), else ``n_min``."""
    return scaled_n_min(n_min, scale) if synthetic else int(n_min)


# --------------------------------------------------------------------------- recipes and cells


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
    raise KeyError(f"unknown method {method!r}; choose from "
                   f"{PAPER_METHODS + EXTRA_METHODS + (BASELINE_TABLE4,)}")


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
    from .models import load_model

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

    from .models import load_model
    from .train import array_fingerprint

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


# --------------------------------------------------------------------------- summaries


def fold_means(results: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean over folds of accuracy, macro F1 and the per-class F1s, one row per ``by`` group
    (groups in order of appearance), plus ``accuracy_std``, ``macro_f1_std`` and ``folds``."""
    by = list(by)
    cols = [c for c in results.columns if c in METRICS or c.startswith("f1_")]
    grouped = results.groupby(by, sort=False)
    out = grouped[cols].mean()
    for m in METRICS:
        out[f"{m}_std"] = grouped[m].std(ddof=1)
    out["folds"] = grouped.size()
    return out


def confusion_sum(results: pd.DataFrame, **where: Any) -> np.ndarray:
    """The confusion matrices of the rows matching ``where`` (column=value), summed over folds
    (rows true, columns predicted)."""
    rows = select(results, **where)
    if rows.empty:
        raise KeyError(f"no result rows with {where}")
    return np.sum([np.asarray(m) for m in rows["confusion"]], axis=0)


def prediction_collapse(results: pd.DataFrame, by: Sequence[str],
                        classes: Sequence[str], threshold: float = 0.99) -> pd.DataFrame:
    """Per cell (``by`` columns): the class predicted most often on the test folds, the share
    of test images predicted as it, and ``collapsed`` (share >= ``threshold``). A collapsed
    network predicts (nearly) one class whatever the image, so its accuracy is that class's
    frequency and comparisons between such cells measure nothing (short training from random
    weights ends there)."""
    rows = []
    for key, g in results.groupby(list(by), sort=False):
        cm = np.sum([np.asarray(m) for m in g["confusion"]], axis=0)
        predicted = cm.sum(axis=0)
        top = int(predicted.argmax())
        share = float(predicted[top] / max(predicted.sum(), 1))
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                     "top_class": classes[top], "top_share": share,
                     "collapsed": share >= threshold})
    return pd.DataFrame(rows)


def collapse_note(collapse: pd.DataFrame) -> str | None:
    """A warning (MyST admonition) when some cells collapsed, else None."""
    bad = collapse[collapse["collapsed"]]
    if bad.empty:
        return None
    tops = ", ".join(sorted(set(bad["top_class"])))
    low = bad["top_share"].min()
    share = "every one of the" if low >= 1 else f"at least {low:.0%} of the"
    return ("```{warning} Collapsed predictions\n"
            f"In {len(bad)} of {len(collapse)} cells the network predicted one class ({tops}) "
            f"for {share} test images: it has not learned "
            "to tell the classes apart, so those cells score the class's frequency and their "
            "differences measure nothing. Short training from random weights (the smoke "
            "settings) ends there; more epochs, larger images or ImageNet weights "
            "(`pretrained=True`) are needed for a meaningful comparison.\n```")


def paper_sweep(loss: str) -> pd.DataFrame:
    """The paper's Table 2 (``cross_entropy``) or 3 (``focal``) as a long frame: transform,
    model, loss, accuracy, macro_f1."""
    if loss not in SWEEP_TABLES:
        raise KeyError(f"the paper has sweep tables for {list(SWEEP_TABLES)}, not {loss!r}")
    table = paper.paper_value(f"{PAPER}.{SWEEP_TABLES[loss]}")
    rows = [{"transform": t, "model": m, "loss": loss, "accuracy": v[0], "macro_f1": v[1]}
            for t, by_model in table.items() for m, v in by_model.items()]
    return pd.DataFrame(rows)


def select_top_transforms(sweep: pd.DataFrame, model: str = "efficientnet_b0",
                          loss: str = "focal", k: int = 5, decimals: int | None = 3
                          ) -> tuple[list[str], list[str]]:
    """The ``k`` transforms with the highest mean macro F1 for ``model`` and ``loss`` (the
    paper's rule for Algorithm 1's set T), and the ties at the cut.

    Scores are rounded to ``decimals`` first (the paper prints three), ties broken by the
    catalogue order. ``ties`` lists every transform scoring exactly the k-th score when some
    of them fall outside the top k (the paper's Table 3 has three at 0.280 for two places);
    else it is empty. Works on this run's sweep and on :func:`paper_sweep`'s frame alike.
    """
    rows = sweep[(sweep["model"] == model) & (sweep["loss"] == loss)
                 & (sweep["transform"] != NO_AUGMENTATION)]
    if rows.empty:
        raise KeyError(f"no sweep results for model {model!r} and loss {loss!r}")
    score = rows.groupby("transform")["macro_f1"].mean()
    if decimals is not None:
        score = score.round(decimals)
    order = {t: i for i, t in enumerate(TRANSFORMS)}
    ranked = sorted(score.index, key=lambda t: (-score[t], order.get(t, len(order))))
    top = ranked[:k]
    if len(ranked) <= k:
        return top, []
    cut = score[top[-1]]
    tied = [t for t in ranked if score[t] == cut]
    return top, (tied if any(t not in top for t in tied) else [])


def _side_by_side(ref: pd.Series, run: pd.Series) -> dict[str, pd.Series]:
    return {"paper": ref, "this run": run, "difference": run - ref}


def sweep_vs_paper(sweep: pd.DataFrame, loss: str, models: Sequence[str] | None = None
                   ) -> pd.DataFrame:
    """Table 2 (``cross_entropy``) or 3 (``focal``) as the paper lays it out: rows transforms
    (this run's), columns model x (accuracy, macro F1) x (paper / this run / difference);
    ``models`` defaults to this run's."""
    run_rows = sweep[sweep["loss"] == loss]
    if run_rows.empty:
        raise KeyError(f"no sweep results for loss {loss!r}")
    models = list(models or dict.fromkeys(run_rows["model"]))
    rows = list(dict.fromkeys(run_rows["transform"]))
    run = fold_means(run_rows, ["model", "transform"])
    ref = paper_sweep(loss).set_index(["model", "transform"])
    cols: dict[tuple[str, str, str], pd.Series] = {}
    for m in models:
        for metric in METRICS:
            r = run[metric].xs(m, level="model").reindex(rows) if m in run.index.levels[0] \
                else pd.Series(np.nan, index=rows)
            p = ref[metric].xs(m, level="model").reindex(rows) if m in ref.index.levels[0] \
                else pd.Series(np.nan, index=rows)
            for source, v in _side_by_side(p, r).items():
                cols[(m, metric, source)] = v
    table = pd.DataFrame(cols, index=pd.Index(rows, name="transform"))
    table.columns.names = ["model", "metric", ""]
    return table


def paper_table4() -> pd.DataFrame:
    """The paper's Table 4 as a frame: method, accuracy, macro_f1."""
    data = paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")
    return pd.DataFrame([{"method": k, "accuracy": v[0], "macro_f1": v[1]}
                         for k, v in data.items()])


def balanced_vs_paper(balanced: pd.DataFrame) -> pd.DataFrame:
    """Table 4: rows methods (the paper's order, then the extra ones), columns (accuracy,
    macro F1) x (paper / this run / difference); rows beyond the paper have no paper value."""
    run = fold_means(balanced, ["method"])
    ref = paper_table4().set_index("method")
    rows = [m for m in ref.index if m in run.index] + [m for m in run.index if m not in ref.index]
    cols = {}
    for metric in METRICS:
        for source, v in _side_by_side(ref[metric].reindex(rows),
                                       run[metric].reindex(rows)).items():
            cols[(metric, source)] = v
    table = pd.DataFrame(cols, index=pd.Index(rows, name="method"))
    table.columns.names = ["metric", ""]
    return table


def scaling_vs_paper(scaling: pd.DataFrame, sizes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fig. 5: one row per (model, method) with this run's accuracy and macro F1 (mean, std),
    the paper's values where it gives them (Fig. 5's B5 end point for ``proposed``, Table 3's
    no-augmentation focal cells for ``baseline``, Table 4's proposed for B0) and, if given,
    the model sizes (``sizes`` from :func:`model_sizes`, indexed by model)."""
    run = fold_means(scaling, ["model", "method"])
    ref: dict[tuple[str, str], list[float]] = {}
    for m, v in paper.paper_value(f"{PAPER}.fig5_scaling").items():
        ref[(m, "proposed")] = v
    t4 = paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")
    ref[("efficientnet_b0", "proposed")] = t4["proposed"]
    for m, v in paper.paper_value(f"{PAPER}.table3_focal")[NO_AUGMENTATION].items():
        ref[(m, "baseline")] = v
    out = pd.DataFrame({
        "accuracy": run["accuracy"], "accuracy_std": run["accuracy_std"],
        "macro_f1": run["macro_f1"], "macro_f1_std": run["macro_f1_std"],
    })
    out["paper_accuracy"] = [ref.get(k, [np.nan, np.nan])[0] for k in out.index]
    out["paper_macro_f1"] = [ref.get(k, [np.nan, np.nan])[1] for k in out.index]
    out["macro_f1_difference"] = out["macro_f1"] - out["paper_macro_f1"]
    if sizes is not None:
        out = out.join(sizes, on="model")
    return out


def paper_table(results: pd.DataFrame, table: str, **kwargs: Any) -> pd.DataFrame:
    """This run's results laid out as the paper's ``table`` (``"table2"``, ``"table3"``,
    ``"table4"``, ``"fig5"``) with the paper's numbers and the differences beside."""
    if table == "table2":
        return sweep_vs_paper(results, "cross_entropy", **kwargs)
    if table == "table3":
        return sweep_vs_paper(results, "focal", **kwargs)
    if table == "table4":
        return balanced_vs_paper(results)
    if table == "fig5":
        return scaling_vs_paper(results, **kwargs)
    raise KeyError(f"unknown table {table!r}; choose table2, table3, table4 or fig5")


def select(results: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """The rows where every ``column=value`` of ``where`` holds."""
    mask = np.ones(len(results), dtype=bool)
    for col, value in where.items():
        if col not in results.columns:
            raise KeyError(f"no column {col!r}; columns: {list(results.columns)}")
        mask &= (results[col] == value).to_numpy()
    return results[mask]


def relative_gain(base: pd.DataFrame, other: pd.DataFrame, metric: str = "macro_f1"
                  ) -> dict[str, float]:
    """``other`` against ``base`` (fold rows of one cell each, e.g. from :func:`select`): the
    means over folds, the relative gain ``(other - base) / base`` and in how many of the
    shared folds ``other`` is higher."""
    if base.empty or other.empty:
        raise ValueError("relative_gain needs rows for both cells; check the selection")
    b, o = base.set_index("fold")[metric], other.set_index("fold")[metric]
    both = b.index.intersection(o.index)
    mean_b, mean_o = float(b.mean()), float(o.mean())
    return {"base": mean_b, "other": mean_o,
            "gain": (mean_o - mean_b) / mean_b if mean_b else float("nan"),
            "folds_gained": int((o[both] > b[both]).sum()), "folds": int(len(both))}


def paper_gain(other: str = "proposed", metric: str = "macro_f1") -> float:
    """The paper's relative gain of Table 4's ``other`` row over its baseline
    (``"efficientnet_b5"``: Fig. 5's end point over Table 4's baseline)."""
    t4 = paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")
    j = METRICS.index(metric)
    value = (paper.paper_value(f"{PAPER}.fig5_scaling")[other] if other.startswith("efficientnet")
             else t4[other])[j]
    return (value - t4["baseline"][j]) / t4["baseline"][j]


# --------------------------------------------------------------------------- model sizes


def reference_input_size(model: str) -> int:
    """The ImageNet resolution of torchvision's weights for ``model`` (its metadata): 224 for
    B0, ResNet-50 and VGG-16, 240-456 for B1-B5. For B2 it is 288 where the EfficientNet
    paper's is 260, so B2's counted FLOPs run about 9 % above the reference."""
    import torchvision

    return int(torchvision.models.get_model_weights(model).DEFAULT.transforms().crop_size[0])


@lru_cache(maxsize=None)
def _count(model: str, n_classes: int, input_size: int) -> tuple[float, float]:
    """(params_m, flops_b), kept on disk: counting B5 at 456 px takes seconds on a CPU."""
    import torchvision

    from .storage import cache_dir, read_json, write_json
    from .models.zoo import build_backbone, count_params_flops

    path = cache_dir("model_sizes") / (f"{model}-{n_classes}-{input_size}-"
                                       f"tv{torchvision.__version__}.json")
    if path.exists():
        try:
            c = read_json(path)
            return float(c["params_m"]), float(c["flops_b"])
        except (ValueError, KeyError, OSError) as err:
            log.warning("recounting %s: unreadable cache file %s (%s)", model, path, err)
    built = build_backbone(model, classes=[f"c{i}" for i in range(n_classes)],
                           input_size=input_size)
    c = count_params_flops(built.module, input_size)
    write_json(path, c)
    return c["params_m"], c["flops_b"]


def model_sizes(models: Sequence[str], n_classes: int, input_size: int,
                reference: bool = True) -> pd.DataFrame:
    """Parameters (millions) and multiply-adds (billions) per model: with this run's
    ``n_classes`` head at ``input_size``, and (``reference``) with ImageNet's 1000-class head at
    its reference resolution beside the paper's reference sizes (paper_values
    ``reference_model_sizes``), which check the counter."""
    refs = paper.paper_value(f"{PAPER}.reference_model_sizes")
    rows = []
    for m in dict.fromkeys(models):
        params, flops = _count(m, n_classes, input_size)
        row = {"model": m, "params_m": params, "flops_b": flops, "input_size": input_size}
        if reference:
            size = reference_input_size(m)
            p_ref, f_ref = _count(m, 1000, size)
            row.update(reference_input_size=size, params_m_imagenet=p_ref,
                       flops_b_imagenet=f_ref,
                       paper_params_m=refs.get(m, {}).get("params_m", np.nan),
                       paper_flops_b=refs.get(m, {}).get("flops_b", np.nan))
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def scaling_trend(table: pd.DataFrame, metric: str = "macro_f1", method: str = "proposed",
                  x: str = "params_m") -> dict[str, Any]:
    """Does ``metric`` grow with model size among ``method``'s rows of a :func:`scaling_vs_paper`
    table (with sizes)? Spearman's rho against ``x``, whether it never falls from one model to
    the next larger, and the models in size order (the paper: "increases gradually" B0-B5)."""
    from scipy.stats import spearmanr

    rows = table.xs(method, level="method").dropna(subset=[x, metric]).sort_values(x)
    if len(rows) < 2:
        return {"models": list(rows.index), "rho": float("nan"), "monotone": False, "n": len(rows)}
    constant = rows[metric].nunique() < 2 or rows[x].nunique() < 2
    rho = float("nan") if constant else float(spearmanr(rows[x], rows[metric]).statistic)
    return {"models": list(rows.index), "rho": rho, "n": len(rows),
            "monotone": bool((rows[metric].diff().dropna() >= 0).all())}


# --------------------------------------------------------------------------- claims

#: The paper's claims (paper_values ``claims``, in order) by short id.
CLAIM_IDS: tuple[str, ...] = ("proposed_gain_b0", "gain_b5", "b0_beats_others",
                              "focal_beats_ce")
#: The transforms the paper names as exceptions in its focal-vs-cross-entropy claim.
FOCAL_EXCEPTIONS: tuple[str, ...] = ("random_flip", "random_height")


def _claims() -> dict[str, str]:
    texts = paper.paper_value(f"{PAPER}.claims")
    if len(texts) != len(CLAIM_IDS):
        raise ValueError(f"paper_values.yaml lists {len(texts)} jeong2021 claims, "
                         f"emo_lib.jeong2021 knows {len(CLAIM_IDS)}: update CLAIM_IDS")
    return dict(zip(CLAIM_IDS, texts))


def _collapsed(rows: pd.DataFrame, threshold: float = 0.99) -> bool:
    """True when the rows' (one cell's) test predictions fall (nearly) all on one class;
    False when they do not, or when the rows carry no confusion matrices (paper tables)."""
    if rows.empty or "confusion" not in rows.columns:
        return False
    predicted = np.sum([np.asarray(m) for m in rows["confusion"]], axis=0).sum(axis=0)
    return bool(predicted.max() >= threshold * max(predicted.sum(), 1))


COLLAPSED = ("inconclusive", "the compared cells all predict one class for (nearly) every "
             "test image (see the collapse warning), so their difference measures nothing. ")


def _verdict_gain(results: pd.DataFrame | None, model: str, paper_rel: float
                  ) -> tuple[str, str]:
    label = model.replace("efficientnet_b", "EfficientNet-B")
    if results is None:
        return "not tested", "this page does not train it."
    base = select(results, method="baseline", model="efficientnet_b0")
    other = select(results, method="proposed", model=model)
    if base.empty or other.empty:
        return "not tested", (f"this run has no {label} with the proposed method (or no "
                              "EfficientNet-B0 baseline).")
    g = relative_gain(base, other)
    acc = relative_gain(base, other, "accuracy")
    verdict = "supported" if g["gain"] > 0 else "not supported"
    prefix = ""
    if _collapsed(base) and _collapsed(other):
        verdict, prefix = COLLAPSED[0], COLLAPSED[1].capitalize()
    return verdict, (f"{prefix}{label} with the proposed method: macro F1 {g['other']:.3f} "
                     f"against the EfficientNet-B0 baseline's {g['base']:.3f} ({g['gain']:+.0%}; "
                     f"paper {paper_rel:+.0%}), higher in {g['folds_gained']} of {g['folds']} "
                     f"folds; accuracy {acc['other'] - acc['base']:+.3f}.")


def _verdict_b0_beats(sweep: pd.DataFrame | None) -> tuple[str, str]:
    if sweep is None:
        return "not tested", "this page does not run the sweep."
    others = [m for m in ("vgg16", "resnet50") if m in set(sweep["model"])]
    if "efficientnet_b0" not in set(sweep["model"]) or not others:
        return "not tested", (f"this run's sweep has models {sorted(set(sweep['model']))}: it "
                              "needs EfficientNet-B0 and VGG-16 or ResNet-50.")
    lost: dict[str, list[str]] = {m: [] for m in METRICS}
    n, skipped = 0, 0
    for (t, loss), cell in sweep.groupby(["transform", "loss"], sort=False):
        g = fold_means(cell, ["model"])
        rivals = g.index.intersection(others)
        if "efficientnet_b0" not in g.index or not rivals.size:
            continue
        if all(_collapsed(cell[cell["model"] == m]) for m in ["efficientnet_b0", *rivals]):
            skipped += 1
            continue
        n += 1
        for metric in METRICS:
            if g.loc["efficientnet_b0", metric] <= g.loc[rivals, metric].max():
                lost[metric].append(f"{t}/{loss}")
    if n == 0:
        return COLLAPSED[0], COLLAPSED[1] + f"({skipped} (transform, loss) cells.)"
    held = [m for m in METRICS if not lost[m]]
    verdict = ("supported" if len(held) == len(METRICS)
               else "partly supported" if held else "not supported")
    parts = [f"{m.replace('_', ' ')}: " + ("ahead in all" if not lost[m] else
             f"not ahead in {len(lost[m])} ({', '.join(lost[m][:6])}"
             + (" ..." if len(lost[m]) > 6 else "") + ")") for m in METRICS]
    left_out = f" ({skipped} cells left out: all collapsed)" if skipped else ""
    return verdict, (f"EfficientNet-B0 against {', '.join(others)} over {n} (transform, loss) "
                     f"cells{left_out}; {'; '.join(parts)}.")


def _verdict_focal(sweep: pd.DataFrame | None) -> tuple[str, str]:
    if sweep is None:
        return "not tested", "this page does not run the sweep."
    b0 = sweep[sweep["model"] == "efficientnet_b0"]
    if not {"focal", "cross_entropy"} <= set(b0["loss"]):
        return "not tested", "this run's sweep lacks EfficientNet-B0 with both losses."
    f1 = fold_means(b0, ["transform", "loss"])["macro_f1"].unstack("loss")
    f1 = f1.drop(index=NO_AUGMENTATION, errors="ignore")
    if f1.empty:
        return "not tested", "this run's sweep has no transform besides no augmentation."
    skipped = [t for t in f1.index
               if all(_collapsed(select(b0, transform=t, loss=loss))
                      for loss in ("focal", "cross_entropy"))]
    f1 = f1.drop(index=skipped)
    if f1.empty:
        return COLLAPSED[0], COLLAPSED[1] + f"({len(skipped)} transforms.)"
    worse = [t for t in f1.index if f1.loc[t, "focal"] <= f1.loc[t, "cross_entropy"]]
    against = [t for t in worse if t not in FOCAL_EXCEPTIONS]
    verdict = "supported" if not against else "not supported"
    left_out = f" ({', '.join(skipped)} left out: collapsed)" if skipped else ""
    return verdict, (f"with EfficientNet-B0, focal loss beats cross entropy in macro F1 for "
                     f"{len(f1) - len(worse)} of {len(f1)} transforms tested{left_out}; not "
                     f"for {', '.join(worse) or 'none'} (the paper's exceptions: "
                     f"{', '.join(FOCAL_EXCEPTIONS)}).")


def claim_verdicts(sweep: pd.DataFrame | None = None, balanced: pd.DataFrame | None = None,
                   scaling: pd.DataFrame | None = None) -> pd.DataFrame:
    """For each of the paper's claims: ``verdict`` ("supported", "partly supported", "not
    supported", "inconclusive" (the compared networks predict one class whatever the image)
    or "not tested") and ``evidence``, one sentence computed from this run's results (``sweep`` from
    :func:`run_sweep`, ``balanced`` from :func:`run_balanced`, ``scaling`` from
    :func:`run_scaling`; give those the page has). A gain claim is "supported" when the
    direction holds (mean over folds); the sentence gives the size beside the paper's."""
    texts = _claims()
    gains = balanced if balanced is not None else scaling
    found = {
        "proposed_gain_b0": _verdict_gain(gains, "efficientnet_b0", paper_gain("proposed")),
        "gain_b5": _verdict_gain(scaling, "efficientnet_b5", paper_gain("efficientnet_b5")),
        "b0_beats_others": _verdict_b0_beats(sweep),
        "focal_beats_ce": _verdict_focal(sweep),
    }
    return pd.DataFrame([{"claim": texts[k], "verdict": found[k][0], "evidence": found[k][1]}
                         for k in CLAIM_IDS], index=pd.Index(CLAIM_IDS, name="id"))


def paper_results() -> dict[str, pd.DataFrame]:
    """The paper's own tables as results frames (one "fold"), for :func:`claim_verdicts`:
    ``sweep`` (Tables 2-3), ``balanced`` (Table 4) and ``scaling`` (Fig. 5's B5 end point with
    Table 4's baseline). Lets a page check each claim against the paper's own numbers."""
    sweep = pd.concat([paper_sweep(loss) for loss in SWEEP_TABLES], ignore_index=True)
    balanced = paper_table4().assign(model="efficientnet_b0", loss="focal")
    base = balanced[balanced["method"] == "baseline"]
    b5 = [{"method": "proposed", "model": m, "loss": "focal", "accuracy": v[0], "macro_f1": v[1]}
          for m, v in paper.paper_value(f"{PAPER}.fig5_scaling").items()]
    scaling = pd.concat([pd.DataFrame(b5), base], ignore_index=True)
    return {k: v.assign(fold=0) for k, v in
            {"sweep": sweep, "balanced": balanced, "scaling": scaling}.items()}


# --------------------------------------------------------------------------- figures


def sweep_figure(sweep: pd.DataFrame, metric: str = "macro_f1") -> Any:
    """Bar chart of ``metric`` (mean over folds, std as error bars) per transform, one panel
    per loss, one colour per model; the no-augmentation level dashed."""
    import seaborn as sns
    from matplotlib.figure import Figure

    losses = list(dict.fromkeys(sweep["loss"]))
    fig = Figure(figsize=(5.5 * len(losses), 3.8))
    axes = fig.subplots(1, len(losses), squeeze=False, sharey=True)[0]
    for ax, loss in zip(axes, losses):
        sub = sweep[sweep["loss"] == loss]
        sns.barplot(data=sub, x="transform", y=metric, hue="model", errorbar="sd", ax=ax)
        for m, g in sub[sub["transform"] == NO_AUGMENTATION].groupby("model"):
            ax.axhline(g[metric].mean(), ls="--", lw=0.8, color="grey")
        ax.set(title=loss.replace("_", " "), xlabel="", ylabel=metric.replace("_", " "))
        ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


def confusion_figure(matrices: Mapping[str, np.ndarray], classes: Sequence[str],
                     order: Sequence[str] | None = None) -> Any:
    """Row-normalised confusion matrices (seaborn heatmaps), one panel per name; rows and
    columns in ``classes`` order, or rearranged to ``order``."""
    import seaborn as sns
    from matplotlib.figure import Figure

    idx = [list(classes).index(c) for c in order] if order is not None else \
        list(range(len(classes)))
    classes = [classes[i] for i in idx]
    fig = Figure(figsize=(4.6 * len(matrices), 4.2))
    axes = fig.subplots(1, len(matrices), squeeze=False)[0]
    for ax, (name, cm) in zip(axes, matrices.items()):
        cm = np.asarray(cm, dtype=float)[np.ix_(idx, idx)]
        rates = cm / np.clip(cm.sum(1, keepdims=True), 1, None)
        sns.heatmap(rates, vmin=0, vmax=1, cmap="Blues", annot=True, fmt=".2f",
                    annot_kws={"fontsize": 6}, xticklabels=classes, yticklabels=classes,
                    cbar=False, ax=ax)
        ax.set(title=name.replace("_", " "), xlabel="predicted", ylabel="true")
    fig.tight_layout()
    return fig


def scaling_figure(table: pd.DataFrame, x: str = "params_m") -> Any:
    """Fig. 5's two panels: accuracy and macro F1 against ``x`` (``params_m`` or ``flops_b``,
    log scale) for this run (EfficientNets with the proposed method joined by a line, the
    baselines as separate markers) and the paper's points (open markers)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import ScalarFormatter

    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, METRICS):
        for method, style in (("proposed", "o-"), ("baseline", "s")):
            sub = table.xs(method, level="method").sort_values(x) \
                if method in table.index.get_level_values("method") else None
            if sub is None or sub.empty:
                continue
            ax.errorbar(sub[x], sub[metric], yerr=sub[f"{metric}_std"].fillna(0), fmt=style,
                        label=f"this run, {method}", capsize=3)
            ax.plot(sub[x], sub[f"paper_{metric}"], style[0], mfc="none", color="k",
                    label=f"paper, {method}")
            for model, row in sub.iterrows():
                ax.annotate(model.replace("efficientnet_", "").replace("resnet50", "ResNet-50")
                            .replace("vgg16", "VGG-16"), (row[x], row[metric]), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(ScalarFormatter())
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.set(xlabel={"params_m": "parameters (millions)",
                                     "flops_b": "multiply-adds (billions)"}.get(x, x),
               ylabel=metric.replace("_", " "))
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


__all__ = [
    "BASELINE_TABLE4", "CLAIM_IDS", "EXTRA_METHODS", "METRICS", "NO_AUGMENTATION",
    "PAPER_METHODS", "PAPER_MODELS", "Recipe", "SWEEP_TABLES", "balanced_vs_paper",
    "claim_verdicts", "classes_by_frequency", "collapse_note", "confusion_figure",
    "confusion_sum", "effective_n_min", "fold_means", "label_indices", "load_se30k8",
    "loss_spec", "method_cell", "model_sizes", "paper_gain", "paper_results", "paper_sweep",
    "paper_table", "paper_table4", "prediction_collapse", "reference_input_size",
    "relative_gain", "run_balanced", "run_cells", "run_scaling", "run_sweep", "scaling_figure",
    "scaling_trend", "scaling_vs_paper", "select", "select_top_transforms", "sweep_figure",
    "sweep_recipe", "sweep_vs_paper", "weights_source",
]
