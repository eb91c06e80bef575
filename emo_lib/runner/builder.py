"""``emo-book build``: validate, execute what is out of date, record, build the book.

A notebook is executed when ``--force`` names it (or names nothing), or when its executed copy
is not up to date (:func:`.incremental.staleness`: never executed, its last run failed, an input
changed, or its results.json is missing); otherwise its copy is kept untouched, so Sphinx, which
is incremental too, does not re-read the page. The aggregate pages (ledger, build status, runs)
execute last, after the pages they gather; the build-status page in every build. Pages left out
by ``--only`` keep their copy (or get a placeholder saying they were not executed). Parsing the
command line is :mod:`.cli`.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from .errors import ValidationError, choices_text
from .execute import (
    KERNEL_ENVIRONMENT, Outcome, ensure_kernel, environment, execute, write_placeholder,
)
from .incremental import InputsOf, key_of, recorded, staleness
from .notebooks import EVERY_BUILD, execution_order, lane_groups
from ..layout import AGGREGATE_PAGES, book_notebooks
from ..notebook_parameters import notebook_path
from ..compute_settings import ComputeSettings
from ..executor_settings import ExecutorSettings
from .options import compute_options, executor_options
from .parameters import merged_parameters, resolve_parameters
from .prepare import Prepared, kernel_python, prepare
from .schedule import Schedule
from ..planning import book_prerequisites
from ..prerequisites import Prerequisite
from ..layout import book_root, executed_dir
from .profiles import Override, load_profile
from ..provenance import git_state
from .record import BuildRecord
from .rerun import rerun_spec


def check_names(given: Sequence[str] | None, notebooks: Sequence[str], flag: str) -> list[str]:
    """Problems for names that are not notebooks of the book."""
    return [f"{flag} {name}: not a notebook of the book; notebooks: {choices_text(notebooks)}"
            for name in given or () if name not in notebooks]


def build(profile_spec: str | Path = "smoke", *, only: Sequence[str] | None = None,
          force: Sequence[str] | None = None, overrides: Sequence[Override] = (),
          executor: ExecutorSettings | None = None, compute: ComputeSettings | None = None,
          book: bool = True,
          allow_warnings: bool = False, progress: bool = True, verbose: bool = False,
          lanes: int = 1) -> int:
    """Execute the book's notebooks that are out of date, then build the book.

    Args:
        only: execute only these notebooks (the others keep their copies).
        force: re-execute these notebooks even if up to date; an empty list: all of them.
        executor: settings passed to the kernels (``EMO_EXECUTOR``...); default: the
            profile's, else inline.
        compute: how the arithmetic is done (determinism, CPU pin, data path), passed to the
            kernels and part of every page's key; default: the profile's.
        lanes: how many notebooks execute at once (:func:`.notebooks.lane_groups`: pages
            that share caches stay in one lane, in book order); 1: one after another.

    Returns:
        0 when every executed notebook and the book build succeeded, else non-zero.

    Raises:
        ValidationError: bad names, parameters or missing data, before anything runs.
    """
    if lanes < 1:
        raise ValidationError("build cannot start:", [f"--lanes {lanes}: must be 1 or more"])
    profile = load_profile(profile_spec)
    notebooks = book_notebooks()
    problems = check_names(only, notebooks, "--only") + check_names(force, notebooks, "--force")
    selected = list(only) if only else notebooks
    problems += [f"--force {name}: not executed with --only {' '.join(only or ())}"
                 for name in force or () if name in notebooks and name not in selected]
    if problems:
        raise ValidationError("build cannot start:", problems)
    forced = set(selected if force is not None and not force else force or ())
    params = resolve_parameters(profile, notebooks, overrides, check_data=selected)
    if executor is None:
        executor = executor_options(profile.executor)
    if compute is None:
        compute = compute_options(profile.compute)
    kernel = ensure_kernel(profile.kernel)
    arithmetic = compute.kernel_arithmetic()
    print(f"profile {profile.name} ({profile.path}): {len(selected)} of {len(notebooks)} "
          f"notebooks, kernel {kernel}, executor {executor.describe()}; "
          f"{compute.describe()} (CPU capability {arithmetic['cpu_capability']})", flush=True)

    inputs_of = InputsOf(kernel=kernel, profile=profile.name, arithmetic=arithmetic)
    git = git_state(book_root())
    record = BuildRecord(profile=profile.name, kernel=kernel, executor=executor, git=git,
                         notebooks=notebooks, compute=compute)
    env = {"EMO_PROFILE": profile.name} | executor.environment() | compute.environment()
    order = execution_order(notebooks)
    t0 = time.perf_counter()

    lock = threading.Lock()   # lanes report from their threads; one record write at a time

    def report(name: str, outcome: Outcome) -> Outcome:
        step = f"[{order.index(name) + 1}/{len(order)}] {name}"
        with lock:
            print(f"{step}: {outcome.status}" + (
                f" in {outcome.seconds:.1f} s" if outcome.status in ("executed", "failed")
                else "") + (f" -- {outcome.error}" if outcome.error else ""), flush=True)
            record.update(outcome)
        return outcome

    def run(name: str, output: Path, inputs: dict, reason: str, show_progress: bool,
            kernel_env: dict[str, str | None] | None = env) -> Outcome:
        print(f"[{order.index(name) + 1}/{len(order)}] {name}: executing ({reason}; elapsed "
              f"{time.perf_counter() - t0:.0f} s)", flush=True)
        outcome = execute(name, output, params[name], kernel=kernel, env=kernel_env or {},
                          record={"key": key_of(inputs), "inputs": inputs,
                                  "profile": profile.name, "git": git,
                                  "rerun": inputs["rerun"]},
                          progress=show_progress, verbose=verbose)
        outcome.note = execution_note(reason)
        return report(name, outcome)

    def decide(name: str) -> tuple | None:
        """Report a page that is not executed; else return what executing it needs."""
        output = executed_dir() / f"{name}.ipynb"
        if name not in selected:
            done[name] = report(name, _skipped(name, output))
            return None
        # the page's re-run box shows what the spec says: an input of its execution
        inputs = inputs_of(name, notebook_path(name), params[name]) | {
            "rerun": dataclasses.asdict(rerun_spec(name, profile, overrides))}
        reason = "forced" if name in forced else (
            "shows this build" if name in EVERY_BUILD else staleness(name, output, inputs))
        if reason is None:
            done[name] = report(name, _up_to_date(name, output))
            return None
        return name, output, inputs, reason

    # The content pages first (in lanes when asked), then the aggregate pages, decided only
    # now: their inputs include the results the content pages just wrote.
    done: dict[str, Outcome] = {}
    content = [item for name in order if name not in AGGREGATE_PAGES
               if (item := decide(name)) is not None]
    groups = lane_groups([item[0] for item in content])
    if lanes > 1 and content:
        needs = page_prerequisites_of({item[0]: params[item[0]] for item in content})
        done |= _run_lanes(groups, {item[0]: item for item in content}, run, lanes, env,
                           needs, kernel, record, lock)
    else:
        for item in content:
            done[item[0]] = run(*item, progress)
    for name in order:
        if name in AGGREGATE_PAGES and (item := decide(name)) is not None:
            done[name] = run(*item, progress)
    outcomes = [done[name] for name in order]
    record.finish()
    print("\n" + summary(outcomes, record.data["prerequisites"]), flush=True)

    code = 0
    if book:
        code = build_book(warnings_as_errors=not allow_warnings)
        index = book_root() / "_build" / "html" / "index.html"
        if code == 0:
            print(f"\nbook built: {index}")
        else:
            print(f"\njupyter-book build failed (exit {code})", file=sys.stderr)
    failed = [o.notebook for o in outcomes if o.status == "failed"]
    if failed:
        print(f"\n{len(failed)} notebook(s) failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return code


def page_prerequisites_of(params: dict[str, dict[str, Any]]
                          ) -> tuple[list[Prerequisite], dict[str, list[str]]]:
    """The distinct prerequisites of the pages to execute (``params``: the parameters the
    build injects), costliest first, and each page's. A page whose provider fails is said so
    and left to compute its own."""
    def unknown(page: str, err: Exception) -> None:
        print(f"{page}: its prerequisites are not known ({type(err).__name__}: {err}); "
              "the page computes them itself", flush=True)

    return book_prerequisites({name: merged_parameters(name, injected)
                               for name, injected in params.items()}, on_error=unknown)


def _run_lanes(groups: list[list[str]], items: dict[str, tuple], run: Any, lanes: int,
               env: dict[str, str | None],
               prerequisites: tuple[list[Prerequisite], dict[str, list[str]]],
               kernel: str, record: BuildRecord, lock: threading.Lock) -> dict[str, Outcome]:
    """Execute the pages in ``lanes`` at once, each group's in order, with the pages'
    prerequisites first in whichever lane is free (:mod:`.schedule`; each prerequisite in a
    process of its own, :mod:`.prepare`). The kernels' environment
    (:data:`.execute.KERNEL_ENVIRONMENT`, one torch thread each unless OMP_NUM_THREADS is set)
    is set once for the whole phase, so concurrent executions never set and restore it under
    each other, and the prerequisites compute with the kernels' arithmetic. ``lock``: the
    one the pages' reports take (one record write, one printed line at a time)."""
    shared = {k: v for k, v in KERNEL_ENVIRONMENT.items() if k not in os.environ} | dict(env)
    needs, by_page = prerequisites
    by_key = {p.key: p for p in needs}
    pages_of = {p.key: [page for page, keys in by_page.items() if p.key in keys] for p in needs}
    print(f"executing {sum(map(len, groups))} pages in {lanes} lanes: "
          + "; ".join(" > ".join(g) for g in groups)
          + (f"; first, in any lane, {len(needs)} prerequisites: "
             + ", ".join(p.label for p in needs) if needs else ""), flush=True)
    python = kernel_python(kernel)

    def prerequisite(key: str) -> Prepared:
        need = by_key[key]
        with lock:
            print(f"[prerequisite] {need.label}: computing", flush=True)
        done = prepare(need, python, pages_of[key])
        with lock:
            print(f"[prerequisite] {need.label}: {done.status} in {done.seconds:.1f} s"
                  + (f" -- {done.note}" if done.status == "failed" else ""), flush=True)
            record.prerequisite(done)
        return done

    schedule: Schedule[Prepared, Outcome] = Schedule(
        groups, [p.key for p in needs], by_page)
    with environment(shared):
        _, done = schedule.run(lanes, prerequisite,
                               lambda name: run(*items[name], False, None))
    return done


def execution_note(reason: str) -> str:
    """Why a page was executed, as the build-status page's note reads it: the staleness reason
    (:func:`.incremental.staleness`) in a reader's words ("never executed" on a page this build
    executed reads as if it had not run: it means no earlier copy existed)."""
    if reason == "never executed":
        return "executed: no earlier copy to reuse"
    if reason.startswith("changed: "):
        return f"executed: its inputs changed ({reason.removeprefix('changed: ')})"
    if reason == "forced":
        return "executed: forced (--force)"
    if reason == "shows this build":
        return "executed in every build: it shows this build"
    return f"executed: {reason}"


def _up_to_date(name: str, output: Path) -> Outcome:
    # the time of the execution it shows is the status table's own column: the note says why
    # that execution is still the right one
    done = recorded(output) or {}
    return Outcome(name, "up to date", done.get("seconds"), output,
                   note="inputs unchanged since that execution: not executed again")


def _skipped(name: str, output: Path) -> Outcome:
    """Left out by --only: keep the copy, or write a placeholder where there is none."""
    if not output.exists():
        write_placeholder(name, output, why="it was built with `emo-book build --only ...`")
        return Outcome(name, "skipped", None, output, note="placeholder written")
    done = recorded(output) or {}
    if done.get("status") == "not executed":
        return Outcome(name, "skipped", None, output, note="placeholder kept")
    if not done:
        return Outcome(name, "skipped", None, output, note="copy kept (no build record)")
    return Outcome(name, "skipped", done.get("seconds"), output,
                   note="left out of this build (--only): the copy of an earlier build shown"
                   + ("" if done.get("status") == "ok" else f" ({done.get('status')})"))


def summary(outcomes: list[Outcome], prerequisites: Sequence[dict[str, Any]] = ()) -> str:
    """The table printed at the end of a build: page, status, seconds, note or error; then
    the prerequisites computed before the pages (:mod:`.schedule`), whose seconds are in no
    page's."""
    rows = [("notebook", "status", "seconds", "note")]
    rows += [(f"(prerequisite) {p['label']}", p["status"], f"{p['seconds']:.1f}", p["note"])
             for p in prerequisites]
    for o in outcomes:
        seconds = "" if o.seconds is None else f"{o.seconds:.1f}"
        rows.append((o.notebook, o.status, seconds, o.error or o.note))
    ran = [o for o in outcomes if o.status in ("executed", "failed")]
    counts = {s: sum(o.status == s for o in outcomes)
              for s in ("executed", "up to date", "failed", "skipped")}
    seconds = sum(o.seconds or 0 for o in ran) + sum(p["seconds"] for p in prerequisites)
    rows.append(("total", ", ".join(f"{n} {s}" for s, n in counts.items() if n),
                 f"{seconds:.1f}",
                 "executing in this build" + (", prerequisites included" if prerequisites
                                              else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    table = "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}"
                      for r in rows)
    return table + ("\n(seconds: the execution each page shows; an up-to-date page keeps an "
                    "earlier build's)" if counts["up to date"] or counts["skipped"] else "")


def build_book(warnings_as_errors: bool = True) -> int:
    """``jupyter-book build .`` with Sphinx warnings as errors; returns its exit code. Sphinx
    re-reads only pages whose files changed since the last build (``_build/.doctrees``)."""
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(book_root())]
    if warnings_as_errors:
        cmd.append("-W")
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=book_root())
