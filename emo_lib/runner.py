"""``emo-book``: execute the parameterized notebooks with papermill and build the Jupyter Book.

    emo-book build [--profile smoke|paper|FILE] [--only NAME ...] [-p NAME.key=value ...]
    emo-book run NOTEBOOK [-p key value ...] [--profile P] [--out DIR]
    emo-book list
    emo-book check [--profile P]

A profile (``profiles/<name>.yml``) sets parameters per notebook (``notebooks:``) and for every
notebook that declares them (``defaults:``); ``${VAR}`` in a value is read from the environment.
Everything is validated before anything runs: unknown notebooks, parameters a notebook does not
declare, and data sets that are not where the profile says (``<x>_dataset`` / ``<x>_root``
parameter pairs) are reported together, with where the run looked and how to obtain the data.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from .storage import REPO_ROOT

KERNEL_NAME = "emo-lib"
EXECUTED = "executed"    # gitignored folder of executed notebooks; _toc.yml points here


def book_root() -> Path:
    """The book root: ``$EMO_BOOK_ROOT`` (tests build a copy elsewhere), else the repository."""
    return Path(os.environ.get("EMO_BOOK_ROOT", REPO_ROOT))


def notebooks_dir() -> Path:
    return book_root() / "notebooks"


def executed_dir() -> Path:
    return book_root() / EXECUTED


def runs_dir() -> Path:
    """Where `emo-book run` writes (gitignored)."""
    return book_root() / "runs"


def profiles_dir() -> Path:
    return book_root() / "profiles"

_ENV = re.compile(r"\$\{(\w+)\}")


class ProfileError(ValueError):
    """A profile names something that does not exist; the message lists every problem."""


# --------------------------------------------------------------------------- notebooks & profiles

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


def notebook_path(name: str) -> Path:
    path = notebooks_dir() / f"{Path(name).stem}.ipynb"
    if not path.exists():
        known = sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))
        raise ProfileError(f"no notebook {name!r} in {notebooks_dir()}; known: {known}")
    return path


def declared_parameters(name: str) -> dict[str, dict[str, Any]]:
    """The notebook's ``parameters`` cell, as papermill reads it: {name: {type, default, help}}."""
    import papermill

    params = papermill.inspect_notebook(str(notebook_path(name)))
    out = {}
    for key, spec in params.items():
        kind = spec.get("inferred_type_name")
        if kind in (None, "None"):  # no annotation: the type of the default's literal
            kind = type(_literal(spec.get("default"))).__name__
        out[key] = {"type": kind, "default": spec.get("default"), "help": spec.get("help", "")}
    return out


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if isinstance(value, list):
        return [_expand(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


@dataclass
class Profile:
    name: str
    path: Path
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    notebooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    kernel: str = KERNEL_NAME


def load_profile(spec: str | Path) -> Profile:
    """``smoke``/``paper``/any name in ``profiles/``, or a path to a YAML file."""
    path = Path(spec)
    if not path.suffix:
        path = profiles_dir() / f"{spec}.yml"
    if not path.exists():
        known = sorted(p.stem for p in profiles_dir().glob("*.yml"))
        raise ProfileError(f"no profile {str(spec)!r} (looked for {path}); known: {known}, "
                           "or pass a path to a YAML file")
    data = yaml.safe_load(path.read_text()) or {}
    unknown = set(data) - {"name", "description", "defaults", "notebooks", "kernel"}
    if unknown:
        raise ProfileError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: name, "
                           "description, defaults, notebooks, kernel")
    return Profile(name=data.get("name", path.stem), path=path,
                   description=data.get("description", ""),
                   defaults=_expand(data.get("defaults") or {}),
                   notebooks={k: _expand(v or {}) for k, v in (data.get("notebooks") or {}).items()},
                   kernel=data.get("kernel", KERNEL_NAME))


def parse_overrides(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["nb.key=value", ...]`` -> {nb: {key: value}}; values parsed as YAML (numbers, lists)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        m = re.fullmatch(r"([\w\-]+)\.(\w+)=(.*)", item)
        if not m:
            raise ProfileError(f"bad override {item!r}: write NOTEBOOK.key=value")
        out.setdefault(m.group(1), {})[m.group(2)] = yaml.safe_load(m.group(3))
    return out


def _dataset_checks(params: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(dataset name, root) for each ``<x>_dataset`` parameter (root from ``<x>_root``)."""
    pairs = []
    for key, value in params.items():
        if key.endswith("_dataset") and isinstance(value, str) and value:
            root = params.get(key[: -len("_dataset")] + "_root") or None
            pairs.append((value, root))
    return pairs


def resolve_parameters(profile: Profile, notebooks: Sequence[str],
                       overrides: dict[str, dict[str, Any]] | None = None
                       ) -> dict[str, dict[str, Any]]:
    """Parameters per notebook (defaults, then the profile's, then overrides), validated.

    Raises:
        ProfileError: listing every unknown notebook, undeclared parameter and missing data set.
    """
    from .data import DatasetNotFound, check_available

    overrides = overrides or {}
    problems: list[str] = []
    for nb in [*profile.notebooks, *overrides]:
        if nb not in notebooks:
            problems.append(f"notebook {nb!r} (in {'overrides' if nb in overrides else profile.path}) "
                            f"is not in the book; notebooks: {list(notebooks)}")
    resolved: dict[str, dict[str, Any]] = {}
    for nb in notebooks:
        try:
            declared = declared_parameters(nb)
        except ProfileError as err:
            problems.append(str(err))
            continue
        params = {k: v for k, v in profile.defaults.items() if k in declared}
        for source, given in ((str(profile.path), profile.notebooks.get(nb, {})),
                              ("-p override", overrides.get(nb, {}))):
            for key, value in given.items():
                if key not in declared:
                    problems.append(f"{nb}: parameter {key!r} ({source}) is not declared by the "
                                    f"notebook; it declares {sorted(declared)}")
                else:
                    params[key] = value
        merged = {k: v["default"] for k, v in declared.items()} | params
        for name, root in _dataset_checks({k: _literal(v) for k, v in merged.items()}):
            try:
                check_available(name, root)
            except (DatasetNotFound, KeyError, ValueError) as err:
                problems.append(f"{nb}: {err}")
        resolved[nb] = params
    if problems:
        raise ProfileError(f"profile {profile.name!r} cannot run:\n  - " + "\n  - ".join(problems))
    return resolved


def _literal(value: Any) -> Any:
    """papermill reports defaults as source text (``'"synthetic:cafe_like"'``); evaluate them."""
    if isinstance(value, str):
        try:
            import ast
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


# --------------------------------------------------------------------------- execution

def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Register a Jupyter kernel for this interpreter (the venv) under ``name`` if missing, so
    papermill never depends on whatever kernel the machine happens to have."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if name not in specs:
        from ipykernel.kernelspec import install

        install(kernel_name=name, display_name=f"Python ({name})", prefix=sys.prefix)
    return name


@dataclass
class Outcome:
    notebook: str
    status: str           # ok | failed | skipped
    seconds: float
    output: Path | None
    error: str = ""


def execute(name: str, output: Path, parameters: dict[str, Any], *, kernel: str = KERNEL_NAME,
            results: Path | None = None, progress: bool = True, verbose: bool = False) -> Outcome:
    """Run one notebook with papermill into ``output`` (written atomically: the previous copy
    stays until the new one is complete). A failure is reported with its cell and error and the
    failed copy kept (it shows where it stopped)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.parent / ".partial" / output.name
    partial.parent.mkdir(exist_ok=True)
    env_before = os.environ.get("EMO_RESULTS")
    if results is not None:
        os.environ["EMO_RESULTS"] = str(results)
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook_path(name)), str(partial), parameters=parameters, kernel_name=kernel,
            progress_bar=progress, log_output=verbose, cwd=str(notebooks_dir()),
        )
        os.replace(partial, output)
        return Outcome(name, "ok", time.perf_counter() - t0, output)
    except PapermillExecutionError as err:
        if partial.exists():
            os.replace(partial, output)
        msg = (f"cell {err.cell_index} (execution count {err.exec_count}): "
               f"{err.ename}: {err.evalue}")
        return Outcome(name, "failed", time.perf_counter() - t0, output, msg)
    except Exception as err:  # kernel died, bad notebook...: report, keep the others going
        return Outcome(name, "failed", time.perf_counter() - t0, output,
                       f"{type(err).__name__}: {err}")
    finally:
        if results is not None:
            if env_before is None:
                os.environ.pop("EMO_RESULTS", None)
            else:
                os.environ["EMO_RESULTS"] = env_before


def _placeholder(name: str, output: Path) -> None:
    """A copy of the source, marked as not executed, for pages skipped by ``--only``."""
    import nbformat

    nb = nbformat.read(notebook_path(name), as_version=4)
    note = nbformat.v4.new_markdown_cell(
        "```{note}\nThis notebook was not executed in this build (it was built with "
        "`emo-book build --only ...`): no results are shown.\n```")
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, note)
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)


def build_book(warnings_as_errors: bool = True) -> int:
    """``jupyter-book build .`` with Sphinx warnings as errors; returns its exit code."""
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(book_root())]
    if warnings_as_errors:
        cmd.append("-W")
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=book_root())


def _summary(outcomes: list[Outcome]) -> str:
    rows = [("notebook", "status", "seconds", "output / error")]
    for o in outcomes:
        rows.append((o.notebook, o.status, f"{o.seconds:.1f}",
                     o.error or (str(o.output) if o.output else "")))
    total = sum(o.seconds for o in outcomes)
    rows.append(("total", "", f"{total:.1f}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}"
                     for r in rows)


def cmd_build(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    notebooks = book_notebooks()
    selected = notebooks if not args.only else args.only
    for name in selected:
        if name not in notebooks:
            raise ProfileError(f"--only {name!r}: not a notebook of the book; notebooks: {notebooks}")
    params = resolve_parameters(profile, notebooks, parse_overrides(args.param or []))
    kernel = ensure_kernel(profile.kernel)
    print(f"profile {profile.name} ({profile.path}): {len(selected)} of {len(notebooks)} "
          f"notebooks, kernel {kernel}", flush=True)
    outcomes: list[Outcome] = []
    t0 = time.perf_counter()
    for i, name in enumerate(selected, 1):
        print(f"[{i}/{len(selected)}] {name} ... (elapsed {time.perf_counter() - t0:.0f} s)",
              flush=True)
        outcome = execute(name, executed_dir() / f"{name}.ipynb", params[name], kernel=kernel,
                          progress=not args.quiet, verbose=args.verbose)
        outcomes.append(outcome)
        print(f"[{i}/{len(selected)}] {name}: {outcome.status} in {outcome.seconds:.1f} s"
              + (f" -- {outcome.error}" if outcome.error else ""), flush=True)
    for name in notebooks:
        if name not in selected and not (executed_dir() / f"{name}.ipynb").exists():
            _placeholder(name, executed_dir() / f"{name}.ipynb")
    print("\n" + _summary(outcomes), flush=True)
    failed = [o for o in outcomes if o.status != "ok"]
    code = 0
    if not args.no_book:
        code = build_book(warnings_as_errors=not args.allow_warnings)
        index = book_root() / "_build" / "html" / "index.html"
        if code == 0:
            print(f"\nbook built: {index}")
        else:
            print(f"\njupyter-book build failed (exit {code})", file=sys.stderr)
    if failed:
        print(f"\n{len(failed)} notebook(s) failed: " + ", ".join(o.notebook for o in failed),
              file=sys.stderr)
        return 1
    return code


def cmd_run(args: argparse.Namespace) -> int:
    name = Path(args.notebook).stem
    declared = declared_parameters(name)
    profile_params: dict[str, Any] = {}
    if args.profile:
        profile = load_profile(args.profile)
        profile_params = {k: v for k, v in profile.defaults.items() if k in declared}
        profile_params |= profile.notebooks.get(name, {})
    given = {k: yaml.safe_load(v) for k, v in (args.param or [])}
    profile = Profile(name="run", path=Path("<command line>"),
                      notebooks={name: profile_params | given})
    params = resolve_parameters(profile, [name])[name]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out) if args.out else runs_dir() / f"{name}-{stamp}"
    if out_dir.resolve() == executed_dir().resolve():
        raise ProfileError("emo-book run never writes into the book's executed/ folder")
    kernel = ensure_kernel()
    print(f"running {name} with {params} -> {out_dir}", flush=True)
    outcome = execute(name, out_dir / f"{name}.ipynb", params, kernel=kernel,
                      results=out_dir / "results", progress=not args.quiet,
                      verbose=args.verbose)
    print(_summary([outcome]))
    if outcome.status != "ok":
        print(f"{name} failed: {outcome.error}", file=sys.stderr)
        return 1
    print(f"executed notebook: {outcome.output}\nresults: {out_dir / 'results' / name}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for name in book_notebooks():
        print(name)
        for key, spec in declared_parameters(name).items():
            helptext = f"  # {spec['help']}" if spec["help"] else ""
            print(f"    {key}: {spec['type']} = {spec['default']}{helptext}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    resolve_parameters(profile, book_notebooks(), parse_overrides(args.param or []))
    print(f"profile {profile.name}: ok (every notebook, parameter and data set found)")
    return 0


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emo-book", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the notebooks and build the book")
    b.add_argument("--profile", default="smoke", help="smoke | paper | path to a YAML profile")
    b.add_argument("--only", nargs="+", metavar="NAME", help="execute only these notebooks")
    b.add_argument("-p", "--param", action="append", metavar="NB.KEY=VALUE",
                   help="override one parameter of one notebook (repeatable)")
    b.add_argument("--no-book", action="store_true", help="execute, but skip jupyter-book")
    b.add_argument("--allow-warnings", action="store_true", help="do not treat Sphinx warnings "
                   "as errors")
    b.add_argument("--quiet", action="store_true", help="no per-cell progress bars")
    b.add_argument("--verbose", action="store_true",
                   help="stream each notebook's own output (its progress bars) to the console")
    b.set_defaults(func=cmd_build)
    r = sub.add_parser("run", help="re-execute one notebook with other parameters")
    r.add_argument("notebook")
    r.add_argument("-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"))
    r.add_argument("--profile", default=None, help="start from this profile's parameters")
    r.add_argument("--out", default=None, help="output folder (default runs/<name>-<time>)")
    r.add_argument("--quiet", action="store_true")
    r.add_argument("--verbose", action="store_true")
    r.set_defaults(func=cmd_run)
    ls = sub.add_parser("list", help="notebooks with their parameters, types and defaults")
    ls.set_defaults(func=cmd_list)
    c = sub.add_parser("check", help="validate a profile without running anything")
    c.add_argument("--profile", default="smoke")
    c.add_argument("-p", "--param", action="append", metavar="NB.KEY=VALUE")
    c.set_defaults(func=cmd_check)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProfileError as err:
        print(f"emo-book: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
