"""The peer of `mimiclab bench retarget --quality`: per-frame differential IK with mink, the method
of GMR (General Motion Retargeting, github.com/YanjieZe/GMR), on exactly the targets mimiclab
solves.

What a GMR user gets, on the G1 MJCF mimiclab provisions:

* the targets: ``build_targets(prepare_roles(...), contacts=None)`` of mimiclab's pipeline (the
  same bodies, positions and orientations). Each target with a weight > 0 somewhere in the clip is
  one ``mink.FrameTask`` (on the body, or on a site added at the target's offset point through
  ``mujoco.MjSpec``); mimiclab's cost is ``w·|e|²`` and mink's ``|c·e|²``, so
  ``position_cost = GMR_COST_SCALE·√pos_weight`` and ``orientation_cost = GMR_COST_SCALE·√rot_weight``
  (GMR_COST_SCALE = 100: the position cost of a tracked body in GMR's G1 tables, so that GMR's
  damping keeps its meaning); per-frame weights update the costs frame by frame;
* the solver: ``mink.solve_ik(..., solver="daqp", damping=0.5)`` with ``lm_damping=1`` on every
  task (GMR's defaults), limits ``ConfigurationLimit`` and ``VelocityLimit`` from the G1 actuator
  velocity limits (``G1.joint(name).actuator.velocity_limit``), ``integrate_inplace(v, dt)`` with
  dt = 1/fps. As in GMR the velocity limit bounds each solve (|Δq| ≤ v_max·dt per iteration), so a
  frame that takes n iterations can move up to n·v_max·dt (``mink_solve(velocity_limit=
  "per_frame")`` bounds the frame instead; not GMR, not the default);
* per frame: warm start from the previous frame's configuration, one solve, then more solves while
  the task error (norm of the tracked components of every task's 6-D error, GMR's ``error1``)
  drops by more than MIN_IMPROVEMENT = 1e-3 per solve, at most MAX_ITERATIONS = 10 solves (GMR:
  1 + up to 10);
* the first frame from the pelvis target (root) and the G1 default joint pose, solved to
  convergence (up to FIRST_FRAME_ITERATIONS = 200 solves, until the error drops by < 1e-6; without
  the velocity limit, which would otherwise make the start depend on the frame rate);
* the root is the free joint; the only post-processing is GMR's ground alignment: the whole clip is
  shifted vertically so that its lowest foot (sole) point over the clip is at z = 0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

GMR_COST_SCALE = 100.0
GMR_DAMPING = 0.5
GMR_LM_DAMPING = 1.0
SOLVER = "daqp"
MAX_ITERATIONS = 10
MIN_IMPROVEMENT = 1e-3
FIRST_FRAME_ITERATIONS = 200
FIRST_FRAME_MIN_IMPROVEMENT = 1e-6


@dataclass
class PeerResult:
    motion: object  # MotionData
    targets: dict  # the (plain) targets it tracked
    seconds: float  # wall time of this clip: parse + targets + IK + ground alignment
    ik_seconds: float
    iterations: list[int] = field(default_factory=list)  # solves per frame


@lru_cache(maxsize=8)
def _model(sites: tuple[tuple[str, str, tuple[float, float, float]], ...]):
    """The G1 MJCF with the given (site name, body, offset) sites added; compiled once per set."""
    import mujoco

    from mimiclab.robots.assets import g1_mjcf_path

    spec = mujoco.MjSpec.from_file(str(g1_mjcf_path()))
    for name, body, offset in sites:
        spec.body(body).add_site(name=name, pos=list(offset))
    return spec.compile()


def _task_frames(targets: dict) -> tuple[list[int], tuple, list[tuple[str, str]]]:
    """Used targets (weight > 0 somewhere), the sites to add, and each one's (frame name, type)."""
    from mimiclab.robots.g1 import G1

    used = np.flatnonzero((targets["pos_weight"].max(axis=0) > 0) | (targets["rot_weight"].max(axis=0) > 0))
    sites, frames = [], []
    for k in used:
        body = G1.body_names[int(targets["body_index"][k])]
        offset = tuple(float(x) for x in targets["offset"][k])
        if np.allclose(offset, 0.0):
            frames.append((body, "body"))
        else:
            name = f"peer_target_{k}"
            sites.append((name, body, offset))
            frames.append((name, "site"))
    return [int(k) for k in used], tuple(sites), frames


def _initial_root(targets: dict) -> tuple[np.ndarray, np.ndarray]:
    from mimiclab.robots.g1 import G1

    pelvis = G1.body_names.index("pelvis")
    for k, b in enumerate(targets["body_index"]):
        if int(b) == pelvis and np.allclose(targets["offset"][k], 0.0):
            return targets["pos"][0, k], targets["quat"][0, k]
    return np.array([0.0, 0.0, G1.default_root_height]), np.array([1.0, 0.0, 0.0, 0.0])


def ground_align(root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray) -> np.ndarray:
    """GMR's ground alignment: the clip shifted vertically so that its lowest sole point is at z=0."""
    from mimiclab.retarget.quality import sole_heights

    out = root_pos.copy()
    out[:, 2] -= float(sole_heights(root_pos, root_quat, joint_pos).min())
    return out


def _frame_velocity_limit(model, vmax: np.ndarray, dt: float):
    """A mink limit that bounds the whole frame's hinge displacement (all its solves together) to
    v_max·dt around the configuration the frame started from (``start`` is set per frame)."""
    import mink
    from mink.limits import Constraint

    class FrameVelocityLimit(mink.limits.Limit):
        def __init__(self):
            self.dof = np.arange(6, model.nv)
            self.qadr = model.jnt_qposadr[model.dof_jntid[6:]]
            self.bound = vmax * dt
            self.start = None
            self.P = np.eye(model.nv)[self.dof]

        def compute_qp_inequalities(self, configuration, dt):
            moved = configuration.q[self.qadr] - self.start
            hi = np.maximum(self.bound - moved, 0.0)
            lo = np.maximum(self.bound + moved, 0.0)
            return Constraint(G=np.vstack([self.P, -self.P]), h=np.concatenate([hi, lo]))

    return FrameVelocityLimit()


def mink_solve(targets: dict, fps: float, init_root_pos=None, init_root_quat=None, init_joint_pos=None,
               max_iterations: int = MAX_ITERATIONS, velocity_limit: str | None = "per_solve"
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Per-frame mink IK of one clip (module docstring): root_pos (T,3), root_quat (T,4) wxyz,
    joint_pos (T,J) in G1.joint_names order, solves per frame. No ground alignment.

    velocity_limit: "per_solve" (GMR: ``mink.VelocityLimit``, each solve moves ≤ v_max·dt),
    "per_frame" (not GMR: all solves of a frame together ≤ v_max·dt, a true joint-speed bound) or
    None (GMR's default ``use_velocity_limit=False``)."""
    import mink
    import mujoco

    from mimiclab.robots.g1 import G1

    if velocity_limit not in ("per_solve", "per_frame", None):
        raise ValueError(f"velocity_limit must be 'per_solve', 'per_frame' or None, got {velocity_limit!r}")

    used, sites, frames = _task_frames(targets)
    if not used:
        raise ValueError("mink peer: no target has a weight > 0")
    model = _model(sites)
    qadr = np.array([model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)]
                     for n in G1.joint_names])
    dt = 1.0 / float(fps)
    wp = np.sqrt(targets["pos_weight"][:, used]) * GMR_COST_SCALE  # (T,K)
    wr = np.sqrt(targets["rot_weight"][:, used]) * GMR_COST_SCALE
    pos, quat = targets["pos"][:, used], targets["quat"][:, used]
    tasks = [mink.FrameTask(name, kind, position_cost=float(wp[0, i]), orientation_cost=float(wr[0, i]),
                            lm_damping=GMR_LM_DAMPING) for i, (name, kind) in enumerate(frames)]
    config_limit = mink.ConfigurationLimit(model)
    limits = [config_limit]
    frame_limit = None
    if velocity_limit == "per_solve":
        limits.append(mink.VelocityLimit(model, {n: G1.joint(n).actuator.velocity_limit for n in G1.joint_names}))
    elif velocity_limit == "per_frame":
        dof_names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) for j in model.dof_jntid[6:]]
        frame_limit = _frame_velocity_limit(
            model, np.array([G1.joint(n).actuator.velocity_limit for n in dof_names]), dt)
        limits.append(frame_limit)
    first_limits = [config_limit]

    if init_root_pos is None or init_root_quat is None:
        init_root_pos, init_root_quat = _initial_root(targets)
    q = model.qpos0.copy()
    q[:3], q[3:7] = init_root_pos, np.asarray(init_root_quat) / np.linalg.norm(init_root_quat)
    q[qadr] = [j.default_pos for j in G1.joints] if init_joint_pos is None else init_joint_pos
    lo, hi = model.jnt_range[model.dof_jntid[6:]].T  # hinge joints: start inside the limits
    hinge_qadr = model.jnt_qposadr[model.dof_jntid[6:]]
    q[hinge_qadr] = np.clip(q[hinge_qadr], lo, hi)
    configuration = mink.Configuration(model, q)

    T = pos.shape[0]
    out = np.zeros((T, model.nq))
    solves = []
    costs = None
    for t in range(T):
        frame_costs = (wp[t], wr[t])
        if costs is None or not (np.array_equal(costs[0], frame_costs[0]) and np.array_equal(costs[1], frame_costs[1])):
            for i, task in enumerate(tasks):
                task.set_position_cost(float(wp[t, i]))
                task.set_orientation_cost(float(wr[t, i]))
            masks = [np.r_[np.full(3, wp[t, i] > 0), np.full(3, wr[t, i] > 0)] for i in range(len(tasks))]
            costs = frame_costs
        for i, task in enumerate(tasks):
            task.set_target(mink.SE3(np.concatenate((quat[t, i], pos[t, i]))))

        def error() -> float:
            return float(np.linalg.norm(np.concatenate([task.compute_error(configuration)[m]
                                                        for task, m in zip(tasks, masks)])))

        first = t == 0
        n_max, tol, lim = ((FIRST_FRAME_ITERATIONS, FIRST_FRAME_MIN_IMPROVEMENT, first_limits) if first
                           else (max_iterations, MIN_IMPROVEMENT, limits))
        if frame_limit is not None:
            frame_limit.start = configuration.q[frame_limit.qadr].copy()
        err = error()
        n = 0
        while n < n_max:
            vel = mink.solve_ik(configuration, tasks, dt, SOLVER, damping=GMR_DAMPING, limits=lim)
            configuration.integrate_inplace(vel, dt)
            n += 1
            new = error()
            if err - new <= tol:
                break
            err = new
        solves.append(n)
        out[t] = configuration.q
    root_quat = out[:, 3:7] / np.linalg.norm(out[:, 3:7], axis=1, keepdims=True)
    return out[:, :3].copy(), root_quat, out[:, qadr], solves


def mink_retarget(targets: dict, fps: float, meta: dict | None = None, **kwargs) -> tuple[object, list[int]]:
    """The peer on one clip's targets → (MotionData, solves per frame): per-frame mink IK plus GMR's
    ground alignment (module docstring). kwargs go to ``mink_solve``."""
    from mimiclab.motion.kinematics import motion_from_joint_trajectory

    root_pos, root_quat, joint_pos, solves = mink_solve(targets, fps, **kwargs)
    root_pos = ground_align(root_pos, root_quat, joint_pos)
    meta = {"generator": "mimiclab.bench.retarget_peer (mink per-frame IK, GMR method)",
            "peer": {"solver": SOLVER, "damping": GMR_DAMPING, "lm_damping": GMR_LM_DAMPING,
                     "cost_scale": GMR_COST_SCALE, "max_iterations": kwargs.get("max_iterations", MAX_ITERATIONS),
                     "velocity_limit": kwargs.get("velocity_limit", "per_solve"),
                     "min_improvement": MIN_IMPROVEMENT, "mean_solves_per_frame": float(np.mean(solves))},
            **(meta or {})}
    return motion_from_joint_trajectory(root_pos, root_quat, joint_pos, fps, meta=meta), solves


def peer_retarget_file(path: str, fps: float = 50.0, **kwargs) -> PeerResult:
    """Parse one human-motion file, build mimiclab's plain targets from it and retarget them with the
    peer (kwargs go to ``mink_solve``); ``seconds`` is the wall time of all of it (parse + targets +
    IK + ground alignment)."""
    from mimiclab.retarget.pipeline import RetargetSettings, build_targets, prepare_roles
    from mimiclab.retarget.skeleton_map import select_map
    from mimiclab.retarget.sources.detect import load_human_motion

    start = time.perf_counter()
    human = load_human_motion(path)
    human.validate()
    settings = RetargetSettings(fps=fps)
    smap = select_map(settings.skeleton, human)
    if smap.direct:
        raise ValueError(f"{path}: robot-named source (map '{smap.name}'): no human targets for the peer")
    roles, _ = prepare_roles(human, settings, smap)
    targets = build_targets(roles, None)
    ik_start = time.perf_counter()
    motion, solves = mink_retarget(targets, fps, meta={"source": human.source or human.name}, **kwargs)
    end = time.perf_counter()
    return PeerResult(motion, targets, end - start, end - ik_start, solves)
