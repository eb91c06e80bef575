"""``load_dataset(name, root=None, **options) -> Manifest`` and the registry behind it.

An adapter is a function ``(root: Path | None, **options) -> Manifest`` registered under a name.
``"synthetic:<preset>"`` names go to the generator. Each real data set also registers where it
comes from, so a missing root gives an error that says which environment variable to set and
how to obtain the data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..validation import check_choice
from .manifest import Manifest

Adapter = Callable[..., Manifest]


@dataclass(frozen=True)
class DatasetInfo:
    """What a reader needs to know to obtain a licensed data set."""

    name: str
    title: str
    env_var: str | None = None
    source: str = ""          # where it comes from and under which licence
    root_required: bool = True


class DatasetNotFound(FileNotFoundError):
    """A data set's files are not where the run looked."""


_ADAPTERS: dict[str, Adapter] = {}
_INFO: dict[str, DatasetInfo] = {}


def register_dataset(name: str, info: DatasetInfo | None = None) -> Callable[[Adapter], Adapter]:
    """Decorator: register ``fn`` as the adapter for ``name`` (and its provenance ``info``)."""

    def wrap(fn: Adapter) -> Adapter:
        _ADAPTERS[name] = fn
        _INFO[name] = info or DatasetInfo(name=name, title=name, root_required=True)
        return fn

    return wrap


def dataset_names() -> list[str]:
    from . import synthetic  # noqa: F401  (registers presets)

    names = sorted(_ADAPTERS)
    return names + [f"synthetic:{p}" for p in synthetic.preset_names()]


def dataset_info(name: str) -> DatasetInfo:
    if name.startswith("synthetic:"):
        return DatasetInfo(name=name, title=f"synthetic preset {name.split(':', 1)[1]}",
                           root_required=False, source="generated on demand by emo_lib")
    _ensure_adapters()
    return _INFO[check_choice("data set", name, dataset_names())]


def resolve_root(name: str, root: str | Path | None) -> Path | None:
    """The root to use: the given one, else the data set's environment variable, else None."""
    if root not in (None, ""):
        return Path(os.path.expanduser(str(root)))
    info = dataset_info(name)
    if info.env_var and os.environ.get(info.env_var):
        return Path(os.environ[info.env_var])
    return None


def check_available(name: str, root: str | Path | None = None) -> Path | None:
    """Raise :class:`DatasetNotFound` (saying where it looked and how to get it) unless the
    data set can be loaded; return the resolved root. Cheap: looks at the root only."""
    info = dataset_info(name)
    path = resolve_root(name, root)
    if not info.root_required:
        return path
    how = f" Obtain it from: {info.source}." if info.source else ""
    if path is None:
        hint = (f"set the environment variable {info.env_var} to its folder"
                if info.env_var else "pass root=PATH")
        raise DatasetNotFound(
            f"data set {name!r} ({info.title}): no root given and "
            f"{info.env_var or 'no environment variable'} is not set; {hint}.{how}"
        )
    if not path.exists():
        via = f" (from {info.env_var})" if info.env_var and root in (None, "") else ""
        raise DatasetNotFound(
            f"data set {name!r} ({info.title}): looked in {path}{via}, which does not exist; "
            f"point {'root=' if not info.env_var else info.env_var + ' or root='} at the folder "
            f"that holds it.{how}"
        )
    return path


def _ensure_adapters() -> None:
    # Importing the adapter modules registers them; done lazily to keep `import emo_lib` light.
    from . import adapters  # noqa: F401


def load_dataset(name: str, root: str | Path | None = None, **options: Any) -> Manifest:
    """Load a data set as a validated :class:`Manifest`.

    Args:
        name: ``"synthetic:<preset>"`` (embedded default, no download), or a registered adapter
            (``"cafe"``, ``"nimh_chefs"``, ``"se30k8"``, ``"folder"``, ``"csv"``).
        root: the data set's folder (or file, for ``"csv"``); default: its environment variable.
        **options: adapter options (``seed``, ``scale``, ``size`` for synthetic presets...).
    """
    if name.startswith("synthetic:"):
        from . import synthetic

        return synthetic.load_preset(name.split(":", 1)[1], root=root, **options)
    _ensure_adapters()
    check_choice("data set", name, dataset_names())
    path = check_available(name, root)
    return _ADAPTERS[name](path, **options)


def synthetic_options(name: str, **options: Any) -> dict[str, Any]:
    """``options`` if ``name`` is a synthetic preset, else ``{}``: lets a notebook pass
    generator settings (size, seed, scale) without handing them to a real-data adapter."""
    return dict(options) if name.startswith("synthetic:") else {}
