"""Human motion → G1 motion: map, normalise, scale, IK in sequence mode, contact correction.

    result = retarget_human(human_motion, RetargetSettings(fps=50))
    result.motion   # MotionData (mimiclab motion file)
    result.quality  # dict of quality metrics (see mimiclab.retarget.quality)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from mimiclab.retarget.contacts import contact_runs, detect_contacts
from mimiclab.retarget.frames import role_frames
from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.normalize import normalize_roles
from mimiclab.retarget.robot_targets import g1_role_points, g1_targets
from mimiclab.retarget.scaling import limb_scales, rescale_roles, segment_lengths
from mimiclab.retarget.skeleton_map import select_map

FOOT_CAPSULE_CENTER_HEIGHT = 0.01  # m: toe/heel points above the ground when the sole touches it
ANKLE_FLAT_HEIGHT = 0.035  # m: G1 ankle-roll origin above the ground with the sole flat on it
MAX_JOINT_SPEED = 20.0  # rad/s: the slowest G1 joint's limit, applied to all (no jump > 0.4 rad @ 50 Hz)


@dataclass
class RetargetSettings:
    fps: float = 50.0
    skeleton: str = "auto"
    device: str = "cpu"
    backend: str = "auto"
    iterations: int = 3
    first_frame_iterations: int = 100
    smoothing_frames: float = 1.0  # Gaussian σ of the target low-pass, in output frames (0: off)
    correct_contacts: bool = True


@dataclass
class RetargetResult:
    motion: object  # MotionData
    quality: dict
    contacts: np.ndarray  # (T,2) bool, left/right foot
    targets: dict  # the IK targets used (for metrics and debugging)


def _fill_invalid(roles: dict[str, np.ndarray], valid: dict[str, np.ndarray], where: str) -> dict[str, np.ndarray]:
    """Missing keypoints: interpolate each role over time from its valid frames."""
    out = {}
    for role, pos in roles.items():
        ok = valid[role]
        if ok.all():
            out[role] = pos
            continue
        if not ok.any():
            raise ValueError(f"{where}: role '{role}' is missing in every frame")
        t = np.arange(pos.shape[0])
        out[role] = np.stack([np.interp(t, t[ok], pos[ok, i]) for i in range(3)], axis=-1)
    return out


def _resample(roles: dict[str, np.ndarray], fps_in: float, fps_out: float) -> dict[str, np.ndarray]:
    from mimiclab.motion.kinematics import resample_times

    T = next(iter(roles.values())).shape[0]
    if T == 1 or fps_in == fps_out:
        return roles
    s = resample_times(T, fps_in, fps_out)
    t = np.arange(T, dtype=np.float64)
    return {k: np.stack([np.interp(s, t, v[:, i]) for i in range(3)], -1) for k, v in roles.items()}


def _smooth(roles: dict[str, np.ndarray], sigma: float) -> dict[str, np.ndarray]:
    if sigma <= 0:
        return roles
    from scipy.ndimage import gaussian_filter1d

    return {k: gaussian_filter1d(v, sigma, axis=0, mode="nearest") for k, v in roles.items()}


# Smallest distance of limb targets from the body's mid-plane [m]: the G1 torso and hip capsules
# reach 0.09 m and 0.18 m to the side, its arm capsules are 0.035 m thick, its knee capsules 0.045 m
# and its feet 0.036 m half-wide, so narrower human poses would make the robot hit itself.
LIMB_CLEARANCE = {"elbow": 0.16, "wrist": 0.22, "knee": 0.07}


def keep_limbs_clear(roles: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Push elbow, wrist and knee targets out to LIMB_CLEARANCE from the pelvis mid-plane
    (in the pelvis frame), so that arms held close to the body or feet crossing the midline do not
    drive the G1 into itself (its torso and hips are wide for its limbs)."""
    from mimiclab.retarget.frames import frame_from_lateral_and_up

    R = frame_from_lateral_and_up(roles["left_hip"] - roles["right_hip"], roles["chest"] - roles["pelvis"])
    out = dict(roles)
    for joint, clearance in LIMB_CLEARANCE.items():
        for side, sign in (("left", 1.0), ("right", -1.0)):
            key = f"{side}_{joint}"
            local = np.einsum("tji,tj->ti", R, roles[key] - roles["pelvis"])  # Rᵀ (p − pelvis)
            local[:, 1] = sign * np.maximum(sign * local[:, 1], clearance)
            out[key] = roles["pelvis"] + np.einsum("tij,tj->ti", R, local)
    return out


def normalized_roles(human: HumanMotion, smap) -> tuple[dict[str, np.ndarray], dict]:
    """The map's role trajectories (T,3) at the source fps, gaps filled, in metres, Z-up,
    right-handed, heading +x, on the ground; and the normalisation info (``normalize_roles``)."""
    where = human.source or human.name
    roles, valid = smap.role_positions(human.joint_names, human.positions, human.confidence)
    roles = _fill_invalid(roles, valid, where)
    roles, info = normalize_roles(roles, human.unit_scale, human.up_axis, where, up_vector=smap.up,
                                  mirrored=smap.mirrored, height=human.extra.get("performer_height_m"))
    if human.extra.get("root_relative"):
        info["root_relative"] = True
    return roles, info


def prepare_roles(human: HumanMotion, settings: RetargetSettings, smap):
    """Role trajectories at the output fps, in metres, Z-up, on the ground, with G1 proportions."""
    roles, info = normalized_roles(human, smap)
    roles = _smooth(_resample(roles, human.fps, settings.fps), settings.smoothing_frames)
    robot = g1_role_points()
    robot_lengths = segment_lengths({k: v[None] for k, v in robot.items()})
    scales = limb_scales(segment_lengths(roles), robot_lengths)
    scaled = keep_limbs_clear(rescale_roles(roles, scales))
    # stand the scaled body on the ground: stance ankles at the G1's flat-foot ankle height
    ankles = np.minimum(scaled["left_ankle"][:, 2], scaled["right_ankle"][:, 2])
    lift = ANKLE_FLAT_HEIGHT - float(np.percentile(ankles, 5.0))
    scaled = {k: v + np.array([0.0, 0.0, lift]) for k, v in scaled.items()}
    info.update({"skeleton_map": smap.name, "roles": {r: list(v) for r, v in smap.roles.items()},
                 "limb_scales": scales, "ground_lift_m": lift})
    if smap.notes:
        info["notes"] = list(smap.notes)
    return scaled, info


def build_targets(roles: dict[str, np.ndarray], contacts: np.ndarray | None):
    """IK targets (positions (T,K,3), quats (T,K,4), weights (T,K)) for the G1 body targets plus
    the virtual toe/heel points of each foot, which pin a planted foot flat and still."""
    from mimiclab.robots.g1 import G1

    rt = g1_targets()
    frames = role_frames(roles)
    T = roles["pelvis"].shape[0]
    body, offset, pos, quat, wp, wr = [], [], [], [], [], []
    identity = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    for t in rt.targets:
        if t.role not in roles:
            continue
        body.append(G1.body_names.index(t.body))
        offset.append(t.offset)
        pos.append(roles[t.role].copy())
        quat.append(frames[t.rot] if t.rot else identity)
        wp.append(np.full(T, t.pos_weight))
        wr.append(np.full(T, t.rot_weight if t.rot else 0.0))
    for side_i, side in enumerate(("left", "right")):
        ankle_k = [t.body for t in rt.targets if t.role in roles].index(f"{side}_ankle_roll_link")
        for point in (rt.toe, rt.heel):
            body.append(G1.body_names.index(f"{side}_ankle_roll_link"))
            offset.append(point)
            pos.append(np.zeros((T, 3)))
            quat.append(frames[f"{side}_foot"])
            wp.append(np.zeros(T))
            wr.append(np.zeros(T))
        if contacts is None:
            continue
        for start, end in contact_runs(contacts[:, side_i]):
            # planted: ankle held at the run's mean position, flat at the G1 ankle height,
            # heading held at the run's first frame; toe and heel pinned to the ground
            anchor = pos[ankle_k][start:end].mean(axis=0)
            anchor[2] = ANKLE_FLAT_HEIGHT
            heading = frames[f"{side}_foot"][start]
            pos[ankle_k][start:end] = anchor
            quat[ankle_k][start:end] = heading
            wr[ankle_k][start:end] = 1.0
            R = Rotation.from_quat([heading[1], heading[2], heading[3], heading[0]]).as_matrix()
            for j, point in enumerate((rt.toe, rt.heel)):
                k = len(pos) - 2 + j
                p = anchor + R @ np.array(point)
                p[2] = FOOT_CAPSULE_CENTER_HEIGHT
                pos[k][start:end] = p
                wp[k][start:end] = 2.0
    return {"body_index": np.array(body, np.int32), "offset": np.array(offset, float),
            "pos": np.stack(pos, 1), "quat": np.stack(quat, 1), "pos_weight": np.stack(wp, 1),
            "rot_weight": np.stack(wr, 1)}


def solve_targets(targets: dict, settings: RetargetSettings, init_root_pos, init_root_quat):
    """Sequence IK of one clip; returns root_pos (T,3), root_quat (T,4), joint_pos (T,J) numpy."""
    from mimiclab.kernels.ik import IkTargets, solve_ik_sequence
    from mimiclab.robots.g1 import G1
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    dev = torch.device(settings.device)
    f = lambda x: torch.as_tensor(x, dtype=torch.float64, device=dev)  # noqa: E731
    tg = IkTargets(body_index=torch.as_tensor(targets["body_index"], device=dev), pos=f(targets["pos"])[None],
                   quat=f(targets["quat"])[None], offset=f(targets["offset"]),
                   pos_weight=f(targets["pos_weight"])[None], rot_weight=f(targets["rot_weight"])[None])
    q0 = f([[j.default_pos for j in G1.joints]])
    res = solve_ik_sequence(g1_kinematic_tree(), tg, f(init_root_pos)[None], f(init_root_quat)[None], q0,
                            iterations=settings.iterations, first_frame_iterations=settings.first_frame_iterations,
                            joint_velocity_limit=MAX_JOINT_SPEED, fps=settings.fps, backend=settings.backend)
    return (res.root_pos[0].cpu().numpy(), res.root_quat[0].cpu().numpy(), res.joint_pos[0].cpu().numpy())


def lift_out_of_ground(root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray) -> np.ndarray:
    """Raise the root in frames where a foot's sole is below z = 0 (returns a new root_pos)."""
    from mimiclab.retarget.quality import sole_heights

    soles = sole_heights(root_pos, root_quat, joint_pos)  # (T,2)
    deficit = np.maximum(0.0, -soles.min(axis=1))
    out = root_pos.copy()
    out[:, 2] += deficit
    return out


def retarget_direct(human: HumanMotion, smap, settings: RetargetSettings) -> RetargetResult:
    """Robot-named sources (map `direct`): every robot body present follows its namesake's position
    and orientation; no unit/axis change, no scaling, no contact correction."""
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.retarget.quality import quality_metrics
    from mimiclab.robots.g1 import G1

    where = human.source or human.name
    if human.orientations is None:
        raise ValueError(f"{where}: the direct map '{smap.name}' needs joint orientations")
    cols = [(G1.body_names.index(n), i) for i, n in enumerate(human.joint_names) if n in G1.body_names]
    if not cols:
        raise ValueError(f"{where}: no joint is named after a G1 body")
    body, src = map(list, zip(*cols))
    pos, quat = human.positions[:, src], human.orientations[:, src]
    if human.fps != settings.fps:
        from mimiclab.motion.kinematics import quat_slerp

        from mimiclab.motion.kinematics import resample_times

        T = pos.shape[0]
        t_out = resample_times(T, human.fps, settings.fps)
        i0 = np.minimum(np.floor(t_out).astype(int), T - 1)
        i1 = np.minimum(i0 + 1, T - 1)
        w = (t_out - i0)[:, None, None]
        pos = (1 - w) * pos[i0] + w * pos[i1]
        quat = quat_slerp(quat[i0], quat[i1], w[..., 0])
    T, K = pos.shape[:2]
    targets = {"body_index": np.array(body, np.int32), "offset": np.zeros((K, 3)), "pos": pos,
               "quat": quat / np.linalg.norm(quat, axis=-1, keepdims=True),
               "pos_weight": np.full((T, K), smap.pos_weight), "rot_weight": np.full((T, K), smap.rot_weight)}
    pelvis = body.index(G1.body_names.index("pelvis")) if G1.body_names.index("pelvis") in body else 0
    root_pos, root_quat, joint_pos = solve_targets(targets, settings, pos[0, pelvis], targets["quat"][0, pelvis])
    root_pos = lift_out_of_ground(root_pos, root_quat, joint_pos)
    meta = {"source": where, "source_fps": human.fps, "retarget": asdict(settings),
            "skeleton_map": smap.name, "generator": "mimiclab.retarget"}
    motion = motion_from_joint_trajectory(root_pos, root_quat, joint_pos, settings.fps, meta=meta)
    return RetargetResult(motion, quality_metrics(motion, targets, None), np.zeros((T, 2), bool), targets)


def retarget_human(human: HumanMotion, settings: RetargetSettings | None = None) -> RetargetResult:
    """The whole pipeline for one clip (see module docstring)."""
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.retarget.quality import quality_metrics

    settings = settings or RetargetSettings()
    human.validate()
    smap = select_map(settings.skeleton, human)
    if smap.direct:
        return retarget_direct(human, smap, settings)
    roles, info = prepare_roles(human, settings, smap)
    rt = g1_targets()
    sides = ("left", "right")
    # planted: ankle low (above its stance height by less than contact.height) and foot slow
    foot = np.stack([roles[f"{s}_ankle"] for s in sides], axis=1)
    foot = foot - np.array([0.0, 0.0, ANKLE_FLAT_HEIGHT])
    if all(f"{s}_toe" in roles for s in sides):  # speed of the toes, which stay put longest
        foot[..., :2] = np.stack([roles[f"{s}_toe"][:, :2] for s in sides], axis=1)
    contacts = detect_contacts(foot, settings.fps, rt.contact_height, rt.contact_speed, rt.contact_min_frames)

    frames = role_frames(roles)
    init_pos, init_quat = roles["pelvis"][0], frames["pelvis"][0]
    plain = build_targets(roles, None)
    raw = solve_targets(plain, settings, init_pos, init_quat)
    if settings.correct_contacts:
        targets = build_targets(roles, contacts)
        root_pos, root_quat, joint_pos = solve_targets(targets, settings, init_pos, init_quat)
    else:
        targets, (root_pos, root_quat, joint_pos) = plain, raw
    root_pos = lift_out_of_ground(root_pos, root_quat, joint_pos)

    meta = {"source": human.source or human.name, "source_fps": human.fps, "retarget": asdict(settings),
            "normalisation": info, "generator": "mimiclab.retarget"}
    motion = motion_from_joint_trajectory(root_pos, root_quat, joint_pos, settings.fps, meta=meta)
    raw_motion = motion_from_joint_trajectory(raw[0], raw[1], raw[2], settings.fps)
    quality = quality_metrics(motion, plain, contacts, uncorrected=raw_motion)
    quality["skeleton_map"] = smap.name
    if human.extra.get("root_relative"):
        quality["root_relative_input"] = True  # no root translation in the input: the G1 stays in place
    return RetargetResult(motion, quality, contacts, targets)


def retarget_path(path, fps: float | None = None):
    """A human-motion file (BVH / keypoints) retargeted in memory → MotionData at `fps` (default 50);
    the ``human_loader`` the motion library takes for raw mocap."""
    from mimiclab.retarget.sources.detect import load_human_motion

    settings = RetargetSettings() if fps is None else RetargetSettings(fps=float(fps))
    return retarget_human(load_human_motion(path), settings).motion
