"""The order the book's pages execute in, and the lanes they can execute in side by side.

Which pages there are (``_toc.yml``) is :mod:`emo_lib.layout`; what a notebook declares (its
file, its parameters and their types) is :mod:`emo_lib.notebook_parameters`. Profiles and
overrides live in :mod:`.profiles`; merging and validating them in :mod:`.parameters`.
"""
from __future__ import annotations

from typing import Sequence

from ..layout import AGGREGATE_PAGES, toc_parts

#: Of the aggregate pages, the page that shows this build itself: it is executed by every build.
EVERY_BUILD: tuple[str, ...] = ("build_status",)


def execution_order(notebooks: list[str]) -> list[str]:
    """The book's pages in the order they execute: every page in book order, then the
    aggregate pages (:data:`AGGREGATE_PAGES`) in book order, so they read this build's
    results."""
    return [n for n in notebooks if n not in AGGREGATE_PAGES] + \
        [n for n in notebooks if n in AGGREGATE_PAGES]


def lane_groups(names: Sequence[str]) -> list[list[str]]:
    """``names`` split into lanes for :func:`.builder.build`: one per part of ``_toc.yml``
    (the pages of one part share caches, such as a paper's stand-in model or its
    cross-validation cells, so they run in book order in one lane); the longest lanes first,
    so that the short ones fill in beside them."""
    part_of = {page: caption for caption, pages in toc_parts() for page in pages}
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(part_of.get(name, name), []).append(name)
    return sorted(groups.values(), key=len, reverse=True)


