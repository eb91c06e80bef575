"""How training units are computed: the executor settings, validated, and the environment
variables that carry them into each notebook's kernel.

``emo-book build/run --executor inline|local|slurm --jobs N --partition P --gpus-per-job G
--array-parallelism A`` (or a profile's ``executor:`` section; the command line wins). The runner
does not compute units itself: the training code reads

=========================  ============================================================
``EMO_EXECUTOR``           inline (in the notebook's process) | local | slurm
``EMO_JOBS``               local: worker processes
``EMO_SLURM_PARTITION``    slurm: partition
``EMO_GPUS_PER_JOB``       slurm: GPUs per array task
``EMO_ARRAY_PARALLELISM``  slurm: array tasks running at once
=========================  ============================================================

A variable not set by profile or command line is removed from the kernel's environment, so a
value left in the shell never leaks in. These settings are not part of a notebook's
incremental-build key: every executor must give the same numbers.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from ..validation import check_choice, check_int, check_non_empty_str, check_positive_int
from .errors import RunnerError, choices_text

EXECUTORS = ("inline", "local", "slurm")

#: field -> environment variable the training units read.
ENVIRONMENT = {
    "kind": "EMO_EXECUTOR",
    "jobs": "EMO_JOBS",
    "partition": "EMO_SLURM_PARTITION",
    "gpus_per_job": "EMO_GPUS_PER_JOB",
    "array_parallelism": "EMO_ARRAY_PARALLELISM",
}


@dataclass(frozen=True)
class ExecutorOptions:
    kind: str = "inline"
    jobs: int | None = None
    partition: str | None = None
    gpus_per_job: int | None = None
    array_parallelism: int | None = None

    def __post_init__(self) -> None:
        check_choice("executor", self.kind, EXECUTORS, error=RunnerError)
        if self.jobs is not None:
            check_positive_int("jobs", self.jobs, error=RunnerError)
        if self.partition is not None:
            check_non_empty_str("partition", self.partition, error=RunnerError)
        if self.gpus_per_job is not None:
            check_int("gpus per job", self.gpus_per_job, minimum=0, error=RunnerError)
        if self.array_parallelism is not None:
            check_positive_int("array parallelism", self.array_parallelism, error=RunnerError)

    def environment(self) -> dict[str, str | None]:
        """{variable: value, or None to remove it} for the kernel."""
        return {ENVIRONMENT[k]: (None if v is None else str(v)) for k, v in asdict(self).items()}

    def describe(self) -> str:
        given = [f"{k.replace('_', ' ')} {v}" for k, v in asdict(self).items()
                 if v is not None and k != "kind"]
        return self.kind + (f" ({', '.join(given)})" if given else "")


def executor_options(profile_section: Mapping[str, Any] | None = None,
                     **command_line: Any) -> ExecutorOptions:
    """The profile's ``executor:`` section, then the command line's non-None values.

    Raises:
        RunnerError: an unknown key in the section, or a value out of range (naming the choices).
    """
    section = dict(profile_section or {})
    unknown = sorted(set(section) - set(ENVIRONMENT))
    if unknown:
        raise RunnerError(f"executor section: unknown key(s) {choices_text(unknown)}; allowed: "
                          f"{choices_text(ENVIRONMENT)}")
    unknown = sorted(set(command_line) - set(ENVIRONMENT))
    if unknown:
        raise TypeError(f"executor_options: unknown option(s) {unknown}")
    section.update({k: v for k, v in command_line.items() if v is not None})
    return ExecutorOptions(**section)
