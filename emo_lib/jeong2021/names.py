"""The names Jeong & Kim's tables use: the paper's key, the no-augmentation row, the models,
methods and metrics, and which table holds which loss's sweep."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

PAPER = "jeong2021"
#: The first row of Tables 2-3: the training images once, untransformed.
NO_AUGMENTATION = "no_augmentation"
#: Tables 2-3's models, in the paper's column order.
PAPER_MODELS: tuple[str, ...] = ("vgg16", "resnet50", "efficientnet_b0")
#: Which paper table holds which loss's sweep.
SWEEP_TABLES: dict[str, str] = {"cross_entropy": "table2_cross_entropy", "focal": "table3_focal"}
@dataclass(frozen=True)
class Method:
    """One row of Table 4: how its training set is drawn and which loss trains it.

    ``over_sample``: None (every training image once), or Algorithm 1's over-sampling with
    ``"none"`` (plain copies), ``"selected"`` (each copy transformed by one of the set T) or
    ``"all"`` (one of every transform); ``loss``: None (the page's loss, focal) or a
    :data:`emo_lib.losses.LOSSES` name; ``sampler``: None (shuffle) or ``"class_balanced"``;
    ``paper``: a row of the paper's Table 4; ``posthoc_of``: computed, not trained, from that
    trained row's stored test logits (Menon et al.'s post-hoc logit adjustment)."""

    label: str
    over_sample: str | None = None
    loss: str | None = None
    sampler: str | None = None
    paper: bool = False
    posthoc_of: str | None = None


#: Table 4's rows, in the page's order: the paper's four, then standard rebalancing baselines
#: beyond the paper (inverse-frequency weighted cross entropy, class-balanced sampling, Cui et
#: al.'s class-balanced focal loss, Menon et al.'s logit-adjusted loss, the cross-entropy
#: baseline post-hoc adjustment starts from) and the two post-hoc rows (the cross-entropy
#: baseline, as Menon et al. assume, and the focal baseline beside it). Adding a row is one entry.
METHODS: dict[str, Method] = {
    "baseline": Method("baseline (no augmentation)", paper=True),
    "over_sampling": Method("over-sampling", over_sample="none", paper=True),
    "over_sampling_all_transforms": Method("over-sampling + all transforms", over_sample="all",
                                           paper=True),
    "proposed": Method("proposed (over-sampling + T)", over_sample="selected", paper=True),
    "weighted_cross_entropy": Method("weighted cross entropy", loss="weighted_cross_entropy"),
    "class_balanced_sampling": Method("class-balanced sampling", sampler="class_balanced"),
    "class_balanced_focal": Method("class-balanced focal", loss="class_balanced_focal"),
    "logit_adjusted_loss": Method("logit-adjusted loss", loss="logit_adjusted"),
    "baseline_cross_entropy": Method("baseline, cross entropy", loss="cross_entropy"),
    "logit_adjusted_posthoc": Method("logit adjustment (post hoc)",
                                     posthoc_of="baseline_cross_entropy"),
    "logit_adjusted_posthoc_focal": Method("logit adjustment (post hoc, focal)",
                                           posthoc_of="baseline"),
}
#: Added to Table 4 when its baseline is trained with the sweep's settings (as the paper's
#: baseline, which repeats Table 3's numbers) and those differ from the other rows'.
BASELINE_TABLE4 = "baseline_table4_settings"
#: The table's groups, derived from :data:`METHODS`.
PAPER_METHODS: tuple[str, ...] = tuple(n for n, m in METHODS.items() if m.paper)
TRAINED_EXTRA_METHODS: tuple[str, ...] = tuple(n for n, m in METHODS.items()
                                               if not m.paper and m.posthoc_of is None)
POSTHOC_METHODS: tuple[str, ...] = tuple(n for n, m in METHODS.items() if m.posthoc_of)
#: The trained row each post-hoc row adjusts.
POSTHOC_SOURCES: dict[str, str] = {n: m.posthoc_of for n, m in METHODS.items() if m.posthoc_of}
#: Every row beyond the paper, in the page's order.
EXTRA_METHODS: tuple[str, ...] = TRAINED_EXTRA_METHODS + POSTHOC_METHODS
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


def table4_methods(methods: Sequence[str] | None) -> tuple[str, ...]:
    """The Table 4 rows a page trains: ``methods`` as given, or every row of :data:`METHODS`
    when it is empty (the page's default).

    >>> table4_methods(["proposed"]), len(table4_methods([])) == len(METHODS)
    (('proposed',), True)
    """
    return tuple(methods) if methods else tuple(METHODS)


#: Readable names of Table 4's rows.
METHOD_LABELS: dict[str, str] = {**{n: m.label for n, m in METHODS.items()},
                                 BASELINE_TABLE4: "baseline (Table 4 settings)"}


def method_label(method: str) -> str:
    """``"over_sampling"`` -> ``"over-sampling"`` (unknown names with spaces for underscores)."""
    if method in METHODS:
        return METHODS[method].label
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


__all__ = ["BASELINE_TABLE4", "COLUMN_LABELS", "EXTRA_METHODS", "METHOD_LABELS", "METHODS",
           "METRICS", "Method",
           "MODEL_LABELS", "method_label", "NO_AUGMENTATION", "PAPER", "model_label",
           "PAPER_METHODS", "PAPER_MODELS", "PAPER_REFERENCE_MODEL", "POSTHOC_METHODS",
           "POSTHOC_SOURCES", "SWEEP_TABLES", "TRAINED_EXTRA_METHODS", "column_label",
           "table4_methods"]
