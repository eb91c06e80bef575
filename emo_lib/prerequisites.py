"""Prerequisites: the cached computations a page needs before its own work (pretrained weights),
declared so that ``emo-book build --lanes N`` can compute them in whichever lane is free.

Most of a cold smoke build's time is pretraining: paper 2's four synthetic-face backbones and
paper 1's stand-ins. Each is cached by its recipe (:class:`emo_lib.cache.DiskCache`), so it
makes no difference to any number which process computes it: the page that needs it reads the
entry. Declared here, they stop tying a paper's whole pretraining to that paper's lane; the
runner (:mod:`emo_lib.runner.schedule`) starts them first, costliest first, in any lane, and a
page starts once its own are done.

A page declares them like its plan, in its source's header::

    # jupyter:
    #   emo_book:
    #     prerequisites: emo_lib.<paper package>.prerequisites

and that module registers a provider for the page when it is imported
(:func:`emo_lib.planning.register_prerequisites`; the registry of pages lives with the plans:
this module is imported by the cached computations, so it is part of their code digest, and it
imports nothing beyond the cache's own code, so the page registry never enters their keys)::

    @register_prerequisites("<page>")
    def needs(notebook, params) -> list[Prerequisite]: ...

A :class:`Prerequisite` names a function registered with :func:`runnable` (a whitelist: a
prerequisite runs nothing else) and its keyword arguments as plain JSON. ``python -m
emo_lib.prerequisites '<json>'`` runs one in the kernel's interpreter and environment (the same
arithmetic, so the same cache key as the page's own call) and prints what the function returned.
The provider must build the arguments with the same helpers as the page's own call: a
prerequisite whose key differs from the page's is computed twice (the page's ``cache`` column
says "trained" instead of "hit"; ``tests/test_prerequisites.py`` checks every provider).

What it does not do: find a page's prerequisites (:mod:`emo_lib.planning`), schedule them
(:mod:`emo_lib.runner.schedule`) or know what a page trains (the providers do).
"""
from __future__ import annotations

import importlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .cache import canonical_json

#: The only package a prerequisite's function may belong to.
PACKAGE = "emo_lib"


@dataclass(frozen=True)
class Prerequisite:
    """One cached computation: ``target`` (``"<emo_lib module>:<function>"``, registered with
    :func:`runnable`) called with ``kwargs`` (plain JSON); ``label`` for the build's report;
    ``cost`` a relative estimate (images x epochs x input pixels) that orders them, costliest
    first. Two with the same target and arguments are one (:attr:`key`)."""

    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    cost: float = 0.0

    @property
    def key(self) -> str:
        return canonical_json({"target": self.target, "kwargs": dict(self.kwargs)})

    def command(self, python: str) -> list[str]:
        """The command line that computes it with ``python`` (the kernel's interpreter)."""
        return [python, "-m", __name__, self.key]


class PrerequisiteError(ValueError):
    """A prerequisite names a function outside emo_lib, or one not registered with
    :func:`runnable`."""


_RUNNABLE: dict[str, Callable[..., Any]] = {}


def runnable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Allow ``fn`` (a function of an emo_lib module) as a :attr:`Prerequisite.target`."""
    _RUNNABLE[target_of(fn)] = fn
    return fn


def target_of(fn: Callable[..., Any]) -> str:
    """``"<module>:<function>"``: how a :class:`Prerequisite` names ``fn``."""
    return f"{fn.__module__}:{fn.__qualname__}"


def run(key: str) -> Any:
    """Compute the prerequisite whose :attr:`Prerequisite.key` is ``key``: import its module
    (emo_lib only), check that the function is registered with :func:`runnable`, call it."""
    spec = json.loads(key)
    target, kwargs = spec["target"], spec["kwargs"]
    module, _, name = str(target).partition(":")
    if not (module == PACKAGE or module.startswith(PACKAGE + ".")) or not name:
        raise PrerequisiteError(f"prerequisite target {target!r} is not "
                                f"'<{PACKAGE} module>:<function>'")
    importlib.import_module(module)
    if target not in _RUNNABLE:
        raise PrerequisiteError(f"prerequisite target {target!r} is not registered with "
                        f"emo_lib.prerequisites.runnable (registered: {sorted(_RUNNABLE)})")
    return _RUNNABLE[target](**kwargs)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emo_lib.prerequisites '<key>'``: compute one; print one JSON line (the
    function's report, and ``seconds``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m emo_lib.prerequisites '<prerequisite key (JSON)>'",
              file=sys.stderr)
        return 2
    start = time.perf_counter()
    report = run(args[0])
    print(json.dumps({"report": report, "seconds": round(time.perf_counter() - start, 2)},
                     default=str), flush=True)
    return 0


__all__ = ["Prerequisite", "PrerequisiteError", "main", "run", "runnable", "target_of"]

if __name__ == "__main__":
    # the targets register with emo_lib.prerequisites, not with this __main__ copy of it
    from emo_lib.prerequisites import main as _main

    raise SystemExit(_main())
