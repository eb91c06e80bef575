"""Where Noh & Lim's LIME maps lie on the face: each map's (and each image's) share in the
face regions, the regions' areas and enrichment, the male/female or CAFE/NIMH-ChEFS
difference test, and the enrichment figure.

The maps themselves come from :mod:`.lime_maps`; the regions' geometry from
:mod:`emo_lib.explain.regions`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..explain import REGIONS, region_masks, region_shares
from ..stats import stratified_permutation_test, total_variation_distance
from .lime_maps import LimeRun

#: Face regions the paper names (everything else is "other").
NAMED_REGIONS: tuple[str, ...] = ("eyes_brows", "glabella_nose", "mouth")


def region_area_shares(landmarks: np.ndarray, shape: tuple[int, int]) -> dict[str, float]:
    """Share of the image each region covers (what a uniformly spread map would put there)."""
    masks = region_masks(landmarks, shape)
    total = float(np.prod(shape))
    return {r: float(masks[r].sum() / total) for r in REGIONS}


def map_regions(lr: LimeRun) -> pd.DataFrame:
    """Region shares of every heat map (the mean landmarks of its images), the regions' areas
    and the enrichment share / area (1: as a uniform map; above 1: concentrated there)."""
    rows = []
    for key, heat in lr.agg.heatmaps.items():
        lm = lr.landmarks[lr.agg.used[key]].mean(axis=0)
        shares = region_shares(heat, lm)
        area = region_area_shares(lm, heat.shape)
        row = {**dict(zip(lr.group_cols + ["class"], key)), "n_used": len(lr.agg.used[key])}
        row.update({r: shares[r] for r in REGIONS})
        row.update({f"area_{r}": area[r] for r in REGIONS})
        row.update({f"enrichment_{r}": shares[r] / area[r] if area[r] else np.nan
                    for r in REGIONS})
        rows.append(row)
    return pd.DataFrame(rows)


def image_regions(lr: LimeRun) -> pd.DataFrame:
    """Region shares of each explained image's top-k mask (its own landmarks), with its rows'
    data set, gender and class (NaN shares for a mask with no positive superpixel)."""
    shares = [region_shares(r.top_mask, lm) for r, lm in zip(lr.results, lr.landmarks)]
    out = lr.rows[["dataset", "gender", "label", "path"]].rename(columns={"label": "class"})
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(shares)], axis=1)



def region_difference_test(per_image: pd.DataFrame, group_col: str, a: Any, b: Any,
                           strata: Sequence[str] = ("class",), n_perm: int = 2000,
                           seed: int = 0) -> tuple[pd.DataFrame, float, float]:
    """Do the region shares of groups ``a`` and ``b`` differ? Per stratum (e.g. class), the
    total-variation distance between the two groups' mean share vectors (half the summed
    absolute differences: 0 same, 1 disjoint); the statistic is its mean over strata with both
    groups; the p-value permutes ``group_col`` within strata (``n_perm`` times, seeded; see
    :func:`emo_lib.stats.stratified_permutation_test`).

    Returns (per-stratum table, statistic, p-value). Images with empty masks are left out."""
    strata = list(strata)
    data = per_image.dropna(subset=list(REGIONS))
    data = data[data[group_col].isin([a, b])]
    result = stratified_permutation_test(
        data[list(REGIONS)].to_numpy(float), (data[group_col] == a).to_numpy(),
        data[strata] if len(strata) > 1 else data[strata[0]].rename(strata[0]),
        total_variation_distance, n_perm=n_perm, seed=seed, alternative="greater")
    table = result.per_stratum.rename(columns={"statistic": "tv_distance"})
    return table, result.statistic, result.p_value


def region_share_figure(maps: pd.DataFrame, group_cols: Sequence[str]) -> Any:
    """Enrichment (share of the map / share of the image) of each named region per map: 1 is
    what a map spread uniformly over the image would give."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    group_cols = list(group_cols)
    labels = [" / ".join(str(r[c]) for c in group_cols + ["class"]) for _, r in maps.iterrows()]
    colours = sns.color_palette("deep", len(NAMED_REGIONS))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(maps) + 2.5), 3.6))
    x = np.arange(len(maps))
    width = 0.8 / len(NAMED_REGIONS)
    for j, (r, colour) in enumerate(zip(NAMED_REGIONS, colours)):
        ax.bar(x - 0.4 + width * (j + 0.5), maps[f"enrichment_{r}"].to_numpy(float),
               width * 0.95, color=colour, label=r)
    ax.axhline(1.0, color="black", lw=1, ls="--", label="uniform map")
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("share of map / share of image")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Where the LIME maps concentrate, by face region", fontsize=10)
    fig.tight_layout()
    return fig


__all__ = [
    "NAMED_REGIONS", "image_regions", "map_regions", "region_area_shares",
    "region_difference_test", "region_share_figure",
]
