"""The compute device: choosing it, naming what it is, and making it deterministic.

- :func:`resolve_device`: ``cuda`` when asked and available, the CPU otherwise;
- :func:`device_identity`: what about the device changes numbers (the CPU's instruction set
  torch uses and its thread count; the GPU's name, compute capability, memory, CUDA/cuDNN
  versions, the determinism setting and the data-path policy), for cache keys: results computed
  on an A100 and on an H100, or under AVX-512 and AVX2, never share a key;
- :func:`machine_description`: the same and more for people (BLAS libraries, CPU model), for
  the provenance line and the build record; :func:`describe_device` is its short form;
- :func:`set_determinism`: the CUDA flags of :mod:`emo_lib.compute_settings`' ``deterministic``
  setting (the CPU path needs none).

What it does not do: read profiles or start processes (the settings arrive as environment
variables, :mod:`emo_lib.compute_settings`).
"""
from __future__ import annotations

import functools
import logging
import os
import re
from typing import Any

import torch

from .compute_settings import CUBLAS_WORKSPACE, ComputeSettings
from .machine import cpu_model_name

log = logging.getLogger(__name__)


def resolve_device(requested: str = "auto") -> torch.device:
    """``"cuda"``/``"cuda:N"`` if asked and available, else ``"cpu"``; ``"auto"`` prefers cuda.

    A request for cuda on a machine without one falls back to the CPU with a warning (the
    notebook records the device it actually used).
    """
    requested = (requested or "auto").lower()
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda"):
        if torch.cuda.is_available():
            return torch.device(requested)
        log.warning("device %r requested but CUDA is not available; using the CPU", requested)
        return torch.device("cpu")
    return torch.device(requested)


def _as_device(device: torch.device | str) -> torch.device:
    return device if isinstance(device, torch.device) else torch.device(device)


def cpu_capability() -> str:
    """The instruction set torch's CPU kernels use here (``AVX512``, ``AVX2``, ``DEFAULT``...),
    after ``ATEN_CPU_CAPABILITY`` if set."""
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except Exception:  # very old torch
        return "unknown"


def threads_text(n: int) -> str:
    """``1 thread`` / ``4 threads``."""
    return f"{n} thread" + ("" if n == 1 else "s")


#: The GPU name a key records for a CUDA device the process making the key cannot see (a
#: unit planned on a login node for a cluster's GPU workers): the workers check nothing then,
#: and record the GPU they used in the unit's timing.
NOT_VISIBLE = "not visible where the key was made"


def gpu_identity(device: torch.device | str) -> dict[str, Any]:
    """Name, compute capability (``"9.0"``), total memory (GiB, one decimal; None when it
    cannot be read), CUDA and cuDNN versions of a CUDA device this process can see."""
    device = _as_device(device)
    index = device.index if device.index is not None else torch.cuda.current_device()
    major, minor = torch.cuda.get_device_capability(index)
    try:
        memory = round(torch.cuda.get_device_properties(index).total_memory / 2**30, 1)
    except Exception:  # a stand-in device in a test
        memory = None
    return {"name": str(torch.cuda.get_device_name(index)), "capability": f"{major}.{minor}",
            "memory_gib": memory, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version()}


def device_identity(device: torch.device | str) -> dict[str, Any]:
    """What, besides the code and its inputs, decides the numbers torch computes on ``device``
    (and the settings it runs with): part of the key of every cache whose values torch
    computed (training units, the stand-in, face pretraining, LIME maps, face crops). Plain
    JSON.

    * CPU: ``{"type": "cpu", "torch": ..., "capability": "AVX512", "threads": 1,
      "pin_cpu": None}``: the instruction set torch's kernels use (after any pin) and the thread
      count, both of which change its rounding (executors compute with the thread count of the
      process that made the key, :mod:`emo_lib.train.executors`);
    * CUDA: ``{"type": "cuda", "torch": ..., "cuda": "12.8", "name": "NVIDIA H100 80GB HBM3",
      "capability": "9.0", "cudnn": 91000, "memory_gib": 79.1, "deterministic": True,
      "data_path": "auto", "host": <the CPU's identity>}``: the GPU, the determinism setting and
      the data-path policy (:mod:`emo_lib.compute_settings`; the data path is decided from the
      data's size and the memory named here), and the host CPU (the DataLoader path's
      transforms run there). A CUDA device this process cannot see has ``"name":``
      :data:`NOT_VISIBLE`.

    The settings are those this process was started with (:meth:`ComputeSettings.from_env`).
    """
    device = _as_device(device)
    settings = ComputeSettings.from_env()
    cpu = {"type": "cpu", "torch": torch.__version__, "capability": cpu_capability(),
           "threads": torch.get_num_threads(), "pin_cpu": settings.pin_cpu}
    if device.type == "cpu":
        return cpu
    if device.type == "cuda":
        out: dict[str, Any] = {"type": "cuda", "torch": torch.__version__,
                               "cuda": torch.version.cuda,
                               "deterministic": settings.deterministic,
                               "data_path": settings.data_path}
        if not torch.cuda.is_available():
            return out | {"name": NOT_VISIBLE}
        return out | gpu_identity(device) | {"host": cpu}
    return {"type": device.type, "torch": torch.__version__, "host": cpu}


@functools.lru_cache(maxsize=1)
def _torch_blas() -> str:
    """Torch's BLAS as its build configuration names it (``MKL 2024.2``, ``OpenBLAS``...)."""
    config = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    name = blas.group(1) if blas else "unknown"
    if name == "mkl":
        version = re.search(r"Math Kernel Library Version ([\d.]+)", config)
        return "MKL" + (f" {version.group(1)}" if version else "")
    return {"open": "OpenBLAS", "openblas": "OpenBLAS", "accelerate": "Accelerate"}.get(
        name, name)


def _numpy_blas() -> str:
    """numpy's BLAS as threadpoolctl finds it loaded (``OpenBLAS 0.3.31 (SkylakeX)``)."""
    try:
        import numpy  # noqa: F401  (loads its BLAS)
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(
                lib.get("internal_api", ""), lib.get("internal_api", "?"))
            version = lib.get("version") or ""
            arch = lib.get("architecture")
            return " ".join(p for p in (name, version.split(".dev")[0][:12],
                                        f"({arch})" if arch else "") if p)
    return "none found"


def determinism_flags() -> dict[str, Any]:
    """torch's determinism switches as they are now in this process."""
    return {"cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
            "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
            "deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
            "cublas_workspace": os.environ.get("CUBLAS_WORKSPACE_CONFIG")}


def machine_description(device: torch.device | str) -> dict[str, Any]:
    """The machine for people and records: CPU model and capability, torch's and numpy's BLAS,
    threads, the CPU pin, and for CUDA the GPU (:func:`gpu_identity`) and the determinism
    setting with torch's actual flags."""
    device = _as_device(device)
    settings = ComputeSettings.from_env()
    out: dict[str, Any] = {
        "device": device.type, "cpu": cpu_model_name(), "cpu_capability": cpu_capability(),
        "pin_cpu": settings.pin_cpu, "blas": _torch_blas(), "numpy_blas": _numpy_blas(),
        "threads": torch.get_num_threads(), "gpu": None, "deterministic": None,
    }
    if device.type == "cuda":
        out["gpu"] = gpu_identity(device)
        out["deterministic"] = settings.deterministic
        out["flags"] = determinism_flags()
        out["data_path"] = settings.data_path
    return out


def describe_device(device: torch.device | str) -> str:
    """``cpu (AVX512, 1 thread)`` or ``cuda (NVIDIA H100 80GB HBM3, compute 9.0)``."""
    device = _as_device(device)
    if device.type == "cuda":
        gpu = gpu_identity(device)
        return f"cuda ({gpu['name']}, compute {gpu['capability']})"
    return f"cpu ({cpu_capability()}, {threads_text(torch.get_num_threads())})"


def set_determinism(device: torch.device | str, deterministic: bool | None = None) -> bool:
    """On CUDA, set torch's determinism flags for ``deterministic`` (None: this process's
    :class:`ComputeSettings`): True gives cuDNN's deterministic algorithms without autotuning,
    ``use_deterministic_algorithms(True, warn_only=True)`` (an op without a deterministic CUDA
    kernel, such as VGG-16's adaptive average pooling backward, warns instead of failing) and
    cuBLAS's fixed workspace (set here if the environment lacks it; it only acts before cuBLAS
    starts, so the runner also puts it into every kernel's and worker's environment); False
    lets cuDNN autotune. Nothing changes on other devices. Returns the setting applied."""
    device = _as_device(device)
    if deterministic is None:
        deterministic = ComputeSettings.from_env().deterministic
    if device.type != "cuda":
        return deterministic
    if deterministic:
        if "CUBLAS_WORKSPACE_CONFIG" not in os.environ:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch.backends.cudnn.deterministic = False
        torch.backends.cudnn.benchmark = True
        torch.use_deterministic_algorithms(False)
    return deterministic


def bf16_supported() -> bool:
    """True when the current GPU computes in bfloat16 natively (compute capability 8.0+):
    ``torch.cuda.is_bf16_supported(including_emulation=False)``; V100 and T4, which only
    emulate it (no bf16 convolutions), get False and train in fp16 with a gradient scaler."""
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # torch before 2.3 has no including_emulation
        major, _ = torch.cuda.get_device_capability()
        return major >= 8


__all__ = ["NOT_VISIBLE", "bf16_supported", "cpu_capability", "describe_device",
           "determinism_flags", "device_identity", "gpu_identity", "machine_description",
           "resolve_device", "set_determinism", "threads_text"]
