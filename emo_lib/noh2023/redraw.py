"""Which drawn difference carries the synthetic gap? The children's test set re-drawn with one
of the generator's age differences set to the adolescents' value at a time, all of them at
once, and (what else differs between the two presets) CAFE's open/closed mouth variants; the
same model evaluated on each.

A re-drawn set holds the same children, photographs and random numbers as the default draw
(:mod:`emo_lib.data.synthetic.mechanisms`), so each condition's change of the gap is a paired
difference on the same children. Statistics: :mod:`.contrasts`. Not here: the verdicts
(:mod:`.explanation`) and the training-set experiment (:mod:`.composition`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..data.synthetic.mechanisms import (
    AGE_MECHANISMS, MECHANISM_TITLES, age_differences, mechanism_compare,
)
from .contrasts import Contrast, contrast, correct

#: The condition names that are not one mechanism.
AS_DRAWN, ALL_AGE, MOUTH, EVERYTHING = "as drawn", "all age mechanisms", "mouth variants", \
    "all differences"
CHILD, ADOLESCENT = "child", "adolescent"


@dataclass(frozen=True)
class Condition:
    """One re-drawing of the children: its ``name``, what it changes in words, and the
    ``cafe_like`` options that draw it."""

    name: str
    changes: str
    options: dict[str, Any]


def redraw_conditions(mechanisms: Sequence[str] | None = None) -> list[Condition]:
    """The default draw, each of ``mechanisms`` (default: every age difference the generator
    draws, :func:`~emo_lib.data.synthetic.mechanisms.age_differences`) drawn as the
    adolescents', all of them at once, CAFE's mouth variants removed (the prototype's own
    mouth), and everything at once."""
    names = age_differences(CHILD, ADOLESCENT) if mechanisms is None else list(mechanisms)
    unknown = [m for m in names if m not in AGE_MECHANISMS]
    if unknown:
        raise ValueError(f"unknown mechanism(s) {unknown}; known: {list(AGE_MECHANISMS)}")
    every = {m: ADOLESCENT for m in age_differences(CHILD, ADOLESCENT)}
    out = [Condition(AS_DRAWN, "none (the default draw)", {})]
    for m in names:
        out.append(Condition(MECHANISM_TITLES[m], mechanism_compare(m, CHILD, ADOLESCENT, " -> "),
                             {"draw_as": {m: ADOLESCENT}}))
    out.append(Condition(ALL_AGE, "every age mechanism at the adolescents' value: "
                         + ", ".join(MECHANISM_TITLES[m] for m in every), {"draw_as": every}))
    out.append(Condition(MOUTH, "CAFE's alternating open/closed mouths -> each expression's "
                         "own mouth (as NIMH-ChEFS is drawn)", {"mouth_variants": False}))
    out.append(Condition(EVERYTHING, "every age mechanism and the mouth variants",
                         {"draw_as": every, "mouth_variants": False}))
    return out


def redraw_table(children: Mapping[str, pd.DataFrame], adolescents: pd.DataFrame,
                 conditions: Sequence[Condition], alpha: float = 0.05
                 ) -> tuple[pd.DataFrame, dict[str, Contrast], dict[str, Contrast]]:
    """Per condition: the children's and adolescents' accuracy, the gap (children minus
    adolescents) with its interval, whether that interval contains 0, and the change of the gap
    against the default draw (paired on the same children) with its interval and the share of
    the default gap it removes. ``children``: condition name -> :func:`predict_frame` of the
    re-drawn children (rows in the default draw's order); ``adolescents``: the default
    adolescents' predictions. Returns (table, {condition: gap}, {condition: change}) with the
    :class:`Contrast` of each gap and change."""
    base = children[AS_DRAWN]
    base_correct = correct(base)
    subjects = base["subject_id"].to_numpy()
    ad_correct, ad_subjects = correct(adolescents), adolescents["subject_id"].to_numpy()
    rows, gaps, changes = [], {}, {}
    base_gap = None
    for cond in conditions:
        frame = children[cond.name]
        if frame["subject_id"].tolist() != base["subject_id"].tolist() or \
                frame["label"].tolist() != base["label"].tolist():
            raise ValueError(f"condition {cond.name!r}: its children are not the default "
                             "draw's, row for row (same seed and scale?)")
        c = correct(frame)
        gap = contrast(c, subjects, ad_correct, ad_subjects, alpha)
        gaps[cond.name] = gap
        base_gap = gap if cond.name == AS_DRAWN else base_gap
        change = changes[cond.name] = contrast(c - base_correct, subjects, alpha=alpha)
        rows.append({
            "condition": cond.name, "changes": cond.changes,
            "children": float(c.mean()), "adolescents": float(ad_correct.mean()),
            "gap": gap.estimate, "gap_ci_low": gap.ci_low, "gap_ci_high": gap.ci_high,
            "gap_p_value": gap.p_value, "contains_0": gap.contains_zero,
            "change": change.estimate, "change_ci_low": change.ci_low,
            "change_ci_high": change.ci_high,
            "share_of_gap": (-change.estimate / base_gap.estimate
                             if base_gap is not None and base_gap.estimate else np.nan)})
    return pd.DataFrame(rows), gaps, changes


def redraw_reading(table: pd.DataFrame, gaps: Mapping[str, Contrast]) -> str:
    """What the table says, in words computed from it: the mechanisms that move the gap most,
    whether the age mechanisms together close it (their interval contains 0), and what the
    mouth variants add."""
    rows = table.set_index("condition")
    singles = rows.drop(index=[n for n in (AS_DRAWN, ALL_AGE, MOUTH, EVERYTHING)
                               if n in rows.index])
    parts = [f"As drawn, the gap is {gaps[AS_DRAWN].text()}."]
    def moved(name: str) -> str:
        return (f"{name} ({rows.loc[name, 'change']:+.3f}, "
                f"{rows.loc[name, 'share_of_gap']:.0%} of the gap)")

    if len(singles) == 1:
        parts.append(f"The one mechanism drawn alone moves it by: {moved(singles.index[0])}.")
    elif len(singles):
        top = singles["change"].sort_values(ascending=False).head(2)
        parts.append("One at a time, the mechanisms that close it most are "
                     + " and ".join(moved(name) for name in top.index) + ".")

    def closes(name: str) -> str:
        g = gaps[name]
        return (f"{g.text()}, an interval that " + ("contains 0" if g.contains_zero
                                                    else "excludes 0"))

    if ALL_AGE in gaps:
        parts.append(f"All age mechanisms at once leave {closes(ALL_AGE)}.")
    if MOUTH in gaps:
        parts.append(f"Removing CAFE's mouth variants alone leaves {closes(MOUTH)}.")
    if EVERYTHING in gaps:
        parts.append(f"Both together leave {closes(EVERYTHING)}.")
        if ALL_AGE in gaps and not gaps[ALL_AGE].contains_zero and gaps[EVERYTHING].contains_zero:
            parts.append("So the age mechanisms do not carry the whole gap: the rest is CAFE's "
                         "open and closed mouths, a difference of the two data sets' protocols, "
                         "not of age.")
        elif not gaps[EVERYTHING].contains_zero:
            parts.append("Something else still separates the two sets on this run: besides "
                         "what is drawn differently, they differ in their classes (CAFE has "
                         "disgust and surprise, NIMH-ChEFS not) and class counts (Tables 1-2).")
    return " ".join(parts)


def redraw_figure(table: pd.DataFrame, alpha: float = 0.05) -> Any:
    """The gap per condition with its interval (a dot plot): 0 is no gap; the dashed line is
    the default draw's gap."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 0.42 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    err = np.vstack([table["gap"] - table["gap_ci_low"], table["gap_ci_high"] - table["gap"]])
    ax.errorbar(table["gap"], y, xerr=err, fmt="o", color="C0", capsize=3)
    ax.axvline(0.0, color="black", lw=1)
    ax.axvline(float(table["gap"].iloc[0]), color="C3", ls="--", lw=1,
               label=f"{table['condition'].iloc[0]}")
    ax.set_yticks(y, table["condition"])
    ax.set_xlabel(f"children minus adolescents, accuracy ({1 - alpha:.0%} interval)")
    ax.set_title("The gap with the children re-drawn")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


__all__ = ["ALL_AGE", "AS_DRAWN", "Condition", "EVERYTHING", "MOUTH", "redraw_conditions",
           "redraw_figure", "redraw_reading", "redraw_table"]
