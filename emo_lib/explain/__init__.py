"""LIME on faces: fast explanations (:mod:`.lime`), the paper's averaged maps
(:mod:`.aggregate`), face regions from landmarks (:mod:`.regions`) and drawing
(:mod:`.drawing`)."""
from .aggregate import MaskAggregate, aggregate_masks, mask_iou
from .drawing import draw_heatmaps, draw_regions
from .lime import (
    LIME_KERNEL_WIDTH, SEGMENTATIONS, SLIC_COMPACTNESS, SLIC_N_SEGMENTS, LimeResult,
    default_kernel_size, explain_batch, make_segmenter, mean_colour_image, segmentation_settings,
    top_positive,
)
from .regions import (
    FACE_REGIONS, NAMED_REGIONS, REGION_LABELS, REGIONS, landmarks_array, region_areas,
    region_masks, region_shares,
)

__all__ = [
    "FACE_REGIONS", "LIME_KERNEL_WIDTH", "LimeResult", "MaskAggregate", "NAMED_REGIONS",
    "REGIONS", "REGION_LABELS", "SEGMENTATIONS", "SLIC_COMPACTNESS", "SLIC_N_SEGMENTS",
    "aggregate_masks", "default_kernel_size", "draw_heatmaps", "draw_regions", "explain_batch",
    "landmarks_array", "make_segmenter", "mask_iou", "mean_colour_image", "region_areas",
    "region_masks", "region_shares", "segmentation_settings", "top_positive",
]
