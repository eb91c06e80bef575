"""Noh & Lim 2023 (children vs adolescents), one module per figure or concern; notebooks read
``from emo_lib import noh2023 as nh``.

- :mod:`.names`: the data sets as pages name them, genders, class order;
- :mod:`.setup`: model + data sets through the face pipeline, predictions (every page);
- :mod:`.accuracy`: Fig. 3 and Tables 3-4, the paper's numbers in the same shape;
- :mod:`.lime_maps`, :mod:`.lime_regions`: Figs 4, 7, 8 and where the maps lie;
- :mod:`.training`: Figs 5-6, additional training;
- :mod:`.claims`: every claim's rule and verdict.

The paper's numbers are read from ``book/paper_values.yaml`` through :mod:`emo_lib.paper`,
never typed here.
"""
from ..verdicts import claim_lines, with_paper_verdicts
from .accuracy import (
    GENDER_GAP_THRESHOLD, accuracy_by, fig3_comparison, gap_tests, gender_comparison,
    gender_layout, paper_accuracy_table, paper_gender_exceptions, rates_figure, vggface2_note,
)
from .claims import age_claims, gender_claims, lime_age_claims, lime_gender_claims, training_claims
from .lime_maps import (
    LimeRun, explain_cached, heatmap_figure, lime_classes, lime_counts_vs_paper, map_stability,
    model_fingerprint, run_lime, select_for_lime,
)
from .lime_regions import (
    NAMED_REGIONS, image_regions, map_regions, region_area_shares, region_difference_test,
    region_share_figure,
)
from .names import CAFE, GENDERS, NIMH, PAPER, PAPER_KEYS, class_order
from .setup import load_faces, model_note, predict_all, predict_frame, setup
from .training import (
    fine_tune, paired_changes, stage_table, subject_cv_predictions, training_comparison,
)

__all__ = [
    "CAFE", "GENDERS", "GENDER_GAP_THRESHOLD", "LimeRun", "NAMED_REGIONS", "NIMH", "PAPER",
    "PAPER_KEYS", "accuracy_by", "age_claims", "claim_lines", "class_order", "explain_cached",
    "fig3_comparison", "fine_tune", "gap_tests", "gender_claims", "gender_comparison",
    "gender_layout", "heatmap_figure", "image_regions", "lime_age_claims", "lime_classes",
    "lime_counts_vs_paper", "lime_gender_claims", "load_faces", "map_regions", "map_stability",
    "model_fingerprint", "model_note", "paired_changes", "paper_accuracy_table",
    "paper_gender_exceptions", "predict_all", "predict_frame", "rates_figure",
    "region_area_shares", "region_difference_test", "region_share_figure", "run_lime",
    "select_for_lime", "setup", "stage_table", "subject_cv_predictions", "training_claims",
    "training_comparison", "vggface2_note", "with_paper_verdicts",
]
