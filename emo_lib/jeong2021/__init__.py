"""Jeong & Kim 2021 (balanced data augmentation), one module per table or concern; notebooks
read ``from emo_lib import jeong2021 as jg``.

- :mod:`.names`: the tables' models, methods, metrics;
- :mod:`.data`: SE30K8 (or its synthetic stand-in) as arrays;
- :mod:`.cells`: the grids behind Tables 2-4 and Fig. 5, each fold a cached training unit;
- :mod:`.posthoc`: Table 4's post-hoc logit-adjustment rows, from stored test logits;
- :mod:`.plan`: each page's grid as a function of its parameters, and ``emo-book plan``;
- :mod:`.seeded`: the pages once per training seed (``seeds``): units, claims, the seed note;
- :mod:`.foldstats`: the per-fold collapse rule, statistics across folds, ``fold_scores.csv``;
- :mod:`.tables`: the paper's tables with this run's numbers beside;
- :mod:`.sizes`: parameters and FLOPs for Fig. 5;
- :mod:`.claims`: every claim's comparisons, tests and verdict;
- :mod:`.figures`: the figures.
"""
from ..verdicts import claim_lines, format_p, rules_markdown, with_paper_verdicts
from .cells import (
    WEIGHTS_CHOICES, Recipe, add_posthoc, balanced_cells, cell_units, describe_weights,
    frozen_prefixes, initial_weights, loss_spec, method_cell, method_recipes, run_balanced,
    run_cells, run_scaling, run_sweep, scaling_cells, sweep_cells, sweep_recipe, weights_source,
)
from .claims import (
    ACCURACY_MARGIN, CLAIM_IDS, COMPARISON_COLUMNS, FOCAL_EXCEPTIONS, RULE_KINDS,
    claim_comparisons, claim_tests, claim_verdicts, paper_results, paper_verdicts, size_slopes,
)
from .data import (
    classes_by_frequency, content_key, effective_n_min, label_indices, load_se30k8,
    se30k8_manifest,
)
from .figures import confusion_figure, fold_figure, scaling_figure
from .foldstats import (
    FOLD_SCORE_COLUMNS, augmentation_label, cell_summary, compare_cells, fold_collapse,
    fold_scores, majority_f1, with_collapse,
)
from .names import (
    BASELINE_TABLE4, EXTRA_METHODS, METRICS, NO_AUGMENTATION, PAPER, PAPER_METHODS,
    PAPER_MODELS, PAPER_REFERENCE_MODEL, POSTHOC_METHODS, POSTHOC_SOURCES, SWEEP_TABLES,
    TRAINED_EXTRA_METHODS, METHODS, Method, column_label, method_label, model_label,
    table4_methods,
)
from .plan import PAGES, page_grid, run_page, run_page_by_seed
from .posthoc import posthoc_rows
from .seeded import claims_by_seed, run_cells_by_seed, seed_note, training_seeds
from .sizes import family_note, model_sizes, reference_input_size, scaling_trend
from .tables import (
    balanced_vs_paper, collapse_note, comparisons_display, confusion_sum, fold_means,
    gain_sentences, paper_gain, paper_sweep, paper_table, paper_table4, relative_gain,
    scaling_display, scaling_vs_paper,
    select, select_top_transforms, sweep_vs_paper,
)

__all__ = [
    "ACCURACY_MARGIN", "BASELINE_TABLE4", "CLAIM_IDS", "COMPARISON_COLUMNS", "EXTRA_METHODS",
    "FOCAL_EXCEPTIONS", "FOLD_SCORE_COLUMNS", "METRICS", "NO_AUGMENTATION", "PAGES", "PAPER",
    "PAPER_METHODS", "PAPER_MODELS", "PAPER_REFERENCE_MODEL", "POSTHOC_METHODS", "POSTHOC_SOURCES",
    "RULE_KINDS", "Recipe", "SWEEP_TABLES", "TRAINED_EXTRA_METHODS", "WEIGHTS_CHOICES",
    "add_posthoc", "augmentation_label", "balanced_cells", "balanced_vs_paper", "cell_summary",
    "cell_units", "claim_comparisons", "claims_by_seed", "claim_lines", "claim_tests",
    "claim_verdicts", "column_label", "gain_sentences", "table4_methods", "METHODS", "Method",
    "classes_by_frequency", "collapse_note", "comparisons_display", "compare_cells",
    "confusion_figure", "confusion_sum", "content_key", "describe_weights", "effective_n_min",
    "family_note", "fold_collapse", "fold_figure", "fold_means", "fold_scores", "format_p",
    "frozen_prefixes", "initial_weights", "label_indices", "load_se30k8", "loss_spec",
    "majority_f1", "method_cell", "method_label", "method_recipes", "model_label", "model_sizes",
    "page_grid", "paper_gain", "paper_results", "paper_sweep", "paper_table", "paper_table4",
    "paper_verdicts", "posthoc_rows", "reference_input_size", "relative_gain", "rules_markdown",
    "run_balanced", "run_cells", "run_cells_by_seed", "run_page",
    "run_page_by_seed", "run_scaling", "run_sweep", "scaling_cells",
    "scaling_display", "scaling_figure", "scaling_trend", "scaling_vs_paper", "se30k8_manifest",
    "seed_note", "select", "size_slopes", "select_top_transforms", "sweep_cells", "sweep_recipe",
    "sweep_vs_paper", "training_seeds", "weights_source", "with_collapse", "with_paper_verdicts",
]
