"""The presets: synthetic sets whose counts mirror the papers' tables, generated and cached.

Counts are read from ``book/paper_values.yaml`` (the project's transcription of the papers,
through :mod:`emo_lib.paper`), never retyped here. A preset is a *plan* (one row per image:
label, gender, age group, subject, extras), then one drawing per row. Every random choice is keyed
by ``(seed, preset, purpose, index)``, so the same options give byte-identical PNGs.
"""
from __future__ import annotations

import logging
import os
import shutil
import zlib
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from ...cache import DiskCache
from ...storage import atomic_path, pid_alive, write_json
from ...validation import check_choice, check_choices, check_int, check_positive
from ..manifest import EMOTIONS_7, EMOTIONS_8, LANDMARK_COLUMNS, Manifest, make_manifest
from .expressions import expression_constants, sample_expression
from .face import SUPERSAMPLE, FaceSpec, render_face
from .mechanisms import check_draw_as, expression_style, geometry_group, rank_age
from .population import (
    averted_gaze, population_constants, sample_background, sample_identity, sample_photo,
)

log = logging.getLogger(__name__)


#: Photographs are drawn this many times larger than the face crop they are drawn for: the
#: face crop of ``emo_lib.faces`` (MTCNN-like box from the landmarks, margin 0.2) spans about
#: 0.68 of the photo, so ``prepare_faces(manifest, size)`` crops at native resolution and the
#: photo has background, hair and shoulders around the crop, as a real portrait does.
PHOTO_PER_CROP = 1.5


def photo_side(size: int) -> int:
    """Side in pixels of the photographs drawn for face crops of side ``size``."""
    return int(round(size * PHOTO_PER_CROP))

PRESETS: tuple[str, ...] = ("adult_pretrain", "cafe_like", "nimh_like", "se30k8_like")

#: Children in CAFE (LoBue & Thrasher 2015): 154; each poses several expressions.
CAFE_SUBJECTS = 154
#: Child actors in NIMH-ChEFS (Egger et al. 2011): 59, each with direct and averted gaze.
NIMH_SUBJECTS = 59
#: adult_pretrain: images per identity (VGGFace2-like: many identities, several images each).
ADULT_IMAGES_PER_SUBJECT = 5
ADULT_DEFAULT_N = 3500
#: se30k8_like: stock photographs, mostly different people.
SE30K8_IMAGES_PER_SUBJECT = 3
#: se30k8_like age mix (stock photos: mostly adults). Shares of every class.
SE30K8_AGE_MIX: dict[str, float] = {"adult": 0.85, "adolescent": 0.08, "child": 0.07}
#: se30k8_like class order, most to least frequent (AffectNet's order; the real per-class
#: counts are only in the paper's Fig. 1). Counts fall geometrically from first to last.
SE30K8_ORDER: tuple[str, ...] = ("happy", "neutral", "sad", "angry", "surprise", "fear",
                                 "disgust", "contempt")
#: Smallest class count kept at small scales (so every class can be split and stratified);
#: below the scale where it binds, the imbalance ratio is smaller than the paper's.
MIN_CLASS_COUNT = 2
#: PNG compression: level 1 with Huffman-only coding is the fastest and, on noisy pixels,
#: also the smallest (lossless either way).
PNG_COMPRESS_LEVEL = 1

_ALLOWED_OPTIONS = ("seed", "size", "scale", "n", "progress", "draw_as", "child_share",
                    "male_share", "mouth_variants")
#: Options of ``adult_pretrain`` alone: the composition of the pretraining set.
_COMPOSITION_OPTIONS = ("child_share", "male_share")


# --------------------------------------------------------------------------------------------
# the papers' numbers


def paper_values() -> dict[str, Any]:
    """The papers' numbers (``book/paper_values.yaml``, via :mod:`emo_lib.paper`)."""
    from ...paper import load_paper_values   # lazy: keeps the generator import light

    return load_paper_values()


def _table(key: str, classes: Sequence[str]) -> dict[str, dict[str, int]]:
    """gender -> class -> count from one of Noh & Lim's tables, checked against its totals."""
    table = paper_values()["noh2023"][key]
    out = {g: {c: int(table[g][c]) for c in classes} for g in ("male", "female")}
    for g in ("male", "female"):
        if sum(out[g].values()) != table[g]["total"]:
            raise ValueError(f"paper_values.yaml noh2023.{key}.{g}: classes do not add up to total")
    return out


def _scaled(count: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, int(round(count * scale)))


def _check_scale(scale: float) -> float:
    return check_positive("scale", scale)


def cafe_counts(scale: float = 1.0) -> dict[str, dict[str, int]]:
    """gender -> class -> images of ``cafe_like``: Noh & Lim's Table 1 (times ``scale``,
    at least 1 a cell)."""
    scale = _check_scale(scale)
    return {g: {c: _scaled(v, scale) for c, v in row.items()}
            for g, row in _table("table1_cafe_counts", EMOTIONS_7).items()}


NIMH_CLASSES: tuple[str, ...] = ("angry", "fear", "happy", "neutral", "sad")


def nimh_counts(scale: float = 1.0) -> dict[str, dict[str, int]]:
    """gender -> class -> images of ``nimh_like``: Noh & Lim's Table 2 (times ``scale``)."""
    scale = _check_scale(scale)
    return {g: {c: _scaled(v, scale) for c, v in row.items()}
            for g, row in _table("table2_nimh_counts", NIMH_CLASSES).items()}


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if total < 0 or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"cannot apportion {total} by weights {list(weights)}")
    exact = total * w / w.sum()
    base = np.floor(exact).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: total - base.sum()]] += 1
    return base.tolist()


def adult_male_share() -> float:
    """Male share of VGGFace2 as Noh & Lim cite it (0.593 of all images)."""
    return float(paper_values()["noh2023"]["vggface2_distribution"]["male"])


def adult_counts(n: int = ADULT_DEFAULT_N, scale: float = 1.0) -> dict[str, dict[str, int]]:
    """gender -> class -> images of ``adult_pretrain``: ``round(n * scale)`` images, the 7
    classes balanced, each class split by the VGGFace2 male share."""
    return {g: counts for (g, _), counts in pretrain_counts(n, scale).items()}


def pretrain_counts(n: int = ADULT_DEFAULT_N, scale: float = 1.0, child_share: float = 0.0,
                    male_share: float | None = None) -> dict[tuple[str, str], dict[str, int]]:
    """(gender, age group) -> class -> images of ``adult_pretrain``: ``round(n * scale)``
    images, the 7 classes balanced; each class split into children (aged as ``cafe_like``'s)
    by ``child_share`` (1: children only) and adults, each part by ``male_share`` (default:
    VGGFace2's male share as the paper cites it). Cells with no images are left out (the
    default has adults only)."""
    total = int(round(int(n) * _check_scale(scale)))
    if total < len(EMOTIONS_7):
        raise ValueError(f"adult_pretrain needs n * scale >= {len(EMOTIONS_7)}, got {total}")
    child_share, male_share = _check_composition(child_share, male_share)
    share = adult_male_share() if male_share is None else male_share
    out: dict[tuple[str, str], dict[str, int]] = {
        (g, a): {} for a in ("adult", "child") for g in ("male", "female")}
    for c, k in zip(EMOTIONS_7, apportion(total, [1.0] * len(EMOTIONS_7))):
        adults, children = apportion(k, [1.0 - child_share, child_share])
        for group, k_group in (("adult", adults), ("child", children)):
            out[("male", group)][c], out[("female", group)][c] = \
                apportion(k_group, [share, 1.0 - share])
    return {cell: counts for cell, counts in out.items() if sum(counts.values())}


def _check_composition(child_share: Any, male_share: Any) -> tuple[float, float | None]:
    def share(name: str, value: Any, closed: bool) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                                 np.floating)) \
                or not np.isfinite(value) or not (0.0 <= value <= 1.0 if closed
                                                  else 0.0 < value < 1.0):
            raise ValueError(f"{name} must be a number in {'[0, 1]' if closed else '(0, 1)'}, "
                             f"got {value!r}")
        return float(value)

    return (share("child_share", child_share, True),
            None if male_share is None else share("male_share", male_share, False))


def se30k8_counts(scale: float = 1.0) -> dict[str, int]:
    """class -> images of ``se30k8_like``.

    At scale 1: a geometric profile over ``SE30K8_ORDER`` whose largest class is exactly
    ``imbalance_ratio`` (54) times the smallest and whose total is the paper's ~28,000.
    Each count is then ``round(scale * count)``, at least ``MIN_CLASS_COUNT``, so at very
    small scales the ratio shrinks.
    """
    scale = _check_scale(scale)
    ds = paper_values()["jeong2021"]["dataset"]
    total, ratio, k = int(ds["images"]), float(ds["imbalance_ratio"]), int(ds["classes"])
    if k != len(SE30K8_ORDER):
        raise ValueError(f"paper_values.yaml says SE30K8 has {k} classes, the preset has "
                         f"{len(SE30K8_ORDER)}")
    rel = ratio ** (np.arange(k - 1, -1, -1) / (k - 1))      # ratio ... 1
    smallest = int(round(total / rel.sum()))
    counts = np.rint(smallest * rel).astype(int)
    counts[0], counts[-1] = int(round(ratio * smallest)), smallest
    # put the rounding residual on the middle classes so the total is exact, the ends fixed
    residual = total - counts.sum()
    middle = np.arange(1, k - 1)
    for j in range(abs(residual)):
        counts[middle[j % len(middle)]] += int(np.sign(residual))
    return {c: _scaled(int(v), scale, MIN_CLASS_COUNT) for c, v in zip(SE30K8_ORDER, counts)}


def preset_names() -> list[str]:
    """The synthetic presets, for ``load_dataset("synthetic:<name>")``."""
    return list(PRESETS)


def _classes(name: str) -> tuple[str, ...]:
    return {"cafe_like": EMOTIONS_7, "nimh_like": NIMH_CLASSES, "adult_pretrain": EMOTIONS_7,
            "se30k8_like": EMOTIONS_8}[name]


# --------------------------------------------------------------------------------------------
# plans: one row per image, before drawing


def _stream(name: str) -> int:
    return zlib.crc32(name.encode())


def _rng(seed: int, name: str, purpose: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([int(seed), _stream(name), purpose, index])


def _deal(labels: list[str], n_subjects: int, rng: np.random.Generator) -> list[int]:
    """Give label-sorted images to subjects round-robin (from a shuffled subject order), so
    each subject poses several different expressions and subjects get nearly equal shares."""
    order = rng.permutation(n_subjects)
    return [int(order[j % n_subjects]) for j in range(len(labels))]


def _alternate(rows: list[dict[str, Any]], column: str, values: tuple[str, str],
               rng: np.random.Generator, fixed: dict[str, str] | None = None) -> None:
    """Within each subject and label, alternate two variants (first one random): CAFE's
    open/closed mouth, NIMH-ChEFS's direct/averted gaze."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if fixed and row["label"] in fixed:
            row[column] = fixed[row["label"]]
            continue
        key = (row["subject_id"], row["label"])
        if key not in seen:
            seen[key] = int(rng.integers(2))
        else:
            seen[key] = 1 - seen[key]
        row[column] = values[seen[key]]


def _cells_to_rows(name: str, cells: dict[tuple[str, str], dict[str, int]],
                   images_per_subject: float, rng: np.random.Generator) -> list[dict[str, Any]]:
    """(gender, age_group) -> class -> count, to rows with subjects dealt within each cell."""
    rows: list[dict[str, Any]] = []
    next_subject = 0
    for (gender, age_group), counts in cells.items():
        labels = [c for c, k in counts.items() for _ in range(k)]
        if not labels:
            continue
        n_subj = max(1, int(round(len(labels) / images_per_subject)))
        for label, s in zip(labels, _deal(labels, n_subj, rng)):
            rows.append({"label": label, "gender": gender, "age_group": age_group,
                         "subject_id": f"{name}-s{next_subject + s:04d}",
                         "subject": next_subject + s})
        next_subject += n_subj
    return rows


def _plan(name: str, seed: int, scale: float, n: int | None, child_share: float = 0.0,
          male_share: float | None = None) -> pd.DataFrame:
    """The rows of preset ``name`` (label, gender, age_group, subject_id, extras), shuffled."""
    check_choice("synthetic preset", name, PRESETS)
    if n is not None and name != "adult_pretrain":
        raise ValueError(f"option n applies to adult_pretrain only; use scale for {name}")
    rng = _rng(seed, name, 0)
    if name == "cafe_like":
        counts = cafe_counts(scale)
        per_subject = sum(sum(r.values()) for r in cafe_counts(1.0).values()) / CAFE_SUBJECTS
        rows = _cells_to_rows(name, {(g, "child"): counts[g] for g in counts}, per_subject, rng)
        _alternate(rows, "mouth", ("open", "closed"), rng, fixed={"surprise": "open"})
    elif name == "nimh_like":
        counts = nimh_counts(scale)
        per_subject = sum(sum(r.values()) for r in nimh_counts(1.0).values()) / NIMH_SUBJECTS
        rows = _cells_to_rows(name, {(g, "adolescent"): counts[g] for g in counts}, per_subject,
                              rng)
        _alternate(rows, "gaze", ("direct", "averted"), rng)
    elif name == "adult_pretrain":
        rows = _cells_to_rows(name, pretrain_counts(ADULT_DEFAULT_N if n is None else n, scale,
                                                    child_share, male_share),
                              ADULT_IMAGES_PER_SUBJECT, rng)
    else:
        cells: dict[tuple[str, str], dict[str, int]] = {}
        groups = list(SE30K8_AGE_MIX)
        for label, k in se30k8_counts(scale).items():
            for group, k_age in zip(groups, apportion(k, list(SE30K8_AGE_MIX.values()))):
                for gender, k_g in zip(("female", "male"), apportion(k_age, [0.5, 0.5])):
                    cells.setdefault((gender, group), {})[label] = k_g
        rows = _cells_to_rows(name, cells, SE30K8_IMAGES_PER_SUBJECT, rng)
    plan = pd.DataFrame(rows)
    return plan.iloc[rng.permutation(len(plan))].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# drawing and caching


def _options(name: str, seed: Any, size: Any, scale: Any, n: Any, draw_as: Any = None,
             child_share: Any = 0.0, male_share: Any = None,
             mouth_variants: Any = True) -> dict[str, Any]:
    """The preset's options, checked; an option at its default is left out, so the default
    draw keeps its cache key."""
    opts: dict[str, Any] = {"seed": check_int("seed", seed),
                            "size": check_int("size (pixels)", size, minimum=16),
                            "scale": _check_scale(scale)}
    if name == "adult_pretrain":
        opts["n"] = check_int("n", ADULT_DEFAULT_N if n is None else n,
                              minimum=len(EMOTIONS_7))
        child_share, male_share = _check_composition(child_share, male_share)
        if child_share:
            opts["child_share"] = child_share
        if male_share is not None:
            opts["male_share"] = male_share
    elif child_share or male_share is not None:
        raise ValueError(f"options {list(_COMPOSITION_OPTIONS)} apply to adult_pretrain only, "
                         f"not {name}")
    if not isinstance(mouth_variants, bool):
        raise ValueError(f"mouth_variants must be True or False, got {mouth_variants!r}")
    if not mouth_variants:
        if name != "cafe_like":
            raise ValueError(f"mouth_variants applies to cafe_like only, not {name}")
        opts["mouth_variants"] = False
    draw_as = check_draw_as(draw_as)
    if draw_as:
        opts["draw_as"] = draw_as
    return opts


def generator_version() -> str:
    """The generator's version: the digest (12 hex) of its code, this module and everything it
    imports from emo_lib (drawing, sampling, plans, the papers' counts), so a change to any of
    them draws new images and nothing needs bumping by hand."""
    return synthetic_cache().code_digest()[:12]


def constants() -> dict[str, Any]:
    """Every mechanism constant of the generator (recorded in each manifest's meta)."""
    return {
        "generator_version": generator_version(),
        "supersample": SUPERSAMPLE, "photo_per_crop": PHOTO_PER_CROP,
        "expression": expression_constants(),
        "population": population_constants(),
        "presets": {
            "cafe_subjects": CAFE_SUBJECTS, "nimh_subjects": NIMH_SUBJECTS,
            "adult_images_per_subject": ADULT_IMAGES_PER_SUBJECT,
            "adult_default_n": ADULT_DEFAULT_N,
            "se30k8_images_per_subject": SE30K8_IMAGES_PER_SUBJECT,
            "se30k8_age_mix": SE30K8_AGE_MIX, "se30k8_order": list(SE30K8_ORDER),
            "min_class_count": MIN_CLASS_COUNT,
        },
    }


def _meta(name: str, opts: dict[str, Any], key: str) -> dict[str, Any]:
    source = {"cafe_like": "noh2023.table1_cafe_counts", "nimh_like": "noh2023.table2_nimh_counts",
              "adult_pretrain": "noh2023.vggface2_distribution.male (balanced classes)",
              "se30k8_like": "jeong2021.dataset (images, imbalance_ratio; geometric profile)"}
    return {"generator": "emo_lib.data.synthetic", "generator_version": generator_version(),
            "preset": name, "options": dict(opts), "photo_size": photo_side(opts["size"]),
            "landmarks": "generator", "aligned": False, "cache_key": key,
            "counts_source": f"paper_values.yaml: {source[name]}", "constants": constants()}


def synthetic_cache(root: str | Path | None = None) -> DiskCache:
    """Where drawn presets are kept (``$EMO_CACHE/synthetic``, or ``root``), keyed by the
    generator's code (:func:`generator_version`).

    Only the key and the folder come from :class:`~emo_lib.cache.DiskCache`: an entry here is a
    folder of thousands of PNGs plus its manifest, drawn into a hidden partial folder and renamed
    into place whole (:func:`load_preset`); DiskCache's atomic write renames one file, and
    writing each PNG atomically would still let a reader see half a set."""
    return DiskCache("synthetic", code=(__name__,),
                     root=Path(root).expanduser() if root not in (None, "") else None)


def cache_key(name: str, opts: dict[str, Any]) -> str:
    """The folder key of preset ``name`` drawn with ``opts`` (and the generator's code)."""
    return synthetic_cache().key({"preset": name, **opts}, length=12)


def _generate(name: str, opts: dict[str, Any], folder: Path, progress: bool) -> pd.DataFrame:
    """Draw every image of the plan into ``folder/images``; return the frame (relative paths)."""
    seed, size = opts["seed"], photo_side(opts["size"])
    plan = _plan(name, seed, opts["scale"], opts.get("n"), opts.get("child_share", 0.0),
                 opts.get("male_share"))
    draw_as = opts.get("draw_as", {})
    (folder / "images").mkdir(parents=True, exist_ok=True)
    # identities and backgrounds per subject: the same person in every picture of them
    people: dict[str, tuple[Any, Any]] = {}
    for row in plan.drop_duplicates("subject").itertuples(index=False):
        rng = _rng(seed, name, 1, row.subject)
        other = geometry_group(row.age_group, draw_as)
        grown = None if other is None else \
            (lambda age, g=row.age_group, o=other: rank_age(age, g, o))
        people[row.subject_id] = (sample_identity(row.age_group, row.gender, rng,
                                                  geometry_age=grown),
                                  sample_background(rng))
    records = []
    has_mouth, has_gaze = "mouth" in plan.columns, "gaze" in plan.columns
    if not opts.get("mouth_variants", True):   # planned (same random numbers), drawn as default
        plan["mouth"] = "default"
    for i, row in enumerate(tqdm(plan.itertuples(index=False), total=len(plan),
                                 desc=f"synthetic:{name}", disable=not progress)):
        rng = _rng(seed, name, 2, i)
        identity, background = people[row.subject_id]
        expr = sample_expression(row.label, row.age_group, rng,
                                 mouth=row.mouth if has_mouth else "default",
                                 style=expression_style(row.age_group, draw_as))
        pose, scene = sample_photo(rng, background)
        gaze = averted_gaze(rng) if has_gaze and row.gaze == "averted" else (0.0, 0.0)
        image, landmarks = render_face(FaceSpec(identity, expr.aus, gaze, pose, scene), size)
        rel = f"images/{i:05d}.png"
        Image.fromarray(image).save(folder / rel, format="PNG", compress_level=PNG_COMPRESS_LEVEL,
                                    compress_type=zlib.Z_HUFFMAN_ONLY)
        rec = {"path": rel, "label": row.label, "gender": row.gender,
               "age_group": row.age_group, "subject_id": row.subject_id, "dataset": name}
        rec.update(zip(LANDMARK_COLUMNS, np.round(landmarks.ravel(), 3).tolist()))
        rec.update(age=identity.age, intensity=expr.intensity, skin_tone=identity.skin_tone,
                   hair_style=identity.hair_style, blend=expr.blend)
        if has_mouth:
            rec["mouth"] = row.mouth
        if has_gaze:
            rec["gaze"] = row.gaze
        records.append(rec)
    return pd.DataFrame(records)


def _read_cached(folder: Path) -> pd.DataFrame | None:
    """The cached frame with absolute paths, or None if the set is incomplete."""
    csv = folder / "manifest.csv"
    if not csv.is_file():
        return None
    frame = pd.read_csv(csv, dtype={"subject_id": str, "path": str}, keep_default_na=False)
    paths = str(folder) + os.sep + frame["path"]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        log.warning("synthetic cache %s lacks %d image(s) (e.g. %s); drawing it again",
                    folder, len(missing), missing[0])
        return None
    frame["path"] = paths
    return frame


def _remove_stale_partials(base: Path, stem: str) -> None:
    """Partial folders of interrupted generations (their process is gone, or is us)."""
    for partial in base.glob(f".{stem}.partial-*"):
        pid = partial.name.rsplit("-", 1)[1]
        if pid.isdigit() and (int(pid) == os.getpid() or not pid_alive(int(pid))):
            shutil.rmtree(partial, ignore_errors=True)


def load_preset(name: str, root: str | Path | None = None, *, seed: int = 0, size: int = 96,
                scale: float = 1.0, n: int | None = None, progress: bool = True,
                draw_as: Mapping[str, str] | None = None, child_share: float = 0.0,
                male_share: float | None = None, mouth_variants: bool = True,
                **unknown: Any) -> Manifest:
    """Generate (or load from cache) the synthetic preset ``name`` as a validated Manifest.

    Args:
        name: one of :func:`preset_names`.
        root: cache folder (default :func:`synthetic_cache`: ``$EMO_CACHE/synthetic``); the
            preset lives in ``root/<name>-<key>``, the key hashing preset, options and the
            generator's code.
        seed: every random choice derives from it: same options, byte-identical PNGs.
        size: side, in pixels, of the face crops the photographs are drawn for: each photo is
            ``photo_side(size)`` (1.5 x) pixels square, its face box is made from the drawn
            landmarks, and ``emo_lib.faces.prepare_faces(manifest, size)`` crops it at native
            resolution, as it crops real photographs.
        scale: multiplies every count (cafe_like/nimh_like cells at least 1, se30k8_like
            classes at least ``MIN_CLASS_COUNT``, adult_pretrain ``round(n * scale)``).
        n: adult_pretrain's number of images (default 3500).
        progress: show a tqdm bar while drawing.
        draw_as: mechanism -> age group (:data:`.mechanisms.AGE_MECHANISMS`): draw that age
            difference with the group's value, everything else as by default (same people,
            photographs and random numbers), e.g. ``{"au_dropout": "adolescent"}``.
        child_share, male_share: adult_pretrain only: the share of its images that are
            children (aged as ``cafe_like``'s; default 0) and the male share (default
            VGGFace2's as the paper cites it), the total held (:func:`pretrain_counts`).
        mouth_variants: cafe_like only: False draws every expression with its prototype's own
            mouth instead of CAFE's alternating open and closed mouths (the plan, and every
            random number, unchanged; the ``mouth`` column then reads ``default``).

    A set is drawn into a hidden ``.<name>-<key>.partial-<pid>`` folder (images, then
    ``meta.json``, then ``manifest.csv``) and renamed into place when complete, so an
    interrupted or concurrent generation is never half-read; a partial folder left by a dead
    process is removed and drawn again.
    """
    check_choices(f"options of synthetic preset {name}", sorted(unknown), _ALLOWED_OPTIONS)
    check_choice("synthetic preset", name, PRESETS)
    if n is not None and name != "adult_pretrain":
        raise ValueError(f"option n applies to adult_pretrain only; use scale for {name}")
    opts = _options(name, seed, size, scale, n, draw_as, child_share, male_share,
                    mouth_variants)
    key = cache_key(name, opts)
    base = synthetic_cache(root).root.resolve()
    stem = f"{name}-{key}"
    folder = base / stem
    frame = _read_cached(folder) if folder.is_dir() else None
    if frame is None:
        base.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(base, stem)
        partial = base / f".{stem}.partial-{os.getpid()}"
        log.info("drawing synthetic preset %s %s into %s", name, opts, folder)
        generated = _generate(name, opts, partial, progress)
        write_json(partial / "meta.json", _meta(name, opts, key))
        with atomic_path(partial / "manifest.csv") as tmp:
            generated.to_csv(tmp, index=False)
        if _read_cached(folder) is None:      # nobody else finished it meanwhile
            shutil.rmtree(folder, ignore_errors=True)
            try:
                os.replace(partial, folder)
            except OSError:                   # another process renamed its copy first
                if _read_cached(folder) is None:
                    raise
        shutil.rmtree(partial, ignore_errors=True)
        frame = _read_cached(folder)
        if frame is None:
            raise RuntimeError(f"synthetic set {folder} is incomplete right after drawing it")
    return make_manifest(frame, name=f"synthetic:{name}", classes=_classes(name), root=folder,
                         synthetic=True, meta=_meta(name, opts, key),
                         source=str(folder / "manifest.csv"))
