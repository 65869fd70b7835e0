"""`mimiclab doctor`: what is installed, which devices and kernel backends exist, asset cache state.

Each check is (name, status, detail) with status "ok", "warn" or "fail"; the install is usable when
nothing fails.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import platform
import shutil
import sys
from dataclasses import dataclass


@dataclass
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail"
    detail: str


_PACKAGES = (  # (import name, distribution name, required)
    ("torch", "torch", True),
    ("isaaclab", "isaaclab", True),
    ("warp", "warp-lang", True),
    ("newton", "newton", True),
    ("mujoco", "mujoco", True),
    ("mujoco_warp", "mujoco-warp", True),
    ("rsl_rl", "rsl-rl-lib", True),
    ("onnxruntime", "onnxruntime", True),
    ("mujoco_usd_converter", "mujoco-usd-converter", True),
)


def _package(import_name: str, dist: str, required: bool) -> Check:
    try:
        version = md.version(dist)
    except md.PackageNotFoundError:
        return Check(import_name, "fail" if required else "warn", f"{dist} is not installed")
    try:
        importlib.import_module(import_name)
    except Exception as e:  # an installed package that cannot import is as bad as a missing one
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return Check(import_name, "fail" if required else "warn", f"{version} installed but import failed: {msg}")
    return Check(import_name, "ok", version)


def _devices() -> list[Check]:
    import torch

    checks = [Check("device cpu", "ok", f"{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}")]
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        checks.append(Check("device cuda", "ok", names))
    else:
        checks.append(Check("device cuda", "ok", "none (CPU-only torch or no GPU): everything runs on cpu"))
    return checks


def _kernels() -> list[Check]:
    from mimiclab.kernels import backend_report

    report = backend_report()
    checks = []
    cpp = report["cpp"]
    checks.append(Check("kernels _C (C++)", "ok" if cpp["built"] else "fail",
                        f"built, {cpp['detail']}" if cpp["built"] else f"not built: {cpp['detail']}"))
    mjw = report["mujoco_worlds"]
    checks.append(Check("physics _C_mujoco (MuJoCo C worlds)", "ok" if mjw["built"] else "warn",
                        f"built against {mjw['detail']}" if mjw["built"]
                        else f"not built ({mjw['detail']}): the CPU physics steps its worlds from Python, slower"))
    cuda = report["cuda"]
    if cuda["built"]:
        runs = "runnable" if cuda["runnable"] else "built, no GPU to run it"
        checks.append(Check("kernels _C_cuda (CUDA)", "ok", f"{runs}; {cuda['detail']}"))
    else:
        nvcc = shutil.which("nvcc")
        checks.append(Check("kernels _C_cuda (CUDA)", "warn" if nvcc else "ok",
                            f"not built although nvcc is at {nvcc}: reinstall with MIMICLAB_CUDA=ON"
                            if nvcc else "not built (no nvcc at build time)"))
    return checks


def _assets() -> list[Check]:
    from mimiclab.robots import assets

    st = assets.status()
    if st["ok"]:
        return [Check("assets G1 MJCF", "ok", str(st["mjcf"])), Check("assets G1 USD", "ok", str(st["usd"]))]
    return [Check("assets G1", "fail", str(st["error"]))]


def run_checks() -> list[Check]:
    checks = [Check("python", "ok" if sys.version_info >= (3, 11) else "fail", sys.version.split()[0]),
              Check("mimiclab", "ok", md.version("mimiclab"))]
    pkgs = [_package(*p) for p in _PACKAGES]
    checks += pkgs
    if any(c.name == "torch" and c.status == "ok" for c in pkgs):
        checks += _devices()
    checks += _kernels()
    checks += _assets()
    return checks


def format_checks(checks: list[Check]) -> str:
    mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
    width = max(len(c.name) for c in checks)
    return "\n".join(f"[{mark[c.status]}] {c.name:<{width}}  {c.detail}" for c in checks)
