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
