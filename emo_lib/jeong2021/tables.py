"""Jeong & Kim's tables from this run's fold rows: each cell's mean and corrected interval over
its learning folds beside the paper's number (Tables 2-4, Fig. 5), the transforms the method
keeps, gains, and the note on collapsed folds.

Every table here is narrow enough for the page's text column (long, not wide: one row per cell);
the pages save the full per-fold rows as CSV beside them. Which cells are trained is
:mod:`.cells`; the per-fold collapse rule and the statistics are :mod:`.foldstats`; the claims
are :mod:`.claims`.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import paper
from ..augment import TRANSFORMS
from .foldstats import COLLAPSE_MARGIN, COLLAPSE_SHARE, cell_summary
from .names import METRICS, NO_AUGMENTATION, PAPER, PAPER_REFERENCE_MODEL, SWEEP_TABLES, model_label


def fold_means(results: pd.DataFrame, by: Sequence[str], *, learning_only: bool = True
               ) -> pd.DataFrame:
    """Mean over folds of accuracy, macro F1 and the per-class F1s, one row per ``by`` group
    (groups in order of appearance), plus ``accuracy_std``, ``macro_f1_std`` and ``folds``;
    with ``learning_only`` (and the collapse columns present) over the learning folds only."""
    by = list(by)
    if learning_only and "collapsed" in results.columns:
        results = results[~results["collapsed"].astype(bool)]
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


def collapse_note(results: pd.DataFrame, by: Sequence[str]) -> str:
    """What the per-fold collapse rule found, exactly (MyST): a warning naming how many folds
    of how many cells collapsed, or a one-line note that none did."""
    if "collapsed" not in results.columns:
        raise ValueError("add the collapse columns first (foldstats.with_collapse)")
    n, bad = len(results), results[results["collapsed"].astype(bool)]
    rule = (f"more than {COLLAPSE_SHARE:.0%} of a fold's test predictions on one class, or its "
            f"macro F1 within {COLLAPSE_MARGIN:.0%} of the majority-class F1")
    if bad.empty:
        return (f"No fold collapsed: none of the {n} folds has {rule}, so every fold counts in "
                "the statistics and verdicts below.")
    cells = bad.groupby(list(by), sort=False).size()
    names = ", ".join(" / ".join(map(str, k if isinstance(k, tuple) else (k,)))
                      + f" ({v})" for k, v in cells.items())
    return ("```{warning} Collapsed folds\n"
            f"{len(bad)} of {n} folds collapsed ({rule}): {names}. A collapsed network scores "
            "a class's frequency, not what it learned, so those folds are greyed in the fold "
            "figure and left out of every mean, interval and verdict.\n```")


def paper_sweep(loss: str) -> pd.DataFrame:
    """The paper's Table 2 (``cross_entropy``) or 3 (``focal``) as a long frame: transform,
    model, loss, accuracy, macro_f1."""
    if loss not in SWEEP_TABLES:
        raise ValueError(f"the paper has sweep tables for {list(SWEEP_TABLES)}, not {loss!r}")
    table = paper.paper_value(f"{PAPER}.{SWEEP_TABLES[loss]}")
    rows = [{"transform": t, "model": m, "loss": loss, "accuracy": v[0], "macro_f1": v[1]}
            for t, by_model in table.items() for m, v in by_model.items()]
    return pd.DataFrame(rows)


def select_top_transforms(sweep: pd.DataFrame, model: str = PAPER_REFERENCE_MODEL,
                          loss: str = "focal", k: int = 5, decimals: int | None = 3
                          ) -> tuple[list[str], list[str]]:
    """The ``k`` transforms with the highest mean macro F1 for ``model`` and ``loss`` (the
    paper's rule for Algorithm 1's set T), and the ties at the cut.

    Scores are rounded to ``decimals`` first (the paper prints three), ties broken by the
    catalogue order; collapsed folds are left out when the rows say which. ``ties`` lists
    every transform scoring exactly the k-th score when some of them fall outside the top k
    (the paper's Table 3 has three at 0.280 for two places); else it is empty. Works on this
    run's sweep and on :func:`paper_sweep`'s frame alike.
    """
    rows = sweep[(sweep["model"] == model) & (sweep["loss"] == loss)
                 & (sweep["transform"] != NO_AUGMENTATION)]
    if "collapsed" in rows.columns:
        rows = rows[~rows["collapsed"].astype(bool)]
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


def _stat_columns(summary: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """The displayed statistics of :func:`.foldstats.cell_summary` rows."""
    return pd.DataFrame({
        **{c: summary[c] for c in by},
        "learning folds": [f"{k} of {n}" for k, n in zip(summary["learning"],
                                                          summary["folds"])],
        "macro F1": summary["mean"], "sd": summary["sd"],
        "95 % low": summary["ci_low"], "95 % high": summary["ci_high"],
        "accuracy": summary["accuracy"]})


def _paper_for(model: str, by_model: Mapping[str, Any], reference_model: str) -> Any:
    """The paper's value for ``model``: its own, or EfficientNet-B0's for the model playing
    B0's role (``reference_model``)."""
    if model in by_model:
        return by_model[model]
    if model == reference_model:
        return by_model.get(PAPER_REFERENCE_MODEL)
    return None


def sweep_vs_paper(sweep: pd.DataFrame, loss: str, *, reference_model: str =
                   PAPER_REFERENCE_MODEL, alpha: float = 0.05) -> pd.DataFrame:
    """Table 2 (``cross_entropy``) or 3 (``focal``), long: one row per (transform, model) of
    this run, with the learning folds, macro F1 (mean, sd, corrected interval), accuracy, and
    the paper's macro F1 and accuracy for that model (EfficientNet-B0's on the row of the model
    in its role)."""
    run_rows = sweep[sweep["loss"] == loss]
    if run_rows.empty:
        raise ValueError(f"no sweep results for loss {loss!r}")
    summary = cell_summary(run_rows, ["transform", "model"], alpha=alpha)
    ref = {t: g.set_index("model")[["accuracy", "macro_f1"]].T.to_dict("list")
           for t, g in paper_sweep(loss).groupby("transform")}
    paper_values = [_paper_for(m, ref.get(t, {}), reference_model)
                    for t, m in zip(summary["transform"], summary["model"])]
    out = _stat_columns(summary, ["transform", "model"])
    out["model"] = out["model"].map(model_label)
    out["paper F1"] = [v[1] if v else np.nan for v in paper_values]
    out["paper accuracy"] = [v[0] if v else np.nan for v in paper_values]
    return out


def paper_table4() -> pd.DataFrame:
    """The paper's Table 4 as a frame: method, accuracy, macro_f1."""
    data = paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")
    return pd.DataFrame([{"method": k, "accuracy": v[0], "macro_f1": v[1]}
                         for k, v in data.items()])


def balanced_vs_paper(balanced: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Table 4, long: one row per method (the page's order), with the learning folds, macro F1
    (mean, sd, corrected interval), accuracy and the paper's macro F1 and accuracy (rows beyond
    the paper have none)."""
    summary = cell_summary(balanced, ["method"], alpha=alpha)
    ref = paper_table4().set_index("method")
    out = _stat_columns(summary, ["method"])
    out["paper F1"] = ref["macro_f1"].reindex(summary["method"]).to_numpy()
    out["paper accuracy"] = ref["accuracy"].reindex(summary["method"]).to_numpy()
    return out


def scaling_vs_paper(scaling: pd.DataFrame, sizes: pd.DataFrame | None = None, *,
                     reference_model: str = PAPER_REFERENCE_MODEL, alpha: float = 0.05,
                     largest_model: str | None = None) -> pd.DataFrame:
    """Fig. 5, one row per (model, method), indexed so: this run's accuracy and macro F1
    (means and sds over the learning folds, macro F1's corrected interval), the paper's values
    where it gives them (Fig. 5's B5 end point for ``proposed``, Table 4's proposed for B0,
    Table 3's no-augmentation focal cells for ``baseline``; EfficientNet-B0's on the rows of
    the model in its role, EfficientNet-B5's on ``largest_model``'s proposed row, ResNet-50's
    on another ResNet's baseline row) and, if given, the model sizes (``sizes`` from
    :func:`.sizes.model_sizes`, indexed by model)."""
    summary = cell_summary(scaling, ["model", "method"], alpha=alpha)
    run = fold_means(scaling, ["model", "method"])
    ref: dict[tuple[str, str], list[float]] = {}
    for m, v in paper.paper_value(f"{PAPER}.fig5_scaling").items():
        ref[(m, "proposed")] = v
    t4 = paper.paper_value(f"{PAPER}.table4_efficientnet_b0_focal")
    ref[(PAPER_REFERENCE_MODEL, "proposed")] = t4["proposed"]
    for m, v in paper.paper_value(f"{PAPER}.table3_focal")[NO_AUGMENTATION].items():
        ref[(m, "baseline")] = v
    index = pd.MultiIndex.from_frame(summary[["model", "method"]])
    out = pd.DataFrame({
        "accuracy": run["accuracy"].reindex(index).to_numpy(),
        "accuracy_std": run["accuracy_std"].reindex(index).to_numpy(),
        "macro_f1": summary["mean"].to_numpy(), "macro_f1_std": summary["sd"].to_numpy(),
        "macro_f1_low": summary["ci_low"].to_numpy(),
        "macro_f1_high": summary["ci_high"].to_numpy(),
        "learning_folds": summary["learning"].to_numpy(), "folds": summary["folds"].to_numpy(),
    }, index=index)

    def paper_of(key: tuple[str, str]) -> list[float]:
        model, method = key
        if key in ref:
            return ref[key]
        if model == reference_model:
            return ref.get((PAPER_REFERENCE_MODEL, method), [np.nan, np.nan])
        if model == largest_model and method == "proposed":
            return ref.get(("efficientnet_b5", method), [np.nan, np.nan])
        if model.startswith("resnet"):
            return ref.get(("resnet50", method), [np.nan, np.nan])
        return [np.nan, np.nan]

    out["paper_accuracy"] = [paper_of(k)[0] for k in out.index]
    out["paper_macro_f1"] = [paper_of(k)[1] for k in out.index]
    if sizes is not None:
        out = out.join(sizes, on="model")
    return out


def scaling_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`scaling_vs_paper`'s table as the page shows it (fewer columns, readable names);
    the CSV keeps everything."""
    out = pd.DataFrame({
        "model": [model_label(m) for m in table.index.get_level_values("model")],
        "method": table.index.get_level_values("method"),
        "learning folds": [f"{k} of {n}" for k, n in zip(table["learning_folds"],
                                                          table["folds"])],
        "macro F1": table["macro_f1"].to_numpy(), "95 % low": table["macro_f1_low"].to_numpy(),
        "95 % high": table["macro_f1_high"].to_numpy(),
        "accuracy": table["accuracy"].to_numpy(),
        "paper F1": table["paper_macro_f1"].to_numpy(),
        "paper accuracy": table["paper_accuracy"].to_numpy()})
    if "params_m" in table.columns:
        out["params (M)"] = table["params_m"].to_numpy()
    return out


def paper_table(results: pd.DataFrame, table: str, **kwargs: Any) -> pd.DataFrame:
    """This run's results laid out as the paper's ``table`` (``"table2"``, ``"table3"``,
    ``"table4"``, ``"fig5"``) with the paper's numbers beside."""
    if table == "table2":
        return sweep_vs_paper(results, "cross_entropy", **kwargs)
    if table == "table3":
        return sweep_vs_paper(results, "focal", **kwargs)
    if table == "table4":
        return balanced_vs_paper(results, **kwargs)
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
    shared folds ``other`` is higher (collapsed folds left out when the rows say which)."""
    if base.empty or other.empty:
        raise ValueError("relative_gain needs rows for both cells; check the selection")
    if "collapsed" in base.columns and "collapsed" in other.columns:
        base, other = base[~base["collapsed"].astype(bool)], other[~other["collapsed"].astype(bool)]
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


def comparisons_display(comparisons: pd.DataFrame) -> pd.DataFrame:
    """The claims' comparisons as a page shows them: each comparison's difference with its
    interval, the Holm-corrected p, the verdict, the smallest difference its design could have
    called significant (``detectable``) and the paper's difference beside."""
    from ..formatting import format_estimate

    metric = comparisons["metric"].map({"macro_f1": "macro F1", "accuracy": "accuracy"}) \
        .fillna(comparisons["metric"])
    shown = comparisons.assign(
        claim=comparisons["claim_id"].str.replace("_", " "),
        comparison=[f"{c} ({m}, {f} folds)" for c, m, f in
                    zip(comparisons["comparison"], metric, comparisons["folds"])],
        estimate=[format_estimate(d, lo, hi, signed=True) for d, lo, hi in
                  zip(comparisons["difference"], comparisons["ci_low"], comparisons["ci_high"])])
    # Seven columns (metric and folds inside the comparison, the difference with its interval
    # in one): the page's text column holds no more.
    return shown[["claim", "comparison", "estimate", "p_holm", "verdict", "detectable",
                  "paper_difference"]].rename(columns={
                      "estimate": "difference [95 % CI]", "p_holm": "p (Holm)",
                      "detectable": "detectable (±)", "paper_difference": "paper"})


__all__ = [
    "balanced_vs_paper", "comparisons_display", "collapse_note", "confusion_sum", "fold_means",
    "gain_sentences", "paper_gain", "paper_sweep", "paper_table", "paper_table4", "relative_gain",
    "scaling_display",
    "scaling_vs_paper", "select", "select_top_transforms", "sweep_vs_paper",
]


def gain_sentences(summary: pd.DataFrame, gain: Any, paper_relative: float) -> dict[str, str]:
    """The Table 4 page's sentences on the proposed method against the baseline: ``result``
    (each method's macro F1 with its 95 % interval, the relative change, the corrected paired
    t) and ``summary`` (the short form). ``summary``: :func:`cell_summary` by method;
    ``gain``: :func:`.foldstats.compare_cells` of proposed vs baseline. A number that could not
    be computed (every fold collapsed) is said in words, never written as nan."""
    from ..formatting import format_number, format_percent, format_signed, p_equals

    def f1(method: str) -> tuple[str, str]:
        row = summary.loc[method] if method in summary.index else None
        if row is None or not np.isfinite(row["mean"]):
            return "no macro F1 (no learning fold)", "no macro F1"
        interval = (f" (95 % interval {format_number(row['ci_low'])} to "
                    f"{format_number(row['ci_high'])})" if np.isfinite(row["ci_low"]) else "")
        return f"macro F1 {format_number(row['mean'])}{interval}", format_number(row["mean"])

    (base_long, base_short), (prop_long, prop_short) = f1("baseline"), f1("proposed")
    paper_text = format_percent(paper_relative, signed=True)
    if np.isfinite(gain.relative):
        change = (f"a relative change of {format_percent(gain.relative, signed=True)} "
                  f"(difference {format_signed(gain.difference)}, corrected paired t "
                  f"{p_equals(gain.test.p_value)} over {gain.folds} folds)")
        short = format_percent(gain.relative, signed=True)
    else:
        change, short = "no relative change to compute", "no change computed"
    return {"result": f"Over the learning folds the baseline scored {base_long} and the "
                      f"proposed method {prop_long}: {change}; the paper reports {paper_text}.",
            "summary": f"Macro F1 {base_short} without augmentation, {prop_short} with the "
                       f"proposed method ({short}; the paper {paper_text})"}
