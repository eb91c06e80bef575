"""Profiles (``profiles/<name>.yml``) and ``-p [NOTEBOOK.]KEY=VALUE`` overrides, as read.

A profile holds only what differs from the notebooks' own defaults::

    name: paper
    description: ...
    defaults:          # for every notebook that declares the parameter
      device: cuda
    notebooks:         # for one notebook
      some_page: {num_samples: 1000}
    seeds: [0, 1, 2]   # optional: every page that declares `seeds` computes its claims per seed
    kernel: emo-lib    # optional
    executor:          # optional; read by the training units (see options.py)
      kind: slurm
      partition: gpu
    compute:           # optional; how the arithmetic is done (emo_lib.compute_settings)
      deterministic: true
      pin_cpu: avx2

``${VAR}`` in a value is read from the environment when the profile is loaded. This module reads
and parses; merging with the notebooks' declarations and validating is :mod:`.parameters`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from .errors import ProfileError, choices_text
from ..validation import check_seeds
from ..layout import KERNEL_NAME, profiles_dir
from ..notebook_parameters import read_yaml  # YAML as -p and profiles write it (1e-4: a float)

_ENV = re.compile(r"\$\{(\w+)\}")
_TOP_KEYS = ("name", "description", "defaults", "notebooks", "kernel", "executor", "compute",
             "seeds")
#: The parameter a profile's ``seeds`` and ``--seeds`` set on every page that declares it.
SEEDS = "seeds"
_OVERRIDE = re.compile(r"(?:([A-Za-z_][\w\-]*)\.)?([A-Za-z_]\w*)=(.*)", re.S)


@dataclass
class Profile:
    name: str
    path: Path
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    notebooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    kernel: str = KERNEL_NAME
    executor: dict[str, Any] = field(default_factory=dict)
    compute: dict[str, Any] = field(default_factory=dict)
    #: The top-level ``seeds``: set on every notebook that declares a ``seeds`` parameter
    #: (below the profile's ``defaults``/``notebooks`` entries); None when not given.
    seeds: list[int] | None = None
    #: (notebook or None for ``defaults``, key) of values that read ``${VAR}``: their value
    #: depends on the environment, so they are never "the same as the default".
    from_environment: set[tuple[str | None, str]] = field(default_factory=set)


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if isinstance(value, list):
        return [_expand(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


def _reads_environment(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_ENV.search(value))
    if isinstance(value, list):
        return any(_reads_environment(v) for v in value)
    if isinstance(value, dict):
        return any(_reads_environment(v) for v in value.values())
    return False


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProfileError(f"{where} must be a mapping of names to values, not {value}")
    return value


def load_profile(spec: str | Path) -> Profile:
    """``smoke``/``paper``/any name in ``profiles/``, or a path to a YAML file."""
    path = Path(spec)
    if not path.suffix:
        path = profiles_dir() / f"{spec}.yml"
    if not path.exists():
        known = sorted(p.stem for p in profiles_dir().glob("*.yml"))
        raise ProfileError(f"no profile {spec} (looked for {path}); known: {choices_text(known)}, "
                           "or pass a path to a YAML file")
    try:
        data = read_yaml(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ProfileError(f"{path} is not valid YAML: {err}") from None
    data = _mapping(data, str(path))
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise ProfileError(f"{path}: unknown key(s) {choices_text(unknown)}; allowed: "
                           f"{choices_text(_TOP_KEYS)}")
    defaults = _mapping(data.get("defaults"), f"{path}: defaults")
    notebooks = {nb: _mapping(v, f"{path}: notebooks: {nb}")
                 for nb, v in _mapping(data.get("notebooks"), f"{path}: notebooks").items()}
    executor = data.get("executor") or {}
    if isinstance(executor, str):   # `executor: slurm` is short for `executor: {kind: slurm}`
        executor = {"kind": executor}
    executor = _mapping(executor, f"{path}: executor")
    compute = _mapping(data.get("compute"), f"{path}: compute")
    from_env = {(None, k) for k, v in defaults.items() if _reads_environment(v)}
    from_env |= {(nb, k) for nb, given in notebooks.items() for k, v in given.items()
                 if _reads_environment(v)}
    seeds = data.get(SEEDS)
    if seeds is not None:
        seeds = check_seeds(f"{path}: seeds", seeds, error=ProfileError)
    return Profile(name=str(data.get("name", path.stem)), path=path,
                   description=data.get("description", ""),
                   defaults=_expand(defaults),
                   notebooks={nb: _expand(v) for nb, v in notebooks.items()},
                   kernel=data.get("kernel", KERNEL_NAME),
                   executor=_expand(executor), compute=_expand(compute),
                   from_environment=from_env, seeds=seeds)


@dataclass(frozen=True)
class Override:
    """One ``-p [NOTEBOOK.]KEY=VALUE``: ``notebook`` is None when it applies to every notebook
    that declares ``key``."""

    notebook: str | None
    key: str
    value: Any
    text: str
    #: How it was given when not by ``-p`` (``--seeds 0,1,2``).
    flag: str = ""

    @property
    def source(self) -> str:
        return self.flag or f"-p {self.text}"


def parse_override(item: str) -> Override:
    """``"[NOTEBOOK.]KEY=VALUE"`` -> :class:`Override`; VALUE is read as YAML (``3``, ``1e-4``,
    ``[a, b]``, ``{k: v}``, ``true``, ``null``); an empty VALUE is the empty text."""
    m = _OVERRIDE.fullmatch(item.strip())
    if not m:
        raise ProfileError(f"bad -p {item}: write KEY=VALUE (every notebook that declares KEY) "
                           "or NOTEBOOK.KEY=VALUE (one notebook)")
    notebook, key, text = m.groups()
    if text.strip() == "":
        value: Any = ""
    else:
        try:
            value = read_yaml(text)
        except yaml.YAMLError as err:
            first = str(err).splitlines()[0]
            raise ProfileError(f"bad -p {item}: the value {text} is not valid YAML ({first}); "
                               "quote text that holds YAML punctuation") from None
    return Override(notebook, key, value, item.strip())


def parse_overrides(items: Sequence[str] | None) -> list[Override]:
    """Every ``-p`` item, in order (a later one wins over an earlier one for the same target)."""
    return [parse_override(item) for item in items or ()]


def parse_seeds(text: str) -> list[int]:
    """``--seeds 0,1,2`` -> [0, 1, 2] (ProfileError naming the value otherwise)."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ProfileError(f"--seeds {text}: write the seeds as integers separated by commas, "
                           "e.g. --seeds 0,1,2") from None
    return check_seeds(f"--seeds {text}", values, error=ProfileError)


def seeds_override(text: str, overrides: Sequence[Override] = ()) -> Override:
    """``--seeds TEXT`` as the override of ``seeds`` for every page that declares it (the
    same standing as ``-p seeds=[...]``, so a ``-p NOTEBOOK.seeds=...`` still wins for its
    notebook); given together with ``-p seeds=...`` it is an error (one source of seeds)."""
    clash = [o.source for o in overrides if o.key == SEEDS and o.notebook is None]
    if clash:
        raise ProfileError(f"--seeds {text} and {', '.join(clash)} both set seeds for every "
                           "page: give one of them")
    seeds = parse_seeds(text)
    return Override(None, SEEDS, seeds, f"{SEEDS}={seeds}", flag=f"--seeds {text}")
