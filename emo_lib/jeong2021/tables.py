"""Jeong & Kim's tables from this run's fold rows: means over folds, the paper's Tables 2-4 and
Fig. 5 with the paper's numbers beside, the transforms the method keeps, gains, and the
prediction-collapse check.

Which cells are trained is :mod:`.cells`; the claims are :mod:`.claims`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import paper
from ..augment import TRANSFORMS
from .names import METRICS, NO_AUGMENTATION, PAPER, SWEEP_TABLES


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
        raise ValueError(f"no result rows with {where}")
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
        raise ValueError(f"the paper has sweep tables for {list(SWEEP_TABLES)}, not {loss!r}")
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
        raise ValueError(f"no sweep results for model {model!r} and loss {loss!r}")
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
        raise ValueError(f"no sweep results for loss {loss!r}")
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
    raise ValueError(f"unknown table {table!r}; choose table2, table3, table4 or fig5")


def select(results: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """The rows where every ``column=value`` of ``where`` holds."""
    mask = np.ones(len(results), dtype=bool)
    for col, value in where.items():
        if col not in results.columns:
            raise ValueError(f"no column {col!r}; columns: {list(results.columns)}")
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


__all__ = [
    "balanced_vs_paper", "collapse_note", "confusion_sum", "fold_means", "paper_gain",
    "paper_sweep", "paper_table", "paper_table4", "prediction_collapse", "relative_gain",
    "scaling_vs_paper", "select", "select_top_transforms", "sweep_vs_paper",
]
