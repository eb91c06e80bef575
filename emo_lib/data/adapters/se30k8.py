"""SE30K8, the long-tailed 8-class visual-emotion set of Jeong & Kim 2021 (~28,000 images).

Two layouts are read: class sub-folders (``root/<class>/<image>``, optionally under
``train/``/``test/`` split folders, kept as a ``split`` column), or a CSV of ``path,label``
in the root (or given as ``csv=PATH``). Class names come from the data, lower-cased, in sorted
order: this code does not fix them. People and ages are not annotated (``unknown``).
"""
from __future__ import annotations

from pathlib import Path

from ..images import DEFAULT_MAX_PIXELS
from ..manifest import Manifest, ManifestError
from ..registry import DatasetInfo, register_dataset
from ._scan import (
    collect_class_folders, find_column, finish, list_image_files, read_manifest_csv, read_table,
)

INFO = DatasetInfo(
    name="se30k8",
    title="SE30K8 visual-emotion set (StockEmotion, 8 classes; Jeong & Kim 2021)",
    env_var="SE30K8_ROOT",
    source="on request from the StockEmotion / SE30K8 authors (Jeong & Kim 2021, ETRI)",
)


def _find_csv(root: Path) -> Path | None:
    for csv in sorted(root.glob("*.csv")):
        try:
            cols = read_table(csv).columns
        except ManifestError:
            continue
        if find_column(cols, ("path", "filepath", "file", "filename", "image")) and \
                find_column(cols, ("label", "emotion", "class")):
            return csv
    return None


@register_dataset("se30k8", INFO)
def load_se30k8(root: Path, *, csv: str | Path | None = None, check: bool = True,
                max_pixels: int = DEFAULT_MAX_PIXELS, cache: bool = True,
                progress: bool = True) -> Manifest:
    """SE30K8 as a Manifest; ``classes`` = the sorted lower-case class names found.

    Args:
        csv: a ``path,label`` CSV (paths relative to its folder); default: one in the root if
            it has those columns, else the class folders.
    """
    root = Path(root)
    common = dict(check=check, max_pixels=max_pixels, cache=cache, progress=progress)
    table = Path(csv).expanduser() if csv is not None else _find_csv(root)
    if table is not None:
        collected, _, meta = read_manifest_csv(table, base_dirs=[table.parent, root],
                                               defaults={}, canonical=False)
        listed = {r["path"] for r in collected.rows} | {p for p, _ in collected.excluded}
        files, others = list_image_files(root)
        for p in files:  # images in the tree the CSV does not name: logged, not dropped
            if str(p) not in listed and str(p.resolve()) not in listed:
                collected.exclude(p, f"not listed in {table.name}")
        meta["other_files"] = others
    else:
        collected, _, meta = collect_class_folders(root, canonical=False)
    names = sorted({r["label"] for r in collected.rows})
    return finish(collected, name="se30k8", root=root, classes=names, meta=meta,
                  source=str(table) if table else None, **common)
