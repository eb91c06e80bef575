"""Noh & Lim 2023's experiments as functions: the data and model, the accuracy tables of Fig. 3
and Tables 3-4, LIME maps and their region shares (Figs. 4, 7, 8), the additional training of
Figs. 5-6, the paper-shaped comparisons and one verdict per claim.

The five ``noh2023_*`` notebooks call these. Data sets are named on the pages as ``"CAFE"`` and
``"NIMH-ChEFS"`` (:data:`CAFE`, :data:`NIMH`); the paper's numbers are read from
``book/paper_values.yaml`` through :mod:`emo_lib.paper`, never typed here.

Verdicts are computed from numbers: a claim is *supported* when this run's numbers point the
paper's way and the test the claim implies is significant at ``alpha``; *inconclusive* when they
point that way without significance; *partly supported* when a claim about several classes
holds significantly in some of them; *not supported* otherwise (each function says its rule). The same functions run on the paper's own numbers
(:func:`paper_accuracy_table`), which checks the rules against the paper.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from . import paper
from .data.manifest import EMOTIONS_8
from .explain import (
    LIME_KERNEL_WIDTH, QUICKSHIFT_MAX_DIST, QUICKSHIFT_RATIO, REGIONS, LimeResult, MaskAggregate,
    aggregate_masks, default_kernel_size, explain_batch, mask_iou, region_masks, region_shares,
    top_positive,
)
from .faces import FaceSet, prepare_faces
from .storage import atomic_path, cache_dir
from .metrics import OVERALL, OVERALL_SHARED, accuracy_table, align_predictions, compare_groups
from .models.base import TorchClassifier
from .train import ArrayDataset, FitConfig, FitResult, fit, grouped_folds

log = logging.getLogger(__name__)

PAPER = "noh2023"
CAFE, NIMH = "CAFE", "NIMH-ChEFS"
#: Page name -> the data set's key in paper_values.yaml.
PAPER_KEYS: dict[str, str] = {CAFE: "cafe", NIMH: "nimh_chefs"}
GENDERS: tuple[str, ...] = ("male", "female")
SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
PARTLY = "partly supported"
#: The paper's own threshold for a "large" male/female accuracy gap (its Section 3.3).
GENDER_GAP_THRESHOLD = 0.2
#: Face regions the paper names (everything else is "other").
NAMED_REGIONS: tuple[str, ...] = ("eyes_brows", "glabella_nose", "mouth")
VERDICT_COLUMNS = ["claim", "verdict", "evidence"]


# --------------------------------------------------------------------------- data and model


def load_faces(dataset: str, root: str | None, options: Mapping[str, Any] | None, *,
               size: int, image_size: int, seed: int, device: str = "cpu",
               progress: bool = False) -> FaceSet:
    """Load a data set (``synthetic:`` presets drawn at ``image_size`` with ``seed``) and run it
    through the face pipeline at the model's input ``size``."""
    from .data import load_dataset, synthetic_options

    manifest = load_dataset(dataset, root or None,
                            **synthetic_options(dataset, size=image_size, seed=seed,
                                                progress=progress),
                            **dict(options or {}))
    return prepare_faces(manifest, size, device=device, progress=progress)


def setup(run: Any, *, model: str, model_options: Mapping[str, Any] | None,
          datasets: Mapping[str, tuple[str, str | None, Mapping[str, Any] | None]],
          image_size: int, seed: int, progress: bool = False
          ) -> tuple[TorchClassifier, dict[str, FaceSet]]:
    """What every paper-1 page does first: the model on the run's device, each data set
    (``{name: (dataset, root, options)}``) through the face pipeline at the model's input size,
    then the provenance banner and the model note. Returns (model, {name: FaceSet})."""
    from .models import load_model
    from .report import show_markdown

    device = str(run.device)
    net = load_model(model, device=device, **dict(model_options or {}))
    faces = {name: load_faces(ds, root, options, size=net.input_size, image_size=image_size,
                              seed=seed, device=device, progress=progress)
             for name, (ds, root, options) in datasets.items()}
    run.banner(*(f.manifest for f in faces.values()))
    show_markdown(model_note(net, model))
    return net, faces


def predict_all(net: TorchClassifier, faces: Mapping[str, FaceSet]) -> pd.DataFrame:
    """:func:`predict_frame` for every data set, one frame."""
    return pd.concat([predict_frame(net, f, name) for name, f in faces.items()],
                     ignore_index=True)


def class_order(labels: Sequence[Any]) -> list[str]:
    """The classes present in ``labels``, in the papers' order (angry ... surprise, contempt)."""
    present = set(pd.unique(pd.Series(labels, dtype=object)))
    known = [c for c in EMOTIONS_8 if c in present]
    return known + sorted(str(c) for c in present - set(known))


def model_note(model: TorchClassifier, name: str) -> str:
    """Markdown saying which model this is, how the stand-in was trained, and how it relates to
    the paper's Keras ``mobilenet_7.h5``."""
    from .models.hsemotion import PAPER_MODEL_NOTE

    info = model.info or {}
    lines = [f"**Model** `{name}`: classes {', '.join(model.classes)}; input "
             f"{model.input_size} px."]
    if name == "standin" or info.get("recipe", {}).get("model") == "standin":
        r = info.get("recipe", {})
        lines.append(
            f"The stand-in is a {r.get('architecture', 'MobileNetV3-Small')} trained from "
            f"scratch on {r.get('n_images', '?')} synthetic adult faces (`{r.get('dataset')}`, "
            f"{r.get('size')} px, {r.get('epochs')} epochs, {r.get('optimizer')} lr "
            f"{r.get('lr')}, {r.get('augmentation')}; {r.get('split')}). Held-out adult "
            f"accuracy {info.get('heldout_accuracy', float('nan')):.3f} on "
            f"{info.get('n_heldout', '?')} images; trained in "
            f"{info.get('seconds', float('nan')):.0f} s on {info.get('trained_on', '?')} "
            f"(this run: cache {info.get('cache', '?')}). It stands in for a model pretrained "
            "mostly on adults; its numbers are the stand-in's, never HSEmotion's.")
    elif info.get("source") == "hsemotion":
        lines.append(f"HSEmotion `{info.get('name')}` from `{info.get('path')}` (blob "
                     f"{str(info.get('blob_id'))[:12]}, verified: {info.get('verified')}).")
        if info.get("class_note"):
            lines.append(f"This is an 8-class model: {info['class_note']} (contempt is not a "
                         "class of CAFE or NIMH-ChEFS).")
    lines.append(PAPER_MODEL_NOTE)
    return "\n\n".join(lines)


def predict_frame(model: TorchClassifier, faces: FaceSet, dataset: str,
                  restrict: bool = False) -> pd.DataFrame:
    """One row per image: ``dataset`` (page name), ``path``, ``subject_id``, ``gender``,
    ``label``, ``pred``, ``correct``, ``confidence`` (the predicted class's probability) and
    ``in_dataset_classes`` (False when the model answered a class the data set lacks).

    As in the paper, the model predicts over all its classes (``restrict=False``): a 7-class
    model's "surprise" for a NIMH-ChEFS face is a wrong answer
    (:func:`emo_lib.metrics.align_predictions`)."""
    frame = faces.manifest.frame
    classes = class_order(frame["label"])
    proba = model.predict_proba(faces.images)
    pred, _ = align_predictions(proba, model.classes, classes, restrict=restrict)
    out = frame[["path", "subject_id", "gender", "label"]].copy()
    out.insert(0, "dataset", dataset)
    out["pred"] = pred
    out["correct"] = out["pred"].to_numpy() == out["label"].to_numpy()
    out["confidence"] = proba.max(axis=1)
    out["in_dataset_classes"] = out["pred"].isin(classes)
    return out


def accuracy_by(preds: pd.DataFrame, by: Sequence[str] = ("dataset",),
                classes: Sequence[str] | None = None, pred_col: str = "pred") -> pd.DataFrame:
    """:func:`emo_lib.metrics.accuracy_table` of a :func:`predict_frame` (several data sets
    concatenated), grouped by ``by``; classes in the papers' order."""
    classes = list(classes) if classes is not None else class_order(preds["label"])
    return accuracy_table(preds["label"].to_numpy(), preds[pred_col].to_numpy(),
                          preds[list(by)], classes=classes)


def rates_figure(table: pd.DataFrame, group_col: str, **options: Any) -> Any:
    """:func:`emo_lib.metrics.counts_and_rates_figure` (kept as the notebooks' entry point)."""
    from .metrics import counts_and_rates_figure

    return counts_and_rates_figure(table, group_col, **options)


# --------------------------------------------------------------------------- paper tables


def _paper_n(dataset: str) -> dict[str, dict[str, int]]:
    key = {CAFE: "table1_cafe_counts", NIMH: "table2_nimh_counts"}[dataset]
    return paper.paper_value(f"{PAPER}.{key}")


def paper_accuracy_table(kind: str = "age") -> pd.DataFrame:
    """The paper's numbers as an :func:`accuracy_table`-shaped frame (no intervals), so the
    verdict functions can run on them.

    ``"age"``: Fig. 3's accuracies with Tables 1-2's totals as n (correct = round(acc * n));
    ``"gender"``: Tables 3-4's correct counts with Tables 1-2's gender rows as n.
    """
    rows = []
    for ds in (CAFE, NIMH):
        n = _paper_n(ds)
        if kind == "age":
            acc = paper.paper_value(f"{PAPER}.fig3_accuracy_pretrained.{PAPER_KEYS[ds]}")
            for c, a in acc.items():
                total = n["total"]["total" if c == OVERALL else c]
                rows.append({"dataset": ds, "class": c, "n": total,
                             "correct": int(round(a * total)), "accuracy": a})
        elif kind == "gender":
            key = {CAFE: "table3_cafe_correct_by_gender",
                   NIMH: "table4_nimh_correct_by_gender"}[ds]
            table = paper.paper_value(f"{PAPER}.{key}")
            for g in GENDERS:
                for c, (k, a) in table[g].items():
                    rows.append({"dataset": ds, "gender": g,
                                 "class": OVERALL if c == "total" else c,
                                 "n": n[g][c], "correct": k, "accuracy": a})
        else:
            raise ValueError(f"kind must be 'age' or 'gender', not {kind!r}")
    out = pd.DataFrame(rows)
    out["ci_low"] = out["ci_high"] = np.nan
    out.attrs.update(group_cols=["dataset"] + (["gender"] if kind == "gender" else []))
    return out


def _run_series(acc: pd.DataFrame, **where: Any) -> pd.DataFrame:
    sel = acc
    for col, value in where.items():
        sel = sel[sel[col] == value]
    return sel[sel["n"] > 0].set_index("class")


def fig3_comparison(acc: pd.DataFrame) -> pd.DataFrame:
    """Fig. 3 against this run: per data set and class, the paper's accuracy, this run's, the
    difference, this run's 95 % interval and whether the paper's value lies inside it."""
    parts = {}
    for ds in (CAFE, NIMH):
        run = _run_series(acc, dataset=ds)
        if run.empty:
            continue
        p = paper.paper_value(f"{PAPER}.fig3_accuracy_pretrained.{PAPER_KEYS[ds]}")
        t = paper.compare(p, run["accuracy"])
        t["n"] = run["n"].reindex(t.index)
        t["ci_low"], t["ci_high"] = run["ci_low"].reindex(t.index), run["ci_high"].reindex(t.index)
        t["paper inside CI"] = (t["paper"] >= t["ci_low"]) & (t["paper"] <= t["ci_high"])
        parts[ds] = t
    return pd.concat(parts, names=["dataset", "class"])


def gender_layout(acc: pd.DataFrame, dataset: str, ci: bool = False) -> pd.DataFrame:
    """Tables 3-4's layout: rows male/female, columns the classes and total, cells
    "correct (accuracy)" (with ``ci``: "correct (accuracy) [low, high]")."""
    sub = acc[(acc["dataset"] == dataset) & (acc["n"] > 0)]
    cells: dict[str, dict[str, str]] = {}
    for _, r in sub.iterrows():
        text = f"{int(r['correct'])} ({r['accuracy']:.3f})"
        if ci:
            text += f" [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
        col = "total" if r["class"] == OVERALL else r["class"]
        cells.setdefault(r["gender"], {})[col] = text
    frame = pd.DataFrame(cells).T
    cols = [c for c in class_order(sub["class"]) if c in frame.columns] + ["total"]
    rows = [g for g in GENDERS if g in frame.index] + sorted(set(frame.index) - set(GENDERS))
    return frame.reindex(index=rows, columns=cols)


def gender_comparison(acc: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Table 3 or 4 against this run, one row per (gender, class): the paper's correct count and
    accuracy, this run's n, correct and accuracy, the accuracy difference and this run's
    interval."""
    key = {CAFE: "table3_cafe_correct_by_gender", NIMH: "table4_nimh_correct_by_gender"}[dataset]
    table = paper.paper_value(f"{PAPER}.{key}")
    parts = {}
    for g in GENDERS:
        p = paper.split_pairs(table[g], ("correct", "accuracy")).rename(index={"total": OVERALL})
        run = _run_series(acc, dataset=dataset, gender=g)
        t = pd.DataFrame({"paper correct": p["correct"], "paper accuracy": p["accuracy"]})
        t = t.join(run[["n", "correct", "accuracy", "ci_low", "ci_high"]]
                   .rename(columns={"correct": "run correct", "accuracy": "run accuracy"}),
                   how="outer")
        t = t.reindex(list(dict.fromkeys([*p.index, *run.index])))
        t["paper correct"] = t["paper correct"].astype("Int64")
        t["difference"] = t["run accuracy"] - t["paper accuracy"]
        parts[g] = t
    return pd.concat(parts, names=["gender", "class"])


def gap_tests(acc: pd.DataFrame, group_col: str, a: Any, b: Any,
              paper_acc: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`emo_lib.metrics.compare_groups` (Fisher's exact test per class), with the paper's
    difference beside when ``paper_acc`` (a :func:`paper_accuracy_table`) is given."""
    out = compare_groups(acc, group_col, a, b)
    if paper_acc is not None:
        p = compare_groups(paper_acc, group_col, a, b)
        keys = [c for c in out.columns if c not in (
            "n_a", "correct_a", "accuracy_a", "n_b", "correct_b", "accuracy_b", "difference",
            "p_value")]
        out = out.merge(p[keys + ["difference"]].rename(columns={"difference":
                                                                  "paper difference"}),
                        on=keys, how="left")
    return out


# --------------------------------------------------------------------------- verdicts


def _fmt_p(p: float) -> str:
    return "n/a" if p is None or not np.isfinite(p) else (f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}")


def _direction_verdict(agrees: bool, p: float, alpha: float) -> str:
    if not agrees:
        return NOT_SUPPORTED
    return SUPPORTED if np.isfinite(p) and p < alpha else INCONCLUSIVE


def _all_verdict(direction: pd.Series, significant: pd.Series) -> str:
    """A claim about several classes: supported when each goes the paper's way significantly,
    inconclusive when each goes its way but not all significantly, partly supported when some
    but not all go its way significantly, else not supported."""
    if len(direction) == 0:
        return NOT_SUPPORTED
    if significant.all():
        return SUPPORTED
    if direction.all():
        return INCONCLUSIVE
    return PARTLY if significant.any() else NOT_SUPPORTED


def _verdicts(rows: list[dict[str, str]], keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=pd.Index(keys, name="key"), columns=VERDICT_COLUMNS)


def age_claims(acc: pd.DataFrame, alpha: float = 0.05,
               except_class: str = "happy") -> pd.DataFrame:
    """Fig. 3's claims (Section 3.2): CAFE's overall accuracy is lower than NIMH-ChEFS's; in
    every shared class but happy the gap is large (CAFE lower); happy's gap is the exception.

    Rules: overall and per-class gaps use Fisher's exact test; "large gaps" is supported when
    every shared class but ``except_class`` has CAFE lower with p < ``alpha``, inconclusive when
    CAFE is lower in all of them but not always significantly, partly supported when only some
    are significantly lower, else not supported; "happy is the
    exception" is supported when its absolute gap is the smallest of the shared classes.
    """
    overall = acc[acc["class"] == OVERALL].set_index("dataset")
    rows, keys = [], []
    if not {CAFE, NIMH} <= set(overall.index):
        raise ValueError(f"age_claims needs both {CAFE} and {NIMH} in the table")
    c, n = overall.loc[CAFE], overall.loc[NIMH]
    p = stats.fisher_exact([[c["correct"], c["n"] - c["correct"]],
                            [n["correct"], n["n"] - n["correct"]]])[1]
    diff = c["accuracy"] - n["accuracy"]
    rows.append({"claim": f"{CAFE} (children) has a lower overall accuracy than {NIMH} "
                          "(adolescents).",
                 "verdict": _direction_verdict(diff < 0, p, alpha),
                 "evidence": f"{c['accuracy']:.3f} vs {n['accuracy']:.3f} (difference "
                             f"{diff:+.3f}, Fisher p={_fmt_p(p)})"})
    keys.append("cafe_overall_lower")

    gaps = compare_groups(acc, "dataset", CAFE, NIMH)
    gaps = gaps[gaps["class"] != OVERALL_SHARED].set_index("class")
    others = gaps.drop(index=[except_class], errors="ignore")
    lower = others["difference"] < 0
    sig = lower & (others["p_value"] < alpha)
    verdict = _all_verdict(lower, sig)
    detail = "; ".join(f"{k} {r['difference']:+.3f} (p={_fmt_p(r['p_value'])})"
                       for k, r in others.iterrows())
    rows.append({"claim": f"In every shared class but {except_class}, {CAFE}'s accuracy is "
                          f"clearly lower than {NIMH}'s.",
                 "verdict": verdict,
                 "evidence": f"{CAFE} minus {NIMH}: {detail}; lower and significant in "
                             f"{int(sig.sum())} of {len(others)}"})
    keys.append("shared_gaps_large")

    if except_class in gaps.index and len(gaps) > 1:
        absgap = gaps["difference"].abs()
        smallest = absgap.idxmin()
        rows.append({"claim": f"{except_class} is the exception: its gap is the smallest of "
                              "the shared classes.",
                     "verdict": SUPPORTED if smallest == except_class else NOT_SUPPORTED,
                     "evidence": f"|gap| {except_class} {absgap[except_class]:.3f} "
                                 f"(p={_fmt_p(gaps.loc[except_class, 'p_value'])}); smallest: "
                                 f"{smallest} {absgap[smallest]:.3f}; others "
                                 f"{absgap.drop(except_class).min():.3f}-"
                                 f"{absgap.drop(except_class).max():.3f}"})
        keys.append("happy_exception")
    return _verdicts(rows, keys)


def paper_gender_exceptions(threshold: float = GENDER_GAP_THRESHOLD) -> dict[str, list[str]]:
    """Per data set, the classes whose male/female gap exceeds ``threshold`` in the paper's own
    Tables 3-4 (CAFE fear, NIMH-ChEFS neutral)."""
    p = paper_accuracy_table("gender")
    out = {}
    for ds in (CAFE, NIMH):
        sub = p[(p["dataset"] == ds) & (p["class"] != OVERALL)]
        wide = sub.pivot(index="class", columns="gender", values="accuracy")
        gap = (wide["male"] - wide["female"]).abs()
        out[ds] = [c for c in class_order(gap.index) if gap[c] > threshold + 1e-9]
    return out


def gender_claims(acc: pd.DataFrame, alpha: float = 0.05,
                  threshold: float = GENDER_GAP_THRESHOLD) -> pd.DataFrame:
    """Tables 3-4's claims (Section 3.3), per data set: male and female accuracies differ by at
    most ``threshold`` (the paper's 0.2) in every class but the paper's exception (CAFE fear
    0.226, NIMH-ChEFS neutral 0.274); the exception's gap exceeds it; overall accuracies differ
    little.

    Rules: "within 0.2 elsewhere" is supported when no other class's gap exceeds the threshold
    (the evidence lists the largest gap and its Fisher p); "the exception" when its gap exceeds
    the threshold with the paper's sign (inconclusive if p >= ``alpha``), else not supported;
    "overall" when the overall gap is within the threshold.
    """
    exceptions = paper_gender_exceptions(threshold)
    paper_gaps = compare_groups(paper_accuracy_table("gender"), "gender", "male", "female")
    gaps = compare_groups(acc, "gender", "male", "female")
    rows, keys = [], []
    for ds in (CAFE, NIMH):
        g = gaps[gaps["dataset"] == ds].set_index("class")
        if g.empty:
            continue
        cls = g.drop(index=[OVERALL_SHARED])
        exc = exceptions[ds]
        rest = cls.drop(index=exc, errors="ignore")
        big = rest[rest["difference"].abs() > threshold]
        worst = rest["difference"].abs().idxmax() if len(rest) else None
        rows.append({
            "claim": f"{ds}: male and female accuracies differ by at most {threshold} in every "
                     f"class but {', '.join(exc) or 'none'}.",
            "verdict": SUPPORTED if big.empty else NOT_SUPPORTED,
            "evidence": (f"largest other gap: {worst} {rest.loc[worst, 'difference']:+.3f} "
                         f"(male minus female, Fisher p={_fmt_p(rest.loc[worst, 'p_value'])})"
                         if worst is not None else "no other class")
                        + (f"; above {threshold}: {', '.join(big.index)}" if len(big) else "")})
        keys.append(f"{PAPER_KEYS[ds]}_small_gaps")
        pg = paper_gaps[paper_gaps["dataset"] == ds].set_index("class")
        for c in exc:
            if c not in cls.index:
                continue
            d, p = cls.loc[c, "difference"], cls.loc[c, "p_value"]
            same_sign = np.sign(d) == np.sign(pg.loc[c, "difference"])
            verdict = _direction_verdict(bool(abs(d) > threshold and same_sign), p, alpha)
            rows.append({
                "claim": f"{ds}: {c} is the exception, with a gap above {threshold} (paper "
                         f"{pg.loc[c, 'difference']:+.3f}, male minus female).",
                "verdict": verdict,
                "evidence": f"{c}: male {cls.loc[c, 'accuracy_a']:.3f}, female "
                            f"{cls.loc[c, 'accuracy_b']:.3f}, gap {d:+.3f} (Fisher "
                            f"p={_fmt_p(p)})"})
            keys.append(f"{PAPER_KEYS[ds]}_{c}_exception")
        ov = acc[(acc["dataset"] == ds) & (acc["class"] == OVERALL)].set_index("gender")
        if set(GENDERS) <= set(ov.index):
            m, f = ov.loc["male"], ov.loc["female"]
            p = stats.fisher_exact([[m["correct"], m["n"] - m["correct"]],
                                    [f["correct"], f["n"] - f["correct"]]])[1]
            d = m["accuracy"] - f["accuracy"]
            rows.append({
                "claim": f"{ds}: overall, male and female accuracies differ little (within "
                         f"{threshold}).",
                "verdict": SUPPORTED if abs(d) <= threshold else NOT_SUPPORTED,
                "evidence": f"male {m['accuracy']:.3f} vs female {f['accuracy']:.3f} "
                            f"({d:+.3f}, Fisher p={_fmt_p(p)})"})
            keys.append(f"{PAPER_KEYS[ds]}_overall_gender")
    return _verdicts(rows, keys)


def vggface2_note() -> str:
    """The VGGFace2 shares the paper cites, and its own note that the gender shares do not add
    up."""
    v = paper.paper_value(f"{PAPER}.vggface2_distribution")
    notes = paper.paper_notes(PAPER, "VGGFace2")
    return (f"VGGFace2, the pretraining set, as the paper cites it: ages 0-12 "
            f"{v['age_0_12']:.2%}, 13-17 {v['age_13_17']:.2%} of the images; male "
            f"{v['male']:.1%}, female {v['female']:.1%} (sum {v['male'] + v['female']:.1%}). "
            + " ".join(notes))


def claim_lines(verdicts: pd.DataFrame) -> str:
    """Markdown bullets, one sentence per claim."""
    return "\n".join(f"- **{r['claim']}** This run: *{r['verdict']}*: {r['evidence']}."
                     for _, r in verdicts.iterrows())


# --------------------------------------------------------------------------- LIME with a cache

#: Bump when the cached content or its meaning changes.
LIME_CACHE_VERSION = 1


def model_fingerprint(model: TorchClassifier) -> str:
    """A hash of what determines a model's outputs: classes, input size, normalisation and
    every tensor of its state dict (weights and buffers)."""
    h = hashlib.sha256(json.dumps([list(model.classes), model.input_size, list(model.mean),
                                   list(model.std)]).encode())
    for name, t in sorted(model.module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _lime_key(model_fp: str, image: np.ndarray, label: int, params: dict[str, Any]) -> str:
    h = hashlib.sha256(json.dumps({"v": LIME_CACHE_VERSION, "model": model_fp, "label": label,
                                   "shape": list(image.shape), **params},
                                  sort_keys=True).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()[:24]


def _load_lime(path: Any, index: int, k: int) -> LimeResult | None:
    try:
        with np.load(path) as z:
            local = [(int(f), float(w)) for f, w in z["local_exp"]]
            seg = z["segments"].astype(np.int64)
            top = top_positive(local, k)
            return LimeResult(index=index, label=int(z["label"]), segments=seg,
                              weights=z["weights"], local_exp=local,
                              intercept=float(z["intercept"]), score=float(z["score"]),
                              local_pred=float(z["local_pred"]), top_features=top,
                              top_mask=np.isin(seg, top), data=None,
                              n_evaluated=int(z["n_evaluated"]), seed=int(z["seed"]))
    except (OSError, ValueError, KeyError):
        return None  # damaged entry: explain again


def _save_lime(path: Any, r: LimeResult) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f, label=r.label, segments=r.segments.astype(np.int32), weights=r.weights,
                local_exp=np.asarray(r.local_exp, dtype=np.float64).reshape(-1, 2),
                intercept=r.intercept, score=r.score, local_pred=r.local_pred,
                n_evaluated=r.n_evaluated, seed=r.seed)


def explain_cached(model: TorchClassifier, images: np.ndarray, labels: Sequence[Any], *,
                   num_samples: int = 1000, num_features: int = 5, seed: int = 0,
                   batch_size: int = 256, segments: Sequence[np.ndarray] | None = None,
                   cache: bool = True, progress: bool = False) -> list[LimeResult]:
    """:func:`emo_lib.explain.explain_batch` with default quickshift superpixels, each image's
    result kept under ``cache_dir("lime")``, keyed by the model's weights
    (:func:`model_fingerprint`), the image's pixels, the explained class, ``num_samples``, the
    seed and the superpixel settings. The top-k mask is rebuilt from the stored weights, so
    ``num_features`` is not part of the key; ``batch_size`` only changes how many images go to
    the model at once. Two notebooks explaining the same image share one explanation."""
    images = np.asarray(images)
    if len(images) == 0:
        return []
    classes = list(model.classes)
    idx = [int(l) if isinstance(l, (int, np.integer)) else classes.index(l) for l in labels]
    side = min(images.shape[1:3])
    params = {"num_samples": int(num_samples), "seed": int(seed),
              "kernel_width": LIME_KERNEL_WIDTH, "quickshift": [default_kernel_size(side),
                                                                 QUICKSHIFT_MAX_DIST,
                                                                 QUICKSHIFT_RATIO]}
    folder = cache_dir("lime") if cache else None
    fp = model_fingerprint(model) if cache else ""
    paths = [folder / f"{_lime_key(fp, images[i], idx[i], params)}.npz" if folder else None
             for i in range(len(images))]
    results: list[LimeResult | None] = [
        _load_lime(p, i, num_features) if p is not None and p.exists() else None
        for i, p in enumerate(paths)]
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        new = explain_batch(model, images[todo], [idx[i] for i in todo],
                            num_samples=num_samples, num_features=num_features, seed=seed,
                            batch_size=batch_size,
                            segments=None if segments is None else [segments[i] for i in todo],
                            progress=progress)
        for i, r in zip(todo, new):
            r.index = i
            results[i] = r
            if paths[i] is not None:
                _save_lime(paths[i], r)
    log.info("explain_cached: %d of %d explanations from the cache", len(images) - len(todo),
             len(images))
    return results  # type: ignore[return-value]


# --------------------------------------------------------------------------- LIME selection


def lime_classes(classes: Sequence[str], include_happy: bool = False) -> list[str]:
    """The classes the paper draws LIME maps for: all but its ``excluded_classes`` (happy)."""
    excluded = [] if include_happy else paper.paper_value(f"{PAPER}.lime.excluded_classes")
    return [c for c in classes if c not in excluded]


def select_for_lime(preds: pd.DataFrame, group_cols: Sequence[str], classes: Sequence[str],
                    n_per_class: int) -> tuple[np.ndarray, pd.DataFrame]:
    """The first ``n_per_class`` correctly classified images of each (group..., class), in
    the data set's order (the paper: 10; fewer when fewer are correct).

    Returns the row positions in ``preds`` (in order) and a count table per cell: ``n_images``,
    ``n_correct``, ``n_used`` and ``short`` (fewer than ``n_per_class`` used)."""
    if n_per_class < 1:
        raise ValueError(f"images_per_class must be >= 1, got {n_per_class}")
    group_cols = list(group_cols)
    frame = preds.reset_index(drop=True)
    chosen, rows = [], []
    combos = frame[group_cols].drop_duplicates().sort_values(group_cols)
    for combo in combos.itertuples(index=False):
        in_group = np.ones(len(frame), bool)
        for col, v in zip(group_cols, combo):
            in_group &= (frame[col] == v).to_numpy()
        for c in classes:
            members = in_group & (frame["label"] == c).to_numpy()
            if not members.any():
                continue
            correct = np.flatnonzero(members & frame["correct"].to_numpy(bool))
            use = correct[:n_per_class]
            chosen.extend(use.tolist())
            rows.append({**dict(zip(group_cols, combo)), "class": c,
                         "n_images": int(members.sum()), "n_correct": len(correct),
                         "n_used": len(use), "short": len(use) < n_per_class})
    return np.sort(np.asarray(chosen, dtype=np.int64)), pd.DataFrame(rows)


def lime_counts_vs_paper(counts: pd.DataFrame) -> pd.DataFrame:
    """Images per map, the paper's (``lime.images_per_class``, or its listed exception such as
    CAFE male sad: 8) beside this run's ``n_used``, per cell of a :func:`select_for_lime`
    count table."""
    n_paper = paper.paper_value(f"{PAPER}.lime.images_per_class")
    exceptions = paper.paper_value(f"{PAPER}.lime.exceptions")
    group_cols = [c for c in counts.columns if c in ("dataset", "gender")]
    out = counts[group_cols + ["class", "n_correct", "n_used"]].copy()

    def paper_n(row: pd.Series) -> int:
        for e in exceptions:
            if "gender" in e and "gender" not in group_cols:
                continue  # a per-gender exception does not apply to maps pooled over gender
            if (PAPER_KEYS.get(row["dataset"]) == e.get("dataset") and row["class"] == e["class"]
                    and row.get("gender") == e.get("gender")):
                return int(e["images"])
        return int(n_paper)

    out.insert(len(group_cols) + 1, "paper", out.apply(paper_n, axis=1))
    out = out.rename(columns={"n_used": "this run", "n_correct": "correct (this run)"})
    out["difference"] = out["this run"] - out["paper"]
    return out.set_index(group_cols + ["class"])


@dataclass
class LimeRun:
    """LIME on the selected images: results, their rows of the prediction frame, images and
    landmarks (one per result), the aggregate maps and the count table."""

    results: list[LimeResult]
    rows: pd.DataFrame
    images: np.ndarray
    landmarks: np.ndarray
    agg: MaskAggregate
    counts: pd.DataFrame
    group_cols: list[str]


def run_lime(model: TorchClassifier, faces: Mapping[str, FaceSet], preds: pd.DataFrame,
             group_cols: Sequence[str], classes: Sequence[str], *, images_per_class: int,
             num_samples: int, num_features: int, batch_size: int, seed: int,
             cache: bool = True, progress: bool = False) -> LimeRun:
    """Select (:func:`select_for_lime`), explain (:func:`explain_cached`) and aggregate
    (:func:`emo_lib.explain.aggregate_masks`) the paper's LIME maps.

    ``faces`` maps page names (``preds["dataset"]``) to face sets; ``preds`` is their
    :func:`predict_frame` rows concatenated in the same order."""
    all_images = np.concatenate([faces[d].images for d in pd.unique(preds["dataset"])])
    all_lm = np.concatenate([faces[d].landmarks for d in pd.unique(preds["dataset"])])
    if len(all_images) != len(preds):
        raise ValueError(f"{len(preds)} prediction rows but {len(all_images)} face images: "
                         "concatenate predict_frame outputs in the order of `faces`")
    pos, counts = select_for_lime(preds, group_cols, classes, images_per_class)
    rows = preds.iloc[pos].reset_index(drop=True)
    images, landmarks = all_images[pos], all_lm[pos]
    results = explain_cached(model, images, rows["label"].tolist(), num_samples=num_samples,
                             num_features=num_features, seed=seed, batch_size=batch_size,
                             cache=cache, progress=progress)
    agg = aggregate_masks(results, rows["label"], rows["pred"], rows[list(group_cols)],
                          n_per_class=images_per_class, classes=list(classes), images=images)
    counts = counts.merge(agg.table[list(group_cols) + ["class", "n_empty_masks"]],
                          on=list(group_cols) + ["class"], how="left")
    return LimeRun(results, rows, images, landmarks, agg, counts, list(group_cols))


def region_area_shares(landmarks: np.ndarray, shape: tuple[int, int]) -> dict[str, float]:
    """Share of the image each region covers (what a uniformly spread map would put there)."""
    masks = region_masks(landmarks, shape)
    total = float(np.prod(shape))
    return {r: float(masks[r].sum() / total) for r in REGIONS}


def map_regions(lr: LimeRun) -> pd.DataFrame:
    """Region shares of every heat map (the mean landmarks of its images), the regions' areas
    and the enrichment share / area (1: as a uniform map; above 1: concentrated there)."""
    rows = []
    for key, heat in lr.agg.heatmaps.items():
        lm = lr.landmarks[lr.agg.used[key]].mean(axis=0)
        shares = region_shares(heat, lm)
        area = region_area_shares(lm, heat.shape)
        row = {**dict(zip(lr.group_cols + ["class"], key)), "n_used": len(lr.agg.used[key])}
        row.update({r: shares[r] for r in REGIONS})
        row.update({f"area_{r}": area[r] for r in REGIONS})
        row.update({f"enrichment_{r}": shares[r] / area[r] if area[r] else np.nan
                    for r in REGIONS})
        rows.append(row)
    return pd.DataFrame(rows)


def image_regions(lr: LimeRun) -> pd.DataFrame:
    """Region shares of each explained image's top-k mask (its own landmarks), with its rows'
    data set, gender and class (NaN shares for a mask with no positive superpixel)."""
    shares = [region_shares(r.top_mask, lm) for r, lm in zip(lr.results, lr.landmarks)]
    out = lr.rows[["dataset", "gender", "label", "path"]].rename(columns={"label": "class"})
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(shares)], axis=1)


def region_difference_test(per_image: pd.DataFrame, group_col: str, a: Any, b: Any,
                           strata: Sequence[str] = ("class",), n_perm: int = 2000,
                           seed: int = 0) -> tuple[pd.DataFrame, float, float]:
    """Do the region shares of groups ``a`` and ``b`` differ? Per stratum (e.g. class), the
    total-variation distance between the two groups' mean share vectors (half the summed
    absolute differences: 0 same, 1 disjoint); the statistic is its mean over strata with both
    groups; the p-value permutes ``group_col`` within strata (``n_perm`` times, seeded).

    Returns (per-stratum table, statistic, p-value). Images with empty masks are left out."""
    data = per_image.dropna(subset=list(REGIONS))
    data = data[data[group_col].isin([a, b])]
    strata = list(strata)
    blocks = []
    for key, sub in data.groupby(strata, sort=False):
        g = (sub[group_col] == a).to_numpy()
        if g.all() or not g.any():
            continue
        blocks.append((key if isinstance(key, tuple) else (key,), sub[list(REGIONS)]
                       .to_numpy(float), g))
    if not blocks:
        return pd.DataFrame(columns=strata + ["n_a", "n_b", "tv_distance"]), np.nan, np.nan

    def tv(x: np.ndarray, g: np.ndarray) -> float:
        return 0.5 * float(np.abs(x[g].mean(0) - x[~g].mean(0)).sum())

    observed = [tv(x, g) for _, x, g in blocks]
    stat = float(np.mean(observed))
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_perm):
        s = np.mean([tv(x, rng.permutation(g)) for _, x, g in blocks])
        hits += s >= stat - 1e-12
    p = (1 + hits) / (1 + n_perm)
    table = pd.DataFrame([{**dict(zip(strata, k)), "n_a": int(g.sum()), "n_b": int((~g).sum()),
                           "tv_distance": d} for (k, _, g), d in zip(blocks, observed)])
    return table, stat, p


# --------------------------------------------------------------------------- LIME verdicts


def _mean(frame: pd.DataFrame, col: str) -> float:
    return float(frame[col].mean()) if len(frame) else float("nan")


def lime_age_claims(maps: pd.DataFrame, per_image: pd.DataFrame, alpha: float = 0.05,
                    n_perm: int = 2000, seed: int = 0) -> pd.DataFrame:
    """The paper's reading of Fig. 4, tested on region shares (maps: :func:`map_regions` by
    data set; per_image: :func:`image_regions`).

    Rules (means over the classes both data sets have; p-values permute data-set labels of
    the per-image shares within class, see :func:`region_difference_test`):
    CAFE "spread over the whole face" -- CAFE puts more of its maps outside the named regions
    ("other") than NIMH-ChEFS; CAFE "little on the nose bridge" -- CAFE's glabella/nose
    enrichment is below 1 and below NIMH-ChEFS's; NIMH-ChEFS "eyes, brows, glabella, nose
    bridge" -- their combined share is above CAFE's and enriched (> 1); NIMH-ChEFS "mouth too,
    except neutral" -- every other class's mouth enrichment is above 1 and neutral's mouth share
    is the lowest (one of the two: partly supported). A direction that holds with p >= alpha is
    inconclusive.
    """
    c = maps[maps["dataset"] == CAFE].set_index("class")
    n = maps[maps["dataset"] == NIMH].set_index("class")
    shared = [k for k in c.index if k in n.index]
    if not shared:
        # Too few correct answers for any class to have a map in both data sets (a weak model,
        # tiny data): nothing to compare, which is a finding, not a crash.
        reason = ("no class has LIME maps in both data sets (too few correctly classified "
                  "images), so the maps cannot be compared")
        claims = ["influence spread over the whole face", "little influence on the nose bridge",
                  "concentrated on eyes, eyebrows, glabella and nose bridge",
                  "the mouth matters too, except for neutral"]
        rows = [{"claim": f"{ds}: {claim}.", "verdict": INCONCLUSIVE, "evidence": reason}
                for ds, claim in zip((CAFE, CAFE, NIMH, NIMH), claims)]
        return _verdicts(rows, ["cafe_spread", "cafe_little_nose", "nimh_upper_face",
                                "nimh_mouth_except_neutral"])
    c, n = c.loc[shared], n.loc[shared]
    rows, keys = [], []
    img = per_image[per_image["class"].isin(shared)]

    def perm_p(values: pd.Series) -> float:
        return _stratified_perm_p(values.to_numpy(float), (img["dataset"] == CAFE).to_numpy(),
                                  img["class"].to_numpy(), n_perm, seed)

    other_c, other_n = _mean(c, "other"), _mean(n, "other")
    p = perm_p(img["other"])
    rows.append({"claim": f"{CAFE}: influence spread over the whole face (more outside eyes, "
                          f"nose and mouth than {NIMH}).",
                 "verdict": _direction_verdict(other_c > other_n, p, alpha),
                 "evidence": f"share outside the named regions {other_c:.3f} vs {other_n:.3f} "
                             f"(permutation p={_fmt_p(p)})"})
    keys.append("cafe_spread")

    en_c, en_n = _mean(c, "enrichment_glabella_nose"), _mean(n, "enrichment_glabella_nose")
    p = perm_p(img["glabella_nose"])
    rows.append({"claim": f"{CAFE}: little influence on the nose bridge.",
                 "verdict": _direction_verdict(en_c < 1 and en_c < en_n, p, alpha),
                 "evidence": f"glabella/nose enrichment {en_c:.2f} ({CAFE}) vs {en_n:.2f} "
                             f"({NIMH}), shares {_mean(c, 'glabella_nose'):.3f} vs "
                             f"{_mean(n, 'glabella_nose'):.3f} (permutation p={_fmt_p(p)})"})
    keys.append("cafe_little_nose")

    upper_c = _mean(c, "eyes_brows") + _mean(c, "glabella_nose")
    upper_n = _mean(n, "eyes_brows") + _mean(n, "glabella_nose")
    area_n = _mean(n, "area_eyes_brows") + _mean(n, "area_glabella_nose")
    p = perm_p(img["eyes_brows"] + img["glabella_nose"])
    rows.append({"claim": f"{NIMH}: concentrated on eyes, eyebrows, glabella and nose bridge.",
                 "verdict": _direction_verdict(upper_n > upper_c and upper_n > area_n, p, alpha),
                 "evidence": f"eyes/brows + glabella/nose share {upper_n:.3f} vs {upper_c:.3f} "
                             f"({CAFE}); their area {area_n:.3f} (permutation p={_fmt_p(p)})"})
    keys.append("nimh_upper_face")

    nimh_all = maps[maps["dataset"] == NIMH].set_index("class")
    if "neutral" in nimh_all.index and len(nimh_all) > 1:
        rest = nimh_all.drop(index="neutral")
        enriched = rest["enrichment_mouth"] > 1
        lowest = nimh_all["mouth"].idxmin() == "neutral"
        verdict = SUPPORTED if enriched.all() and lowest else (
            PARTLY if enriched.all() or lowest else NOT_SUPPORTED)
        rows.append({"claim": f"{NIMH}: the mouth matters too, except for neutral.",
                     "verdict": verdict,
                     "evidence": "mouth enrichment " + ", ".join(
                         f"{k} {v:.2f}" for k, v in nimh_all["enrichment_mouth"].items())
                                 + f"; lowest mouth share: {nimh_all['mouth'].idxmin()}"})
        keys.append("nimh_mouth_except_neutral")
    return _verdicts(rows, keys)


def _stratified_perm_p(values: np.ndarray, is_a: np.ndarray, strata: np.ndarray,
                       n_perm: int, seed: int) -> float:
    """Two-sided permutation p-value of the mean over strata of (mean of a - mean of b),
    permuting the a/b labels within strata; NaN values are left out."""
    ok = np.isfinite(values)
    blocks = []
    for s in pd.unique(strata[ok]):
        m = ok & (strata == s)
        if is_a[m].any() and (~is_a[m]).any():
            blocks.append((values[m], is_a[m]))
    if not blocks:
        return float("nan")

    def gap(labels: list[np.ndarray]) -> float:
        return float(np.mean([v[g].mean() - v[~g].mean() for (v, _), g in zip(blocks, labels)]))

    observed = abs(gap([g for _, g in blocks]))
    rng = np.random.default_rng(seed)
    hits = sum(abs(gap([rng.permutation(g) for _, g in blocks])) >= observed - 1e-12
               for _ in range(n_perm))
    return (1 + hits) / (1 + n_perm)


def lime_gender_claims(per_image: pd.DataFrame, alpha: float = 0.05, n_perm: int = 2000,
                       seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """"No clear male/female difference in either data set", tested per data set with
    :func:`region_difference_test` (gender permuted within class). Supported when p >=
    ``alpha`` (no detectable difference), not supported otherwise. For scale, the evidence
    gives the CAFE-vs-NIMH-ChEFS distance of the same images (shared classes).

    Returns (verdicts, per-(data set, class) distance table)."""
    age_tab, age_stat, age_p = region_difference_test(per_image, "dataset", CAFE, NIMH,
                                                      ("class",), n_perm, seed)
    rows, keys, tables = [], [], []
    for ds in (CAFE, NIMH):
        sub = per_image[per_image["dataset"] == ds]
        if sub.empty:
            continue
        tab, stat, p = region_difference_test(sub, "gender", "male", "female", ("class",),
                                              n_perm, seed)
        tables.append(tab.assign(dataset=ds, comparison="male vs female"))
        verdict = NOT_SUPPORTED if np.isfinite(p) and p < alpha else (
            SUPPORTED if np.isfinite(p) else INCONCLUSIVE)
        rows.append({"claim": f"{ds}: no clear male/female difference in where the maps lie.",
                     "verdict": verdict,
                     "evidence": f"mean male-female distance of region shares {stat:.3f} "
                                 f"(permutation p={_fmt_p(p)}); {CAFE}-vs-{NIMH} distance "
                                 f"{age_stat:.3f} (p={_fmt_p(age_p)})"})
        keys.append(f"{PAPER_KEYS[ds]}_no_gender_difference")
    tables.append(age_tab.assign(dataset="both", comparison=f"{CAFE} vs {NIMH}"))
    table = pd.concat(tables, ignore_index=True)
    return _verdicts(rows, keys), table


# --------------------------------------------------------------------------- LIME stability


def map_stability(model: TorchClassifier, lr: LimeRun, seeds: Sequence[int],
                  n_images: int, *, num_samples: int, num_features: int, batch_size: int,
                  cache: bool = True, progress: bool = False) -> pd.DataFrame:
    """How much each map changes with LIME's sampling seed: per (group..., class), the first
    ``n_images`` images of the map are explained with every seed (superpixels shared);
    ``mask_iou``: mean pairwise Jaccard index of the per-image top-k masks across seeds;
    ``map_correlation``: mean pairwise Pearson correlation of the cell's heat maps (built from
    those images) across seeds; ``<region>_sd``: standard deviation across seeds of the map's
    region shares."""
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("stability needs at least two seeds")
    picks = {k: v[:n_images] for k, v in lr.agg.used.items()}
    pos = sorted({i for v in picks.values() for i in v})
    if not pos:
        return pd.DataFrame()
    images = lr.images[pos]
    labels = [lr.results[i].label for i in pos]
    segs = [lr.results[i].segments for i in pos]
    runs = {s: explain_cached(model, images, labels, num_samples=num_samples,
                              num_features=num_features, seed=s, batch_size=batch_size,
                              segments=segs, cache=cache, progress=progress) for s in seeds}
    at = {p: j for j, p in enumerate(pos)}
    rows = []
    for key, members in picks.items():
        js = [at[i] for i in members]
        ious = [mask_iou(runs[a][j].top_mask, runs[b][j].top_mask)
                for j in js for a, b in combinations(seeds, 2)]
        heats = {s: np.mean([runs[s][j].top_mask for j in js], axis=0) for s in seeds}
        corr = []
        for a, b in combinations(seeds, 2):
            x, y = heats[a].ravel(), heats[b].ravel()
            corr.append(float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0
                        else float(np.array_equal(x, y)))
        lm = lr.landmarks[members].mean(axis=0)
        shares = pd.DataFrame([region_shares(heats[s], lm) for s in seeds])
        row = {**dict(zip(lr.group_cols + ["class"], key)), "n_images": len(js),
               "n_seeds": len(seeds), "mask_iou": float(np.mean(ious)),
               "map_correlation": float(np.mean(corr))}
        row.update({f"{r}_sd": float(shares[r].std(ddof=1)) for r in REGIONS})
        rows.append(row)
    return pd.DataFrame(rows)


def heatmap_figure(lr: LimeRun, classes: Sequence[str], columns: Sequence[tuple]) -> Any:
    """:func:`emo_lib.explain.draw_heatmaps` (red on the mean face, yellow simplified map), with
    the panels of a class a group does not have at all labelled so (draw_heatmaps says "no
    correct images" for any empty cell)."""
    from .explain import draw_heatmaps

    fig = draw_heatmaps(lr.agg, classes=list(classes), columns=list(columns))
    counts = lr.counts.set_index(lr.group_cols + ["class"])["n_images"]
    n_cols = 2 * len(columns)
    for r, cls in enumerate(classes):
        for c, combo in enumerate(columns):
            key = tuple(combo) + (cls,)
            if counts.get(key, 0) == 0:
                ax = fig.axes[r * n_cols + 2 * c]
                for text in ax.texts:
                    text.set_text("class not in\nthis data set")
    return fig


def region_share_figure(maps: pd.DataFrame, group_cols: Sequence[str]) -> Any:
    """Enrichment (share of the map / share of the image) of each named region per map: 1 is
    what a map spread uniformly over the image would give."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    group_cols = list(group_cols)
    labels = [" / ".join(str(r[c]) for c in group_cols + ["class"]) for _, r in maps.iterrows()]
    colours = sns.color_palette("deep", len(NAMED_REGIONS))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(maps) + 2.5), 3.6))
    x = np.arange(len(maps))
    width = 0.8 / len(NAMED_REGIONS)
    for j, (r, colour) in enumerate(zip(NAMED_REGIONS, colours)):
        ax.bar(x - 0.4 + width * (j + 0.5), maps[f"enrichment_{r}"].to_numpy(float),
               width * 0.95, color=colour, label=r)
    ax.axhline(1.0, color="black", lw=1, ls="--", label="uniform map")
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("share of map / share of image")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Where the LIME maps concentrate, by face region", fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- additional training


def label_indices(labels: Sequence[str], model: TorchClassifier) -> np.ndarray:
    """Class names -> indices into ``model.classes`` (a clear error for an unknown class)."""
    classes = list(model.classes)
    missing = sorted(set(labels) - set(classes))
    if missing:
        raise ValueError(f"classes {missing} are not outputs of the model ({classes}); "
                         "the model cannot be trained on them")
    return np.array([classes.index(c) for c in labels], dtype=np.int64)


def fine_tune(model: TorchClassifier, images: np.ndarray, labels: Sequence[str],
              config: FitConfig, seed: int = 0, progress: bool = False
              ) -> tuple[TorchClassifier, FitResult]:
    """A fresh copy of ``model`` (``copy.deepcopy`` of its module: the original is untouched)
    trained on ``images`` for ``config.epochs`` epochs, no validation split (as the paper)."""
    tuned = dataclasses.replace(model, module=copy.deepcopy(model.module),
                                info={**model.info, "fine_tuned": True})
    y = label_indices(list(labels), model)
    result = fit(tuned, ArrayDataset(np.ascontiguousarray(images), y), None, config=config,
                 seed=seed, progress=progress)
    return tuned, result


def subject_cv_predictions(model: TorchClassifier, faces: FaceSet, config: FitConfig, k: int,
                           seed: int = 0, progress: bool = False
                           ) -> tuple[np.ndarray, pd.DataFrame]:
    """Subject-disjoint k-fold fine-tuning (:func:`emo_lib.train.grouped_folds` on
    ``subject_id``: no child in both parts): each fold fine-tunes a fresh copy of ``model`` on
    the training subjects and predicts the test subjects. Returns the out-of-fold predicted
    class of every image and one row per fold (sizes, subjects, accuracy, seconds)."""
    frame = faces.manifest.frame
    labels = frame["label"].to_numpy(object)
    folds = grouped_folds(labels, frame["subject_id"].astype(str).to_numpy(), k, seed)
    oof = np.empty(len(frame), dtype=object)
    rows = []
    for f, (tr, te) in enumerate(tqdm(folds, desc="subject folds", disable=not progress)):
        subjects_tr = set(frame["subject_id"].iloc[tr].astype(str))
        subjects_te = set(frame["subject_id"].iloc[te].astype(str))
        if subjects_tr & subjects_te:
            raise AssertionError(f"fold {f}: subjects in both parts")
        tuned, result = fine_tune(model, faces.images[tr], labels[tr], config, seed + f,
                                  progress)
        pred = np.asarray(tuned.classes, dtype=object)[
            tuned.predict_proba(faces.images[te]).argmax(1)]
        oof[te] = pred
        rows.append({"fold": f, "n_train": len(tr), "n_test": len(te),
                     "subjects_train": len(subjects_tr), "subjects_test": len(subjects_te),
                     "accuracy": float((pred == labels[te]).mean()),
                     "seconds": float(result.history["seconds"].sum())})
        del tuned
    return oof, pd.DataFrame(rows)


def mcnemar_p(before_correct: np.ndarray, after_correct: np.ndarray) -> float:
    """Exact McNemar test (two-sided binomial test on the discordant pairs) for paired
    before/after answers on the same images; 1.0 when nothing changed."""
    b = int(np.sum(before_correct & ~after_correct))
    c = int(np.sum(~before_correct & after_correct))
    return 1.0 if b + c == 0 else float(stats.binomtest(c, b + c, 0.5).pvalue)


def paired_changes(preds: pd.DataFrame, before: str, after: str,
                   classes: Sequence[str] | None = None) -> pd.DataFrame:
    """Per class and overall: accuracy with predictions ``before`` and ``after`` (columns of
    ``preds``), the change, images fixed / broken, and the exact McNemar p-value."""
    classes = list(classes) if classes is not None else class_order(preds["label"])
    truth = preds["label"].to_numpy(object)
    ok_b = preds[before].to_numpy(object) == truth
    ok_a = preds[after].to_numpy(object) == truth
    rows = []
    for c in [*classes, OVERALL]:
        m = np.ones(len(truth), bool) if c == OVERALL else truth == c
        if not m.any():
            continue
        rows.append({"class": c, "n": int(m.sum()), "before": float(ok_b[m].mean()),
                     "after": float(ok_a[m].mean()),
                     "change": float(ok_a[m].mean() - ok_b[m].mean()),
                     "fixed": int((~ok_b[m] & ok_a[m]).sum()),
                     "broken": int((ok_b[m] & ~ok_a[m]).sum()),
                     "p_value": mcnemar_p(ok_b[m], ok_a[m])})
    return pd.DataFrame(rows).set_index("class")


def stage_table(preds: pd.DataFrame, stages: Mapping[str, str],
                classes: Sequence[str] | None = None) -> pd.DataFrame:
    """One :func:`accuracy_table` with a ``stage`` column: ``stages`` maps a stage's name
    ("before", "after (paper protocol)"...) to its prediction column in ``preds``."""
    parts = []
    for name, col in stages.items():
        t = accuracy_by(preds.assign(stage=name), by=("stage",), classes=classes, pred_col=col)
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update(parts[0].attrs)
    return out


def training_comparison(changes: Mapping[str, pd.DataFrame], figure: str) -> pd.DataFrame:
    """Fig. 5 or 6 (``figure`` = ``"fig5"``/``"fig6"``) against this run: the paper's before and
    after beside this run's (``changes``: stage name -> :func:`paired_changes`; the first one's
    ``before`` is this run's before). Paper nulls (values only in the figure) show NaN."""
    key = {"fig5": "fig5_cafe_after_additional_training",
           "fig6": "fig6_nimh_after_additional_training"}[figure]
    p = paper.paper_value(f"{PAPER}.{key}")
    first = next(iter(changes.values()))
    order = list(dict.fromkeys([*first.index, *p["after"].keys()]))
    table = paper.compare(p["before"], first["before"], order=order,
                          labels=("paper before", "run before"))
    table = table.rename(columns={"difference": "before difference"})
    for stage, ch in changes.items():
        t = paper.compare(p["after"], ch["after"], order=order,
                          labels=("paper after", f"run {stage}"))
        if "paper after" not in table:
            table["paper after"] = t["paper after"]
        table[f"run {stage}"] = t[f"run {stage}"]
        table[f"{stage} difference"] = t["difference"]
    return table


def training_claims(cafe_paper: pd.DataFrame, cafe_cv: pd.DataFrame | None,
                    nimh_paper: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Figs. 5-6's claims, from :func:`paired_changes` tables (McNemar p-values): training on
    CAFE lifts CAFE's accuracy, greatly in angry, neutral and sad; (beyond the paper) how much
    of the gain survives subject-disjoint evaluation; NIMH-ChEFS's accuracy then falls overall
    and greatly in angry and sad. A change the paper's way with p >= ``alpha`` is
    inconclusive; a claim about several classes is supported when each is significant."""
    fig5 = paper.paper_value(f"{PAPER}.fig5_cafe_after_additional_training")
    fig6 = paper.paper_value(f"{PAPER}.fig6_nimh_after_additional_training")
    rows, keys = [], []
    o = cafe_paper.loc[OVERALL]
    rows.append({"claim": f"Training on {CAFE} lifts its accuracy (paper "
                          f"{fig5['before']['overall']:.3f} to {fig5['after']['overall']:.3f}).",
                 "verdict": _direction_verdict(o["change"] > 0, o["p_value"], alpha),
                 "evidence": f"{o['before']:.3f} to {o['after']:.3f} on the same images "
                             f"({o['change']:+.3f}, McNemar p={_fmt_p(o['p_value'])})"})
    keys.append("cafe_gain")
    named = [c for c in fig5["after"] if c != OVERALL and fig5["after"][c] is not None
             and c in cafe_paper.index]
    sub = cafe_paper.loc[named]
    up = (sub["change"] > 0) & (sub["p_value"] < alpha)
    rows.append({"claim": f"{CAFE} gains greatly in {', '.join(named)} (the classes the paper "
                          "names).",
                 "verdict": _all_verdict(sub["change"] > 0, up),
                 "evidence": "; ".join(f"{c} {r['change']:+.3f} (p={_fmt_p(r['p_value'])})"
                                       for c, r in sub.iterrows())
                             + f"; median change over all classes "
                               f"{cafe_paper.drop(index=OVERALL)['change'].median():+.3f}"})
    keys.append("cafe_named_gains")
    if cafe_cv is not None:
        gain_paper = o["change"]
        gain_cv = cafe_cv.loc[OVERALL, "change"]
        share = gain_cv / gain_paper if gain_paper else float("nan")
        rows.append({"claim": "(Beyond the paper) The gain survives on children the model was "
                              "not trained on (subject-disjoint folds).",
                     "verdict": _direction_verdict(gain_cv > 0, cafe_cv.loc[OVERALL, "p_value"],
                                                   alpha),
                     "evidence": f"gain {gain_cv:+.3f} held out vs {gain_paper:+.3f} on the "
                                 f"training images: {share:.0%} survives (McNemar "
                                 f"p={_fmt_p(cafe_cv.loc[OVERALL, 'p_value'])})"})
        keys.append("gain_survives")
    n = nimh_paper.loc[OVERALL]
    rows.append({"claim": f"{NIMH}'s accuracy falls after training on {CAFE} (never trained "
                          "on).",
                 "verdict": _direction_verdict(n["change"] < 0, n["p_value"], alpha),
                 "evidence": f"{n['before']:.3f} to {n['after']:.3f} ({n['change']:+.3f}, "
                             f"McNemar p={_fmt_p(n['p_value'])})"})
    keys.append("nimh_falls")
    # The paper singles out the classes that fell "greatly" (angry, sad): those whose drop
    # exceeds the largest rise in its Fig. 6.
    change6 = {c: fig6["after"][c] - fig6["before"][c] for c in fig6["after"]
               if c != OVERALL and fig6["after"][c] is not None}
    largest_rise = max([v for v in change6.values() if v > 0], default=0.0)
    drops = [c for c, v in change6.items() if -v > largest_rise and c in nimh_paper.index]
    sub = nimh_paper.loc[drops]
    down = sub["change"] < 0
    sig = down & (sub["p_value"] < alpha)
    rows.append({"claim": f"{NIMH} falls greatly in {', '.join(drops)} (paper: "
                          + ", ".join(f"{c} {fig6['before'][c]:.3f} to {fig6['after'][c]:.3f}"
                                      for c in drops) + ").",
                 "verdict": _all_verdict(down, sig),
                 "evidence": "; ".join(f"{c} {r['before']:.3f} to {r['after']:.3f} "
                                       f"(p={_fmt_p(r['p_value'])})" for c, r in sub.iterrows())})
    keys.append("nimh_angry_sad_drop")
    return _verdicts(rows, keys)


__all__ = [
    "CAFE", "NIMH", "GENDERS", "LimeRun", "PAPER_KEYS", "accuracy_by", "age_claims",
    "claim_lines", "class_order", "explain_cached", "fig3_comparison", "fine_tune",
    "gap_tests", "gender_claims", "gender_comparison", "gender_layout", "heatmap_figure",
    "image_regions",
    "label_indices", "lime_age_claims", "lime_classes", "lime_counts_vs_paper",
    "lime_gender_claims", "load_faces",
    "map_regions", "map_stability", "mcnemar_p", "model_fingerprint", "model_note",
    "paired_changes", "paper_accuracy_table", "paper_gender_exceptions", "predict_frame",
    "rates_figure",
    "region_area_shares", "region_difference_test", "region_share_figure", "run_lime",
    "select_for_lime", "stage_table", "subject_cv_predictions", "training_claims",
    "training_comparison", "vggface2_note",
]
