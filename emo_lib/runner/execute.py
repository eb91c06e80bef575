"""Executing one notebook with papermill: the kernel, its environment, the executed copy.

The copy is written atomically (the previous copy stays until the new one is complete) and
carries, in ``metadata["emo_book"]``, what produced it: status, seconds, when, the profile, the
git state, the incremental-build key and inputs (see :mod:`.incremental`). The kernel gets the
key as ``$EMO_PAGE_KEY`` (in an environment of its own, so executions running at once never
see each other's), and the page's ``results.json`` records it (:mod:`emo_lib.pagekey`); the
page's re-run spec (``record["rerun"]``, :mod:`emo_lib.rerun_spec`) reaches the kernel the same
way, as ``$EMO_RERUN``.
Papermill's ``injected-parameters`` cell and the notebook's ``parameters`` cell are tagged
``remove-cell``, so the rendered page shows the run's parameters the way ``Run`` displays them,
not as code. Deciding what to execute is :mod:`.builder`.
"""
from __future__ import annotations

import functools
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..compute_settings import CUBLAS_WORKSPACE
from ..layout import KERNEL_NAME, notebooks_dir
from ..notebook_parameters import notebook_path
from ..pagekey import METADATA_KEY, PAGE_KEY_VARIABLE
from ..rerun_spec import RERUN_VARIABLE

#: Environment every kernel (``build`` and ``run``) starts with unless the caller's
#: environment sets it.
#: - OMP_NUM_THREADS=1: torch's CPU arithmetic rounds differently with another thread count,
#:   and short trainings amplify it (measured on the smoke book: NIMH-ChEFS accuracy 0.833 with
#:   2 threads, 0.861 with 1), so a fixed count makes a page's numbers the same whatever the
#:   machine's cores or ``--lanes``; one thread per kernel with two lanes was also the fastest
#:   smoke build measured on 2 cores. Set OMP_NUM_THREADS to use more (the page's provenance
#:   line names the count).
#: - OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep instead of spinning, leaving the
#:   cores to the other processes of a shared machine; numbers are unchanged.
#: - CUBLAS_WORKSPACE_CONFIG: cuBLAS's deterministic workspace, which cuBLAS reads only when it
#:   starts, so it must be in the kernel's environment from the start (the compute settings'
#:   ``deterministic``, :mod:`emo_lib.compute_settings`, set it too; harmless without a GPU).
#: The compute settings (CPU pin, determinism, data path) arrive with the caller's ``env``.
KERNEL_ENVIRONMENT: dict[str, str] = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
                                      "CUBLAS_WORKSPACE_CONFIG": CUBLAS_WORKSPACE}
#: Cells hidden from the rendered page (Jupyter Book's tag for "not shown at all").
HIDDEN_CELLS = ("injected-parameters", "parameters")
REMOVE_TAG = "remove-cell"
#: The papermill engine :func:`execute` uses (:func:`_register_engine`).
ENGINE = "emo-book"


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Register a Jupyter kernel for this interpreter (the venv) under ``name`` if missing, so
    papermill never depends on whatever kernel the machine happens to have."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if name not in specs:
        from ipykernel.kernelspec import install

        try:
            install(kernel_name=name, display_name=f"Python ({name})", prefix=sys.prefix)
        except PermissionError:  # a system Python (a GPU node's python3): the user's folder
            install(kernel_name=name, display_name=f"Python ({name})", user=True)
    return name


@functools.lru_cache(maxsize=None)
def _register_engine() -> str:
    """Register :data:`ENGINE`: papermill's nbclient engine, but the kernel starts with the
    environment given as ``kernel_env`` (nbclient passes ``env`` on to the kernel manager), so
    two executions at once (lanes) each get their own page key without touching os.environ."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class KernelEnvironmentEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None,
                                     start_timeout: int = 60, execution_timeout: Any = None,
                                     kernel_env: Mapping[str, str] | None = None,
                                     **kwargs: Any) -> Any:
            # as NBClientEngine.execute_managed_notebook (papermill 2.7), plus env=kernel_env
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs, timeout=execution_timeout or kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, **final_kwargs)
            return client.execute(env=dict(kernel_env)) if kernel_env is not None \
                else client.execute()

    papermill_engines.register(ENGINE, KernelEnvironmentEngine)
    return ENGINE


def kernel_environment(changes: Mapping[str, str | None]) -> dict[str, str]:
    """This process's environment with :data:`KERNEL_ENVIRONMENT`'s defaults (where it sets
    none) and ``changes`` (str: set, None: removed): what a kernel starts with."""
    env = {k: v for k, v in KERNEL_ENVIRONMENT.items() if k not in os.environ} | dict(os.environ)
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


@contextmanager
def environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Set (str) or remove (None) environment variables for the block; the kernel papermill
    starts inherits them. Restored afterwards."""
    before = {k: os.environ.get(k) for k in changes}
    try:
        for k, v in changes.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class Outcome:
    """What became of one notebook in one build or run."""

    notebook: str
    status: str            # executed | up to date | failed | skipped
    seconds: float | None  # execution time of the copy the book shows (None: never executed)
    output: Path | None
    error: str = ""
    note: str = ""         # why it was executed, or when the copy shown was executed


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def hide_parameter_cells(nb: Any) -> None:
    """Tag papermill's injected-parameters cell and the parameters cell ``remove-cell``."""
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if any(t in tags for t in HIDDEN_CELLS) and REMOVE_TAG not in tags:
            cell.metadata["tags"] = [*tags, REMOVE_TAG]


def _finish_copy(partial: Path, output: Path, record: dict[str, Any]) -> None:
    """Tag, stamp and move the papermill output onto ``output`` (atomic rename)."""
    import nbformat

    nb = nbformat.read(partial, as_version=4)
    hide_parameter_cells(nb)
    nb.metadata[METADATA_KEY] = record
    nbformat.write(nb, partial)
    os.replace(partial, output)


def execute(name: str, output: Path, parameters: dict[str, Any], *, kernel: str = KERNEL_NAME,
            env: Mapping[str, str | None] | None = None, record: dict[str, Any] | None = None,
            progress: bool = True, verbose: bool = False) -> Outcome:
    """Run one notebook with papermill into ``output``.

    Args:
        env: environment variables for the kernel (None removes one), e.g. ``EMO_PROFILE``.
        record: what to store in the copy's ``metadata["emo_book"]`` besides status, seconds,
            when and error (the key and inputs, the profile, the git state); its ``key`` is
            the kernel's ``$EMO_PAGE_KEY`` and its ``rerun`` (a
            :class:`emo_lib.rerun_spec.RerunSpec` as a dict) the kernel's ``$EMO_RERUN``
            (none: the variable is removed).

    A failure is reported with its cell and error; the failed copy is kept (it shows where it
    stopped) and recorded as failed, so the next build runs it again.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.parent / ".partial" / output.name
    partial.parent.mkdir(exist_ok=True)
    record = dict(record or {})
    t0 = time.perf_counter()
    status, error = "ok", ""
    rerun = record.get("rerun")
    kernel_env = kernel_environment({**(env or {}), PAGE_KEY_VARIABLE: record.get("key"),
                                     RERUN_VARIABLE: json.dumps(rerun) if rerun else None})
    try:
        papermill.execute_notebook(
            str(notebook_path(name)), str(partial), parameters=parameters,
            kernel_name=kernel, progress_bar=progress, log_output=verbose,
            cwd=str(notebooks_dir()), engine_name=_register_engine(), kernel_env=kernel_env)
    except PapermillExecutionError as err:
        status = "failed"
        error = (f"cell {err.cell_index} (execution count {err.exec_count}): "
                 f"{err.ename}: {err.evalue}")
    except Exception as err:  # kernel died, bad notebook...: report, keep the others going
        status, error = "failed", f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - t0
    record |= {"status": status, "seconds": round(seconds, 2), "executed_at": now_iso(),
               "error": error}
    if partial.exists():
        _finish_copy(partial, output, record)
    return Outcome(name, "executed" if status == "ok" else "failed", seconds, output, error)


def write_placeholder(name: str, output: Path, *, why: str) -> None:
    """A copy of the source, marked as not executed (a page skipped by ``--only``)."""
    import nbformat

    nb = nbformat.read(notebook_path(name), as_version=4)
    note = nbformat.v4.new_markdown_cell(f"```{{note}}\nThis notebook was not executed in this "
                                         f"build ({why}): no results are shown.\n```")
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, note)
    hide_parameter_cells(nb)
    nb.metadata[METADATA_KEY] = {"status": "not executed", "executed_at": None, "seconds": None}
    output.parent.mkdir(parents=True, exist_ok=True)
    from ..storage import atomic_path

    with atomic_path(output) as tmp:
        nbformat.write(nb, tmp)


def render_html(executed: Path) -> Path:
    """The executed notebook as one self-contained HTML file beside it (``<name>.html``), for a
    reader's run: cells tagged ``remove-cell`` are left out and ``remove-input``/``hide-input``
    cells show only their outputs, as in the book. (MyST roles in its markdown, such as
    ``{download}``, show as text: only the book renders them.)"""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    from ..storage import atomic_path

    nb = nbformat.read(executed, as_version=4)
    tags = TagRemovePreprocessor(remove_cell_tags={"remove-cell"},
                                 remove_input_tags={"remove-input", "hide-input"})
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    exporter.register_preprocessor(tags, enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    out = executed.with_suffix(".html")
    with atomic_path(out) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return out
