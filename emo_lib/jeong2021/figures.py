"""Jeong & Kim's figures: every fold of every cell with its corrected interval (collapsed
folds greyed), confusion matrices, and Fig. 5's metric-against-size panels."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..models.zoo import ZOO_NAMES
from .foldstats import cell_summary
from .names import METRICS, method_label, model_label

#: Colours of learning folds and of collapsed (greyed) folds.
FOLD_COLOUR, COLLAPSED_COLOUR = "#4c72b0", "#bbbbbb"


def _label(key: Any, by: Sequence[str]) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    names = {"model": model_label, "method": method_label}   # as the tables name them
    return " / ".join(names.get(c, lambda v: v.replace("_", " "))(str(v))
                      for c, v in zip(by, parts))


def fold_figure(results: pd.DataFrame, by: Sequence[str], metric: str = "macro_f1", *,
                panel: str | None = None, alpha: float = 0.05) -> Any:
    """Every fold of every cell as a dot (collapsed folds greyed and hollow), each cell's mean
    over its learning folds with its corrected (1 - alpha) interval, and the majority-class F1
    (mean over the cell's folds) as a grey tick: one row per ``by`` group, one panel per value
    of ``panel`` (e.g. the loss). ``results`` carry the collapse columns."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    panels = list(dict.fromkeys(results[panel])) if panel else [None]
    rows_per_panel = max(results[results[panel] == p].groupby(list(by), sort=False).ngroups
                         if panel else results.groupby(list(by), sort=False).ngroups
                         for p in panels)
    fig = Figure(figsize=(3.6 * len(panels) + 2.4, 0.32 * rows_per_panel + 1.4))
    axes = fig.subplots(1, len(panels), squeeze=False, sharex=True)[0]
    for ax, p in zip(axes, panels):
        sub = results if p is None else results[results[panel] == p]
        summary = cell_summary(sub, by, metric, alpha=alpha)
        groups = list(sub.groupby(list(by), sort=False))
        for y, ((_key, g), (_, s)) in enumerate(zip(groups, summary.iterrows())):
            collapsed = g["collapsed"].astype(bool).to_numpy()
            ax.scatter(g.loc[~collapsed, metric], [y] * int((~collapsed).sum()), s=18,
                       color=FOLD_COLOUR, alpha=0.7, zorder=3)
            ax.scatter(g.loc[collapsed, metric], [y] * int(collapsed.sum()), s=18,
                       facecolors="none", edgecolors=COLLAPSED_COLOUR, zorder=2)
            if np.isfinite(s["ci_low"]):
                ax.plot([s["ci_low"], s["ci_high"]], [y, y], color="k", lw=1.2, zorder=1)
            if np.isfinite(s["mean"]):
                ax.plot([s["mean"]], [y], "k|", ms=10, mew=2, zorder=4)
            if metric == "macro_f1" and "majority_f1" in g.columns:
                ax.plot([g["majority_f1"].mean()], [y], "|", color="grey", ms=8, zorder=1)
        ax.set_yticks(range(len(groups)), [_label(k, by) for k, _ in groups])
        ax.set_ylim(len(groups) - 0.5, -0.5)
        ax.set_xlabel(metric.replace("_", " "))
        ax.grid(axis="x", lw=0.4, alpha=0.5)
        if p is not None:
            ax.set_title(str(p).replace("_", " "))
        if ax is not axes[0]:
            ax.tick_params(axis="y", labelleft=False)
    handles = [Line2D([], [], ls="", marker="o", color=FOLD_COLOUR, label="fold"),
               Line2D([], [], ls="", marker="o", mfc="none", mec=COLLAPSED_COLOUR,
                      label="collapsed fold (left out)"),
               Line2D([], [], color="k", marker="|", ms=8, mew=2,
                      label=f"mean, {1 - alpha:.0%} interval (corrected)")]
    if metric == "macro_f1":
        handles.append(Line2D([], [], ls="", marker="|", color="grey", ms=8,
                              label="majority-class F1"))
    # the legend belongs to the first panel, below its x label: every later tight_layout
    # (the page's fit_figure lays figures out again) keeps it clear of the axis labels
    axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.6 / height_in(fig)),
                   ncol=1, frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def height_in(fig: Any) -> float:
    """The figure's height in inches (legends below an axes are offset by a fraction of it)."""
    return float(fig.get_figheight())


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
    from matplotlib.ticker import NullFormatter, ScalarFormatter

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
            # the paper's points (its B0, B5, ResNet-50...) drawn at the run's model in that
            # role: the x position is this run's model's size, not the paper's model's
            own = sub[sub[f"paper_{metric}"].notna()]
            if not own.empty:
                ax.plot(own[x], own[f"paper_{metric}"], style[0], mfc="none", color="k",
                        label=f"paper, {method}" + ("" if own.index.isin(ZOO_NAMES).all()
                                                    else " (at its role)"))
            for model, row in sub.iterrows():
                note = ax.annotate(_short_label(model), (row[x], row[metric]), fontsize=7,
                                   xytext=(4, -9 if method == "baseline" else 4),
                                   textcoords="offset points")
                note.set_in_layout(False)   # labels must not shrink the axes
        ax.set_xscale("log")
        # ticks at the models' own sizes only (log-axis minor labels overprinted each other)
        ticks = _spaced(np.unique(table[x].dropna().to_numpy(float)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks], fontsize=7)
        ax.set_xlim(min(ticks) / 1.25, max(ticks) * 1.6)
        ax.set(xlabel={"params_m": "parameters (millions)",
                                     "flops_b": "multiply-adds (billions)"}.get(x, x),
               ylabel=metric.replace("_", " "))
    # below the first panel (an axes legend, so any later tight_layout makes room for it)
    axes[0].legend(loc="upper left", bbox_to_anchor=(0.0, -0.22), ncol=2, fontsize=7,
                   frameon=False)
    fig.tight_layout()
    return fig


def _short_label(model: str) -> str:
    """A marker's label: B0 for EfficientNet-B0, phi=k for the scaled family, else the name."""
    from ..models.families import SCALED

    if model in SCALED:
        return f"φ={SCALED[model]}"
    return model_label(model).replace("EfficientNet-", "").replace(" (quarter width)", "/4")


def _spaced(values: np.ndarray, ratio: float = 1.4) -> list[float]:
    """Tick positions on a log axis, dropping any within ``ratio`` of the last kept (their
    labels would print over each other)."""
    kept: list[float] = []
    for v in sorted(values):
        if not kept or v / kept[-1] >= ratio:
            kept.append(float(v))
    return kept


__all__ = ["confusion_figure", "fold_figure", "scaling_figure"]
