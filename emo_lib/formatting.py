"""One formatter for the numbers a reader sees, in tables and in prose alike.

Each kind of number has one fixed form:

- accuracies, F1, shares (:func:`format_number`): ``DECIMALS`` (3) decimals, never scientific
  notation, never ``-0.000``;
- differences (:func:`format_signed`): the same decimals with a sign, ``+0.012`` / ``-0.409``
  (a difference that rounds to zero reads ``0.000``);
- ratios such as an enrichment (:func:`format_ratio`): 2 decimals;
- intervals (:func:`format_interval`): ``[a, b]`` in the form of their estimate;
- p-values (:func:`format_p`): ``< 0.001`` below 0.001, else two significant digits
  (``0.012``, ``0.50``, ``1.0``), with a third where two would round onto the significance
  level (0.0496 reads ``0.0496``, not ``0.050``); :func:`p_equals` puts one in a sentence
  (``p = 0.012``, ``p < 0.001``);
- a missing value (None, NaN) reads :data:`MISSING`, or what the caller passes.

A column of values that all round to zero at the column's decimals (a column of learning
rates) keeps two significant digits, positional (``0.0001``): :func:`column_decimals` decides
that for a whole column at once, so one column never mixes fixed and significant digits.

Not here: how a table is laid out or which column holds p-values (``emo_lib.book.pagestyle``),
what a number means (the pages and claims).
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Iterable

import numpy as np

#: Decimals of accuracies, F1 scores, shares and their differences.
DECIMALS = 3
#: Decimals of ratios (enrichment: a region's share of a map over its share of the image).
RATIO_DECIMALS = 2
#: What a missing number reads in a table.
MISSING = "–"
#: The significance level the book uses unless a page says otherwise (see :func:`format_p`).
DEFAULT_ALPHA = 0.05


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(isinstance(x, Real) and not isinstance(x, Integral) and math.isnan(x))
    except TypeError:
        return False


def _positional(x: float, significant: int = 2) -> str:
    """``x`` with ``significant`` significant digits, written out (0.00012, never 1.2e-04)."""
    return np.format_float_positional(float(x), precision=significant, unique=False,
                                      fractional=False, trim="-")


def format_number(x: Any, decimals: int = DECIMALS, *, missing: str = MISSING) -> str:
    """A number to ``decimals`` fixed decimals (``0.413``); integers as integers; booleans as
    ``True``/``False``; infinity as ``∞``; never ``-0.000`` and never scientific notation (a
    value too small for the decimals reads ``0.000``: give the column more decimals, see
    :func:`column_decimals`). Text passes through unchanged."""
    if _missing(x):
        return missing
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, Integral):
        return str(int(x))
    if not isinstance(x, Real):
        return str(x)
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_signed(x: Any, decimals: int = DECIMALS, *, missing: str = MISSING) -> str:
    """A difference with its sign: ``+0.012``, ``-0.409``; one that rounds to zero, ``0.000``."""
    text = format_number(x, decimals, missing=missing)
    if text in (missing, "∞") or text.startswith("-") or not _is_number(x):
        return "+∞" if text == "∞" else text
    return text if float(text) == 0 else f"+{text}"


def _is_number(x: Any) -> bool:
    return isinstance(x, Real) and not isinstance(x, (bool, np.bool_))


def format_ratio(x: Any, *, missing: str = MISSING) -> str:
    """A ratio (an enrichment) to :data:`RATIO_DECIMALS` decimals."""
    return format_number(x, RATIO_DECIMALS, missing=missing)


def format_interval(low: Any, high: Any, decimals: int = DECIMALS, *, signed: bool = False,
                    missing: str = MISSING) -> str:
    """``[a, b]``; ``signed`` for an interval of a difference (``[-0.452, -0.366]``); both ends
    missing: ``missing``."""
    if _missing(low) and _missing(high):
        return missing
    f = format_signed if signed else format_number
    return f"[{f(low, decimals, missing=missing)}, {f(high, decimals, missing=missing)}]"


def format_estimate(x: Any, low: Any = None, high: Any = None, decimals: int = DECIMALS, *,
                    signed: bool = False, missing: str = MISSING) -> str:
    """An estimate with its interval when it has one: ``-0.409 [-0.452, -0.366]``."""
    f = format_signed if signed else format_number
    text = f(x, decimals, missing=missing)
    if _missing(low) and _missing(high):
        return text
    return f"{text} {format_interval(low, high, decimals, signed=signed, missing=missing)}"


def format_p(p: Any, *, missing: str = "n/a", alpha: float = DEFAULT_ALPHA) -> str:
    """A p-value: ``< 0.001`` below 0.001, else two significant digits (``0.012``, ``0.50``,
    ``1.0``); three where two would print exactly ``alpha`` for a p that is not (``0.0496``:
    a reader must not see "p = 0.050" beside "significant"). ``missing`` for None or NaN."""
    if _missing(p):
        return missing
    if not _is_number(p):
        return str(p)
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    # "#" keeps trailing zeros (0.50, 1.0); p >= 0.001 never takes an exponent with "g"
    text = f"{p:#.2g}"
    if alpha and p != alpha and float(text) == alpha:
        text = f"{p:#.3g}"
    return text


def p_equals(p: Any, *, alpha: float = DEFAULT_ALPHA) -> str:
    """A p-value in a sentence: ``p = 0.012``, ``p < 0.001`` or ``p n/a``."""
    text = format_p(p, alpha=alpha)
    if text == "n/a":
        return "p n/a"
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def format_percent(x: Any, decimals: int = 0, *, signed: bool = False,
                   missing: str = MISSING) -> str:
    """A share as a percentage: ``31 %``; ``signed``: ``+31 %``."""
    if _missing(x):
        return missing
    text = f"{100 * float(x):{'+' if signed else ''}.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("+-")
    return f"{text} %"


def column_decimals(values: Iterable[Any], decimals: int = DECIMALS) -> int | None:
    """The decimals a column (or a row of one quantity) is shown with: ``decimals``, or None
    when every finite non-zero value would round to zero at ``decimals`` (a column of learning
    rates): such a column keeps two significant digits per value (:func:`format_small`)."""
    numbers = [float(v) for v in values if _is_number(v) and not _missing(v)
               and math.isfinite(float(v)) and float(v) != 0]
    if numbers and all(abs(v) < 0.5 * 10.0 ** -decimals for v in numbers):
        return None
    return decimals


def format_small(x: Any, *, missing: str = MISSING) -> str:
    """A value too small for fixed decimals, two significant digits written out (``0.0001``)."""
    if _missing(x):
        return missing
    if not _is_number(x) or float(x) == 0 or not math.isfinite(float(x)):
        return format_number(x, DECIMALS, missing=missing)
    return _positional(float(x), 2)


def readable_columns(frame: Any, labels: dict[str, str], level: float | None = None,
                     interval_columns: dict[str, str] | None = None) -> Any:
    """A table as a reader reads it: True/False as yes/no, headers from ``labels``, and each
    ``interval_columns`` key (e.g. ``{"ci_low": "low"}``) named after the ``level`` interval
    ("95% CI low"). A copy; the CSV beside it keeps the keys."""
    import pandas as pd

    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].map({True: "yes", False: "no"})
    interval = f"{level:.0%} CI" if level is not None else "CI"
    names = {k: v.format(interval=interval) for k, v in (interval_columns or {}).items()}
    return out.rename(columns={**labels, **names})


__all__ = [
    "readable_columns",
    "DECIMALS", "DEFAULT_ALPHA", "MISSING", "RATIO_DECIMALS", "column_decimals",
    "format_estimate", "format_interval", "format_number", "format_p", "format_percent",
    "format_ratio", "format_signed", "format_small", "p_equals",
]
