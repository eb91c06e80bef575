"""What ``emo-book plan`` knows about a page before anything runs: a registry of *plan
providers* by page name, and the table the command prints from their plans.

A page whose cells are training units says so in its source's header (notebook metadata),
naming the module that registers its provider::

    # ---
    # jupyter:
    #   emo_book:
    #     plan: emo_lib.<paper package>.plan
    #   kernelspec: ...

and that module registers a function for the page when it is imported::

    @register_plan("<page>", "<another page>")
    def plan_page(notebook, params, *, executor, rate, rates, cache) -> PagePlan: ...

(the paper-2 pages do this: see their sources' headers.)

:func:`plan_providers` reads each page's metadata, imports the module it names (a module of
``emo_lib`` only: metadata never leads outside the package) and looks the page up here; so the
runner asks for plans without knowing which paper, or which page, has them. A page without the
metadata has no training units to plan.

The same mechanism finds a page's *prerequisites* (:mod:`emo_lib.prerequisites`: pretrained
weights a build computes before the pages, in any lane): metadata key ``prerequisites``,
decorator :func:`register_prerequisites`, :func:`book_prerequisites` for the pages of a build.

What it does not do: count units or estimate hours (the providers do), or run anything.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Protocol

import pandas as pd

from .notebook_parameters import book_metadata
from .prerequisites import Prerequisite
from .validation import choices_text

#: The metadata key (under ``emo_book``) naming a page's provider module.
METADATA_KEY = "plan"
#: The only package a page's metadata may name a module of.
PACKAGE = "emo_lib"


@dataclass
class PagePlan:
    """One page's plan: ``cells`` and ``units`` (training units, distinct within the page),
    ``done`` (None: unknown, the data are not here), the longest cell's ``max_epochs``, the
    ``gpu_hours`` of the missing units with their ``basis``, a note on the data, and the units'
    ids (``unit_ids``: pages that share cells share ids, so totals count a unit once)."""

    notebook: str
    cells: int
    units: int
    done: int | None
    max_epochs: int
    gpu_hours: float
    basis: str
    data_note: str
    unit_ids: set[str] = field(default_factory=set)


class PlanProvider(Protocol):
    def __call__(self, notebook: str, params: Mapping[str, Any], *, executor: Any = None,
                 rate: float | None = None,
                 rates: Mapping[str, Mapping[str, float]] | None = None,
                 cache: Any = True) -> PagePlan: ...


_PROVIDERS: dict[str, PlanProvider] = {}


class PlanError(ValueError):
    """A page's plan metadata names a module outside emo_lib, or one that registers no
    provider for the page."""


def register_plan(*pages: str) -> Callable[[PlanProvider], PlanProvider]:
    """Register the decorated function as the plan provider of ``pages``."""
    def register(provider: PlanProvider) -> PlanProvider:
        for page in pages:
            known = _PROVIDERS.get(page)
            if known is not None and _name(known) != _name(provider):
                raise PlanError(f"page {page} already has the plan provider {_name(known)}; "
                                f"{_name(provider)} cannot register it again")
            _PROVIDERS[page] = provider
        return provider
    return register


def _name(fn: Any) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def declared_module(page: str, key: str, registered: Mapping[str, Any], decorator: str
                    ) -> bool:
    """Import the emo_lib module that ``page``'s notebook metadata names under
    ``emo_book.<key>`` and check that it registered the page in ``registered`` (with
    ``decorator``). False when the page names none; :class:`PlanError` when the metadata
    cannot be followed (a module outside emo_lib, a missing module, no registration)."""
    module = book_metadata(page).get(key)
    if module is None:
        return False
    if not isinstance(module, str) or not (module == PACKAGE
                                           or module.startswith(PACKAGE + ".")):
        raise PlanError(f"{page}: its notebook metadata emo_book.{key} = {module!r} is "
                        f"not a module of {PACKAGE}; name the {PACKAGE} module that registers "
                        f"the page with {decorator}")
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise PlanError(f"{page}: its notebook metadata emo_book.{key} names {module}, "
                        f"which does not exist ({err})") from err
    if page not in registered:
        raise PlanError(f"{page}: its notebook metadata names {module}, which registers no {key} "
                        f"for it (registered pages: {choices_text(sorted(registered))}); "
                        f"decorate its provider with @{decorator.rsplit('.', 1)[-1]}({page!r})")
    return True


def plan_provider(page: str) -> PlanProvider | None:
    """The page's provider: imported from the module its metadata names; None when the page
    declares no plan. :class:`PlanError` when the metadata cannot be followed."""
    if not declared_module(page, METADATA_KEY, _PROVIDERS, "emo_lib.planning.register_plan"):
        return None
    return _PROVIDERS[page]


def plan_providers(pages: Iterable[str]) -> dict[str, PlanProvider]:
    """{page: provider} for the ``pages`` that declare a plan, in their order."""
    found = {page: plan_provider(page) for page in pages}
    return {page: p for page, p in found.items() if p is not None}


def plan_pages(params_by_page: Mapping[str, Mapping[str, Any]], *, executor: Any = None,
               rate: float | None = None,
               rates: Mapping[str, Mapping[str, float]] | None = None,
               cache: Any = True) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The plans of the pages in ``params_by_page`` (page -> every parameter it declares) that
    declare one: a table (page, cells, units, done, missing, max epochs, GPU hours of the
    missing units, basis, data) and totals over distinct units (pages share cells)."""
    providers = plan_providers(params_by_page)
    plans = [provider(page, params_by_page[page], executor=executor, rate=rate, rates=rates,
                      cache=cache) for page, provider in providers.items()]
    table = pd.DataFrame([{
        "page": p.notebook, "cells": p.cells, "units": p.units,
        "done": "?" if p.done is None else p.done,
        "missing": "?" if p.done is None else p.units - p.done,
        "max epochs": p.max_epochs, "GPU hours": float(f"{p.gpu_hours:.3g}"), "basis": p.basis,
        "data": p.data_note} for p in plans])
    distinct = set().union(*(p.unit_ids for p in plans)) if plans else set()
    totals = {"units": sum(p.units for p in plans), "distinct units": len(distinct),
              "GPU hours (pages summed; shared units counted per page)":
                  float(f"{sum(p.gpu_hours for p in plans):.3g}")}
    return table, totals


# --------------------------------------------------------------------- prerequisite providers

#: The metadata key (under ``emo_book``) naming a page's prerequisite provider module.
PREREQUISITES_KEY = "prerequisites"


class PrerequisiteProvider(Protocol):
    def __call__(self, notebook: str, params: Mapping[str, Any]) -> list[Prerequisite]: ...


_PREREQUISITE_PROVIDERS: dict[str, PrerequisiteProvider] = {}


def register_prerequisites(*pages: str
                           ) -> Callable[[PrerequisiteProvider], PrerequisiteProvider]:
    """Register the decorated function as the prerequisite provider of ``pages``: what each
    needs computed before it runs (:mod:`emo_lib.prerequisites`), declared in its notebook
    metadata as ``emo_book: prerequisites: <emo_lib module>``."""
    def register(provider: PrerequisiteProvider) -> PrerequisiteProvider:
        for page in pages:
            _PREREQUISITE_PROVIDERS[page] = provider
        return provider
    return register


def page_prerequisites(page: str, params: Mapping[str, Any]) -> list[Prerequisite]:
    """What ``page`` needs computed first with these parameters (every parameter it declares:
    its defaults merged with the profile's); [] when it declares no provider."""
    if not declared_module(page, PREREQUISITES_KEY, _PREREQUISITE_PROVIDERS,
                           "emo_lib.planning.register_prerequisites"):
        return []
    return list(_PREREQUISITE_PROVIDERS[page](page, params))


def book_prerequisites(params_by_page: Mapping[str, Mapping[str, Any]], *,
                       on_error: Callable[[str, Exception], None] | None = None
                       ) -> tuple[list[Prerequisite], dict[str, list[str]]]:
    """The distinct prerequisites of the pages in ``params_by_page``, costliest first, and
    for each page the keys of its own. ``on_error(page, error)``: called for a page whose
    provider raises, which then has none (default: the error propagates)."""
    found: dict[str, Prerequisite] = {}
    needs: dict[str, list[str]] = {}
    for page, params in params_by_page.items():
        try:
            mine = page_prerequisites(page, params)
        except Exception as err:
            if on_error is None:
                raise
            on_error(page, err)
            continue
        needs[page] = [p.key for p in mine]
        for p in mine:
            found.setdefault(p.key, p)
    return sorted(found.values(), key=lambda p: -p.cost), needs


__all__ = ["METADATA_KEY", "PREREQUISITES_KEY", "PagePlan", "PlanError", "PlanProvider",
           "PrerequisiteProvider", "book_prerequisites", "declared_module", "page_prerequisites",
           "plan_pages", "plan_provider", "plan_providers", "register_plan",
           "register_prerequisites"]
