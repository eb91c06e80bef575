"""LIME on faces: fast explanations (:mod:`.lime`), the paper's averaged maps
(:mod:`.aggregate`), face regions from landmarks (:mod:`.regions`) and drawing
(:mod:`.drawing`)."""
from .aggregate import MaskAggregate, aggregate_masks, mask_iou
from .drawing import draw_heatmaps
from .lime import (
    LIME_KERNEL_WIDTH, QUICKSHIFT_MAX_DIST, QUICKSHIFT_RATIO, LimeResult, default_kernel_size,
    explain_batch, make_segmenter, mean_colour_image, top_positive,
)
from .regions import REGIONS, landmarks_array, region_masks, region_shares

__all__ = [
    "LIME_KERNEL_WIDTH", "LimeResult", "MaskAggregate", "QUICKSHIFT_MAX_DIST", "QUICKSHIFT_RATIO",
    "REGIONS", "aggregate_masks", "default_kernel_size", "draw_heatmaps", "explain_batch",
    "landmarks_array", "make_segmenter", "mask_iou", "mean_colour_image", "region_masks",
    "region_shares", "top_positive",
]
