"""A local, offline flat ground plane (Isaac Lab's stock ground points at a remote asset server)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mimiclab.robots.assets import asset_dir


def ground_plane_usd() -> Path:
    """Path of a USD with an Xform default prim and a 200 m × 200 m collision plane at z = 0.

    Written once into the asset cache (atomically); no download involved.
    """
    path = asset_dir() / "ground" / "flat_plane.usda"
    if path.is_file():
        return path
    from pxr import Usd, UsdGeom, UsdPhysics

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".usda")
    os.close(fd)
    os.unlink(tmp)
    stage = Usd.Stage.CreateNew(tmp)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, "/GroundPlane")
    stage.SetDefaultPrim(root.GetPrim())
    plane = UsdGeom.Plane.Define(stage, "/GroundPlane/CollisionPlane")
    plane.CreateAxisAttr("Z")
    plane.CreateWidthAttr(200.0)
    plane.CreateLengthAttr(200.0)
    UsdPhysics.CollisionAPI.Apply(plane.GetPrim())
    stage.GetRootLayer().Save()
    os.replace(tmp, path)
    return path
