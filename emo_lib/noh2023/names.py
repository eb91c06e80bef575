"""The names Noh & Lim's pages share: the paper's key, the data sets as pages name them, the
genders the paper compares, and the classes in the papers' order."""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from ..data.manifest import EMOTIONS_8

PAPER = "noh2023"
CAFE, NIMH = "CAFE", "NIMH-ChEFS"
#: Page name -> the data set's key in paper_values.yaml.
PAPER_KEYS: dict[str, str] = {CAFE: "cafe", NIMH: "nimh_chefs"}
GENDERS: tuple[str, ...] = ("male", "female")


def class_order(labels: Sequence[Any]) -> list[str]:
    """The classes present in ``labels``, in the papers' order (angry ... surprise, contempt)."""
    present = set(pd.unique(pd.Series(labels, dtype=object)))
    known = [c for c in EMOTIONS_8 if c in present]
    return known + sorted(str(c) for c in present - set(known))


__all__ = ["CAFE", "GENDERS", "NIMH", "PAPER", "PAPER_KEYS", "class_order"]
