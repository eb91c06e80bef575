"""The papers' numbers (``book/paper_values.yaml``) and "paper / this run / difference" tables.

Numbers are never retyped into notebooks: a page reads them here, by a dotted key such as
``"noh2023.fig3_accuracy_pretrained.cafe"``, and sets its own beside them.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml

from .layout import REPO_ROOT

PAPER_VALUES = REPO_ROOT / "book" / "paper_values.yaml"
PAPERS = ("noh2023", "jeong2021")


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"paper values file {p} is missing; it ships in book/ "
                                "(copied from shared/papers/paper_values.yaml)")
    data = yaml.safe_load(p.read_text())
    missing = [k for k in PAPERS if k not in (data or {})]
    if missing:
        raise ValueError(f"{p}: missing top-level section(s) {missing}")
    return data


def load_paper_values(path: str | Path | None = None) -> dict[str, Any]:
    """All paper values as a nested dict (cached; do not mutate)."""
    return _load(str(path or PAPER_VALUES))


def paper_value(key: str, path: str | Path | None = None) -> Any:
    """The value at a dotted ``key`` (``"jeong2021.focal_loss.gamma"``); ValueError names the
    first missing part and what is there instead."""
    node: Any = load_paper_values(path)
    done = []
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(done) or "<top>"
            have = sorted(node) if isinstance(node, Mapping) else type(node).__name__
            raise ValueError(f"paper value {key!r}: no {part!r} under {where} (choose from "
                             f"{have})")
        node = node[part]
        done.append(part)
    return node


def paper_notes(paper: str, contains: str | None = None) -> list[str]:
    """The paper's own inconsistencies (its ``notes``), optionally those mentioning ``contains``."""
    notes = paper_value(f"{paper}.notes")
    return [n for n in notes if contains is None or contains.lower() in n.lower()]


def _as_series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.rename(name)
    if isinstance(values, Mapping):
        return pd.Series({k: (np.nan if v is None else v) for k, v in values.items()},
                         name=name, dtype="float64")
    raise TypeError(f"{name}: expected a mapping or Series, got {type(values).__name__}")


def compare(paper: Any, run: Any, *, relative: bool = False, order: list[str] | None = None,
            labels: tuple[str, str] = ("paper", "this run")) -> pd.DataFrame:
    """Side-by-side table: ``paper``, ``this run``, ``difference`` (run - paper).

    Args:
        paper, run: mappings or Series keyed alike (classes, metrics...). A key only one side has
            shows NaN on the other; a paper ``null`` (figure-only value) shows NaN.
        relative: add a ``relative difference`` column ((run - paper) / paper).
        order: row order (default: paper's keys, then the run's extra keys).
    """
    p = _as_series(paper, labels[0])
    r = _as_series(run, labels[1])
    keys = order or list(dict.fromkeys([*p.index, *r.index]))
    table = pd.DataFrame({labels[0]: p.reindex(keys), labels[1]: r.reindex(keys)})
    table["difference"] = table[labels[1]] - table[labels[0]]
    if relative:
        table["relative difference"] = table["difference"] / table[labels[0]]
    return table


def split_pairs(values: Mapping[str, Any], names: tuple[str, str]) -> pd.DataFrame:
    """Turn ``{key: [a, b]}`` (the papers' "count (rate)" or "accuracy, F1" pairs) into a frame
    with columns ``names``."""
    return pd.DataFrame({k: v for k, v in values.items()}, index=list(names)).T


def compare_counts(paper: pd.DataFrame, run: pd.DataFrame,
                   labels: tuple[str, str] = ("paper", "this run")) -> pd.DataFrame:
    """For count tables (rows x classes): per row, three lines ``paper``, ``this run`` and
    ``difference``, so a reviewer reads each row of the paper's table against ours."""
    run = run.reindex(index=paper.index, columns=paper.columns)
    parts = {}
    for row in paper.index:
        p, r = paper.loc[row], run.loc[row]
        parts[row] = pd.DataFrame({labels[0]: p, labels[1]: r, "difference": r - p}).T
    return pd.concat(parts, names=["row", ""])


def headlines() -> dict[str, float | str]:
    """The papers' headline numbers the introduction quotes, each read from paper_values.yaml
    (glued by the claims ledger so no page types them): Noh & Lim's overall accuracies before
    and after additional training, Jeong & Kim's Table 4 baseline and proposed macro F1 and
    accuracy change, and Fig. 5's EfficientNet-B5 macro F1 with its gain over the baseline
    (both gains as exact ratios, and as the paper prints them: ``*_gain_printed``)."""
    n = paper_value("noh2023")
    j = paper_value("jeong2021")
    t4 = j["table4_efficientnet_b0_focal"]
    b5 = j["fig5_scaling"]["efficientnet_b5"]
    return {
        "noh_cafe_overall": n["fig3_accuracy_pretrained"]["cafe"]["overall"],
        "noh_nimh_overall": n["fig3_accuracy_pretrained"]["nimh_chefs"]["overall"],
        "noh_cafe_after": n["fig5_cafe_after_additional_training"]["after"]["overall"],
        "noh_vggface2_under_18": n["vggface2_distribution"]["age_0_12"]
        + n["vggface2_distribution"]["age_13_17"],
        "jeong_images": j["dataset"]["images"], "jeong_ratio": j["dataset"]["imbalance_ratio"],
        "jeong_n_min": j["balanced_training"]["n_min"],
        "jeong_baseline_f1": t4["baseline"][1], "jeong_proposed_f1": t4["proposed"][1],
        "jeong_proposed_gain": (t4["proposed"][1] - t4["baseline"][1]) / t4["baseline"][1],
        "jeong_accuracy_change": t4["proposed"][0] - t4["baseline"][0],
        "jeong_accuracy_change_points": 100 * (t4["proposed"][0] - t4["baseline"][0]),
        "jeong_b5_f1": b5[1], "jeong_b5_gain": (b5[1] - t4["baseline"][1]) / t4["baseline"][1],
        # the same two gains as the paper words them (text), quoted beside the exact ratios
        "jeong_proposed_gain_printed": j["headline_gains_as_printed"]["proposed"],
        "jeong_b5_gain_printed": j["headline_gains_as_printed"]["efficientnet_b5"],
    }


def table_from_paper(key: str, rows: list[str] | None = None) -> pd.DataFrame:
    """A paper table stored as ``{row: {column: value}}`` (e.g. Table 1) as a DataFrame."""
    data = paper_value(key)
    frame = pd.DataFrame(data).T
    return frame.loc[rows] if rows else frame
