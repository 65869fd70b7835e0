"""Turn torch tensors into the raw buffer descriptors the compiled kernels validate."""

from __future__ import annotations

import torch

_DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32"}


def as_buffer(name: str, t: torch.Tensor) -> tuple[int, tuple[int, ...], str, str]:
    """(data_ptr, shape, dtype, device) of a contiguous tensor; ValueError naming `name` otherwise."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    if t.dtype not in _DTYPES:
        raise ValueError(f"{name}: unsupported dtype {t.dtype}")
    if not t.is_contiguous():
        raise ValueError(f"{name}: tensor must be contiguous")
    device = "cpu" if t.device.type == "cpu" else f"{t.device.type}:{t.device.index or 0}"
    return (t.data_ptr(), tuple(t.shape), _DTYPES[t.dtype], device)
