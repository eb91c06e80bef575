"""Bring your own data set: ``folder`` (ImageFolder layout) and ``csv`` (a manifest file).

``load_dataset("folder", "path/to/root")`` labels each image by its class folder
(``root/<class>/<image>``; ``root/train/<class>/...`` is read as a split). ``load_dataset(
"csv", "path/to/table.csv")`` reads ``path,label[,gender,age_group,subject_id,...]`` with
paths relative to the CSV's folder; extra columns are kept. In both, labels that are all
emotion spellings (``Anger``, ``happiness``) become the canonical names the face models use;
other label sets are kept lower-cased, classes in sorted order (``canonical=False`` forces
that, ``classes=[...]`` fixes the set and order).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..images import DEFAULT_MAX_PIXELS
from ..manifest import Manifest, ManifestError, canonical_label
from ..registry import DatasetInfo, register_dataset
from ._scan import collect_class_folders, finish, norm_age_group, norm_gender, read_manifest_csv

FOLDER_INFO = DatasetInfo(name="folder", title="your images in class folders (root/<class>/...)",
                          source="your own files")
CSV_INFO = DatasetInfo(name="csv", title="your images listed in a CSV (path,label,...)",
                       source="your own files")


def _defaults(gender: str | None, age_group: str | None) -> dict[str, str]:
    out = {}
    if gender is not None:
        if norm_gender(gender) is None:
            raise ValueError(f"gender={gender!r}: use 'male', 'female' or 'unknown'")
        out["gender"] = norm_gender(gender)
    if age_group is not None:
        if norm_age_group(age_group) is None:
            raise ValueError(f"age_group={age_group!r}: use child/adolescent/adult/unknown")
        out["age_group"] = norm_age_group(age_group)
    return out


def _fix_classes(classes: Sequence[str] | None, found: tuple[str, ...] | None,
                 canonical_used: bool) -> tuple[str, ...] | None:
    if classes is None:
        return found
    wanted = tuple(str(c).strip().lower() for c in classes)
    return tuple(canonical_label(c) or c for c in wanted) if canonical_used else wanted


@register_dataset("folder", FOLDER_INFO)
def load_folder(root: Path, *, classes: Sequence[str] | None = None,
                canonical: bool | None = None, gender: str | None = None,
                age_group: str | None = None, name: str = "folder", check: bool = True,
                max_pixels: int = DEFAULT_MAX_PIXELS, cache: bool = True,
                progress: bool = True) -> Manifest:
    """An ImageFolder tree as a Manifest.

    Args:
        classes: label set and order (folders outside it are excluded; each must have images).
        gender, age_group: one value for every image (the tree cannot say).
        name: the data-set name the manifest carries (pages show it).
    """
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(f"{root} is not a folder; the 'folder' data set needs "
                            "root/<class>/<image> (use 'csv' for a table of paths)")
    collected, found, meta = collect_class_folders(root, canonical=canonical, classes=classes)
    return finish(collected, name=name, root=root, classes=found,
                  fixed_classes=classes is not None, defaults=_defaults(gender, age_group),
                  meta=meta, check=check, max_pixels=max_pixels, cache=cache, progress=progress)


@register_dataset("csv", CSV_INFO)
def load_csv(root: Path, *, classes: Sequence[str] | None = None,
             canonical: bool | None = None, gender: str | None = None,
             age_group: str | None = None, name: str = "csv", check: bool = True,
             max_pixels: int = DEFAULT_MAX_PIXELS, cache: bool = True,
             progress: bool = True) -> Manifest:
    """A CSV manifest (``root`` is the CSV file) as a Manifest.

    Bad rows (empty path or label, unknown gender or age group, a path listed twice) raise
    :class:`ManifestError` naming the row; a listed file that is missing or unreadable is an
    exclusion.
    """
    csv = Path(root)
    if csv.is_dir():
        raise ManifestError(f"{csv} is a folder; the 'csv' data set's root is the CSV file "
                            "itself (use 'folder' for class folders)")
    collected, found, meta = read_manifest_csv(
        csv, base_dirs=[csv.parent], defaults=_defaults(gender, age_group), canonical=canonical)
    canonical_used = found is None
    if classes is not None:
        wanted = _fix_classes(classes, found, canonical_used) or ()
        rows, collected.rows = collected.rows, []
        for r in rows:
            if r["label"] in wanted:
                collected.rows.append(r)
            else:
                collected.exclude(r["path"], f"label {r['label']!r} not in classes={list(wanted)}")
        found = wanted
    return finish(collected, name=name, root=csv, classes=found,
                  fixed_classes=classes is not None, meta=meta, source=str(csv), check=check,
                  max_pixels=max_pixels, cache=cache, progress=progress)
