"""emo_lib.verdicts: one vocabulary, one claims-table format and one rule book for both
papers; emo_lib.seeds: claims across seeds; emo_lib.detectable."""
import math

import numpy as np
import pytest

from emo_lib import detectable
from emo_lib import seeds as S
from emo_lib import verdicts as V

SUP, PART, CON, INC, NT = (V.SUPPORTED, V.PARTLY_SUPPORTED, V.CONTRADICTED, V.INCONCLUSIVE,
                           V.NOT_TESTABLE)


def test_direction_rule_each_side():
    assert V.direction_verdict(0.2, 0.01, 0.05) == SUP
    assert V.direction_verdict(0.2, 0.2, 0.05) == INC
    assert V.direction_verdict(-0.2, 0.2, 0.05) == INC   # the other way, n.s.
    assert V.direction_verdict(-0.2, 0.001, 0.05) == CON
    assert V.direction_verdict(0.2, float("nan"), 0.05) == NT
    assert V.direction_verdict(None, 0.01, 0.05) == NT


def test_equivalence_rule_contradicts_only_beyond_the_margin_one_sided():
    assert V.equivalence_verdict(0.01, 0.9, 0.05) == SUP
    assert V.equivalence_verdict(0.4, 0.6, 0.05) == INC      # no difference found: not support
    assert V.equivalence_verdict(0.9, 0.001, 0.05) == CON     # significantly beyond the margin
    assert V.equivalence_verdict(float("nan"), float("nan"), 0.05) == NT
    # issue 16, rule 2: +0.125 with 90 % interval [0.086, 0.164], margin 0.1: beyond the margin
    # on the point but not significantly (the interval reaches inside it): inconclusive
    from scipy import stats
    se = (0.164 - 0.086) / 2 / stats.norm.ppf(0.95)
    beyond = stats.norm.sf((0.125 - 0.1) / se)
    assert beyond > 0.05
    assert V.equivalence_verdict(0.9, beyond, 0.05) == INC
    assert V.exact_equivalence_verdict(0.0, 0.1) == SUP
    assert V.exact_equivalence_verdict(-0.15, 0.1) == CON
    assert V.exact_equivalence_verdict(float("nan"), 0.1) == NT


def test_threshold_rule_each_side():
    assert V.threshold_verdict(0.01, 0.05) == SUP
    assert V.threshold_verdict(0.99, 0.05) == CON            # significantly within
    assert V.threshold_verdict(0.5, 0.05) == INC
    assert V.threshold_verdict(float("nan"), 0.05) == NT


def test_every_part_supported_needs_no_correction_but_partial_verdicts_are_holm_corrected():
    five = [V.direction_part(c, 0.1, 0.02) for c in "abcde"]
    # each p = 0.02 < 0.05: the conjunction holds (intersection-union), no correction needed
    assert V.combine_parts(five).verdict == SUP
    # one part inconclusive: the rest are judged after Holm (5 x 0.02 = 0.1): none supported
    four = five[:4] + [V.direction_part("e", 0.1, 0.3)]
    c = V.combine_parts(four)
    assert c.verdict == INC and set(c.parts["verdict"]) == {INC}
    strong = [V.direction_part(c, 0.1, 0.001) for c in "abcd"] + [V.direction_part("e", 0.1, 0.3)]
    c = V.combine_parts(strong)
    assert c.verdict == PART and c.parts.set_index("part").loc["a", "verdict"] == SUP
    assert c.parts["p_support_holm"].iloc[0] == pytest.approx(0.005)


def test_untestable_parts_never_support_and_a_counterexample_contradicts():
    ok = V.direction_part("angry", 0.3, 0.001)
    # issue 16 rule 4: one testable part of four supports only partly
    parts = [ok] + [V.direction_part(c, float("nan"), float("nan")) for c in ("a", "b", "c")]
    c = V.combine_parts(parts)
    assert c.verdict == PART and "not testable: a, b, c" in c.summary
    # issue 16 rule 5 and 9: a significant counterexample contradicts, named "mixed"
    c = V.combine_parts([V.direction_part("sad", 0.2, 0.001),
                         V.direction_part("angry", -0.15, 0.001)])
    assert c.verdict == CON and c.mixed
    assert c.summary == "mixed — supported: sad; contradicted: angry"
    c = V.combine_parts([V.direction_part("sad", 0.2, 0.3), V.direction_part("x", -0.2, 0.001)])
    assert c.verdict == CON and not c.mixed
    assert V.combine_parts([]).verdict == NT
    assert V.combine_parts([V.direction_part("a", 0.1, float("nan"))]).verdict == NT


def test_exact_parts_count_without_a_test():
    parts = [V.equivalence_part("eyes", 0.001, 0.99), V.exact_part("outside", SUP, "0 in both")]
    assert V.combine_parts(parts).verdict == SUP
    parts = [V.equivalence_part("eyes", 0.001, 0.99), V.exact_part("outside", CON)]
    assert V.combine_parts(parts).verdict == CON
    with pytest.raises(ValueError, match="exact verdict"):
        V.exact_part("x", "maybe")


def test_each_verdict_on_verdict_strings_follows_the_same_rules():
    assert V.each_verdict([SUP, SUP]) == SUP
    assert V.each_verdict([SUP, SUP, NT]) == PART         # untestable: never support
    assert V.each_verdict([SUP, INC]) == PART
    assert V.each_verdict([CON, INC]) == CON
    assert V.each_verdict([SUP, CON]) == CON               # mixed: a counterexample
    assert V.each_verdict([INC, INC]) == INC
    assert V.each_verdict([NT]) == NT and V.each_verdict([]) == NT
    assert V.each_verdict([V.direction_part("a", 1.0, 0.01)]) == SUP
    with pytest.raises(TypeError):
        V.each_verdict([SUP, V.direction_part("a", 1.0, 0.01)])


def test_every_rule_renders_with_its_parameters_and_refuses_none():
    params = {"alpha": 0.05, "margin": 0.1, "threshold": 0.2, "n_perm": 2000}
    for kind in V.RULES:
        text = V.rule_text(kind, **params)
        assert "None" not in text and "nan" not in text and "{" not in text, kind
    assert "+/-0.1" in V.rule_text("equivalence", **params)
    assert "0.2" in V.rule_text("exceeds", **params)
    with pytest.raises(ValueError, match="needs margin"):
        V.rule_text("equivalence", alpha=0.05)
    with pytest.raises(ValueError, match="needs margin"):
        V.rule_text("equivalence", alpha=0.05, margin=None)
    with pytest.raises(ValueError, match="needs threshold"):
        V.rules_markdown("exceeds", threshold=float("nan"))
    with pytest.raises(ValueError, match="choose from"):
        V.rules_markdown("vibes")
    text = V.rules_markdown("direction", "equivalence", alpha=0.05, margin=0.1)
    assert text.startswith("**How the verdicts") and "p < 0.05" in text and "TOST" in text


def test_claims_table_format_and_checks():
    t = V.claims_table([{"claim": "a", "verdict": SUP, "evidence": "e.", "value": "0.4"},
                        {"claim": "b", "verdict": NT, "evidence": "none"}], ["x", "y"])
    assert t.index.name == "claim_id"
    assert list(t.columns) == list(V.CLAIM_COLUMNS + V.OPTIONAL_COLUMNS)
    assert t["value"].tolist() == ["0.4", ""] and (t["tags"] == "").all()
    with pytest.raises(ValueError, match="vocabulary"):
        V.claims_table([{"claim": "a", "verdict": "true", "evidence": ""}], ["x"])
    with pytest.raises(ValueError, match="ids"):
        V.claims_table([], ["x"])
    with pytest.raises(ValueError, match="unique"):
        V.claims_table([{"claim": "a", "verdict": SUP, "evidence": ""}] * 2, ["x", "x"])
    with pytest.raises(ValueError, match="tag"):
        V.claims_table([{"claim": "a", "verdict": SUP, "evidence": "", "tags": "vibes"}], ["x"])
    own = t.assign(verdict=[INC, SUP], value=["0.5", "0.6"])
    both = V.with_paper_verdicts(t, own)
    assert both[V.PAPER_VERDICT].tolist() == [INC, SUP]
    assert both["paper_value"].tolist() == ["0.5", "0.6"]
    assert V.PAPER_EVIDENCE in both
    lines = V.claim_lines(t).split("\n")
    assert lines[0] == "- **a** This run: *supported*: e."
    assert lines[1].endswith("none.")
    both_lines = V.claim_lines(both).split("\n")
    assert both_lines[0] == ("- **a** This run: *supported*: e. The paper's numbers: "
                             "*inconclusive*: e.")


# ----------------------------------------------------------------------------------- seeds


def _table(verdicts, evidence="e"):
    return V.claims_table([{"claim": f"c{i}", "verdict": v, "evidence": f"{evidence}{i}",
                            "value": f"v{i}"} for i, v in enumerate(verdicts)],
                          [f"k{i}" for i in range(len(verdicts))])


def test_stability_labels():
    assert S.stability_label([SUP]) == "not measured (one seed)"
    assert S.stability_label([SUP, SUP, SUP]) == "stable: supported in 3 of 3"
    assert S.stability_label([INC, SUP, SUP]) == "varies: supported 2, inconclusive 1"
    assert S.common_verdict([SUP, INC]) == V.VARIES and S.common_verdict([CON, CON]) == CON


def test_claims_across_seeds_never_takes_the_first_seeds_verdict():
    tables = {0: _table([SUP, SUP]), 1: _table([SUP, INC], "f"), 2: _table([SUP, SUP])}
    claims, long = S.claims_across_seeds(tables)
    assert claims["verdict"].tolist() == [SUP, V.VARIES]
    assert claims["stability"].tolist() == ["stable: supported in 3 of 3",
                                            "varies: supported 2, inconclusive 1"]
    assert claims.loc["k0", "evidence"].startswith("seed 0 (of 0, 1, 2): e0")
    assert list(long.columns) == list(S.BY_SEED_COLUMNS) and len(long) == 6
    assert long.set_index(["claim_id", "seed"]).loc[("k1", 1), "evidence"] == "f1"
    one, long1 = S.claims_across_seeds({3: _table([CON])})
    assert one["verdict"].tolist() == [CON] and one["stability"].tolist() == [S.NOT_MEASURED]
    assert long1["seed"].tolist() == [3]
    with pytest.raises(ValueError, match="same claims"):
        S.claims_across_seeds({0: _table([SUP]), 1: _table([SUP, SUP])})
    wide = S.stability_table(claims, long)
    assert list(wide.columns) == ["claim_id", "claim", "seed 0", "seed 1", "seed 2", "verdict",
                                  "stability"]


@pytest.mark.parametrize("bad", [[], [0, 0], [-1], [1.5], "0,1", [True], None])
def test_seeds_are_checked(bad):
    with pytest.raises(ValueError, match="seeds"):
        S.check_seeds(bad)


def test_per_seed_keeps_the_order():
    assert S.per_seed([2, 0, 1], lambda s: s * 10) == {2: 20, 0: 0, 1: 10}
    assert list(S.per_seed([2, 0, 1], lambda s: s)) == [2, 0, 1]


# ----------------------------------------------------------------------------- detectable


def test_detectable_differences_by_hand():
    # pooled 0.5, n 100 + 100: 1.96 * sqrt(0.25 * 0.02) = 0.1386
    assert detectable.two_proportions(40, 100, 60, 100) == pytest.approx(0.13859, abs=1e-4)
    assert math.isnan(detectable.two_proportions(0, 0, 5, 10))
    # 16 changed answers of 100: 1.96 * 4 / 100
    assert detectable.paired_change(10, 6, 100) == pytest.approx(0.0784, abs=1e-4)
    assert detectable.from_se(0.1, df=4) == pytest.approx(2.776 * 0.1, abs=1e-3)
    assert detectable.beyond_threshold(-0.2, 0.05) == pytest.approx(0.2 + 1.645 * 0.05, abs=1e-3)
    assert detectable.equivalence_half_width(0.05) == pytest.approx(0.0822, abs=1e-3)
    assert math.isnan(detectable.from_se(0.0))
    assert detectable.paired_se(10, 6, 100) == pytest.approx(np.sqrt((0.16 - 0.0016) / 100))
