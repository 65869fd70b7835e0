"""Input validation shared by the kernel front-ends: one clear ValueError/TypeError per problem."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mimiclab.kernels import backends

FLOAT_DTYPES = (torch.float32, torch.float64)


def as_tensor(name: str, x, device: torch.device | str | None = None) -> torch.Tensor:
    """torch.Tensor from a tensor or numpy array (zero-copy for numpy); TypeError for anything else."""
    if isinstance(x, torch.Tensor):
        return x if device is None else x.to(device)
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(x)
        return t if device is None else t.to(device)
    raise TypeError(f"{name}: expected a torch.Tensor or numpy array, got {type(x).__name__}")


def check_tensor(name: str, x: torch.Tensor, shape: Sequence[int | None], dtypes=FLOAT_DTYPES,
                 device: torch.device | None = None, finite: bool = True) -> None:
    """Raise ValueError naming `name` unless x has `shape` (None = any size), one of `dtypes`,
    lives on `device` (when given) and, for floats with finite=True, holds no NaN/Inf."""
    if x.dtype not in dtypes:
        allowed = " or ".join(str(d).replace("torch.", "") for d in dtypes)
        raise ValueError(f"{name}: expected dtype {allowed}, got {str(x.dtype).replace('torch.', '')}")
    if len(x.shape) != len(shape) or any(s is not None and s != d for s, d in zip(shape, x.shape)):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(x.shape)}")
    if device is not None and x.device != torch.device(device):
        raise ValueError(f"{name}: expected device {device}, got {x.device}")
    if finite and x.is_floating_point() and x.numel() and not _all_finite(x):
        raise ValueError(f"{name}: contains NaN or Inf")


def _all_finite(x: torch.Tensor) -> bool:
    """NaN/Inf check; numpy for CPU tensors (torch's elementwise kernels cost ~1 ms per call here)."""
    if x.device.type == "cpu" and not x.requires_grad:
        return bool(np.isfinite(x.detach().numpy()).all())
    return bool(torch.isfinite(x).all())


def resolve_backend(backend: str, device: torch.device) -> str:
    """'auto' → the fastest backend for `device`; otherwise check that `backend` can run there."""
    dev = device.type
    if backend == "auto":
        return backends.available_backends(dev)[0]
    if backend not in backends.BACKENDS:
        raise ValueError(f"unknown backend '{backend}' (choose from auto, {', '.join(backends.BACKENDS)})")
    if backend == "cpp" and dev != "cpu":
        raise ValueError(f"backend 'cpp' runs on cpu tensors, got device {device}")
    if backend == "cuda" and dev != "cuda":
        raise ValueError(f"backend 'cuda' runs on cuda tensors, got device {device}")
    if backend not in backends.available_backends(dev):
        raise RuntimeError(f"backend '{backend}' is not available on {device} in this install (see `mimiclab doctor`)")
    return backend
