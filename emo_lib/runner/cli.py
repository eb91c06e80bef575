"""The ``emo-book`` command line: argument parsing and the ``run``, ``list``, ``check`` commands.

    emo-book build [--profile smoke|paper|FILE] [--only NAME ...] [--force [NAME ...]]
                   [-p [NOTEBOOK.]KEY=VALUE ...] [--seeds 0,1,2]
                   [--executor inline|local|slurm] [--jobs N] ...
                   [--pin-cpu avx2] [--deterministic true|false] [--data-path auto|...]
    emo-book run NOTEBOOK [-p [NOTEBOOK.]KEY=VALUE ...] [--seeds 0,1,2] [--profile P] [--out DIR]
    emo-book list
    emo-book check [--profile P] [-p [NOTEBOOK.]KEY=VALUE ...]
    emo-book plan [--profile P] [-p [NOTEBOOK.]KEY=VALUE ...] [--seeds 0,1,2] [--rates JSON]

Every problem found before anything runs is printed at once, as plain text, with exit code 2.
The build itself is :mod:`.builder`.
"""
from __future__ import annotations

import argparse
import json
import dataclasses
import sys
import time
from pathlib import Path
from typing import Sequence

from .builder import build, summary
from .errors import RunnerError, ValidationError, choices_text
from .execute import render_html, ensure_kernel, execute
from .incremental import InputsOf, key_of
from ..layout import book_notebooks
from ..notebook_parameters import NotebookNotFound, declared_parameters, notebook_path
from ..compute_settings import DATA_PATHS, PIN_CPU_CHOICES
from .options import EXECUTORS, compute_options, executor_options
from .parameters import merged_parameters, resolve_parameters, seeds_note
from ..planning import PlanError, plan_pages, plan_providers
from ..layout import book_root, executed_dir, runs_dir
from .profiles import SEEDS, Profile, load_profile, parse_overrides, seeds_override
from .rerun import rerun_spec
from ..provenance import git_state


def _executor_flags(args: argparse.Namespace) -> dict:
    return {"kind": args.executor, "jobs": args.jobs, "partition": args.partition,
            "gpus_per_job": args.gpus_per_job, "array_parallelism": args.array_parallelism,
            "cpus_per_task": args.cpus_per_task, "mem_gb": args.mem_gb,
            "timeout_min": args.timeout_min}


def _compute_flags(args: argparse.Namespace) -> dict:
    deterministic = None if args.deterministic is None else args.deterministic == "true"
    return {"pin_cpu": args.pin_cpu, "deterministic": deterministic,
            "data_path": args.data_path}


def _overrides(args: argparse.Namespace) -> list:
    """``-p`` items, and ``--seeds`` as the override of every page's ``seeds``."""
    overrides = parse_overrides(args.param)
    if args.seeds is not None:
        overrides.insert(0, seeds_override(args.seeds, overrides))
    return overrides


def _say_seeds(profile: Profile, names: Sequence[str], overrides: Sequence) -> None:
    """Which pages compute their claims per seed (when seeds were asked for); an error when
    none of the pages to run takes seeds."""
    asked = [o for o in overrides if o.key == SEEDS]
    if not asked and profile.seeds is None:
        return
    declaring = [nb for nb in names if SEEDS in declared_parameters(nb)]
    if not declaring:
        source = asked[0].source if asked else f"seeds in {profile.path}"
        raise ValidationError("cannot start:", [
            f"{source}: none of {choices_text(names)} takes seeds; the pages that do: "
            f"{choices_text([nb for nb in book_notebooks() if SEEDS in declared_parameters(nb)])}"])
    book = book_notebooks()
    resolved = resolve_parameters(profile, book if set(names) <= set(book) else list(names),
                                  overrides, check_data=[])
    print(seeds_note(list(names), resolved), flush=True)


def cmd_build(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    executor = executor_options(profile.executor, **_executor_flags(args))
    compute = compute_options(profile.compute, **_compute_flags(args))
    overrides = _overrides(args)
    _say_seeds(profile, args.only or book_notebooks(), overrides)
    return build(args.profile, only=args.only, force=args.force,
                 overrides=overrides, executor=executor, compute=compute,
                 book=not args.no_book, allow_warnings=args.allow_warnings,
                 progress=not args.quiet, verbose=args.verbose, lanes=args.lanes)


def _profile_for(name: str, spec: str | None) -> Profile:
    """The profile's settings for one notebook (its ``defaults:`` that the notebook declares and
    its own entry), or an empty profile."""
    if spec is None:
        return Profile(name="none", path=Path("<no profile>"))
    profile = load_profile(spec)
    declared = declared_parameters(name)
    return dataclasses.replace(
        profile, defaults={k: v for k, v in profile.defaults.items() if k in declared},
        notebooks={name: profile.notebooks.get(name, {})},
        seeds=profile.seeds if SEEDS in declared else None)


def cmd_run(args: argparse.Namespace) -> int:
    name = Path(args.notebook).stem
    notebook_path(name)  # an unknown name fails here, naming the notebooks
    overrides = _overrides(args)
    wrong = [f"{o.source}: emo-book run {name} sets only {name}'s parameters"
             for o in overrides if o.notebook not in (None, name)]
    if wrong:
        raise ValidationError(f"run {name} cannot start:", wrong)
    profile = _profile_for(name, args.profile)
    _say_seeds(profile, [name], overrides)
    params = resolve_parameters(profile, [name], overrides, context=name)[name]
    executor = executor_options(profile.executor, **_executor_flags(args))
    compute = compute_options(profile.compute, **_compute_flags(args))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out) if args.out else runs_dir() / f"{name}-{stamp}"
    if out_dir.resolve() == executed_dir().resolve():
        raise RunnerError("emo-book run never writes into the book's executed/ folder; "
                          "choose another --out")
    kernel = ensure_kernel(profile.kernel)
    shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "the notebook's defaults"
    print(f"running {name} with {shown} -> {out_dir}", flush=True)
    env = {"EMO_RESULTS": str(out_dir / "results"),
           "EMO_PROFILE": args.profile and profile.name} | executor.environment() \
        | compute.environment()
    # Its own key (the run's folder is one of its inputs): the Runs page checks that the
    # results beside this copy are this run's.
    rerun = dataclasses.asdict(rerun_spec(name, profile, overrides,
                                          named=args.profile is not None))
    inputs = InputsOf(kernel=kernel, profile=profile.name,
                      arithmetic=compute.kernel_arithmetic())(name, notebook_path(name), params) \
        | {"run": str(out_dir.resolve()), "rerun": rerun}
    outcome = execute(name, out_dir / f"{name}.ipynb", params, kernel=kernel, env=env,
                      record={"profile": args.profile and profile.name, "parameters": params,
                              "git": git_state(book_root()), "key": key_of(inputs),
                              "inputs": inputs, "rerun": rerun},
                      progress=not args.quiet, verbose=args.verbose)
    print(summary([outcome]))
    html = render_html(outcome.output) if outcome.output and outcome.output.exists() else None
    if outcome.status != "executed":
        print(f"{name} failed: {outcome.error}" + (f" (rendered: {html})" if html else ""),
              file=sys.stderr)
        return 1
    print(f"executed notebook: {outcome.output}\nas HTML: {html}\n"
          f"results: {out_dir / 'results' / name}\n(the book's Runs page sets it beside the "
          "book's run at the next `emo-book build`)")
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
    executor_options(profile.executor)
    compute_options(profile.compute)
    resolve_parameters(profile, book_notebooks(), parse_overrides(args.param))
    print(f"profile {profile.name}: ok (every notebook, parameter, type and data set found)")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """How many training units each page needs, how many are done, and the GPU hours of the
    rest, before anything runs; data sets need not be present. The pages that have training
    units name their plan provider in their metadata (:mod:`emo_lib.planning`)."""
    profile = load_profile(args.profile)
    notebooks = book_notebooks()
    overrides = _overrides(args)
    _say_seeds(profile, notebooks, overrides)   # every training seed's units are counted
    params = resolve_parameters(profile, notebooks, overrides, check_data=[])
    providers = plan_providers(notebooks)
    full = {nb: merged_parameters(nb, params[nb]) for nb in providers}
    rates = json.loads(Path(args.rates).read_text()) if args.rates else None
    executor = args.executor or executor_options(profile.executor).kind
    table, totals = plan_pages(full, executor=executor, rate=args.gpu_rate, rates=rates)
    print(f"profile {profile.name}: training units per page (a unit = one fold of one cell)")
    print(table.drop(columns=["basis", "data"]).to_string(index=False))
    for row in table.itertuples():
        print(f"  {row.page}: {row.data}; GPU hours {row.basis}")
    print("total: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    others = [nb for nb in notebooks if nb not in providers]
    print(f"no training units: {', '.join(others)}")
    return 0


_P_HELP = ("KEY=VALUE sets KEY in every notebook that declares it; NOTEBOOK.KEY=VALUE in one "
           "notebook; VALUE is YAML (3, 1e-4, [a, b], {k: v}, true, null); repeatable")
_SEEDS_HELP = ("compute the claims of every page that takes seeds once per seed, in one "
               "execution (e.g. 0,1,2): each claim then shows its verdict per seed and whether "
               "it is stable; the first seed's figures are shown (default: each page's own, one "
               "seed)")


def _add_executor_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training units (read by the training code; default: the "
                             "profile's executor section, else inline)")
    g.add_argument("--executor", metavar="|".join(EXECUTORS), default=None,
                   help="where training units run")
    g.add_argument("--jobs", type=int, default=None, metavar="N", help="local: processes")
    g.add_argument("--partition", default=None, help="slurm: partition")
    g.add_argument("--gpus-per-job", type=int, default=None, metavar="G",
                   help="slurm: GPUs per array task")
    g.add_argument("--array-parallelism", type=int, default=None, metavar="A",
                   help="slurm: array tasks running at once")
    g.add_argument("--cpus-per-task", type=int, default=None, metavar="C",
                   help="slurm: CPUs per task (default with GPUs: 8 per GPU)")
    g.add_argument("--mem-gb", type=float, default=None, metavar="M",
                   help="slurm: memory per task in GB (default with GPUs: sized from the data; "
                        "the submission says how much)")
    g.add_argument("--timeout-min", type=int, default=None, metavar="T",
                   help="slurm: time limit per task in minutes (default a day)")
    c = p.add_argument_group("arithmetic (changes numbers: part of every key; default: the "
                             "profile's compute section)")
    c.add_argument("--pin-cpu", choices=PIN_CPU_CHOICES + ("none",), default=None,
                   help="make torch, oneDNN, MKL, OpenBLAS and numpy use this instruction set "
                        "on any x86 machine, for the same numbers under AVX-512 and AVX2")
    c.add_argument("--deterministic", choices=("true", "false"), default=None,
                   help="CUDA: deterministic algorithms (default true; false lets cuDNN "
                        "autotune, faster, and the provenance says so)")
    c.add_argument("--data-path", choices=DATA_PATHS, default=None,
                   help="CUDA training data: on the device (resident), a DataLoader (loader) "
                        "or decided per unit from its size and the GPU's memory (auto)")


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emo-book", description="Execute the parameterized notebooks with papermill and "
        "build the Jupyter Book.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the notebooks that are out of date, build the book")
    b.add_argument("--profile", default="smoke", help="smoke | paper | path to a YAML profile")
    b.add_argument("--only", nargs="+", metavar="NAME", help="execute only these notebooks")
    b.add_argument("--force", nargs="*", metavar="NAME", default=None,
                   help="re-execute these notebooks (no NAME: all) even if up to date")
    b.add_argument("-p", "--param", action="append", metavar="[NOTEBOOK.]KEY=VALUE",
                   help=_P_HELP)
    b.add_argument("--seeds", default=None, metavar="S1,S2,...", help=_SEEDS_HELP)
    b.add_argument("--no-book", action="store_true", help="execute, but skip jupyter-book")
    b.add_argument("--lanes", type=int, default=1, metavar="N",
                   help="execute up to N notebooks at once (one lane per paper; each kernel "
                        "runs one torch thread unless OMP_NUM_THREADS is set); default 1")
    b.add_argument("--allow-warnings", action="store_true", help="do not treat Sphinx warnings "
                   "as errors")
    b.add_argument("--quiet", action="store_true", help="no per-cell progress bars")
    b.add_argument("--verbose", action="store_true",
                   help="stream each notebook's own output (its progress bars) to the console")
    _add_executor_flags(b)
    b.set_defaults(func=cmd_build)
    r = sub.add_parser("run", help="re-execute one notebook with other parameters")
    r.add_argument("notebook")
    r.add_argument("-p", "--param", action="append", metavar="[NOTEBOOK.]KEY=VALUE",
                   help=_P_HELP.replace("every notebook that declares it; NOTEBOOK.KEY=VALUE "
                                        "in one notebook", "the notebook (NOTEBOOK. optional)"))
    r.add_argument("--seeds", default=None, metavar="S1,S2,...", help=_SEEDS_HELP)
    r.add_argument("--profile", default=None, help="start from this profile's parameters")
    r.add_argument("--out", default=None, help="output folder (default runs/<name>-<time>)")
    r.add_argument("--quiet", action="store_true")
    r.add_argument("--verbose", action="store_true")
    _add_executor_flags(r)
    r.set_defaults(func=cmd_run)
    ls = sub.add_parser("list", help="notebooks with their parameters, types and defaults")
    ls.set_defaults(func=cmd_list)
    c = sub.add_parser("check", help="validate a profile without running anything")
    c.add_argument("--profile", default="smoke")
    c.add_argument("-p", "--param", action="append", metavar="[NOTEBOOK.]KEY=VALUE",
                   help=_P_HELP)
    c.set_defaults(func=cmd_check)
    pl = sub.add_parser("plan", help="training units per page, done, and GPU hours to go")
    pl.add_argument("--profile", default="smoke")
    pl.add_argument("-p", "--param", action="append", metavar="[NOTEBOOK.]KEY=VALUE",
                    help=_P_HELP)
    pl.add_argument("--seeds", default=None, metavar="S1,S2,...",
                    help="count the units of every page that takes seeds once per training "
                    "seed (as `build --seeds` would train them)")
    pl.add_argument("--executor", metavar="|".join(EXECUTORS), default=None,
                    help="where the units would run (slurm: cuda workers); default: the "
                    "profile's executor, else inline")
    pl.add_argument("--gpu-rate", type=float, default=None, metavar="IMG_PER_S",
                    help="EfficientNet-B0 training images/s at 224 px on the target GPU "
                    "(benchmarks/gpu_check.sh prints it); default: measured units, else an "
                    "assumption the output states")
    pl.add_argument("--rates", default=None, metavar="JSON", help="{model: {size: img/s}} "
                    "from benchmarks/train_throughput.py --rates-json (gpu_check.sh writes it)")
    pl.set_defaults(func=cmd_plan)
    return p


def modernize(argv: Sequence[str]) -> list[str]:
    """Rewrite the old ``emo-book run NB -p KEY VALUE`` as ``-p KEY=VALUE`` (with a warning)."""
    argv = list(argv)
    if not argv or argv[0] != "run":
        return argv
    out: list[str] = []
    i = 0
    while i < len(argv):
        flag = argv[i]
        if flag in ("-p", "--param") and i + 2 < len(argv) and "=" not in argv[i + 1] \
                and not argv[i + 1].startswith("-"):
            out += [flag, f"{argv[i + 1]}={argv[i + 2]}"]
            print(f"emo-book: -p {argv[i + 1]} {argv[i + 2]} is deprecated; write "
                  f"-p {argv[i + 1]}={argv[i + 2]}", file=sys.stderr)
            i += 3
        else:
            out.append(flag)
            i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(modernize(sys.argv[1:] if argv is None else argv))
    try:
        return args.func(args)
    except (RunnerError, NotebookNotFound, PlanError) as err:
        print(f"emo-book: {err}", file=sys.stderr)
        return 2
