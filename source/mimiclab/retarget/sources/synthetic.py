"""Synthetic human motion for the demo and the tests: a parametric skeleton, a walk and an arm wave.

No third-party data. The skeleton uses the common mocap names (Hips, Spine, Spine1, Neck, Head,
Left/Right Shoulder, Arm, ForeArm, Hand, UpLeg, Leg, Foot, ToeBase) with segment lengths as
fractions of the body height (anthropometric tables), rooted at Hips.

Frames. Motions are built in the BVH frame (Y up, +Z forward, +X to the character's left, metres)
and returned in the pipeline's frame: metres, Z up, x forward, y left (p_zup = C @ p_yup with
C = [[0,0,1],[1,0,0],[0,1,0]]; orientations C R C^T, identity in the rest pose).

The walk plants its feet: each stance is a heel rocker (rolling on the heel), a flat phase (foot
fixed) and a forefoot rocker (rolling about the toe joint, which stays fixed); the pelvis height
follows the legs' reach so the IK never has to stretch a stance leg, so planted joints do not slide.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.sources.bvh import bvh_channel_values, forward_kinematics, write_bvh
from mimiclab.retarget.sources.keypoints import layout_joint_names, layout_parents, write_keypoints
from mimiclab.rotations.numpy_ops import matrix_about_axis, matrix_between_vectors, matrix_from_quat, quat_from_matrix

YUP_TO_ZUP = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
"""p_zup = YUP_TO_ZUP @ p_yup: BVH frame (Y up, Z forward, X left) → x forward, y left, z up."""

JOINT_NAMES = (
    "Hips", "Spine", "Spine1", "Neck", "Head",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase",
    "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase",
)
_PARENT_NAMES = (
    None, "Hips", "Spine", "Spine1", "Neck",
    "Spine1", "LeftShoulder", "LeftArm", "LeftForeArm",
    "Spine1", "RightShoulder", "RightArm", "RightForeArm",
    "Hips", "LeftUpLeg", "LeftLeg", "LeftFoot",
    "Hips", "RightUpLeg", "RightLeg", "RightFoot",
)
# Offsets from the parent joint, as fractions of the height, BVH frame (x left, y up, z forward).
_OFFSETS = {
    "Hips": (0.0, 0.56, 0.0), "Spine": (0.0, 0.04, -0.005), "Spine1": (0.0, 0.12, 0.0),
    "Neck": (0.0, 0.11, 0.0), "Head": (0.0, 0.06, 0.01),
    "LeftShoulder": (0.02, 0.08, 0.0), "LeftArm": (0.085, 0.018, 0.0), "LeftForeArm": (0.186, 0.0, 0.0),
    "LeftHand": (0.146, 0.0, 0.0),
    "LeftUpLeg": (0.051, -0.03, 0.0), "LeftLeg": (0.0, -0.245, 0.0), "LeftFoot": (0.0, -0.246, 0.0),
    "LeftToeBase": (0.0, -0.027, 0.076),
}
_END_SITES = {"Head": (0.0, 0.11, 0.0), "LeftHand": (0.08, 0.0, 0.0), "LeftToeBase": (0.0, 0.0, 0.045)}
_HEEL = (0.0, -0.039, -0.03)  # heel contact point relative to the ankle (LeftFoot), fraction of height
# Face / head markers in the Head joint frame (fraction of height, BVH frame) for keypoint layouts.
_HEAD_MARKERS = {"nose": (0.0, 0.045, 0.06), "left_eye": (0.018, 0.055, 0.05),
                 "right_eye": (-0.018, 0.055, 0.05), "left_ear": (0.045, 0.05, 0.0),
                 "right_ear": (-0.045, 0.05, 0.0)}

ROOT_CHANNELS = ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]
JOINT_CHANNELS = ["Zrotation", "Xrotation", "Yrotation"]


@dataclass(frozen=True)
class Skeleton:
    """names (J,), parents (J,), offsets (J,3) [m, BVH frame], end_sites [(joint, offset (3,) m)]."""

    names: tuple[str, ...]
    parents: np.ndarray
    offsets: np.ndarray
    end_sites: tuple[tuple[int, np.ndarray], ...]
    height: float

    def index(self, name: str) -> int:
        return self.names.index(name)


def _mirror(name: str) -> str:
    return name.replace("Left", "Right")


def human_skeleton(height: float = 1.75) -> Skeleton:
    """The parametric skeleton: 21 joints, standing height `height` [m] (top of head; feet flat)."""
    if not height > 0:
        raise ValueError(f"human_skeleton: height must be positive, got {height}")
    offsets = {}
    for name, off in _OFFSETS.items():
        offsets[name] = np.array(off) * height
        if name.startswith("Left"):
            offsets[_mirror(name)] = np.array((-off[0], off[1], off[2])) * height
    names = JOINT_NAMES
    parents = np.array([-1 if p is None else names.index(p) for p in _PARENT_NAMES], dtype=np.int64)
    ends = []
    for name, off in _END_SITES.items():
        ends.append((names.index(name), np.array(off) * height))
        if name.startswith("Left"):
            ends.append((names.index(_mirror(name)), np.array((-off[0], off[1], off[2])) * height))
    return Skeleton(names, parents, np.stack([offsets[n] for n in names]), tuple(ends), float(height))


def _minjerk(x: np.ndarray) -> np.ndarray:
    """Smooth 0→1 ramp with zero velocity and acceleration at both ends; x clipped to [0,1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (10.0 - 15.0 * x + 6.0 * x * x)


def _rx(a):
    return matrix_about_axis("x", a)


def _ry(a):
    return matrix_about_axis("y", a)


def _rz(a):
    return matrix_about_axis("z", a)


def _leg_ik(d: np.ndarray, l1: float, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Two-link leg IK. d (N,3): ankle minus hip in the pelvis frame (BVH axes).

    Returns hip (N,3,3) = Rz(g)·Rx(a) and knee (N,3,3) = Rx(k), k ≥ 0 (knee forward), such that
    hip @ ((0,-l1,0) + knee @ (0,-l2,0)) = d (the distance is clamped to the reachable range).
    """
    dist = np.linalg.norm(d, axis=-1)
    dc = np.clip(dist, abs(l1 - l2) + 1e-6, (l1 + l2) * (1.0 - 1e-9))
    d = d * (dc / np.maximum(dist, 1e-12))[:, None]
    k = np.arccos(np.clip((dc ** 2 - l1 ** 2 - l2 ** 2) / (2.0 * l1 * l2), -1.0, 1.0))
    vy, vz = -l1 - l2 * np.cos(k), -l2 * np.sin(k)
    g = np.arctan2(d[:, 0], -d[:, 1])
    yp = -np.hypot(d[:, 0], d[:, 1])
    a = np.arctan2(d[:, 2], yp) - np.arctan2(vz, vy)
    return _rz(g) @ _rx(a), _rx(k)


def _make_motion(name: str, skel: Skeleton, fps: float, root_pos: np.ndarray, local_rot: np.ndarray,
                 extra: dict) -> HumanMotion:
    """Local pose (BVH frame, metres) → HumanMotion in metres, Z up (see module docstring)."""
    T, J = local_rot.shape[:2]
    translations = np.broadcast_to(skel.offsets, (T, J, 3)).copy()
    translations[:, 0] = root_pos
    pos, rot = forward_kinematics(skel.parents, translations, local_rot)
    C = YUP_TO_ZUP
    pos_z = pos @ C.T
    rot_z = C @ rot @ C.T
    ends = [(p, o) for p, o in skel.end_sites]
    end_pos = np.stack([pos[:, p] + rot[:, p] @ o for p, o in ends], axis=1) @ C.T
    extra = dict(extra)
    extra.update({
        "height": skel.height,
        "end_site_parents": np.array([p for p, _ in ends], dtype=np.int64),
        "end_site_positions": end_pos,
        "bvh": {"offsets": skel.offsets.copy(), "root_positions": root_pos.copy(), "local_rotations": local_rot,
                "end_sites": ends},
    })
    return HumanMotion(name=name, fps=float(fps), joint_names=list(skel.names), positions=pos_z,
                       orientations=quat_from_matrix(rot_z), parents=skel.parents.copy(), unit_scale=1.0,
                       up_axis="z", layout=None, source=f"synthetic:{name}", extra=extra)


def _check_time(seconds: float, fps: float) -> int:
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"synthetic motion: fps must be positive, got {fps}")
    n = int(round(seconds * fps))
    if n < 2:
        raise ValueError(f"synthetic motion: {seconds} s at {fps} fps gives fewer than 2 frames")
    return n


def synthetic_walk(seconds: float = 4.0, fps: float = 30.0, height: float = 1.75, speed: float = 1.2,
                   stride_period: float = 1.1, seed: int = 0) -> HumanMotion:
    """A periodic walk along +x (Z up), pelvis at `speed` [m/s], one stride (two steps) per `stride_period` s.

    Returns positions (T,21,3) [m], orientations (T,21,4) wxyz, parents; T = round(seconds·fps).
    extra: "stance" (T,2) bool (left, right: foot on the ground, rockers included), "foot_flat" (T,2)
    (ankle and toe fixed), "toe_contact" (T,2) (toe joint fixed: flat phase and forefoot rocker),
    "end_site_positions" (T,6,3) [m] (head top, hand tips, toe tips), "bvh" (the local pose, used by
    write_motion_bvh). `seed` varies the step-to-step arm swing slightly (deterministic per seed).
    """
    N = _check_time(seconds, fps)
    skel = human_skeleton(height)
    H = skel.height
    Ts, v = float(stride_period), float(speed)
    beta, b1, b2 = 0.62, 0.10, 0.40  # stance end, heel-rocker end, flat end (fractions of the stride)
    a_hs, a_off = math.radians(-22.0), math.radians(45.0)  # foot pitch at heel strike / toe off
    lift_h, lift_p = 0.05 * H, 0.45  # swing lift [m] and its shape (peaks early in the swing)
    pad = int(math.ceil(Ts * fps)) + 2
    t = np.arange(-pad, N + pad) / fps
    n = t.shape[0]
    rng = np.random.default_rng(seed)

    l1 = -skel.offsets[skel.index("LeftLeg"), 1]
    l2 = -skel.offsets[skel.index("LeftFoot"), 1]
    ankle_h = H * 0.039
    heel = np.array(_HEEL) * H
    toe = skel.offsets[skel.index("LeftToeBase")]

    # Pelvis: forward at constant speed, lateral sway toward the stance leg, yaw / roll / tilt.
    phi_l = np.mod(t / Ts, 1.0)
    sway = 0.012 * H * np.cos(2 * np.pi * (phi_l - beta / 2))
    yaw = -math.radians(5.0) * np.cos(2 * np.pi * phi_l)
    roll = math.radians(3.0) * np.cos(2 * np.pi * (phi_l - beta / 2))
    tilt = math.radians(4.0)
    r_pelvis = _ry(yaw) @ _rx(np.full(n, tilt)) @ _rz(roll)
    pelvis_xz = np.stack((sway, np.zeros(n), v * t), axis=1)

    def foot_track(phase0: float, lateral: float, c: float):
        """One foot: ankle position (n,3), foot pitch (n,), toe-joint pitch (n,), stance flag (n,), phase (n,)."""
        u = t / Ts + phase0
        k = np.floor(u)
        phi = u - k
        t_k = (k - phase0) * Ts

        def flat_ankle(t_start):
            return np.stack((np.full(n, lateral), np.full(n, ankle_h), v * (t_start + beta * Ts / 2) + c), axis=1)

        def rocker(a_ref, pitch, pivot):  # ankle when the foot pitches by `pitch` about `pivot` (foot frame)
            return a_ref + pivot - np.einsum("nab,b->na", _rx(pitch), pivot)

        a_k = flat_ankle(t_k)
        # Stance.
        s_heel = 1.0 - _minjerk(phi / b1)
        s_toe = _minjerk((phi - b2) / (beta - b2))
        pitch_st = np.where(phi < b1, a_hs * s_heel, np.where(phi < b2, 0.0, a_off * s_toe))
        ankle_st = np.where((phi < b1)[:, None], rocker(a_k, pitch_st, heel),
                            np.where((phi < b2)[:, None], a_k, rocker(a_k, pitch_st, toe)))
        # Swing: from this stance's toe-off pose to the next stance's heel-strike pose.
        tau = (phi - beta) / (1.0 - beta)
        a_off_pos = rocker(a_k, np.full(n, a_off), toe)
        a_hs_pos = rocker(flat_ankle(t_k + Ts), np.full(n, a_hs), heel)
        s = _minjerk(tau)
        lift = lift_h * np.sin(np.pi * np.clip(tau, 0, 1) ** lift_p) ** 2
        ankle_sw = a_off_pos + s[:, None] * (a_hs_pos - a_off_pos)
        ankle_sw[:, 1] += lift
        pitch_sw = a_off + (a_hs - a_off) * _minjerk(tau / 0.7)
        stance = phi < beta
        ankle = np.where(stance[:, None], ankle_st, ankle_sw)
        pitch = np.where(stance, pitch_st, pitch_sw)
        toe_pitch = np.where(stance, np.where(phi >= b2, -pitch_st, 0.0), -a_off * (1.0 - _minjerk(tau / 0.5)))
        return ankle, pitch, toe_pitch, stance, phi

    hip_l = skel.offsets[skel.index("LeftUpLeg")]
    hip_r = skel.offsets[skel.index("RightUpLeg")]
    reach = 0.995 * (l1 + l2)

    def allowed_height(c: float) -> np.ndarray:
        """Highest pelvis height per frame that keeps both legs within `reach` of their ankle targets."""
        out = np.full(n, np.inf)
        for phase0, lat, hip in ((0.0, 0.045 * H, hip_l), (0.5, -0.045 * H, hip_r)):
            ankle, _, _, stance, _ = foot_track(phase0, lat, c)
            hip_off = np.einsum("nab,b->na", r_pelvis, hip)
            dh = pelvis_xz + hip_off - ankle
            dh2 = dh[:, 0] ** 2 + dh[:, 2] ** 2
            h = ankle[:, 1] + np.sqrt(np.maximum(reach ** 2 - dh2, 0.0)) - hip_off[:, 1]
            out = np.minimum(out, h)  # swing legs too: they must reach their (lifted) ankle targets
        return out

    # Footprint placement: the forward offset that keeps the pelvis lowest point highest.
    cands = np.linspace(-0.15, 0.15, 61) * H
    best_c = max(cands, key=lambda c: allowed_height(float(c)).min())
    allowed = allowed_height(float(best_c))
    capped = np.minimum(allowed, allowed.min() + 0.03 * H)  # vertical pelvis excursion at most 3 % of H
    w = max(1, int(round(0.05 * Ts * fps)))
    eroded = np.array([capped[max(0, i - w):i + w + 1].min() for i in range(n)])
    kernel = np.ones(2 * w + 1) / (2 * w + 1)
    smooth = np.convolve(np.pad(eroded, w, mode="edge"), kernel, mode="valid")
    pelvis = pelvis_xz.copy()
    pelvis[:, 1] = smooth - 0.001 * H

    J = len(skel.names)
    local = np.broadcast_to(np.eye(3), (n, J, 3, 3)).copy()
    idx = skel.index
    local[:, idx("Hips")] = r_pelvis
    stance_flags, flat_flags, toe_flags = [], [], []
    for side, phase0, lat, hip in (("Left", 0.0, 0.045 * H, hip_l), ("Right", 0.5, -0.045 * H, hip_r)):
        ankle, pitch, toe_pitch, stance, phi = foot_track(phase0, lat, float(best_c))
        hip_w = pelvis + np.einsum("nab,b->na", r_pelvis, hip)
        d_local = np.einsum("nba,nb->na", r_pelvis, ankle - hip_w)
        r_hip, r_knee = _leg_ik(d_local, l1, l2)
        r_foot = _rx(pitch)
        local[:, idx(f"{side}UpLeg")] = r_hip
        local[:, idx(f"{side}Leg")] = r_knee
        local[:, idx(f"{side}Foot")] = np.swapaxes(r_pelvis @ r_hip @ r_knee, -1, -2) @ r_foot
        local[:, idx(f"{side}ToeBase")] = _rx(toe_pitch)
        stance_flags.append(stance)
        flat_flags.append(stance & (phi >= b1) & (phi < b2))  # heel and toe down, foot fixed
        toe_flags.append(stance & (phi >= b1))  # toe joint fixed (flat phase and forefoot rocker)

    # Trunk counter-rotation, level head.
    local[:, idx("Spine")] = _ry(-0.5 * yaw) @ _rx(np.full(n, -tilt + math.radians(2.0))) @ _rz(-0.6 * roll)
    local[:, idx("Spine1")] = _ry(-0.7 * yaw) @ _rz(-0.4 * roll)
    chest = r_pelvis @ local[:, idx("Spine")] @ local[:, idx("Spine1")]
    local[:, idx("Head")] = np.swapaxes(chest, -1, -2)  # head frame level and facing forward (Neck = I)

    # Arms: hanging 10 degrees from the body, swinging opposite to the same-side leg; elbows flexed.
    amp = math.radians(18.0) * (1.0 + 0.05 * rng.uniform(-1, 1))
    swing_l = -amp * np.cos(2 * np.pi * phi_l)
    for side, swing, sgn in (("Left", swing_l, 1.0), ("Right", -swing_l, -1.0)):
        local[:, idx(f"{side}Arm")] = _rx(-swing) @ _rz(np.full(n, -sgn * math.radians(80.0)))
        elbow = math.radians(22.0) + 0.4 * np.maximum(swing, 0.0)
        local[:, idx(f"{side}ForeArm")] = _ry(-sgn * elbow)

    crop = slice(pad, pad + N)
    extra = {"stance": np.stack(stance_flags, axis=1)[crop], "foot_flat": np.stack(flat_flags, axis=1)[crop],
             "toe_contact": np.stack(toe_flags, axis=1)[crop], "speed": v, "stride_period": Ts}
    return _make_motion("walk", skel, fps, pelvis[crop], local[crop], extra)


def synthetic_arm_wave(seconds: float = 3.0, fps: float = 30.0, height: float = 1.75, seed: int = 0
                       ) -> HumanMotion:
    """Standing on both (planted) feet, both arms rise overhead (first 0.6 s) and wave side to side.

    Returns positions (T,21,3) [m], orientations (T,21,4) wxyz, parents; extra "stance", "foot_flat",
    "toe_contact" (T,2) all True.
    `seed` varies the wave frequency slightly (deterministic per seed).
    """
    N = _check_time(seconds, fps)
    skel = human_skeleton(height)
    H = skel.height
    rng = np.random.default_rng(seed)
    t = np.arange(N) / fps
    idx = skel.index
    J = len(skel.names)
    l1 = -skel.offsets[idx("LeftLeg"), 1]
    l2 = -skel.offsets[idx("LeftFoot"), 1]
    local = np.broadcast_to(np.eye(3), (N, J, 3, 3)).copy()

    freq = 1.2 * (1.0 + 0.05 * rng.uniform(-1, 1))
    wave = np.sin(2 * np.pi * freq * t)
    raise_s = _minjerk(t / 0.6)
    sway = 0.008 * H * np.sin(2 * np.pi * 0.5 * t)
    r_pelvis = _rz(0.3 * math.radians(2.0) * wave)
    hips_y = skel.offsets[idx("Hips"), 1]
    pelvis = np.stack((sway, np.full(N, hips_y - 0.012 * H), np.zeros(N)), axis=1)
    local[:, idx("Hips")] = r_pelvis
    for side, sgn in (("Left", 1.0), ("Right", -1.0)):
        hip = skel.offsets[idx(f"{side}UpLeg")]
        ankle = np.tile(np.array([sgn * 0.06 * H, 0.039 * H, 0.0]), (N, 1))
        hip_w = pelvis + np.einsum("nab,b->na", r_pelvis, hip)
        r_hip, r_knee = _leg_ik(np.einsum("nba,nb->na", r_pelvis, ankle - hip_w), l1, l2)
        local[:, idx(f"{side}UpLeg")] = r_hip
        local[:, idx(f"{side}Leg")] = r_knee
        local[:, idx(f"{side}Foot")] = np.swapaxes(r_pelvis @ r_hip @ r_knee, -1, -2)  # foot flat
        # Arms: from hanging (80 degrees down) to overhead (65 degrees up), then waving +-20 degrees.
        lift = -80.0 + 145.0 * raise_s
        angle = np.radians(sgn * lift + 20.0 * raise_s * wave)
        local[:, idx(f"{side}Arm")] = _rz(angle)
        elbow = raise_s * np.radians(25.0 + 20.0 * np.sin(2 * np.pi * freq * t + 0.8))  # straight when down
        local[:, idx(f"{side}ForeArm")] = _rz(sgn * elbow)
    local[:, idx("Spine1")] = _rz(-0.5 * math.radians(2.0) * wave)
    local[:, idx("Head")] = np.swapaxes(r_pelvis @ local[:, idx("Spine1")], -1, -2)
    extra = {"stance": np.ones((N, 2), bool), "foot_flat": np.ones((N, 2), bool), "toe_contact": np.ones((N, 2), bool)}
    return _make_motion("arm_wave", skel, fps, pelvis, local, extra)


def write_motion_bvh(path: str | os.PathLike, motion: HumanMotion, units_per_metre: float = 100.0) -> Path:
    """Write a synthetic motion as BVH: centimetres (default), Y up, 6 channels on Hips
    (Xposition Yposition Zposition Zrotation Xrotation Yrotation), Zrotation Xrotation Yrotation elsewhere.
    """
    bvh = motion.extra.get("bvh")
    if bvh is None:
        raise ValueError(f"{path}: write_motion_bvh needs a motion from the synthetic generators")
    local = bvh["local_rotations"]
    T, J = local.shape[:2]
    s = float(units_per_metre)
    translations = np.broadcast_to(bvh["offsets"] * s, (T, J, 3)).copy()
    translations[:, 0] = bvh["root_positions"] * s
    channels = [ROOT_CHANNELS if p < 0 else JOINT_CHANNELS for p in motion.parents]
    values = bvh_channel_values(channels, translations, local)
    ends = [(p, o * s) for p, o in bvh["end_sites"]]
    return write_bvh(path, motion.joint_names, motion.parents, bvh["offsets"] * s, channels, values,
                     1.0 / motion.fps, end_sites=ends)


def keypoints_from_motion(motion: HumanMotion, layout: str, seed: int = 0, dropouts: bool = True) -> HumanMotion:
    """A synthetic motion seen by a video pose estimator: the `layout` keypoints (coco17 or h36m17).

    Positions in metres, Z up. With `dropouts`, deterministic per `seed`: about 3 % of the entries get
    a low confidence (0.2–0.5) and 1 cm of noise, about 1 % are missing (NaN, confidence 0), and one
    wrist is occluded (missing) for 6 consecutive frames.
    """
    from mimiclab.retarget.sources.keypoints import canonical_layout

    layout = canonical_layout(layout)
    H = float(motion.extra.get("height", 1.75))
    p = motion.positions
    ix = {n: i for i, n in enumerate(motion.joint_names)}
    C = YUP_TO_ZUP
    head_q = motion.orientations[:, ix["Head"]]
    head_r = matrix_from_quat(head_q)

    def marker(name):
        return p[:, ix["Head"]] + head_r @ (C @ (np.array(_HEAD_MARKERS[name]) * H))

    def j(name):
        return p[:, ix[name]]

    head_top = motion.extra["end_site_positions"][:, list(motion.extra["end_site_parents"]).index(ix["Head"])]
    if layout == "coco17":
        table = {m: marker(m) for m in _HEAD_MARKERS}
        for side, S in (("left", "Left"), ("right", "Right")):
            table.update({f"{side}_shoulder": j(f"{S}Arm"), f"{side}_elbow": j(f"{S}ForeArm"),
                          f"{side}_wrist": j(f"{S}Hand"), f"{side}_hip": j(f"{S}UpLeg"),
                          f"{side}_knee": j(f"{S}Leg"), f"{side}_ankle": j(f"{S}Foot")})
    elif layout == "h36m17":
        table = {"pelvis": 0.5 * (j("LeftUpLeg") + j("RightUpLeg")), "spine": j("Spine1"), "thorax": j("Neck"),
                 "neck": marker("nose"), "head": head_top}
        for side, S in (("left", "Left"), ("right", "Right")):
            table.update({f"{side}_hip": j(f"{S}UpLeg"), f"{side}_knee": j(f"{S}Leg"),
                          f"{side}_ankle": j(f"{S}Foot"), f"{side}_shoulder": j(f"{S}Arm"),
                          f"{side}_elbow": j(f"{S}ForeArm"), f"{side}_wrist": j(f"{S}Hand")})
    else:
        raise ValueError(f"keypoints_from_motion: layout {layout} is not produced by the synthetic skeleton "
                         "(coco17, h36m17)")
    names = layout_joint_names(layout)
    pos = np.stack([table[n] for n in names], axis=1).copy()
    T, K = pos.shape[:2]
    conf = np.ones((T, K))
    if dropouts:
        rng = np.random.default_rng(seed)
        conf = rng.uniform(0.85, 1.0, (T, K))
        u = rng.uniform(0.0, 1.0, (T, K))
        low = (u < 0.03)
        conf[low] = rng.uniform(0.2, 0.5, int(low.sum()))
        pos[low] += rng.normal(0.0, 0.01, (int(low.sum()), 3))
        missing = (u >= 0.03) & (u < 0.04)
        start = int(rng.integers(0, max(1, T - 6)))
        missing[start:start + 6, names.index("right_wrist")] = True
        conf[missing] = 0.0
        pos[missing] = np.nan
    return HumanMotion(name=f"{motion.name}_{layout}", fps=motion.fps, joint_names=names, positions=pos,
                       orientations=None, parents=layout_parents(layout), confidence=conf, unit_scale=1.0,
                       up_axis="z", layout=layout, source=f"synthetic:{motion.name}_{layout}")


def write_samples(out_dir: str | os.PathLike, seed: int = 0) -> list[Path]:
    """Write the shipped samples into `out_dir`; returns their paths.

    walk.bvh, arm_wave.bvh (cm, Y up); walk_coco17.npz, walk_h36m17.json, arm_wave_coco17.json,
    arm_wave_h36m17.npz (metres, Z up, with missing / low-confidence keypoints).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    walk = synthetic_walk(seed=seed)
    wave = synthetic_arm_wave(seed=seed)
    paths = [write_motion_bvh(out / "walk.bvh", walk), write_motion_bvh(out / "arm_wave.bvh", wave)]
    for motion, layout, ext in ((walk, "coco17", "npz"), (walk, "h36m17", "json"),
                                (wave, "coco17", "json"), (wave, "h36m17", "npz")):
        kp = keypoints_from_motion(motion, layout, seed=seed)
        paths.append(write_keypoints(out / f"{kp.name}.{ext}", kp))
    return paths


# --------------------------------------------------------------------------------------------
# pick up and carry a box


def _arm_ik(shoulder: np.ndarray, hand: np.ndarray, a: float, b: float, rest_dir: np.ndarray,
            pole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-bone arm in world axes: global rotations (N,3,3) of the upper arm and forearm whose bones
    (along rest_dir in their own frames) put the hand at `hand` (clamped to reach), elbow toward `pole`."""
    d = hand - shoulder
    dist = np.linalg.norm(d, axis=-1)
    dc = np.clip(dist, abs(a - b) + 1e-6, (a + b) * (1.0 - 1e-6))
    u = d / np.maximum(dist, 1e-12)[:, None]
    n = pole - np.sum(pole * u, axis=-1, keepdims=True) * u
    n = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    cos_a = np.clip((a * a + dc * dc - b * b) / (2 * a * dc), -1.0, 1.0)
    elbow = shoulder + a * (cos_a[:, None] * u + np.sqrt(1 - cos_a ** 2)[:, None] * n)
    hand_c = shoulder + u * dc[:, None]
    g_upper = matrix_between_vectors(rest_dir, (elbow - shoulder) / a)
    fore = hand_c - elbow
    g_fore = matrix_between_vectors(rest_dir, fore / np.linalg.norm(fore, axis=-1, keepdims=True))
    return g_upper, g_fore


def synthetic_box_carry(fps: float = 30.0, height: float = 1.75, hand_width: float = 0.30,
                        pick_height: float = 0.15, crouch_depth: float = 0.50) -> HumanMotion:
    """Walk up to a box on the ground, crouch, lift it with both hands in front of the torso, carry
    it two steps and put it down, then stand up (8.4 s, feet flat, Z up, x forward).

    hand_width [m]: lateral offset of each wrist from the midline while holding (scaled to the G1's
    shorter arms, the G1 palms end up 0.40–0.45 m apart, on the faces of the 0.42 m box); pick_height [m]:
    wrist height when the box is on the ground; crouch_depth [m]: how far the pelvis goes down to
    reach it. extra: "hold_seconds" (grasp, release) times,
    "box_pick" / "box_put" (3,) [m] the wrist midpoints (Z up) at the grasp and release, "stance" etc.
    """
    seconds = 8.4
    N = _check_time(seconds, fps)
    skel = human_skeleton(height)
    H = skel.height
    t = np.arange(N) / fps
    idx = skel.index
    J = len(skel.names)
    l1 = -skel.offsets[idx("LeftLeg"), 1]
    l2 = -skel.offsets[idx("LeftFoot"), 1]
    ankle_h = 0.039 * H

    def ramp(t0, t1):
        return _minjerk((t - t0) / (t1 - t0))

    # Footsteps (forward z of each ankle): walk 2.5 steps up to the box, carry it 2.5 steps.
    steps = {"Left": [(0.8, 1.3, 0.0, 0.8), (4.2, 4.7, 0.8, 1.3), (5.2, 5.7, 1.3, 1.8)],
             "Right": [(0.3, 0.8, 0.0, 0.3), (1.3, 1.8, 0.3, 0.8), (4.7, 5.2, 0.8, 1.8)]}
    feet = {}
    for side, sgn in (("Left", 1.0), ("Right", -1.0)):
        z = np.zeros(N)
        y = np.full(N, ankle_h)
        for t0, t1, z0, z1 in steps[side]:
            s = ramp(t0, t1)
            z = z + (z1 - z0) * s  # steps follow each other: the increments add up
            inside = (t > t0) & (t < t1)
            y = y + np.where(inside, 0.05 * H * np.sin(np.pi * np.clip((t - t0) / (t1 - t0), 0, 1)) ** 2, 0.0)
        feet[side] = np.stack((np.full(N, sgn * 0.06 * H), y, z), axis=1)
    stance = np.stack([feet[s][:, 1] <= ankle_h + 1e-9 for s in ("Left", "Right")], axis=1)

    crouch = ramp(1.8, 2.8) - ramp(3.1, 4.1) + ramp(5.8, 6.8) - ramp(7.1, 8.0)
    mid = 0.5 * (feet["Left"][:, 2] + feet["Right"][:, 2])
    sigma = 0.15 * fps
    k = np.arange(-int(3 * sigma), int(3 * sigma) + 1)
    kern = np.exp(-0.5 * (k / sigma) ** 2)
    kern /= kern.sum()
    pelvis_z = np.convolve(np.pad(mid, len(k) // 2, mode="edge"), kern, mode="valid") - 0.10 * crouch
    hips_y = skel.offsets[idx("Hips"), 1]
    stand_h = hips_y - 0.03 * H
    pelvis = np.stack((np.zeros(N), stand_h - crouch_depth * crouch, pelvis_z), axis=1)
    r_pelvis = _rx(math.radians(25.0) * crouch)
    reach = 0.995 * (l1 + l2)
    for _ in range(3):  # keep the legs within reach: lower the pelvis where needed
        for side in ("Left", "Right"):
            hip_w = pelvis + np.einsum("nab,b->na", r_pelvis, skel.offsets[idx(f"{side}UpLeg")])
            d = hip_w - feet[side]
            over = np.linalg.norm(d, axis=1) - reach
            h_ok = feet[side][:, 1] + np.sqrt(np.maximum(reach ** 2 - d[:, 0] ** 2 - d[:, 2] ** 2, 0.0)) \
                - (hip_w[:, 1] - pelvis[:, 1])
            pelvis[:, 1] = np.where(over > 0, np.minimum(pelvis[:, 1], h_ok), pelvis[:, 1])

    local = np.broadcast_to(np.eye(3), (N, J, 3, 3)).copy()
    local[:, idx("Hips")] = r_pelvis
    for side in ("Left", "Right"):
        hip_w = pelvis + np.einsum("nab,b->na", r_pelvis, skel.offsets[idx(f"{side}UpLeg")])
        r_hip, r_knee = _leg_ik(np.einsum("nba,nb->na", r_pelvis, feet[side] - hip_w), l1, l2)
        local[:, idx(f"{side}UpLeg")] = r_hip
        local[:, idx(f"{side}Leg")] = r_knee
        local[:, idx(f"{side}Foot")] = np.swapaxes(r_pelvis @ r_hip @ r_knee, -1, -2)  # foot flat
    local[:, idx("Spine")] = _rx(math.radians(30.0) * crouch)
    local[:, idx("Spine1")] = _rx(math.radians(10.0) * crouch)
    chest = r_pelvis @ local[:, idx("Spine")] @ local[:, idx("Spine1")]
    local[:, idx("Head")] = np.swapaxes(chest, -1, -2) @ _rx(math.radians(25.0) * crouch)  # look down a bit

    translations = np.broadcast_to(skel.offsets, (N, J, 3)).copy()
    translations[:, 0] = pelvis
    pos, _ = forward_kinematics(skel.parents, translations, local)
    a = skel.offsets[idx("LeftForeArm"), 0]
    b = skel.offsets[idx("LeftHand"), 0]
    box_pick = np.array([0.0, pick_height, 0.8 + 0.40])
    box_put = np.array([0.0, pick_height, 1.8 + 0.40])
    for side, sgn in (("Left", 1.0), ("Right", -1.0)):
        shoulder = pos[:, idx(f"{side}Arm")]
        lat = np.array([sgn * hand_width, 0.0, 0.0])
        wide = np.array([sgn * (hand_width + 0.08), 0.0, 0.0])
        hang = shoulder + np.array([sgn * 0.04, -0.9 * (a + b), 0.05])
        carry = pelvis + np.array([sgn * hand_width, 0.12, 0.34])
        hand = hang.copy()
        for t0, t1, target in ((1.9, 2.8, box_pick + wide), (2.8, 3.1, box_pick + lat), (3.1, 4.1, carry),
                               (5.8, 6.8, box_put + lat), (6.8, 7.1, box_put + wide), (7.1, 8.0, hang)):
            hand = hand + ramp(t0, t1)[:, None] * (target - hand)
        pole = np.broadcast_to(np.array([sgn * 0.6, -1.0, -0.6]), (N, 3))
        g_up, g_fore = _arm_ik(shoulder, hand, a, b, np.array([sgn, 0.0, 0.0]), pole)
        local[:, idx(f"{side}Arm")] = np.swapaxes(chest, -1, -2) @ g_up  # Shoulder joint: identity
        local[:, idx(f"{side}ForeArm")] = np.swapaxes(g_up, -1, -2) @ g_fore
        local[:, idx(f"{side}Hand")] = np.eye(3)
    C = YUP_TO_ZUP
    extra = {"stance": stance, "foot_flat": stance.copy(), "toe_contact": stance.copy(),
             "hold_seconds": (3.1, 6.8), "box_pick": C @ box_pick, "box_put": C @ box_put}
    return _make_motion("box_carry", skel, fps, pelvis, local, extra)


def write_box_sample(out_dir: str | os.PathLike) -> Path:
    """Write the pick-up-and-carry human motion as `out_dir`/box_carry.bvh (cm, Y up); returns the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return write_motion_bvh(out / "box_carry.bvh", synthetic_box_carry())
