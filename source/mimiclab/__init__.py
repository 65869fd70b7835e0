"""mimiclab: human motion to whole-body Unitree G1 skills (retargeting, tracking, export, sim2sim)."""

import os as _os

__version__ = "0.1.0"


def _default_mujoco_gl() -> None:
    """Headless offscreen rendering for MuJoCo (sim2sim videos) unless the user chose a backend:
    EGL where an NVIDIA driver is loaded, else OSMesa. MuJoCo reads MUJOCO_GL once, when first
    imported, so this runs before any part of mimiclab imports it."""
    if "MUJOCO_GL" in _os.environ or _os.environ.get("DISPLAY"):
        return
    _os.environ["MUJOCO_GL"] = "egl" if _os.path.exists("/proc/driver/nvidia") else "osmesa"


_default_mujoco_gl()
