"""Argument checks in the scikit-learn manner: one helper per kind of check, the same wording and
exception type (``ValueError``, or a subclass the caller names with ``error=``) everywhere,
naming what was given and what is allowed, written for a person (values as one writes them on
the command line or in YAML, not Python reprs).

Only checks of single arguments live here; the data contract (manifests) is
:mod:`emo_lib.data.manifest`, the runner's profile checks are :mod:`emo_lib.runner`.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Sequence, TypeVar

T = TypeVar("T")


def show(value: Any) -> str:
    """A value as a person writes it on the command line or in YAML (no Python quoting)."""
    if isinstance(value, str):
        return value if value else '""'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def choices_text(choices: Iterable[Any]) -> str:
    """``a, b, c`` (or "(none)")."""
    return ", ".join(show(c) for c in choices) or "(none)"


def check_choice(name: str, value: T, choices: Iterable[Any], *,
                 error: type[ValueError] = ValueError) -> T:
    """``value`` if it is one of ``choices``; else ``error`` listing them.

    >>> check_choice("loss", "focal", ("cross_entropy", "focal"))
    'focal'
    """
    allowed = list(choices)
    if value not in allowed:
        raise error(f"{name}: {show(value)} is not one of the choices {choices_text(allowed)}")
    return value


def check_choices(name: str, values: Iterable[T], choices: Iterable[Any], *,
                  error: type[ValueError] = ValueError) -> list[T]:
    """Every value of ``values`` if each is one of ``choices``; else ``error`` listing all the
    unknown ones at once, and the choices."""
    allowed = list(choices)
    given = list(values)
    unknown = [v for v in given if v not in allowed]
    if unknown:
        raise error(f"{name}: {show(unknown)} {'is' if len(unknown) == 1 else 'are'} not among "
                    f"the choices {choices_text(allowed)}")
    return given


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None, error: type[ValueError] = ValueError) -> int:
    """``value`` as an int (bools refused) within ``[minimum, maximum]``; else ``error``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or (minimum is not None and value < minimum) \
            or (maximum is not None and value > maximum):
        bounds = " and ".join(b for b in (f">= {minimum}" if minimum is not None else "",
                                          f"<= {maximum}" if maximum is not None else "") if b)
        raise error(f"{name}: {show(value)} is not an integer{' ' + bounds if bounds else ''}")
    return int(value)


def check_positive_int(name: str, value: Any, *, error: type[ValueError] = ValueError) -> int:
    """``value`` as an int >= 1; else ``error``."""
    return check_int(name, value, minimum=1, error=error)


def check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0,
                   closed: Sequence[bool] = (True, True),
                   error: type[ValueError] = ValueError) -> float:
    """``value`` as a float in the interval from ``low`` to ``high`` (each end included or not
    by ``closed``); else ``error``."""
    interval = f"{'[' if closed[0] else '('}{low:g}, {high:g}{']' if closed[1] else ')'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(f"{name}: {show(value)} is not a number in {interval}")
    v = float(value)
    lo_ok = v >= low if closed[0] else v > low
    hi_ok = v <= high if closed[1] else v < high
    if not (lo_ok and hi_ok):
        raise error(f"{name}: {show(value)} is not in {interval}")
    return v


def check_count(name: str, value: Any, *, error: type[ValueError] = ValueError) -> int:
    """``value`` as an int if it is a whole number >= 0 (integral floats such as 5.0, from a
    pandas sum, accepted); else ``error``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (math.isfinite(number) and number >= 0
                                       and number.is_integer()):
        raise error(f"{name}: {show(value)} is not a whole number >= 0")
    return int(number)


def check_positive(name: str, value: Any, *, error: type[ValueError] = ValueError) -> float:
    """``value`` as a float if it is a finite number > 0; else ``error``.

    >>> check_positive("scale", 0.5)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value <= 0:
        raise error(f"{name}: {show(value)} is not a finite number > 0")
    return float(value)


def check_non_empty_str(name: str, value: Any, *, error: type[ValueError] = ValueError) -> str:
    """``value`` if it is a text with something in it; else ``error``."""
    if not isinstance(value, str) or not value.strip():
        raise error(f"{name}: {show(value)} is not a non-empty text")
    return value


__all__ = ["check_choice", "check_choices", "check_count", "check_fraction", "check_int",
           "check_non_empty_str", "check_positive", "check_positive_int", "check_seeds",
           "choices_text", "show"]


def check_seeds(name: str, value: Any, *, error: type[ValueError] = ValueError) -> list[int]:
    """A list of distinct non-negative integers (``seeds: [0, 1, 2]``), order kept; a single
    integer is a list of one."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise error(f"{name} = {show(value)} must be a non-empty list of integers, e.g. "
                    "[0, 1, 2]")
    bad = [v for v in value if isinstance(v, bool) or not isinstance(v, numbers.Integral)
           or v < 0]
    if bad:
        raise error(f"{name} = {show(list(value))}: {choices_text(bad)} "
                    f"{'is' if len(bad) == 1 else 'are'} not a non-negative integer")
    if len(set(value)) != len(value):
        raise error(f"{name} = {show(list(value))} repeats a seed: give each seed once")
    return [int(v) for v in value]
