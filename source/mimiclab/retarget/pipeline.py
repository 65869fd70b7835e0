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

from mimiclab.retarget.foot_targets import ANKLE_FLAT_HEIGHT, point_contacts
from mimiclab.retarget.frames import role_frames
from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.normalize import normalize_roles
from mimiclab.retarget.robot_targets import g1_role_points, g1_targets
from mimiclab.rotations.numpy_ops import quat_slerp, wxyz_to_xyzw
from mimiclab.retarget.scaling import limb_scales, rescale_roles, segment_lengths
from mimiclab.retarget.skeleton_map import select_map


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
    prior_weight: float = 0.3  # anatomical prior (robots.human_ranges.PRIOR_RANGES), per rad²
    velocity_weight: float = 0.002  # temporal smoothness: cost per (rad/frame)² of joint velocity
    acceleration_weight: float = 0.004  # … and per (rad/frame²)² of joint acceleration


@dataclass
class RetargetResult:
    motion: object  # MotionData
    quality: dict
    contacts: np.ndarray  # (T,2) bool, left/right foot
    targets: dict  # the IK targets used (for metrics and debugging)
    roles: dict | None = None  # the scaled role trajectories (T,3) the targets came from (None: direct map)
    points: np.ndarray | None = None  # (T,2,2) heel/toe planted flags of the source (``point_contacts``)


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
# and its feet 0.036 m half-wide (and toe out), so narrower human poses would make the robot hit
# itself. Arm targets need it only beside the body: it fades out from ARM_CLEAR_FRONT[0] to [1] m in
# front of the pelvis, so hands held together in front (carrying a box) keep their width.
LIMB_CLEARANCE = {"elbow": 0.16, "wrist": 0.22, "knee": 0.07, "ankle": 0.085}
ARM_CLEAR_FRONT = (0.10, 0.22)


def keep_limbs_clear(roles: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Push elbow, wrist, knee and ankle targets out to LIMB_CLEARANCE from the pelvis mid-plane
    (in the pelvis frame), so that arms held close to the body or feet crossing the midline do not
    drive the G1 into itself (its torso and hips are wide for its limbs)."""
    from mimiclab.retarget.frames import frame_from_lateral_and_up

    R = frame_from_lateral_and_up(roles["left_hip"] - roles["right_hip"], roles["chest"] - roles["pelvis"])
    out = dict(roles)
    for joint, clearance in LIMB_CLEARANCE.items():
        for side, sign in (("left", 1.0), ("right", -1.0)):
            key = f"{side}_{joint}"
            local = np.einsum("tji,tj->ti", R, roles[key] - roles["pelvis"])  # Rᵀ (p − pelvis)
            need = np.full(local.shape[0], clearance)
            if joint in ("elbow", "wrist"):
                a, b = ARM_CLEAR_FRONT
                need *= np.clip((b - local[:, 0]) / (b - a), 0.0, 1.0)
            local[:, 1] = sign * np.maximum(sign * local[:, 1], need)
            out[key] = roles["pelvis"] + np.einsum("tij,tj->ti", R, local)
    return out


def place_hips(roles: dict[str, np.ndarray], robot: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Hang each leg from the G1's own hip joint: the hip target moves to where the G1's hip-pitch
    joint sits in the pelvis frame (its pelvis is 10 cm above it; a scaled human pelvis is only
    ~5 cm above its hip joints, which would make the G1 stand with bent knees), and the knee,
    ankle and toe of that leg move with it, so the leg keeps its shape."""
    from mimiclab.retarget.frames import frame_from_lateral_and_up

    R = frame_from_lateral_and_up(roles["left_hip"] - roles["right_hip"], roles["chest"] - roles["pelvis"])
    out = dict(roles)
    for side in ("left", "right"):
        hip = roles["pelvis"] + R @ (robot[f"{side}_hip"] - robot["pelvis"])
        delta = hip - roles[f"{side}_hip"]
        for joint in ("hip", "knee", "ankle", "toe"):
            key = f"{side}_{joint}"
            if key in roles:
                out[key] = roles[key] + delta
    return out


def place_torso(roles: dict[str, np.ndarray], robot: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Carry the G1's own torso with the human's: the chest and shoulder targets are the G1's chest
    point and shoulder joints at its standing pose, turned by the human torso frame (hips → up the
    spine, shoulders → lateral) about the pelvis; the arms (elbows, wrists) and the head move with
    their shoulder / the chest, so arm poses keep their shape on the G1's torso. A human chest joint sits lower on the spine than the G1's chest
    point and human shoulders are narrower, so scaled human positions would drag the G1's upper body
    down and in."""
    from mimiclab.retarget.frames import frame_from_lateral_and_up

    if not all(k in roles for k in ("chest", "left_shoulder", "right_shoulder")):
        return roles
    R = frame_from_lateral_and_up(roles["left_shoulder"] - roles["right_shoulder"], roles["chest"] - roles["pelvis"])
    out = dict(roles)
    out["chest"] = roles["pelvis"] + R @ (robot["chest"] - robot["pelvis"])
    if "head" in roles:
        out["head"] = roles["head"] + out["chest"] - roles["chest"]
    for side in ("left", "right"):
        shoulder = out["chest"] + R @ (robot[f"{side}_shoulder"] - robot["chest"])
        delta = shoulder - roles[f"{side}_shoulder"]
        for joint in ("shoulder", "elbow", "wrist"):
            key = f"{side}_{joint}"
            if key in roles:
                out[key] = roles[key] + delta
    return out


def offset_legs(roles: dict[str, np.ndarray], robot: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Move knees, ankles and toes out sideways (pelvis frame) by the G1's own hip → knee lateral
    offset at its standing pose: a human thigh hangs below the hip joint, the G1's hangs 5.5 cm
    outside its hip-pitch joint, so straight human legs stay straight (not knock-kneed) on the G1."""
    from mimiclab.retarget.frames import frame_from_lateral_and_up

    R = frame_from_lateral_and_up(roles["left_hip"] - roles["right_hip"], roles["chest"] - roles["pelvis"])
    out = dict(roles)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shift = sign * abs(robot[f"{side}_knee"][1] - robot[f"{side}_hip"][1])
        move = R[..., :, 1] * shift  # (T,3): the pelvis's lateral axis
        for joint in ("knee", "ankle", "toe"):
            key = f"{side}_{joint}"
            if key in roles:
                out[key] = roles[key] + move
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
    scaled = rescale_roles(roles, scales)
    scaled = keep_limbs_clear(offset_legs(place_torso(place_hips(scaled, robot), robot), robot))
    # stand the scaled body on the ground: stance ankles at the G1's flat-foot ankle height
    ankles = np.minimum(scaled["left_ankle"][:, 2], scaled["right_ankle"][:, 2])
    lift = ANKLE_FLAT_HEIGHT - float(np.percentile(ankles, 5.0))
    scaled = {k: v + np.array([0.0, 0.0, lift]) for k, v in scaled.items()}
    info.update({"skeleton_map": smap.name, "roles": {r: list(v) for r, v in smap.roles.items()},
                 "limb_scales": scales, "ground_lift_m": lift})
    if smap.notes:
        info["notes"] = list(smap.notes)
    return scaled, info


KNEE_YIELD = 0.9  # fraction of a knee's position weight it gives up while its foot is pinned


def build_targets(roles: dict[str, np.ndarray], contacts: np.ndarray | None, fps: float = 50.0, frames=None):
    """IK targets (positions (T,K,3), quats (T,K,4), weights (T,K), role per target) for the G1
    body targets plus the virtual toe/heel points of each foot; the feet follow
    ``mimiclab.retarget.foot_targets`` (pitched, pinned while planted, clear of the ground while
    moving; `contacts`: (T,2,2) heel/toe planted flags per foot, or None: the plain human
    foot targets; `frames`: ``role_frames(roles)`` when the caller has them)."""
    from mimiclab.retarget.foot_targets import foot_targets
    from mimiclab.robots.g1 import G1

    rt = g1_targets()
    frames = role_frames(roles) if frames is None else frames
    T = roles["pelvis"].shape[0]
    pelvis_fwd = Rotation.from_quat(wxyz_to_xyzw(frames["pelvis"])).apply([1.0, 0.0, 0.0])
    pelvis_heading = np.arctan2(pelvis_fwd[:, 1], pelvis_fwd[:, 0])
    feet = {side: foot_targets(roles, side, pelvis_heading, None if contacts is None else contacts[:, i], fps,
                               rt.toe, rt.heel)
            for i, side in enumerate(("left", "right"))}
    body, offset, pos, quat, wp, wr, role = [], [], [], [], [], [], []
    identity = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    for t in rt.targets:
        if t.role not in roles:
            continue
        body.append(G1.body_names.index(t.body))
        role.append(t.role)
        offset.append(t.offset)
        side = t.role.split("_")[0]
        if t.role.endswith("_ankle"):  # the foot: pitched, pinned, lifted
            ft = feet[side]
            pos.append(ft.ankle)
            quat.append(ft.quat)
            wp.append(t.pos_weight * np.broadcast_to(ft.pos_scale, (T,)).copy())
            wr.append(t.rot_weight + (1.0 - t.rot_weight) * ft.rot_scale)
            continue
        pos.append(roles[t.role].copy())
        wp.append(np.full(T, t.pos_weight))
        if t.role.endswith("_knee"):  # the knee follows its foot's stance shift and swing lift,
            pos[-1] += feet[side].move  # and gives way to the foot's pins
            wp[-1] = wp[-1] * (1.0 - KNEE_YIELD * (1.0 - np.broadcast_to(feet[side].pos_scale, (T,))) / 0.9)
        quat.append(frames[t.rot] if t.rot else identity)
        wr.append(np.full(T, t.rot_weight if t.rot else 0.0))
    for side in ("left", "right"):
        ft = feet[side]
        for j, point in enumerate((rt.toe, rt.heel)):
            body.append(G1.body_names.index(f"{side}_ankle_roll_link"))
            role.append(f"{side}_ankle")  # the foot's sole points move with its ankle
            offset.append(point)
            pos.append(ft.pins[:, j])
            quat.append(ft.quat)
            wp.append(ft.pin_weight[:, j])
            wr.append(np.zeros(T))
    return {"body_index": np.array(body, np.int32), "role": np.array(role), "offset": np.array(offset, float),
            "pos": np.stack(pos, 1), "quat": np.stack(quat, 1), "pos_weight": np.stack(wp, 1),
            "rot_weight": np.stack(wr, 1)}


# first-frame starting postures (joint → angle over the default pose; a key names both sides'
# joints, or one side's with its side prefix): standing, straight, arms up, crouched, arms out,
# mid-stride with either leg swung back (a running clip that starts with a heel up behind the body
# otherwise starts from a straight knee, a local minimum); the cheapest solution starts the clip
START_POSTURES = (
    {},
    {"knee": -0.669 + 0.24, "hip_pitch": 0.312, "ankle_pitch": 0.363, "elbow": 0.7},
    {"shoulder_pitch": -2.6, "elbow": 0.6},
    {"hip_pitch": -1.2, "knee": 1.3, "ankle_pitch": -0.5},
    {"shoulder_roll": 1.2, "elbow": 0.7},
    {"left_hip_pitch": 0.6, "left_knee": 1.6, "right_hip_pitch": -0.5, "right_knee": 0.3},
    {"right_hip_pitch": 0.6, "right_knee": 1.6, "left_hip_pitch": -0.5, "left_knee": 0.3},
)


def _start_postures(G1) -> np.ndarray:
    """(S,J) START_POSTURES as joint vectors (left/right mirrored for roll joints), within limits."""
    out = []
    for change in START_POSTURES:
        q = np.array([j.default_pos for j in G1.joints])
        for i, j in enumerate(G1.joints):
            for key, value in change.items():
                if j.name == f"{key}_joint" or j.name.endswith(f"_{key}_joint"):
                    sign = -1.0 if ("roll" in key and j.name.startswith("right")) else 1.0
                    q[i] = np.clip(q[i] + sign * value, j.lower, j.upper)
        out.append(q)
    return np.stack(out)


def _ik_problem(settings: RetargetSettings):
    """(device, float64 tensor maker, kinematic tree, anatomical prior, prior weights (J,))."""
    from mimiclab.kernels.ik import JointPrior
    from mimiclab.robots.g1 import G1
    from mimiclab.robots.human_ranges import PRIOR_RANGES, ranges_for
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    dev = torch.device(settings.device)
    f = lambda x: torch.as_tensor(np.asarray(x), dtype=torch.float64, device=dev)  # noqa: E731
    lo, hi = ranges_for(G1.joint_names, PRIOR_RANGES)
    weight = np.array([settings.prior_weight if n in PRIOR_RANGES else 0.0 for n in G1.joint_names])
    return dev, f, g1_kinematic_tree(), JointPrior(f(lo), f(hi), f(weight)), (np.array(lo), np.array(hi), weight)


def first_frame_start(targets: dict, settings: RetargetSettings, init_root_pos, init_root_quat):
    """Frame 0 solved from every START_POSTURES start (one batched solve of a third of
    ``first_frame_iterations``: the sequence then solves the winner's frame 0 with all of them);
    the cheapest solution → (root_pos (1,3), root_quat (1,4), joint_pos (1,J)) tensors. Depends
    only on frame 0 of the targets."""
    from mimiclab.kernels.ik import IkTargets, solve_ik
    from mimiclab.robots.g1 import G1

    dev, f, tree, prior, (lo, hi, weight) = _ik_problem(settings)
    starts = _start_postures(G1)
    S = starts.shape[0]
    first = IkTargets(body_index=torch.as_tensor(targets["body_index"], device=dev),
                      pos=f(np.repeat(targets["pos"][:1], S, 0)), quat=f(np.repeat(targets["quat"][:1], S, 0)),
                      offset=f(targets["offset"]), pos_weight=f(np.repeat(targets["pos_weight"][:1], S, 0)),
                      rot_weight=f(np.repeat(targets["rot_weight"][:1], S, 0)))
    screen = min(settings.first_frame_iterations, max(10, settings.first_frame_iterations // 3))
    sol = solve_ik(tree, first, f(np.repeat(np.asarray(init_root_pos, float)[None], S, 0)),
                   f(np.repeat(np.asarray(init_root_quat, float)[None], S, 0)), f(starts),
                   iterations=screen, backend=settings.backend, prior=prior)
    q = sol.joint_pos.cpu().numpy()
    excess = np.maximum(0.0, lo - q) + np.maximum(0.0, q - hi)
    cost = ((targets["pos_weight"][:1] * sol.pos_error.cpu().numpy() ** 2).sum(1)
            + (targets["rot_weight"][:1] * sol.rot_error.cpu().numpy() ** 2).sum(1)
            + (weight * excess ** 2).sum(1))
    best = int(np.argmin(cost))
    return sol.root_pos[best:best + 1], sol.root_quat[best:best + 1], sol.joint_pos[best:best + 1]


def solve_targets(targets: dict, settings: RetargetSettings, init_root_pos, init_root_quat, start=None):
    """Sequence IK of one clip; returns root_pos (T,3), root_quat (T,4), joint_pos (T,J) numpy.
    The sequence starts from `start` (``first_frame_start``'s result for these targets' frame 0),
    computed here when not given."""
    from mimiclab.kernels.ik import IkTargets, solve_ik_sequence
    from mimiclab.robots.g1 import G1

    dev, f, tree, prior, _ = _ik_problem(settings)
    if start is None:
        start = first_frame_start(targets, settings, init_root_pos, init_root_quat)
    tg = IkTargets(body_index=torch.as_tensor(targets["body_index"], device=dev), pos=f(targets["pos"])[None],
                   quat=f(targets["quat"])[None], offset=f(targets["offset"]),
                   pos_weight=f(targets["pos_weight"])[None], rot_weight=f(targets["rot_weight"])[None])
    res = solve_ik_sequence(tree, tg, *start, iterations=settings.iterations,
                            first_frame_iterations=settings.first_frame_iterations,
                            joint_velocity_limit=[j.actuator.velocity_limit for j in G1.joints], fps=settings.fps,
                            backend=settings.backend, prior=prior, velocity_weight=settings.velocity_weight,
                            acceleration_weight=settings.acceleration_weight)
    return (res.root_pos[0].cpu().numpy(), res.root_quat[0].cpu().numpy(), res.joint_pos[0].cpu().numpy())


def push_apart(targets: dict, solution, contacts) -> tuple[dict, int]:
    """One round of ``mimiclab.retarget.self_clearance``: the self-collisions of `solution`
    (root_pos (T,3), root_quat (T,4), joint_pos (T,J)) → (targets with the owning limb targets
    pushed apart, colliding frames); planted feet (`contacts` (T,2), or None) are not pushed."""
    from types import SimpleNamespace

    from mimiclab.retarget.self_clearance import collision_pushes, spread
    from mimiclab.robots.g1 import G1

    motion = SimpleNamespace(root_pos_w=solution[0], root_quat_w=solution[1], joint_pos=solution[2],
                             joint_names=G1.joint_names, num_frames=solution[2].shape[0])
    pushes, colliding = collision_pushes(motion)
    if colliding == 0:
        return targets, 0
    pos = targets["pos"].copy()
    for side_i, side in enumerate(("left", "right")):
        if contacts is not None:
            pushes[f"{side}_ankle"][contacts[:, side_i]] = 0.0
    for role, push in pushes.items():
        if push.any():
            pos[:, targets["role"] == role] += spread(push)[:, None, :]
    return {**targets, "pos": pos}, colliding


def clear_self_collisions(targets: dict, solution, contacts, settings: RetargetSettings, init_pos, init_quat,
                          start=None):
    """Rounds of: find self-collisions, push the owning limb targets apart, solve again
    (``push_apart``); planted feet are not pushed. `start`: the first-frame multi-start of
    `targets` (``first_frame_start``), reused while the pushes leave frame 0 alone.
    Returns (targets, solution)."""
    from mimiclab.retarget.self_clearance import ROUNDS

    for _ in range(ROUNDS):
        pushed, colliding = push_apart(targets, solution, contacts)
        if colliding == 0:
            break
        if start is None or not np.array_equal(pushed["pos"][0], targets["pos"][0]):
            start = first_frame_start(pushed, settings, init_pos, init_quat)
        targets = pushed
        solution = solve_targets(targets, settings, init_pos, init_quat, start)
    return targets, solution


def lift_out_of_ground(root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray) -> np.ndarray:
    """Raise the root in frames where a foot's sole is below z = 0 (returns a new root_pos)."""
    from mimiclab.retarget.quality import sole_heights

    soles = sole_heights(root_pos, root_quat, joint_pos)  # (T,2)
    deficit = np.maximum(0.0, -soles.min(axis=1))
    out = root_pos.copy()
    out[:, 2] += deficit
    return out


def grounded_motion(root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray, fps: float,
                    meta: dict | None = None):
    """``motion_from_joint_trajectory`` of the trajectory lifted out of the ground as
    ``lift_out_of_ground`` lifts it, with one forward kinematics: the bodies of the unlifted
    trajectory, then root and bodies raised by the frame's sole deficit (a vertical shift moves
    every body by the same amount) and the body velocities recomputed."""
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.retarget.quality import foot_sole_heights
    from mimiclab.rotations.numpy_ops import linear_velocity

    motion = motion_from_joint_trajectory(root_pos, root_quat, joint_pos, fps, meta=meta)
    deficit = np.maximum(0.0, -foot_sole_heights(motion).min(axis=1))  # (T,)
    if deficit.any():
        motion.root_pos_w[:, 2] += deficit
        motion.body_pos_w[..., 2] += deficit[:, None]
        motion.body_lin_vel_w = linear_velocity(motion.body_pos_w, 1.0 / motion.fps)
    return motion


def retarget_direct(human: HumanMotion, smap, settings: RetargetSettings) -> RetargetResult:
    """Robot-named sources (map `direct`): every robot body present follows its namesake's position
    and orientation; no unit/axis change, no scaling, no contact correction."""
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
        from mimiclab.motion.kinematics import resample_times

        T = pos.shape[0]
        t_out = resample_times(T, human.fps, settings.fps)
        i0 = np.minimum(np.floor(t_out).astype(int), T - 1)
        i1 = np.minimum(i0 + 1, T - 1)
        w = (t_out - i0)[:, None, None]
        pos = (1 - w) * pos[i0] + w * pos[i1]
        quat = quat_slerp(quat[i0], quat[i1], w)
    T, K = pos.shape[:2]
    targets = {"body_index": np.array(body, np.int32), "offset": np.zeros((K, 3)), "pos": pos,
               "quat": quat / np.linalg.norm(quat, axis=-1, keepdims=True),
               "pos_weight": np.full((T, K), smap.pos_weight), "rot_weight": np.full((T, K), smap.rot_weight)}
    pelvis = body.index(G1.body_names.index("pelvis")) if G1.body_names.index("pelvis") in body else 0
    root_pos, root_quat, joint_pos = solve_targets(targets, settings, pos[0, pelvis], targets["quat"][0, pelvis])
    meta = {"source": where, "source_fps": human.fps, "retarget": asdict(settings),
            "skeleton_map": smap.name, "generator": "mimiclab.retarget"}
    motion = grounded_motion(root_pos, root_quat, joint_pos, settings.fps, meta=meta)
    return RetargetResult(motion, quality_metrics(motion, targets, None), np.zeros((T, 2), bool), targets)


def retarget_human(human: HumanMotion, settings: RetargetSettings | None = None) -> RetargetResult:
    """The whole pipeline for one clip (see module docstring)."""
    from mimiclab.retarget.quality import quality_metrics

    settings = settings or RetargetSettings()
    human.validate()
    smap = select_map(settings.skeleton, human)
    if smap.direct:
        return retarget_direct(human, smap, settings)
    roles, info = prepare_roles(human, settings, smap)
    points = point_contacts(roles, settings.fps)  # (T,2,2) heel/toe planted per foot
    contacts = points.any(axis=2)

    frames = role_frames(roles)
    init_pos, init_quat = roles["pelvis"][0], frames["pelvis"][0]
    plain = build_targets(roles, None, settings.fps, frames)  # the human's own targets: keypoint errors
    targets = build_targets(roles, points, settings.fps, frames) if settings.correct_contacts else plain
    start = first_frame_start(targets, settings, init_pos, init_quat)
    root_pos, root_quat, joint_pos = solve_targets(targets, settings, init_pos, init_quat, start)
    targets, (root_pos, root_quat, joint_pos) = clear_self_collisions(
        targets, (root_pos, root_quat, joint_pos), contacts, settings, init_pos, init_quat, start)
    meta = {"source": human.source or human.name, "source_fps": human.fps, "retarget": asdict(settings),
            "normalisation": info, "generator": "mimiclab.retarget"}
    motion = grounded_motion(root_pos, root_quat, joint_pos, settings.fps, meta=meta)
    quality = quality_metrics(motion, plain, contacts)
    quality["skeleton_map"] = smap.name
    if human.extra.get("root_relative"):
        quality["root_relative_input"] = True  # no root translation in the input: the G1 stays in place
    return RetargetResult(motion, quality, contacts, targets, roles, points)


def retarget_path(path, fps: float | None = None):
    """A human-motion file (BVH / keypoints) retargeted in memory → MotionData at `fps` (default 50);
    the ``human_loader`` the motion library takes for raw mocap."""
    from mimiclab.retarget.sources.detect import load_human_motion

    settings = RetargetSettings() if fps is None else RetargetSettings(fps=float(fps))
    return retarget_human(load_human_motion(path), settings).motion
