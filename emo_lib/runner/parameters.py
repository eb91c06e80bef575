"""Each notebook's parameters for one build: the notebook's defaults, then the profile, then the
``-p`` overrides; validated before anything runs, every problem reported at once.

Order, later wins: notebook default < profile ``seeds:`` (the ``seeds`` parameter of every
notebook that declares it) < profile ``defaults:`` < profile ``notebooks: <nb>:`` <
``-p KEY=VALUE`` or ``--seeds`` < ``-p NOTEBOOK.KEY=VALUE``. Checked: notebooks that do not
exist, parameters a notebook does not declare, values of the wrong type (against the types
papermill infers), and data sets that are not where the parameters say (``<x>_dataset`` /
``<x>_root`` pairs), each missing data set reported once with the pages that need it. Reading
profiles is :mod:`.profiles`; the declarations :mod:`.notebooks`.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from .errors import ProfileError, ValidationError, choices_text, show
from ..notebook_parameters import declared_parameters, literal, type_mismatch
from .profiles import SEEDS, Override, Profile


def resolve_parameters(profile: Profile, notebooks: Sequence[str],
                       overrides: Sequence[Override] = (), *,
                       check_data: Iterable[str] | None = None,
                       context: str | None = None) -> dict[str, dict[str, Any]]:
    """The parameters papermill injects into each notebook (only those the profile or the
    overrides set; the rest keep the notebook's defaults).

    Args:
        profile: the loaded profile.
        notebooks: every notebook the profile and overrides may name (the book's, in order).
        overrides: parsed ``-p`` items.
        check_data: the notebooks whose data sets must be present (default: all); a build with
            ``--only`` checks only the pages it runs.
        context: what cannot run, for the error's first line (default: the profile).

    Raises:
        ValidationError: listing every problem found.
    """
    problems: list[str] = []
    book = list(notebooks)
    declared: dict[str, dict[str, dict[str, Any]]] = {}
    for nb in book:
        try:
            declared[nb] = declared_parameters(nb)
        except ProfileError as err:
            problems.append(str(err))
    for nb in profile.notebooks:
        if nb not in book:
            problems.append(f"notebook {nb} (in {profile.path}) is not in the book; notebooks: "
                            f"{choices_text(book)}")
    if profile.seeds is not None and not seed_pages(declared):
        problems.append(f"seeds (in {profile.path}) is taken by no notebook of the book")
    for key in profile.defaults:
        if not any(key in d for d in declared.values()):
            problems.append(f"{key} (in {profile.path}: defaults) is declared by no notebook")
    for o in overrides:
        if o.notebook is not None and o.notebook not in book:
            problems.append(f"{o.source}: no notebook {o.notebook}; notebooks: "
                            f"{choices_text(book)}")
        elif o.notebook is None and not any(o.key in d for d in declared.values()):
            problems.append(f"{o.source}: no notebook declares {o.key}")

    resolved: dict[str, dict[str, Any]] = {}
    wrong_type: dict[tuple, list[str]] = {}
    for nb, decl in declared.items():
        given: dict[str, tuple[Any, str]] = {}
        if profile.seeds is not None and SEEDS in decl:
            given[SEEDS] = (list(profile.seeds), f"{profile.path}: seeds")
        given |= {k: (v, f"{profile.path}: defaults") for k, v in profile.defaults.items()
                  if k in decl}
        for key, value in profile.notebooks.get(nb, {}).items():
            if key not in decl:
                problems.append(_undeclared(nb, key, f"{profile.path}: notebooks: {nb}", decl))
            else:
                given[key] = (value, f"{profile.path}: notebooks: {nb}")
        for o in sorted(overrides, key=lambda o: o.notebook is not None):  # global ones first
            if o.notebook == nb and o.key not in decl:
                problems.append(_undeclared(nb, o.key, o.source, decl))
            elif o.notebook in (nb, None) and o.key in decl:
                given[o.key] = (o.value, o.source)
        for key, (value, source) in given.items():
            expected = type_mismatch(value, decl[key]["type"])
            if expected:   # one line for a value that fits none of the notebooks it reaches
                wrong_type.setdefault((key, show(value), _kind(value), source, expected,
                                       decl[key]["default"]), []).append(nb)
        resolved[nb] = {k: v for k, (v, _) in given.items()}
    for (key, value, kind, source, expected, default), nbs in wrong_type.items():
        declaring = [nb for nb, d in declared.items() if key in d]
        where = (f"every notebook that declares {key}" if len(nbs) > 2 and nbs == declaring
                 else choices_text(nbs))
        problems.append(f"{where}: {key} = {value} (from {source}) is {kind}; "
                        f"expected {expected} (default: {default})")

    wanted = set(book if check_data is None else check_data)
    problems += _missing_data({nb: merged_parameters(nb, p) for nb, p in resolved.items()
                               if nb in wanted})
    if problems:
        raise ValidationError(f"{context or 'profile ' + profile.name} cannot run "
                              f"({len(problems)} problem"
                              f"{'s' if len(problems) > 1 else ''}):", problems)
    return resolved


def seed_pages(declared: dict[str, dict[str, Any]]) -> list[str]:
    """The notebooks (of ``{notebook: declared parameters}``) that take ``seeds``: those whose
    claims are computed once per seed."""
    return [nb for nb, d in declared.items() if SEEDS in d]


def seeds_note(notebooks: Sequence[str], resolved: dict[str, dict[str, Any]]) -> str:
    """One line saying which of ``notebooks`` compute their claims per seed, with which seeds
    (from ``resolved`` parameters, else the notebook's default), and that the others do not
    depend on a seed."""
    declared = {nb: declared_parameters(nb) for nb in notebooks}
    taking = seed_pages(declared)
    if not taking:
        return "seeds: no page of this build takes seeds"
    by_value: dict[str, list[str]] = {}
    for nb in taking:
        value = resolved.get(nb, {}).get(SEEDS, literal(declared[nb][SEEDS]["default"]))
        by_value.setdefault(show(value), []).append(nb)
    parts = [f"{value} on {choices_text(nbs)}" for value, nbs in by_value.items()]
    rest = len(notebooks) - len(taking)
    return ("seeds: claims computed per seed, " + "; ".join(parts)
            + (f" ({rest} other page{'s' if rest != 1 else ''} take no seeds)" if rest else ""))


def _undeclared(nb: str, key: str, source: str, declared: dict[str, Any]) -> str:
    return (f"{nb}: parameter {key} (from {source}) is not declared by the notebook; it "
            f"declares {choices_text(sorted(declared))}")


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def merged_parameters(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every declared parameter's value for a run: the notebook's defaults updated by ``params``."""
    defaults = {k: literal(spec["default"]) for k, spec in declared_parameters(name).items()}
    return defaults | params


def dataset_pairs(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Each ``<x>_dataset`` parameter with its ``<x>_root`` and ``<x>_options``:
    [{prefix, dataset, root, options}]."""
    pairs = []
    for key, value in params.items():
        if key.endswith("_dataset") and isinstance(value, str) and value:
            prefix = key[: -len("_dataset")]
            options = params.get(f"{prefix}_options")
            pairs.append({"prefix": prefix, "dataset": value,
                          "root": params.get(f"{prefix}_root") or None,
                          "options": options if isinstance(options, dict) else {}})
    return pairs


def _missing_data(merged: dict[str, dict[str, Any]]) -> list[str]:
    """One line per missing (data set, root), naming the pages that need it."""
    from ..data import DatasetNotFound, check_available

    pages: dict[tuple[str, str | None], list[str]] = {}
    for nb, params in merged.items():
        for pair in dataset_pairs(params):
            pages.setdefault((pair["dataset"], pair["root"]), []).append(nb)
    problems = []
    for (name, root), needed_by in pages.items():
        try:
            check_available(name, root)
        except (DatasetNotFound, KeyError, ValueError) as err:
            problems.append(f"{err.args[0] if err.args else err} Needed by: "
                            f"{choices_text(needed_by)}.")
    return problems


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def redundant_entries(profile: Profile, notebooks: Sequence[str]) -> list[str]:
    """Entries of ``profile`` that change nothing (each notebook would get the same value without
    them): a ``notebooks:`` value equal to what the notebook gets anyway, a ``defaults:`` value
    equal to the default of every notebook it reaches. Removing all of them together changes
    no notebook's parameters. Values read from ``${VAR}`` never count."""
    declared = {nb: declared_parameters(nb) for nb in notebooks}
    default = {nb: {k: literal(s["default"]) for k, s in d.items()} for nb, d in declared.items()}
    found = []
    for key, value in profile.defaults.items():
        if (None, key) in profile.from_environment:
            continue
        # notebooks it reaches; one repeating it counts as reached (that repeat is redundant)
        reached = [nb for nb in notebooks if key in declared[nb]
                   and _same(profile.notebooks.get(nb, {}).get(key, value), value)]
        if all(_same(value, default[nb][key]) for nb in reached):
            why = (f"the default of {choices_text(reached)}" if reached
                   else "overridden by every notebook that declares it")
            found.append(f"{profile.path}: defaults: {key} = {show(value)} is {why}")
    for nb, given in profile.notebooks.items():
        for key, value in given.items():
            if (nb, key) in profile.from_environment or key not in declared.get(nb, {}):
                continue
            anyway = profile.defaults.get(key, default[nb][key])
            if _same(value, anyway):
                whence = "the profile's defaults" if key in profile.defaults else "its default"
                found.append(f"{profile.path}: notebooks: {nb}: {key} = {show(value)} is "
                             f"{whence}")
    return found
