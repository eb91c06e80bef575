"""The runner's exceptions and its argument checks, in the scikit-learn manner.

Every check raises a :class:`RunnerError` (a ``ValueError``) whose message names the value given
and the valid choices, written for a person (no Python reprs), so the CLI prints it as it is.
This module holds no knowledge of notebooks or profiles.
"""
from __future__ import annotations

from typing import Any, Iterable

from .. import validation


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


# One way to check an argument and to write a value for a person: emo_lib.validation's; the
# runner's checks raise RunnerError so the CLI prints them as messages, not tracebacks.
show, choices_text = validation.show, validation.choices_text


def check_choice(value: Any, choices: Iterable[Any], what: str) -> Any:
    return validation.check_choice(what, value, choices, error=RunnerError)


def check_int(value: Any, what: str, *, minimum: int) -> int:
    return validation.check_int(what, value, minimum=minimum, error=RunnerError)


def check_positive_int(value: Any, what: str) -> int:
    return validation.check_positive_int(what, value, error=RunnerError)


def check_non_empty_str(value: Any, what: str) -> str:
    return validation.check_non_empty_str(what, value, error=RunnerError)
