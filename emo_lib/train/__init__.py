"""Training: the dataset of (image, transform) items (:mod:`.dataset`), fitting and scoring one
model (:mod:`.fit`), folds (:mod:`.folds`) and cached cross-validation (:mod:`.crossval`)."""
from .crossval import (
    CV_CACHE_VERSION, array_fingerprint, cached_cross_validate, cross_validate, cv_cache,
    cv_cache_spec, folds_fingerprint,
)
from .dataset import ArrayDataset, Items
from .fit import FitConfig, FitResult, evaluate, fit, seed_everything
from .folds import Folds, grouped_folds, stratified_folds, validation_split

__all__ = [
    "ArrayDataset", "CV_CACHE_VERSION", "FitConfig", "FitResult", "Folds", "Items",
    "array_fingerprint", "cached_cross_validate", "cross_validate", "cv_cache", "cv_cache_spec",
    "evaluate", "fit", "folds_fingerprint", "grouped_folds", "seed_everything",
    "stratified_folds", "validation_split",
]
