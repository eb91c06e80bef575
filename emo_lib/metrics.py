"""Accuracy disaggregated by group and class, with confidence intervals (paper 1, Fig. 3,
Tables 3-4), and the group comparisons the paper makes in words.

The shape follows fairlearn's MetricFrame, in plain pandas: :func:`accuracy_table` gives one
row per (group..., class) plus one "overall" row per group, with counts, accuracy and an
interval; :func:`compare_groups` sets two groups side by side per class with Fisher's exact
test; :func:`align_predictions` makes explicit what happens when a model's classes and a data
set's classes differ; :func:`counts_and_rates_figure` draws the paper's Fig. 3.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .stats import fisher_exact_2x2
from .validation import check_choice

log = logging.getLogger(__name__)

#: The label of the per-group row that pools every class of the table.
OVERALL = "overall"
#: The label of compare_groups' pooled row when a class was left out (only the classes both
#: groups have are pooled); when none was, the pooled row is the groups' overall and says so
#: (:data:`OVERALL`): boys against girls of one data set is their overall accuracy.
OVERALL_SHARED = "overall (shared classes)"
#: Either label of compare_groups' pooled row.
POOLED_LABELS: tuple[str, ...] = (OVERALL, OVERALL_SHARED)
TABLE_COLUMNS: tuple[str, ...] = ("class", "n", "correct", "accuracy", "ci_low", "ci_high")

GroupsArg = Mapping[str, Any] | pd.DataFrame | None


# --------------------------------------------------------------------------------------------
# intervals
# --------------------------------------------------------------------------------------------
def wilson_interval(correct: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``correct`` successes in ``n`` trials (vectorised).

    Same numbers as ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``; n = 0 gives
    NaN. Wilson rather than the normal approximation because many cells here are small
    (CAFE male sad: 19 images) and accuracies reach 1.0, where the normal interval collapses.
    """
    k = np.asarray(correct, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        # At 0 % or 100 % the bounds miss the estimate by ~1e-16: keep p inside its interval
        # (matplotlib refuses a negative error bar; NIMH-ChEFS happy is 108/108 in the paper).
        low, high = np.fmin(low, p), np.fmax(high, p)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


# --------------------------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------------------------
def _groups_frame(groups: GroupsArg, n_rows: int) -> pd.DataFrame:
    if groups is None:
        return pd.DataFrame(index=range(n_rows))
    frame = groups.reset_index(drop=True) if isinstance(groups, pd.DataFrame) \
        else pd.DataFrame({k: np.asarray(v) for k, v in groups.items()})
    if len(frame) != n_rows:
        raise ValueError(f"groups have {len(frame)} rows but y_true has {n_rows}; pass one "
                         "group value per image")
    reserved = set(TABLE_COLUMNS) & set(frame.columns)
    if reserved:
        raise ValueError(f"group column names {sorted(reserved)} clash with the table's "
                         "columns; rename them")
    for col in frame.columns:
        missing = np.flatnonzero(frame[col].isna().to_numpy())
        if len(missing):
            raise ValueError(f"group column {col!r} has {len(missing)} missing values (rows "
                             f"{missing[:10].tolist()}...); fill them, e.g. with 'unknown'")
    return frame


def accuracy_table(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    groups: GroupsArg = None,
    classes: Sequence[Any] | None = None,
    ci: str | None = "wilson",
    level: float = 0.95,
) -> pd.DataFrame:
    """Accuracy per (group..., class), plus one ``"overall"`` row per group.

    Args:
        y_true, y_pred: true and predicted labels, one per image (names or indices, the same
            kind in both). A prediction outside ``classes`` simply counts as wrong.
        groups: None (one group: the whole set), a mapping ``{column: values}`` or a frame with
            one row per image (e.g. ``manifest.frame[["dataset", "gender"]]``). Groups are the
            combinations that occur; classes are crossed with each of them, so a class a group
            lacks gives a row with ``n`` 0 and NaN accuracy and interval (not an error).
        classes: classes to report, in this order (default: those in ``y_true``, sorted).
            Images whose true class is not listed are left out of the table, with a warning
            that counts them; "overall" pools the listed classes only.
        ci: ``"wilson"`` (default) or None (no interval).
        level: confidence level of the interval.

    Returns:
        A long frame: the group columns, ``class``, ``n``, ``correct``, ``accuracy``,
        ``ci_low``, ``ci_high``; rows ordered by group, then by ``classes`` then "overall".
    """
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D and the same length, got "
                         f"{y_true.shape} and {y_pred.shape}")
    gframe = _groups_frame(groups, len(y_true))
    group_cols = list(gframe.columns)
    if classes is None:
        classes = sorted(pd.unique(y_true).tolist())
    classes = list(classes)
    if OVERALL in classes:
        raise ValueError(f"{OVERALL!r} cannot be a class name: it labels the pooled rows")

    keep = pd.Series(y_true).isin(classes).to_numpy()
    if not keep.all():
        dropped = pd.Series(y_true[~keep]).value_counts().to_dict()
        log.warning("accuracy_table: %d images whose true class is not in classes=%s are left "
                    "out: %s", int((~keep).sum()), classes, dropped)
    data = gframe[keep].reset_index(drop=True)
    data["class"] = y_true[keep]
    data["_correct"] = (y_true[keep] == y_pred[keep]).astype(int)

    keys = ["class"] if not group_cols else group_cols + ["class"]
    per_cell = data.groupby(keys, sort=False)["_correct"].agg(["size", "sum"])
    if group_cols:
        combos = data[group_cols].drop_duplicates().sort_values(group_cols)
        combos = [tuple(r) for r in combos.itertuples(index=False)]
    else:
        combos = [()]

    rows = []
    for combo in combos:
        g = dict(zip(group_cols, combo))
        total_n = total_k = 0
        for cls in classes:
            key = combo + (cls,) if group_cols else cls
            n, k = (int(v) for v in per_cell.loc[key]) if key in per_cell.index else (0, 0)
            rows.append({**g, "class": cls, "n": n, "correct": k})
            total_n += n
            total_k += k
        rows.append({**g, "class": OVERALL, "n": total_n, "correct": total_k})
    table = pd.DataFrame(rows, columns=group_cols + ["class", "n", "correct"])
    with np.errstate(invalid="ignore", divide="ignore"):
        table["accuracy"] = np.where(table["n"] > 0, table["correct"] / table["n"].replace(0, 1),
                                     np.nan)
    if check_choice("ci", ci, ("wilson", None)) == "wilson":
        low, high = wilson_interval(table["correct"], table["n"], level)
    else:
        low = high = np.full(len(table), np.nan)
    table["ci_low"], table["ci_high"] = low, high
    return table


def group_columns(table: pd.DataFrame) -> list[str]:
    """The group columns of an :func:`accuracy_table`: every column but the table's own."""
    return [c for c in table.columns if c not in TABLE_COLUMNS]


def _check_controls(table: pd.DataFrame, group_col: str,
                    control_features: Sequence[str] | None) -> list[str]:
    """The control columns, checked: every other group column of the table must be named, so a
    table that lost or gained columns (a merge, a CSV round trip) fails loudly instead of
    pooling groups it should keep apart."""
    controls = list(control_features or [])
    missing = [c for c in [group_col, *controls] if c not in table.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the table; columns: "
                         f"{list(table.columns)}")
    unnamed = [c for c in group_columns(table) if c != group_col and c not in controls]
    if unnamed:
        raise ValueError(f"the table has other group columns {unnamed}: pass them as "
                         f"control_features={unnamed} (compared within each of their values), "
                         "or select one value of each and drop the column first")
    return controls


def compare_groups(table: pd.DataFrame, group_col: str, a: Any, b: Any, *,
                   control_features: Sequence[str] | None = None) -> pd.DataFrame:
    """Group ``a`` against group ``b`` per class: accuracies, difference and Fisher's exact p.

    ``table`` is an :func:`accuracy_table`. Only classes with images in both groups are
    compared (the paper leaves out disgust and surprise, which NIMH-ChEFS lacks); the pooled
    row pools those classes. It is labelled ``"overall (shared classes)"`` where a class with
    images in only one group was left out (it then differs from the tables' "overall"), and
    ``"overall"`` where none was (it is then the groups' overall accuracy), per value of the
    controls. ``control_features`` (as in fairlearn's MetricFrame) names
    the table's other group columns (e.g. ``["dataset"]`` when comparing genders): one
    comparison per value of them. Every other group column must be named there (ValueError
    otherwise), and each (controls..., class) must occur once per group.

    Fisher's two-sided exact test runs on the 2x2 table [[correct_a, wrong_a], [correct_b,
    wrong_b]]; p-values are per class, not corrected for multiple comparisons.
    """
    others = _check_controls(table, group_col, control_features)
    present = set(table[group_col])
    for g in (a, b):
        if g not in present:
            raise ValueError(f"group {g!r} not found in column {group_col!r}; values: "
                             f"{sorted(map(str, present))}")
    cells = table[table["class"] != OVERALL]
    side = {}
    for g in (a, b):
        rows = cells[cells[group_col] == g].set_index(others + ["class"])[["n", "correct"]]
        if rows.index.duplicated().any():
            dup = rows.index[rows.index.duplicated()][0]
            raise ValueError(f"group {g!r} has several rows for {dup}: the table has more "
                             "groups than control_features names")
        side[g] = rows
    joined = side[a].merge(side[b], how="inner", left_index=True, right_index=True,
                            suffixes=("_a", "_b"))
    joined = joined[(joined["n_a"] > 0) & (joined["n_b"] > 0)].reset_index()
    skipped = set(cells["class"]) - set(joined["class"])
    if skipped:
        log.info("compare_groups: classes not in both %r and %r left out: %s", a, b,
                 sorted(map(str, skipped)))

    pooled = joined.groupby(others, sort=False)[["n_a", "correct_a", "n_b", "correct_b"]].sum() \
        .reset_index() if others else \
        joined[["n_a", "correct_a", "n_b", "correct_b"]].sum().to_frame().T
    # the label says what the row pools: "shared classes" only where a class was dropped
    def classes_by_key(frame: pd.DataFrame) -> dict[tuple, set]:
        found: dict[tuple, set] = {}
        for rec in frame[others + ["class"]].itertuples(index=False):
            found.setdefault(tuple(rec[:-1]), set()).add(rec[-1])
        return found

    have = classes_by_key(cells[cells[group_col].isin([a, b]) & (cells["n"] > 0)])
    used = classes_by_key(joined)
    pooled["class"] = [OVERALL if used.get(tuple(k), set()) == have.get(tuple(k), set())
                       else OVERALL_SHARED
                       for k in pooled[others].itertuples(index=False)]
    out = pd.concat([joined, pooled], ignore_index=True)
    if others:  # keep each key's pooled row right after its classes
        out = out.sort_values(others, kind="stable").reset_index(drop=True)
    out[["n_a", "correct_a", "n_b", "correct_b"]] = \
        out[["n_a", "correct_a", "n_b", "correct_b"]].astype(int)
    out["accuracy_a"] = out["correct_a"] / out["n_a"]
    out["accuracy_b"] = out["correct_b"] / out["n_b"]
    out["difference"] = out["accuracy_a"] - out["accuracy_b"]
    out["p_value"] = [
        fisher_exact_2x2(ka, na, kb, nb)
        for na, ka, nb, kb in out[["n_a", "correct_a", "n_b", "correct_b"]].itertuples(
            index=False)
    ]
    cols = others + ["class", "n_a", "correct_a", "accuracy_a", "n_b", "correct_b", "accuracy_b",
                     "difference", "p_value"]
    return out[cols]


# --------------------------------------------------------------------------------------------
# model classes vs data-set classes
# --------------------------------------------------------------------------------------------
def align_predictions(
    proba: np.ndarray,
    model_classes: Sequence[str],
    dataset_classes: Sequence[str],
    restrict: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted labels and the data set's class probabilities from a model's outputs.

    A model may know more classes than a data set has (the 7-class model on 5-class
    NIMH-ChEFS, an 8-class HSEmotion model on 7-class CAFE). By default (``restrict=False``),
    as in the paper, the model predicts over ALL its classes: an answer outside the data set's
    classes ("surprise" for a NIMH face) is a wrong answer. ``restrict=True`` instead
    renormalises over the data set's classes and predicts only among them (a forced choice;
    accuracies come out higher and no longer match the paper's).

    Args:
        proba: (N, len(model_classes)) probabilities in model output order.
        model_classes, dataset_classes: canonical class names (see
            ``emo_lib.data.manifest.canonical_label``).
        restrict: see above.

    Returns:
        ``(pred_labels, restricted_proba)``: (N,) class names, and (N, len(dataset_classes))
        probabilities in ``dataset_classes`` order; with ``restrict=False`` these are the
        model's probabilities for those columns, not renormalised (rows may sum below 1).

    Raises:
        ValueError: a data-set class the model does not have (it could never be predicted, so
            its accuracy would be 0 by construction), or a shape mismatch.
    """
    proba = np.asarray(proba)
    model_classes = list(model_classes)
    if proba.ndim != 2 or proba.shape[1] != len(model_classes):
        raise ValueError(f"proba has shape {proba.shape}, expected (N, {len(model_classes)}) "
                         f"for model classes {model_classes}")
    missing = [c for c in dataset_classes if c not in model_classes]
    if missing:
        raise ValueError(f"the model has no output for data-set classes {missing} (model "
                         f"classes: {model_classes}); use a model trained on them, or subset "
                         "the data set to the classes the model knows")
    idx = np.array([model_classes.index(c) for c in dataset_classes], dtype=int)
    sub = proba[:, idx]
    if restrict:
        with np.errstate(invalid="ignore", divide="ignore"):
            sub = sub / sub.sum(axis=1, keepdims=True)
        pred = np.asarray(dataset_classes, dtype=object)[sub.argmax(axis=1)]
    else:
        pred = np.asarray(model_classes, dtype=object)[proba.argmax(axis=1)]
    return pred, sub


# --------------------------------------------------------------------------------------------
# Fig. 3
# --------------------------------------------------------------------------------------------
def counts_and_rates_figure(
    table: pd.DataFrame,
    group_col: str = "dataset",
    classes: Sequence[str] | None = None,
    groups: Sequence[Any] | None = None,
    include_overall: bool = False,
    ax: Any = None,
    title: str | None = None,
    palette: str | Sequence[Any] = "deep",
    level: float = 0.95,
) -> Any:
    """The paper's Fig. 3: correct answers as bars, accuracy as markers on a twin axis.

    One cluster per class, one bar per value of ``group_col`` (two data sets, or before/after
    training, side by side); the accuracy of each bar is a marker with its confidence interval
    as an error bar, joined by a line per group. A class a group lacks gets no bar and no marker.

    Args:
        table: an :func:`accuracy_table` whose only group column is ``group_col`` (filter the
            others away first, e.g. ``table[table.gender == "female"]``).
        classes, groups: order (and choice) of classes and groups; default: as in the table.
        include_overall: also draw the "overall" cluster.
        level: the confidence level of the table's intervals (for the title).

    Returns:
        The matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    if group_col not in table.columns:
        raise ValueError(f"{group_col!r} is not a column of the table; columns: "
                         f"{list(table.columns)}")
    extra = [c for c in group_columns(table) if c != group_col]
    if extra and any(table[c].nunique() > 1 for c in extra):
        raise ValueError(f"the table has other group columns {extra} with several values; "
                         "select one value of each before drawing")
    groups = list(groups) if groups is not None else list(pd.unique(table[group_col]))
    if classes is None:
        classes = [c for c in pd.unique(table["class"]) if c != OVERALL]
    classes = list(classes) + ([OVERALL] if include_overall else [])
    colours = sns.color_palette(palette, len(groups))

    if ax is None:
        fig, ax = plt.subplots(figsize=(max(6.0, 2.5 + 0.6 * len(classes) * len(groups)), 4))
    else:
        fig = ax.figure
    ax2 = ax.twinx()
    width = 0.8 / len(groups)
    x = np.arange(len(classes))
    for gi, (g, colour) in enumerate(zip(groups, colours)):
        sub = table[table[group_col] == g].set_index("class").reindex(classes)
        has = sub["n"].fillna(0).to_numpy() > 0
        pos = x - 0.4 + width * (gi + 0.5)
        ax.bar(pos[has], sub["correct"].to_numpy()[has], width * 0.95, color=colour, alpha=0.75,
               label=f"{g}: correct")
        acc = sub["accuracy"].to_numpy(dtype=float)
        err = np.vstack([acc - sub["ci_low"].to_numpy(dtype=float),
                         sub["ci_high"].to_numpy(dtype=float) - acc])
        ax2.errorbar(pos[has], acc[has], yerr=err[:, has], fmt="o-", color=colour,
                     markeredgecolor="black", capsize=3, lw=1.2, label=f"{g}: accuracy")
    ax.set_xticks(x, classes)
    ax.set_ylabel("number of correct answers")
    ax2.set_ylabel("accuracy (rate)")
    ax2.set_ylim(0, 1.05)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize="small", loc="upper left", bbox_to_anchor=(1.08, 1))
    ax.set_title(title or f"Correct answers (bars), accuracy with {level:.0%} CI (markers)",
                 fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["OVERALL", "OVERALL_SHARED", "POOLED_LABELS", "accuracy_table", "align_predictions",
           "compare_groups", "counts_and_rates_figure", "group_columns", "wilson_interval"]
