"""Quality metrics of a retargeted G1 motion (written to <name>.quality.json).

keypoint error (global and root-relative, mean/max) [m], joint-limit violation frames (fraction),
ground penetration (fraction of frames deeper than 1 cm, max depth [m]), foot sliding (mean
horizontal toe speed while the source foot is planted [m/s]), self-collision frames (fraction,
MuJoCo collision check), joint jumps (frame-to-frame change > 0.4 rad at 50 Hz: count), jerk (mean
|d³q/dt³| [rad/s³]).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

PENETRATION_TOLERANCE = 0.01  # m
JOINT_JUMP = 0.4  # rad per frame at 50 Hz: faster than the slowest G1 joint (20 rad/s)


@lru_cache(maxsize=1)
def _feet():
    from mimiclab.robots.assets import g1_mjcf_path
    from mimiclab.robots.foot_geometry import FootCapsules
    from mimiclab.robots.g1 import G1

    return FootCapsules.from_mjcf(g1_mjcf_path(), G1.foot_bodies)


def _fk(root_pos, root_quat, joint_pos):
    from mimiclab.kernels import forward_kinematics
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    t = lambda x: torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float64)  # noqa: E731
    return forward_kinematics(g1_kinematic_tree(), t(root_pos), t(root_quat), t(joint_pos))


def sole_heights(root_pos, root_quat, joint_pos) -> np.ndarray:
    """(T,2) lowest collision point of the left/right foot [m] above z = 0."""
    from mimiclab.robots.g1 import G1

    pos, quat = _fk(root_pos, root_quat, joint_pos)
    ids = [G1.body_names.index(b) for b in G1.foot_bodies]
    return _feet().sole_heights(pos[:, ids], quat[:, ids]).numpy()


def toe_points(motion) -> np.ndarray:
    """(T,2,3) the G1 virtual toe points (world) of the left/right foot."""
    from mimiclab.retarget.robot_targets import g1_targets
    from scipy.spatial.transform import Rotation

    toe = np.array(g1_targets().toe)
    out = []
    for side in ("left", "right"):
        b = motion.body_names.index(f"{side}_ankle_roll_link")
        q = motion.body_quat_w[:, b]
        R = Rotation.from_quat(np.concatenate((q[:, 1:], q[:, :1]), axis=1)).as_matrix()
        out.append(motion.body_pos_w[:, b] + R @ toe)
    return np.stack(out, axis=1)


def foot_sliding(motion, contacts: np.ndarray) -> float:
    """Mean horizontal toe speed [m/s] over planted frames (0 when there are none)."""
    toes = toe_points(motion)
    if motion.num_frames < 2 or not contacts.any():
        return 0.0
    speed = np.linalg.norm(np.gradient(toes[..., :2], axis=0), axis=-1) * motion.fps
    return float(speed[contacts].mean())


@lru_cache(maxsize=1)
def _collision_model():
    import mujoco

    from mimiclab.robots.assets import g1_mjcf_path

    model = mujoco.MjModel.from_xml_path(str(g1_mjcf_path()))
    return model, mujoco.MjData(model)


def self_collision_frames(motion) -> float:
    """Fraction of frames in which two robot collision geoms touch (MuJoCo broad+narrow phase,
    the MJCF's own exclusions and parent-child filtering)."""
    import mujoco

    model, data = _collision_model()
    qadr = [model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)] for n in motion.joint_names]
    hits = 0
    for t in range(motion.num_frames):
        data.qpos[:3] = motion.root_pos_w[t]
        data.qpos[3:7] = motion.root_quat_w[t]
        data.qpos[qadr] = motion.joint_pos[t]
        mujoco.mj_kinematics(model, data)
        mujoco.mj_collision(model, data)
        hits += int(any(data.contact[i].dist < 0 for i in range(data.ncon)))
    return hits / max(1, motion.num_frames)


def keypoint_errors(motion, targets: dict) -> dict:
    """Distances between the targets (weight > 0) and the same points on the robot [m]."""
    from scipy.spatial.transform import Rotation

    used = targets["pos_weight"].max(axis=0) > 0
    body = targets["body_index"][used]
    offset = targets["offset"][used]
    goal = targets["pos"][:, used]
    q = motion.body_quat_w[:, body]  # (T,K,4)
    R = Rotation.from_quat(np.concatenate((q[..., 1:], q[..., :1]), -1).reshape(-1, 4)).as_matrix()
    got = motion.body_pos_w[:, body] + (R @ np.tile(offset, (motion.num_frames, 1))[..., None])[..., 0].reshape(goal.shape)
    err = np.linalg.norm(got - goal, axis=-1)
    pelvis = list(body).index(motion.body_names.index("pelvis"))
    rel = np.linalg.norm((got - got[:, pelvis:pelvis + 1]) - (goal - goal[:, pelvis:pelvis + 1]), axis=-1)
    return {"keypoint_error_mean_m": float(err.mean()), "keypoint_error_max_m": float(err.max()),
            "keypoint_error_root_relative_mean_m": float(rel.mean()),
            "keypoint_error_root_relative_max_m": float(rel.max())}


def quality_metrics(motion, targets: dict | None, contacts: np.ndarray | None, uncorrected=None) -> dict:
    """All metrics of the module docstring for one G1 motion (targets/contacts may be None)."""
    from mimiclab.robots.g1 import G1

    lo = np.array([G1.joint(n).lower for n in motion.joint_names])
    hi = np.array([G1.joint(n).upper for n in motion.joint_names])
    q = motion.joint_pos
    violation = ((q < lo - 1e-6) | (q > hi + 1e-6)).any(axis=1)
    soles = sole_heights(motion.root_pos_w, motion.root_quat_w, q)
    depth = np.maximum(0.0, -soles.min(axis=1))
    dq = np.abs(np.diff(q, axis=0)) if motion.num_frames > 1 else np.zeros((0, q.shape[1]))
    jerk = np.diff(q, n=3, axis=0) * motion.fps**3 if motion.num_frames > 3 else np.zeros((0, q.shape[1]))
    out = {
        "frames": motion.num_frames,
        "fps": motion.fps,
        "joint_limit_violation_frames": float(violation.mean()),
        "penetration_frames": float((depth > PENETRATION_TOLERANCE).mean()),
        "penetration_max_depth_m": float(depth.max()),
        "self_collision_frames": self_collision_frames(motion),
        "joint_jumps": int((dq > JOINT_JUMP * 50.0 / motion.fps + 1e-6).any(axis=1).sum()),
        "max_joint_step_rad": float(dq.max()) if dq.size else 0.0,
        "jerk_mean_rad_s3": float(np.abs(jerk).mean()) if jerk.size else 0.0,
    }
    if targets is not None:
        out.update(keypoint_errors(motion, targets))
    if contacts is not None:
        out["contact_frames"] = float(contacts.any(axis=1).mean())
        out["foot_sliding_m_s"] = foot_sliding(motion, contacts)
        if uncorrected is not None:
            out["foot_sliding_uncorrected_m_s"] = foot_sliding(uncorrected, contacts)
    return out
