"""What a notebook declares: its file, its ``parameters`` cell as papermill reads them, and its
``emo_book`` metadata (what the page tells the book machinery, e.g. its plan provider:
:mod:`emo_lib.planning`).

A notebook declares its parameters in its ``parameters`` cell; papermill reads them (name,
default as source text, type, help comment). :func:`literal` turns a default's source text into
a value (the one place that does); :func:`type_mismatch` checks a given value against the
declared type the way the kernel would receive it. :func:`read_yaml` reads a value the way
``-p KEY=VALUE`` and the profiles write it, and :func:`yaml_text` writes one so (the parameters
table of every page, the re-run box's commands). The runner (which validates ``-p`` overrides)
and the pages (which show their parameters) both read these, so they live below both.
"""
from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml

from .layout import notebooks_dir
from .validation import choices_text


class NotebookNotFound(ValueError):
    """No notebook of that name in the book's ``notebooks/`` folder."""


def notebook_path(name: str) -> Path:
    """``notebooks/<name>.ipynb``; :class:`ProfileError` naming the known notebooks if absent."""
    path = notebooks_dir() / f"{Path(name).stem}.ipynb"
    if not path.exists():
        known = sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))
        raise NotebookNotFound(f"no notebook {name} in {notebooks_dir()}; "
                               f"known: {choices_text(known)}")
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


def book_metadata(name: str) -> dict[str, Any]:
    """The notebook's ``emo_book`` metadata (its source's header: ``jupyter: emo_book: ...``),
    or {} when it has none."""
    path = notebook_path(name)
    stat = path.stat()
    return dict(_metadata(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _metadata(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    meta = json.loads(Path(path).read_text()).get("metadata", {}).get("emo_book") or {}
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: notebook metadata emo_book must be a mapping, not {meta!r}")
    return meta


def literal(value: Any) -> Any:
    """papermill reports defaults as source text (``'"synthetic:cafe_like"'``); evaluate them.
    Text that is not a Python literal (an expression) is returned as it is."""
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


# ----------------------------------------------------------------------------- YAML

#: A number in scientific notation without a dot (``1e-4``): YAML 1.1 reads it as text, people
#: mean a float; the loader reads it as a float and the dumper quotes such text.
_SCIENTIFIC = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class _Loader(yaml.SafeLoader):
    """YAML as people write numbers: ``1e-4`` is a float (YAML 1.1 reads it as text)."""


class _Dumper(yaml.SafeDumper):
    """Writes what :class:`_Loader` reads back unchanged (text such as ``"1e-4"`` is quoted)."""


for _cls in (_Loader, _Dumper):
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _SCIENTIFIC, list("-+0123456789."))


def read_yaml(text: str) -> Any:
    """A YAML document or value as ``-p KEY=VALUE`` and the profiles are read."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


def yaml_text(value: Any) -> str:
    """``value`` in YAML flow notation, on one line, as :func:`read_yaml` reads it back:
    ``""``, ``null``, ``true``, ``0.0001``, ``[random_crop, rotation]``, ``{method: slic,
    n: 3}``; text is quoted only where YAML needs it (``'1e-4'``, ``'null'``, ``'3'``).
    Tuples are written as lists. ValueError for what YAML cannot hold (an object)."""
    if value == "" and isinstance(value, str):
        return '""'
    try:
        text = yaml.dump(_plain(value), Dumper=_Dumper, default_flow_style=True,
                         width=float("inf"), allow_unicode=True, sort_keys=False)
    except yaml.representer.RepresenterError as err:
        raise ValueError(f"{value!r} cannot be written as YAML: {err}") from None
    return text.removesuffix("\n...\n").strip()  # a scalar's document-end marker


def _plain(value: Any) -> Any:
    """Tuples as lists and numpy scalars as Python numbers, recursively."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value


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


__all__ = ["NotebookNotFound", "book_metadata", "declared_parameters", "literal", "notebook_path",
           "read_yaml", "type_mismatch", "yaml_text"]
