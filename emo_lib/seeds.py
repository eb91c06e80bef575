"""Claims across seeds: how stable a verdict is when only the seed changes.

A training-dependent page declares a ``seeds`` parameter (a list of int; ``emo-book build
--seeds 0,1,2`` or a profile's top-level ``seeds: [0, 1, 2]`` set it on every page that
declares it). In one execution the page computes its claims once per seed, with the same
rules, and hands the tables to :func:`claims_across_seeds` (``Run.claims`` does it when given
``{seed: table}``), which gives

- the claims table (``claims.csv``): each claim once, with the seeds' common verdict, or
  *varies* when they differ (never the first seed's); a ``stability`` column
  (:func:`stability_label`: "stable: supported in 3 of 3", "varies: supported 2,
  inconclusive 1", or "not measured (one seed)"); ``value`` and ``evidence`` from the first
  seed (the one whose figures the page shows), named so when there are several;
- the long table (``claims_by_seed.csv``): one row per (claim, seed) with :data:`BY_SEED_COLUMNS`.

:func:`check_seeds` validates the parameter; :func:`per_seed` runs a function once per seed
with a progress bar. Not here: what a seed changes on a page (the page says it), the rules
(:mod:`emo_lib.verdicts`), the runner's option (:mod:`emo_lib.runner`).
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Mapping, Sequence, TypeVar

import pandas as pd
from tqdm.auto import tqdm

from . import validation
from .verdicts import RULE_VERDICTS, STABILITY, VARIES, claims_table

#: Columns of ``claims_by_seed.csv`` (the contract other tools read), in order.
BY_SEED_COLUMNS: tuple[str, ...] = ("claim_id", "seed", "verdict", "value", "evidence")
#: The stability of a claim computed with one seed.
NOT_MEASURED = "not measured (one seed)"
#: The command that measures stability, for a page or ledger that shows one seed.
MEASURE_COMMAND = "emo-book build --seeds 0,1,2"

T = TypeVar("T")


def check_seeds(seeds: Any) -> list[int]:
    """``seeds`` as a list of distinct non-negative ints (ValueError naming the value
    otherwise): the order is kept, the first seed is the one whose figures a page shows."""
    return validation.check_seeds("seeds", seeds)


def per_seed(seeds: Sequence[int], compute: Callable[[int], T], *, progress: bool = False,
             desc: str = "seeds") -> dict[int, T]:
    """``{seed: compute(seed)}`` in the order of ``seeds`` (a progress bar when asked)."""
    seeds = check_seeds(list(seeds))
    return {s: compute(s) for s in tqdm(seeds, desc=desc, disable=not progress or len(seeds) < 2)}


def stability_label(verdicts: Sequence[str]) -> str:
    """The stability of one claim from its verdict in each seed: "stable: supported in 3 of 3",
    "varies: supported 2, inconclusive 1" (counts in the vocabulary's order), or
    "not measured (one seed)"."""
    verdicts = list(verdicts)
    if len(verdicts) < 2:
        return NOT_MEASURED
    counts = Counter(verdicts)
    if len(counts) == 1:
        return f"stable: {verdicts[0]} in {len(verdicts)} of {len(verdicts)}"
    order = [v for v in RULE_VERDICTS if v in counts] + sorted(set(counts) - set(RULE_VERDICTS))
    return "varies: " + ", ".join(f"{v} {counts[v]}" for v in order)


def common_verdict(verdicts: Sequence[str]) -> str:
    """The seeds' common verdict, or *varies*."""
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("no verdicts: a claim needs at least one seed")
    return verdicts[0] if len(set(verdicts)) == 1 else VARIES


def claims_across_seeds(tables_by_seed: Mapping[int, pd.DataFrame]
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(claims table, claims_by_seed frame) from one claims table per seed (same claim ids,
    same rules). See the module docstring for what each holds. One seed: its table with
    ``stability`` "not measured (one seed)"."""
    if not tables_by_seed:
        raise ValueError("tables_by_seed is empty: compute the claims for at least one seed")
    seeds = check_seeds(list(tables_by_seed))
    first = tables_by_seed[seeds[0]]
    for s in seeds[1:]:
        ids = list(tables_by_seed[s].index)
        if ids != list(first.index):
            raise ValueError(f"seed {s}'s claims {ids} differ from seed {seeds[0]}'s "
                             f"{list(first.index)}: every seed must test the same claims")
    long = pd.DataFrame([
        {"claim_id": cid, "seed": s, "verdict": r["verdict"], "value": r.get("value", ""),
         "evidence": r["evidence"]}
        for s in seeds for cid, r in tables_by_seed[s].iterrows()],
        columns=list(BY_SEED_COLUMNS))
    out = first.copy()
    if len(seeds) > 1:
        by_claim = {cid: [tables_by_seed[s].loc[cid, "verdict"] for s in seeds]
                    for cid in first.index}
        out["verdict"] = [common_verdict(by_claim[c]) for c in first.index]
        out[STABILITY] = [stability_label(by_claim[c]) for c in first.index]
        out["evidence"] = [f"seed {seeds[0]} (of {', '.join(map(str, seeds))}): {e}"
                           for e in first["evidence"]]
    else:
        out[STABILITY] = NOT_MEASURED
    # through claims_table again: the contract's columns and the vocabulary are checked
    rows = [dict(r) for _, r in out.iterrows()]
    return claims_table(rows, list(out.index)), long


def stability_table(claims: pd.DataFrame, by_seed: pd.DataFrame) -> pd.DataFrame:
    """A page's stability table: one row per claim (``claim_id``, ``claim``), its verdict in
    each seed (columns "seed 0", "seed 1"...), the common verdict and the label."""
    wide = by_seed.pivot(index="claim_id", columns="seed", values="verdict")
    wide = wide.reindex(index=list(claims.index))
    wide.columns = [f"seed {s}" for s in wide.columns]
    wide.insert(0, "claim", claims["claim"])
    wide["verdict"] = claims["verdict"]
    wide[STABILITY] = claims[STABILITY]
    return wide.rename_axis("claim_id").reset_index()


__all__ = ["BY_SEED_COLUMNS", "MEASURE_COMMAND", "NOT_MEASURED", "check_seeds",
           "claims_across_seeds", "common_verdict", "per_seed", "stability_label",
           "stability_table"]
