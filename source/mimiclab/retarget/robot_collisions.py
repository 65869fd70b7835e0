"""Where a G1 motion overlaps itself: MuJoCo's collision pipeline (broad + narrow phase, the MJCF's
own exclusions and parent-child filtering) at every frame of a motion.

    contacts = penetrating_contacts(motion)   # PenetratingContacts of all frames
    contacts.frame, contacts.geom, contacts.dist, contacts.normal

One C++ call (``mimiclab._C_mujoco.penetrating_contacts``) when that module was built; the Python
loop ``_penetrating_contacts_python`` is the readable reference it is tested against and the
fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass
class PenetratingContacts:
    """The overlapping geom pairs of all frames, in frame then MuJoCo contact order: frame (N,)
    int32, geom (N,2) int32 ids, dist (N,) [m] (negative: the overlap), normal (N,3) world
    unit vector from geom 0 towards geom 1."""

    frame: np.ndarray
    geom: np.ndarray
    dist: np.ndarray
    normal: np.ndarray


@lru_cache(maxsize=1)
def collision_model():
    """(mjModel, mjData) of the G1 MJCF, shared by every collision query of this process."""
    import mujoco

    from mimiclab.robots.assets import g1_mjcf_path

    model = mujoco.MjModel.from_xml_path(str(g1_mjcf_path()))
    return model, mujoco.MjData(model)


@lru_cache(maxsize=8)
def _qpos_addresses(joint_names: tuple[str, ...]) -> np.ndarray:
    """qpos index of each named joint in the collision model."""
    import mujoco

    model, _ = collision_model()
    return np.array([model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)] for n in joint_names])


def pose_rows(motion) -> np.ndarray:
    """(T, nq) float64 MuJoCo qpos rows of a motion (root_pos_w, root_quat_w, joint_pos, joint_names)."""
    model, _ = collision_model()
    qpos = np.zeros((motion.num_frames, model.nq))
    qpos[:, :3] = motion.root_pos_w
    qpos[:, 3:7] = motion.root_quat_w
    qpos[:, _qpos_addresses(tuple(motion.joint_names))] = motion.joint_pos
    return qpos


def _penetrating_contacts_python(qpos: np.ndarray) -> PenetratingContacts:
    """The reference: mj_kinematics + mj_collision frame by frame, keeping dist < 0."""
    import mujoco

    model, data = collision_model()
    frame, geom, dist, normal = [], [], [], []
    for t in range(qpos.shape[0]):
        data.qpos[:] = qpos[t]
        mujoco.mj_kinematics(model, data)
        mujoco.mj_collision(model, data)
        for i in range(data.ncon):
            c = data.contact[i]
            if c.dist < 0:
                frame.append(t)
                geom.append((c.geom1, c.geom2))
                dist.append(c.dist)
                normal.append(np.array(c.frame[:3]))
    return PenetratingContacts(np.array(frame, np.int32), np.array(geom, np.int32).reshape(-1, 2),
                               np.array(dist, float), np.array(normal, float).reshape(-1, 3))


def penetrating_contacts(motion) -> PenetratingContacts:
    """Every overlapping geom pair of every frame of `motion` (module docstring)."""
    from mimiclab.kernels.backends import mujoco_worlds_module

    qpos = np.ascontiguousarray(pose_rows(motion), dtype=np.float64)
    native = mujoco_worlds_module()
    if native is None:
        return _penetrating_contacts_python(qpos)
    model, data = collision_model()
    return PenetratingContacts(*native.penetrating_contacts(model._address, data._address, qpos))


def colliding_frames(motion) -> np.ndarray:
    """(T,) bool: frames in which two robot collision geoms overlap."""
    hits = np.zeros(motion.num_frames, bool)
    hits[penetrating_contacts(motion).frame] = True
    return hits
