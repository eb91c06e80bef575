"""Jeong & Kim 2021 (balanced data augmentation), one module per table or concern; notebooks
read ``from emo_lib import jeong2021 as jg``.

- :mod:`.names`: the tables' models, methods, metrics;
- :mod:`.data`: SE30K8 (or its synthetic stand-in) as arrays;
- :mod:`.cells`: the grids behind Tables 2-4 and Fig. 5, each fold a cached training unit;
- :mod:`.plan`: each page's grid as a function of its parameters, and ``emo-book plan``;
- :mod:`.tables`: the paper's tables with this run's numbers beside;
- :mod:`.sizes`: parameters and FLOPs for Fig. 5;
- :mod:`.claims`: every claim's rule and verdict;
- :mod:`.figures`: the figures.
"""
from ..verdicts import claim_lines, with_paper_verdicts
from .cells import (
    Recipe, balanced_cells, cell_units, loss_spec, method_cell, run_balanced, run_cells,
    run_scaling, run_sweep, scaling_cells, sweep_cells, sweep_recipe, weights_source,
)
from .claims import CLAIM_IDS, FOCAL_EXCEPTIONS, claim_verdicts, paper_results
from .data import (
    classes_by_frequency, content_key, effective_n_min, label_indices, load_se30k8,
    se30k8_manifest,
)
from .figures import confusion_figure, scaling_figure, sweep_figure
from .plan import PAGES, page_grid, run_page
from .sizes import model_sizes, reference_input_size, scaling_trend
from .names import (
    BASELINE_TABLE4, EXTRA_METHODS, METRICS, NO_AUGMENTATION, PAPER, PAPER_METHODS,
    PAPER_MODELS, SWEEP_TABLES,
)
from .tables import (
    balanced_vs_paper, collapse_note, confusion_sum, fold_means, paper_gain, paper_sweep,
    paper_table, paper_table4, prediction_collapse, relative_gain, scaling_vs_paper, select,
    select_top_transforms, sweep_vs_paper,
)

__all__ = [
    "BASELINE_TABLE4", "CLAIM_IDS", "PAGES", "balanced_cells", "page_grid", "run_page", "cell_units", "scaling_cells", "sweep_cells", "EXTRA_METHODS", "FOCAL_EXCEPTIONS", "METRICS",
    "NO_AUGMENTATION", "PAPER", "PAPER_METHODS", "PAPER_MODELS", "Recipe", "SWEEP_TABLES",
    "balanced_vs_paper", "claim_lines", "claim_verdicts", "classes_by_frequency",
    "collapse_note", "confusion_figure", "content_key", "se30k8_manifest", "confusion_sum", "effective_n_min", "fold_means",
    "label_indices", "load_se30k8", "loss_spec", "method_cell", "model_sizes", "paper_gain",
    "paper_results", "paper_sweep", "paper_table", "paper_table4", "prediction_collapse",
    "reference_input_size", "relative_gain", "run_balanced", "run_cells", "run_scaling",
    "run_sweep", "scaling_figure", "scaling_trend", "scaling_vs_paper", "select",
    "select_top_transforms", "sweep_figure", "sweep_recipe", "sweep_vs_paper", "weights_source",
    "with_paper_verdicts",
]
