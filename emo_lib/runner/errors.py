"""The runner's exceptions.

Arguments are checked with :mod:`emo_lib.validation` (``error=RunnerError``), so every message
names the value given and the valid choices, written for a person (no Python reprs), and the
CLI prints it as it is. This module holds no knowledge of notebooks or profiles.
"""
from __future__ import annotations

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


# One way to write a value for a person: emo_lib.validation's.
show, choices_text = validation.show, validation.choices_text
