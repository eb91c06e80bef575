"""How the arithmetic is done: the settings that change numbers without changing the science.

Three settings, from a profile's ``compute:`` section or ``emo-book build/run`` flags, carried
to every notebook kernel and training worker as environment variables (:data:`ENVIRONMENT`):

- ``deterministic`` (default true): on CUDA, cuDNN's deterministic algorithms, no autotuning,
  ``torch.use_deterministic_algorithms(True, warn_only=True)`` and cuBLAS's fixed workspace
  (``CUBLAS_WORKSPACE_CONFIG``), so the same parameters and seed give the same numbers on one
  GPU. ``false`` trades that for speed (cuDNN autotuning); the provenance line says so and
  every key records it, so such results never mix with deterministic ones. The CPU path is
  deterministic either way.
- ``pin_cpu`` (default none): make the CPU libraries use one instruction set, ``avx2``, even on
  a machine that has more (AVX-512): torch's kernels (``ATEN_CPU_CAPABILITY``), oneDNN's
  (``ONEDNN_MAX_CPU_ISA``), MKL's (``MKL_CBWR``, its reproducibility mode, and
  ``MKL_ENABLE_INSTRUCTIONS``), OpenBLAS's (``OPENBLAS_CORETYPE``, numpy's and scipy's BLAS) and
  numpy's own SIMD loops (``NPY_DISABLE_CPU_FEATURES``). Torch's CPU arithmetic follows the
  instruction set, so a book built on an AVX-512 machine and one built on an AVX2 laptop differ
  in their last bits, and short trainings amplify that into different verdicts; pinned, both
  run the same code paths (what this buys, measured, is in ``benchmarks/cpu_pinning.py``'s
  docstring). These variables only act when a process starts: they go into the kernels' and
  workers' environment, never set from inside a running one.
- ``data_path`` (default ``auto``): how a CUDA training unit feeds its data,
  :mod:`emo_lib.train.resident` (every item on the device) or a DataLoader (``loader``);
  ``auto`` decides once per unit from the data's size and the device's total memory.

What a process actually ran with (the CPU capability torch chose, the determinism flags) is read
back by :func:`emo_lib.device.device_identity`, which goes into cache keys and the provenance.
Torch-free: the runner imports it without loading torch. What it does not do: set torch's flags
(:func:`emo_lib.device.set_determinism`) or decide the data path (:mod:`emo_lib.train.resident`).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from .machine import predicted_cpu_capability
from .validation import check_choice, show

DATA_PATHS: tuple[str, ...] = ("auto", "resident", "loader")
#: Instruction sets the CPU can be pinned to (x86-64 only).
PIN_CPU_CHOICES: tuple[str, ...] = ("avx2",)

#: Setting -> the variable that carries it to kernels and workers.
ENVIRONMENT: dict[str, str] = {"deterministic": "EMO_DETERMINISTIC", "pin_cpu": "EMO_PIN_CPU",
                               "data_path": "EMO_DATA_PATH"}
PROFILE_KEYS: tuple[str, ...] = tuple(ENVIRONMENT)

#: cuBLAS's deterministic workspace (NVIDIA's documented setting; ":16:8" uses less memory and
#: is slower).
CUBLAS_WORKSPACE = ":4096:8"

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def pin_variables(isa: str) -> dict[str, str]:
    """The environment variables that make every CPU library of this stack use ``isa``.

    numpy's AVX-512 dispatch targets are named per numpy version (``X86_V4``, ``AVX512_SKX``,
    ``AVX512_ICL``...): the ones this numpy has are listed."""
    check_choice("pin cpu", isa, PIN_CPU_CHOICES)
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__ as dispatch
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__ as dispatch
    above = [t for t in dispatch if t.startswith("AVX512") or t in ("X86_V4",)]
    out = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2",
           "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell"}
    if above:
        out["NPY_DISABLE_CPU_FEATURES"] = " ".join(above)
    return out


@dataclass(frozen=True)
class ComputeSettings:
    """See the module docstring. Raises ValueError naming a value out of range."""

    deterministic: bool = True
    pin_cpu: str | None = None
    data_path: str = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.deterministic, bool):
            raise ValueError(f"deterministic: {show(self.deterministic)} is not true or false")
        if self.pin_cpu is not None:
            check_choice("pin cpu", self.pin_cpu, PIN_CPU_CHOICES)
        check_choice("data path", self.data_path, DATA_PATHS)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ComputeSettings":
        """The settings a kernel or worker was started with (defaults where a variable is
        unset); ValueError naming a variable whose value is not allowed."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        raw = environ.get(ENVIRONMENT["deterministic"], "").strip().lower()
        if raw:
            if raw not in _TRUE + _FALSE:
                raise ValueError(f"environment variable {ENVIRONMENT['deterministic']}={raw} "
                                 "is not 1 or 0")
            values["deterministic"] = raw in _TRUE
        for name in ("pin_cpu", "data_path"):
            raw = environ.get(ENVIRONMENT[name], "").strip().lower()
            if raw and raw != "none":
                values[name] = raw
        return cls(**values)

    @classmethod
    def from_profile(cls, section: Mapping[str, Any] | None = None,
                     **command_line: Any) -> "ComputeSettings":
        """A profile's ``compute:`` section, then the command line's values that are not None.
        ValueError: an unknown key (naming the allowed ones) or a value out of range."""
        section = dict(section or {})
        unknown = sorted(set(section) - set(PROFILE_KEYS))
        if unknown:
            raise ValueError(f"compute section: unknown key(s) {', '.join(unknown)}; allowed: "
                             f"{', '.join(PROFILE_KEYS)}")
        section.update({k: v for k, v in command_line.items() if v is not None})
        if isinstance(section.get("pin_cpu"), str) and section["pin_cpu"].lower() == "none":
            section["pin_cpu"] = None
        return cls(**section)

    def environment(self) -> dict[str, str | None]:
        """{variable: value or None (remove)} for a kernel or worker: the three settings, the
        pinning variables when pinned, and cuBLAS's workspace when deterministic (the caller's
        own value if its environment has one)."""
        env: dict[str, str | None] = {
            ENVIRONMENT["deterministic"]: "1" if self.deterministic else "0",
            ENVIRONMENT["pin_cpu"]: self.pin_cpu,
            ENVIRONMENT["data_path"]: self.data_path,
        }
        if self.deterministic:   # the caller's own workspace setting, if any, else cuBLAS's
            env["CUBLAS_WORKSPACE_CONFIG"] = os.environ.get("CUBLAS_WORKSPACE_CONFIG",
                                                            CUBLAS_WORKSPACE)
        if self.pin_cpu:
            env.update(pin_variables(self.pin_cpu))
        return env

    def record(self) -> dict[str, Any]:
        return asdict(self)

    def kernel_arithmetic(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """What the kernels started with these settings will compute with, known without
        starting one (or importing torch): these settings, the CPU capability torch will choose
        (:func:`emo_lib.machine.predicted_cpu_capability`) and the thread count. Part of a
        page's key: a page built under AVX-512 is not "up to date" for an AVX2 build."""
        environ = os.environ if environ is None else environ
        pinned = {**environ, **{k: v for k, v in self.environment().items() if v is not None}}
        return {**self.record(), "cpu_capability": predicted_cpu_capability(pinned),
                "threads": environ.get("OMP_NUM_THREADS", "1")}

    def describe(self) -> str:
        """``deterministic, CPU pinned to avx2, data path auto``."""
        return ", ".join([("deterministic" if self.deterministic else "not deterministic "
                           "(cuDNN autotuning)"),
                          f"CPU pinned to {self.pin_cpu}" if self.pin_cpu else "CPU not pinned",
                          f"data path {self.data_path}"])


__all__ = ["CUBLAS_WORKSPACE", "ComputeSettings", "DATA_PATHS", "ENVIRONMENT",
           "PIN_CPU_CHOICES", "PROFILE_KEYS", "pin_variables"]
