"""The re-run spec of one page in one build (:class:`emo_lib.rerun_spec.RerunSpec`): which of
its values the build read from environment variables, and what the paper profile would set on
it. The builder and ``emo-book run`` hand it to the kernel (``$EMO_RERUN``) and count it among
the execution's inputs; the page turns it into its "Re-run this page" box
(:mod:`emo_lib.book.rerun`). Nothing here executes or validates a build.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any, Sequence

from .errors import RunnerError
from .parameters import resolve_parameters
from .profiles import SEEDS, Override, Profile, load_profile
from ..layout import profiles_dir
from ..notebook_parameters import declared_parameters, literal, read_yaml
from ..rerun_spec import PAPER_PROFILE, RerunSpec

log = logging.getLogger(__name__)

_VARIABLE = re.compile(r"\$\{(\w+)\}")


def _raw(profile: Profile) -> dict[str, Any]:
    """The profile file as written (``${VAR}`` not expanded); {} without a file."""
    try:
        data = read_yaml(profile.path.read_text()) if profile.path.is_file() else {}
    except OSError:
        return {}
    return data if isinstance(data, dict) else {}


def _template(profile: Profile, raw: dict[str, Any], page: str, key: str) -> str | None:
    """The text ``${VAR}`` ... of the profile entry that gives ``page`` its ``key``, when that
    entry reads the environment and is text; else None."""
    if key in profile.notebooks.get(page, {}):
        where, value = (page, key), ((raw.get("notebooks") or {}).get(page) or {}).get(key)
    elif key in profile.defaults:
        where, value = (None, key), (raw.get("defaults") or {}).get(key)
    else:
        return None
    if where in profile.from_environment and isinstance(value, str):
        return value
    return None


def page_profile(profile: Profile, page: str) -> Profile:
    """``profile`` narrowed to what it sets on ``page`` (its ``defaults:`` the page declares,
    its own entry, ``seeds`` when the page takes them), as ``emo-book run`` applies it."""
    declared = declared_parameters(page)
    return dataclasses.replace(
        profile, defaults={k: v for k, v in profile.defaults.items() if k in declared},
        notebooks={page: profile.notebooks.get(page, {})},
        seeds=profile.seeds if SEEDS in declared else None)


def _paper_part(page: str) -> tuple[dict[str, Any] | None, list[str]]:
    """What the paper profile sets on ``page`` beyond the notebook's defaults (values read from
    the environment as their ``${VAR}`` templates) and the variables it reads; (None, []) when
    the book has no paper profile or it cannot be resolved for this page."""
    if not (profiles_dir() / f"{PAPER_PROFILE}.yml").exists():
        return None, []
    try:
        profile = page_profile(load_profile(PAPER_PROFILE), page)
        values = resolve_parameters(profile, [page], check_data=[], context=page)[page]
    except RunnerError as err:  # a paper profile that does not fit this page: no paper line
        log.warning("re-run box of %s: the paper profile does not apply (%s)", page, err)
        return None, []
    raw = _raw(profile)
    defaults = {k: literal(s["default"]) for k, s in declared_parameters(page).items()}
    paper: dict[str, Any] = {}
    for key, value in values.items():
        template = _template(profile, raw, page, key)
        if template is not None:
            paper[key] = template
        elif value != defaults.get(key, object()):
            paper[key] = value
    variables = sorted({v for t in paper.values() if isinstance(t, str)
                        for v in _VARIABLE.findall(t)})
    return paper, variables


def rerun_spec(page: str, profile: Profile, overrides: Sequence[Override] = (), *,
               named: bool = True) -> RerunSpec:
    """The re-run spec of ``page`` built with ``profile`` and ``overrides`` (``-p``,
    ``--seeds``): this build's values read from the environment (an override wins over the
    profile, so its value is never a template), and the paper profile's values for the page.
    ``named=False``: ``emo-book run`` without ``--profile`` (the spec names no profile)."""
    raw = _raw(profile)
    overridden = {o.key for o in overrides if o.notebook in (None, page)}
    templates = {}
    for key in declared_parameters(page):
        if key in overridden:
            continue
        template = _template(profile, raw, page, key)
        if template is not None:
            templates[key] = template
    paper, variables = _paper_part(page)
    return RerunSpec(page=page, profile=profile.name if named else None, templates=templates,
                     paper=paper, paper_variables=variables)


__all__ = ["page_profile", "rerun_spec"]
