"""Jeong & Kim's figures: the sweep's bars (Tables 2-3), confusion matrices, and Fig. 5's
metric-against-size panels."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .names import METRICS, NO_AUGMENTATION


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


__all__ = ["confusion_figure", "scaling_figure", "sweep_figure"]
