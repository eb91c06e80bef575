"""The run's settings that are not notebook parameters, from a profile and the command line:
where training units run (:class:`emo_lib.executor_settings.ExecutorSettings`) and how the
arithmetic is done (:class:`emo_lib.compute_settings.ComputeSettings`).

``emo-book build/run --executor inline|local|slurm --jobs N --partition P --gpus-per-job G
--array-parallelism A --cpus-per-task C --mem-gb M --timeout-min T`` (or a profile's
``executor:`` section) and ``--pin-cpu avx2 --deterministic true|false --data-path
auto|resident|loader`` (or a profile's ``compute:`` section); the command line wins. The runner
computes nothing itself: both travel to every notebook kernel as environment variables, each
variable of either set listed, so a value left in the shell is removed and never reaches a unit
(:meth:`ExecutorSettings.environment`). The compute settings change numbers, so they are part
of a page's key; the executor settings do not (every executor must give the same numbers).
"""
from __future__ import annotations

from typing import Any, Mapping

from ..compute_settings import ComputeSettings
from ..executor_settings import EXECUTORS, ExecutorSettings
from .errors import RunnerError

def executor_options(profile_section: Mapping[str, Any] | None = None,
                     **command_line: Any) -> ExecutorSettings:
    """The profile's ``executor:`` section, then the command line's non-None values.

    Raises:
        RunnerError: an unknown key in the section, or a value out of range (naming the choices).
    """
    try:
        return ExecutorSettings.from_profile(profile_section, **command_line)
    except ValueError as err:
        raise RunnerError(str(err)) from None


def compute_options(profile_section: Mapping[str, Any] | None = None,
                    **command_line: Any) -> ComputeSettings:
    """The profile's ``compute:`` section, then the command line's non-None values.

    Raises:
        RunnerError: an unknown key in the section, or a value out of range (naming the choices).
    """
    try:
        return ComputeSettings.from_profile(profile_section, **command_line)
    except ValueError as err:
        raise RunnerError(str(err)) from None


__all__ = ["EXECUTORS", "ExecutorSettings", "compute_options",
           "executor_options"]
