"""The generator's re-drawing options (explanation page): the default draw is bit-identical to
the generator before they existed, ``draw_as`` swaps one age mechanism and nothing else,
``mouth_variants=False`` draws CAFE's mouths as each prototype's own, and ``adult_pretrain``'s
composition options hold the total and the class balance."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from emo_lib.data.synthetic import load_preset
from emo_lib.data.synthetic import presets as presets_mod
from emo_lib.data.synthetic.expressions import EXPRESSION_BY_AGE
from emo_lib.data.synthetic.mechanisms import (
    AGE_MECHANISMS, age_differences, check_draw_as, expression_style, mechanism_text,
    rank_age,
)
from emo_lib.data.synthetic.population import AGE_RANGES

SIZE = 32
#: sha256 of (manifest without paths, then every image's pixels) of three small presets, seed 3,
#: size 32, computed with the generator as it was before the re-drawing options were added
#: (commit 1320fed): a change to the default draw fails here.
GOLDEN = {
    ("cafe_like", "scale", 0.05):
        "128c6a6bababb4ed6826d4ffdebc71e23834dd7190967269b9cd431e5486694b",
    ("nimh_like", "scale", 0.05):
        "f3f21740d40b938c1861cdda99363e19803c0c889fd8373c7ac68c2c25be8e22",
    ("adult_pretrain", "n", 40):
        "e701082643909da0482a7e753c10e2e14d554add90ea254e0bfdda30f3bce0f8",
}


def _digest(manifest) -> str:
    h = hashlib.sha256()
    h.update(manifest.frame.drop(columns=["path"]).to_csv(index=False).encode())
    for p in manifest.frame["path"]:
        h.update(np.asarray(Image.open(p)).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("preset,option,value", list(GOLDEN), ids=lambda x: str(x))
def test_default_draw_is_bit_identical(tmp_path, preset, option, value):
    m = load_preset(preset, tmp_path, seed=3, size=SIZE, progress=False, **{option: value})
    assert _digest(m) == GOLDEN[(preset, option, value)]
    # the options at their defaults change neither the key nor the draw
    same = load_preset(preset, tmp_path, seed=3, size=SIZE, progress=False, draw_as={},
                       **{option: value})
    assert same.meta["cache_key"] == m.meta["cache_key"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("redraw")


def _cafe(cache, **options):
    return load_preset("cafe_like", cache, seed=1, size=SIZE, scale=0.1, progress=False,
                       **options)


def test_draw_as_swaps_one_mechanism_and_keeps_everyone_else(cache):
    base = _cafe(cache)
    swapped = _cafe(cache, draw_as={"intensity": "adolescent"})
    assert swapped.meta["cache_key"] != base.meta["cache_key"]
    assert swapped.meta["options"]["draw_as"] == {"intensity": "adolescent"}
    a, b = base.frame, swapped.frame
    # the same people, photographs and labels; only the expression intensity moved up
    for col in ("label", "gender", "subject_id", "age", "skin_tone", "hair_style", "mouth"):
        assert a[col].tolist() == b[col].tolist(), col
    assert b["intensity"].mean() > a["intensity"].mean() + 0.1
    # face geometry untouched: the landmarks move only where the expression moves them
    geometry = _cafe(cache, draw_as={"geometry": "adolescent"})
    assert geometry.frame["intensity"].tolist() == a["intensity"].tolist()
    assert geometry.frame["age"].tolist() == a["age"].tolist()   # the recorded age stays
    assert not np.allclose(geometry.frame["left_eye_x"], a["left_eye_x"])


def test_draw_as_own_group_is_the_default(cache):
    base = _cafe(cache)
    own = _cafe(cache, draw_as={m: "child" for m in AGE_MECHANISMS})
    assert _digest(own) == _digest(base)


def test_mouth_variants_off_draws_prototype_mouths(cache):
    base = _cafe(cache)
    plain = _cafe(cache, mouth_variants=False)
    assert set(base.frame["mouth"]) == {"open", "closed"}
    assert set(plain.frame["mouth"]) == {"default"}
    assert plain.frame["intensity"].tolist() == base.frame["intensity"].tolist()
    with pytest.raises(ValueError, match="cafe_like only"):
        load_preset("nimh_like", cache, size=SIZE, scale=0.05, mouth_variants=False)


def test_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="unknown mechanism"):
        load_preset("cafe_like", tmp_path, draw_as={"nose": "adolescent"})
    with pytest.raises(ValueError, match="unknown age group"):
        load_preset("cafe_like", tmp_path, draw_as={"intensity": "teen"})
    with pytest.raises(ValueError, match="adult_pretrain only"):
        load_preset("cafe_like", tmp_path, child_share=0.1)
    with pytest.raises(ValueError, match="child_share"):
        load_preset("adult_pretrain", tmp_path, child_share=1.5)
    with pytest.raises(ValueError, match="male_share"):
        load_preset("adult_pretrain", tmp_path, male_share=1.0)
    with pytest.raises(ValueError, match="mapping"):
        check_draw_as(["intensity"])


def test_composition_holds_total_and_balance():
    counts = presets_mod.pretrain_counts(1400, 1.0, child_share=0.1, male_share=0.9)
    frame = pd.DataFrame([{"gender": g, "group": a, "label": c, "k": k}
                          for (g, a), row in counts.items() for c, k in row.items()])
    assert frame["k"].sum() == 1400
    assert frame.groupby("label")["k"].sum().nunique() == 1            # classes balanced
    assert frame.groupby("group")["k"].sum()["child"] == 140
    male = frame[frame["gender"] == "male"]["k"].sum() / 1400
    assert abs(male - 0.9) < 0.01
    # the default composition is the old adult_counts exactly
    assert presets_mod.pretrain_counts(3500) == {
        (g, "adult"): row for g, row in presets_mod.adult_counts(3500).items()}
    assert set(presets_mod.pretrain_counts(700, child_share=1.0)) == {("male", "child"),
                                                                       ("female", "child")}


def test_child_pool_draws_children(tmp_path):
    m = load_preset("adult_pretrain", tmp_path, size=SIZE, n=21, child_share=1.0,
                    progress=False)
    lo, hi = AGE_RANGES["child"]
    assert set(m.frame["age_group"]) == {"child"}
    assert m.frame["age"].between(lo, hi + 1).all()


def test_mechanisms_read_from_the_generator():
    child, adolescent = EXPRESSION_BY_AGE["child"], EXPRESSION_BY_AGE["adolescent"]
    assert mechanism_text("au_dropout", "child") == f"au_dropout {child.au_dropout:g}"
    style = expression_style("child", {"au_dropout": "adolescent"})
    assert style.au_dropout == adolescent.au_dropout and style.intensity_mean == \
        child.intensity_mean
    assert expression_style("child", {"au_dropout": "child"}) is None
    assert set(age_differences()) == set(AGE_MECHANISMS)     # every mechanism differs today
    # ranks map onto the other range: the youngest child to the youngest adolescent
    assert rank_age(AGE_RANGES["child"][0], "child", "adolescent") == AGE_RANGES["adolescent"][0]
