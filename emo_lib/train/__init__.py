"""Training: the dataset of (image, transform) items (:mod:`.dataset`), fitting and scoring one
model (:mod:`.fit`), the resident GPU data path (:mod:`.resident`), folds (:mod:`.folds`),
cached cross-validation (:mod:`.crossval`), training units (:mod:`.units`) and the executors
that compute them (:mod:`.executors`)."""
from .crossval import (
    array_fingerprint, cached_cross_validate, config_from_spec, config_spec,
    cross_validate, cv_cache, cv_cache_spec, folds_fingerprint, train_fold,
)
from .dataset import ArrayDataset, Items
from .executors import (
    EXECUTORS, ExecutorSettings, UnitFailure, UnitsFailed, UnitsRun, run_units,
)
from .fit import FitConfig, FitResult, evaluate, fit, predict_logits, seed_everything, softmax
from .folds import Folds, grouped_folds, stratified_folds, validation_split
from .units import Unit, UnitResult, read_arrays, read_result, unit_store

__all__ = [
    "ArrayDataset", "EXECUTORS", "ExecutorSettings", "FitConfig",
    "FitResult", "Folds", "Items", "Unit", "UnitFailure", "UnitResult", "UnitsFailed",
    "UnitsRun", "array_fingerprint", "cached_cross_validate", "config_from_spec", "config_spec",
    "cross_validate", "cv_cache", "cv_cache_spec", "evaluate", "fit", "folds_fingerprint",
    "grouped_folds", "predict_logits", "read_arrays", "read_result", "run_units",
    "seed_everything", "softmax", "stratified_folds", "train_fold", "unit_store",
    "validation_split",
]
