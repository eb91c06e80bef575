"""The paper's explanation as an experiment: the stand-in pretrained on sets with a rising share
of children (the total held), and on a gender-skewed set, each evaluated on the same children
and adolescents.

Noh & Lim explain the children's gap by VGGFace2's composition (ages 0-12 about 0.01 % of its
images) and the small gender gaps by its "balanced enough" gender split (59.3 % male, 30.7 %
female, as they cite it). Here the stand-in's training set is changed one share at a time
(:func:`emo_lib.models.standin.composed_manifest`: nested subsets of two fixed pools), and:

- the gap (children minus adolescents) is measured per share; its linear trend over the shares
  tested is a difference of two data sets' per-image trend scores (:mod:`.contrasts`), with a
  subject-clustered interval;
- the male-minus-female gap is measured for the default split and a skewed one; the skew's
  effect on it is a difference of the two genders' per-image changes.

Not here: the verdicts (:mod:`.explanation`); the re-drawn test sets (:mod:`.redraw`).
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import paper
from ..classifier import TorchClassifier
from ..faces import FaceSet
from ..prerequisites import Prerequisite, runnable, target_of
from .contrasts import Contrast, contrast, correct, trend_scores
from .names import CAFE, GENDERS, NIMH, PAPER
from .setup import predict_all


def vggface2_shares() -> dict[str, float]:
    """VGGFace2's shares as Noh & Lim cite them (``book/paper_values.yaml``): ages 0-12 and
    13-17, male, female."""
    return {k: float(v) for k, v in paper.paper_value(f"{PAPER}.vggface2_distribution").items()}


def percent(x: float) -> str:
    """A share as a percentage with the decimals it needs: 0 %, 1 %, 0.01 %, 59.3 %."""
    for digits in range(0, 4):
        if round(x * 100, digits) == round(x * 100, 6):
            return f"{x * 100:.{digits}f} %"
    return f"{x * 100:.2f} %"


def share_name(child_share: float) -> str:
    return f"children {percent(child_share)}"


def skew_name(male_share: float) -> str:
    return f"men {percent(male_share)}, no children"


def composition_sets(child_shares: Sequence[float], skewed_male_share: float | None,
                     pools: Mapping[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """Set name -> the stand-in's ``composition`` option: one per share of children (the
    default gender split), then the gender-skewed set (no children), if given. The set with no
    children and the default split is the baseline of both experiments."""
    shares = [float(s) for s in child_shares]
    if len(set(shares)) < 2:
        raise ValueError(f"child_shares needs at least two different shares, got {shares}")
    if 0.0 not in shares and skewed_male_share is not None:
        raise ValueError("child_shares must include 0 (the gender experiment's baseline)")
    extra = dict(pools or {})
    out = {share_name(s): {"child_share": s, **extra} for s in sorted(shares)}
    if skewed_male_share is not None:
        out[skew_name(skewed_male_share)] = {"child_share": 0.0,
                                             "male_share": float(skewed_male_share), **extra}
    return out


def composition_standins(sets: Mapping[str, Mapping[str, Any]], *,
                         model_options: Mapping[str, Any], device: str = "cpu",
                         progress: bool = False) -> Iterator[tuple[str, TorchClassifier]]:
    """(set name, the stand-in trained on it or read from its cache), one set after another
    in one process: the sets overlap, and their crops are cut once per process."""
    from ..models import load_model

    for name, comp in tqdm(sets.items(), desc="composition stand-ins", disable=not progress):
        yield name, load_model("standin", device=device, progress=progress,
                               **{**dict(model_options), "composition": dict(comp)})


@runnable
def train_standins(sets: Mapping[str, Mapping[str, Any]], model_options: Mapping[str, Any],
                   device: str = "cpu") -> dict[str, Any]:
    """A build's prerequisite (:mod:`emo_lib.prerequisites`): every composition stand-in of
    ``sets`` in the cache."""
    return {name: {k: net.info.get(k) for k in ("cache", "seconds", "heldout_accuracy")}
            for name, net in composition_standins(sets, model_options=model_options,
                                                  device=device)}


def prerequisite(sets: Mapping[str, Mapping[str, Any]], model_options: Mapping[str, Any],
                 device: str = "cpu") -> Prerequisite:
    """One training seed's composition stand-ins (``model_options`` holds the budget and the
    seed) as the explanation page's prerequisite: one, since they share their crops."""
    from ..models.standin import training_cost

    return Prerequisite(target_of(train_standins),
                        {"sets": {k: dict(v) for k, v in sets.items()},
                         "model_options": dict(model_options), "device": device},
                        label=f"{len(sets)} composition stand-ins (seed "
                              f"{model_options.get('seed', 0)})",
                        cost=len(sets) * training_cost(dict(model_options)))


def composition_predictions(sets: Mapping[str, Mapping[str, Any]],
                            faces: Mapping[str, FaceSet], *, model_options: Mapping[str, Any],
                            device: str = "cpu", progress: bool = False
                            ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The stand-in trained (or read from its cache) on each set, and its predictions on
    ``faces`` (:func:`predict_all`). Returns ({set: predictions}, one row per set: its
    composition, budget, held-out accuracy, training seconds and cache state)."""
    preds, rows = {}, []
    for name, net in composition_standins(sets, model_options=model_options, device=device,
                                          progress=progress):
        preds[name] = predict_all(net, faces)
        info, recipe = net.info, net.info.get("recipe", {})
        mix = recipe.get("composition", {})
        rows.append({"set": name, "child_share": mix.get("child_share"),
                     "male_share": mix.get("male_share"), "images": recipe.get("n_images"),
                     "size": recipe.get("size"), "epochs": recipe.get("epochs"),
                     "heldout_accuracy": info.get("heldout_accuracy"),
                     "seconds": info.get("seconds"), "cache": info.get("cache")})
    return preds, pd.DataFrame(rows)


def _gap(preds: pd.DataFrame, alpha: float) -> Contrast:
    c, n = preds[preds["dataset"] == CAFE], preds[preds["dataset"] == NIMH]
    return contrast(correct(c), c["subject_id"], correct(n), n["subject_id"], alpha)


def share_table(preds: Mapping[str, pd.DataFrame], shares: Mapping[str, float],
                alpha: float = 0.05) -> pd.DataFrame:
    """Per share of children: both accuracies and the gap (children minus adolescents) with
    its subject-clustered interval."""
    rows = []
    for name, share in shares.items():
        p = preds[name]
        gap = _gap(p, alpha)
        acc = p.groupby("dataset")["correct"].mean()
        rows.append({"set": name, "child_share": share, "children": acc.get(CAFE, np.nan),
                     "adolescents": acc.get(NIMH, np.nan), "gap": gap.estimate,
                     "ci_low": gap.ci_low, "ci_high": gap.ci_high, "p_value": gap.p_value})
    return pd.DataFrame(rows)


def share_trends(preds: Mapping[str, pd.DataFrame], shares: Mapping[str, float],
                 alpha: float = 0.05) -> dict[str, Contrast]:
    """The linear trends over the shares tested (each one's fitted change from the smallest
    share to the largest), with intervals, the models held fixed: ``"gap"`` (> 0: the gap
    shrinks as children are added; the children's mean trend score minus the adolescents',
    :func:`trend_scores`), and each data set's own accuracy (CAFE, NIMH-ChEFS), which says
    whether a shrinking gap comes from children read better or adolescents read worse. Every
    set's predictions must be on the same images in the same order."""
    names = list(shares)
    first = preds[names[0]]
    for name in names[1:]:
        if preds[name]["path"].tolist() != first["path"].tolist():
            raise ValueError(f"set {name!r} was evaluated on other images than {names[0]!r}")
    scores = trend_scores([correct(preds[n]) for n in names], [shares[n] for n in names])
    is_cafe = (first["dataset"] == CAFE).to_numpy()
    is_nimh = (first["dataset"] == NIMH).to_numpy()
    subjects = first["subject_id"].to_numpy()
    return {"gap": contrast(scores[is_cafe], subjects[is_cafe], scores[is_nimh],
                            subjects[is_nimh], alpha),
            CAFE: contrast(scores[is_cafe], subjects[is_cafe], alpha=alpha),
            NIMH: contrast(scores[is_nimh], subjects[is_nimh], alpha=alpha)}


def share_trend(preds: Mapping[str, pd.DataFrame], shares: Mapping[str, float],
                alpha: float = 0.05) -> Contrast:
    """The gap's trend of :func:`share_trends`."""
    return share_trends(preds, shares, alpha)["gap"]


def composition_figure(table: pd.DataFrame, trend: Contrast, vggface2_child_share: float,
                       alpha: float = 0.05) -> Any:
    """The gap against the share of children in the training set (symmetric-log x axis, so
    0 and 0.01 % stay apart), with intervals, the linear trend, and VGGFace2's share marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    x = table["child_share"].to_numpy(float) * 100
    err = np.vstack([table["gap"] - table["ci_low"], table["ci_high"] - table["gap"]])
    ax.errorbar(x, table["gap"], yerr=err, fmt="o-", color="C0", capsize=3,
                label=f"gap, {1 - alpha:.0%} interval")
    lo, hi = x.min(), x.max()
    fit0 = float(np.average(table["gap"])) - trend.estimate / (hi - lo) * (x.mean() - lo)
    ax.plot([lo, hi], [fit0, fit0 + trend.estimate], color="C2", ls=":",
            label=f"linear trend {trend.estimate:+.3f} over {lo:g}-{hi:g} %")
    ax.axhline(0.0, color="black", lw=1)
    ax.axvline(vggface2_child_share * 100, color="C3", ls="--", lw=1,
               label=f"VGGFace2, ages 0-12: {vggface2_child_share:.2%}")
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlabel("children in the training set (%, symmetric log scale)")
    ax.set_ylabel("children minus adolescents")
    ax.set_title("The gap against the share of children the stand-in saw")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def gender_table(preds: Mapping[str, pd.DataFrame], alpha: float = 0.05) -> pd.DataFrame:
    """Per set and data set (and both pooled): male and female accuracy and the male-minus-
    female gap with its interval."""
    rows = []
    for name, p in preds.items():
        for ds, sub in [(CAFE, p[p["dataset"] == CAFE]), (NIMH, p[p["dataset"] == NIMH]),
                        ("both", p)]:
            m, f = sub[sub["gender"] == GENDERS[0]], sub[sub["gender"] == GENDERS[1]]
            if m.empty or f.empty:
                continue
            gap = contrast(correct(m), m["subject_id"], correct(f), f["subject_id"], alpha)
            rows.append({"set": name, "dataset": ds, "male": correct(m).mean(),
                         "female": correct(f).mean(), "gap": gap.estimate,
                         "ci_low": gap.ci_low, "ci_high": gap.ci_high, "p_value": gap.p_value})
    return pd.DataFrame(rows)


def skew_effect(balanced: pd.DataFrame, skewed: pd.DataFrame, alpha: float = 0.05) -> Contrast:
    """How much the gender skew moves the male-minus-female gap (both data sets pooled): per
    image the change of its answer (skewed minus balanced model), the men's mean minus the
    women's, with its interval."""
    if balanced["path"].tolist() != skewed["path"].tolist():
        raise ValueError("the two sets' predictions are not on the same images")
    change = correct(skewed) - correct(balanced)
    male = (balanced["gender"] == GENDERS[0]).to_numpy()
    female = (balanced["gender"] == GENDERS[1]).to_numpy()
    subjects = balanced["subject_id"].to_numpy()
    return contrast(change[male], subjects[male], change[female], subjects[female], alpha)


def composition_reading(shares: pd.DataFrame, trends: Mapping[str, Contrast],
                        gender: pd.DataFrame | None, skew: Contrast | None,
                        skewed_male_share: float | None) -> str:
    """What the two tables say, in words computed from them (``trends``:
    :func:`share_trends`)."""
    from ..verdicts import p_equals

    trend = trends["gap"]
    first, last = shares.iloc[0], shares.iloc[-1]
    parts = [f"From {percent(first['child_share'])} to {percent(last['child_share'])} children "
             f"in the training set the gap goes from {first['gap']:+.3f} to {last['gap']:+.3f} "
             f"(children {first['children']:.3f} to {last['children']:.3f}, adolescents "
             f"{first['adolescents']:.3f} to {last['adolescents']:.3f}); its linear trend over "
             f"that range is {trend.text()} ({p_equals(trend.p_value)}; positive: the gap "
             "shrinks)."]
    if trend.estimate > 0 and first["gap"] < 0:
        parts.append(f"The trend removes {trend.estimate / -first['gap']:.0%} of the gap "
                     f"without children.")
    parts.append(f"Over the same range the children's own accuracy moves by "
                 f"{trends[CAFE].text()} ({p_equals(trends[CAFE].p_value)}) and the "
                 f"adolescents' by {trends[NIMH].text()} ({p_equals(trends[NIMH].p_value)}).")
    if gender is not None and skew is not None and skewed_male_share is not None:
        both = gender[gender["dataset"] == "both"].set_index("set")
        parts.append(f"With {percent(skewed_male_share)} men the male-minus-female gap is "
                     f"{both.loc[skew_name(skewed_male_share), 'gap']:+.3f}, against "
                     f"{both.iloc[0]['gap']:+.3f} with the default split: the skew moves it by "
                     f"{skew.text()} ({p_equals(skew.p_value)}).")
    return " ".join(parts)


__all__ = ["composition_figure", "composition_predictions", "composition_reading",
           "composition_sets", "gender_table", "percent", "share_name", "share_table",
           "share_trend", "share_trends", "skew_effect", "skew_name", "vggface2_shares"]
