"""Noh & Lim 2023 (children vs adolescents), one module per figure or concern; notebooks read
``from emo_lib import noh2023 as nh``.

- :mod:`.names`: the data sets as pages name them, genders, class order;
- :mod:`.setup`: model + data sets through the face pipeline, predictions (every page);
- :mod:`.accuracy`: Fig. 3 and Tables 3-4, the paper's numbers in the same shape;
- :mod:`.lime_maps`, :mod:`.lime_regions`: Figs 4, 7, 8 and where the maps lie;
- :mod:`.lime_sanity`: do the maps find where the synthetic expressions are?
- :mod:`.training`: Figs 5-6, additional training;
- :mod:`.redraw`, :mod:`.composition`, :mod:`.contrasts`, :mod:`.explanation`: the paper's
  explanation under test (re-drawn children, the training set's make-up, their claims);
- :mod:`.construction`: which verdicts the synthetic generator sets by design (``tag``);
- :mod:`.claims`: every claim's rule and verdict;
- :mod:`.seeded`: a page's work and claims once per seed (what a seed changes);
- :mod:`.quotes`: the paper's numbers the pages' prose quotes.

The paper's numbers are read from ``book/paper_values.yaml`` through :mod:`emo_lib.paper`,
never typed here.
"""
from ..verdicts import claim_lines, rules_markdown, with_paper_verdicts
from .accuracy import (
    GENDER_GAP_THRESHOLD, OVERALL_GENDER_MARGIN, PAPER_COUNTED, PAPER_PRINTED, accuracy_by,
    accuracy_view,
    fig3_comparison, gap_beyond_p, gap_table, gap_tests, gender_comparison, gender_layout,
    paper_accuracy_table, paper_gender_exceptions, rates_figure, vggface2_note, vggface2_table,
)
from .claims import (
    RULE_KINDS, age_claims, claim_rules, finish_claims, gender_claims, lime_age_claims,
    lime_gender_claims, paper_classes, paper_not_testable, tag_claims, training_claims,
)
from . import construction
from .composition import (
    composition_figure, composition_reading, composition_sets, gender_table, share_table,
    share_trend, share_trends, skew_effect, vggface2_shares,
)
from .explanation import (
    EXPLANATION_MARGIN, ExplanationRun, ExplanationSeeds, explanation_by_seed,
    explanation_claims, explanation_rules, explanation_table, explanation_verdicts,
    paper_explanation_claims, setup_explanation,
)
from .lime_maps import (
    LimeRun, explain_cached, explain_with_seeds, heatmap_figure, lime_classes,
    lime_counts_vs_paper, map_stability, model_fingerprint, run_lime, select_for_lime,
)
from .lime_regions import (
    NAMED_REGIONS, enrichment_test, excess_share, image_enrichment_table, image_regions,
    lime_table, map_regions, paper_readings, region_difference_test, region_equivalence,
    region_share_figure, region_summary, superpixels_on_face,
)
from .lime_sanity import (
    MOVED_ENRICHMENT, moved_regions, sanity_rule_markdown, sanity_summary, sanity_table,
    within_face_excess,
)
from .names import CAFE, GENDERS, NIMH, PAPER, PAPER_KEYS, class_order
from .quotes import paper_quotes
from .redraw import redraw_conditions, redraw_figure, redraw_reading, redraw_table
from .setup import load_faces, model_note, predict_all, predict_frame, setup
from .seeded import (
    TrainingRun, age_claims_by_seed, gender_claims_by_seed, lime_age_claims_by_seed,
    lime_by_seed, lime_gender_claims_by_seed, model_takes_seed, predictions_by_seed, seed_note,
    seeded_options, setup_seeds, train_once, training_by_seed, training_claims_by_seed,
)
from .training import (
    DERIVED, PAPER_STAGE, SURVIVING_SHARE, fine_tune, gain_share_test, mcnemar_from_margins,
    paired_changes, paper_before_after, paper_changes, paper_counts, stage_table,
    subject_cv_predictions, training_comparison, training_table,
)

__all__ = [
    "TrainingRun", "age_claims_by_seed", "gender_claims_by_seed", "lime_age_claims_by_seed",
    "lime_by_seed", "lime_gender_claims_by_seed", "model_takes_seed", "predictions_by_seed",
    "seed_note", "seeded_options", "setup_seeds", "train_once", "training_by_seed",
    "training_claims_by_seed",
    "EXPLANATION_MARGIN", "ExplanationRun", "ExplanationSeeds", "composition_figure",
    "composition_reading", "composition_sets", "construction", "explanation_by_seed",
    "explanation_claims", "explanation_rules", "explanation_table", "explanation_verdicts",
    "gender_table",
    "paper_explanation_claims", "redraw_conditions", "redraw_figure", "redraw_reading",
    "redraw_table", "setup_explanation", "share_table", "share_trend",
    "share_trends", "skew_effect", "vggface2_shares",
    "CAFE", "DERIVED", "GENDERS", "GENDER_GAP_THRESHOLD", "PAPER_COUNTED", "PAPER_PRINTED",
    "PAPER_STAGE", "LimeRun",
    "MOVED_ENRICHMENT", "NAMED_REGIONS",
    "NIMH", "OVERALL_GENDER_MARGIN", "PAPER", "PAPER_KEYS", "RULE_KINDS", "SURVIVING_SHARE",
    "accuracy_by", "accuracy_view", "age_claims", "claim_lines", "claim_rules", "class_order",
    "finish_claims",
    "paper_classes", "tag_claims", "enrichment_test",
    "excess_share", "explain_cached", "explain_with_seeds", "fig3_comparison", "fine_tune",
    "gain_share_test", "image_enrichment_table", "lime_table", "paper_readings",
    "gap_beyond_p", "gap_table", "gap_tests", "gender_claims",
    "gender_comparison",
    "gender_layout", "heatmap_figure", "image_regions", "lime_age_claims", "lime_classes",
    "lime_counts_vs_paper", "lime_gender_claims", "load_faces", "map_regions", "map_stability",
    "mcnemar_from_margins", "model_fingerprint", "model_note", "moved_regions",
    "paired_changes", "paper_accuracy_table", "paper_before_after", "paper_changes",
    "paper_counts", "paper_gender_exceptions", "paper_not_testable", "paper_quotes", "predict_all",
    "predict_frame", "rates_figure", "region_difference_test",
    "region_equivalence", "region_share_figure", "region_summary", "rules_markdown", "run_lime",
    "sanity_rule_markdown", "sanity_summary", "sanity_table", "select_for_lime", "setup",
    "stage_table", "subject_cv_predictions", "superpixels_on_face", "training_claims",
    "training_comparison", "training_table", "vggface2_note", "vggface2_table",
    "with_paper_verdicts", "within_face_excess",
]
