"""What a page's "Re-run this page" box needs to know that only the runner knows, handed to the
kernel the way the page key is: in an environment variable of its own (:data:`RERUN_VARIABLE`,
JSON), set per execution by ``emo_lib.runner`` (which also records it in the executed copy's
metadata and counts it among the execution's inputs, so a box never outlives what it says).

The page knows its own parameters and their defaults (``Run``); it cannot know which of its
values this build read from an environment variable (a data root such as ``${CAFE_ROOT}``: the
box writes the variable, never the builder's folder) nor what the ``paper`` profile sets on it:
that is the :class:`RerunSpec`. Making one from the profiles is :mod:`emo_lib.runner.rerun`;
turning it into the box is :mod:`emo_lib.book.rerun`. This module only holds the record and
reads it, so both sides share it without importing each other.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

#: The environment variable through which the runner gives a kernel its page's re-run spec.
RERUN_VARIABLE = "EMO_RERUN"
#: The profile that runs the papers' settings on the real data.
PAPER_PROFILE = "paper"


@dataclass(frozen=True)
class RerunSpec:
    """One page's re-run facts, as the runner resolved them for one execution.

    Attributes:
        page: the notebook's name.
        profile: the build's profile name (None: ``emo-book run`` without ``--profile``).
        templates: this build's parameters whose value was read from the environment, as the
            profile writes them (``{"cafe_root": "${CAFE_ROOT}"}``).
        paper: what the paper profile sets on this page beyond the notebook's defaults, values
            read from the environment as their templates (``"${CAFE_ROOT}"``); None when the
            book has no paper profile or it does not apply to this page.
        paper_variables: the environment variables the paper profile reads for this page.
    """

    page: str
    profile: str | None = None
    templates: dict[str, str] = field(default_factory=dict)
    paper: dict[str, Any] | None = None
    paper_variables: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> "RerunSpec":
        data = json.loads(text)
        if not isinstance(data, dict) or "page" not in data:
            raise ValueError(f"${RERUN_VARIABLE} is not a re-run spec: {text[:80]!r}")
        return cls(**{k: data[k] for k in ("page", "profile", "templates", "paper",
                                           "paper_variables") if k in data})


def current_rerun_spec(page: str) -> RerunSpec | None:
    """The spec the runner gave this kernel for ``page``; None outside ``emo-book`` (a notebook
    run by hand), or when the variable names another page (an environment left over)."""
    text = os.environ.get(RERUN_VARIABLE)
    if not text:
        return None
    spec = RerunSpec.from_json(text)
    return spec if spec.page == page else None


__all__ = ["PAPER_PROFILE", "RERUN_VARIABLE", "RerunSpec", "current_rerun_spec"]
