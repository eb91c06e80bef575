"""Accuracy by group, Noh & Lim's way (Fig. 3, Tables 3-4): the accuracy tables of a
prediction frame, the paper's own numbers in the same shape, and the paper-vs-run layouts.

Claims and their verdicts are in :mod:`.claims`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from .. import paper
from ..formatting import format_signed
from ..metrics import OVERALL, POOLED_LABELS, accuracy_table, compare_groups
from ..stats import tost_two_proportions
from .names import CAFE, GENDERS, NIMH, PAPER, PAPER_KEYS, class_order

#: The paper's own threshold for a "large" male/female accuracy gap (its Section 3.3: "the
#: accuracies of men and women do not differ greatly, by 0.2 or less"); also the equivalence
#: margin of that claim.
GENDER_GAP_THRESHOLD = 0.2
#: Equivalence margin of "overall, male and female accuracies differ little" (the paper: "almost
#: no difference in performance by gender"): half the per-class threshold, since "almost none"
#: over all classes pooled is a stronger statement than "not large" in one class.
OVERALL_GENDER_MARGIN = 0.1


def accuracy_by(preds: pd.DataFrame, by: Sequence[str] = ("dataset",),
                classes: Sequence[str] | None = None, pred_col: str = "pred") -> pd.DataFrame:
    """:func:`emo_lib.metrics.accuracy_table` of a :func:`predict_frame` (several data sets
    concatenated), grouped by ``by``; classes in the papers' order."""
    classes = list(classes) if classes is not None else class_order(preds["label"])
    return accuracy_table(preds["label"].to_numpy(), preds[pred_col].to_numpy(),
                          preds[list(by)], classes=classes)


def rates_figure(table: pd.DataFrame, group_col: str, **options: Any) -> Any:
    """:func:`emo_lib.metrics.counts_and_rates_figure` (kept as the notebooks' entry point)."""
    from ..metrics import counts_and_rates_figure

    return counts_and_rates_figure(table, group_col, **options)



def _paper_n(dataset: str) -> dict[str, dict[str, int]]:
    key = {CAFE: "table1_cafe_counts", NIMH: "table2_nimh_counts"}[dataset]
    return paper.paper_value(f"{PAPER}.{key}")


def paper_accuracy_table(kind: str = "age") -> pd.DataFrame:
    """The paper's numbers as an :func:`accuracy_table`-shaped frame (no intervals), so the
    verdict functions can run on them.

    ``"age"``: Fig. 3's accuracies with Tables 1-2's totals as n (correct = round(acc * n));
    ``"gender"``: Tables 3-4's correct counts with Tables 1-2's gender rows as n.
    """
    rows = []
    for ds in (CAFE, NIMH):
        n = _paper_n(ds)
        if kind == "age":
            acc = paper.paper_value(f"{PAPER}.fig3_accuracy_pretrained.{PAPER_KEYS[ds]}")
            for c, a in acc.items():
                total = n["total"]["total" if c == OVERALL else c]
                rows.append({"dataset": ds, "class": c, "n": total,
                             "correct": int(round(a * total)), "accuracy": a})
        elif kind == "gender":
            key = {CAFE: "table3_cafe_correct_by_gender",
                   NIMH: "table4_nimh_correct_by_gender"}[ds]
            table = paper.paper_value(f"{PAPER}.{key}")
            for g in GENDERS:
                for c, (k, a) in table[g].items():
                    rows.append({"dataset": ds, "gender": g,
                                 "class": OVERALL if c == "total" else c,
                                 "n": n[g][c], "correct": k, "accuracy": a})
        else:
            raise ValueError(f"kind must be 'age' or 'gender', not {kind!r}")
    out = pd.DataFrame(rows)
    out["ci_low"] = out["ci_high"] = np.nan
    return out


def _run_series(acc: pd.DataFrame, **where: Any) -> pd.DataFrame:
    sel = acc
    for col, value in where.items():
        sel = sel[sel[col] == value]
    return sel[sel["n"] > 0].set_index("class")


def fig3_comparison(acc: pd.DataFrame) -> pd.DataFrame:
    """Fig. 3 against this run: per data set and class, the paper's accuracy, this run's, the
    difference and this run's 95 % Wilson interval. No "paper inside the interval" column: on
    synthetic data the interval describes the stand-in on generated faces, and a True/False
    beside the paper's value would read as a test of the paper (the claims below are the
    tests)."""
    parts = {}
    for ds in (CAFE, NIMH):
        run = _run_series(acc, dataset=ds)
        if run.empty:
            continue
        p = paper.paper_value(f"{PAPER}.fig3_accuracy_pretrained.{PAPER_KEYS[ds]}")
        t = paper.compare(p, run["accuracy"])
        t["n"] = run["n"].reindex(t.index)
        t["95 % CI low"] = run["ci_low"].reindex(t.index)
        t["95 % CI high"] = run["ci_high"].reindex(t.index)
        parts[ds] = t
    return pd.concat(parts, names=["dataset", "class"])


def gender_layout(acc: pd.DataFrame, dataset: str, ci: bool = False) -> pd.DataFrame:
    """Tables 3-4's layout: rows male/female, columns the classes and total, cells
    "correct (accuracy)" (with ``ci``: "correct (accuracy) [low, high]")."""
    sub = acc[(acc["dataset"] == dataset) & (acc["n"] > 0)]
    cells: dict[str, dict[str, str]] = {}
    for _, r in sub.iterrows():
        text = f"{int(r['correct'])} ({r['accuracy']:.3f})"
        if ci:
            text += f" [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
        col = "total" if r["class"] == OVERALL else r["class"]
        cells.setdefault(r["gender"], {})[col] = text
    frame = pd.DataFrame(cells).T
    cols = [c for c in class_order(sub["class"]) if c in frame.columns] + ["total"]
    rows = [g for g in GENDERS if g in frame.index] + sorted(set(frame.index) - set(GENDERS))
    return frame.reindex(index=rows, columns=cols)


def gender_comparison(acc: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Table 3 or 4 against this run, one row per (gender, class): the paper's correct count and
    accuracy, this run's n, correct and accuracy, the accuracy difference and this run's
    interval."""
    key = {CAFE: "table3_cafe_correct_by_gender", NIMH: "table4_nimh_correct_by_gender"}[dataset]
    table = paper.paper_value(f"{PAPER}.{key}")
    parts = {}
    for g in GENDERS:
        p = paper.split_pairs(table[g], ("correct", "accuracy")).rename(index={"total": OVERALL})
        run = _run_series(acc, dataset=dataset, gender=g)
        t = pd.DataFrame({"paper correct": p["correct"], "paper accuracy": p["accuracy"]})
        t = t.join(run[["n", "correct", "accuracy", "ci_low", "ci_high"]]
                   .rename(columns={"correct": "run correct", "accuracy": "run accuracy",
                                    "ci_low": "95 % CI low", "ci_high": "95 % CI high"}),
                   how="outer")
        t = t.reindex(list(dict.fromkeys([*p.index, *run.index])))
        t["paper correct"] = t["paper correct"].astype("Int64")
        t["difference"] = t["run accuracy"] - t["paper accuracy"]
        parts[g] = t
    return pd.concat(parts, names=["gender", "class"])


#: gap_tests' columns of the paper's gap: the difference of its accuracies as printed, and the
#: one its counts give (they differ in the last digit where the printed accuracies are rounded).
PAPER_PRINTED, PAPER_COUNTED = "paper difference (printed)", "paper difference (from counts)"


def gap_tests(acc: pd.DataFrame, group_col: str, a: Any, b: Any,
              paper_acc: pd.DataFrame | None = None, *,
              control_features: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`emo_lib.metrics.compare_groups` (Fisher's exact test per class, within each value
    of ``control_features``), with the paper's gap beside when ``paper_acc`` (a
    :func:`paper_accuracy_table`) is given: :data:`PAPER_PRINTED`, the difference of the
    accuracies the paper prints (NaN for a pooled row the paper prints no accuracy for, such as
    the shared classes of two data sets), and :data:`PAPER_COUNTED`, the difference its counts
    give (the same test's input). The page shows both, so the paper's printed value is never
    replaced by a derived one."""
    out = compare_groups(acc, group_col, a, b, control_features=control_features)
    if paper_acc is not None:
        p = compare_groups(paper_acc, group_col, a, b, control_features=control_features)
        keys = [c for c in out.columns if c not in (
            "n_a", "correct_a", "accuracy_a", "n_b", "correct_b", "accuracy_b", "difference",
            "p_value")]
        controls = [k for k in keys if k != "class"]
        printed = paper_acc.set_index([*controls, "class", group_col])["accuracy"]

        def printed_gap(row: pd.Series) -> float:
            # a pooled row labelled "overall" pools every class: the paper prints that accuracy
            cls = row["class"]
            key = tuple(row[k] for k in controls) + (cls,)
            if cls not in printed.index.get_level_values("class"):
                return float("nan")
            try:
                return float(printed.loc[key + (a,)]) - float(printed.loc[key + (b,)])
            except KeyError:
                return float("nan")

        p[PAPER_PRINTED] = p.apply(printed_gap, axis=1) if len(p) else []
        # the pooled rows meet whatever each side's label says it pools ("overall" or
        # "overall (shared classes)"): the run's label is kept
        pooled = "\0pooled"
        p = p.assign(**{"class": p["class"].where(~p["class"].isin(POOLED_LABELS), pooled)})
        joined = out.assign(**{"class": out["class"].where(~out["class"].isin(POOLED_LABELS),
                                                           pooled)})
        joined = joined.merge(p[keys + [PAPER_PRINTED, "difference"]].rename(
            columns={"difference": PAPER_COUNTED}), on=keys, how="left")
        out = out.assign(**{PAPER_PRINTED: joined[PAPER_PRINTED].to_numpy(),
                            PAPER_COUNTED: joined[PAPER_COUNTED].to_numpy()})
    return out


def gap_table(gaps: pd.DataFrame, names: tuple[str, str]) -> pd.DataFrame:
    """:func:`gap_tests`' output as a page shows it: the groups' accuracies headed by
    ``names`` ("accuracy (CAFE)"), the difference, Fisher's p-value, and the paper's gap as
    printed with the one its counts give beside it (a column kept only where some row's
    differs from the printed one at the shown decimals). The CSV keeps every column."""
    controls = [c for c in gaps.columns if c not in (
        "class", "n_a", "correct_a", "accuracy_a", "n_b", "correct_b", "accuracy_b",
        "difference", "p_value", PAPER_PRINTED, PAPER_COUNTED)]
    shown = gaps[controls + ["class", "accuracy_a", "accuracy_b", "difference", "p_value"]].rename(
        columns={"accuracy_a": f"accuracy ({names[0]})", "accuracy_b": f"accuracy ({names[1]})",
                 "p_value": "Fisher p-value"})
    if PAPER_PRINTED in gaps.columns:
        shown[PAPER_PRINTED] = gaps[PAPER_PRINTED]
        counted, printed = gaps[PAPER_COUNTED], gaps[PAPER_PRINTED]
        if any(format_signed(c) != format_signed(p) for c, p in zip(counted, printed)):
            shown[PAPER_COUNTED] = counted
    return shown


def paper_gender_exceptions(threshold: float = GENDER_GAP_THRESHOLD) -> dict[str, list[str]]:
    """Per data set, the classes whose male/female gap exceeds ``threshold`` in the paper's own
    Tables 3-4 (CAFE fear, NIMH-ChEFS neutral)."""
    p = paper_accuracy_table("gender")
    out: dict[str, list[str]] = {}
    for ds in (CAFE, NIMH):
        sub = p[(p["dataset"] == ds) & (p["class"] != OVERALL)]
        wide = sub.pivot(index="class", columns="gender", values="accuracy")
        gap = (wide["male"] - wide["female"]).abs()
        out[ds] = [c for c in class_order(gap.index) if gap[c] > threshold + 1e-9]
    return out



def gap_beyond_p(correct_a: int, n_a: int, correct_b: int, n_b: int, threshold: float,
                 direction: int = 1) -> float:
    """One-sided p-value that the accuracy gap pa - pb lies beyond ``threshold`` on the side of
    ``direction`` (+1: pa - pb > threshold; -1: pa - pb < -threshold), from Newcombe's hybrid
    score interval (:func:`emo_lib.stats.tost_two_proportions`, ``method="newcombe"``): the
    ``alpha`` at which the one-sided (1 - alpha) bound meets the threshold. The p-value of the
    opposite one-sided test (the gap lies within the threshold on that side) is 1 minus it.
    NaN for an empty group."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")
    if n_a == 0 or n_b == 0:
        return float("nan")
    estimate = direction * (correct_a / n_a - correct_b / n_b)
    tiny, half = 1e-12, 0.5 - 1e-12

    def bound(alpha: float, towards: str) -> float:
        r = tost_two_proportions(correct_a, n_a, correct_b, n_b, 1.0, alpha=alpha,
                                 method="newcombe")
        if direction == 1:
            return r.ci_low if towards == "beyond" else r.ci_high
        return -r.ci_high if towards == "beyond" else -r.ci_low

    if estimate == threshold:
        return 0.5
    towards = "beyond" if estimate > threshold else "within"
    # The one-sided bound on the estimate's side moves from the far end (alpha -> 0) to the
    # estimate (alpha -> 0.5); the alpha where it meets the threshold is the p-value.
    f = (lambda a: bound(a, towards) - threshold) if towards == "beyond" else \
        (lambda a: threshold - bound(a, towards))
    if f(tiny) >= 0:
        p = tiny
    else:
        p = float(optimize.brentq(f, tiny, half, xtol=1e-12))
    return p if towards == "beyond" else 1.0 - p


def vggface2_note() -> str:
    """The VGGFace2 shares the paper cites, and its own note that the gender shares do not add
    up."""
    v = paper.paper_value(f"{PAPER}.vggface2_distribution")
    notes = paper.paper_notes(PAPER, "VGGFace2")
    return (f"VGGFace2, the pretraining set, as the paper cites it: ages 0-12 "
            f"{v['age_0_12']:.2%}, 13-17 {v['age_13_17']:.2%} of the images; male "
            f"{v['male']:.1%}, female {v['female']:.1%} (sum {v['male'] + v['female']:.1%}). "
            + " ".join(notes))


#: An accuracy table's interval columns as a page heads them (Wilson's 95 % interval).
INTERVAL_LABELS: dict[str, str] = {"ci_low": "95 % CI low", "ci_high": "95 % CI high"}


def accuracy_view(acc: pd.DataFrame) -> pd.DataFrame:
    """An :func:`accuracy_by` table as a page shows it: the interval's ends headed in words
    (:data:`INTERVAL_LABELS`); the CSV keeps the keys."""
    return acc.rename(columns=INTERVAL_LABELS)


#: The paper's VGGFace2 shares (keys of book/paper_values.yaml) as a reader names them.
VGGFACE2_LABELS: dict[str, str] = {"age_0_12": "ages 0-12", "age_13_17": "ages 13-17",
                                   "male": "male", "female": "female"}


def vggface2_table() -> pd.DataFrame:
    """The VGGFace2 shares the paper cites, one row per group named in words (the YAML keys
    stay in the file)."""
    v = paper.paper_value(f"{PAPER}.vggface2_distribution")
    return pd.DataFrame({"share of the images": [float(x) for x in v.values()]},
                        index=pd.Index([VGGFACE2_LABELS.get(k, k) for k in v], name="group"))


__all__ = [
    "INTERVAL_LABELS", "VGGFACE2_LABELS", "accuracy_view", "vggface2_table",
    "GENDER_GAP_THRESHOLD", "OVERALL_GENDER_MARGIN", "accuracy_by", "fig3_comparison",
    "PAPER_COUNTED", "PAPER_PRINTED", "gap_beyond_p", "gap_table", "gap_tests",
    "gender_comparison",
    "gender_layout", "paper_accuracy_table", "paper_gender_exceptions", "rates_figure",
    "vggface2_note",
]
