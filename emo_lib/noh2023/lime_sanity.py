"""A sanity check of the LIME maps that only a synthetic set allows: the generator knows which
facial action units (AUs) make each expression, so it knows where each expression changes the
face. If LIME's maps do not fall on those regions more than on the rest of the face, they
cannot support claims about regions on any data.

- :func:`moved_regions`: for each class, where its AUs change the face, measured on the
  generator itself: a few faces (children, adolescents, adults) drawn twice, with the class's
  prototype at full intensity and with no AU (same person, pose, light and noise), both cropped
  with the neutral face's box; the per-pixel colour change is split over the five regions
  (:data:`emo_lib.explain.REGIONS`). The regions the class **moves** are those holding at least
  :data:`MOVED_ENRICHMENT` times their share of the face (clearly moved, not merely touched).
- :func:`sanity_table`: per data set and class, over the explained images, whether the moved
  regions hold more of the LIME mask that falls on the face than their share of the face: a
  one-sample t test of the per-image excess (:data:`SANITY_RULE`).
- :func:`sanity_summary`: one verdict over the table and the sentence a page prints.

Not here: the maps (:mod:`.lime_maps`), the region geometry (:mod:`emo_lib.explain.regions`),
the paper's claims (:mod:`.claims`).
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..explain import FACE_REGIONS, REGION_LABELS, REGIONS, region_areas, region_masks
from ..verdicts import (
    CONTRADICTED, NOT_TESTABLE, SUPPORTED, combine_parts, direction_part, direction_verdict,
    p_equals,
)

#: A region counts as moved by a class when it holds at least this many times its share of the
#: face's area in the class's pixel change. Chosen on the generator alone (before any LIME
#: result) so that each class's main units count: at 2 the brows and lids of fear (AU1/2/4/5/7,
#: 1.7) and the nose wrinkle of disgust (AU9, 1.7) would drop out; at 1 a region merely touched
#: (the glabella in anger, 1.0 or less) would count.
MOVED_ENRICHMENT = 1.5
#: Age groups the moved regions are measured on, and faces drawn per group and class.
MOVED_AGE_GROUPS: tuple[str, ...] = ("child", "adolescent", "adult")
MOVED_FACES_PER_GROUP = 4

SANITY_RULE = (
    "**The sanity rule.** For each class, the regions its action units move (measured on the "
    "generator: at least {threshold:g} times their share of the face in the pixel change) are "
    "compared with the rest of the face. Per explained image, the share of the LIME mask on the "
    "face that lies in the moved regions minus their share of the face's area (0: spread "
    "evenly); a one-sample t test over the images: *supported* when the moved regions hold more "
    "with p < {alpha}, *contradicted* when they hold less with p < {alpha}, *inconclusive* "
    "otherwise, *not testable* for a class that moves nothing (neutral) or has too few images. "
    "Over all maps of classes that move a region, by the rule for every part: *supported* "
    "when every such map is (a map with too few images counts against it), else, with the maps' "
    "p-values Holm-corrected, *contradicted* when one holds significantly less, *partly "
    "supported* when some hold more. Unless every such map is supported, the maps do not reliably "
    "find where the expressions are, and their region claims cannot be read as evidence about "
    "faces, on this data or any other.")


def _pixel_change(label: str, age_group: str, gender: str, seed: int, size: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(|expression - neutral| summed over channels, the neutral crop's landmarks), both crops
    made with the neutral face's box so that only the expression differs."""
    from ..data.synthetic import photo_side, render_face, sample_face
    from ..faces import align_face, face_from_landmarks

    spec, _ = sample_face(label, age_group, gender, seed=seed, intensity=1.0)
    neutral = dataclasses.replace(spec, aus={})
    photo0, lm0 = render_face(neutral, photo_side(size))
    photo1, _ = render_face(spec, photo_side(size))
    box = face_from_landmarks(lm0)
    crop0, landmarks = align_face(photo0, box, size)
    crop1, _ = align_face(photo1, box, size)
    return np.abs(crop1.astype(float) - crop0.astype(float)).sum(axis=2), landmarks


def moved_regions(classes: Sequence[str], size: int, *, seed: int = 0,
                  faces_per_group: int = MOVED_FACES_PER_GROUP,
                  threshold: float = MOVED_ENRICHMENT) -> pd.DataFrame:
    """Where each class's action units change the face (module docstring), one row per class:
    ``aus`` (the prototype's units), ``change_<region>`` (share of the pixel change),
    ``area_<region>`` (share of the image), ``moved_enrichment_<region>`` for the face regions
    (change share / area share, both within the face), ``moved`` (the face regions at or above
    ``threshold``; empty for a class without units, e.g. neutral). Faces are drawn at crop side
    ``size`` with seeds ``seed + k``, genders alternating."""
    from ..data.synthetic import PROTOTYPES

    unknown = [c for c in classes if c not in PROTOTYPES]
    if unknown:
        raise ValueError(f"no generator prototype for class(es) {unknown}; the generator draws "
                         f"{sorted(PROTOTYPES)}")
    if faces_per_group < 1:
        raise ValueError(f"faces_per_group must be >= 1, got {faces_per_group}")
    rows = []
    for label in classes:
        aus = sorted(PROTOTYPES[label], key=lambda a: int(a[2:]))
        change = {r: 0.0 for r in REGIONS}
        area = {r: 0.0 for r in REGIONS}
        n = 0
        if aus:
            for group in MOVED_AGE_GROUPS:
                for k in range(faces_per_group):
                    diff, lm = _pixel_change(label, group, ("female", "male")[k % 2], seed + k,
                                             size)
                    if diff.sum() == 0:
                        continue
                    masks = region_masks(lm, diff.shape)
                    a = region_areas(lm, diff.shape)
                    for r in REGIONS:
                        change[r] += float(diff[masks[r]].sum() / diff.sum())
                        area[r] += a[r]
                    n += 1
        row: dict[str, object] = {"class": label, "aus": ", ".join(aus) or "none",
                                  "n_faces": n}
        row.update({f"change_{r}": change[r] / n if n else np.nan for r in REGIONS})
        row.update({f"area_{r}": area[r] / n if n else np.nan for r in REGIONS})
        face_change = sum(change[r] for r in FACE_REGIONS)
        face_area = sum(area[r] for r in FACE_REGIONS)
        enrich = {r: (change[r] / face_change) / (area[r] / face_area)
                  if n and face_change > 0 and area[r] > 0 else np.nan for r in FACE_REGIONS}
        row.update({f"moved_enrichment_{r}": enrich[r] for r in FACE_REGIONS})
        row["moved"] = [r for r in FACE_REGIONS if np.isfinite(enrich[r])
                        and enrich[r] >= threshold]
        rows.append(row)
    return pd.DataFrame(rows).set_index("class")


def within_face_excess(per_image: pd.DataFrame, regions: Sequence[str]) -> pd.Series:
    """Per image: the share of its mask's face part that lies in ``regions`` minus their share
    of the face's area (:func:`emo_lib.noh2023.image_regions` rows; NaN for a mask with nothing
    on the face)."""
    regions = list(regions)
    bad = [r for r in regions if r not in FACE_REGIONS]
    if bad or not regions:
        raise ValueError(f"regions {regions}: choose one or more of the face regions "
                         f"{list(FACE_REGIONS)}")
    on_face = per_image[list(FACE_REGIONS)].sum(axis=1)
    face_area = per_image[[f"area_{r}" for r in FACE_REGIONS]].sum(axis=1)
    share = per_image[regions].sum(axis=1) / on_face.where(on_face > 0)
    area = per_image[[f"area_{r}" for r in regions]].sum(axis=1) / face_area
    return share - area


def sanity_table(per_image: pd.DataFrame, moved: pd.DataFrame, alpha: float = 0.05,
                 by: Sequence[str] = ("dataset", "class")) -> pd.DataFrame:
    """The sanity rule (:data:`SANITY_RULE`) per group of ``by`` (which must include
    ``"class"``): ``moved`` regions (from :func:`moved_regions`), ``n_images`` tested,
    ``n_off_face`` (masks with nothing on the face, left out), the mean share of the face part
    of the masks in the moved regions, their mean share of the face's area, the enrichment
    (ratio), the mean excess, the t test's two-sided ``p_value`` and the ``verdict``."""
    by = list(by)
    if "class" not in by:
        raise ValueError(f"by={by} must include 'class' (the moved regions are per class)")
    rows = []
    for key, sub in per_image.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        cls = dict(zip(by, key))["class"]
        regions = list(moved.loc[cls, "moved"]) if cls in moved.index else []
        row: dict[str, object] = {**dict(zip(by, key)),
                                  "moved": ", ".join(REGION_LABELS[r] for r in regions)
                                  or "none"}
        if not regions:
            rows.append({**row, "n_images": len(sub), "n_off_face": 0, "share": np.nan,
                         "area": np.nan, "enrichment": np.nan, "excess": np.nan,
                         "p_value": np.nan, "verdict": NOT_TESTABLE})
            continue
        excess = within_face_excess(sub, regions)
        ok = excess.notna()
        on_face = sub[list(FACE_REGIONS)].sum(axis=1)
        face_area = sub[[f"area_{r}" for r in FACE_REGIONS]].sum(axis=1)
        share = (sub[regions].sum(axis=1) / on_face.where(on_face > 0))[ok]
        area = (sub[[f"area_{r}" for r in regions]].sum(axis=1) / face_area)[ok]
        x = excess[ok].to_numpy(float)
        p = float(scipy_stats.ttest_1samp(x, 0.0).pvalue) if len(x) >= 2 and np.ptp(x) > 0 \
            else float("nan")
        mean_excess = float(x.mean()) if len(x) else float("nan")
        rows.append({**row, "n_images": int(ok.sum()), "n_off_face": int((~ok).sum()),
                     "share": float(share.mean()) if len(x) else np.nan,
                     "area": float(area.mean()) if len(x) else np.nan,
                     "enrichment": float(share.mean() / area.mean()) if len(x) else np.nan,
                     "excess": mean_excess, "p_value": p,
                     "verdict": direction_verdict(mean_excess, p, alpha)})
    return pd.DataFrame(rows)


def sanity_summary(table: pd.DataFrame, alpha: float = 0.05) -> tuple[str, str]:
    """(verdict over every map of :func:`sanity_table`, a sentence for the page that says
    plainly whether the maps can carry region claims)."""
    # maps of a class that moves nothing (neutral) are outside the check, not parts of it
    scoped = table[table["moved"] != "none"]
    verdict = combine_parts([direction_part(" / ".join(str(r[c]) for c in table.columns
                                                       if c in ("dataset", "gender", "class")),
                                            r["excess"], r["p_value"])
                             for _, r in scoped.iterrows()], alpha).verdict
    testable = table[table["verdict"] != NOT_TESTABLE]
    n_ok = int((testable["verdict"] == SUPPORTED).sum())
    n_bad = int((testable["verdict"] == CONTRADICTED).sum())
    counts = (f"In {n_ok} of {len(testable)} testable maps the moved regions hold more of LIME's "
              f"mask than their share of the face (p < {alpha}); in {n_bad} they hold "
              f"significantly less")
    if len(testable) == 0:
        return verdict, ("No map could be tested (no class with moved regions, or too few "
                         "images), so nothing shows that these maps find where the expressions "
                         "are; their region claims are not evidence.")
    if verdict == SUPPORTED:
        return verdict, (counts + ". The maps find the regions the expressions move, so their "
                         "region shares measure something about the model.")
    worst = testable.sort_values("excess").iloc[0]
    where = " / ".join(str(worst[c]) for c in table.columns if c in ("dataset", "class"))
    return verdict, (counts + f" (weakest: {where}, enrichment {worst['enrichment']:.2f}, "
                     f"{p_equals(worst['p_value'])}). **The maps do not reliably fall where "
                     "the expressions change the face, even here where that is known; so their "
                     "region shares cannot support claims about which face regions a model "
                     "uses, on this data or on any other.**")


def sanity_rule_markdown(alpha: float = 0.05, threshold: float = MOVED_ENRICHMENT) -> str:
    """:data:`SANITY_RULE` in words, for under the sanity table."""
    return SANITY_RULE.format(alpha=alpha, threshold=threshold)


__all__ = [
    "MOVED_AGE_GROUPS", "MOVED_ENRICHMENT", "MOVED_FACES_PER_GROUP", "SANITY_RULE",
    "moved_regions", "sanity_rule_markdown", "sanity_summary", "sanity_table",
    "within_face_excess",
]
