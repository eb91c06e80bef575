"""emo_lib.metrics: disaggregated accuracy, intervals, group comparison, class alignment."""
from __future__ import annotations

import logging

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from emo_lib.metrics import (
    OVERALL, OVERALL_SHARED, accuracy_table, align_predictions, compare_groups,
    counts_and_rates_figure, wilson_interval,
)

matplotlib.use("Agg")


def test_wilson_known_values_and_scipy():
    # 8/10 at 95 %: (0.4902, 0.9433), the textbook value
    low, high = wilson_interval([8], [10])
    assert low[0] == pytest.approx(0.4902, abs=1e-4) and high[0] == pytest.approx(0.9433, abs=1e-4)
    ks, ns = np.array([0, 19, 20, 3, 57]), np.array([5, 19, 35, 4, 57])
    for level in (0.9, 0.95):
        low, high = wilson_interval(ks, ns, level)
        for k, n, lo, hi in zip(ks, ns, low, high):
            ref = stats.binomtest(int(k), int(n)).proportion_ci(level, method="wilson")
            assert lo == pytest.approx(ref.low, abs=1e-12)
            assert hi == pytest.approx(ref.high, abs=1e-12)
    low, high = wilson_interval([0], [0])
    assert np.isnan(low[0]) and np.isnan(high[0])


def _toy():
    # group A: angry 3/4 correct, sad 1/2; group B: angry 2/2, no sad at all
    y_true = ["angry"] * 4 + ["sad"] * 2 + ["angry"] * 2
    y_pred = ["angry", "angry", "angry", "sad", "sad", "surprise", "angry", "angry"]
    group = ["A"] * 6 + ["B"] * 2
    return y_true, y_pred, group


def test_accuracy_table_counts_overall_and_empty_cell():
    y_true, y_pred, group = _toy()
    t = accuracy_table(y_true, y_pred, {"dataset": group}, classes=["angry", "sad"])
    assert list(t.columns) == ["dataset", "class", "n", "correct", "accuracy", "ci_low", "ci_high"]
    t = t.set_index(["dataset", "class"])
    assert t.loc[("A", "angry"), ["n", "correct"]].tolist() == [4, 3]
    assert t.loc[("A", "angry"), "accuracy"] == pytest.approx(0.75)
    assert t.loc[("A", "sad"), ["n", "correct"]].tolist() == [2, 1]  # "surprise" counts as wrong
    assert t.loc[("A", OVERALL), ["n", "correct"]].tolist() == [6, 4]
    empty = t.loc[("B", "sad")]
    assert empty["n"] == 0 and np.isnan(empty["accuracy"]) and np.isnan(empty["ci_low"])
    assert t.loc[("B", OVERALL), "accuracy"] == 1.0
    assert (t["ci_low"].dropna() <= t["accuracy"].dropna()).all()


def test_accuracy_table_no_groups_and_bad_input(caplog):
    y_true, y_pred, group = _toy()
    t = accuracy_table(y_true, y_pred, None)
    assert t["class"].tolist() == ["angry", "sad", OVERALL]
    assert t.loc[t["class"] == OVERALL, "n"].item() == 8
    with caplog.at_level(logging.WARNING, logger="emo_lib.metrics"):
        t = accuracy_table(y_true, y_pred, None, classes=["angry"])
    assert "left out" in caplog.text and t.loc[t["class"] == OVERALL, "n"].item() == 6
    with pytest.raises(ValueError, match="rows"):
        accuracy_table(y_true, y_pred, {"g": ["a"] * 3})
    with pytest.raises(ValueError, match="missing"):
        accuracy_table(y_true, y_pred, {"g": ["a"] * 7 + [None]})
    with pytest.raises(ValueError, match="ci"):
        accuracy_table(y_true, y_pred, None, ci="exact")


def test_compare_groups_fisher_and_shared_classes():
    rng = np.random.default_rng(0)
    rows = []
    for ds, classes in (("cafe", ["angry", "disgust", "sad"]), ("nimh", ["angry", "sad"])):
        for cls in classes:
            rows += [(ds, cls, cls if rng.random() < (0.5 if ds == "cafe" else 0.9) else "x")
                     for _ in range(30)]
    frame = pd.DataFrame(rows, columns=["dataset", "true", "pred"])
    t = accuracy_table(frame["true"], frame["pred"], frame[["dataset"]],
                       classes=["angry", "disgust", "sad"])
    c = compare_groups(t, "dataset", "cafe", "nimh")
    assert c["class"].tolist() == ["angry", "sad", OVERALL_SHARED]  # disgust only in cafe
    tt = t.set_index(["dataset", "class"])
    row = c.iloc[0]
    ka, kb = tt.loc[("cafe", "angry"), "correct"], tt.loc[("nimh", "angry"), "correct"]
    assert (row["correct_a"], row["correct_b"]) == (ka, kb)
    assert row["difference"] == pytest.approx(ka / 30 - kb / 30)
    assert row["p_value"] == pytest.approx(stats.fisher_exact([[ka, 30 - ka], [kb, 30 - kb]])[1])
    pooled = c.iloc[-1]
    assert pooled["n_a"] == 60 and pooled["correct_a"] == ka + tt.loc[("cafe", "sad"), "correct"]


def test_compare_groups_keeps_other_group_columns():
    y_true = ["sad"] * 8
    y_pred = ["sad", "x", "sad", "sad", "sad", "sad", "x", "x"]
    groups = {"dataset": ["c"] * 4 + ["n"] * 4, "gender": ["male", "female"] * 4}
    t = accuracy_table(y_true, y_pred, groups)
    c = compare_groups(t, "gender", "male", "female", control_features=["dataset"])
    # no class left out: the pooled row is the genders' overall, and is labelled so
    assert c[["dataset", "class"]].values.tolist() == [
        ["c", "sad"], ["c", OVERALL], ["n", "sad"], ["n", OVERALL]]
    with pytest.raises(ValueError, match="not found"):
        compare_groups(t, "gender", "male", "other", control_features=["dataset"])
    # a class one gender lacks in one data set: only that data set's pooled row is "shared"
    y_true2 = ["sad"] * 8 + ["fear"]
    groups2 = {"dataset": ["c"] * 4 + ["n"] * 4 + ["n"],
               "gender": ["male", "female"] * 4 + ["male"]}
    t2 = accuracy_table(y_true2, y_pred + ["fear"], groups2)
    c2 = compare_groups(t2, "gender", "male", "female", control_features=["dataset"])
    assert c2[["dataset", "class"]].values.tolist() == [
        ["c", "sad"], ["c", OVERALL], ["n", "sad"], ["n", OVERALL_SHARED]]
    # an unnamed group column is an error, never pooled or cross-joined silently
    with pytest.raises(ValueError, match=r"control_features=\['dataset'\]"):
        compare_groups(t, "gender", "male", "female")


def test_compare_groups_survives_merge_and_csv_round_trip(tmp_path):
    """Group columns are explicit arguments, so a table that went through a merge, a copy or a
    CSV file compares exactly as the original (no hidden state on the frame)."""
    rng = np.random.default_rng(1)
    n = 240
    groups = {"dataset": np.repeat(["c", "n", "m"], n // 3),
              "gender": np.tile(["male", "female"], n // 2)}
    y_true = rng.choice(["sad", "happy"], n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, "x")
    t = accuracy_table(y_true, y_pred, groups)
    expected = compare_groups(t, "gender", "male", "female", control_features=["dataset"])
    assert len(expected) == 9   # 3 data sets x (2 classes + pooled row)
    t.to_csv(tmp_path / "t.csv", index=False)
    round_trip = pd.read_csv(tmp_path / "t.csv")
    merged = t.merge(pd.DataFrame({"dataset": ["c", "n", "m"], "site": [1, 2, 3]}),
                     on="dataset").drop(columns="site")
    for other in (round_trip, merged, t.copy()):
        got = compare_groups(other, "gender", "male", "female", control_features=["dataset"])
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        with pytest.raises(ValueError, match="control_features"):
            compare_groups(other, "gender", "male", "female")
    # a control column left in the table with several groups per value is caught as well
    doubled = pd.concat([t, t.assign(dataset="c")], ignore_index=True)
    with pytest.raises(ValueError, match="several rows"):
        compare_groups(doubled, "gender", "male", "female", control_features=["dataset"])


def test_align_predictions_superset_restrict_and_missing():
    model = ["angry", "fear", "happy", "surprise"]
    data = ["angry", "fear", "happy"]
    proba = np.array([[0.3, 0.1, 0.2, 0.4],    # surprise wins overall, angry among data classes
                      [0.1, 0.6, 0.2, 0.1]])
    pred, sub = align_predictions(proba, model, data)
    assert pred.tolist() == ["surprise", "fear"]           # wrong answer outside the data set
    np.testing.assert_allclose(sub, proba[:, :3])
    pred, sub = align_predictions(proba, model, data, restrict=True)
    assert pred.tolist() == ["angry", "fear"]
    np.testing.assert_allclose(sub.sum(1), 1.0)
    with pytest.raises(ValueError, match="contempt"):
        align_predictions(proba, model, ["angry", "contempt"])
    with pytest.raises(ValueError, match="shape"):
        align_predictions(proba[:, :3], model, data)


def test_counts_and_rates_figure_draws_bars_and_markers():
    y_true, y_pred, group = _toy()
    t = accuracy_table(y_true, y_pred, {"dataset": group}, classes=["angry", "sad"])
    fig = counts_and_rates_figure(t, "dataset")
    ax = fig.axes[0]
    assert len(ax.patches) == 3          # A: angry, sad; B: angry only (B has no sad)
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [1, 2, 3]
    assert len(fig.axes) == 2 and fig.axes[1].get_ylim()[1] == pytest.approx(1.05)
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_wilson_interval_contains_the_estimate_at_the_extremes():
    from emo_lib.metrics import wilson_interval
    low, high = wilson_interval([0, 10, 108], [7, 10, 108])
    p = [0.0, 1.0, 1.0]
    assert all(lo <= pi <= hi for lo, pi, hi in zip(low, p, high))
