"""Noh & Lim's pages once per seed, in one execution: what a seed changes, the work done per
seed, and the claims per seed that ``Run.claims`` turns into verdicts with their stability.

What a seed changes on paper 1's pages (and what it does not):

- the stand-in's training (its initialisation, its draw of synthetic adults, its split and
  batch order): each seed is another "model pretrained mostly on adults", cached per seed and
  shared by every page; a fixed pretrained model (HSEmotion, fer, a Keras file) does not
  depend on the seed, so it is loaded once and shared by every seed;
- LIME's sampling of perturbed images and the permutation tests (the LIME pages);
- the fine-tuning's batch order and the subject-disjoint folds (the additional-training page);
- the composition stand-ins' training (the explanation page, :mod:`.explanation`).

The data sets do not: the children's and adolescents' images are one draw (the page's
``seed``), as the paper's are one set of photographs; they are loaded once and shared.

Each function returns ``{seed: ...}`` in the order of ``seeds``; the first seed's results are
the ones a page draws. Not here: the rules (:mod:`.claims`), stability labels
(:mod:`emo_lib.seeds`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

from ..faces import FaceSet
from ..classifier import TorchClassifier
from ..seeds import check_seeds, per_seed
from .accuracy import accuracy_by, paper_accuracy_table
from .claims import (
    age_claims, finish_claims, gender_claims, lime_age_claims, lime_gender_claims,
    paper_not_testable, training_claims,
)
from .lime_maps import LimeRun, run_lime
from .lime_regions import image_regions, map_regions
from .names import CAFE, NIMH
from .setup import load_faces, model_note, predict_all, predict_frame
from .training import (
    SURVIVING_SHARE, fine_tune, gain_share_test, paired_changes, paper_changes,
    subject_cv_predictions,
)

#: Models whose weights depend on the seed (trained here); every other model is fixed.
SEEDED_MODELS: tuple[str, ...] = ("standin",)
#: What a seed changes, by page kind, beyond the model (for :func:`seed_note`).
SEED_CHANGES: dict[str, tuple[str, ...]] = {
    "accuracy": (),
    "lime": ("LIME's sampling of perturbed images", "the permutation tests"),
    "training": ("the fine-tuning's batch order", "the subject-disjoint folds"),
    "explanation": ("the composition stand-ins' training (their pools of synthetic faces, "
                    "split, initialisation and batch order)",),
}


def seeded_options(model: str, options: Mapping[str, Any] | None, seed: int) -> dict[str, Any]:
    """``options`` for loading ``model`` with ``seed``: the stand-in trains with it (unless
    the options fix a seed of their own); other models take no seed."""
    out = dict(options or {})
    if model in SEEDED_MODELS:
        out.setdefault("seed", int(seed))
    return out


def model_takes_seed(model: str, options: Mapping[str, Any] | None) -> bool:
    """Whether the page's seeds change the model (a stand-in whose options fix no seed)."""
    return model in SEEDED_MODELS and "seed" not in (options or {})


def seed_note(model: str, options: Mapping[str, Any] | None, seeds: Sequence[int],
              kind: str) -> str:
    """The sentence a page shows under its parameters: which seeds, what each changes on
    this page, what it does not."""
    if kind not in SEED_CHANGES:
        raise ValueError(f"kind must be one of {list(SEED_CHANGES)}, not {kind!r}")
    seeds = check_seeds(list(seeds))
    changes = (["the stand-in's training (initialisation, synthetic adults drawn, split, "
                "batch order)"] if model_takes_seed(model, options) else [])
    changes += list(SEED_CHANGES[kind])
    fixed = "" if model_takes_seed(model, options) else \
        f" The model (`{model}`) is fixed: the seed does not change it."
    if not changes:
        what = "nothing on this page depends on the seed, so every seed gives the same claims"
    else:
        what = "a seed changes " + (", ".join(changes[:-1]) + " and " + changes[-1]
                                    if len(changes) > 1 else changes[0])
    head = (f"**Seeds** {', '.join(map(str, seeds))}: the claims are computed once per seed "
            f"(figures and tables from seed {seeds[0]})" if len(seeds) > 1 else
            f"**Seed** {seeds[0]} (one seed: how stable the verdicts are is not measured; "
            "`emo-book build --seeds 0,1,2` measures it)")
    return (f"{head}; {what}.{fixed} The data sets are one draw (parameter `seed`), as the "
            "paper's are one set of photographs.")


def setup_seeds(run: Any, *, model: str, model_options: Mapping[str, Any] | None,
                datasets: Mapping[str, tuple[str, str | None, Mapping[str, Any] | None]],
                image_size: int, seed: int, seeds: Sequence[int], kind: str,
                progress: bool = False
                ) -> tuple[dict[int, TorchClassifier], dict[str, FaceSet]]:
    """:func:`emo_lib.noh2023.setup` with one model per seed: the model for each seed
    (:func:`seeded_options`; a fixed model loaded once and shared), each data set through the
    face pipeline once (drawn with ``seed``), the provenance banner, the first seed's model
    note and :func:`seed_note`. Returns ({seed: model}, {name: FaceSet})."""
    from ..book.report import show_markdown
    from ..models import load_model

    seeds = check_seeds(list(seeds))
    device = str(run.device)

    def load(s: int) -> TorchClassifier:
        options = seeded_options(model, model_options, s)
        if model == "standin":   # it draws and trains on first use: bars only when asked for
            options.setdefault("progress", progress)
        return load_model(model, device=device, **options)

    if model_takes_seed(model, model_options):
        nets = per_seed(seeds, load, progress=progress, desc="models")
    else:
        shared = load(seeds[0])
        nets = {s: shared for s in seeds}
    first = nets[seeds[0]]
    faces = {name: load_faces(ds, root, options, size=first.input_size, image_size=image_size,
                              seed=seed, device=device, progress=progress)
             for name, (ds, root, options) in datasets.items()}
    run.banner(*(f.manifest for f in faces.values()))
    show_markdown(model_note(first, model))
    show_markdown(seed_note(model, model_options, seeds, kind))
    return nets, faces


def predictions_by_seed(nets: Mapping[int, TorchClassifier], faces: Mapping[str, FaceSet]
                        ) -> dict[int, pd.DataFrame]:
    """:func:`predict_all` per seed, computed once per distinct model (a fixed model shared by
    every seed predicts once)."""
    done: dict[int, pd.DataFrame] = {}
    for net in nets.values():
        if id(net) not in done:
            done[id(net)] = predict_all(net, faces)
    return {s: done[id(net)] for s, net in nets.items()}


def age_claims_by_seed(preds: Mapping[int, pd.DataFrame], alpha: float = 0.05
                       ) -> dict[int, pd.DataFrame]:
    """Fig. 3's claims (:func:`age_claims`) per seed, each with the same rule on the paper's
    numbers beside (:func:`finish_claims`)."""
    own = age_claims(paper_accuracy_table("age"), alpha=alpha)
    return {s: finish_claims(age_claims(accuracy_by(p, by=("dataset",)), alpha=alpha), own)
            for s, p in preds.items()}


def gender_claims_by_seed(preds: Mapping[int, pd.DataFrame], alpha: float = 0.05,
                          overall_margin: float = 0.1) -> dict[int, pd.DataFrame]:
    """Tables 3-4's claims (:func:`gender_claims`) per seed, the paper's beside."""
    own = gender_claims(paper_accuracy_table("gender"), alpha=alpha,
                        overall_margin=overall_margin)
    return {s: finish_claims(gender_claims(accuracy_by(p, by=("dataset", "gender")),
                                           alpha=alpha, overall_margin=overall_margin), own)
            for s, p in preds.items()}


def lime_by_seed(nets: Mapping[int, TorchClassifier], faces: Mapping[str, FaceSet],
                 preds: Mapping[int, pd.DataFrame], group_cols: Sequence[str],
                 classes: Sequence[str], *, progress: bool = False, **lime_options: Any
                 ) -> dict[int, LimeRun]:
    """:func:`run_lime` per seed: that seed's model and predictions, LIME sampled with that
    seed (``lime_options``: images_per_class, num_samples, num_features, batch_size,
    segmentation)."""
    return per_seed(list(nets), lambda s: run_lime(
        nets[s], faces, preds[s], group_cols, classes, seed=s, progress=progress,
        **lime_options), progress=progress, desc="LIME per seed")


def lime_age_claims_by_seed(runs: Mapping[int, LimeRun], alpha: float = 0.05,
                            n_perm: int = 2000) -> dict[int, pd.DataFrame]:
    """Fig. 4's claims (:func:`lime_age_claims`) per seed (permutations seeded with it); the
    paper's column *not testable* (its evidence is the figure)."""
    out = {}
    for s, lr in runs.items():
        mine = lime_age_claims(map_regions(lr), image_regions(lr), alpha=alpha, n_perm=n_perm,
                               seed=s)
        out[s] = finish_claims(mine, paper_not_testable(
            mine, "the paper's evidence is Fig. 4, read by eye"))
    return out


def lime_gender_claims_by_seed(runs: Mapping[int, LimeRun], alpha: float = 0.05,
                               n_perm: int = 2000, margin: float = 0.1
                               ) -> tuple[dict[int, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Figs. 7-8's claim (:func:`lime_gender_claims`) per seed; with the first seed's distance
    and equivalence tables (what the page shows)."""
    out, first = {}, None
    for s, lr in runs.items():
        mine, distances, equivalence = lime_gender_claims(image_regions(lr), alpha=alpha,
                                                          n_perm=n_perm, seed=s, margin=margin)
        out[s] = finish_claims(mine, paper_not_testable(
            mine, "the paper's evidence is Figs. 7-8, read by eye"))
        if first is None:
            first = (distances, equivalence)
    assert first is not None
    return out, first[0], first[1]


@dataclass
class TrainingRun:
    """One seed's additional training: predictions before and after (``cafe``: ``pred``,
    ``paper_protocol`` and, with folds, ``subject_cv``; ``nimh``: ``pred``,
    ``paper_protocol``), the training history, the subject folds, the paired changes and the
    gain-share test."""

    cafe: pd.DataFrame
    nimh: pd.DataFrame
    history: pd.DataFrame
    folds: pd.DataFrame | None
    stages: dict[str, str]
    changes_cafe: dict[str, pd.DataFrame]
    changes_nimh: pd.DataFrame
    gain: dict[str, float] | None


def train_once(net: TorchClassifier, faces: Mapping[str, FaceSet], config: Any, *, folds: int,
               seed: int, surviving_share: float = SURVIVING_SHARE, progress: bool = False
               ) -> TrainingRun:
    """Figs. 5-6 for one seed: fine-tune a copy of ``net`` on every CAFE image (the paper's
    protocol) and score CAFE and NIMH-ChEFS; with ``folds``, subject-disjoint fine-tuning on
    CAFE (:func:`subject_cv_predictions`); the paired changes and the gain-share test."""
    cafe = predict_frame(net, faces[CAFE], CAFE)
    nimh = predict_frame(net, faces[NIMH], NIMH)
    tuned, history = fine_tune(net, faces[CAFE].images, cafe["label"], config, seed=seed,
                               progress=progress)
    cafe["paper_protocol"] = predict_frame(tuned, faces[CAFE], CAFE)["pred"]
    nimh["paper_protocol"] = predict_frame(tuned, faces[NIMH], NIMH)["pred"]
    del tuned
    stages = {"before": "pred", "after (paper protocol)": "paper_protocol"}
    fold_table = None
    if folds:
        cafe["subject_cv"], fold_table = subject_cv_predictions(
            net, faces[CAFE], config, folds, seed=seed, progress=progress)
        stages["after (subject-disjoint)"] = "subject_cv"
    changes_cafe = {name: paired_changes(cafe, "pred", col)
                    for name, col in stages.items() if col != "pred"}
    gain = (gain_share_test(cafe, "pred", "paper_protocol", "subject_cv",
                            share=surviving_share) if folds else None)
    return TrainingRun(cafe, nimh, history.history, fold_table, stages, changes_cafe,
                       paired_changes(nimh, "pred", "paper_protocol"), gain)


def training_by_seed(nets: Mapping[int, TorchClassifier], faces: Mapping[str, FaceSet],
                     config: Any, *, folds: int, surviving_share: float = SURVIVING_SHARE,
                     progress: bool = False) -> dict[int, TrainingRun]:
    """:func:`train_once` per seed (that seed's model, fine-tuned and folded with it)."""
    return per_seed(list(nets), lambda s: train_once(
        nets[s], faces, config, folds=folds, seed=s, surviving_share=surviving_share,
        progress=progress), progress=progress, desc="training per seed")


def training_claims_by_seed(runs: Mapping[int, TrainingRun], alpha: float = 0.05
                            ) -> dict[int, pd.DataFrame]:
    """Figs. 5-6's claims (:func:`training_claims`) per seed, the paper's beside."""
    own = training_claims(paper_changes("fig5"), None, paper_changes("fig6"), alpha=alpha)
    return {s: finish_claims(training_claims(r.changes_cafe["after (paper protocol)"], r.gain,
                                             r.changes_nimh, alpha=alpha), own)
            for s, r in runs.items()}


__all__ = ["SEEDED_MODELS", "SEED_CHANGES", "TrainingRun", "age_claims_by_seed",
           "gender_claims_by_seed", "lime_age_claims_by_seed", "lime_by_seed",
           "lime_gender_claims_by_seed", "model_takes_seed", "predictions_by_seed",
           "seed_note", "seeded_options", "setup_seeds", "train_once", "training_by_seed",
           "training_claims_by_seed"]
