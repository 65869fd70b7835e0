"""Foot collision geometry read from the MJCF: where the soles are, for ground contact checks.

The G1 feet collide through capsules on the ankle-roll bodies. A capsule's lowest point is at one
of its two end spheres, so the sole height of a foot is min(endpoint z) − radius over its capsules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class FootCapsules:
    """Per foot body: capsule end points (K,2,3) [m] in the body frame and radii (K,) [m]."""

    body_names: tuple[str, ...]
    endpoints: tuple[np.ndarray, ...]
    radii: tuple[np.ndarray, ...]

    @classmethod
    def from_mjcf(cls, path: str | Path, foot_bodies: tuple[str, ...]) -> "FootCapsules":
        import mujoco

        model = mujoco.MjModel.from_xml_path(str(path))
        ends, radii = [], []
        for name in foot_bodies:
            bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
            if bid < 0:
                raise ValueError(f"foot body '{name}' is not in {path}")
            e, r = [], []
            for g in np.flatnonzero(model.geom_bodyid == bid):
                if model.geom_type[g] != mujoco.mjtGeom.mjGEOM_CAPSULE or model.geom_contype[g] == 0:
                    continue
                axis = np.zeros(3)
                mujoco.mju_rotVecQuat(axis, np.array([0.0, 0.0, model.geom_size[g][1]]), model.geom_quat[g])
                e.append([model.geom_pos[g] - axis, model.geom_pos[g] + axis])
                r.append(model.geom_size[g][0])
            if not e:
                raise ValueError(f"foot body '{name}' has no collision capsules in {path}")
            ends.append(np.asarray(e))
            radii.append(np.asarray(r))
        return cls(tuple(foot_bodies), tuple(ends), tuple(radii))

    def end_points(self, foot_pos, foot_quat_wxyz):
        """World capsule end points per foot: a list over feet of (N,E,3) tensors and their radii
        (E,). foot_pos (N,F,3), foot_quat_wxyz (N,F,4) torch tensors."""
        import torch

        out = []
        for f in range(len(self.body_names)):
            ends = torch.as_tensor(self.endpoints[f].reshape(-1, 3), dtype=foot_pos.dtype, device=foot_pos.device)
            radii = torch.as_tensor(np.repeat(self.radii[f], 2), dtype=foot_pos.dtype, device=foot_pos.device)
            q = foot_quat_wxyz[:, f, None, :].expand(-1, ends.shape[0], -1)
            v = ends.expand(q.shape[0], -1, -1)
            u = q[..., 1:]
            t = 2.0 * torch.linalg.cross(u, v, dim=-1)
            out.append((foot_pos[:, f, None, :] + v + q[..., :1] * t + torch.linalg.cross(u, t, dim=-1), radii))
        return out

    def sole_heights(self, foot_pos, foot_quat_wxyz):
        """Lowest collision point z [m] per foot. foot_pos (N,F,3), foot_quat_wxyz (N,F,4) → (N,F).

        Accepts torch tensors (same dtype/device are used for the geometry).
        """
        import torch

        return torch.stack([(world[..., 2] - radii).amin(dim=1)
                            for world, radii in self.end_points(foot_pos, foot_quat_wxyz)], dim=1)
