"""Where Noh & Lim's LIME maps lie on the face: each map's (and each image's) share in the five
face regions (:data:`emo_lib.explain.REGIONS`: eyes and brows, glabella and nose bridge, mouth,
the rest of the face, outside the face), the regions' areas and enrichment (share / area), how
many superpixels fall on the face, and the tests on them: whether a set of regions holds more
of the maps than its area (one-sample, over images), whether two groups' maps differ
(permutation) or are equivalent within a margin (TOST), and the enrichment figure.

The maps themselves come from :mod:`.lime_maps`; the regions' geometry from
:mod:`emo_lib.explain.regions`; the claims built on these tests from :mod:`.claims`.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..explain import (
    FACE_REGIONS, NAMED_REGIONS, REGION_LABELS, REGIONS, region_areas, region_masks,
    region_shares,
)
from ..formatting import readable_columns
from ..stats import stratified_permutation_test, tost_from_estimate, total_variation_distance
from .lime_maps import LimeRun
from .names import class_order


def map_regions(lr: LimeRun) -> pd.DataFrame:
    """Region shares of every heat map (the mean landmarks of its images), the regions' areas
    and the enrichment share / area (1: as a uniform map; above 1: concentrated there)."""
    rows = []
    for key, heat in lr.agg.heatmaps.items():
        lm = lr.landmarks[lr.agg.used[key]].mean(axis=0)
        shares = region_shares(heat, lm)
        area = region_areas(lm, heat.shape)
        row = {**dict(zip(lr.group_cols + ["class"], key)), "n_used": len(lr.agg.used[key])}
        row.update({r: shares[r] for r in REGIONS})
        row.update({f"area_{r}": area[r] for r in REGIONS})
        row.update({f"enrichment_{r}": shares[r] / area[r] if area[r] else np.nan
                    for r in REGIONS})
        rows.append(row)
    return pd.DataFrame(rows)


def region_summary(maps: pd.DataFrame, group_cols: Sequence[str]) -> pd.DataFrame:
    """A readable view of :func:`map_regions`: one row per map (its group, class and images),
    one column per region holding "share (x enrichment)"."""
    keys = list(group_cols) + ["class"]
    out = maps[keys + ["n_used"]].rename(columns={"n_used": "images"}).copy()
    for r in REGIONS:
        out[REGION_LABELS[r]] = [f"{s:.3f} (x{e:.2f})" for s, e in
                                 zip(maps[r], maps[f"enrichment_{r}"])]
    return out.set_index(keys)


def image_regions(lr: LimeRun, results: Sequence[Any] | None = None) -> pd.DataFrame:
    """One row per explained image: its data set, gender, class and path, the share of its
    top-k mask in each region (NaN for a mask with no positive superpixel) and each region's
    area in that image (``area_<region>``, from its own landmarks). ``results``: other
    explanations of the same images (e.g. another LIME seed) instead of ``lr.results``."""
    results = lr.results if results is None else results
    shape = lr.images.shape[1:3]
    rows = []
    for r, lm in zip(results, lr.landmarks):
        shares = region_shares(r.top_mask, lm)
        area = region_areas(lm, shape)
        rows.append({**shares, **{f"area_{k}": v for k, v in area.items()}})
    out = lr.rows[["dataset", "gender", "label", "path"]].rename(columns={"label": "class"})
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(rows)], axis=1)


def superpixels_on_face(lr: LimeRun) -> pd.DataFrame:
    """Per explained image: its superpixels (``n_segments``) and those lying mostly (over half
    their pixels) inside the face outline (``n_on_face``): the level of detail the maps can
    show on a face."""
    rows = []
    for r, lm in zip(lr.results, lr.landmarks):
        masks = region_masks(lm, r.segments.shape)
        face = np.any([masks[k] for k in FACE_REGIONS], axis=0)
        size = np.bincount(r.segments.ravel(), minlength=r.n_segments)
        inside = np.bincount(r.segments.ravel(), weights=face.ravel(), minlength=r.n_segments)
        rows.append({"n_segments": int(r.n_segments),
                     "n_on_face": int((inside > 0.5 * np.maximum(size, 1)).sum())})
    out = lr.rows[["dataset", "label"]].rename(columns={"label": "class"}).reset_index(drop=True)
    return pd.concat([out, pd.DataFrame(rows)], axis=1)


def excess_share(per_image: pd.DataFrame, regions: Sequence[str]) -> pd.Series:
    """Per image, the share of its mask in ``regions`` minus their share of the image: 0 for a
    mask spread evenly, positive when the regions hold more of it than their area."""
    regions = list(regions)
    unknown = [r for r in regions if r not in REGIONS]
    if unknown or not regions:
        raise ValueError(f"regions {regions}: choose one or more of {list(REGIONS)}")
    return (per_image[regions].sum(axis=1)
            - per_image[[f"area_{r}" for r in regions]].sum(axis=1))


def enrichment_test(per_image: pd.DataFrame, regions: Sequence[str]) -> dict[str, float]:
    """Do ``regions`` hold more of the images' masks than their area? Over the images (masks
    with no positive superpixel left out): the mean share and mean area of the regions, their
    ratio (enrichment), the mean :func:`excess_share` and the two-sided p-value of a one-sample
    t test of the excess against 0 (Student; NaN with fewer than 2 images or no spread)."""
    excess = excess_share(per_image, regions).to_numpy(float)
    keep = np.isfinite(excess)
    sub = per_image[keep]
    excess = excess[keep]
    share = float(sub[list(regions)].sum(axis=1).mean()) if len(sub) else float("nan")
    area = float(sub[[f"area_{r}" for r in regions]].sum(axis=1).mean()) if len(sub) \
        else float("nan")
    p = float("nan")
    if len(excess) >= 2 and np.ptp(excess) > 0:
        p = float(scipy_stats.ttest_1samp(excess, 0.0).pvalue)
    return {"n_images": int(len(excess)), "share": share, "area": area,
            "enrichment": share / area if area else float("nan"),
            "excess": float(excess.mean()) if len(excess) else float("nan"), "p_value": p}


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


def region_equivalence(per_image: pd.DataFrame, group_col: str, a: Any, b: Any, margin: float,
                       strata: Sequence[str] = ("class",), alpha: float = 0.05) -> pd.DataFrame:
    """Are the region shares of groups ``a`` and ``b`` the same within ``margin``? Per region:
    the difference of the groups' mean shares within each stratum (a minus b), averaged over
    the strata that hold at least two images of each group (equal weights, as
    :func:`region_difference_test`), its standard error sqrt(sum_k (s_ak^2 / n_ak + s_bk^2 /
    n_bk)) / K and Welch-Satterthwaite degrees of freedom, then the two one-sided tests
    (:func:`emo_lib.stats.tost_from_estimate`): ``equivalent`` when the (1 - 2 alpha) interval
    lies inside +/- ``margin``.

    Returns one row per region: ``difference``, ``se``, ``df``, ``ci_low``, ``ci_high``,
    ``tost_p``, ``equivalent``, ``n_a``, ``n_b``, ``n_strata``. Images with empty masks are left
    out; no usable stratum (or no spread) gives NaN, not equivalent."""
    strata = list(strata)
    data = per_image.dropna(subset=list(REGIONS))
    data = data[data[group_col].isin([a, b])]
    blocks = []
    for _, sub in data.groupby(strata, sort=False):
        ga, gb = sub[sub[group_col] == a], sub[sub[group_col] == b]
        if len(ga) >= 2 and len(gb) >= 2:
            blocks.append((ga, gb))
    rows = []
    for r in REGIONS:
        k = len(blocks)
        row: dict[str, Any] = {"region": r, "n_a": sum(len(x) for x, _ in blocks),
                               "n_b": sum(len(y) for _, y in blocks), "n_strata": k}
        if not k:
            rows.append({**row, "difference": np.nan, "se": np.nan, "df": np.nan,
                         "ci_low": np.nan, "ci_high": np.nan, "tost_p": np.nan,
                         "equivalent": False})
            continue
        d = np.mean([x[r].mean() - y[r].mean() for x, y in blocks])
        va = [x[r].var(ddof=1) / len(x) for x, _ in blocks]
        vb = [y[r].var(ddof=1) / len(y) for _, y in blocks]
        total = float(np.sum(va) + np.sum(vb))
        se = math.sqrt(total) / k
        denom = sum(v ** 2 / (len(x) - 1) for v, (x, _) in zip(va, blocks)) \
            + sum(v ** 2 / (len(y) - 1) for v, (_, y) in zip(vb, blocks))
        df = total ** 2 / denom if denom > 0 else math.inf
        res = tost_from_estimate(float(d), se, df, margin, alpha=alpha)
        rows.append({**row, "difference": float(d), "se": se, "df": df, "ci_low": res.ci_low,
                     "ci_high": res.ci_high, "tost_p": res.p_value,
                     "equivalent": bool(res.equivalent)})
    return pd.DataFrame(rows).set_index("region")


def region_share_figure(maps: pd.DataFrame, group_cols: Sequence[str]) -> Any:
    """Enrichment (share of the map / share of the image) of each of the five regions per map:
    1 is what a map spread uniformly over the image would give."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    group_cols = list(group_cols)
    labels = [" / ".join(str(r[c]) for c in group_cols + ["class"]) for _, r in maps.iterrows()]
    colours = sns.color_palette("deep", len(REGIONS))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(maps) + 2.5), 3.6))
    x = np.arange(len(maps))
    width = 0.8 / len(REGIONS)
    for j, (r, colour) in enumerate(zip(REGIONS, colours)):
        ax.bar(x - 0.4 + width * (j + 0.5), maps[f"enrichment_{r}"].to_numpy(float),
               width * 0.95, color=colour, label=REGION_LABELS[r])
    ax.axhline(1.0, color="black", lw=1, ls="--", label="uniform map")
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("share of map / share of image")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Where the LIME maps concentrate, by face region", fontsize=10)
    fig.tight_layout()
    return fig


def image_enrichment_table(per_image: pd.DataFrame, group_cols: Sequence[str],
                           regions: Sequence[str] = REGIONS) -> pd.DataFrame:
    """The enrichment the claims test, per map: for each region, the images' own top-k masks'
    mean share there over the region's mean area at each image's own landmarks
    (:func:`enrichment_test`; images whose mask is empty left out). One row per (group...,
    class) with ``images`` and one column per region, headed by its name.

    It differs from :func:`map_regions`' enrichment (the overlaid map's share, at the map's
    mean landmarks): the overlay pools pixels, so an image with a larger mask weighs more, and
    a region's outline moves with each face only here."""
    keys = [*group_cols, "class"]
    rows = []
    for key, sub in per_image.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(keys, key))
        for r in regions:
            t = enrichment_test(sub, [r])
            row["images"] = t["n_images"]
            row[REGION_LABELS[r]] = t["enrichment"]
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    # the papers' class order within each group, as the region-share table has it
    rank = {c: i for i, c in enumerate(class_order(out["class"]))}
    return out.sort_values([*group_cols, "class"], key=lambda col: col.map(rank)
                           if col.name == "class" else col, kind="stable").reset_index(drop=True)


#: Column keys of the LIME pages' tables and the words a reader sees instead.
LIME_COLUMN_LABELS: dict[str, str] = {
    "n_images": "images", "n_seeds": "seeds", "n_used": "images",
    "mask_iou": "mask overlap across seeds (IoU)",
    "map_correlation": "map correlation across seeds",
    "max_share_sd": "largest region-share SD across seeds",
    "p_value": "p-value", "tost_p": "TOST p-value", "beyond_p": "p-value beyond the margin",
    "equivalent": "within the margin", "tv_distance": "total-variation distance",
    "aus": "action units", "moved": "moved regions",
}
#: The keys of book/paper_values.yaml's LIME readings, as the pages name them.
READING_LABELS: dict[str, str] = {"cafe": "CAFE", "nimh_chefs": "NIMH-ChEFS",
                                  "gender": "male vs female"}


def lime_table(frame: pd.DataFrame, *, pair: tuple[str, str] = ("first group", "second group"),
               level: float | None = None) -> pd.DataFrame:
    """A LIME table as a reader reads it: headers in words (:data:`LIME_COLUMN_LABELS`;
    ``n_a``/``n_b`` as "images (``pair[0]``)"; ``ci_low``/``ci_high`` as the ``level``
    interval's ends; ``moved_enrichment_<region>`` as "change / area: <region>"), a
    ``region`` column's keys as region names, True/False as yes/no. The CSV keeps the keys."""
    out = frame.copy()
    if "region" in out.columns:
        out["region"] = out["region"].map(lambda r: REGION_LABELS.get(r, r))
    labels = {**LIME_COLUMN_LABELS, "n_a": f"images ({pair[0]})", "n_b": f"images ({pair[1]})",
              **{f"moved_enrichment_{r}": f"change / area: {REGION_LABELS[r]}"
                 for r in REGIONS}}
    out = readable_columns(out, labels, level,
                           {"ci_low": "{interval} low", "ci_high": "{interval} high"})
    if out.index.name in labels:
        out.index.name = labels[out.index.name]
    return out


def paper_readings(readings: dict[str, str]) -> pd.DataFrame:
    """The paper's readings of its LIME figures (``noh2023.lime.claims``), one row per data
    set or comparison, named as the pages name them (:data:`READING_LABELS`)."""
    return pd.DataFrame({"the paper's reading": list(readings.values())},
                        index=pd.Index([READING_LABELS.get(k, k) for k in readings],
                                       name="maps"))


__all__ = [
    "LIME_COLUMN_LABELS", "NAMED_REGIONS", "READING_LABELS", "enrichment_test", "excess_share",
    "image_enrichment_table", "image_regions", "lime_table", "map_regions", "paper_readings",
    "region_difference_test", "region_equivalence",
    "region_share_figure", "region_summary", "superpixels_on_face",
]
