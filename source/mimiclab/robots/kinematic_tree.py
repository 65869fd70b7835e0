"""Kinematic tree of a floating-base robot, read from its MJCF by name.

The arrays are what the forward-kinematics kernels consume (see ``mimiclab.kernels.fk``):
bodies in topological order with the floating root at index 0, hinge joints mapped to columns of
``joint_pos`` by *name* through the robot's joint order (never by the MJCF's own order). Without
explicit names, ``from_mjcf`` takes the whole tree under the MJCF's first top-level body and its
hinges in MJCF order, so any tree of hinge joints on a free root works, not only the G1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class KinematicTree:
    """Arrays (float64 unless noted), B bodies, J joints:

    body_names (B,), joint_names (J,) — joint_pos column order,
    parent (B,) int32 (-1 for the root), joint_index (B,) int32 (-1 for a fixed body),
    local_pos (B,3) [m] and local_quat (B,4) wxyz of each body in its parent frame,
    joint_axis (B,3) unit hinge axis and joint_anchor (B,3) [m] in the body frame,
    joint_lower / joint_upper (J,) [rad] position limits, -inf / +inf for an unlimited joint
    (both default to unlimited when not given).
    """

    body_names: tuple[str, ...]
    joint_names: tuple[str, ...]
    parent: np.ndarray
    joint_index: np.ndarray
    local_pos: np.ndarray
    local_quat: np.ndarray
    joint_axis: np.ndarray
    joint_anchor: np.ndarray
    joint_lower: np.ndarray | None = None
    joint_upper: np.ndarray | None = None

    def __post_init__(self) -> None:
        J = len(self.joint_names)
        for name, fill in (("joint_lower", -np.inf), ("joint_upper", np.inf)):
            value = getattr(self, name)
            arr = np.full(J, fill) if value is None else np.asarray(value, dtype=np.float64)
            if arr.shape != (J,):
                raise ValueError(f"{name}: expected shape ({J},), got {arr.shape}")
            object.__setattr__(self, name, arr)

    @property
    def num_bodies(self) -> int:
        return len(self.body_names)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def body_index(self, names: str | list[str] | tuple[str, ...]) -> int | list[int]:
        """Index (or indices) of body name(s) in ``body_names``; ValueError for an unknown name."""
        single = isinstance(names, str)
        out = []
        for n in [names] if single else names:
            if n not in self.body_names:
                raise ValueError(f"body '{n}' is not in the tree")
            out.append(self.body_names.index(n))
        return out[0] if single else out

    @classmethod
    def from_mjcf(cls, path: str | Path, joint_names: tuple[str, ...] | None = None,
                  body_names: tuple[str, ...] | None = None) -> "KinematicTree":
        """Tree of `body_names` (root first) with hinge columns in `joint_names` order.

        body_names=None: the MJCF's first body under the world (the floating root; its free joint,
        if any, is skipped) and all its descendants, in MJCF (depth-first) order; other top-level
        bodies (props, mocap targets) are not part of the tree. joint_names=None: every hinge on
        the chosen bodies, in MJCF order. Limits come from the MJCF joint ranges (±inf when a
        joint is unlimited). Raises ValueError naming the first body/joint that is unknown, not a
        hinge, or whose parent is not listed before it.
        """
        import mujoco

        model = mujoco.MjModel.from_xml_path(str(path))
        if body_names is None:
            if model.nbody < 2:
                raise ValueError(f"{path}: no body under the world")
            body_names = tuple(model.body(b).name for b in range(1, model.nbody) if model.body_rootid[b] == 1)
            unnamed = [i for i, n in enumerate(body_names) if not n]
            if unnamed:
                raise ValueError(f"{path}: body {unnamed[0] + 1} has no name (every tree body needs one)")
        if joint_names is None:
            joint_names = []
            for name in body_names:
                bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
                if bid < 0:
                    raise ValueError(f"body '{name}' is not in {path}")
                for j in range(model.body_jntadr[bid], model.body_jntadr[bid] + model.body_jntnum[bid]):
                    if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE:
                        if not model.joint(j).name:
                            raise ValueError(f"hinge joint {j} of body '{name}' has no name")
                        joint_names.append(model.joint(j).name)
            joint_names = tuple(joint_names)
        col = {n: i for i, n in enumerate(joint_names)}
        if len(col) != len(joint_names):
            raise ValueError("joint_names: duplicate names")
        pos_in_list = {n: i for i, n in enumerate(body_names)}
        if len(pos_in_list) != len(body_names):
            raise ValueError("body_names: duplicate names")
        B, J = len(body_names), len(joint_names)
        parent = np.full(B, -1, np.int32)
        joint_index = np.full(B, -1, np.int32)
        local_pos = np.zeros((B, 3))
        local_quat = np.zeros((B, 4))
        axis = np.zeros((B, 3))
        anchor = np.zeros((B, 3))
        lower = np.full(J, -np.inf)
        upper = np.full(J, np.inf)
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
                if model.jnt_limited[j]:
                    lower[col[jname]], upper[col[jname]] = model.jnt_range[j]
                seen_joints.add(jname)
        missing = [n for n in joint_names if n not in seen_joints]
        if missing:
            raise ValueError(f"joint '{missing[0]}' is not on any listed body")
        return cls(tuple(body_names), tuple(joint_names), parent, joint_index, local_pos,
                   local_quat, axis, anchor, lower, upper)


def mjcf_site_attachments(path: str | Path, tree: KinematicTree,
                          site_names: list[str] | tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(body_index (M,) int64, offset (M,3) float64 [m]) of MJCF sites on tree bodies, ready for
    ``mimiclab.kernels.fk.attached_points`` (e.g. a virtual toe point on an ankle body)."""
    import mujoco

    model = mujoco.MjModel.from_xml_path(str(path))
    index = np.zeros(len(site_names), np.int64)
    offset = np.zeros((len(site_names), 3))
    for m, name in enumerate(site_names):
        sid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, name)
        if sid < 0:
            raise ValueError(f"site '{name}' is not in {path}")
        body = model.body(model.site_bodyid[sid]).name
        if body not in tree.body_names:
            raise ValueError(f"site '{name}' is on body '{body}', which is not in the tree")
        index[m] = tree.body_names.index(body)
        offset[m] = model.site_pos[sid]
    return index, offset


@lru_cache(maxsize=4)
def g1_kinematic_tree(mjcf: str | None = None) -> KinematicTree:
    """The G1 tree in mimiclab's joint and body order (default MJCF: the provisioned one)."""
    from mimiclab.robots.assets import g1_mjcf_path
    from mimiclab.robots.g1 import G1

    path = mjcf or str(g1_mjcf_path())
    return KinematicTree.from_mjcf(path, G1.joint_names, G1.body_names)
