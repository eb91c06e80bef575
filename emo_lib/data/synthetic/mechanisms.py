"""The generator's age differences as named mechanisms, each of which can be drawn with
another age group's value (to find out which of them makes an accuracy gap).

The generator draws children and adolescents differently in two places: how they pose
(:data:`~.expressions.EXPRESSION_BY_AGE`, one :class:`~.expressions.ExpressionStyle` per age
group) and how their faces are proportioned (:data:`~.population.AGE_GEOMETRY`, through
*maturity*). :data:`AGE_MECHANISMS` names each difference once; a preset drawn with
``draw_as={"au_dropout": "adolescent"}`` draws its children exactly as before (same people,
same photographs, same random numbers) except that each prototype action unit goes missing
with the adolescents' probability. ``"geometry"`` draws a child's face at the maturity of an
adolescent of the same rank in the adolescents' age range (hair, greying and the recorded age
stay the child's).

This module only says which constants belong to which mechanism and builds the swapped
style; it draws nothing (:mod:`.presets` and :mod:`.population` do).

:func:`mechanism_table` lists every constant by which age groups differ, for the book's pages
(the galleries of faces, which crop them the way :mod:`emo_lib.faces` does, are
:mod:`emo_lib.face_gallery`, above faces, which reads data).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import pandas as pd

from .expressions import EXPRESSION_BY_AGE, INTENSITY_MIN, ExpressionStyle
from .population import AGE_GEOMETRY, AGE_RANGES, maturity


#: Mechanism -> the :class:`ExpressionStyle` fields it swaps (``"geometry"``: none; it swaps
#: the maturity every :data:`AGE_GEOMETRY` proportion, the brows and the gender dimorphism
#: follow).
AGE_MECHANISMS: dict[str, tuple[str, ...]] = {
    "intensity": ("intensity_mean", "intensity_sd"),
    "au_noise": ("au_noise_sd",),
    "asymmetry": ("asymmetry_sd",),
    "au_dropout": ("au_dropout",),
    "blend": ("blend_prob", "blend_weight"),
    "spurious": ("spurious_sd",),
    "geometry": (),
}
#: What each mechanism is, in words (tables and the book).
MECHANISM_TITLES: dict[str, str] = {
    "intensity": "expression intensity",
    "au_noise": "action-unit noise",
    "asymmetry": "left/right asymmetry",
    "au_dropout": "action-unit dropout",
    "blend": "blends with a neighbouring expression",
    "spurious": "spurious action units",
    "geometry": "face geometry (maturity)",
}
GEOMETRY = "geometry"


def check_draw_as(draw_as: Mapping[str, str] | None) -> dict[str, str]:
    """``draw_as`` validated and in a canonical order (mechanism -> age group); ``{}`` for
    None. A bad name says which are allowed."""
    if draw_as is None:
        return {}
    if not isinstance(draw_as, Mapping):
        raise ValueError(f"draw_as must be a mapping mechanism -> age group, got {draw_as!r}")
    out = {}
    for name in sorted(draw_as):
        group = draw_as[name]
        if name not in AGE_MECHANISMS:
            raise ValueError(f"draw_as: unknown mechanism {name!r}; known: {list(AGE_MECHANISMS)}")
        if group not in EXPRESSION_BY_AGE:
            raise ValueError(f"draw_as[{name!r}]: unknown age group {group!r}; known: "
                             f"{list(EXPRESSION_BY_AGE)}")
        out[name] = str(group)
    return out


def expression_style(age_group: str, draw_as: Mapping[str, str]) -> ExpressionStyle | None:
    """The expression style of ``age_group`` with the swapped fields taken from their groups;
    None when no expression mechanism is swapped away from ``age_group`` (the generator then
    takes its usual path)."""
    changes: dict[str, Any] = {}
    for name, group in draw_as.items():
        if group == age_group:
            continue
        for field in AGE_MECHANISMS[name]:
            changes[field] = getattr(EXPRESSION_BY_AGE[group], field)
    return replace(EXPRESSION_BY_AGE[age_group], **changes) if changes else None


def geometry_group(age_group: str, draw_as: Mapping[str, str]) -> str | None:
    """The age group whose maturity a face of ``age_group`` is drawn at; None: its own."""
    group = draw_as.get(GEOMETRY)
    return None if group in (None, age_group) else group


def rank_age(age: float, age_group: str, other: str) -> float:
    """The age at the same rank in ``other``'s range as ``age`` in ``age_group``'s (both drawn
    uniformly: :func:`.population.sample_age`)."""
    def span(group: str) -> tuple[float, float]:
        lo, hi = AGE_RANGES[group]
        return lo, (hi + 1.0 if group != "adult" else hi)

    lo, hi = span(age_group)
    lo2, hi2 = span(other)
    return lo2 + (age - lo) / (hi - lo) * (hi2 - lo2)


def mechanism_values(name: str, group: str) -> dict[str, Any]:
    """The constants of mechanism ``name`` for age ``group``, as the generator holds them
    (``"geometry"``: the maturity range of the group's ages)."""
    if name not in AGE_MECHANISMS:
        raise ValueError(f"unknown mechanism {name!r}; known: {list(AGE_MECHANISMS)}")
    if name == GEOMETRY:
        lo, hi = AGE_RANGES[group]
        return {"maturity": (round(maturity(lo), 2),
                             round(maturity(hi + 1.0 if group != "adult" else hi), 2))}
    style = EXPRESSION_BY_AGE[group]
    return {field: getattr(style, field) for field in AGE_MECHANISMS[name]}


def mechanism_text(name: str, group: str) -> str:
    """The constants of :func:`mechanism_values` as short text, e.g. ``au_dropout 0.25``."""
    parts = []
    for field, value in mechanism_values(name, group).items():
        if isinstance(value, tuple):
            parts.append(f"{field} {value[0]:g}-{value[1]:g}")
        else:
            parts.append(f"{field} {value:g}")
    return ", ".join(parts)


def mechanism_compare(name: str, a: str = "child", b: str = "adolescent",
                      sep: str = " vs ") -> str:
    """Each constant of mechanism ``name`` for groups ``a`` and ``b``, e.g.
    ``au_dropout 0.25 vs 0.06``."""
    def text(value: Any) -> str:
        return f"{value[0]:g}-{value[1]:g}" if isinstance(value, tuple) else f"{value:g}"

    va, vb = mechanism_values(name, a), mechanism_values(name, b)
    return ", ".join(f"{field} {text(va[field])}{sep}{text(vb[field])}" for field in va)


def age_differences(a: str = "child", b: str = "adolescent") -> list[str]:
    """The mechanisms whose constants differ between age groups ``a`` and ``b`` (read from the
    generator: a mechanism both draw alike is no difference to remove)."""
    return [name for name in AGE_MECHANISMS
            if name == GEOMETRY and a != b
            or name != GEOMETRY and mechanism_values(name, a) != mechanism_values(name, b)]


#: Mid-age of each group, where the geometry column of :func:`mechanism_table` is evaluated.
def _mid_age(group: str) -> float:
    lo, hi = AGE_RANGES[group]
    return (lo + hi + (0.0 if group == "adult" else 1.0)) / 2.0


def mechanism_table() -> pd.DataFrame:
    """Every constant by which age groups differ, one row each, one column per age group.

    Expression rows come from ``EXPRESSION_BY_AGE``; geometry rows interpolate
    ``AGE_GEOMETRY`` at each group's mid-age (children 5.5, adolescents 14, adults at full
    maturity).
    """
    groups = ("child", "adolescent", "adult")
    rows: list[dict[str, Any]] = []
    meaning = {
        "intensity_mean": "mean expression intensity (scales every prototype AU)",
        "intensity_sd": f"sd of intensity (clipped to [{INTENSITY_MIN}, 1])",
        "au_noise_sd": "per-AU jitter added to each prototype AU",
        "au_dropout": "chance a prototype AU is missing",
        "asymmetry_sd": "per-side jitter of each AU",
        "blend_prob": "chance of blending in the neighbouring expression",
        "blend_weight": "weight range of that neighbour",
        "spurious_sd": "|N(0, sd)| activation of non-prototype AUs",
    }
    for name, text in meaning.items():
        row = {"kind": "expression", "constant": name, "meaning": text}
        for g in groups:
            v = getattr(EXPRESSION_BY_AGE[g], name)
            row[g] = f"{v[0]}-{v[1]}" if isinstance(v, tuple) else v
        rows.append(row)
    m = {g: maturity(_mid_age(g)) for g in groups}
    rows.append({"kind": "geometry", "constant": "maturity", "meaning":
                 "0 at age 2, 1 from 18 on; interpolates every geometry row",
                 **{g: round(m[g], 3) for g in groups}})
    for name, (child, adult) in AGE_GEOMETRY.items():
        rows.append({"kind": "geometry", "constant": name,
                     "meaning": f"child (age 2) {child} -> adult {adult}",
                     **{g: round(child + (adult - child) * m[g], 4) for g in groups}})
    table = pd.DataFrame(rows).set_index(["kind", "constant"])
    return table[[*groups, "meaning"]]


__all__ = ["AGE_MECHANISMS", "GEOMETRY", "MECHANISM_TITLES", "age_differences", "check_draw_as",
           "expression_style", "geometry_group", "mechanism_compare", "mechanism_table",
           "mechanism_text", "mechanism_values", "rank_age"]
