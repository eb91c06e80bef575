"""Argument checks in the scikit-learn manner: one helper per kind of check, the same wording and
exception type (``ValueError``) everywhere, naming what was given and what is allowed.

Only checks of single arguments live here; the data contract (manifests) is
:mod:`emo_lib.data.manifest`, the runner's profile checks are :mod:`emo_lib.runner`.
"""
from __future__ import annotations

import numbers
from typing import Any, Iterable, Sequence, TypeVar

T = TypeVar("T")


def check_choice(name: str, value: T, choices: Iterable[Any]) -> T:
    """``value`` if it is one of ``choices``; else ValueError listing them.

    >>> check_choice("loss", "focal", ("cross_entropy", "focal"))
    'focal'
    """
    allowed = list(choices)
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of the choices {allowed}")
    return value


def check_choices(name: str, values: Iterable[T], choices: Iterable[Any]) -> list[T]:
    """Every value of ``values`` if each is one of ``choices``; else ValueError listing all the
    unknown ones at once, and the choices."""
    allowed = list(choices)
    given = list(values)
    unknown = [v for v in given if v not in allowed]
    if unknown:
        raise ValueError(f"{name}: {unknown} {'is' if len(unknown) == 1 else 'are'} not among "
                         f"the choices {allowed}")
    return given


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """``value`` as an int (bools refused) within ``[minimum, maximum]``; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}={value!r} must be an integer")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}={value!r} must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value!r} must be <= {maximum}")
    return int(value)


def check_positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1; else ValueError."""
    return check_int(name, value, minimum=1)


def check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0,
                   closed: Sequence[bool] = (True, True)) -> float:
    """``value`` as a float in the interval from ``low`` to ``high`` (each end included or not
    by ``closed``); else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r} must be a number")
    v = float(value)
    lo_ok = v >= low if closed[0] else v > low
    hi_ok = v <= high if closed[1] else v < high
    if not (lo_ok and hi_ok):
        interval = f"{'[' if closed[0] else '('}{low:g}, {high:g}{']' if closed[1] else ')'}"
        raise ValueError(f"{name}={value!r} must lie in {interval}")
    return v


__all__ = ["check_choice", "check_choices", "check_fraction", "check_int", "check_positive_int"]
