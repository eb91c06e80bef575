"""Choosing the compute device (``cuda`` when asked and available, the CPU otherwise), and
naming it for cache keys (:func:`device_identity`).

What it does not do: show the machine on a page (the provenance line does).
"""
from __future__ import annotations

import logging
from typing import Any

import torch

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


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def device_identity(device: torch.device | str) -> dict[str, Any]:
    """What, besides the code and its inputs, decides the numbers torch computes on ``device``:
    part of the key of every cache whose values torch computed (training units, the stand-in,
    face pretraining, LIME maps).

    * CPU: ``{"type": "cpu", "capability": ..., "torch": ...}``; the capability is the
      instruction set torch's kernels use (``torch.backends.cpu.get_cpu_capability()``, e.g.
      ``"AVX512"`` or ``"AVX2"``), whose rounding differs;
    * CUDA: ``{"type": "cuda", "name": ..., "capability": "9.0", "torch": ..., "cuda": ...,
      "cudnn": ...}``. A CUDA device this process cannot see (a unit planned here for a
      cluster's GPU workers) has ``"name": "not visible where the key was made"``.

    The thread count is not in it (executors choose their own; see the provenance line).
    """
    device = torch.device(device)
    out: dict[str, Any] = {"type": device.type, "torch": torch.__version__}
    if device.type == "cpu":
        return out | {"capability": torch.backends.cpu.get_cpu_capability()}
    if device.type == "cuda":
        out |= {"cuda": torch.version.cuda}
        if not torch.cuda.is_available():
            return out | {"name": "not visible where the key was made"}
        index = device.index if device.index is not None else torch.cuda.current_device()
        major, minor = torch.cuda.get_device_capability(index)
        return out | {"name": torch.cuda.get_device_name(index), "capability": f"{major}.{minor}",
                      "cudnn": torch.backends.cudnn.version()}
    return out
