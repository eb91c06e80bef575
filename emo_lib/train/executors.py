"""Executors: computing the training units a page asks for (:mod:`.units`), with submitit.

``run_units(units, executor=...)`` reads every unit already done and computes the missing ones:

* ``inline`` (the default): one after another in this process (a notebook's kernel), as before;
* ``local``: ``jobs`` worker processes on this machine (``submitit.LocalExecutor``; default:
  one per GPU on a machine with CUDA GPUs, each seeing only its own, else one per group of
  cores); each worker takes the next unit nobody has claimed (a claim is a file created with
  ``O_EXCL``), so cells and folds spread over the workers whatever their cost; a worker stops
  when the process that started it is gone;
* ``slurm``: one SLURM job-array task per unit (``submitit.SlurmExecutor``; needs ``srun``),
  with GPUs per job, partition, array parallelism, time, CPUs and memory from
  :class:`~emo_lib.executor_settings.ExecutorSettings` (the profile, the command line or the
  environment); with GPUs, CPUs and memory default to :func:`slurm_resources` (stated when
  submitting).

Every worker computes with the torch thread count of the process that submitted it (the
kernel's: one unless ``OMP_NUM_THREADS`` says otherwise), because CPU arithmetic changes with
the thread count and a unit's key records the device it was keyed for; and with that process's
compute settings (:mod:`emo_lib.compute_settings`: determinism, CPU pin, data path, cuBLAS's
workspace), which must be in a process's environment before it starts.

Every executor waits with a tqdm bar (units done, with running and failed counts). A unit that
raises is recorded (its recipe, the error, the traceback, its log file) and the others go on;
at the end :class:`UnitsFailed` lists each failed unit with its recipe and log path. Results are
only ever read from the cache, so re-running computes exactly the units still missing, and an
interrupted run (even killed) resumes where it stopped. Workers receive plain-JSON recipes
(pickled by submitit as lists and dicts, never models or arrays) and memory-map their arrays;
beside them travel the recipes' unit-kind functions, pickled by reference (module and name), so
that a worker imports the modules that register those kinds before it reads a recipe.

Settings come from arguments or from the environment the runner exports to every notebook
kernel (:mod:`emo_lib.executor_settings`, the one place they are defined).

What it does not do: decide which units a page needs (``emo_lib.jeong2021.cells``), or train
(the unit kinds do).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import shlex
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from ..cache import DiskCache
from ..compute_settings import ComputeSettings
from ..executor_settings import ENVIRONMENT, EXECUTORS, ExecutorSettings
from ..storage import cache_dir, pid_alive, write_json
from .units import (
    KindFunction, Unit, compute, is_done, kind_function, read_result, share_array, unit_store,
)

#: A local worker may run this long (submitit's default, 2 minutes, would kill real folds).
LOCAL_TIMEOUT_MIN = 7 * 24 * 60
#: A SLURM task's default time limit (one fold of the paper's largest cells fits in a day).
SLURM_TIMEOUT_MIN = 24 * 60
#: SLURM defaults for tasks with GPUs (each overridable: ``executor: {cpus_per_task: ...,
#: mem_gb: ...}`` or ``--cpus-per-task`` / ``--mem-gb``). CPUs per GPU: decoding and the
#: DataLoader path's workers. Memory: a base for the CUDA libraries (cuDNN, cuBLAS: a few GB
#: mapped), torch, numpy and scikit-learn, and the host copies of the largest model the book
#: trains (VGG-16: 138 M parameters, its weights and an ImageNet state dict, about 1.1 GB),
#: plus the images the units read (memory-mapped, charged to the job as page cache). The model
#: itself trains on the GPU, so the host's need grows with the data, not the model.
SLURM_CPUS_PER_GPU = 8
SLURM_BASE_MEM_GB = 12.0
SLURM_MEM_STEP_GB = 4


def resolve_executor(executor: str | ExecutorSettings | None = None) -> ExecutorSettings:
    """None: from the environment (default inline); a name: that executor with the
    environment's other settings; settings: as given."""
    if isinstance(executor, ExecutorSettings):
        return executor
    return ExecutorSettings.from_env(kind=executor)


@dataclass
class UnitFailure:
    """A unit that raised (or whose worker died): its recipe, the error and where to look."""

    unit: Unit
    error: str
    log: Path | None = None
    record: Path | None = None

    def __str__(self) -> str:
        where = f"; log: {self.log}" if self.log and self.log != self.record else ""
        rec = f"; recipe and traceback: {self.record}" if self.record else ""
        return (f"unit {self.unit.label or self.unit.kind} (fold {self.unit.fold}, "
                f"key {self.unit.key[:12]}): {self.error}{rec}{where}\n"
                f"    recipe: {json.dumps(dict(self.unit.spec), sort_keys=True)[:600]}")


class UnitsFailed(RuntimeError):
    """Some units failed; every other unit was computed and saved. Re-running computes only
    the failed and missing ones."""

    def __init__(self, failures: Sequence[UnitFailure], n_units: int) -> None:
        self.failures = list(failures)
        lines = "\n".join(f"  - {f}" for f in self.failures)
        super().__init__(f"{len(self.failures)} of {n_units} training unit(s) failed (the "
                         f"others were computed and saved; re-running computes only what is "
                         f"missing):\n{lines}")


@dataclass
class UnitsRun:
    """What :func:`run_units` did: ``records`` per unit id (present or computed; a failed unit
    has none), the ids ``computed`` in this run, ``failures``, and wall ``seconds``."""

    records: dict[str, dict[str, Any]]
    computed: list[str] = field(default_factory=list)
    failures: list[UnitFailure] = field(default_factory=list)
    seconds: float = 0.0
    executor: str = "inline"

    def raise_failures(self) -> None:
        if self.failures:
            raise UnitsFailed(self.failures, len(self.records) + len(self.failures))


def _log_folder(settings: ExecutorSettings) -> Path:
    if settings.folder:
        path = Path(settings.folder)
    else:
        path = cache_dir("units", "runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _tag(unit: Unit) -> str:
    return f"{unit.key[:24]}-fold{int(unit.fold)}"


def _failure_path(log_dir: Path, unit: Unit) -> Path:
    return log_dir / "failures" / f"{_tag(unit)}.json"


def _record_failure(log_dir: Path, unit: Unit, err: BaseException, log: str | None) -> Path:
    path = _failure_path(log_dir, unit)
    write_json(path, {"unit": unit.to_json(), "error": f"{type(err).__name__}: {err}",
                      "traceback": traceback.format_exc(), "log": log, "pid": os.getpid()})
    return path


def _read_failure(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------ the worker

def work(recipes: list[dict[str, Any]], store_root: str, log_dir: str, *,
         kinds: Mapping[str, KindFunction] | None = None, claims: str | None = None,
         threads: int | None = None, driver_pid: int | None = None) -> dict[str, str]:
    """Compute the units ``recipes`` describe (plain JSON) into the store at ``store_root``;
    what runs in a worker process. Each unit is skipped when done, or (with ``claims``, a
    folder) when another worker claimed it; a unit that raises is recorded under
    ``log_dir/failures`` and the next one goes on. Stops early when ``driver_pid`` is gone.
    ``kinds``: the recipes' unit kinds and their functions (:func:`kinds_of`); unpickling them
    imported the modules that register them. Returns {unit id: present | claimed elsewhere |
    computed | failed}."""
    import torch

    for name, function in (kinds or {}).items():
        if kind_function(name) is not function:
            raise ValueError(f"unit kind {name}: this worker registered another function than "
                             "the one the driver sent")
    if threads:
        torch.set_num_threads(int(threads))
    store = unit_store(store_root)
    assert store is not None
    log = _own_log()
    status: dict[str, str] = {}
    for recipe in recipes:
        unit = Unit.from_json(recipe)
        if driver_pid is not None and not pid_alive(driver_pid):
            print(f"driver process {driver_pid} is gone: stopping", file=sys.stderr, flush=True)
            break
        if is_done(store, unit.key, unit.fold):
            status[unit.id] = "present"
            continue
        if claims is not None and not _claim(Path(claims), unit, log):
            status[unit.id] = "claimed elsewhere"
            continue
        print(f"unit {unit.id} ({unit.label}): start", file=sys.stderr, flush=True)
        try:
            check_device(unit)
            compute(unit, store)
            status[unit.id] = "computed"
        except Exception as err:  # recorded with its traceback; the next unit goes on
            traceback.print_exc()
            _record_failure(Path(log_dir), unit, err, log)
            status[unit.id] = "failed"
        print(f"unit {unit.id}: {status[unit.id]}", file=sys.stderr, flush=True)
    return status


def check_device(unit: Unit) -> None:
    """Refuse to compute, in a worker, a unit whose key names another GPU or other CUDA
    settings than this worker's (``unit.spec["device"]``, a
    :func:`emo_lib.device.device_identity`): an A100's folds must never be stored under an
    H100's key. A key made where the GPU was not visible (a SLURM login node) names no GPU and
    is not checked; the unit's timing records the GPU that computed it."""
    keyed = unit.spec.get("device") if isinstance(unit.spec, Mapping) else None
    if not isinstance(keyed, Mapping) or keyed.get("type") != "cuda":
        return
    from ..device import NOT_VISIBLE, device_identity
    import torch

    if not torch.cuda.is_available():
        raise ValueError("this unit's key is for a CUDA device, and this worker has none")
    if keyed.get("name") in (None, NOT_VISIBLE):
        return
    here = device_identity("cuda")
    differ = [f"{k} {keyed.get(k)!r} (here {here.get(k)!r})"
              for k in ("name", "capability", "deterministic", "data_path")
              if k in keyed and keyed.get(k) != here.get(k)]
    if differ:
        raise ValueError("this unit was keyed for another GPU or other CUDA settings than this "
                         "worker's: " + "; ".join(differ) + ". Run it where it was keyed, or "
                         "plan it again here")


def _own_log() -> str | None:
    """This worker's stderr file, when it runs under submitit."""
    try:
        import submitit

        return str(submitit.JobEnvironment().paths.stderr)
    except Exception:  # not under submitit (a test calling work() directly)
        return None


def _claim(folder: Path, unit: Unit, log: str | None) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder / _tag(unit), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(log or "")
    return True


# ------------------------------------------------------------------------------ the driver

def run_units(units: Sequence[Unit], *, executor: str | ExecutorSettings | None = None,
              cache: bool | str | Path | DiskCache | None = True,
              arrays: Mapping[str, np.ndarray] | None = None,
              progress: bool = True) -> UnitsRun:
    """Read the units already done, compute the missing ones with ``executor`` (see the module
    docstring), wait, and return a :class:`UnitsRun` (failures are listed there, not raised:
    call ``raise_failures()``).

    ``arrays``: the in-memory inputs (``images``, ``labels``) the units were built from; the
    inline executor passes them to each unit, the others write them once to ``.npy`` files
    (unless ``images`` is already a whole-file memmap, such as the uint8 image cache) and put
    the paths into each recipe's ``inputs``. ``cache=None``/False: nothing is stored (inline
    only)."""
    settings = resolve_executor(executor)
    start = time.perf_counter()
    store = unit_store(cache)
    unique: dict[str, Unit] = {}
    for unit in units:
        unique.setdefault(unit.id, unit)
    records: dict[str, dict[str, Any]] = {}
    missing: list[Unit] = []
    for uid, unit in unique.items():
        record = None if store is None else read_result(store, unit.key, unit.fold)
        if record is None:
            missing.append(unit)
        else:
            records[uid] = record
    run = UnitsRun(records=records, executor=settings.kind)
    if missing:
        if store is None and settings.kind != "inline":
            raise ValueError(f"the {settings.kind} executor returns results through the cache; "
                             "cache=False works with executor='inline' only")
        if settings.kind == "inline":
            _run_inline(missing, store, settings, arrays, progress, run)
        else:
            data_bytes = sum(int(np.asarray(a).nbytes) for a in (arrays or {}).values())
            missing = _with_input_files(missing, arrays)
            _run_submitit(missing, store, settings, progress, run,  # type: ignore[arg-type]
                          data_bytes)
    run.seconds = time.perf_counter() - start
    return run


def _run_inline(missing: list[Unit], store: DiskCache | None, settings: ExecutorSettings,
                arrays: Mapping[str, np.ndarray] | None, progress: bool, run: UnitsRun) -> None:
    log_dir: Path | None = None
    bar = tqdm(missing, desc="units", disable=not progress)
    for unit in bar:
        try:
            run.records[unit.id] = compute(unit, store, arrays=arrays, progress=progress)
            run.computed.append(unit.id)
        except Exception as err:  # recorded; the other units go on
            log_dir = log_dir or _log_folder(settings)
            path = _record_failure(log_dir, unit, err, None)
            run.failures.append(UnitFailure(unit, f"{type(err).__name__}: {err}", path, path))
        bar.set_postfix(failed=len(run.failures))


def _with_input_files(units: list[Unit], arrays: Mapping[str, np.ndarray] | None) -> list[Unit]:
    """Units whose ``inputs`` name files for every array (written once, by content)."""
    if not arrays:
        return units
    paths = {name: str(share_array(np.asarray(a) if not isinstance(a, np.ndarray) else a))
             for name, a in arrays.items()}
    return [dataclasses.replace(u, inputs={**u.inputs, **paths}) for u in units]


def _gib(n_bytes: int) -> float:
    return n_bytes / 2**30


def slurm_resources(settings: ExecutorSettings, data_bytes: int = 0
                    ) -> tuple[int | None, float | None, str]:
    """(CPUs per task, memory per task in GB, a sentence saying where they come from) for a
    SLURM submission: the settings' values where given; with GPUs, else
    :data:`SLURM_CPUS_PER_GPU` per GPU and :data:`SLURM_BASE_MEM_GB` plus the ``data_bytes``
    the units read, rounded up to :data:`SLURM_MEM_STEP_GB`; without GPUs, the thread count
    and the cluster's default memory (None)."""
    gpus = settings.gpus_per_job or 0
    if gpus:
        cpus = settings.cpus_per_task or SLURM_CPUS_PER_GPU * gpus
        need = SLURM_BASE_MEM_GB + _gib(data_bytes)
        mem = settings.mem_gb or float(SLURM_MEM_STEP_GB * math.ceil(need / SLURM_MEM_STEP_GB))
        why_cpus = ("as set" if settings.cpus_per_task
                    else f"default: {SLURM_CPUS_PER_GPU} per GPU x {gpus}")
        why_mem = ("as set" if settings.mem_gb else
                   f"default: {SLURM_BASE_MEM_GB:g} GB for CUDA, the libraries and the largest "
                   f"model's host copies + {_gib(data_bytes):.1f} GB of images, rounded up")
    else:
        cpus = settings.cpus_per_task or _torch_threads()
        mem = settings.mem_gb
        why_cpus = "as set" if settings.cpus_per_task else "default: the torch thread count"
        why_mem = "as set" if settings.mem_gb else "the cluster's default"
    text = (f"SLURM tasks: {gpus} GPU(s), {cpus} CPUs ({why_cpus}), "
            + (f"{mem:g} GB" if mem else "memory") + f" ({why_mem}); set executor "
            "cpus_per_task / mem_gb (or --cpus-per-task / --mem-gb) to change them")
    return cpus, mem, text


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def worker_environment(threads: int) -> dict[str, str]:
    """What a worker's environment must hold before it starts: the thread count of the keys
    (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) and this process's compute settings with the
    variables they imply (CPU pin, cuBLAS's workspace)."""
    env = {k: v for k, v in ComputeSettings.from_env().environment().items() if v is not None}
    return env | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def _submitit_executor(settings: ExecutorSettings, folder: Path, threads: int,
                       data_bytes: int = 0) -> Any:
    import submitit

    if settings.kind == "local":
        ex = submitit.LocalExecutor(folder=folder / "%j")
        ex.update_parameters(timeout_min=settings.timeout_min or LOCAL_TIMEOUT_MIN)
        return ex
    ex = submitit.SlurmExecutor(folder=folder / "%j")   # raises when srun is missing
    params: dict[str, Any] = {"time": settings.timeout_min or SLURM_TIMEOUT_MIN,
                              "job_name": "emo-units"}
    if settings.partition:
        params["partition"] = settings.partition
    if settings.gpus_per_job:
        params["gpus_per_node"] = settings.gpus_per_job
    cpus, mem, text = slurm_resources(settings, data_bytes)
    print(text, file=sys.stderr, flush=True)
    params["cpus_per_task"] = cpus
    if mem:
        params["mem"] = f"{int(mem * 1024)}MB"
    if settings.array_parallelism:
        params["array_parallelism"] = settings.array_parallelism
    # the workers read and write the same cache as this process (it must be shared)
    env = {"EMO_CACHE": str(cache_dir())} | worker_environment(threads)
    params["setup"] = [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    ex.update_parameters(**params)
    return ex


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def local_workers(settings: ExecutorSettings, n_units: int, threads: int, n_gpus: int) -> int:
    """Local worker processes: ``jobs`` if set; else one per GPU on a machine with CUDA GPUs
    (several workers on one GPU run out of memory with the paper's models at batch 128), else
    one per ``threads`` cores; never more than the units."""
    default = n_gpus if n_gpus else max(1, usable_cores() // max(1, threads))
    return max(1, min(settings.jobs or default, n_units))
def kinds_of(units: Sequence[Unit]) -> dict[str, KindFunction]:
    """{kind: its registered function} for the kinds among ``units``: what a worker call
    carries so that the worker registers them (see :func:`work`)."""
    return {kind: kind_function(kind) for kind in sorted({u.kind for u in units})}


def submit(missing: Sequence[Unit], store: DiskCache, settings: ExecutorSettings,
           log_dir: Path, data_bytes: int = 0) -> list[Any]:
    """Hand ``missing`` to submitit (local workers or a SLURM array); the jobs.
    ``data_bytes``: the size of the arrays the units read (sizes SLURM's memory)."""
    import submitit

    recipes = [u.to_json() for u in missing]
    threads = _torch_threads()
    ex = _submitit_executor(settings, log_dir, threads, data_bytes)
    root = str(store.root)
    if settings.kind == "slurm":
        with ex.batch():   # one array task per unit
            jobs = [ex.submit(work, [r], root, str(log_dir), kinds=kinds_of([u]),
                              threads=threads)
                    for u, r in zip(missing, recipes)]
        return jobs
    n_gpus = _cuda_devices()
    n_workers = local_workers(settings, len(recipes), threads, n_gpus)
    jobs = []
    with submitit.helpers.clean_env(), _environment(**worker_environment(threads)):
        for j in range(n_workers):
            if n_gpus:   # LocalExecutor hides every GPU unless asked; one per worker, in turn
                ex.update_parameters(gpus_per_node=1, visible_gpus=(j % n_gpus,))
            jobs.append(ex.submit(work, recipes, root, str(log_dir), kinds=kinds_of(missing),
                                  claims=str(log_dir / "claims"), threads=threads,
                                  driver_pid=os.getpid()))
    return jobs


def _cuda_devices() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


class _environment:
    """Set environment variables for the block (workers inherit them), then restore."""

    def __init__(self, **values: str) -> None:
        self.values = values
        self.before: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for k, v in self.values.items():
            self.before[k] = os.environ.get(k)
            os.environ[k] = v

    def __exit__(self, *exc: Any) -> None:
        for k, v in self.before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run_submitit(missing: list[Unit], store: DiskCache, settings: ExecutorSettings,
                  progress: bool, run: UnitsRun, data_bytes: int = 0) -> None:
    log_dir = _log_folder(settings)
    jobs = submit(missing, store, settings, log_dir, data_bytes)
    try:
        _wait(missing, store, jobs, settings, log_dir, progress)
    except BaseException:   # interrupted: stop the workers (results so far stay on disk)
        for job in jobs:
            try:
                job.cancel(check=False)
            except Exception:
                pass
        raise
    _collect(missing, store, jobs, settings, log_dir, run)


def _wait(missing: list[Unit], store: DiskCache, jobs: list[Any], settings: ExecutorSettings,
          log_dir: Path, progress: bool) -> None:
    bar = tqdm(total=len(missing), desc=f"units ({settings.kind})", disable=not progress)
    failures = log_dir / "failures"
    shown = None
    while True:
        finished = all(job.done() for job in jobs)
        done = sum(is_done(store, u.key, u.fold) for u in missing)
        failed = sum((failures / f"{_tag(u)}.json").is_file() for u in missing)
        if settings.kind == "local":
            started = len(list((log_dir / "claims").glob("*")))
        else:
            started = sum(job.state == "RUNNING" for job in jobs) + done + failed
        counts = (done, max(0, started - done - failed), failed)
        if counts != shown:   # redraw on change only (logs stay short)
            bar.n = done
            bar.set_postfix(running=counts[1], failed=failed, refresh=False)
            bar.refresh()
            shown = counts
        if finished:
            break
        time.sleep(settings.poll_s)
    bar.close()


def _collect(missing: list[Unit], store: DiskCache, jobs: list[Any], settings: ExecutorSettings,
             log_dir: Path, run: UnitsRun) -> None:
    for i, unit in enumerate(missing):
        record = read_result(store, unit.key, unit.fold)
        if record is not None:
            run.records[unit.id] = record
            run.computed.append(unit.id)
            continue
        failure = _read_failure(_failure_path(log_dir, unit))
        if failure is not None:
            log = failure.get("log")
            run.failures.append(UnitFailure(unit, failure.get("error", "failed"),
                                            Path(log) if log else None,
                                            _failure_path(log_dir, unit)))
            continue
        job = jobs[i] if settings.kind == "slurm" else _claimant(jobs, log_dir, unit)
        run.failures.append(UnitFailure(unit, _job_error(job), _job_log(job)))


def _claimant(jobs: list[Any], log_dir: Path, unit: Unit) -> Any:
    claim = log_dir / "claims" / _tag(unit)
    if claim.is_file():
        log = claim.read_text().strip()
        for job in jobs:
            if log and str(job.paths.stderr) == log:
                return job
    return None


def _job_error(job: Any) -> str:
    if job is None:
        return "not computed: every worker ended before reaching it"
    try:
        err = job.exception()
    except Exception as exc:   # e.g. the worker was killed before writing its result
        return f"its worker ended without a result ({type(exc).__name__}: {exc})"
    return (f"its worker failed: {err}" if err is not None
            else "its worker ended without computing it")


def _job_log(job: Any) -> Path | None:
    return None if job is None else Path(job.paths.stderr)


__all__ = ["ENVIRONMENT", "EXECUTORS", "ExecutorSettings", "UnitFailure", "UnitsFailed",
           "UnitsRun", "check_device", "kinds_of", "local_workers", "resolve_executor",
           "run_units", "slurm_resources", "submit", "usable_cores", "work",
           "worker_environment"]
