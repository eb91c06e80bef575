"""CAFE, the Child Affective Facial Expression set (LoBue & Thrasher 2015): children aged 2-8.

This module reads a CAFE tree into a Manifest and counts its pose variants; it does not detect
faces or train anything. How labels are found, in order of trust:

1. ``manifest=PATH``: a user CSV (``path,label[,gender,subject_id,...]``) overrides everything;
   relative paths are looked up under the data root, then beside the CSV.
2. A description CSV (columns such as ``file_name``, ``emotion``, ``subfolder``): found anywhere
   under the root, or given as ``metadata=PATH``. Emotion tokens such as ``angryopen`` give the
   class and the pose variant; gender, age, ethnicity and child-id columns are read when present
   (names matched loosely: ``Gender``, ``sex``, ``Child ID``...).
3. Without a CSV, the release's file names (:data:`RELEASE_EXAMPLE`): ``angry_F-AA-01.jpg``,
   ``angryopen_M-EA-06b.jpg``, ``disgustwithtongue_F-LA-03.jpg`` are *emotion token* (``open``
   for an open mouth, ``withtongue`` for the disgust pose with the tongue out, nothing for a
   closed mouth), ``_``, gender ``F``/``M``, ethnicity code, the child's number and an optional
   suffix for a further photo of the same pose: a set letter (``19b``), a photo number
   (``10-2``), or both (``06b-2``: set b, second photo). As soon as one file is named
   this way the whole tree is read by this rule, and a file whose name does not follow it is an
   exclusion naming the pattern. A tree with no such name is read by the older token rule
   (``001_angryopen_F.jpg``, else a folder such as ``Angry/``).

Columns beyond the Manifest's: ``mouth`` (``closed``/``open``/``unknown``), ``variant``
(:data:`VARIANTS`), and from release names ``ethnicity`` (the code as written: the release's
documentation, which would give the codes' meanings, was not available to this project, so
no name is invented) and ``photo_suffix`` (``none``, or the suffix as written: ``b``, ``-2``,
``b-2``).
A child is ``subject_id`` = gender + ethnicity + number (``F-AA-01``), never the number alone:
children of different gender or ethnicity share numbers. Missing metadata in a CSV (no child id,
no mouth) is filled from a release file name when the file has one. A label is never guessed:
an undeterminable file is an exclusion with the reason.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..images import DEFAULT_MAX_PIXELS
from ..manifest import EMOTIONS_7, Manifest, ManifestError, canonical_label
from ...validation import check_choices, choices_text
from ..registry import DatasetInfo, register_dataset
from ._scan import (
    Collected, find_column, finish, list_image_files, norm_gender, read_manifest_csv, read_table,
    row_ref,
)

INFO = DatasetInfo(
    name="cafe",
    title="Child Affective Facial Expression set (CAFE; LoBue & Thrasher 2015), ages 2-8",
    env_var="CAFE_ROOT",
    source=("Databrary volume 30, https://databrary.org/volume/30 (doi:10.17910/B7301K); "
            "licensed to authorised Databrary researchers, who sign its access agreement"),
)

#: Pose variants (the ``variant`` column), read from the token after the emotion: ``closed``
#: (no token in a release name, e.g. ``angry_F-AA-01``; or ``closed``), ``open`` (``open``),
#: ``tongue`` (``withtongue``: the disgust pose with the tongue out, so the mouth is open) and
#: ``unknown`` (a CSV emotion with no pose token and no mouth column).
VARIANTS: tuple[str, ...] = ("closed", "open", "tongue", "unknown")
MOUTH_OF_VARIANT: dict[str, str] = {"closed": "closed", "open": "open", "tongue": "open",
                                    "unknown": "unknown"}
_POSE_TOKENS = {"open": "open", "closed": "closed", "withtongue": "tongue", "tongue": "tongue"}
_TOKEN = re.compile(r"^(?P<emo>[a-z]+?)(?P<pose>open|closed|withtongue|tongue)?$")
_MOUTH = {"open": "open", "o": "open", "closed": "closed", "close": "closed", "c": "closed"}

#: Ethnicity codes in the release's file names. Their meanings are not given here: the
#: release's own documentation was not available to this project, and a name is not guessed.
ETHNICITY_CODES: tuple[str, ...] = ("AA", "AS", "EA", "LA", "PI", "SA")
RELEASE_EXAMPLE = ("<emotion>[open|withtongue]_<F|M>-<" + "|".join(ETHNICITY_CODES)
                   + ">-<number>[suffix], e.g. angryopen_M-EA-06b.jpg")
#: Loose split of a release name; each part is then checked, so a reason can name the bad one.
_RELEASE_NAME = re.compile(
    r"^(?P<token>[^_]+)_(?P<gender>[^-_]+)-(?P<ethnicity>[^-_]+)-(?P<number>\d+)(?P<suffix>.*)$")
#: A stem that carries a child code (``_F-AA-01``) marks the tree as named like the release.
_CHILD_CODE = re.compile(r"_[a-z]-[a-z]{2}-\d", re.IGNORECASE)
#: A further photo of the same pose: a set letter (``19b``), ``-<n>`` (``10-2``), or a letter
#: then ``-<n>`` (``06b-2``: set b, second photo), as the release writes them.
_PHOTO_SUFFIX = re.compile(r"^(?:[a-z]?-\d+|[a-z])?$", re.IGNORECASE)
_LABEL_HINT = "pass manifest=PATH to label such files"

FILE_COLUMNS = ("filename", "file", "filepath", "path", "image", "imagename", "imagefile",
                "img", "stimulus", "photo", "name")
EMOTION_COLUMNS = ("emotion", "expression", "emotionlabel", "label", "category", "emo",
                   "posedemotion")
SUBFOLDER_COLUMNS = ("subfolder", "folder", "directory", "dir", "subdirectory")
GENDER_COLUMNS = ("gender", "sex", "childgender", "childsex")
AGE_COLUMNS = ("age", "ageyears", "ageinyears", "childage", "agemonths", "ageatphoto")
ETHNICITY_COLUMNS = ("ethnicity", "race", "raceethnicity", "childethnicity", "childrace",
                     "ethnicgroup")
SUBJECT_COLUMNS = ("subjectid", "subject", "childid", "child", "participantid", "participant",
                   "modelid", "model", "actorid", "actor", "personid")
MOUTH_COLUMNS = ("mouth", "mouthstate", "mouthopen")


def parse_token(token: str) -> tuple[str, dict[str, str]] | None:
    """``"angryopen"`` -> ``("angry", {"mouth": "open", "variant": "open"})``; None if not an
    emotion token.

    Case, spaces and punctuation are ignored, as is the word "mouth": ``"Angry (open mouth)"``
    and ``"angry_open"`` read like ``"angryopen"``; ``"disgustwithtongue"`` is variant
    ``tongue`` with an open mouth. A token without a pose says nothing about the mouth
    (``unknown``); only the release's file names mean "closed" by leaving it out.
    """
    m = _TOKEN.match(re.sub(r"[^a-z]|mouth", "", str(token).lower()))
    if not m:
        return None
    label = canonical_label(m["emo"])
    if label is None:
        return None
    variant = _POSE_TOKENS.get(m["pose"] or "", "unknown")
    return label, {"mouth": MOUTH_OF_VARIANT[variant], "variant": variant}


def parse_release_name(name: str) -> tuple[dict[str, str] | None, str | None]:
    """(row values, None) or (None, exclusion reason) for a file named like the release.

    ``"angryopen_M-EA-06b.jpg"`` -> label ``angry``, variant and mouth ``open``, gender
    ``male``, ethnicity ``EA``, subject_id ``M-EA-06``, photo_suffix ``b``. The child's number
    is written with at least two digits, so ``F-AA-1`` and ``F-AA-01`` are one child.
    """
    m = _RELEASE_NAME.match(Path(name).stem)
    if m is None:
        return None, f"file name {name!r} does not follow the release's naming {RELEASE_EXAMPLE}"
    token = m["token"]
    parsed = parse_token(token) if token.isalpha() else None
    if parsed is None:
        return None, (f"unknown emotion token {token!r} in {name!r} (expected angry, disgust, "
                      "fearful, happy, neutral, sad or surprise, followed by 'open' or "
                      "'withtongue' for those poses)")
    gender = m["gender"].upper()
    if gender not in ("F", "M"):
        return None, f"gender {m['gender']!r} in {name!r} is not F or M ({RELEASE_EXAMPLE})"
    ethnicity = m["ethnicity"].upper()
    if ethnicity not in ETHNICITY_CODES:
        return None, (f"unknown ethnicity code {m['ethnicity']!r} in {name!r} (the release "
                      f"uses {', '.join(ETHNICITY_CODES)})")
    suffix = m["suffix"]
    if not _PHOTO_SUFFIX.match(suffix):
        return None, (f"photo suffix {suffix!r} in {name!r} is none of a letter ('19b'), "
                      "'-<n>' ('10-2') or a letter then '-<n>' ('06b-2')")
    label, extras = parsed
    variant = "closed" if extras["variant"] == "unknown" else extras["variant"]
    return {"label": label, "variant": variant, "mouth": MOUTH_OF_VARIANT[variant],
            "gender": "female" if gender == "F" else "male", "ethnicity": ethnicity,
            "subject_id": f"{gender}-{ethnicity}-{int(m['number']):02d}",
            "photo_suffix": suffix.lower() or "none"}, None


def is_release_named(path: Path | str) -> bool:
    """True when a file's name carries a child code like the release's (``_F-AA-01``)."""
    return bool(_CHILD_CODE.search(Path(path).stem))


_FILLED_FROM_NAME = ("gender", "subject_id", "ethnicity", "mouth", "variant", "photo_suffix")


def _fill_from_release_name(values: dict[str, Any], path: Path | str) -> None:
    """Metadata a CSV left empty or ``unknown``, from the file's release name (if it has one).
    The label is never taken from the name here: the CSV's label stands."""
    fields, _ = parse_release_name(Path(path).name)
    if fields is None:
        return
    for key in _FILLED_FROM_NAME:
        if str(values.get(key) or "").strip().lower() in ("", "unknown"):
            values[key] = fields[key]


def _tokens(text: str) -> list[str]:
    # "001_AngryOpen-F2" -> ["angryopen", "f"]: split on punctuation, strip counters.
    parts = [re.sub(r"^\d+|\d+$", "", t) for t in re.split(r"[^a-z0-9]+", text.lower())]
    return [t for t in parts if t]


def parse_name(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Emotion (label, variant) pairs and gender values among the tokens of ``text`` (the
    older token rule, for trees not named like the release)."""
    toks = _tokens(text)
    emotions, genders = [], []
    for i, tok in enumerate(toks):
        parsed = parse_token(tok)
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if parsed is None and nxt in ("open", "closed"):
            parsed = parse_token(tok + nxt)
        if parsed is not None:
            label, extra = parsed
            variant = extra["variant"]
            if variant == "unknown" and nxt in ("open", "closed"):
                variant = nxt
            emotions.append((label, variant))
        elif tok in ("m", "f", "male", "female", "boy", "girl"):
            genders.append(norm_gender(tok) or "unknown")
    return emotions, genders


def _subject_from_name(stem: str) -> str:
    # Older token names carry only a number; release names never come here.
    digits = [t for t in re.split(r"[^0-9A-Za-z]+", stem) if t.isdigit()]
    return digits[0] if digits else "unknown"


def _from_release_names(files: list[Path], out: Collected) -> None:
    for p in files:
        values, reason = parse_release_name(p.name)
        if values is None:
            out.exclude(p, f"{reason}; {_LABEL_HINT}")
        else:
            out.add(p, **values)


def _from_file_names(root: Path, files: list[Path], out: Collected) -> None:
    for p in files:
        emotions, genders = parse_name(p.stem)
        where = "file name"
        if not emotions:
            rel_dirs = p.relative_to(root).parts[:-1]
            for d in reversed(rel_dirs):
                emotions, _ = parse_name(d)
                if emotions:
                    where = f"folder {d!r}"
                    break
        labels = sorted({lab for lab, _ in emotions})
        if not labels:
            out.exclude(p, f"label not determined: no emotion token in file name {p.name!r} or "
                           f"its folders (expected e.g. 'angryopen'); {_LABEL_HINT}")
            continue
        if len(labels) > 1:
            out.exclude(p, f"label not determined: {where} {p.name!r} holds conflicting "
                           f"emotion tokens {labels}")
            continue
        variants = sorted({v for _, v in emotions} - {"unknown"})
        variant = variants[0] if len(variants) == 1 else "unknown"
        out.add(p, label=labels[0], variant=variant, mouth=MOUTH_OF_VARIANT[variant],
                gender=genders[0] if len(set(genders)) == 1 else "unknown",
                subject_id=_subject_from_name(p.stem))


def _find_metadata(root: Path) -> tuple[Path | None, list[str]]:
    """The first CSV under ``root`` (shallowest first) with a file and an emotion column."""
    passed_over = []
    for csv in sorted(root.rglob("*.csv"), key=lambda p: (len(p.parts), str(p).lower())):
        try:
            cols = read_table(csv).columns
        except ManifestError:
            passed_over.append(str(csv))
            continue
        if find_column(cols, FILE_COLUMNS) and find_column(cols, EMOTION_COLUMNS):
            return csv, passed_over
        passed_over.append(str(csv))
    return None, passed_over


def _from_metadata(root: Path, csv: Path, files: list[Path], out: Collected) -> None:
    table = read_table(csv)
    cols = {key: find_column(table.columns, cands) for key, cands in (
        ("file", FILE_COLUMNS), ("emotion", EMOTION_COLUMNS), ("subfolder", SUBFOLDER_COLUMNS),
        ("gender", GENDER_COLUMNS), ("age", AGE_COLUMNS), ("ethnicity", ETHNICITY_COLUMNS),
        ("subject", SUBJECT_COLUMNS), ("mouth", MOUTH_COLUMNS))}
    if cols["file"] is None or cols["emotion"] is None:
        raise ManifestError(
            f"{csv} has no file-name and emotion columns (found {list(table.columns)}); CAFE's "
            "description CSV names each image and its emotion (e.g. file_name, emotion)")
    by_rel: dict[str, Path] = {}
    by_name: dict[str, list[Path]] = {}
    by_stem: dict[str, list[Path]] = {}
    for p in files:
        by_rel[p.relative_to(root).as_posix().lower()] = p
        by_name.setdefault(p.name.lower(), []).append(p)
        by_stem.setdefault(p.stem.lower(), []).append(p)
    used: dict[Path, int] = {}
    for i, row in table.iterrows():
        ref = row_ref(csv.name, int(i))
        fname = row[cols["file"]].strip().replace("\\", "/")
        sub = row[cols["subfolder"]].strip().replace("\\", "/") if cols["subfolder"] else ""
        if not fname:
            out.exclude(f"{csv} row {int(i) + 1}", f"{ref}: empty file name")
            continue
        hit = by_rel.get(f"{sub}/{fname}".lower()) if sub else None
        hit = hit or by_rel.get(fname.lower())
        if hit is None:
            name = Path(fname)
            hits = by_name.get(name.name.lower()) or (
                by_stem.get(name.stem.lower(), []) if not name.suffix else [])
            if len(hits) > 1 and sub:
                narrowed = [h for h in hits if sub.lower() in
                            (d.lower() for d in h.relative_to(root).parts[:-1])]
                hits = narrowed or hits
            if len(hits) > 1:
                out.exclude(root / sub / fname, f"{ref}: {fname!r} matches {len(hits)} files "
                            f"({', '.join(str(h.relative_to(root)) for h in hits[:3])}); "
                            "add the subfolder to the CSV")
                continue
            hit = hits[0] if hits else None
        if hit is None:
            out.exclude(root / sub / fname, f"{ref}: listed but no such file under the root")
            continue
        if hit in used:
            out.exclude(hit, f"{ref}: file already listed at row {used[hit] + 1}")
            continue
        used[hit] = int(i)
        token = row[cols["emotion"]]
        parsed = parse_token(token)
        if parsed is None:
            out.exclude(hit, f"{ref}: unknown emotion {token!r} (expected e.g. 'angry', "
                             "'angryopen', 'disgustwithtongue')")
            continue
        label, extra = parsed
        values: dict[str, Any] = {"label": label, **extra}
        mouth = _MOUTH.get(row[cols["mouth"]].strip().lower()) if cols["mouth"] else None
        if mouth is not None:
            values["mouth"] = mouth
            if values["variant"] == "unknown":
                values["variant"] = mouth
        values["gender"] = (norm_gender(row[cols["gender"]]) or "unknown") if cols["gender"] \
            else "unknown"
        if cols["age"]:
            values["age"] = row[cols["age"]].strip()
        if cols["ethnicity"]:
            values["ethnicity"] = row[cols["ethnicity"]].strip()
        values["subject_id"] = (row[cols["subject"]].strip() if cols["subject"] else "") \
            or "unknown"
        _fill_from_release_name(values, hit)
        if values["subject_id"] == "unknown":
            values["subject_id"] = _subject_from_name(hit.stem)
        out.add(hit, **values)
    for p in files:
        if p not in used:
            out.exclude(p, f"not listed in {csv.name}")


def _check_variants(variant: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if variant is None:
        return None
    wanted = (variant,) if isinstance(variant, str) else tuple(variant)
    what = "variant (one name or a list; null keeps every variant)"
    if not wanted:
        raise ValueError(f"{what}: [] names none of the choices {choices_text(VARIANTS)}")
    return tuple(check_choices(what, wanted, VARIANTS))


def _filter_variants(out: Collected, wanted: tuple[str, ...] | None) -> None:
    """Rows outside ``wanted`` become exclusions ("variant filter: ...")."""
    if wanted is None:
        return
    kept = []
    for row in out.rows:
        variant = str(row.get("variant") or "unknown")
        if variant in wanted:
            kept.append(row)
        else:
            out.exclude(row["path"], f"variant filter: variant {variant}, kept only "
                                     f"{list(wanted)}")
    out.rows = kept


@register_dataset("cafe", INFO)
def load_cafe(root: Path, *, manifest: str | Path | None = None,
              metadata: str | Path | bool | None = None,
              variant: str | Sequence[str] | None = None, allow_missing_classes: bool = False,
              check: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS, cache: bool = True,
              progress: bool = True) -> Manifest:
    """CAFE as a Manifest (7 classes, ``age_group`` child, ``mouth`` and ``variant`` columns).

    Args:
        manifest: a user CSV that overrides the release's labels and file list.
        metadata: a description CSV; None finds one under ``root``; False ignores any CSV and
            reads labels from file names.
        variant: keep only these pose variants (one of :data:`VARIANTS` or a list, e.g.
            ``"closed"`` or ``["closed", "open"]``); the others become exclusions with reason
            "variant filter ...". None (default) keeps every variant.
        allow_missing_classes: run on part of the set: a class with no image is recorded in
            ``meta["missing_classes"]`` instead of stopping the run. A ``manifest`` list may
            always leave classes out (they are recorded the same way).
    Raises:
        ValueError: an unknown ``variant``.
        ManifestError: no usable image, or (by default) a class with none.
    """
    wanted = _check_variants(variant)
    root = Path(root)
    defaults = {"age_group": "child"}
    common = dict(check=check, max_pixels=max_pixels, cache=cache, progress=progress)
    if manifest is not None:
        csv = Path(manifest).expanduser()
        collected, _, meta = read_manifest_csv(
            csv, base_dirs=[root, csv.parent], defaults=defaults, label_parser=parse_token)
        for row in collected.rows:
            _fill_from_release_name(row, row["path"])
        _filter_variants(collected, wanted)
        chosen = finish(collected, name="cafe", root=root, classes=None, defaults=defaults,
                        meta={**meta, "variant_filter": wanted}, source=str(csv), **common)
        # A user's list may leave classes out on purpose: recorded, not refused.
        present = set(chosen.frame["label"])
        chosen.meta["missing_classes"] = [c for c in EMOTIONS_7 if c not in present]
        return chosen
    files, others = list_image_files(root)
    out = Collected()
    meta: dict[str, Any] = {"other_files": others, "variant_filter": wanted}
    csv_path: Path | None = None
    if isinstance(metadata, (str, Path)):
        csv_path = Path(metadata).expanduser()
        if not csv_path.exists():
            raise ManifestError(f"metadata CSV {csv_path} does not exist")
    elif metadata is None:
        csv_path, passed = _find_metadata(root)
        if passed:
            meta["csv_passed_over"] = passed
    if csv_path is not None:
        _from_metadata(root, csv_path, files, out)
        meta.update(layout="description csv", source_csv=str(csv_path))
    elif any(is_release_named(p) for p in files):
        _from_release_names(files, out)
        meta["layout"] = "release file names"
    else:
        _from_file_names(root, files, out)
        meta["layout"] = "file names"
    _filter_variants(out, wanted)
    return finish(out, name="cafe", root=root, classes=EMOTIONS_7, fixed_classes=True,
                  allow_missing_classes=allow_missing_classes,
                  missing_hint="pass allow_missing_classes=True to run on part of the set",
                  defaults=defaults, meta=meta, source=str(csv_path) if csv_path else None,
                  **common)


# --- pose variants on the data page ---------------------------------------------------------

def variant_source(frame: pd.DataFrame) -> str:
    """Where a CAFE-like frame's pose variants come from: ``"variant"`` (this adapter),
    ``"mouth"`` (a set that records only open/closed, like the synthetic preset) or ``"none"``."""
    if "variant" in frame.columns:
        return "variant"
    return "mouth" if "mouth" in frame.columns else "none"


def variant_counts(manifest: Manifest,
                   paper_total: Mapping[str, Any] | pd.Series | None = None) -> pd.DataFrame:
    """Images per pose variant (rows, :data:`VARIANTS` order, then ``all variants``) and class
    (columns: ``manifest.classes``, then ``total``).

    Variants come from the ``variant`` column, else ``mouth`` (its values are variant names),
    else every image is ``not recorded`` (see :func:`variant_source`). ``paper_total`` (the
    paper's per-class totals, e.g. Table 1's total row) becomes a first row ``paper``.
    """
    frame = manifest.frame
    source = variant_source(frame)
    values = (frame[source].astype(str) if source != "none"
              else pd.Series("not recorded", index=frame.index))
    table = pd.crosstab(values.rename("variant"), frame["label"])
    table = table.reindex(columns=list(manifest.classes), fill_value=0)
    known = [v for v in VARIANTS if v in table.index]
    table = table.reindex(known + sorted(set(table.index) - set(known)))
    table.loc["all variants"] = table.sum()
    table["total"] = table.sum(axis=1)
    table = table.astype("Int64")
    if paper_total is not None:
        paper = pd.Series(paper_total).reindex(table.columns).astype("Int64")
        table = pd.concat([paper.to_frame("paper").T, table])
    table.index.name, table.columns.name = "variant", None
    return table

