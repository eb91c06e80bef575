"""Jeong & Kim's pages once per training seed, in one execution: what a training seed changes,
every seed's training units handed to the executor together, and the claims per seed that
``Run.claims`` turns into verdicts with their stability (:mod:`emo_lib.seeds`).

The meaning of the two seeds is paper 1's (:mod:`emo_lib.noh2023.seeded`):

- ``seed``: the data set's draw (a synthetic set is one draw, as the paper's 28,000 photos are
  one set), loaded once and shared by every training seed;
- ``seeds``: the training seeds. A training seed draws the stratified folds, each fold's
  validation split, the new layers' initialisation, the batch order and Algorithm 1's
  transformed copies (:func:`emo_lib.jeong2021.cells.cell_units` keys each unit by it). The
  synthetic-face pretraining (its own ``pretraining`` seed) is shared by every training seed.

With the default ``seeds = [0]`` and ``seed = 0`` a page trains exactly the units it trained
before it had ``seeds`` (same keys), since the training seed then equals the data seed that
used to seed the folds and the training. Units shared across pages (Table 4's baselines are
the sweep's cells, Fig. 5's proposed B0 point is Table 4's) stay shared seed by seed: their
keys hold the training seed and nothing page-specific.

Not here: the grids (:mod:`.cells`), which grid a page trains (:mod:`.plan`), the rules
(:mod:`.claims`).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..seeds import MEASURE_COMMAND, check_seeds
from ..train import FitConfig
from ..train.crossval import data_fingerprint
from ..train.executors import ExecutorSettings, resolve_executor, run_units
from ..verdicts import with_paper_verdicts
from .cells import cell_frames, cell_units, unit_device
from .claims import claim_verdicts, paper_verdicts

#: What a training seed changes on a paper-2 page (for :func:`seed_note`).
SEED_CHANGES: tuple[str, ...] = (
    "the stratified folds", "each fold's validation split",
    "the new layers' initialisation", "the batch order",
    "Algorithm 1's transformed copies")


def training_seeds(params: Mapping[str, Any]) -> list[int]:
    """A page's training seeds: its ``seeds`` parameter (checked; the first is the seed whose
    figures the page shows) or, for parameters without one, ``[seed]`` (what the page trained
    before it declared ``seeds``)."""
    seeds = params.get("seeds")
    if seeds is None:
        return [int(params["seed"])]
    return check_seeds(seeds)


def run_cells_by_seed(cells: Sequence[Mapping[str, Any]], images: np.ndarray, labels: np.ndarray,
                      classes: Sequence[str], *, seeds: Sequence[int], folds: int = 5,
                      config: FitConfig = FitConfig(), device: str = "cpu",
                      weights: str | bool = "random",
                      pretraining: Mapping[str, Any] | None = None,
                      finetune_blocks: int | None = None, cache: bool | str = True,
                      progress: bool = True, data_id: str | None = None,
                      executor: str | ExecutorSettings | None = None
                      ) -> dict[int, pd.DataFrame]:
    """:func:`emo_lib.jeong2021.cells.run_cells` once per training seed of ``seeds``, as
    ``{seed: results}`` in their order; every seed's units (:func:`cell_units` with that seed)
    go to the executor in one batch, so with several workers seeds train side by side and a
    unit two seeds or two cells share is computed once. Each seed's frame is the one
    ``run_cells(..., seed=s)`` gives (same rows, columns and unit keys; ``from_cache`` marks
    the units this call did not compute)."""
    seeds = check_seeds(list(seeds))
    y = np.asarray(labels)
    classes = tuple(classes)
    settings = resolve_executor(executor)
    data_id = data_id or data_fingerprint(images, y)
    per_seed = {s: cell_units(cells, y, classes, data_id=data_id,
                              image_size=int(images.shape[1]), folds=folds, config=config,
                              seed=s, device=unit_device(device, settings), weights=weights,
                              pretraining=pretraining, finetune_blocks=finetune_blocks)
                for s in seeds}
    run = run_units([u for s in seeds for units in per_seed[s] for u in units],
                    executor=settings, cache=None if cache is False else cache,
                    arrays={"images": images, "labels": y.astype(np.int64)}, progress=progress)
    run.raise_failures()
    fresh = set(run.computed)
    return {s: cell_frames(cells, per_seed[s], run.records, fresh) for s in seeds}


def claims_by_seed(results: Mapping[int, pd.DataFrame], grid: str, *, only: Sequence[str],
                   **options: Any) -> dict[int, pd.DataFrame]:
    """The page's claims (:func:`claim_verdicts` on each seed's results frame, passed as
    ``grid``: ``"sweep"``, ``"balanced"`` or ``"scaling"``), each with the same rules on the
    paper's numbers beside (:func:`with_paper_verdicts`), as ``{seed: table}`` for
    ``Run.claims``. ``options``: :func:`claim_verdicts`' (reference_model, alpha...)."""
    if grid not in ("sweep", "balanced", "scaling"):
        raise ValueError(f"grid must be 'sweep', 'balanced' or 'scaling', not {grid!r}")
    own = paper_verdicts(only=only)
    return {s: with_paper_verdicts(claim_verdicts(**{grid: df}, only=only, **options), own)
            for s, df in results.items()}


def seed_note(seeds: Sequence[int], seed: int) -> str:
    """The sentence a page shows under its settings: which training seeds, what each changes,
    what it does not (the data's draw ``seed``)."""
    seeds = check_seeds(list(seeds))
    what = "a training seed changes " + ", ".join(SEED_CHANGES[:-1]) + " and " + \
        SEED_CHANGES[-1]
    head = (f"**Training seeds** {', '.join(map(str, seeds))}: every cell is cross-validated "
            f"once per seed and the claims computed once per seed (figures and tables from "
            f"seed {seeds[0]})" if len(seeds) > 1 else
            f"**Training seed** {seeds[0]} (one seed: how stable the verdicts are is not "
            f"measured; `{MEASURE_COMMAND}` measures it)")
    return (f"{head}; {what}. The data set is one draw (`seed` = {int(seed)}) and the "
            "synthetic-face pretraining is shared by every seed.")


__all__ = ["SEED_CHANGES", "claims_by_seed", "run_cells_by_seed", "seed_note",
           "training_seeds"]
