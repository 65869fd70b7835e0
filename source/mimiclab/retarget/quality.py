"""Quality of a retargeted G1 motion: per-frame flags and the figures of ``<name>.quality.json``.

Per frame (``frame_flags``, (T,) bool each):

- ``limit``: a joint outside the G1's limits;
- ``saturation``: a joint moving at ≥ 95 % of its velocity limit (into this frame);
- ``joint_jump``: a joint moving faster than its velocity limit (into this frame);
- ``twist``: a joint outside the human range (``mimiclab.robots.human_ranges.TWIST_RANGES``:
  hip / shoulder / waist yaw, knees and elbows bent the wrong way);
- ``penetration``: a sole deeper than 1 cm below the ground (z = 0);
- ``slide``: a foot in contact (sole within 2 cm of the ground) whose touching point moves faster
  than 0.1 m/s horizontally;
- ``self_collision``: two robot collision geoms overlap (MuJoCo's collision pipeline).

Figures (``quality_metrics``): fractions of frames of each flag, the joint jump count, the largest
speed / velocity-limit ratio, penetration depth, foot sliding per foot (mean horizontal speed of
the touching point over that foot's contact frames [m/s]), keypoint errors [m], jerk [rad/s³].
``QUALITY_BOUNDS`` are the bounds a clip must meet (``mimiclab retarget --strict``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from mimiclab.rotations.numpy_ops import wxyz_to_xyzw

PENETRATION_TOLERANCE = 0.01  # m
SATURATION = 0.95  # fraction of a joint's velocity limit
CONTACT_HEIGHT = 0.02  # m: a sole this close to the ground touches it
SLIDE_FLAG_SPEED = 0.1  # m/s: a touching point faster than this is a sliding frame

# name → (quality key, bound): a clip passes when every key is <= its bound
QUALITY_BOUNDS = {
    "joint_limit_violation_frames": 0.0,
    "joint_jumps": 0,
    "joint_speed_saturation_frames": 0.02,
    "twisted_frames": 0.0,
    "penetration_frames": 0.01,
    "foot_sliding_left_m_s": 0.05,
    "foot_sliding_right_m_s": 0.05,
    "self_collision_frames": 0.01,
}


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


def _foot_poses(root_pos, root_quat, joint_pos):
    from mimiclab.robots.g1 import G1

    pos, quat = _fk(root_pos, root_quat, joint_pos)
    ids = [G1.body_names.index(b) for b in G1.foot_bodies]
    return pos[:, ids], quat[:, ids]


def sole_heights(root_pos, root_quat, joint_pos) -> np.ndarray:
    """(T,2) lowest collision point of the left/right foot [m] above z = 0."""
    return _feet().sole_heights(*_foot_poses(root_pos, root_quat, joint_pos)).numpy()


def foot_sole_heights(motion) -> np.ndarray:
    """(T,2) lowest collision point of the left/right foot [m] above z = 0 from the motion's own
    foot body poses (``sole_heights`` without forward kinematics)."""
    from mimiclab.robots.g1 import G1

    ids = [list(motion.body_names).index(b) for b in G1.foot_bodies]
    return _feet().sole_heights(torch.from_numpy(np.ascontiguousarray(motion.body_pos_w[:, ids])),
                                torch.from_numpy(np.ascontiguousarray(motion.body_quat_w[:, ids]))).numpy()


def _touching_points(pos, quat):
    """Per foot: (contact (T,), the touching point in the world (T,3) and in the foot frame (T,3),
    the foot's Rotation) for foot poses pos (T,2,3), quat (T,2,4) — the bottom of the lowest
    capsule end of each frame."""
    from scipy.spatial.transform import Rotation

    T = pos.shape[0]
    idx = np.arange(T)
    for f, (world, radii) in enumerate(_feet().end_points(pos, quat)):
        world, radii = world.numpy(), radii.numpy()  # (T,E,3), (E,)
        z = world[..., 2] - radii
        low = z.argmin(axis=1)
        rot = Rotation.from_quat(wxyz_to_xyzw(quat[:, f].numpy()))
        down = np.stack((0 * radii[low], 0 * radii[low], -radii[low]), axis=-1)  # bottom, from the centre
        point = world[idx, low] + down
        yield z.min(axis=1) < CONTACT_HEIGHT, point, rot.inv().apply(point - pos[:, f].numpy()), rot


def foot_contact_speeds(motion) -> tuple[np.ndarray, np.ndarray]:
    """Per foot (T,2): in contact (sole within CONTACT_HEIGHT of the ground) and the horizontal
    slip speed [m/s] of the foot's material point at the bottom of its lowest capsule end: that
    point is followed rigidly to the previous and the next frame, and the smaller of the two
    one-sided speeds counts (a frame slips only if its touching point moves both into and out of
    it: a foot that lands and stays, or stays and lifts off, does not slip at the boundary frame,
    and rolling over heel or toe without slipping moves the touching point by nothing)."""
    pos, quat = _foot_poses(motion.root_pos_w, motion.root_quat_w, motion.joint_pos)
    T = motion.num_frames
    contact = np.zeros((T, 2), bool)
    speed = np.zeros((T, 2))
    idx = np.arange(T)
    for f, (touch, point, local, rot) in enumerate(_touching_points(pos, quat)):
        contact[:, f] = touch
        if T < 2:
            continue

        def moved(other):  # (T,2) horizontal displacement of the point since / until frame `other`
            there = pos[other, f].numpy() + rot[other].apply(local)
            return (point - there)[:, :2]

        back = np.linalg.norm(moved(np.maximum(idx - 1, 0)), axis=-1)
        fwd = np.linalg.norm(moved(np.minimum(idx + 1, T - 1)), axis=-1)
        back[0], fwd[-1] = fwd[0], back[-1]  # the clip's ends have one side only
        speed[:, f] = np.minimum(back, fwd) * motion.fps
    return contact, speed


def touching_point_steps(root_pos, root_quat, joint_pos) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per foot: contact (T,2) as in ``foot_contact_speeds``, sole height (T,2) [m], and the
    horizontal displacement (T,2,2) [m] of each frame's touching point since the previous frame
    (followed rigidly with the foot; 0 in the first frame): what a slide moves."""
    pos, quat = _foot_poses(root_pos, root_quat, joint_pos)
    T = pos.shape[0]
    contact, step = np.zeros((T, 2), bool), np.zeros((T, 2, 2))
    prev = np.maximum(np.arange(T) - 1, 0)
    for f, (touch, point, local, rot) in enumerate(_touching_points(pos, quat)):
        contact[:, f] = touch
        step[:, f] = (point - (pos[prev, f].numpy() + rot[prev].apply(local)))[:, :2]
    return contact, _feet().sole_heights(pos, quat).numpy(), step


def toe_points(motion) -> np.ndarray:
    """(T,2,3) the G1 virtual toe points (world) of the left/right foot."""
    from scipy.spatial.transform import Rotation

    from mimiclab.retarget.robot_targets import g1_targets

    toe = np.array(g1_targets().toe)
    out = []
    for side in ("left", "right"):
        b = motion.body_names.index(f"{side}_ankle_roll_link")
        q = motion.body_quat_w[:, b]
        R = Rotation.from_quat(wxyz_to_xyzw(q)).as_matrix()
        out.append(motion.body_pos_w[:, b] + R @ toe)
    return np.stack(out, axis=1)


def self_collision_flags(motion) -> np.ndarray:
    """(T,) frames in which two robot collision geoms overlap (MuJoCo broad+narrow phase, the
    MJCF's own exclusions and parent-child filtering; ``mimiclab.retarget.robot_collisions``)."""
    from mimiclab.retarget.robot_collisions import colliding_frames

    return colliding_frames(motion)


def joint_speed_ratios(motion) -> np.ndarray:
    """(T,J) |Δq|·fps / velocity limit into each frame (frame 0: 0)."""
    from mimiclab.robots.g1 import G1

    limit = np.array([G1.joint(n).actuator.velocity_limit for n in motion.joint_names])
    ratio = np.zeros_like(motion.joint_pos)
    if motion.num_frames > 1:
        ratio[1:] = np.abs(np.diff(motion.joint_pos, axis=0)) * motion.fps / limit
    return ratio


def twist_excess(motion) -> np.ndarray:
    """(T,J) how far [rad] each joint is outside its human range (0 inside; joints without one: 0)."""
    from mimiclab.robots.human_ranges import TWIST_RANGES, ranges_for

    lo, hi = (np.array(x) for x in ranges_for(motion.joint_names, TWIST_RANGES))
    q = motion.joint_pos
    return np.maximum(0.0, lo - q) + np.maximum(0.0, q - hi)


def _measure(motion) -> dict[str, np.ndarray]:
    """The per-frame arrays every flag and figure derives from, each computed once."""
    contact, speed = foot_contact_speeds(motion)
    return {"ratio": joint_speed_ratios(motion), "excess": twist_excess(motion),
            "depth": np.maximum(0.0, -sole_heights(motion.root_pos_w, motion.root_quat_w, motion.joint_pos).min(axis=1)),
            "contact": contact, "speed": speed, "self_collision": self_collision_flags(motion)}


def _flags(motion, m: dict) -> dict[str, np.ndarray]:
    from mimiclab.robots.g1 import G1

    lo = np.array([G1.joint(n).lower for n in motion.joint_names])
    hi = np.array([G1.joint(n).upper for n in motion.joint_names])
    q = motion.joint_pos
    return {
        "limit": ((q < lo - 1e-6) | (q > hi + 1e-6)).any(axis=1),
        "saturation": (m["ratio"] >= SATURATION).any(axis=1),
        "joint_jump": (m["ratio"] > 1.0 + 1e-6).any(axis=1),
        "twist": (m["excess"] > 0).any(axis=1),
        "penetration": m["depth"] > PENETRATION_TOLERANCE,
        "slide": (m["contact"] & (m["speed"] > SLIDE_FLAG_SPEED)).any(axis=1),
        "self_collision": m["self_collision"],
    }


def frame_flags(motion) -> dict[str, np.ndarray]:
    """The per-frame flags of the module docstring, each (T,) bool."""
    return _flags(motion, _measure(motion))


def keypoint_errors(motion, targets: dict) -> dict:
    """Distances between the targets (weight > 0) and the same points on the robot [m]."""
    from scipy.spatial.transform import Rotation

    used = targets["pos_weight"].max(axis=0) > 0
    body = targets["body_index"][used]
    offset = targets["offset"][used]
    goal = targets["pos"][:, used]
    q = motion.body_quat_w[:, body]  # (T,K,4)
    R = Rotation.from_quat(wxyz_to_xyzw(q).reshape(-1, 4)).as_matrix()
    got = motion.body_pos_w[:, body] + (R @ np.tile(offset, (motion.num_frames, 1))[..., None])[..., 0].reshape(goal.shape)
    err = np.linalg.norm(got - goal, axis=-1)
    pelvis = list(body).index(motion.body_names.index("pelvis"))
    rel = np.linalg.norm((got - got[:, pelvis:pelvis + 1]) - (goal - goal[:, pelvis:pelvis + 1]), axis=-1)
    return {"keypoint_error_mean_m": float(err.mean()), "keypoint_error_max_m": float(err.max()),
            "keypoint_error_root_relative_mean_m": float(rel.mean()),
            "keypoint_error_root_relative_max_m": float(rel.max())}


def foot_sliding(contact: np.ndarray, speed: np.ndarray) -> dict:
    """Per foot, from ``foot_contact_speeds``: mean slip speed over its contact frames [m/s] (0
    without contact), and the fraction of frames in contact."""
    out = {}
    for f, side in enumerate(("left", "right")):
        c = contact[:, f]
        out[f"foot_sliding_{side}_m_s"] = float(speed[c, f].mean()) if c.any() else 0.0
        out[f"foot_contact_frames_{side}"] = float(c.mean())
    out["foot_sliding_m_s"] = max(out["foot_sliding_left_m_s"], out["foot_sliding_right_m_s"])
    return out


def quality_metrics(motion, targets: dict | None, contacts: np.ndarray | None) -> dict:
    """All figures of the module docstring for one G1 motion (targets/contacts may be None;
    `contacts`: the source's planted-foot flags (T,2), reported as ``contact_frames``)."""
    m = _measure(motion)
    flags = _flags(motion, m)
    q = motion.joint_pos
    ratio, excess, depth = m["ratio"], m["excess"], m["depth"]
    dq = np.abs(np.diff(q, axis=0)) if motion.num_frames > 1 else np.zeros((0, q.shape[1]))
    jerk = np.diff(q, n=3, axis=0) * motion.fps**3 if motion.num_frames > 3 else np.zeros((0, q.shape[1]))
    twisted = excess.max(axis=0)
    out = {
        "frames": motion.num_frames,
        "fps": motion.fps,
        "joint_limit_violation_frames": float(flags["limit"].mean()),
        "joint_jumps": int(flags["joint_jump"].sum()),
        "joint_speed_saturation_frames": float(flags["saturation"].mean()),
        "max_joint_speed_ratio": float(ratio.max()),
        "max_joint_step_rad": float(dq.max()) if dq.size else 0.0,
        "twisted_frames": float(flags["twist"].mean()),
        "twist_max_excess_rad": float(twisted.max()),
        "twisted_joints": {n: float((excess[:, j] > 0).mean()) for j, n in enumerate(motion.joint_names)
                           if twisted[j] > 0},
        "penetration_frames": float(flags["penetration"].mean()),
        "penetration_max_depth_m": float(depth.max()),
        "sliding_frames": float(flags["slide"].mean()),
        "self_collision_frames": float(flags["self_collision"].mean()),
        "jerk_mean_rad_s3": float(np.abs(jerk).mean()) if jerk.size else 0.0,
        **foot_sliding(m["contact"], m["speed"]),
    }
    if targets is not None:
        out.update(keypoint_errors(motion, targets))
    if contacts is not None:
        out["contact_frames"] = float(contacts.any(axis=1).mean())
    out["failed_bounds"] = quality_failures(out)
    return out


def quality_failures(quality: dict) -> list[str]:
    """The QUALITY_BOUNDS a report breaks, one readable item each ([] when the clip passes)."""
    return [f"{key} {quality[key]:.4g} > {bound:g}" for key, bound in QUALITY_BOUNDS.items()
            if key in quality and quality[key] > bound + 1e-12]
