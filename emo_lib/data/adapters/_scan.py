"""What every adapter shares: finding files, normalising metadata values, reading user CSVs,
and turning candidate rows into a checked, de-duplicated :class:`Manifest`.

An adapter only decides, per file, the label and metadata (or why it cannot); :func:`finish`
then runs the image checks, drops exact duplicates (same bytes) and logs both as exclusions,
so the rule "files in = used + excluded" holds for every data set.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..images import DEFAULT_MAX_PIXELS, check_images, is_image_file
from ..manifest import (
    AGE_GROUPS, EMOTIONS_8, EXCLUSION_COLUMNS, REQUIRED_COLUMNS, Manifest, ManifestError,
    canonical_label, make_manifest,
)

#: Values read as a gender (any case). Anything else is "unknown" in scanned data sets and an
#: error in a user CSV.
GENDER_VALUES: dict[str, str] = {
    "m": "male", "male": "male", "boy": "male", "man": "male",
    "f": "female", "female": "female", "girl": "female", "woman": "female",
    "": "unknown", "u": "unknown", "unknown": "unknown", "na": "unknown", "n/a": "unknown",
    "nan": "unknown", "none": "unknown",
}
AGE_GROUP_VALUES: dict[str, str] = {
    **{a: a for a in AGE_GROUPS},
    "children": "child", "kid": "child", "infant": "child", "toddler": "child",
    "teen": "adolescent", "teenager": "adolescent", "adolescents": "adolescent",
    "adults": "adult", "": "unknown", "na": "unknown", "n/a": "unknown", "nan": "unknown",
}
_SPLIT_NAMES = frozenset({"train", "training", "val", "valid", "validation", "test", "testing"})


def norm_gender(value: Any) -> str | None:
    """``"male"``/``"female"``/``"unknown"``, or None when ``value`` is not a gender."""
    return GENDER_VALUES.get(str(value if value is not None else "").strip().lower())


def norm_age_group(value: Any) -> str | None:
    return AGE_GROUP_VALUES.get(str(value if value is not None else "").strip().lower())


def norm_column(name: str) -> str:
    """Column names compared loosely: ``"Child ID"``, ``child_id``, ``ChildID`` are one."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def find_column(columns: Iterable[str], candidates: Sequence[str]) -> str | None:
    """The first column of ``columns`` whose loose name is in ``candidates`` (in their order)."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm_column(c), c)
    for cand in candidates:
        if cand in by_norm:
            return by_norm[cand]
    return None


def list_image_files(root: Path) -> tuple[list[Path], int]:
    """Every file under ``root`` with an image extension, sorted; and how many other files
    (README, CSV, licence...) were passed over."""
    images, others = [], 0
    for p in sorted(root.rglob("*")):
        if p.is_dir():
            continue
        if is_image_file(p):
            images.append(p)
        else:
            others += 1
    return images, others


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (or TSV) as strings, empty cells as "", header names stripped."""
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    frame = None
    # UTF-8 first (with or without BOM); spreadsheet exports in a Windows code page next.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep,
                                encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise ManifestError(f"cannot parse {path} as CSV: {err}") from None
    if frame is None:
        raise ManifestError(f"cannot decode {path}: neither UTF-8 nor Windows-1252 text")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def row_ref(source: Path | str, i: int) -> str:
    """How a CSV row is named in messages: 1-based data row and the file line."""
    return f"{source} row {i + 1} (line {i + 2})"


@dataclass
class Collected:
    """Candidate rows (one dict per file: ``path`` plus metadata) and early exclusions."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: Path | str, **values: Any) -> None:
        self.rows.append({"path": str(path), **values})

    def exclude(self, path: Path | str, reason: str) -> None:
        self.excluded.append((str(path), reason))


def folder_label(path: Path, root: Path) -> tuple[str | None, str | None]:
    """(class folder, split folder) of ``path`` in an ImageFolder tree, or (None, None) for a
    file that sits directly in ``root``. ``root/train/<class>/x.jpg`` counts as a split."""
    parts = path.relative_to(root).parts[:-1]
    if not parts:
        return None, None
    if len(parts) >= 2 and parts[0].lower() in _SPLIT_NAMES:
        return parts[1], parts[0].lower()
    return parts[0], None


def collect_class_folders(root: Path, *, canonical: bool | None = None,
                          classes: Sequence[str] | None = None,
                          ) -> tuple[Collected, tuple[str, ...] | None, dict[str, Any]]:
    """Scan an ImageFolder tree; labels are the (lower-cased) class-folder names.

    ``canonical=None`` maps names to the canonical emotions when every folder is an emotion
    spelling (``Anger`` -> ``angry``), else keeps them; ``True`` insists; ``False`` never maps.
    ``classes`` fixes the label set and order; folders outside it become exclusions.
    Returns (collected rows, classes for make_manifest or None for the default, meta).
    """
    files, others = list_image_files(root)
    out = Collected()
    placed = []
    for p in files:
        label, split = folder_label(p, root)
        if label is None:
            out.exclude(p, "not in a class folder (expected root/<class>/<image>)")
        else:
            placed.append((p, label.strip().lower(), split))
    names = sorted({lab for _, lab, _ in placed})
    mapped = {n: canonical_label(n) for n in names}
    use_canonical = (all(mapped.values()) and bool(names)) if canonical is None else canonical
    if use_canonical:
        bad = [n for n, c in mapped.items() if c is None]
        if bad:
            raise ManifestError(
                f"class folder(s) {bad} under {root} are not emotion names; known spellings: "
                f"{sorted(set(canonical_label(k) or k for k in EMOTIONS_8))} "
                "(pass canonical=False to keep folder names as labels)")
    else:
        mapped = {n: n for n in names}
    wanted = None if classes is None else tuple(str(c).strip().lower() for c in classes)
    if wanted is not None and use_canonical:
        wanted = tuple(canonical_label(c) or c for c in wanted)
    for p, lab, split in placed:
        label = mapped[lab]
        if wanted is not None and label not in wanted:
            out.exclude(p, f"class folder {lab!r} not in classes={list(wanted)}")
            continue
        values: dict[str, Any] = {"label": label}
        if split is not None:
            values["split"] = split
        out.add(p, **values)
    if wanted is not None:
        final = wanted
    elif use_canonical:
        final = None  # make_manifest orders canonical emotions itself
    else:
        final = tuple(sorted({mapped[n] for n in names}))
    meta = {"layout": "class folders", "other_files": others,
            "folder_names": {n: mapped[n] for n in names}}
    return out, final, meta


def read_manifest_csv(csv_path: Path, *, base_dirs: Sequence[Path], defaults: Mapping[str, str],
                      canonical: bool | None = None, label_parser: Any = None,
                      ) -> tuple[Collected, tuple[str, ...] | None, dict[str, Any]]:
    """Read a user manifest CSV: columns ``path,label[,gender,age_group,subject_id,...]``.

    Relative paths are looked up in ``base_dirs`` in order. Structural faults (missing
    columns, empty path or label, an unknown gender, a repeated path) raise
    :class:`ManifestError` naming the row; a listed file that is missing is an exclusion.
    ``label_parser(token) -> (label, extras) | None`` reads data-set specific tokens (CAFE's
    ``angryopen``); otherwise labels are lower-cased and, when all are emotion spellings (or
    ``canonical=True``), mapped to the canonical names.
    """
    table = read_table(csv_path)
    path_col = find_column(table.columns, ("path", "filepath", "file", "filename", "image"))
    label_col = find_column(table.columns, ("label", "emotion", "class", "expression"))
    if path_col is None or label_col is None:
        raise ManifestError(
            f"{csv_path} needs columns 'path' and 'label' (found {list(table.columns)}); "
            "optional: gender, age_group, subject_id and any extra columns")
    out = Collected()
    renamed = {path_col: "path", label_col: "label"}
    for col in table.columns:
        key = norm_column(col)
        if col not in renamed and key in ("gender", "agegroup", "subjectid"):
            renamed[col] = {"gender": "gender", "agegroup": "age_group",
                            "subjectid": "subject_id"}[key]
    table = table.rename(columns=renamed)
    seen: dict[str, int] = {}
    labels_raw = []
    for i, row in table.iterrows():
        ref = row_ref(csv_path, int(i))
        rel = row["path"].strip()
        token = row["label"].strip()
        if not rel:
            raise ManifestError(f"{ref}: empty path; every row needs the image's path")
        if not token:
            raise ManifestError(f"{ref}: empty label for {rel!r}")
        values: dict[str, Any] = {c: row[c] for c in table.columns if c not in ("path", "label")}
        for col, norm, allowed in (("gender", norm_gender, "male/female (m/f, boy/girl)"),
                                   ("age_group", norm_age_group, sorted(AGE_GROUPS))):
            raw = values.get(col, defaults.get(col, "unknown"))
            value = norm(raw)
            if value is None:
                raise ManifestError(f"{ref}: {col} {raw!r} is not one of {allowed}")
            if value == "unknown" and col in defaults:
                value = defaults[col]
            values[col] = value
        values.setdefault("subject_id", defaults.get("subject_id", "unknown"))
        if label_parser is not None:
            parsed = label_parser(token)
            if parsed is None:
                raise ManifestError(f"{ref}: unknown label {token!r}")
            label, extras = parsed
            values.update({k: v for k, v in extras.items() if not str(values.get(k, "")).strip()})
        else:
            label = token.lower()
        p = Path(rel).expanduser()
        if not p.is_absolute():
            found = [b / p for b in base_dirs if (b / p).exists()]
            p = found[0] if found else base_dirs[0] / p
        key = str(p.resolve())
        if key in seen:
            raise ManifestError(f"{ref}: path {rel!r} already listed at "
                                f"{row_ref(csv_path, seen[key])}; each image must appear once")
        seen[key] = int(i)
        if not p.exists():
            out.exclude(p, f"listed in {csv_path.name} row {int(i) + 1} but the file does "
                           "not exist")
            continue
        values["label"] = label
        labels_raw.append(label)
        out.add(p, **values)
    names = sorted(set(labels_raw))
    classes: tuple[str, ...] | None
    if label_parser is not None:
        classes = None
    else:
        mapped = {n: canonical_label(n) for n in names}
        use = (all(mapped.values()) and bool(names)) if canonical is None else canonical
        if use:
            bad = [n for n, c in mapped.items() if c is None]
            if bad:
                raise ManifestError(f"{csv_path}: label(s) {bad} are not emotion names "
                                    "(pass canonical=False to keep them as they are)")
            for r in out.rows:
                r["label"] = mapped[r["label"]]
            classes = None
        else:
            classes = tuple(names)
    return out, classes, {"layout": "manifest csv", "source_csv": str(csv_path)}


def finish(collected: Collected, *, name: str, root: Path, classes: Sequence[str] | None,
           fixed_classes: bool = False, allow_missing_classes: bool = False,
           missing_hint: str = "", defaults: Mapping[str, str] | None = None,
           meta: Mapping[str, Any] | None = None, source: str | None = None,
           check: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS, cache: bool = True,
           progress: bool = False) -> Manifest:
    """Check images, drop duplicates, fill defaults and build the Manifest.

    Args:
        classes: label set in model order (None: canonical emotions present).
        fixed_classes: every class must have an image (the paper's class set); an empty one is
            an error naming the root, the empty classes, the counts found and ``missing_hint``
            (how the adapter lets a user run anyway).
        allow_missing_classes: with ``fixed_classes``, an empty class is not an error: the
            classes stay the paper's set and ``meta["missing_classes"]`` names the empty ones.
        check: run :func:`~emo_lib.data.images.inspect_image` on every file (and hash it for
            duplicates). Leave on; off only for trusted, already-checked trees.
    Raises:
        ManifestError: no usable image, or an empty fixed class (unless allowed).
    """
    if not isinstance(allow_missing_classes, bool):
        raise ValueError(f"allow_missing_classes={allow_missing_classes!r}: use True or False")
    excluded = list(collected.excluded)
    rows = sorted(collected.rows, key=lambda r: r["path"])
    kept: list[dict[str, Any]] = []
    if check and rows:
        checks = check_images([r["path"] for r in rows], max_pixels=max_pixels,
                              cache_key=str(root) if cache else None, progress=progress)
        first_of: dict[str, str] = {}
        for row, chk in zip(rows, checks):
            if chk.reason is not None:
                excluded.append((row["path"], chk.reason))
            elif chk.sha1 in first_of:
                excluded.append((row["path"], f"duplicate of {first_of[chk.sha1]}"))
            else:
                first_of[chk.sha1] = row["path"]
                kept.append({**row, "content_hash": chk.sha1})
    else:
        kept = rows
    exclusions = pd.DataFrame(excluded, columns=list(EXCLUSION_COLUMNS))
    n_found = len(rows) + len(collected.excluded)
    if not kept:
        reasons = exclusions["reason"].value_counts().head(5)
        found = "; ".join(f"{n} x {r}" for r, n in reasons.items()) or "no image files at all"
        raise ManifestError(
            f"data set {name!r} at {root}: no usable image among {n_found} file(s) found "
            f"({found}). Check that the root points at the data set's folder.")
    frame = pd.DataFrame(kept)
    for col, value in {"gender": "unknown", "age_group": "unknown", "subject_id": "unknown",
                       **(defaults or {})}.items():
        if col not in frame.columns:
            frame[col] = value
        else:
            frame[col] = frame[col].fillna(value)
    frame["dataset"] = name
    front = [c for c in REQUIRED_COLUMNS if c in frame.columns]
    frame = frame[front + [c for c in frame.columns if c not in front]]
    missing: list[str] = []
    if fixed_classes and classes is not None:
        counts = frame["label"].value_counts()
        missing = [c for c in classes if counts.get(c, 0) == 0]
        if missing and not allow_missing_classes:
            raise ManifestError(
                f"data set {name!r} at {root}: no usable image for class(es) {missing}; found "
                f"{ {c: int(counts.get(c, 0)) for c in classes} } and {len(exclusions)} "
                "excluded file(s) (see the exclusion reasons); is this the complete data set?"
                + (f" To run on part of the set, {missing_hint}." if missing_hint else ""))
    info = {"n_found": n_found, "n_used": len(frame), "n_excluded": len(exclusions),
            "checked": bool(check), "max_pixels": max_pixels, **(meta or {})}
    if fixed_classes:
        info["missing_classes"] = missing
    return make_manifest(frame, name=name, classes=classes, exclusions=exclusions, root=root,
                         meta=info, source=source)
