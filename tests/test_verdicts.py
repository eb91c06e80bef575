"""emo_lib.verdicts: one vocabulary and one claims-table format for both papers."""
import numpy as np
import pandas as pd
import pytest

from emo_lib import verdicts as V


def test_direction_equivalence_and_each_rules():
    assert V.direction_verdict(0.2, 0.01, 0.05) == V.SUPPORTED
    assert V.direction_verdict(0.2, 0.2, 0.05) == V.INCONCLUSIVE
    assert V.direction_verdict(-0.2, 0.2, 0.05) == V.INCONCLUSIVE   # the other way, n.s.
    assert V.direction_verdict(-0.2, 0.001, 0.05) == V.CONTRADICTED
    assert V.direction_verdict(0.2, float("nan"), 0.05) == V.NOT_TESTABLE
    assert V.equivalence_verdict(0.01, 0.02, 0.6, 0.1, 0.05) == V.SUPPORTED
    assert V.equivalence_verdict(0.4, 0.02, 0.6, 0.1, 0.05) == V.INCONCLUSIVE  # no difference
    assert V.equivalence_verdict(0.9, 0.3, 0.001, 0.1, 0.05) == V.CONTRADICTED
    assert V.equivalence_verdict(0.9, 0.05, 0.001, 0.1, 0.05) == V.INCONCLUSIVE  # within margin
    S, C, I, N = V.SUPPORTED, V.CONTRADICTED, V.INCONCLUSIVE, V.NOT_TESTABLE
    assert V.each_verdict([S, S, N]) == S
    assert V.each_verdict([S, I]) == V.PARTLY_SUPPORTED
    assert V.each_verdict([C, I]) == C
    assert V.each_verdict([S, C]) == I
    assert V.each_verdict([I, I]) == I
    assert V.each_verdict([N]) == N and V.each_verdict([]) == N


def test_rules_markdown_names_the_rules():
    text = V.rules_markdown("direction", "equivalence", alpha=0.05, margin=0.1)
    assert "p < 0.05" in text and "+/-0.1" in text and "TOST" in text
    with pytest.raises(ValueError, match="choose from"):
        V.rules_markdown("vibes")


def test_claims_table_format_and_checks():
    t = V.claims_table([{"claim": "a", "verdict": V.SUPPORTED, "evidence": "e."},
                        {"claim": "b", "verdict": V.NOT_TESTABLE, "evidence": "none"}], ["x", "y"])
    assert t.index.name == "claim_id" and list(t.columns) == list(V.CLAIM_COLUMNS)
    with pytest.raises(ValueError, match="vocabulary"):
        V.claims_table([{"claim": "a", "verdict": "true", "evidence": ""}], ["x"])
    with pytest.raises(ValueError, match="ids"):
        V.claims_table([], ["x"])
    own = t.assign(verdict=[V.INCONCLUSIVE, V.SUPPORTED])
    both = V.with_paper_verdicts(t, own)
    assert both[V.PAPER_VERDICT].tolist() == [V.INCONCLUSIVE, V.SUPPORTED]
    assert f"evidence ({V.PAPER_VERDICT})" in both
    lines = V.claim_lines(t).split("\n")
    assert lines[0] == "- **a** This run: *supported*: e."
    assert lines[1].endswith("none.")


def test_format_p():
    assert V.format_p(0.0123) == "0.012" and V.format_p(3e-6) == "< 0.001"
    assert V.format_p(None) == "n/a" and V.format_p(np.nan) == "n/a"
