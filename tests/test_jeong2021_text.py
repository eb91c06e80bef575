"""What paper 2's pages write in prose and headers: numbers when there are some, words when
there are none (never nan), names instead of keys."""
from types import SimpleNamespace

import numpy as np
import pandas as pd

from emo_lib import jeong2021 as jg
from emo_lib.jeong2021.sizes import scaling_trend


def _summary(base: float, proposed: float) -> pd.DataFrame:
    return pd.DataFrame({"mean": [base, proposed], "ci_low": [base - 0.1, proposed - 0.1],
                         "ci_high": [base + 0.1, proposed + 0.1]},
                        index=pd.Index(["baseline", "proposed"], name="method"))


def _gain(difference: float, relative: float, p: float, folds: int = 5) -> SimpleNamespace:
    return SimpleNamespace(difference=difference, relative=relative, folds=folds,
                           test=SimpleNamespace(p_value=p))


def test_gain_sentences_give_numbers_with_intervals():
    s = jg.gain_sentences(_summary(0.25, 0.30), _gain(0.05, 0.2, 0.03), 0.3052)
    assert s["result"] == ("Over the learning folds the baseline scored macro F1 0.250 (95 % "
                           "interval 0.150 to 0.350) and the proposed method macro F1 0.300 "
                           "(95 % interval 0.200 to 0.400): a relative change of +20 % "
                           "(difference +0.050, corrected paired t p = 0.030 over 5 folds); the "
                           "paper reports +31 %.")
    assert s["summary"].startswith("Macro F1 0.250 without augmentation, 0.300 with the proposed")


def test_gain_sentences_say_in_words_what_could_not_be_computed():
    s = jg.gain_sentences(_summary(np.nan, np.nan), _gain(np.nan, np.nan, np.nan, 0), 0.305)
    for text in s.values():
        assert "nan" not in text.lower()
    assert "no macro F1 (no learning fold)" in s["result"]
    assert "no relative change to compute" in s["result"]


def test_column_labels_read_as_names():
    assert [jg.column_label(c) for c in ("copies_random_width", "params_m", "flops_b_imagenet",
                                         "input_size", "originals")] == [
        "copies: random width", "params (M)", "GFLOPs, ImageNet", "input (px)", "originals"]


def test_scaling_trend_says_why_rho_is_missing():
    index = pd.MultiIndex.from_tuples([("a", "proposed")], names=["model", "method"])
    one = pd.DataFrame({"macro_f1": [0.3], "params_m": [1.0]}, index=index)
    assert scaling_trend(one)["rho_text"] == "undefined (1 model with the method)"
    index = pd.MultiIndex.from_tuples([(m, "proposed") for m in "abc"], names=["model", "method"])
    three = pd.DataFrame({"macro_f1": [0.3, 0.2, 0.4], "params_m": [1.0, 2.0, 3.0]}, index=index)
    assert scaling_trend(three)["rho_text"] == "0.50"
    flat = three.assign(macro_f1=0.3)
    assert scaling_trend(flat)["rho_text"] == "undefined (no spread)"


def test_a_claim_of_several_comparisons_shows_their_range_and_significant_counts():
    from emo_lib.jeong2021.claims import _value

    judged = pd.DataFrame({"difference": [-0.12, 0.01, np.nan, -0.05],
                           "ci_low": [-0.2, -0.05, np.nan, -0.1],
                           "ci_high": [-0.04, 0.07, np.nan, 0.0],
                           "verdict": ["contradicted", "inconclusive", "not testable",
                                       "inconclusive"]})
    assert _value(judged) == ("-0.120 to +0.010 over 3 comparisons (0 significantly the "
                              "paper's way, 1 the other way)")
    assert _value(judged.iloc[[1]]) == "+0.010 [-0.050, +0.070]"
    assert _value(judged.iloc[[2]]) == ""


def test_a_table4_row_is_one_entry(monkeypatch):
    """A new row needs its METHODS entry and nothing else: its cell, label and loss follow."""
    from emo_lib.jeong2021 import cells
    from emo_lib.jeong2021.names import METHODS, Method

    monkeypatch.setitem(METHODS, "over_sampling_ce", Method(
        "over-sampling, cross entropy", over_sample="none", loss="cross_entropy"))
    recipe, loss = cells.method_cell("over_sampling_ce", n_min=10, selected_transforms=[])
    assert recipe.to_spec() == {"items": "balanced", "transforms": [], "n_min": 10,
                                "sampler": None}
    assert loss == "cross_entropy"
    assert jg.method_label("over_sampling_ce") == "over-sampling, cross entropy"
    assert jg.table4_methods([])[-1] == "over_sampling_ce"


def test_the_method_table_keeps_the_rows_it_replaced():
    expected = {"baseline": ("original", (), None, "focal"),
                "over_sampling": ("balanced", (), None, "focal"),
                "proposed": ("balanced", ("random_crop",), None, "focal"),
                "weighted_cross_entropy": ("original", (), None, "weighted_cross_entropy"),
                "class_balanced_sampling": ("original", (), "class_balanced", "focal"),
                "class_balanced_focal": ("original", (), None, "class_balanced_focal"),
                "logit_adjusted_loss": ("original", (), None, "logit_adjusted"),
                "baseline_cross_entropy": ("original", (), None, "cross_entropy")}
    from emo_lib.jeong2021 import cells

    for method, (items, transforms, sampler, loss) in expected.items():
        recipe, got = cells.method_cell(method, n_min=5, selected_transforms=["random_crop"])
        assert (recipe.items, tuple(recipe.transforms), recipe.sampler, got) == \
            (items, transforms, sampler, loss), method
    assert jg.POSTHOC_SOURCES == {"logit_adjusted_posthoc": "baseline_cross_entropy",
                                  "logit_adjusted_posthoc_focal": "baseline"}
    import pytest
    with pytest.raises(ValueError, match="unknown method"):
        cells.method_cell("logit_adjusted_posthoc", n_min=5, selected_transforms=[])
