"""emo_lib.verdicts: one vocabulary and one claims-table format for both papers."""
import numpy as np
import pandas as pd
import pytest

from emo_lib import verdicts as V


def test_direction_and_each_verdict_rules():
    assert V.direction_verdict(True, 0.01, 0.05) == V.SUPPORTED
    assert V.direction_verdict(True, 0.2, 0.05) == V.INCONCLUSIVE
    assert V.direction_verdict(True, float("nan"), 0.05) == V.INCONCLUSIVE
    assert V.direction_verdict(False, 0.001, 0.05) == V.NOT_SUPPORTED
    assert V.each_verdict([True, True], [True, True]) == V.SUPPORTED
    assert V.each_verdict([True, True], [True, False]) == V.INCONCLUSIVE
    assert V.each_verdict([True, False], [True, False]) == V.PARTLY_SUPPORTED
    assert V.each_verdict([True, False], [False, False]) == V.NOT_SUPPORTED
    assert V.each_verdict([], []) == V.NOT_SUPPORTED


def test_claims_table_format_and_checks():
    t = V.claims_table([{"claim": "a", "verdict": V.SUPPORTED, "evidence": "e."},
                        {"claim": "b", "verdict": V.NOT_TESTED, "evidence": "none"}], ["x", "y"])
    assert t.index.name == "claim_id" and list(t.columns) == list(V.CLAIM_COLUMNS)
    with pytest.raises(ValueError, match="vocabulary"):
        V.claims_table([{"claim": "a", "verdict": "true", "evidence": ""}], ["x"])
    with pytest.raises(ValueError, match="ids"):
        V.claims_table([], ["x"])
    own = t.assign(verdict=[V.INCONCLUSIVE, V.SUPPORTED])
    both = V.with_paper_verdicts(t, own, evidence=True)
    assert both[V.PAPER_VERDICT].tolist() == [V.INCONCLUSIVE, V.SUPPORTED]
    assert f"evidence ({V.PAPER_VERDICT})" in both
    lines = V.claim_lines(t).split("\n")
    assert lines[0] == "- **a** This run: *supported*: e."
    assert lines[1].endswith("none.")


def test_format_p():
    assert V.format_p(0.0123) == "0.012" and V.format_p(3e-6) == "3.0e-06"
    assert V.format_p(None) == "n/a" and V.format_p(np.nan) == "n/a"
