"""Facts about this machine that need no torch: the CPU's model and instruction-set flags, the
capability torch will choose from them, and the GPUs ``nvidia-smi`` lists.

The runner (which never imports torch, to stay quick) uses them for page keys and the build
record; a process that has torch reads what it actually uses with :mod:`emo_lib.device`. What
it does not do: choose a device or change any setting.
"""
from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
from typing import Mapping


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> dict[str, str]:
    """The first processor's ``/proc/cpuinfo`` fields (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def cpu_model_name() -> str:
    """The processor's model name (``/proc/cpuinfo``), or the platform's description."""
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    """The CPU's instruction-set flags (``avx2``, ``avx512f``...; empty where unknown)."""
    return set(_cpuinfo().get("flags", "").split())


def predicted_cpu_capability(environ: Mapping[str, str] | None = None) -> str:
    """The CPU capability torch will choose in a process started with ``environ``, decided as
    torch decides it (``ATEN_CPU_CAPABILITY`` if set; else AVX512 with AVX-512 F/BW/DQ/VL and
    FMA, AVX2 with AVX2 and FMA, else DEFAULT). ``unknown`` where the flags cannot be read
    (not Linux) or the CPU is not x86."""
    environ = os.environ if environ is None else environ
    forced = environ.get("ATEN_CPU_CAPABILITY", "").strip()
    if forced:
        return forced.upper()
    flags = cpu_flags()
    if not flags or platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
        return "unknown"
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"} <= flags:
        return "AVX512"
    if {"avx2", "fma"} <= flags:
        return "AVX2"
    return "DEFAULT"


@functools.lru_cache(maxsize=1)
def gpu_names() -> list[str]:
    """``["NVIDIA H100 80GB HBM3 (compute 9.0, 81559 MiB)"]``: the GPUs ``nvidia-smi`` lists
    (empty without one, or when it fails within 10 s)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=name,compute_cap,memory.total",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            gpus.append(f"{parts[0]} (compute {parts[1]}, {parts[2]})")
    return gpus


__all__ = ["cpu_flags", "cpu_model_name", "gpu_names", "predicted_cpu_capability"]
