"""The names Jeong & Kim's tables use: the paper's key, the no-augmentation row, the models,
methods and metrics, and which table holds which loss's sweep."""
from __future__ import annotations

PAPER = "jeong2021"
#: The first row of Tables 2-3: the training images once, untransformed.
NO_AUGMENTATION = "no_augmentation"
#: Tables 2-3's models, in the paper's column order.
PAPER_MODELS: tuple[str, ...] = ("vgg16", "resnet50", "efficientnet_b0")
#: Which paper table holds which loss's sweep.
SWEEP_TABLES: dict[str, str] = {"cross_entropy": "table2_cross_entropy", "focal": "table3_focal"}
#: Table 4's rows, in the paper's order.
PAPER_METHODS: tuple[str, ...] = ("baseline", "over_sampling", "over_sampling_all_transforms",
                                  "proposed")
#: Rows beyond the paper: two standard rebalancing baselines.
EXTRA_METHODS: tuple[str, ...] = ("weighted_cross_entropy", "class_balanced_sampling")
#: Added to Table 4 when its baseline is trained with the sweep's settings (as the paper's
#: baseline, which repeats Table 3's numbers) and those differ from the other rows'.
BASELINE_TABLE4 = "baseline_table4_settings"
METRICS: tuple[str, ...] = ("accuracy", "macro_f1")


__all__ = ["BASELINE_TABLE4", "EXTRA_METHODS", "METRICS", "NO_AUGMENTATION", "PAPER",
           "PAPER_METHODS", "PAPER_MODELS", "SWEEP_TABLES"]
