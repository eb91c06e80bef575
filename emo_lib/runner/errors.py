"""The runner's exceptions and its argument checks, in the scikit-learn manner.

Every check raises a :class:`RunnerError` (a ``ValueError``) whose message names the value given
and the valid choices, written for a person (no Python reprs), so the CLI prints it as it is.
This module holds no knowledge of notebooks or profiles.
"""
from __future__ import annotations

from typing import Any, Iterable


class RunnerError(ValueError):
    """Bad input to ``emo-book``: the message says what was given and what is allowed."""


class ProfileError(RunnerError):
    """A profile, a ``-p`` override or a notebook name does not fit the book."""


class ValidationError(ProfileError):
    """Several problems found before anything ran; ``problems`` lists each one."""

    def __init__(self, heading: str, problems: list[str]):
        self.heading = heading
        self.problems = list(problems)
        super().__init__(heading + "\n  - " + "\n  - ".join(self.problems))


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
    return ", ".join(show(c) for c in choices) or "(none)"


def check_choice(value: Any, choices: Iterable[Any], what: str) -> Any:
    """``value`` if it is one of ``choices``; else :class:`RunnerError` naming them."""
    choices = list(choices)
    if value not in choices:
        raise RunnerError(f"{what}: {show(value)} is not one of {choices_text(choices)}")
    return value


def check_int(value: Any, what: str, *, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RunnerError(f"{what}: {show(value)} is not an integer >= {minimum}")
    return value


def check_positive_int(value: Any, what: str) -> int:
    return check_int(value, what, minimum=1)


def check_non_empty_str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RunnerError(f"{what}: {show(value)} is not a non-empty text")
    return value
