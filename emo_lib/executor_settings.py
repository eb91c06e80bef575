"""Where training units run: the one settings class, read and cleared in one place.

:class:`ExecutorSettings` is what a profile's ``executor:`` section, ``emo-book build/run``'s
flags (``--executor``, ``--jobs``, ``--partition``, ``--gpus-per-job``, ``--array-parallelism``,
``--cpus-per-task``, ``--mem-gb``, ``--timeout-min``) and the training code all mean by
executor settings. The runner passes them to each notebook kernel as environment variables
(:data:`ENVIRONMENT`); :meth:`ExecutorSettings.environment` lists every one of them, with None for
a setting not given, so a value left in the shell (say ``EMO_SLURM_MEM_GB``) is removed from the
kernel's environment and never reaches a unit. The training code reads them back with
:meth:`ExecutorSettings.from_env`.

=============================  ======================================================
``EMO_EXECUTOR``               inline (in the notebook's process) | local | slurm
``EMO_JOBS``                   local: worker processes
``EMO_SLURM_PARTITION``        slurm: partition
``EMO_GPUS_PER_JOB``           slurm: GPUs per array task
``EMO_ARRAY_PARALLELISM``      slurm: array tasks running at once
``EMO_SLURM_CPUS_PER_TASK``    slurm: CPUs per task
``EMO_SLURM_MEM_GB``           slurm: memory per task (GB)
``EMO_SLURM_TIMEOUT_MIN``      slurm: time limit per task; also bounds a local worker
=============================  ======================================================

These settings are not part of any key: every executor must give the same numbers (the
arithmetic settings that do change numbers are :mod:`emo_lib.compute_settings`).

Torch-free on purpose: the runner imports it without loading torch. What it does not do: submit
or run anything (:mod:`emo_lib.train.executors`).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from .validation import check_choice, check_int, check_non_empty_str, show

EXECUTORS: tuple[str, ...] = ("inline", "local", "slurm")

#: Every setting that travels as an environment variable, and its variable.
ENVIRONMENT: dict[str, str] = {
    "kind": "EMO_EXECUTOR", "jobs": "EMO_JOBS", "partition": "EMO_SLURM_PARTITION",
    "gpus_per_job": "EMO_GPUS_PER_JOB", "array_parallelism": "EMO_ARRAY_PARALLELISM",
    "cpus_per_task": "EMO_SLURM_CPUS_PER_TASK", "mem_gb": "EMO_SLURM_MEM_GB",
    "timeout_min": "EMO_SLURM_TIMEOUT_MIN",
}
#: The settings a profile's ``executor:`` section and the command line may give.
PROFILE_KEYS: tuple[str, ...] = tuple(ENVIRONMENT)


@dataclass(frozen=True)
class ExecutorSettings:
    """Where units run (see the module docstring).

    Args:
        kind: ``inline``, ``local`` or ``slurm``.
        jobs: local worker processes (default: one per GPU on a machine with CUDA GPUs, else
            one per usable CPU core).
        partition, gpus_per_job, array_parallelism: SLURM settings.
        cpus_per_task, mem_gb: SLURM resources per task (default with GPUs: sized by
            :func:`emo_lib.train.executors.slurm_resources`, stated when submitting).
        timeout_min: SLURM time limit per task (also bounds a local worker).
        folder: where submissions, logs and failure records go (default
            ``$EMO_CACHE/units/runs/<time>-<pid>``; on a cluster it must be shared). Not an
            environment variable: set it in code.
        poll_s: seconds between progress checks (code only).

    Raises:
        ValueError: a value out of range, naming the setting and what is allowed.
    """

    kind: str = "inline"
    jobs: int | None = None
    partition: str | None = None
    gpus_per_job: int | None = None
    array_parallelism: int | None = None
    cpus_per_task: int | None = None
    mem_gb: float | None = None
    timeout_min: int | None = None
    folder: str | None = None
    poll_s: float = 1.0

    def __post_init__(self) -> None:
        check_choice("executor", self.kind, EXECUTORS)
        for name in ("jobs", "array_parallelism", "cpus_per_task", "timeout_min"):
            if getattr(self, name) is not None:
                check_int(name.replace("_", " "), getattr(self, name), minimum=1)
        if self.gpus_per_job is not None:
            check_int("gpus per job", self.gpus_per_job, minimum=0)
        if self.partition is not None:
            check_non_empty_str("partition", self.partition)
        if self.mem_gb is not None and (isinstance(self.mem_gb, bool)
                                        or not isinstance(self.mem_gb, (int, float))
                                        or self.mem_gb <= 0):
            raise ValueError(f"mem gb: {show(self.mem_gb)} is not a number > 0")

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 **overrides: Any) -> "ExecutorSettings":
        """Settings from the ``EMO_*`` variables of :data:`ENVIRONMENT`, then ``overrides``
        that are not None (ValueError naming the variable whose value is not a number)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, var in ENVIRONMENT.items():
            raw = environ.get(var, "").strip()
            if not raw:
                continue
            if name in ("kind", "partition"):
                values[name] = raw
                continue
            try:
                values[name] = float(raw) if name == "mem_gb" else int(raw)
            except ValueError:
                raise ValueError(f"environment variable {var}={raw} is not a number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_profile(cls, section: Mapping[str, Any] | None = None,
                     **command_line: Any) -> "ExecutorSettings":
        """A profile's ``executor:`` section, then the command line's values that are not None.

        Raises:
            ValueError: an unknown key (naming the allowed ones) or a value out of range.
        """
        section = dict(section or {})
        unknown = sorted(set(section) - set(PROFILE_KEYS))
        if unknown:
            raise ValueError(f"executor section: unknown key(s) {', '.join(unknown)}; allowed: "
                             f"{', '.join(PROFILE_KEYS)}")
        unknown = sorted(set(command_line) - set(PROFILE_KEYS))
        if unknown:
            raise TypeError(f"ExecutorSettings.from_profile: unknown option(s) {unknown}")
        section.update({k: v for k, v in command_line.items() if v is not None})
        return cls(**section)

    # ------------------------------------------------------------------ passing on
    def environment(self) -> dict[str, str | None]:
        """{variable: value, or None to remove it} for every variable of :data:`ENVIRONMENT`:
        what a kernel's environment must be so that it reads exactly these settings."""
        values = asdict(self)
        return {var: (None if values[name] is None else _text(values[name]))
                for name, var in ENVIRONMENT.items()}

    def describe(self) -> str:
        """``slurm (partition gpu, gpus per job 1)``: the kind and the settings given."""
        given = [f"{k.replace('_', ' ')} {_text(v)}" for k, v in asdict(self).items()
                 if v is not None and k in ENVIRONMENT and k != "kind"]
        return self.kind + (f" ({', '.join(given)})" if given else "")

    def record(self) -> dict[str, Any]:
        """The settings a build record keeps (those of :data:`ENVIRONMENT`)."""
        return {k: v for k, v in asdict(self).items() if k in ENVIRONMENT}

    def replace(self, **changes: Any) -> "ExecutorSettings":
        return dataclasses.replace(self, **changes)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


__all__ = ["ENVIRONMENT", "EXECUTORS", "ExecutorSettings", "PROFILE_KEYS"]
