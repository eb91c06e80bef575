"""The data contract every adapter and the synthetic generator return: a validated Manifest.

A Manifest is one row per image (``frame``) plus the files that were looked at and not used
(``exclusions``). Counts in = ``len(frame) + len(exclusions)``: nothing is dropped silently.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

#: Canonical expression names, in the order the papers and HSEmotion use (contempt last: only
#: 8-class sets have it).
EMOTIONS_7: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
EMOTIONS_8: tuple[str, ...] = EMOTIONS_7 + ("contempt",)

#: Spellings seen in real data sets, mapped to the canonical name.
LABEL_ALIASES: dict[str, str] = {
    "anger": "angry", "angry": "angry", "mad": "angry",
    "disgust": "disgust", "disgusted": "disgust",
    "fear": "fear", "afraid": "fear", "fearful": "fear", "scared": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy",
    "neutral": "neutral", "calm": "neutral",
    "sad": "sad", "sadness": "sad",
    "surprise": "surprise", "surprised": "surprise",
    "contempt": "contempt",
}

REQUIRED_COLUMNS: tuple[str, ...] = ("path", "label", "gender", "age_group", "subject_id",
                                     "dataset")
GENDERS: frozenset[str] = frozenset({"male", "female", "unknown"})
AGE_GROUPS: frozenset[str] = frozenset({"child", "adolescent", "adult", "unknown"})
EXCLUSION_COLUMNS: tuple[str, ...] = ("path", "reason")

#: The five facial landmarks MTCNN returns (and the synthetic generator draws), as x/y columns
#: in pixels of the image at ``path``: left eye, right eye, nose tip, mouth left, mouth right.
LANDMARK_NAMES: tuple[str, ...] = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
LANDMARK_COLUMNS: tuple[str, ...] = tuple(
    f"{name}_{axis}" for name in LANDMARK_NAMES for axis in ("x", "y")
)


class ManifestError(ValueError):
    """A manifest (or the table it was built from) breaks the data contract."""


def canonical_label(token: str) -> str | None:
    """Return the canonical expression name for ``token`` (any case), or None if unknown."""
    return LABEL_ALIASES.get(str(token).strip().lower())


def class_indices(labels: Sequence[Any] | np.ndarray, classes: Sequence[str], *,
                  of: str = "the classes") -> np.ndarray:
    """Labels (class names, or integer indices already) as int64 indices into ``classes``.

    The one label encoder of the project (training, LIME, fine-tuning all use it). Raises
    ValueError naming the labels that are not in ``classes`` (``of`` says whose classes they
    are, e.g. "the model's outputs") or indices outside ``[0, len(classes))``.
    """
    y = np.asarray(labels)
    if y.dtype.kind in "iu":
        if len(y) and (y.min() < 0 or y.max() >= len(classes)):
            raise ValueError(f"label indices must lie in [0, {len(classes)}) for {of} "
                             f"{list(classes)}, got [{y.min()}, {y.max()}]")
        return y.astype(np.int64)
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = sorted({str(v) for v in y.ravel() if v not in lookup})
    if unknown:
        raise ValueError(f"labels {unknown} are not among {of} {list(classes)}")
    return np.fromiter((lookup[v] for v in y.ravel()), dtype=np.int64, count=y.size)


def empty_exclusions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in EXCLUSION_COLUMNS})


@dataclass
class Manifest:
    """A validated table of images. Build it with :func:`make_manifest`, which checks it.

    Attributes:
        frame: one row per usable image (``REQUIRED_COLUMNS`` plus adapter extras).
        exclusions: one row per file that was found and not used, with its reason.
        classes: the label set, in a fixed order (model output order).
        name: the data-set name given to ``load_dataset`` (``"cafe"``, ``"synthetic:cafe_like"``).
        root: where the files are.
        synthetic: True for the embedded generated default; pages say so.
        meta: free-form provenance (generator version, options, source CSV...).
    """

    frame: pd.DataFrame
    exclusions: pd.DataFrame
    classes: tuple[str, ...]
    name: str
    root: Path | None = None
    synthetic: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def n_found(self) -> int:
        """Files looked at: used + excluded."""
        return len(self.frame) + len(self.exclusions)

    def counts(self, by: str | Sequence[str] = "gender", margins: bool = True) -> pd.DataFrame:
        """Images per ``by`` x class (rows x columns), classes in manifest order, with totals."""
        by = [by] if isinstance(by, str) else list(by)
        table = pd.crosstab(
            [self.frame[b] for b in by], self.frame["label"], margins=margins, margins_name="total"
        )
        order = [c for c in self.classes if c in table.columns] + (["total"] if margins else [])
        return table.reindex(columns=order, fill_value=0)

    def fingerprint(self) -> str:
        """A short hash of paths and labels: keys caches derived from this manifest."""
        h = hashlib.sha256()
        for p, lab in zip(self.frame["path"].astype(str), self.frame["label"].astype(str)):
            h.update(f"{p}\t{lab}\n".encode())
        return h.hexdigest()[:16]


def _rows(index: Iterable[int]) -> str:
    idx = list(index)
    shown = ", ".join(str(i) for i in idx[:10])
    return f"row{'s' if len(idx) > 1 else ''} {shown}{' ...' if len(idx) > 10 else ''}"


def make_manifest(
    frame: pd.DataFrame,
    *,
    name: str,
    classes: Sequence[str] | None = None,
    exclusions: pd.DataFrame | None = None,
    root: str | Path | None = None,
    synthetic: bool = False,
    meta: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Manifest:
    """Validate ``frame`` and wrap it in a :class:`Manifest`.

    Args:
        frame: the table; must hold ``REQUIRED_COLUMNS``. Labels must already be canonical.
        classes: the label set in model order. Default: the canonical emotions present, in
            ``EMOTIONS_8`` order (labels outside it are then an error).
        source: what the table came from (a CSV path), named in error messages.

    Raises:
        ManifestError: naming the rows at fault and what to do.
    """
    where = f" in {source}" if source else f" in data set {name!r}"
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ManifestError(
            f"missing column(s) {missing}{where}; a manifest needs {list(REQUIRED_COLUMNS)}"
        )
    frame = frame.reset_index(drop=True).copy()
    for col in REQUIRED_COLUMNS:
        empty = frame.index[frame[col].isna() | (frame[col].astype(str).str.strip() == "")]
        if len(empty) and col in ("path", "label"):
            raise ManifestError(f"empty {col!r} at {_rows(empty)}{where}")
        frame.loc[empty, col] = "unknown"
    frame["path"] = frame["path"].astype(str)
    frame["label"] = frame["label"].astype(str)
    frame["subject_id"] = frame["subject_id"].astype(str)

    dup = frame.index[frame["path"].duplicated(keep=False)]
    if len(dup):
        raise ManifestError(
            f"duplicate path {frame.loc[dup[0], 'path']!r} at {_rows(dup)}{where}; "
            "each image must appear once"
        )
    if classes is None:
        present = set(frame["label"])
        unknown = present - set(EMOTIONS_8)
        if unknown:
            bad = frame.index[frame["label"].isin(unknown)]
            raise ManifestError(
                f"unknown label(s) {sorted(unknown)} at {_rows(bad)}{where}; known: "
                f"{list(EMOTIONS_8)} (pass classes=... for other label sets)"
            )
        classes = [c for c in EMOTIONS_8 if c in present]
    classes = tuple(classes)
    bad = frame.index[~frame["label"].isin(classes)]
    if len(bad):
        raise ManifestError(
            f"label {frame.loc[bad[0], 'label']!r} at {_rows(bad)}{where} is not one of "
            f"{list(classes)}"
        )
    for col, allowed in (("gender", GENDERS), ("age_group", AGE_GROUPS)):
        frame[col] = frame[col].astype(str).str.lower()
        bad = frame.index[~frame[col].isin(allowed)]
        if len(bad):
            raise ManifestError(
                f"{col} {frame.loc[bad[0], col]!r} at {_rows(bad)}{where}; "
                f"allowed: {sorted(allowed)}"
            )
    if exclusions is None:
        exclusions = empty_exclusions()
    else:
        missing = [c for c in EXCLUSION_COLUMNS if c not in exclusions.columns]
        if missing:
            raise ManifestError(f"exclusions{where} lack column(s) {missing}")
        exclusions = exclusions.reset_index(drop=True)
    return Manifest(
        frame=frame, exclusions=exclusions, classes=classes, name=name,
        root=Path(root) if root is not None else None, synthetic=synthetic, meta=dict(meta or {}),
    )
