"""Data sets as validated manifests: ``load_dataset(name, root=None, **options)``."""
from .manifest import (
    EMOTIONS_7, EMOTIONS_8, LANDMARK_COLUMNS, LANDMARK_NAMES, REQUIRED_COLUMNS, Manifest,
    ManifestError, canonical_label, make_manifest,
)
from .registry import (
    DatasetInfo, DatasetNotFound, check_available, dataset_info, dataset_names, load_dataset,
    register_dataset, resolve_root, synthetic_options,
)

__all__ = [
    "EMOTIONS_7", "EMOTIONS_8", "LANDMARK_COLUMNS", "LANDMARK_NAMES", "REQUIRED_COLUMNS",
    "Manifest", "ManifestError", "canonical_label", "make_manifest", "DatasetInfo",
    "DatasetNotFound", "check_available", "dataset_info", "dataset_names", "load_dataset",
    "register_dataset", "resolve_root", "synthetic_options",
]
