"""The table of the generator's age mechanisms (every constant by which age groups differ), for
the book's pages. The galleries of faces, which crop them the way :mod:`emo_lib.faces` does, are
:mod:`emo_lib.face_gallery` (above faces, which reads data)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from .expressions import EXPRESSION_BY_AGE, INTENSITY_MIN
from .population import AGE_GEOMETRY, AGE_RANGES, maturity


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


__all__ = ["mechanism_table"]
