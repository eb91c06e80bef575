"""CAFE, the Child Affective Facial Expression set (LoBue & Thrasher 2015): children aged 2-8.

How labels are found, in order of trust:

1. ``manifest=PATH``: a user CSV (``path,label[,gender,subject_id,...]``) overrides everything;
   relative paths are looked up under the data root, then beside the CSV.
2. The release's description CSV (the Databrary release ships one; columns seen in the wild
   include ``file_name``, ``emotion``, ``subfolder``): found anywhere under the root, or given
   as ``metadata=PATH``. Emotion tokens such as ``angryopen`` / ``neutralclosed`` give the class
   and a ``mouth`` column; gender, age, ethnicity and child-id columns are read when present
   (names matched loosely: ``Gender``, ``sex``, ``Child ID``...).
3. Without a CSV: tokens of the file name (``001_angryopen_F.jpg``), then of its folders. A file
   whose label cannot be determined (no emotion token, or two that disagree) is an exclusion
   with the reason; it is never guessed.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..images import DEFAULT_MAX_PIXELS
from ..manifest import EMOTIONS_7, Manifest, ManifestError, canonical_label
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

_TOKEN = re.compile(r"^(?P<emo>[a-z]+?)(?P<mouth>open|closed)?$")
_MOUTH = {"open": "open", "o": "open", "closed": "closed", "close": "closed", "c": "closed"}

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
    """``"angryopen"`` -> ``("angry", {"mouth": "open"})``; None if not an emotion token.

    Case, spaces and punctuation are ignored, as is the word "mouth": ``"Angry (open mouth)"``
    and ``"angry_open"`` read like ``"angryopen"``.
    """
    m = _TOKEN.match(re.sub(r"[^a-z]|mouth", "", str(token).lower()))
    if not m:
        return None
    label = canonical_label(m["emo"])
    if label is None:
        return None
    return label, {"mouth": m["mouth"] or "unknown"}


def _tokens(text: str) -> list[str]:
    # "001_AngryOpen-F2" -> ["angryopen", "f"]: split on punctuation, strip counters.
    parts = [re.sub(r"^\d+|\d+$", "", t) for t in re.split(r"[^a-z0-9]+", text.lower())]
    return [t for t in parts if t]


def parse_name(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Emotion (label, mouth) pairs and gender values found among the tokens of ``text``."""
    toks = _tokens(text)
    emotions, genders = [], []
    for i, tok in enumerate(toks):
        parsed = parse_token(tok)
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if parsed is None and nxt in ("open", "closed"):
            parsed = parse_token(tok + nxt)
        if parsed is not None:
            label, extra = parsed
            if extra["mouth"] == "unknown" and nxt in ("open", "closed"):
                extra["mouth"] = nxt
            emotions.append((label, extra["mouth"]))
        elif tok in ("m", "f", "male", "female", "boy", "girl"):
            genders.append(norm_gender(tok) or "unknown")
    return emotions, genders


def _subject_from_name(stem: str) -> str:
    digits = [t for t in re.split(r"[^0-9A-Za-z]+", stem) if t.isdigit()]
    return digits[0] if digits else "unknown"


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
                           "its folders (expected e.g. 'angryopen'); pass manifest=PATH to "
                           "label such files")
            continue
        if len(labels) > 1:
            out.exclude(p, f"label not determined: {where} {p.name!r} holds conflicting "
                           f"emotion tokens {labels}")
            continue
        mouths = sorted({m for _, m in emotions} - {"unknown"})
        out.add(p, label=labels[0], mouth=mouths[0] if len(mouths) == 1 else "unknown",
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
                             "'angryopen', 'neutralclosed')")
            continue
        label, extra = parsed
        values: dict[str, Any] = {"label": label, "mouth": extra["mouth"]}
        if cols["mouth"]:
            values["mouth"] = _MOUTH.get(row[cols["mouth"]].strip().lower(), values["mouth"])
        values["gender"] = (norm_gender(row[cols["gender"]]) or "unknown") if cols["gender"] \
            else "unknown"
        if cols["age"]:
            values["age"] = row[cols["age"]].strip()
        if cols["ethnicity"]:
            values["ethnicity"] = row[cols["ethnicity"]].strip()
        subject = row[cols["subject"]].strip() if cols["subject"] else ""
        values["subject_id"] = subject or _subject_from_name(hit.stem)
        out.add(hit, **values)
    for p in files:
        if p not in used:
            out.exclude(p, f"not listed in {csv.name}")


@register_dataset("cafe", INFO)
def load_cafe(root: Path, *, manifest: str | Path | None = None,
              metadata: str | Path | bool | None = None, check: bool = True,
              max_pixels: int = DEFAULT_MAX_PIXELS, cache: bool = True,
              progress: bool = True) -> Manifest:
    """CAFE as a Manifest (7 classes, ``age_group`` child, ``mouth`` open/closed/unknown).

    Args:
        manifest: a user CSV that overrides the release's labels and file list.
        metadata: the release's description CSV; None finds it under ``root``; False ignores
            any CSV and reads labels from file names.
    """
    root = Path(root)
    defaults = {"age_group": "child"}
    common = dict(check=check, max_pixels=max_pixels, cache=cache, progress=progress)
    if manifest is not None:
        csv = Path(manifest).expanduser()
        collected, _, meta = read_manifest_csv(
            csv, base_dirs=[root, csv.parent], defaults=defaults, label_parser=parse_token)
        return finish(collected, name="cafe", root=root, classes=None, defaults=defaults,
                      meta=meta, source=str(csv), **common)
    files, others = list_image_files(root)
    out = Collected()
    meta: dict[str, Any] = {"other_files": others}
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
    else:
        _from_file_names(root, files, out)
        meta["layout"] = "file names"
    return finish(out, name="cafe", root=root, classes=EMOTIONS_7, fixed_classes=True,
                  defaults=defaults, meta=meta, source=str(csv_path) if csv_path else None,
                  **common)
