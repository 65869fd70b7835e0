"""Retargeting with the learned model: human motion → G1 motion, batched over clips.

    net = load_model("models/retarget")
    results = retarget_learned([human_a, human_b], net, RetargetSettings(), polish=3)
    results[0].motion, results[0].quality          # as ``retarget_human`` gives them

The human side goes through the same steps as the IK path up to the IK (skeleton map, units,
scaling to the G1, contact detection: ``pipeline.prepare_roles`` / ``point_contacts``); the network
then replaces the IK. `polish` > 0 runs that many Levenberg-Marquardt iterations of the IK kernels
per frame from the network's output, all frames in parallel, against the contact-corrected targets,
with a smoothness pull toward the neighbouring frames, then clears self-collisions as the IK path
does and lifts swing feet that drag along the floor. Joint speeds are held within the G1's velocity
limits (a per-frame step clamp) and the robot is lifted out of the ground as the IK path does.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache

import numpy as np
import torch

from mimiclab.retarget.learned.checkpoint import load_model  # noqa: F401 - part of this module's API
from mimiclab.retarget.learned.features import human_nodes, robot_nodes, robot_to_world
from mimiclab.retarget.pipeline import RetargetResult, RetargetSettings, _ik_problem

DEFAULT_POLISH = 6  # polish iterations of `retarget --method learned` (bench retarget --learned)
POLISH_PULL = 0.01  # polish: pull toward the pose before each round, per rad²
POLISH_SMOOTH = 0.02  # polish: pull toward the mean of the neighbouring frames' poses, per rad²
POLISH_ROUND_STEPS = 2  # polish: LM iterations per round (between neighbour updates)
DRAG_CLEARANCE = 0.005  # m: a dragging swing foot's sole is lifted this far above the contact height


@lru_cache(maxsize=4)
def cached_model(path: str):
    """``load_model(path)`` once per process (a batch of files shares it)."""
    if not path:
        raise ValueError("the learned method needs a model (--model MODEL_DIR)")
    return load_model(path)


@torch.no_grad()
def predict(net, roles, present, contacts, log_scales, fps: float):
    """Batched inference on role tensors (B,T,R,3), (B,R), (B,T,4), (B,G) → root_pos (B,T,3),
    root_quat (B,T,4) wxyz, joint_pos (B,T,J) [rad], float32."""
    if abs(fps - net.cfg.fps) > 1e-6:
        raise ValueError(f"the model works at {net.cfg.fps:g} fps, not {fps:g} (use --fps {net.cfg.fps:g})")
    nodes, origin, yaw = human_nodes(roles, present, contacts, log_scales, fps)
    out = net.decode(net.encode_human(nodes))
    pos, quat = robot_to_world(out["rel_pos"], out["rel_mat"], origin, yaw)
    return pos, quat, out["joint_pos"]


@torch.no_grad()
def reconstruct(net, root_pos, root_quat, joint_pos, fps: float):
    """G1 → latent → G1 for trajectories (B,T,3), (B,T,4), (B,T,J) → the same three, reconstructed."""
    root, joints, origin, yaw = robot_nodes(root_pos, root_quat, joint_pos, fps)
    out = net.decode(net.encode_robot(root, joints))
    pos, quat = robot_to_world(out["rel_pos"], out["rel_mat"], origin, yaw)
    return pos, quat, out["joint_pos"]


def limit_velocity(joint_pos: np.ndarray, fps: float) -> np.ndarray:
    """(T,J) joint angles with every per-frame step clamped to the G1's velocity limit / fps."""
    from mimiclab.robots.g1 import G1

    step = np.array([j.actuator.velocity_limit for j in G1.joints]) / fps
    out = np.array(joint_pos, dtype=np.float64, copy=True)
    too_fast = np.flatnonzero((np.abs(np.diff(out, axis=0)) > step).any(axis=1))
    start = int(too_fast[0]) + 1 if too_fast.size else out.shape[0]  # frames before the first too-fast step stay
    for t in range(start, out.shape[0]):
        out[t] = out[t - 1] + np.clip(out[t] - out[t - 1], -step, step)
    return out


def mean_body_error(a: tuple, b: tuple) -> float:
    """Mean distance [m] over frames and all G1 bodies between two (root_pos, root_quat, joint_pos)
    trajectories (T,3), (T,4), (T,J) numpy."""
    from mimiclab.kernels.fk import forward_kinematics
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    tree = g1_kinematic_tree()
    pa, _ = forward_kinematics(tree, *(torch.as_tensor(np.asarray(x, np.float64)) for x in a))
    pb, _ = forward_kinematics(tree, *(torch.as_tensor(np.asarray(x, np.float64)) for x in b))
    return float((pa - pb).norm(dim=-1).mean())


def reconstruction_errors(net, motions) -> np.ndarray:
    """(C,) mean body-position error [m] of each G1 motion (MotionData) through robot → latent →
    robot: a clip the model cannot reproduce (jitter, noise, a pose far from its data) scores high."""
    from mimiclab.robots.g1 import G1

    out = []
    for m in motions:
        order = [list(m.joint_names).index(n) for n in G1.joint_names]
        if abs(m.fps - net.cfg.fps) > 1e-6:
            from mimiclab.motion.kinematics import resample_motion

            m = resample_motion(m, net.cfg.fps)
        f = lambda x: torch.as_tensor(np.asarray(x, np.float32))[None]  # noqa: E731
        pos, quat, q = reconstruct(net, f(m.root_pos_w), f(m.root_quat_w), f(m.joint_pos[:, order]), net.cfg.fps)
        out.append(mean_body_error((m.root_pos_w, m.root_quat_w, m.joint_pos[:, order]),
                                   (pos[0].numpy(), quat[0].numpy(), q[0].numpy())))
    return np.array(out)


def prepare_clip(human, settings: RetargetSettings) -> dict:
    """The IK path's steps before the IK for one clip → roles, contacts and the network's arrays."""
    from mimiclab.retarget.foot_targets import point_contacts
    from mimiclab.retarget.learned.pairs import log_scales, role_array
    from mimiclab.retarget.pipeline import prepare_roles
    from mimiclab.retarget.skeleton_map import select_map

    human.validate()
    smap = select_map(settings.skeleton, human)
    where = human.source or human.name
    if smap.direct:
        raise ValueError(f"{where}: the learned retargeter needs human body roles; robot-named sources "
                         "(map 'direct') go through --method ik")
    roles, info = prepare_roles(human, settings, smap)
    points = point_contacts(roles, settings.fps)
    arr, present = role_array(roles)
    return {"human": human, "smap": smap, "roles": roles, "info": info, "points": points, "array": arr,
            "present": present, "log_scales": log_scales(info)}


def _polish_solve(targets: dict, solution: tuple, settings: RetargetSettings, iterations: int) -> tuple:
    """`iterations` Levenberg-Marquardt iterations per frame, all frames at once, in rounds of
    POLISH_ROUND_STEPS: each round pulls every frame toward the mean of its neighbours from the
    round before (POLISH_SMOOTH, the parallel stand-in for the sequence IK's acceleration cost) and
    toward its pose before the round (POLISH_PULL). Two iterations a round let a frame whose first
    step is rejected retry with ten times the damping (one would leave it where it was)."""
    from mimiclab.kernels.ik import IkTargets, solve_ik

    dev, f, tree, prior, _ = _ik_problem(settings)
    tg = IkTargets(body_index=torch.as_tensor(targets["body_index"], device=dev), pos=f(targets["pos"]),
                   quat=f(targets["quat"]), offset=f(targets["offset"]), pos_weight=f(targets["pos_weight"]),
                   rot_weight=f(targets["rot_weight"]))
    root_pos, root_quat, q = (f(x) for x in solution)
    for done in range(0, iterations, POLISH_ROUND_STEPS):
        neighbours = q.clone()
        neighbours[1:-1] = 0.5 * (q[:-2] + q[2:])
        sol = solve_ik(tree, tg, root_pos, root_quat, q, iterations=min(POLISH_ROUND_STEPS, iterations - done),
                       backend=settings.backend, prior=prior, posture=neighbours, posture_weight=POLISH_SMOOTH,
                       velocity_weight=POLISH_PULL)
        root_pos, root_quat, q = sol.root_pos, sol.root_quat, sol.joint_pos
    return root_pos.cpu().numpy(), root_quat.cpu().numpy(), q.cpu().numpy()


def polish_solution(prep: dict, solution: tuple, settings: RetargetSettings, iterations: int) -> tuple:
    """The network's solution polished against the contact-corrected targets (``_polish_solve``),
    then rounds (up to 2 · ``self_clearance.ROUNDS``) that push colliding limbs' targets apart as
    the IK path does and lift dragging swing feet (``lift_dragging_feet``), polishing again after
    each, until neither is left."""
    from mimiclab.retarget.frames import role_frames
    from mimiclab.retarget.pipeline import build_targets, push_apart
    from mimiclab.retarget.self_clearance import ROUNDS

    roles = prep["roles"]
    targets = build_targets(roles, prep["points"] if settings.correct_contacts else None, settings.fps,
                            role_frames(roles))
    solution = _polish_solve(targets, solution, settings, iterations)
    contacts = prep["points"].any(axis=2)
    for _ in range(2 * ROUNDS):
        targets, colliding = push_apart(targets, solution, contacts)
        targets, dragging = lift_dragging_feet(targets, solution, contacts, settings.fps)
        if colliding == 0 and dragging == 0:
            break
        solution = _polish_solve(targets, solution, settings, iterations)
    return solution


def lift_dragging_feet(targets: dict, solution: tuple, contacts: np.ndarray, fps: float) -> tuple[dict, int]:
    """One round against feet that drag: a foot the human has not planted (`contacts` (T,2)
    False) whose sole is within ``quality.CONTACT_HEIGHT`` of the ground while its touching point
    moves faster than ``quality.SLIDE_FLAG_SPEED`` (the report's sliding frame) gets its ankle
    target raised to DRAG_CLEARANCE above that height in those frames (spread to the neighbours
    as self-collision pushes are). → (targets, dragging frames)."""
    from mimiclab.retarget.quality import CONTACT_HEIGHT, SLIDE_FLAG_SPEED, touching_point_steps
    from mimiclab.retarget.self_clearance import spread

    touching, sole, step = touching_point_steps(*solution)
    dragging = touching & ~contacts & (np.linalg.norm(step, axis=-1) * fps > SLIDE_FLAG_SPEED)  # (T,2)
    if not dragging.any():
        return targets, 0
    pos = targets["pos"].copy()
    for f, side in enumerate(("left", "right")):
        lift = np.zeros((pos.shape[0], 3))
        lift[dragging[:, f], 2] = CONTACT_HEIGHT + DRAG_CLEARANCE - sole[dragging[:, f], f]
        pos[:, targets["role"] == f"{side}_ankle"] += spread(lift)[:, None, :]
    return {**targets, "pos": pos}, int(dragging.any(axis=1).sum())


def window_spans(T: int, core: int, context: int) -> list[tuple[int, int, int, int]]:
    """Cut T frames into windows (start, end, core_start, core_end): cores of `core` frames tile
    [0, T); every window is exactly core + 2 · context frames long (a clip shorter than that is one
    window of T frames) and holds `context` frames on each side of its core, or reaches the clip's
    end there, so the network sees what it sees on the whole clip."""
    length = core + 2 * context
    if T <= length:
        return [(0, T, 0, T)]
    out = []
    for c in range(0, T, core):
        start = min(max(0, c - context), T - length)
        out.append((start, start + length, c, min(T, c + core)))
    return out


def predict_clips(net, preps: list[dict], fps: float, window: int = 256, batch_frames: int = 65_536) -> list[tuple]:
    """The network's solution of every prepared clip (``prepare_clip``) → [(root_pos (T,3), root_quat
    (T,4), joint_pos (T,J))] float64 numpy: all clips cut into windows of `window` core frames with
    ``net.context_frames`` of context on each side (``window_spans``: the same outputs as whole
    clips, no padding), windows of one length batched up to `batch_frames` frames per network call."""
    context = net.context_frames
    groups: dict[int, list] = {}
    for i, p in enumerate(preps):
        for span in window_spans(p["array"].shape[0], window, context):
            groups.setdefault(span[1] - span[0], []).append((i, *span))
    outs = [[np.zeros((p["array"].shape[0], 3)), np.zeros((p["array"].shape[0], 4)),
             np.zeros((p["array"].shape[0], len(net.joint_names)))] for p in preps]
    for L, jobs in sorted(groups.items()):
        per_call = max(1, batch_frames // L)
        for k in range(0, len(jobs), per_call):
            chunk = jobs[k:k + per_call]
            roles = torch.as_tensor(np.stack([preps[i]["array"][s:e] for i, s, e, _, _ in chunk]))
            contacts = torch.as_tensor(np.stack([preps[i]["points"].reshape(-1, 4)[s:e] for i, s, e, _, _ in chunk]))
            present = torch.as_tensor(np.stack([preps[i]["present"] for i, *_ in chunk]))
            scales = torch.as_tensor(np.stack([preps[i]["log_scales"] for i, *_ in chunk]))
            pos, quat, q = (x.double().numpy() for x in predict(net, roles, present, contacts, scales, fps))
            for b, (i, s, _, c0, c1) in enumerate(chunk):
                for out, x in zip(outs[i], (pos, quat, q)):
                    out[c0:c1] = x[b, c0 - s:c1 - s]
    return [tuple(o) for o in outs]


def retarget_learned(humans: list, net, settings: RetargetSettings | None = None, polish: int = 0,
                     window: int = 256, batch_frames: int = 65_536, quality: bool = True) -> list[RetargetResult]:
    """Each HumanMotion → a RetargetResult (motion, quality, contacts, plain targets, roles,
    points); the network runs on windows of all clips at once (``predict_clips``); `quality`
    False leaves the report empty (for timing the retargeting alone)."""
    settings = settings or RetargetSettings()
    preps = [prepare_clip(h, settings) for h in humans]
    return retarget_prepared(preps, net, settings, polish, window, batch_frames, quality)


def retarget_prepared(preps: list[dict], net, settings: RetargetSettings, polish: int = 0, window: int = 256,
                      batch_frames: int = 65_536, quality: bool = True) -> list[RetargetResult]:
    """``retarget_learned`` from clips already through ``prepare_clip`` (a caller that handles
    each clip's input errors itself prepares them one by one, then retargets them together)."""
    from mimiclab.retarget.frames import role_frames
    from mimiclab.retarget.pipeline import build_targets, grounded_motion
    from mimiclab.retarget.quality import quality_metrics

    solutions = predict_clips(net, preps, settings.fps, window, batch_frames)
    results = []
    for prep, (root_pos, root_quat, joint_pos) in zip(preps, solutions):
        root_quat = root_quat / np.linalg.norm(root_quat, axis=-1, keepdims=True)
        if polish > 0:
            root_pos, root_quat, joint_pos = polish_solution(prep, (root_pos, root_quat, joint_pos), settings, polish)
        joint_pos = limit_velocity(joint_pos, settings.fps)
        human, roles = prep["human"], prep["roles"]
        meta = {"source": human.source or human.name, "source_fps": human.fps, "retarget": asdict(settings),
                "normalisation": prep["info"], "generator": "mimiclab.retarget.learned",
                "model": getattr(net, "info", {}).get("name", ""), "polish_iterations": int(polish)}
        motion = grounded_motion(root_pos, root_quat, joint_pos, settings.fps, meta=meta)
        contacts = prep["points"].any(axis=2)
        plain = build_targets(roles, None, settings.fps, role_frames(roles)) if quality else {}
        report = quality_metrics(motion, plain, contacts) if quality else {}
        report["skeleton_map"] = prep["smap"].name
        report["method"] = "learned" + (f"+polish{polish}" if polish else "")
        results.append(RetargetResult(motion, report, contacts, plain, roles, prep["points"]))
    return results
