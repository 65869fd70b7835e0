"""Which compiled kernel backends exist at run time, loaded once and never fatal on import."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from functools import lru_cache
from types import ModuleType

BACKENDS = ("cpp", "cuda", "warp", "torch")


@lru_cache(maxsize=None)
def _load(module: str) -> tuple[ModuleType | None, str]:
    try:
        return importlib.import_module(module), ""
    except ImportError as e:
        return None, str(e).splitlines()[0]


def cpp_module() -> ModuleType | None:
    """``mimiclab._C`` (C++17 CPU kernels) or None when it was not built."""
    return _load("mimiclab._C")[0]


def cuda_module() -> ModuleType | None:
    """``mimiclab._C_cuda`` or None when it was not built (no nvcc at build time)."""
    return _load("mimiclab._C_cuda")[0]


def mujoco_worlds_module() -> ModuleType | None:
    """``mimiclab._C_mujoco`` (MuJoCo C worlds stepped in one call) or None when it was not built."""
    return _load("mimiclab._C_mujoco")[0]


def warp_module() -> ModuleType | None:
    """``warp`` initialised (quietly), or None when it cannot be imported."""
    mod, _ = _load("warp")
    if mod is not None and not getattr(warp_module, "_initialised", False):
        mod.config.quiet = True
        with _native_stderr_silenced():  # Warp's native "no CUDA driver" notice on CPU machines
            mod.init()
        warp_module._initialised = True
    return mod


@contextlib.contextmanager
def _native_stderr_silenced():
    """Redirect file descriptor 2 (what native libraries print to) to /dev/null for a moment."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def warp_has_cuda() -> bool:
    wp = warp_module()
    return wp is not None and wp.get_cuda_device_count() > 0


def cuda_device_count() -> int:
    """CUDA devices usable by ``_C_cuda`` (0 when not built, no driver, or no GPU)."""
    mod = cuda_module()
    return mod.device_count() if mod is not None else 0


def backend_report() -> dict[str, dict[str, object]]:
    """{backend: {built, runnable, detail}} for `mimiclab doctor` and the benchmarks."""
    cpp, cpp_err = _load("mimiclab._C")
    cuda, cuda_err = _load("mimiclab._C_cuda")
    mjw, mjw_err = _load("mimiclab._C_mujoco")
    ndev = cuda_device_count()
    report = {
        "cpp": {"built": cpp is not None, "runnable": cpp is not None,
                "detail": f"{cpp.hardware_threads()} hardware threads" if cpp else cpp_err},
        "cuda": {"built": cuda is not None, "runnable": ndev > 0,
                 "detail": (f"CUDA runtime {cuda.cuda_runtime_version // 1000}.{cuda.cuda_runtime_version % 1000 // 10}, "
                            f"{ndev} device(s)") if cuda else cuda_err},
        "warp": {"built": warp_module() is not None, "runnable": warp_module() is not None,
                 "detail": (f"warp {warp_module().__version__}, devices: "
                            + ", ".join(str(d) for d in warp_module().get_devices())) if warp_module() else _load("warp")[1]},
        "mujoco_worlds": {"built": mjw is not None, "runnable": mjw is not None,
                          "detail": f"MuJoCo {mjw.mujoco_version}" if mjw else mjw_err},
        "torch": {"built": True, "runnable": True, "detail": "reference implementation"},
    }
    return report


def available_backends(device: str = "cpu") -> list[str]:
    """Backends that can run on `device` ('cpu' or 'cuda[:i]'), fastest first."""
    if device.startswith("cuda"):
        return ((["cuda"] if cuda_device_count() > 0 else []) + (["warp"] if warp_has_cuda() else [])
                + ["torch"])
    return (["cpp"] if cpp_module() is not None else []) + (["warp"] if warp_module() else []) + ["torch"]
