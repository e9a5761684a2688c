"""Where tensors live: turns the `device` setting into a torch device name.

Asking torch about CUDA can be slow and can start a driver, so the explicit `cpu` setting answers
without touching `torch.cuda` at all.
"""

from __future__ import annotations

import torch

_SETTINGS = ("auto", "cpu", "cuda")


def choose_device(setting: str) -> str:
    """The device name for a setting of "auto", "cpu" or "cuda"; refuses "cuda" without a GPU."""
    if setting == "cpu":
        return "cpu"
    if setting not in _SETTINGS:
        raise ValueError(f"Unknown device setting {setting!r}; use one of {', '.join(_SETTINGS)}.")
    available = torch.cuda.is_available()
    if setting == "auto":
        return "cuda" if available else "cpu"
    if not available:
        raise ValueError(
            "The device setting is 'cuda', but torch finds no usable GPU here "
            f"(torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none'}). "
            "Use 'auto' or 'cpu' instead."
        )
    return "cuda"


def describe_device(name: str) -> str:
    """Words for the page: "CPU" or "GPU: <model name>"."""
    device = torch.device(name)
    if device.type == "cpu":
        return "CPU"
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    raise ValueError(f"Unknown device {name!r}; expected 'cpu' or 'cuda'.")
