"""Canonical object surface points for the point-cloud terms: (P,3) float32 in the object frame [m].

    points = sample_surface({"box": [0.4, 0.3, 0.2]}, num_points=1024, seed=0)

The source is a ``trimesh.Trimesh``, a path to a mesh file trimesh can load, or a primitive spec
(one key, sizes in metres), in the frames of ``trimesh.creation`` (centred at the origin, axis z):

    {"box": [sx, sy, sz]}    side lengths
    {"sphere": r}            radius
    {"cylinder": [r, h]}     radius, total height
    {"capsule": [r, h]}      radius, distance between the two hemisphere centres (length h + 2r)

Primitives are sampled analytically, uniformly by area, so the points lie exactly on the surface
(up to float32 rounding); meshes are sampled uniformly by area on their triangles. The same
source, num_points and seed always give the same points.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import numpy as np
import torch

PRIMITIVES = {"box": 3, "sphere": 1, "cylinder": 2, "capsule": 2}  # name -> number of sizes


def sample_surface(source, num_points: int, seed: int = 0, device: torch.device | str = "cpu") -> torch.Tensor:
    """(num_points, 3) float32 points on the surface of `source` (see the module docstring)."""
    if isinstance(num_points, bool) or not isinstance(num_points, (int, np.integer)) or num_points < 1:
        raise ValueError(f"num_points: expected an integer >= 1, got {num_points!r}")
    rng = np.random.default_rng(seed)
    if isinstance(source, Mapping):
        name, sizes = _parse_primitive(source)
        points = _PRIMITIVE_SAMPLERS[name](sizes, int(num_points), rng)
    else:
        points = _sample_mesh(_load_mesh(source), int(num_points), rng)
    return torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)).to(device)


# ---- primitives -------------------------------------------------------------------------------------

def _parse_primitive(spec: Mapping) -> tuple[str, tuple[float, ...]]:
    if len(spec) != 1 or next(iter(spec)) not in PRIMITIVES:
        raise ValueError(f"primitive spec: expected one key out of {', '.join(PRIMITIVES)}, got {dict(spec)!r}")
    name, value = next(iter(spec.items()))
    sizes = np.atleast_1d(np.asarray(value, dtype=object))
    try:
        sizes = sizes.astype(np.float64)
    except (TypeError, ValueError):
        sizes = np.array([np.nan])
    if sizes.shape != (PRIMITIVES[name],) or not np.all(np.isfinite(sizes)) or not np.all(sizes > 0):
        what = {"box": "[sx, sy, sz]", "sphere": "r", "cylinder": "[r, h]", "capsule": "[r, h]"}[name]
        raise ValueError(f"{name}: expected {what} as {PRIMITIVES[name]} positive finite size(s) [m], got {value!r}")
    return name, tuple(float(s) for s in sizes)


def _unit_vectors(count: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform directions on the unit sphere (normalised Gaussian samples)."""
    v = rng.standard_normal((count, 3))
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    while np.any(norm < 1e-12):  # practically never; keeps the division safe
        bad = norm[:, 0] < 1e-12
        v[bad] = rng.standard_normal((int(bad.sum()), 3))
        norm = np.linalg.norm(v, axis=1, keepdims=True)
    return v / norm


def _pick_parts(areas: list[float], count: int, rng: np.random.Generator) -> np.ndarray:
    """For each of `count` points, the surface part it lies on (probability proportional to area)."""
    return rng.choice(len(areas), size=count, p=np.asarray(areas) / sum(areas))


def _sample_box(sizes, count, rng):
    half = np.asarray(sizes) / 2
    sx, sy, sz = sizes
    face_axis = _pick_parts([sy * sz, sx * sz, sx * sy], count, rng)  # the axis normal to the face
    points = rng.uniform(-half, half, size=(count, 3))
    side = np.where(rng.random(count) < 0.5, -1.0, 1.0)
    rows = np.arange(count)
    points[rows, face_axis] = side * half[face_axis]
    return points


def _sample_sphere(sizes, count, rng):
    return sizes[0] * _unit_vectors(count, rng)


def _sample_cylinder(sizes, count, rng):
    r, h = sizes
    part = _pick_parts([2 * math.pi * r * h, math.pi * r * r, math.pi * r * r], count, rng)
    theta = rng.uniform(0.0, 2 * math.pi, count)
    rho = np.where(part == 0, r, r * np.sqrt(rng.random(count)))  # caps: uniform on the disc
    z = np.select([part == 0, part == 1], [rng.uniform(-h / 2, h / 2, count), np.full(count, h / 2)], -h / 2)
    return np.stack((rho * np.cos(theta), rho * np.sin(theta), z), axis=1)


def _sample_capsule(sizes, count, rng):
    r, h = sizes
    on_side = _pick_parts([2 * math.pi * r * h, 4 * math.pi * r * r], count, rng) == 0
    theta = rng.uniform(0.0, 2 * math.pi, count)
    side = np.stack((r * np.cos(theta), r * np.sin(theta), rng.uniform(-h / 2, h / 2, count)), axis=1)
    ball = r * _unit_vectors(count, rng)
    ball[:, 2] += np.where(ball[:, 2] >= 0, h / 2, -h / 2)  # upper half to the top end, lower to the bottom
    return np.where(on_side[:, None], side, ball)


_PRIMITIVE_SAMPLERS = {"box": _sample_box, "sphere": _sample_sphere, "cylinder": _sample_cylinder,
                       "capsule": _sample_capsule}


# ---- meshes -----------------------------------------------------------------------------------------

def _load_mesh(source):
    import trimesh

    if isinstance(source, trimesh.Trimesh):
        mesh = source
    elif isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise ValueError(f"mesh file not found: {os.fspath(source)}")
        try:
            mesh = trimesh.load(source, force="mesh")
        except Exception as e:  # trimesh raises many types for unreadable files
            raise ValueError(f"cannot read a mesh from {os.fspath(source)}: {e}") from e
        if not isinstance(mesh, trimesh.Trimesh):
            raise ValueError(f"{os.fspath(source)}: no triangle mesh inside")
    else:
        raise ValueError("surface source: expected a trimesh.Trimesh, a mesh file path or a primitive "
                         f"spec such as {{'box': [sx, sy, sz]}}, got {type(source).__name__}")
    if len(mesh.faces) == 0 or not mesh.area > 0 or not np.all(np.isfinite(mesh.vertices)):
        raise ValueError(f"mesh: needs triangles with a positive finite area (faces={len(mesh.faces)}, "
                         f"area={mesh.area})")
    return mesh


def _sample_mesh(mesh, count: int, rng: np.random.Generator) -> np.ndarray:
    import trimesh

    points, _ = trimesh.sample.sample_surface(mesh, count, seed=rng)
    return points
