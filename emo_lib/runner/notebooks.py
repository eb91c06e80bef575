"""The book's notebooks: their order (``_toc.yml``), their files and their declared parameters.

A notebook declares its parameters in its ``parameters`` cell; papermill reads them (name,
default as source text, type, help comment). :func:`type_mismatch` checks a given value against
the declared type the way the kernel would receive it. Profiles and overrides live in
:mod:`.profiles`; merging and validating them in :mod:`.parameters`.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Any, Sequence

import yaml

from .errors import ProfileError, choices_text
from .paths import EXECUTED, book_root, notebooks_dir


def book_notebooks(toc: Path | None = None) -> list[str]:
    """Notebook names in book order: the ``executed/<name>`` entries of ``_toc.yml``."""
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith(f"{EXECUTED}/"):
                names.append(f.split("/", 1)[1])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load((toc or book_root() / "_toc.yml").read_text()))
    return names


#: Pages built from the other pages' results (the claims ledger, the build status, the reader's
#: runs): they execute after every other page, and their inputs include those results.
AGGREGATE_PAGES: tuple[str, ...] = ("claims_ledger", "build_status", "runs")
#: Of those, the page that shows this build itself: it is executed by every build.
EVERY_BUILD: tuple[str, ...] = ("build_status",)


def execution_order(notebooks: list[str]) -> list[str]:
    """The book's pages in the order they execute: every page in book order, then the
    aggregate pages (:data:`AGGREGATE_PAGES`) in book order, so they read this build's
    results."""
    return [n for n in notebooks if n not in AGGREGATE_PAGES] + \
        [n for n in notebooks if n in AGGREGATE_PAGES]


#: Name parts that put pages in one execution lane: the pages of one paper share caches (the
#: stand-in model, paper 2's cross-validation cells), so they run in order in one lane.
LANE_KEYS: tuple[str, ...] = ("noh2023", "jeong2021")


def lane_groups(names: Sequence[str]) -> list[list[str]]:
    """``names`` split into lanes for :func:`.builder.build`: one per paper (``LANE_KEYS``
    in the name, book order kept) and one per other page; the longest lanes first, so that
    the short ones fill in beside them."""
    groups: dict[str, list[str]] = {}
    for name in names:
        key = next((k for k in LANE_KEYS if k in name), name)
        groups.setdefault(key, []).append(name)
    return sorted(groups.values(), key=len, reverse=True)


def notebook_path(name: str) -> Path:
    """``notebooks/<name>.ipynb``; :class:`ProfileError` naming the known notebooks if absent."""
    path = notebooks_dir() / f"{Path(name).stem}.ipynb"
    if not path.exists():
        known = sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))
        raise ProfileError(f"no notebook {name} in {notebooks_dir()}; known: {choices_text(known)}")
    return path


def declared_parameters(name: str) -> dict[str, dict[str, Any]]:
    """The notebook's ``parameters`` cell, as papermill reads it: {name: {type, default, help}}.

    ``default`` is the source text papermill reports (``'"cpu"'``); :func:`literal` evaluates it.
    ``type`` is the annotation if there is one, else the type of the default's literal.
    """
    path = notebook_path(name)
    stat = path.stat()
    return {k: dict(v) for k, v in _inspect(str(path), stat.st_mtime_ns, stat.st_size).items()}


@functools.lru_cache(maxsize=64)
def _inspect(path: str, mtime_ns: int, size: int) -> dict[str, dict[str, Any]]:
    # Keyed by mtime and size so an edited notebook is read again; one build inspects each once.
    import papermill

    out = {}
    for key, spec in papermill.inspect_notebook(path).items():
        kind = spec.get("inferred_type_name")
        if kind in (None, "None"):  # no annotation: the type of the default's literal
            kind = type(literal(spec.get("default"))).__name__
        out[key] = {"type": kind, "default": spec.get("default"), "help": spec.get("help", "")}
    return out


def literal(value: Any) -> Any:
    """papermill reports defaults as source text (``'"synthetic:cafe_like"'``); evaluate them.
    Text that is not a Python literal (an expression) is returned as it is."""
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def default_values(name: str) -> dict[str, Any]:
    """The notebook's parameter defaults as Python values."""
    return {k: literal(spec["default"]) for k, spec in declared_parameters(name).items()}


# ----------------------------------------------------------------------------- types

_ANY = "any"
_ALIASES = {"int": "int", "float": "float", "str": "str", "bool": "bool", "list": "list",
            "tuple": "list", "dict": "dict", "nonetype": _ANY, "none": "none",
            "optional": _ANY, "any": _ANY, "sequence": "list", "mapping": "dict"}


def _type_names(declared: str) -> set[str]:
    """``"int"`` -> {int}; ``"Optional[int]"`` / ``"int | None"`` -> {int, none};
    ``"list[str]"`` -> {list}; anything unknown -> {any} (cannot be checked)."""
    text = declared.strip().replace("typing.", "")
    m = re.fullmatch(r"Optional\[(.*)\]", text)
    if m:
        return _type_names(m.group(1)) | {"none"}
    m = re.fullmatch(r"Union\[(.*)\]", text)
    parts = m.group(1).split(",") if m else text.split("|")
    names: set[str] = set()
    for part in parts:
        base = re.split(r"\[", part.strip(), maxsplit=1)[0].strip().lower()
        names.add(_ALIASES.get(base, _ANY))
    return names


def _fits(value: Any, kind: str) -> bool:
    if kind == _ANY:
        return True
    if kind == "none":
        return value is None
    if isinstance(value, bool):   # bool is an int to Python, never to a person
        return kind == "bool"
    if kind == "float":           # an int is accepted where a float is expected
        return isinstance(value, (int, float))
    return isinstance(value, {"int": int, "str": str, "bool": bool, "list": (list, tuple),
                              "dict": dict}[kind])


def type_mismatch(value: Any, declared_type: str) -> str | None:
    """None if ``value`` fits the declared type, else the expected type in words.

    Rules: a None default (type ``NoneType``) accepts anything; an int is accepted where a
    float is expected; a bool is not a number; an unknown annotation is not checked."""
    names = _type_names(declared_type)
    if any(_fits(value, kind) for kind in names):
        return None
    return " or ".join(sorted("null" if n == "none" else n for n in names))
