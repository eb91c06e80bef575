"""Choosing the compute device: ``cuda`` when asked and available, the CPU otherwise."""
from __future__ import annotations

import logging

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
