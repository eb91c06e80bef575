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
#: Trained rows beyond the paper: standard rebalancing baselines (inverse-frequency weighted
#: cross entropy, class-balanced sampling, Cui et al.'s class-balanced focal loss, Menon et
#: al.'s logit-adjusted loss) and the cross-entropy baseline post-hoc adjustment starts from.
TRAINED_EXTRA_METHODS: tuple[str, ...] = ("weighted_cross_entropy", "class_balanced_sampling",
                                          "class_balanced_focal", "logit_adjusted_loss",
                                          "baseline_cross_entropy")
#: Rows computed without training: Menon et al.'s post-hoc logit adjustment of a trained
#: cell's stored test logits (the cross-entropy baseline, as they assume; the focal baseline
#: beside it).
POSTHOC_METHODS: tuple[str, ...] = ("logit_adjusted_posthoc", "logit_adjusted_posthoc_focal")
#: The trained row each post-hoc row adjusts.
POSTHOC_SOURCES: dict[str, str] = {"logit_adjusted_posthoc": "baseline_cross_entropy",
                                   "logit_adjusted_posthoc_focal": "baseline"}
#: Every row beyond the paper, in the page's order.
EXTRA_METHODS: tuple[str, ...] = TRAINED_EXTRA_METHODS + POSTHOC_METHODS
#: Added to Table 4 when its baseline is trained with the sweep's settings (as the paper's
#: baseline, which repeats Table 3's numbers) and those differ from the other rows'.
BASELINE_TABLE4 = "baseline_table4_settings"
METRICS: tuple[str, ...] = ("accuracy", "macro_f1")


#: The architecture the paper's claims name (EfficientNet-B0): a page's ``reference_model``
#: plays its role (on the CPU smoke default, MobileNetV3-Small).
PAPER_REFERENCE_MODEL = "efficientnet_b0"


#: Readable architecture names for prose and tables.
MODEL_LABELS: dict[str, str] = {
    **{f"efficientnet_b{i}": f"EfficientNet-B{i}" for i in range(8)},
    "resnet18": "ResNet-18", "resnet50": "ResNet-50", "vgg16": "VGG-16",
    "mobilenet_v3_small": "MobileNetV3-Small", "mobilenet_v3_large": "MobileNetV3-Large",
    "mobilenet_v3_small_s1": "MobileNetV3-Small φ=1", "mobilenet_v3_small_s2":
        "MobileNetV3-Small φ=2", "resnet18_narrow": "ResNet-18 (quarter width)",
}


#: Readable names of Table 4's rows.
METHOD_LABELS: dict[str, str] = {
    "baseline": "baseline (no augmentation)", "over_sampling": "over-sampling",
    "over_sampling_all_transforms": "over-sampling + all transforms",
    "proposed": "proposed (over-sampling + T)", BASELINE_TABLE4: "baseline (Table 4 settings)",
    "weighted_cross_entropy": "weighted cross entropy",
    "class_balanced_sampling": "class-balanced sampling",
    "class_balanced_focal": "class-balanced focal", "logit_adjusted_loss": "logit-adjusted loss",
    "baseline_cross_entropy": "baseline, cross entropy",
    "logit_adjusted_posthoc": "logit adjustment (post hoc)",
    "logit_adjusted_posthoc_focal": "logit adjustment (post hoc, focal)",
}


def method_label(method: str) -> str:
    """``"over_sampling"`` -> ``"over-sampling"`` (unknown names with spaces for underscores)."""
    return METHOD_LABELS.get(method, method.replace("_", " "))


def model_label(model: str) -> str:
    """``"efficientnet_b0"`` -> ``"EfficientNet-B0"`` (other names unchanged)."""
    return MODEL_LABELS.get(model, model)


#: Readable headers for the columns the paper-2 pages show (sizes, class counts).
COLUMN_LABELS: dict[str, str] = {
    "input_size": "input (px)", "params_m": "params (M)", "flops_b": "GFLOPs",
    "params_m_imagenet": "params (M), ImageNet head", "flops_b_imagenet": "GFLOPs, ImageNet",
    "reference_params_m": "params (M), original paper",
    "reference_flops_b": "GFLOPs, original paper",
}


def column_label(column: str) -> str:
    """A table header as a reader reads it: ``"params_m"`` -> ``"params (M)"``,
    ``"copies_random_crop"`` -> ``"copies: random crop"``, other names with spaces for
    underscores.

    >>> column_label("copies_random_crop"), column_label("flops_b"), column_label("originals")
    ('copies: random crop', 'GFLOPs', 'originals')
    """
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    if column.startswith("copies_"):
        return "copies: " + column.removeprefix("copies_").replace("_", " ")
    return column.replace("_", " ")


__all__ = ["BASELINE_TABLE4", "COLUMN_LABELS", "EXTRA_METHODS", "METHOD_LABELS", "METRICS",
           "MODEL_LABELS", "method_label", "NO_AUGMENTATION", "PAPER", "model_label",
           "PAPER_METHODS", "PAPER_MODELS", "PAPER_REFERENCE_MODEL", "POSTHOC_METHODS",
           "POSTHOC_SOURCES", "SWEEP_TABLES", "TRAINED_EXTRA_METHODS", "column_label"]
