"""Paper 2 judged fold by fold: the per-fold collapse rule, the statistics across folds
(Nadeau-Bengio corrected t, checked against the formula with scipy), ``fold_scores.csv``, the
claim rules on small frames on each side and on the paper's own numbers, post-hoc logit
adjustment on stored logits, and the initial weights and frozen blocks in a unit's key."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import f1_score

from emo_lib import jeong2021 as jg
from emo_lib.jeong2021 import cells as cells_mod
from emo_lib.train import FitConfig
from emo_lib.train.units import read_arrays, unit_store
from emo_lib.verdicts import (
    CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, PARTLY_SUPPORTED, SUPPORTED,
)

from test_jeong2021 import CLASSES, CONFIG, cache, toy  # noqa: F401  (fixture, tiny net)

# ---------------------------------------------------------------------------- collapse rule


def test_majority_f1_by_hand():
    # 6 of 10 in the majority: precision 0.6, recall 1, F1 = 1.2 / 1.6 = 0.75; macro over 4
    assert jg.majority_f1([6, 2, 1, 1]) == pytest.approx(0.75 / 4)
    with pytest.raises(ValueError, match="class counts"):
        jg.majority_f1([5])


def _confusion(predicted_share, n=100, k=4):
    """A k-class confusion matrix of n images (25 per class) whose first column holds
    ``predicted_share`` of the predictions, the rest on the diagonal where possible."""
    cm = np.zeros((k, k), dtype=int)
    first = int(round(predicted_share * n))
    per_class = n // k
    for i in range(k):
        cm[i, 0] = per_class
    rest = n - first            # images not predicted as class 0: move them to the diagonal
    for i in range(1, k):
        move = min(per_class, rest)
        cm[i, 0] -= move
        cm[i, i] += move
        rest -= move
    return cm


def test_collapse_rule_on_each_side_of_both_thresholds():
    majority = jg.majority_f1([25, 25, 25, 25])
    healthy = 10 * majority
    # share of predictions on one class: more than 90 % collapses, 90 % itself does not
    assert _confusion(0.91).sum(axis=0)[0] == 91
    assert jg.fold_collapse(_confusion(0.91), healthy)["collapsed"]
    out = jg.fold_collapse(_confusion(0.90), healthy)
    assert not out["collapsed"] and out["top_class_share"] == pytest.approx(0.90)
    assert out["top_class"] == 0 and out["majority_f1"] == pytest.approx(majority)
    # macro F1 within 10 % of the majority-class F1 collapses, just above does not
    spread = _confusion(0.25)
    assert jg.fold_collapse(spread, 1.1 * majority)["collapsed"]
    assert jg.fold_collapse(spread, 0.5 * majority)["collapsed"]
    assert not jg.fold_collapse(spread, 1.1 * majority + 1e-6)["collapsed"]
    with pytest.raises(ValueError, match="square"):
        jg.fold_collapse(np.zeros((2, 3)), 0.5)


def test_with_collapse_judges_each_fold_not_the_pool():
    one = [[3, 0, 0], [2, 0, 0], [1, 0, 0]]        # every image predicted as class 0
    mixed = [[3, 0, 0], [0, 2, 0], [0, 1, 0]]
    rows = pd.DataFrame({"method": ["a", "a"], "fold": [0, 1], "confusion": [one, mixed],
                         "macro_f1": [0.222, 0.6], "accuracy": [0.5, 0.83], "n_test": [6, 6]})
    out = jg.with_collapse(rows, CLASSES)
    # fold 0 alone collapses (pooled, 9 of 12 predictions = 75 % on class 0 would hide it)
    assert out["collapsed"].tolist() == [True, False]
    assert out["top_class"].tolist() == ["happy", "happy"]
    assert out["top_class_share"].tolist() == pytest.approx([1.0, 0.5])
    note = jg.collapse_note(out, ["method"])
    assert "1 of 2 folds collapsed" in note and "a (1)" in note
    assert jg.collapse_note(out[~out["collapsed"]], ["method"]).startswith("No fold collapsed")


# ---------------------------------------------------------------------------- statistics


def _nadeau_bengio(x, n_train, n_test, alpha=0.05):
    """The corrected resampled t by hand: se = sqrt((1/k + n_test/n_train) s^2), df k - 1."""
    x = np.asarray(x, float)
    k = len(x)
    se = math.sqrt((1 / k + n_test / n_train) * x.var(ddof=1))
    half = stats.t.ppf(1 - alpha / 2, k - 1) * se
    p = 2 * stats.t.sf(abs(x.mean() / se), k - 1)
    return x.mean(), x.std(ddof=1), x.mean() - half, x.mean() + half, p


def test_cell_summary_uses_learning_folds_and_the_corrected_interval():
    scores = [0.30, 0.34, 0.29, 0.35, 0.05]
    rows = pd.DataFrame({"method": "m", "fold": range(5), "macro_f1": scores,
                         "accuracy": [0.5, 0.6, 0.5, 0.6, 0.4], "n_test": 100,
                         "collapsed": [False] * 4 + [True]})
    s = jg.cell_summary(rows, ["method"]).iloc[0]
    assert (s["folds"], s["collapsed"], s["learning"]) == (5, 1, 4)
    mean, sd, low, high, _ = _nadeau_bengio(scores[:4], n_train=400, n_test=100)
    assert (s["mean"], s["sd"], s["ci_low"], s["ci_high"]) == pytest.approx((mean, sd, low, high))
    assert s["accuracy"] == pytest.approx(0.55)
    single = jg.cell_summary(rows.assign(collapsed=[False] + [True] * 4), ["method"]).iloc[0]
    assert single["learning"] == 1 and np.isnan(single["ci_low"])


def test_compare_cells_pairs_folds_and_leaves_collapsed_ones_out():
    base = pd.DataFrame({"fold": range(5), "macro_f1": [0.30, 0.31, 0.29, 0.30, 0.32],
                         "n_test": 100, "collapsed": [False] * 5})
    other = base.assign(macro_f1=base["macro_f1"] + [0.10, 0.12, 0.08, 0.10, 0.5],
                        collapsed=[False] * 4 + [True])
    c = jg.compare_cells(other, base, alpha=0.05)
    assert (c.folds, c.excluded) == (4, 1)
    diff = np.array([0.10, 0.12, 0.08, 0.10])
    mean, _, low, high, p = _nadeau_bengio(diff, n_train=400, n_test=100)
    assert (c.difference, c.test.ci_low, c.test.ci_high, c.test.p_value) == \
        pytest.approx((mean, low, high, p))
    assert c.relative == pytest.approx(mean / base["macro_f1"][:4].mean())


# ---------------------------------------------------------------------------- fold_scores.csv


def test_fold_scores_has_the_contract_columns_one_row_per_fold():
    one = [[3, 0, 0], [2, 0, 0], [1, 0, 0]]
    sweep = jg.with_collapse(pd.DataFrame({
        "transform": ["no_augmentation", "cutout"], "model": "m", "loss": "focal",
        "fold": [0, 0], "accuracy": [0.5, 0.5], "macro_f1": [0.2, 0.2],
        "confusion": [one, one], "n_test": 6}))
    out = jg.fold_scores(sweep, "jeong2021_augmentation_sweep",
                         cell_columns=["transform", "model", "loss"])
    assert tuple(out.columns) == jg.FOLD_SCORE_COLUMNS == (
        "page", "cell", "model", "loss", "augmentation", "method", "fold", "accuracy",
        "macro_f1", "majority_f1", "top_class_share", "collapsed")
    assert out["augmentation"].tolist() == ["no_augmentation", "cutout"]
    assert out["method"].tolist() == ["", ""] and out["collapsed"].dtype == bool
    assert out["cell"].tolist()[1] == "cutout / m / focal"
    table4 = sweep.drop(columns="transform").assign(method=["proposed", "logit_adjusted_posthoc"])
    recipes = jg.method_recipes(["proposed", "logit_adjusted_posthoc"], n_min=5,
                                selected_transforms=["rotation"])
    out = jg.fold_scores(table4, "p", cell_columns=["method"], recipes=recipes)
    assert out["augmentation"].tolist() == ["over-sampling + rotation", "none"]
    with pytest.raises(ValueError, match="collapse columns"):
        jg.fold_scores(table4.drop(columns="collapsed"), "p", cell_columns=["method"])


# ---------------------------------------------------------------------------- claim rules

REF = "mobilenet_v3_small"
GAIN = [0.10, 0.11, 0.09, 0.10, 0.10]
NOISE = [0.10, -0.10, 0.05, -0.04, 0.02]
BASE = [0.30, 0.31, 0.29, 0.30, 0.32]


def _cell(method, scores, model=REF, collapsed=None, **extra):
    return pd.DataFrame({"method": method, "model": model, "loss": "focal", "fold": range(5),
                         "macro_f1": scores, "accuracy": 0.5, "n_test": 100,
                         "collapsed": collapsed or [False] * 5, **extra})


def _balanced(delta, collapsed=None):
    return pd.concat([_cell("baseline", BASE),
                      _cell("proposed", np.add(BASE, delta), collapsed=collapsed)],
                     ignore_index=True)


@pytest.mark.parametrize("delta, verdict", [(GAIN, SUPPORTED),
                                            (np.negative(GAIN), CONTRADICTED),
                                            (NOISE, INCONCLUSIVE)])
def test_gain_claim_on_each_side(delta, verdict):
    v = jg.claim_verdicts(balanced=_balanced(delta), reference_model=REF,
                          only=["proposed_gain_b0"])
    assert v.loc["proposed_gain_b0", "verdict"] == verdict
    comp = jg.claim_comparisons(balanced=_balanced(delta), reference_model=REF,
                                only=["proposed_gain_b0"]).iloc[0]
    p = _nadeau_bengio(delta, 400, 100)[4]
    assert comp["p"] == pytest.approx(p) and comp["p_holm"] == pytest.approx(p)  # one test
    assert "in EfficientNet-B0's role" in v.loc["proposed_gain_b0", "evidence"]


def test_gain_claim_without_learning_folds_is_not_testable():
    # 4 of 5 proposed folds collapsed: one pair left, no test
    v = jg.claim_verdicts(balanced=_balanced(GAIN, collapsed=[True] * 4 + [False]),
                          reference_model=REF, only=["proposed_gain_b0"])
    assert v.loc["proposed_gain_b0", "verdict"] == NOT_TESTABLE
    assert "1 fold(s) where both cells learned (4 left out" in \
        v.loc["proposed_gain_b0", "evidence"]
    # the largest model is the reference itself: the B5 claim has no cells on this page
    scaling = _balanced(GAIN)
    v = jg.claim_verdicts(scaling=scaling, reference_model=REF, largest_model=REF)
    assert v.loc["gain_b5", "verdict"] == NOT_TESTABLE
    assert "no model larger than MobileNetV3-Small" in v.loc["gain_b5", "evidence"]
    big = pd.concat([scaling, _cell("proposed", np.add(BASE, GAIN), model="resnet18")])
    v = jg.claim_verdicts(scaling=big, reference_model=REF, largest_model="resnet18")
    assert v.loc["gain_b5", "verdict"] == SUPPORTED
    assert (jg.claim_verdicts()["verdict"] == NOT_TESTABLE).all()   # a page with no cells


def _sweep(focal_minus_ce):
    """Reference-model sweep: cross entropy at BASE, focal at BASE + delta, per transform."""
    frames = []
    for t, delta in focal_minus_ce.items():
        frames.append(_cell("", BASE, transform=t).assign(loss="cross_entropy"))
        frames.append(_cell("", np.add(BASE, delta), transform=t))
    return pd.concat(frames, ignore_index=True).drop(columns="method")


def test_focal_claim_holm_corrects_across_transforms_and_skips_the_exceptions():
    deltas = {"no_augmentation": np.negative(GAIN), "rotation": GAIN,
              "cutout": [0.03, 0.05, 0.01, 0.04, 0.02], "random_flip": np.negative(GAIN)}
    sweep = _sweep(deltas)
    comps = jg.claim_comparisons(sweep=sweep, reference_model=REF, only=["focal_beats_ce"])
    assert comps["comparison"].tolist() == ["rotation: focal vs cross entropy",
                                            "cutout: focal vs cross entropy"]
    p = np.array([_nadeau_bengio(deltas[t], 400, 100)[4] for t in ("rotation", "cutout")])
    order = np.argsort(p)
    holm = np.empty(2)
    holm[order[0]] = min(1, 2 * p[order[0]])
    holm[order[1]] = max(holm[order[0]], min(1, p[order[1]]))
    assert comps["p_holm"].to_numpy() == pytest.approx(holm)
    v = jg.claim_verdicts(sweep=sweep, reference_model=REF, only=["focal_beats_ce"])
    expected = ("supported" if (holm < 0.05).all() else "partly supported")
    assert v.loc["focal_beats_ce", "verdict"] == expected
    assert "without augmentation (not part of the claim) -0.100" in \
        v.loc["focal_beats_ce", "evidence"]
    worse = _sweep({"rotation": GAIN, "cutout": np.negative(GAIN)})
    # a significant counterexample contradicts a claim about every transform (issue 16, rule 5)
    assert jg.claim_verdicts(sweep=worse, reference_model=REF,
                             only=["focal_beats_ce"])["verdict"].item() == CONTRADICTED
    both_worse = _sweep({"rotation": np.negative(GAIN), "cutout": np.negative(GAIN)})
    assert jg.claim_verdicts(sweep=both_worse, reference_model=REF,
                             only=["focal_beats_ce"])["verdict"].item() == CONTRADICTED


def test_model_claim_needs_a_rival_and_tests_both_metrics():
    ref = _cell("", BASE, transform="no_augmentation").drop(columns="method")
    rival = ref.assign(model="resnet18", macro_f1=np.subtract(BASE, GAIN))
    v = jg.claim_verdicts(sweep=ref, reference_model=REF, only=["b0_beats_others"])
    assert v["verdict"].item() == NOT_TESTABLE and "other model" in v["evidence"].item()
    both = pd.concat([ref, rival], ignore_index=True)
    comps = jg.claim_comparisons(sweep=both, reference_model=REF, only=["b0_beats_others"])
    assert comps["metric"].tolist() == ["accuracy", "macro_f1"]
    # accuracy identical in every fold: no spread, not testable; macro F1 clearly ahead
    assert comps["verdict"].tolist() == [NOT_TESTABLE, SUPPORTED]
    v = jg.claim_verdicts(sweep=both, reference_model=REF, only=["b0_beats_others"])
    # a part that is not shown (accuracy the same in every fold) never counts as support
    # (issue 16, rules 4 and 8): the claim holds in part
    assert v["verdict"].item() == PARTLY_SUPPORTED


def test_the_papers_own_numbers_are_not_testable_and_their_direction_is_shown():
    own = jg.paper_verdicts()
    assert (own["verdict"] == NOT_TESTABLE).all()
    ev = own["evidence"]
    assert "0.325 against the focal baseline's 0.249 (+31%)" in ev["proposed_gain_b0"]
    assert "+25% against the cross-entropy baseline of Table 2 (0.261)" in ev["proposed_gain_b0"]
    assert "-0.5 points" in ev["proposed_gain_b0"]
    assert "0.348" in ev["gain_b5"] and "+40%" in ev["gain_b5"] and "+7%" in ev["gain_b5"]
    # Table 3 has ResNet-50 at or above EfficientNet-B0 in F1 in four (transform, loss) cells
    assert "macro F1 in 18 and in accuracy in 22 of 22" in ev["b0_beats_others"]
    assert "8 of the 8 transforms" in ev["focal_beats_ce"] and "0.249 vs 0.261" in \
        ev["focal_beats_ce"]
    # the same functions on the paper's tables as one-fold results: no test can run
    mine = jg.claim_verdicts(**jg.paper_results())
    assert (mine["verdict"] == NOT_TESTABLE).all()


# ---------------------------------------------------------------------------- post hoc


def test_posthoc_logit_adjustment_on_the_stored_logits(cache):  # noqa: F811 (the fixture)
    x, y = toy(n=48)
    common = dict(folds=2, config=CONFIG, seed=0, progress=False)
    df = jg.run_balanced(x, y, CLASSES, ["baseline", "logit_adjusted_posthoc"], n_min=12,
                         selected_transforms=["rotation"], model="test_tiny_net", **common)
    assert df["method"].unique().tolist() == ["baseline", "logit_adjusted_posthoc",
                                              "baseline_cross_entropy"]
    source = jg.select(df, method="baseline_cross_entropy")
    posthoc = jg.select(df, method="logit_adjusted_posthoc")
    store = unit_store(True)
    for (_, src), (_, row) in zip(source.iterrows(), posthoc.iterrows()):
        arrays = read_arrays(store, src["unit_key"], int(src["fold"]))
        counts = np.bincount(np.delete(y, arrays["test_index"]), minlength=3)
        # the fold's model saw its training part minus the validation split
        fit = jg.posthoc.training_counts(y, arrays["test_index"], 3, 0.1, int(src["fold"]))
        assert fit.sum() == src["n_train_items"] and (fit <= counts).all()
        pred = np.argmax(arrays["logits"] - np.log(fit / fit.sum()), axis=1)
        assert row["macro_f1"] == pytest.approx(
            f1_score(arrays["y_true"], pred, labels=[0, 1, 2], average="macro", zero_division=0))
        assert row["accuracy"] == pytest.approx(np.mean(pred == arrays["y_true"]))
        assert row["seconds"] == 0 and row["posthoc_of"].endswith(f"fold{src['fold']}")
    # tau = 0 leaves every prediction alone: the source's scores exactly
    same = jg.posthoc_rows(source, y, CLASSES, tau=0.0)
    assert same["macro_f1"].tolist() == source["macro_f1"].tolist()
    assert same["confusion"].tolist() == source["confusion"].tolist()
    with pytest.raises(ValueError, match="results cache"):
        jg.posthoc_rows(source, y, CLASSES, cache=False)
    with pytest.raises(ValueError, match="unit_key"):
        jg.posthoc_rows(source.drop(columns="unit_key"), y, CLASSES)


# ---------------------------------------------------------------------------- the unit's key


def test_initial_weights_and_frozen_blocks_are_in_each_units_key(monkeypatch):
    monkeypatch.setattr(cells_mod, "_weights_source",
                        lambda model, request: f"id:{model}:{request}")
    y = np.array([0, 1, 2] * 6)
    cell = {"transform": "no_augmentation", "model": "mobilenet_v3_small", "loss": "focal",
            "recipe": jg.sweep_recipe("no_augmentation")}

    def unit(**kw):
        opts = dict(data_id="d", image_size=64, folds=2, config=FitConfig(epochs=1), seed=0)
        return jg.cell_units([cell], y, CLASSES, **{**opts, **kw})[0][0]

    frozen = unit(weights="synthetic_faces", finetune_blocks=1)
    spec = frozen.spec
    assert spec["spec"]["model"]["init"] == {"weights": "synthetic_faces", "pretraining": {}}
    assert spec["config"]["freeze"] == [f"features.{i}." for i in range(12)]  # 12 of 13 blocks
    keys = {frozen.key, unit(weights="synthetic_faces", finetune_blocks=None).key,
            unit(weights="synthetic_faces", finetune_blocks=2).key,
            unit(weights="synthetic_faces", pretraining={"epochs": 3}, finetune_blocks=1).key,
            unit(weights="random", finetune_blocks=1).key}
    assert len(keys) == 5
    assert unit(weights="synthetic_faces", finetune_blocks=None).spec["config"]["freeze"] == []
    assert jg.frozen_prefixes("efficientnet_b0", 1) == tuple(f"features.{i}." for i in range(8))
    assert jg.frozen_prefixes("test_tiny_net", 1) == ()      # outside the zoo: nothing
    with pytest.raises(ValueError, match="finetune_blocks"):
        jg.frozen_prefixes("mobilenet_v3_small", -1)
    with pytest.raises(ValueError, match="pretraining budget applies"):
        jg.initial_weights("random", {"epochs": 2})
    with pytest.raises(ValueError, match="unknown weights"):
        jg.initial_weights("faces")
    assert jg.initial_weights(True) == {"weights": "imagenet"}


def test_a_difference_with_no_spread_is_reported_as_what_it_is():
    """Issue 16, rule 8: the same difference in every fold is an exact result (named, judged
    by the sign test), never silently "not testable"."""
    from emo_lib.jeong2021.foldstats import (
        comparison_equivalence_part, comparison_part, compare_cells,
    )
    from emo_lib.verdicts import combine_parts

    base = _cell("", BASE, transform="no_augmentation").drop(columns="method")
    same = compare_cells(base, base.copy(), "macro_f1", label="same")
    assert same.constant and same.identical and np.isnan(same.test.p_value)
    assert same.p_value == 1.0
    assert same.describe() == f"identical in every fold ({same.folds} folds)"
    part = comparison_part(same)
    assert part.exact == INCONCLUSIVE and part.testable
    # an untested identical part keeps a claim about every cell from full support
    ahead = compare_cells(base.assign(macro_f1=np.add(BASE, GAIN)), base, "macro_f1", label="a")
    assert combine_parts([comparison_part(ahead), part]).verdict in (PARTLY_SUPPORTED,
                                                                     INCONCLUSIVE)
    shifted = compare_cells(base.assign(macro_f1=np.add(BASE, 0.01)), base, "macro_f1",
                            label="shift")
    k = shifted.folds
    assert shifted.constant and not shifted.identical
    assert shifted.p_value == pytest.approx(2.0 ** (1 - k))
    assert shifted.describe().startswith(f"+0.010 in every one of {k} folds (sign test p = ")
    # as an equivalence part the constant difference is exact: within 0.05, beyond 0.005
    assert comparison_equivalence_part(shifted, 0.05).exact == SUPPORTED
    assert comparison_equivalence_part(shifted, 0.005).exact == CONTRADICTED


# ---------------------------------------------------------------------------- the five new claims


def _methods(**scores):
    return pd.concat([_cell(m, s) for m, s in scores.items()], ignore_index=True)


@pytest.mark.parametrize("delta, verdict", [(GAIN, SUPPORTED), (np.negative(GAIN), CONTRADICTED),
                                            (NOISE, INCONCLUSIVE)])
def test_over_sampling_claims_on_each_side(delta, verdict):
    table = _methods(baseline=BASE, over_sampling=np.add(BASE, delta),
                     proposed=np.add(np.add(BASE, delta), delta))
    v = jg.claim_verdicts(balanced=table, reference_model=REF,
                          only=["over_sampling_gain", "proposed_beats_over_sampling"])
    assert (v["verdict"] == verdict).all()
    # the paper's differences beside this run's, and what the design could have detected
    assert v.loc["over_sampling_gain", "paper_value"] == "+0.070"
    assert v.loc["proposed_beats_over_sampling", "paper_value"] == "+0.006"
    comp = jg.claim_comparisons(balanced=table, reference_model=REF,
                                only=["over_sampling_gain"]).iloc[0]
    _, _, low, high, _ = _nadeau_bengio(delta, 400, 100)
    assert comp["detectable"] == pytest.approx((high - low) / 2)   # the interval's half-width
    assert v.loc["over_sampling_gain", "detectable"] == f"{comp['detectable']:.3f}"
    if verdict == INCONCLUSIVE:
        assert "could not have called a difference smaller than" in \
            v.loc["over_sampling_gain", "evidence"]


def test_detectable_uses_holms_strictest_level_for_several_comparisons():
    deltas = {"rotation": GAIN, "cutout": [0.03, 0.05, 0.01, 0.04, 0.02]}
    comps = jg.claim_comparisons(sweep=_sweep(deltas), reference_model=REF,
                                 only=["focal_beats_ce"])
    for t, (_, row) in zip(deltas, comps.iterrows()):
        # two comparisons: Holm's first step tests at 0.05 / 2
        _, _, low, high, _ = _nadeau_bengio(deltas[t], 400, 100, alpha=0.05 / 2)
        assert row["detectable"] == pytest.approx((high - low) / 2)


def test_accuracy_kept_is_an_equivalence_claim():
    def table(acc_delta):
        base = _cell("baseline", BASE)
        prop = _cell("proposed", np.add(BASE, GAIN)).assign(
            accuracy=np.add(0.5, acc_delta))
        return pd.concat([base, prop], ignore_index=True)

    small = [0.001, -0.002, 0.0, 0.002, -0.001]
    v = jg.claim_verdicts(balanced=table(small), reference_model=REF, only=["accuracy_kept"])
    assert v["verdict"].item() == SUPPORTED
    lost = [-0.08, -0.09, -0.07, -0.08, -0.08]
    v = jg.claim_verdicts(balanced=table(lost), reference_model=REF, only=["accuracy_kept"])
    assert v["verdict"].item() == CONTRADICTED
    wide = [0.05, -0.05, 0.04, -0.04, 0.0]
    v = jg.claim_verdicts(balanced=table(wide), reference_model=REF, only=["accuracy_kept"])
    assert v["verdict"].item() == INCONCLUSIVE
    assert "+/-0.02" in v["evidence"].item()


def test_augmentation_claim_averages_the_transforms_per_model_and_loss():
    frames = []
    for model in (REF, "resnet18_narrow"):
        for loss in ("focal", "cross_entropy"):
            frames.append(_cell("", BASE, model=model, transform="no_augmentation")
                          .assign(loss=loss))
            frames.append(_cell("", np.add(BASE, GAIN), model=model, transform="rotation")
                          .assign(loss=loss))
            # a transform that does nothing halves the mean gain; still supported
            frames.append(_cell("", BASE, model=model, transform="cutout").assign(loss=loss))
    sweep = pd.concat(frames, ignore_index=True).drop(columns="method")
    comps = jg.claim_comparisons(sweep=sweep, reference_model=REF, only=["augmentation_helps"])
    assert len(comps) == 4
    assert comps["difference"].to_numpy() == pytest.approx(np.mean(GAIN) / 2)
    v = jg.claim_verdicts(sweep=sweep, reference_model=REF, only=["augmentation_helps"])
    assert v["verdict"].item() == SUPPORTED
    # one (model, loss) where augmentation hurts contradicts a claim about every model
    hurt = sweep.copy()
    mask = (hurt["model"] == "resnet18_narrow") & (hurt["loss"] == "focal") & \
        (hurt["transform"] != "no_augmentation")
    hurt.loc[mask, "macro_f1"] = hurt.loc[mask, "macro_f1"] - 0.2
    v = jg.claim_verdicts(sweep=hurt, reference_model=REF, only=["augmentation_helps"])
    assert v["verdict"].item() == CONTRADICTED


def test_growth_claim_tests_the_per_fold_slope_across_at_least_three_sizes():
    sizes = [REF, "mobilenet_v3_small_s1", "mobilenet_v3_small_s2"]

    def scaling(step):
        return pd.concat([_cell("proposed", np.add(BASE, np.multiply(i, step)), model=m)
                          for i, m in enumerate(sizes)], ignore_index=True)

    slopes = jg.size_slopes(scaling(GAIN), sizes)
    assert slopes["macro_f1"].to_numpy() == pytest.approx(GAIN)
    up = jg.claim_verdicts(scaling=scaling(GAIN), reference_model=REF, size_order=sizes,
                           only=["gain_grows_with_size"])
    assert up["verdict"].item() == SUPPORTED
    down = jg.claim_verdicts(scaling=scaling(np.negative(GAIN)), reference_model=REF,
                             size_order=sizes, only=["gain_grows_with_size"])
    assert down["verdict"].item() == CONTRADICTED
    two = jg.claim_verdicts(scaling=scaling(GAIN), reference_model=REF, size_order=sizes[:2],
                            only=["gain_grows_with_size"])
    assert two["verdict"].item() == NOT_TESTABLE


def test_the_new_claims_on_the_papers_numbers():
    own = jg.paper_verdicts()
    assert set(jg.CLAIM_IDS) <= set(own.index) and (own["verdict"] == NOT_TESTABLE).all()
    ev = own["evidence"]
    assert "0.319 against the baseline's 0.249 (+0.070)" in ev["over_sampling_gain"]
    assert "(+0.006" in ev["proposed_beats_over_sampling"]
    assert "0.5718 against the baseline's 0.5768 (-0.0050)" in ev["accuracy_kept"]
    assert "EfficientNet-B0 / focal" in ev["augmentation_helps"]
    assert own.loc["gain_grows_with_size", "value"] == "+0.005"


def test_comparisons_display_shows_detectable_beside_the_papers_difference():
    table = _methods(baseline=BASE, over_sampling=np.add(BASE, NOISE))
    comps = jg.claim_comparisons(balanced=table, reference_model=REF,
                                 only=["over_sampling_gain"])
    shown = jg.comparisons_display(comps)
    assert list(shown.columns[-2:]) == ["detectable (±)", "paper"]
    assert "ci_low" not in shown and shown["difference [95 % CI]"].item().count("[") == 1
    assert shown["paper"].item() == pytest.approx(0.070)
    assert shown["claim"].item() == "over sampling gain"
    assert shown["comparison"].item().endswith("(macro F1, 5 folds)")
    assert jg.method_label("over_sampling") == "over-sampling"
    assert jg.method_label("something_new") == "something new"


def test_fig5_table_puts_the_papers_b5_on_the_largest_model_and_resnet50_on_a_resnet():
    sizes = [REF, "mobilenet_v3_small_s2"]
    scaling = pd.concat([_cell("proposed", BASE, model=m) for m in sizes] +
                        [_cell("baseline", BASE, model="resnet18_narrow")], ignore_index=True)
    table = jg.scaling_vs_paper(scaling, reference_model=REF,
                                largest_model="mobilenet_v3_small_s2")
    assert table.loc[("mobilenet_v3_small_s2", "proposed"), "paper_macro_f1"] == 0.348
    assert table.loc[(REF, "proposed"), "paper_macro_f1"] == 0.325
    assert np.isfinite(table.loc[("resnet18_narrow", "baseline"), "paper_macro_f1"])
