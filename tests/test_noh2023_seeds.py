"""Paper 1's pages per seed (emo_lib.noh2023.seeded): what a seed changes, a fixed model
shared by every seed, the claims per seed with the paper's column beside."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emo_lib import noh2023 as nh
from emo_lib.seeds import claims_across_seeds
from emo_lib.verdicts import PAPER_VERDICT


def test_only_the_stand_in_takes_the_seed():
    assert nh.seeded_options("standin", {"size": 32}, 4) == {"size": 32, "seed": 4}
    assert nh.seeded_options("standin", {"seed": 9}, 4) == {"seed": 9}     # fixed by options
    assert nh.seeded_options("hsemotion:enet_b0_7", {}, 4) == {}
    assert nh.model_takes_seed("standin", {}) and not nh.model_takes_seed("standin", {"seed": 1})
    assert not nh.model_takes_seed("fer:mini_xception", None)


def test_the_page_says_what_a_seed_changes():
    text = nh.seed_note("standin", {}, [0, 1, 2], "training")
    assert text.startswith("**Seeds** 0, 1, 2: the claims are computed once per seed")
    assert "the stand-in's training" in text and "the subject-disjoint folds" in text
    assert "one draw (parameter `seed`)" in text
    fixed = nh.seed_note("hsemotion:enet_b0_7", {}, [0], "accuracy")
    assert "nothing on this page depends on the seed" in fixed and "is fixed" in fixed
    assert "emo-book build --seeds 0,1,2" in fixed
    with pytest.raises(ValueError, match="kind"):
        nh.seed_note("standin", {}, [0], "vibes")
    with pytest.raises(ValueError, match="seeds"):
        nh.seed_note("standin", {}, [0, 0], "lime")


class _Counting:
    """A stand-in for a model (only its identity matters here)."""


def test_a_fixed_model_predicts_once_for_every_seed(monkeypatch):
    calls = []
    monkeypatch.setattr(nh.seeded, "predict_all",
                        lambda net, faces: calls.append(net) or pd.DataFrame({"m": [id(net)]}))
    shared, a, b = _Counting(), _Counting(), _Counting()
    out = nh.predictions_by_seed({0: shared, 1: shared, 2: shared}, {})
    assert len(calls) == 1 and out[0] is out[2]
    calls.clear()
    nh.predictions_by_seed({0: a, 1: b}, {})
    assert calls == [a, b]


def _preds(seed: int) -> pd.DataFrame:
    """Predictions of a model that reads CAFE worse than NIMH-ChEFS (seed: how much)."""
    rng = np.random.default_rng(seed)
    rows = []
    for ds, acc in ((nh.CAFE, 0.3 + 0.05 * seed), (nh.NIMH, 0.9)):
        for cls in ("angry", "fear", "happy", "neutral", "sad"):
            for i in range(60):
                ok = rng.random() < (0.95 if cls == "happy" else acc)
                rows.append({"dataset": ds, "label": cls, "pred": cls if ok else "surprise",
                             "gender": "male" if i % 2 else "female"})
    return pd.DataFrame(rows)


def test_claims_per_seed_carry_the_papers_column_and_combine_across_seeds():
    by_seed = nh.age_claims_by_seed({0: _preds(0), 1: _preds(1)})
    assert list(by_seed) == [0, 1]
    for table in by_seed.values():
        assert (table[PAPER_VERDICT] != "").all() and (table["paper_value"] != "").all()
    claims, long = claims_across_seeds(by_seed)
    assert list(long["seed"].unique()) == [0, 1]
    assert claims.loc["cafe_overall_lower", "stability"] == "stable: supported in 2 of 2"
    assert claims.loc["cafe_overall_lower", "paper_value"].startswith("0.671 vs 0.861")
    gender = nh.gender_claims_by_seed({3: _preds(3)})
    assert list(gender) == [3] and "cafe_small_gaps" in gender[3].index
