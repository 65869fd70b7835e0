"""IK benchmark: every backend on identical targets, side by side in one run, plus mink (the
differential-IK solver GMR uses) as the peer when it is installed.

Problems: the 14 tracked G1 bodies with position + orientation targets from FK of random poses
inside the joint limits, warm-started ±0.3 rad away (see mimiclab.bench.problems), float32.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from mimiclab.bench.problems import TRACKED_BODIES, reachable_problems, smooth_clips
from mimiclab.kernels import available_backends
from mimiclab.kernels.ik import IkTargets, solve_ik, solve_ik_sequence


def _record(kernel, backend, device, size, seconds, frames, mean_error_m, ref_seconds_per_frame):
    per_frame = seconds / frames
    return {"kernel": kernel, "backend": backend, "device": device, "size": size,
            "throughput": frames / seconds, "unit": "frames/s", "seconds": seconds,
            "ratio_vs_reference": ref_seconds_per_frame / per_frame if ref_seconds_per_frame else 1.0,
            "mean_error_mm": mean_error_m * 1e3}


def _timed(fn):
    fn()  # warm-up (Warp compiles, caches fill)
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _mink_solve(tree, targets: IkTargets, init, iterations: int, mjcf: str) -> tuple[float, float]:
    """mink on the same problems: returns (seconds, mean keypoint error [m])."""
    import mink
    import mujoco

    from mimiclab.kernels.fk import fk_reference
    from mimiclab.robots.g1 import G1

    model = mujoco.MjModel.from_xml_path(mjcf)
    configuration = mink.Configuration(model)
    tasks = [mink.FrameTask(b, "body", position_cost=1.0, orientation_cost=float(np.sqrt(0.1))) for b in TRACKED_BODIES]
    limits = [mink.ConfigurationLimit(model)]
    qadr = [model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)] for n in G1.joint_names]
    root_pos, root_quat, joint_pos = (x.double().numpy() for x in init)
    pos, quat = targets.pos.double().numpy(), targets.quat.double().numpy()
    n = pos.shape[0]
    solved = np.zeros((n, tree.num_joints))
    solved_root = np.zeros((n, 7))
    start = time.perf_counter()
    for i in range(n):
        qpos = model.qpos0.copy()
        qpos[:3], qpos[3:7] = root_pos[i], root_quat[i]
        qpos[qadr] = joint_pos[i]
        configuration.update(qpos)
        for k, task in enumerate(tasks):
            task.set_target(mink.SE3(np.concatenate((quat[i, k], pos[i, k]))))
        for _ in range(iterations):
            vel = mink.solve_ik(configuration, tasks, 1.0, "daqp", damping=1e-3, limits=limits)
            configuration.integrate_inplace(vel, 1.0)
        solved[i] = configuration.q[qadr]
        solved_root[i] = configuration.q[:7]
    seconds = time.perf_counter() - start
    body_pos, _ = fk_reference(tree, torch.from_numpy(solved_root[:, :3]), torch.from_numpy(solved_root[:, 3:]),
                               torch.from_numpy(solved))
    err = (body_pos[:, targets.body_index.long()] - targets.pos.double()).norm(dim=-1).mean().item()
    return seconds, err


def bench_ik(num_problems: int = 4096, iterations: int = 3, clips: int = 16, frames: int = 1000,
             mink_problems: int = 200) -> list[dict]:
    """Records for single problems (4096) and sequences (16 clips × 1000 frames) per backend."""
    from mimiclab.robots.assets import g1_mjcf_path
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    tree = g1_kinematic_tree()
    records = []
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    targets, init, _ = reachable_problems(tree, TRACKED_BODIES, num_problems, seed=0, dtype=torch.float32)
    size = f"N={num_problems},K={len(TRACKED_BODIES)},iters={iterations}"
    for device in devices:
        dt = IkTargets(targets.body_index, targets.pos.to(device), targets.quat.to(device))
        di = tuple(x.to(device) for x in init)
        ref_per_frame = None
        runs = [("torch", 0)] + [(b, 0) for b in available_backends(device) if b != "torch"]
        if device == "cpu" and ("cpp", 0) in runs:
            runs.insert(runs.index(("cpp", 0)), ("cpp", 1))
        for backend, threads in runs:
            res, s = _timed(lambda: solve_ik(tree, dt, *di, iterations=iterations, backend=backend, num_threads=threads))
            label = f"{backend}-1thread" if threads == 1 else backend
            rec = _record("ik", label, device, size, s, num_problems, res.pos_error.mean().item(), ref_per_frame)
            ref_per_frame = ref_per_frame or s / num_problems
            records.append(rec)
        if device == "cpu":
            try:
                sub = IkTargets(targets.body_index, targets.pos[:mink_problems], targets.quat[:mink_problems])
                s, err = _mink_solve(tree, sub, tuple(x[:mink_problems] for x in init), iterations, str(g1_mjcf_path()))
                records.append(_record("ik", "mink", device, size, s, mink_problems, err, ref_per_frame))
            except ImportError:
                pass

    seq_targets, q_true, root_pos, root_quat = smooth_clips(tree, TRACKED_BODIES, clips, frames)
    seq_targets = IkTargets(seq_targets.body_index, seq_targets.pos.float(), seq_targets.quat.float())
    seq_init = (root_pos[:, 0].float(), root_quat[:, 0].float(), q_true[:, 0].float())
    size = f"C={clips},T={frames},K={len(TRACKED_BODIES)},iters={iterations}"
    for device in devices:
        dt = IkTargets(seq_targets.body_index, seq_targets.pos.to(device), seq_targets.quat.to(device))
        di = tuple(x.to(device) for x in seq_init)
        ref_per_frame = None
        for backend in ["torch"] + [b for b in available_backends(device) if b != "torch"]:
            res, s = _timed(lambda: solve_ik_sequence(tree, dt, *di, iterations=iterations, backend=backend))
            rec = _record("ik_sequence", backend, device, size, s, clips * frames, res.pos_error.mean().item(), ref_per_frame)
            ref_per_frame = ref_per_frame or s / (clips * frames)
            records.append(rec)
    return records
