"""Kinematic tree of a floating-base robot, read from its MJCF by name.

The arrays are what the forward-kinematics kernels consume (see ``mimiclab.kernels.fk``):
bodies in topological order with the floating root at index 0, hinge joints mapped to columns of
``joint_pos`` by *name* through the robot's joint order (never by the MJCF's own order).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class KinematicTree:
    """Arrays (float64 unless noted), B bodies:

    body_names (B,), joint_names (J,) — joint_pos column order,
    parent (B,) int32 (-1 for the root), joint_index (B,) int32 (-1 for a fixed body),
    local_pos (B,3) [m] and local_quat (B,4) wxyz of each body in its parent frame,
    joint_axis (B,3) unit hinge axis and joint_anchor (B,3) [m] in the body frame.
    """

    body_names: tuple[str, ...]
    joint_names: tuple[str, ...]
    parent: np.ndarray
    joint_index: np.ndarray
    local_pos: np.ndarray
    local_quat: np.ndarray
    joint_axis: np.ndarray
    joint_anchor: np.ndarray

    @property
    def num_bodies(self) -> int:
        return len(self.body_names)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @classmethod
    def from_mjcf(cls, path: str | Path, joint_names: tuple[str, ...], body_names: tuple[str, ...]) -> "KinematicTree":
        """Tree of `body_names` (root first) with hinge columns in `joint_names` order.

        Raises ValueError naming the first body/joint that is unknown, not a hinge, or whose
        parent is not listed before it.
        """
        import mujoco

        model = mujoco.MjModel.from_xml_path(str(path))
        col = {n: i for i, n in enumerate(joint_names)}
        pos_in_list = {n: i for i, n in enumerate(body_names)}
        B = len(body_names)
        parent = np.full(B, -1, np.int32)
        joint_index = np.full(B, -1, np.int32)
        local_pos = np.zeros((B, 3))
        local_quat = np.zeros((B, 4))
        axis = np.zeros((B, 3))
        anchor = np.zeros((B, 3))
        seen_joints: set[str] = set()
        for b, name in enumerate(body_names):
            bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
            if bid < 0:
                raise ValueError(f"body '{name}' is not in {path}")
            local_pos[b] = model.body_pos[bid]
            local_quat[b] = model.body_quat[bid] / np.linalg.norm(model.body_quat[bid])
            if b > 0:
                pname = model.body(model.body_parentid[bid]).name
                if pos_in_list.get(pname, b) >= b:
                    raise ValueError(f"body '{name}': parent '{pname}' must be listed before it")
                parent[b] = pos_in_list[pname]
            for j in range(model.body_jntadr[bid], model.body_jntadr[bid] + model.body_jntnum[bid]):
                jname = model.joint(j).name
                if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE and b == 0:
                    continue
                if model.jnt_type[j] != mujoco.mjtJoint.mjJNT_HINGE:
                    raise ValueError(f"joint '{jname}' is not a hinge")
                if joint_index[b] >= 0:
                    raise ValueError(f"body '{name}' has more than one hinge")
                if jname not in col:
                    raise ValueError(f"joint '{jname}' of body '{name}' is not in the joint list")
                joint_index[b] = col[jname]
                axis[b] = model.jnt_axis[j] / np.linalg.norm(model.jnt_axis[j])
                anchor[b] = model.jnt_pos[j]
                seen_joints.add(jname)
        missing = [n for n in joint_names if n not in seen_joints]
        if missing:
            raise ValueError(f"joint '{missing[0]}' is not on any listed body")
        return cls(tuple(body_names), tuple(joint_names), parent, joint_index, local_pos,
                   local_quat, axis, anchor)


@lru_cache(maxsize=4)
def g1_kinematic_tree(mjcf: str | None = None) -> KinematicTree:
    """The G1 tree in mimiclab's joint and body order (default MJCF: the provisioned one)."""
    from mimiclab.robots.assets import g1_mjcf_path
    from mimiclab.robots.g1 import G1

    path = mjcf or str(g1_mjcf_path())
    return KinematicTree.from_mjcf(path, G1.joint_names, G1.body_names)
