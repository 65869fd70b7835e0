"""Retargeting IK front-end: batched problems and sequences, torch reference / C++ / CUDA.

    result = solve_ik(tree, targets, root_pos, root_quat, joint_pos)           # N problems
    result = solve_ik_sequence(tree, targets, root_pos, root_quat, joint_pos)  # C clips × T frames

The algorithm (Levenberg–Marquardt, projected joint limits) is documented in
:mod:`mimiclab.kernels.ik_reference`. Tensors may be torch or numpy; every float input must share
one dtype (float32/float64) and device; the backend follows the device unless `backend=` says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from mimiclab.kernels import backends
from mimiclab.kernels.buffers import as_buffer
from mimiclab.kernels.checks import as_tensor, check_tensor, resolve_backend
from mimiclab.kernels.fk import tree_tensors
from mimiclab.kernels.ik_reference import ancestor_mask, ik_reference, regulariser


_PER_PROBLEM = ("pos", "quat", "pos_weight", "rot_weight")  # target fields with a leading batch shape
_RESULT_FIELDS = ("root_pos", "root_quat", "joint_pos", "pos_error", "rot_error", "iterations")


@dataclass
class IkTargets:
    """K keypoint targets. body_index (K,) bodies of the tree; offset (K,3) [m] point in the body
    frame (zeros: the body origin); pos (...,K,3) [m]; quat (...,K,4) wxyz or None (position only);
    pos_weight / rot_weight: (K,) or (...,K) (rot_weight is ignored without quat)."""

    body_index: torch.Tensor
    pos: torch.Tensor
    quat: torch.Tensor | None = None
    offset: torch.Tensor | None = None
    pos_weight: torch.Tensor | float = 1.0
    rot_weight: torch.Tensor | float = 0.1


@dataclass
class JointPrior:
    """Anatomical prior: cost weight·(q − clamp(q, lower, upper))² per joint. lower/upper (J,) [rad]
    (±inf: free on that side), weight (J,) ≥ 0."""

    lower: torch.Tensor
    upper: torch.Tensor
    weight: torch.Tensor


@dataclass
class IkResult:
    """root_pos (...,3) [m], root_quat (...,4) wxyz, joint_pos (...,J) [rad], pos_error (...,K) [m],
    rot_error (...,K) [rad], iterations (...) int32 — linearisations used per problem."""

    root_pos: torch.Tensor
    root_quat: torch.Tensor
    joint_pos: torch.Tensor
    pos_error: torch.Tensor
    rot_error: torch.Tensor
    iterations: torch.Tensor


def ik_tree_tensors(tree, device, dtype) -> dict[str, torch.Tensor]:
    """FK tree tensors plus, per body, the ascending list of joints that move it (cached)."""
    tt = tree_tensors(tree, device, dtype)
    if "anc_joints" not in tt:
        mask = ancestor_mask(tree)  # (B,J)
        B, J = mask.shape
        anc = torch.full((B, J), -1, dtype=torch.int32)
        for b in range(B):
            joints = torch.nonzero(mask[b]).flatten()
            anc[b, : len(joints)] = joints.to(torch.int32)
        body_of_joint = torch.empty(J, dtype=torch.int32)
        for b, j in enumerate(tree.joint_index.tolist()):
            if j >= 0:
                body_of_joint[j] = b
        tt["anc_joints"] = anc.to(device).contiguous()
        tt["anc_count"] = mask.sum(1).to(torch.int32).to(device).contiguous()
        tt["body_of_joint"] = body_of_joint.to(device).contiguous()
    return tt


def _prepare_targets(tree, targets: IkTargets, lead: tuple[int, ...], dtype, device) -> dict[str, torch.Tensor]:
    """Validated target tensors with leading shape `lead` (e.g. (N,) or (C,T))."""
    body_index = as_tensor("body_index", targets.body_index, device).to(torch.int32)
    if body_index.dim() != 1:
        raise ValueError(f"body_index: expected shape (K,), got {tuple(body_index.shape)}")
    K = body_index.shape[0]
    if K == 0:
        raise ValueError("targets: need at least one target")
    if body_index.min() < 0 or body_index.max() >= tree.num_bodies:
        raise ValueError(f"body_index: values must lie in [0, {tree.num_bodies}) for this tree")
    pos = as_tensor("target pos", targets.pos, device)
    check_tensor("target pos", pos, (*lead, K, 3), dtypes=(dtype,))
    if targets.quat is None:
        quat = torch.zeros(*lead, K, 4, dtype=dtype, device=device)
        quat[..., 0] = 1.0
        rot_weight = torch.zeros(*lead, K, dtype=dtype, device=device)
    else:
        quat = as_tensor("target quat", targets.quat, device)
        check_tensor("target quat", quat, (*lead, K, 4), dtypes=(dtype,))
        norm = quat.norm(dim=-1)
        if (norm < 1e-6).any():
            raise ValueError("target quat: contains zero quaternions")
        quat = quat / norm[..., None]
        rot_weight = _weights("rot_weight", targets.rot_weight, lead, K, dtype, device)
    offset = (torch.zeros(K, 3, dtype=dtype, device=device) if targets.offset is None
              else as_tensor("offset", targets.offset, device))
    check_tensor("offset", offset, (K, 3), dtypes=(dtype,))
    return {"body_index": body_index.contiguous(), "offset": offset.contiguous(),
            "pos": pos.contiguous(), "quat": quat.contiguous(),
            "pos_weight": _weights("pos_weight", targets.pos_weight, lead, K, dtype, device),
            "rot_weight": rot_weight.contiguous()}


def _weights(name, w, lead, K, dtype, device) -> torch.Tensor:
    w = torch.as_tensor(w, dtype=dtype, device=device) if not isinstance(w, torch.Tensor) else w.to(device)
    if w.dtype != dtype:
        raise ValueError(f"{name}: expected dtype {dtype}, got {w.dtype}")
    try:
        w = w.expand(*lead, K).contiguous()
    except RuntimeError:
        raise ValueError(f"{name}: shape {tuple(w.shape)} does not broadcast to {(*lead, K)}") from None
    if not torch.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{name}: weights must be finite and >= 0")
    return w


def _joint_bounds(tree, dtype, device, max_step) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    lower = torch.as_tensor(tree.joint_lower, dtype=dtype, device=device)
    upper = torch.as_tensor(tree.joint_upper, dtype=dtype, device=device)
    step = torch.full_like(lower, math.inf) if max_step is None else torch.as_tensor(max_step, dtype=dtype, device=device).expand_as(lower).contiguous()
    if (step <= 0).any() or torch.isnan(step).any():
        raise ValueError("max_joint_step: must be > 0 (rad per frame)")
    return lower.contiguous(), upper.contiguous(), step


def _check_state(root_pos, root_quat, joint_pos, lead, J):
    root_pos = as_tensor("root_pos", root_pos)
    dtype, device = root_pos.dtype, root_pos.device
    check_tensor("root_pos", root_pos, (*lead, 3))
    root_quat = as_tensor("root_quat", root_quat, device)
    check_tensor("root_quat", root_quat, (*lead, 4), dtypes=(dtype,))
    joint_pos = as_tensor("joint_pos", joint_pos, device)
    check_tensor("joint_pos", joint_pos, (*lead, J), dtypes=(dtype,))
    if (root_quat.norm(dim=-1) < 1e-6).any():
        raise ValueError("root_quat: contains zero quaternions")
    return root_pos.contiguous(), root_quat.contiguous(), joint_pos.contiguous()


def _posture(posture, joint_pos, lead, J):
    if posture is None:
        return joint_pos
    p = as_tensor("posture", posture, joint_pos.device)
    if p.dtype != joint_pos.dtype:
        raise ValueError(f"posture: expected dtype {joint_pos.dtype}, got {p.dtype}")
    try:
        p = p.expand(*lead, J).contiguous()
    except RuntimeError:
        raise ValueError(f"posture: shape {tuple(p.shape)} does not broadcast to {(*lead, J)}") from None
    check_tensor("posture", p, (*lead, J), dtypes=(joint_pos.dtype,))
    return p


def _prior(prior: JointPrior | None, J: int, dtype, device) -> dict[str, torch.Tensor]:
    """Validated prior tensors (J,) lower/upper/weight; a zero-weight free prior when None."""
    if prior is None:
        inf = torch.full((J,), math.inf, dtype=dtype, device=device)
        return {"prior_lower": -inf, "prior_upper": inf.clone(), "prior_weight": torch.zeros(J, dtype=dtype, device=device)}
    out = {}
    for name, v in (("lower", prior.lower), ("upper", prior.upper), ("weight", prior.weight)):
        t = torch.as_tensor(v, dtype=dtype, device=device)
        if t.shape != (J,):
            raise ValueError(f"prior {name}: expected shape ({J},), got {tuple(t.shape)}")
        if torch.isnan(t).any():
            raise ValueError(f"prior {name}: contains NaN")
        out[f"prior_{name}"] = t.contiguous()
    w = out["prior_weight"]
    if not torch.isfinite(w).all() or (w < 0).any():
        raise ValueError("prior weight: must be finite and >= 0")
    if (out["prior_lower"] > out["prior_upper"]).any():
        raise ValueError("prior: lower > upper for some joint")
    return out


def _check_weights(**weights: float) -> None:
    for name, w in weights.items():
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"{name}: must be finite and >= 0, got {w}")


def _reference_prior(pr: dict[str, torch.Tensor]):
    return None if not (pr["prior_weight"] > 0).any() else (pr["prior_lower"], pr["prior_upper"], pr["prior_weight"])


def solve_ik(tree, targets: IkTargets, root_pos, root_quat, joint_pos, iterations: int = 3,
             damping: float = 1e-3, posture=None, posture_weight: float = 0.0, max_joint_step=None,
             tol: float = 1e-6, backend: str = "auto", num_threads: int = 0, prior: JointPrior | None = None,
             velocity_weight: float = 0.0) -> IkResult:
    """Solve N independent problems from the initial state (root_pos (N,3), root_quat (N,4),
    joint_pos (N,J)). max_joint_step: (J,) or scalar [rad] largest change from the initial q;
    posture (N,J) or (J,) (default: the initial q) pulled with posture_weight; velocity_weight pulls
    toward the initial q (the previous frame); prior: the anatomical prior. num_threads: C++
    threads (0: all cores)."""
    if iterations < 1:
        raise ValueError("iterations: must be >= 1")
    _check_weights(posture_weight=posture_weight, velocity_weight=velocity_weight)
    rp = as_tensor("root_pos", root_pos)
    if rp.dim() != 2:
        raise ValueError(f"root_pos: expected shape (N, 3), got {tuple(rp.shape)}")
    N, J = rp.shape[0], tree.num_joints
    root_pos, root_quat, joint_pos = _check_state(rp, root_quat, joint_pos, (N,), J)
    dtype, device = root_pos.dtype, root_pos.device
    tg = _prepare_targets(tree, targets, (N,), dtype, device)
    lower, upper, step = _joint_bounds(tree, dtype, device, max_joint_step)
    posture = _posture(posture, joint_pos, (N,), J)
    pr = _prior(prior, J, dtype, device)
    backend = resolve_backend(backend, device)
    weights = {"posture_weight": float(posture_weight), "velocity_weight": float(velocity_weight),
               "acceleration_weight": 0.0}
    if N == 0:
        K = tg["body_index"].shape[0]
        e = torch.empty(0, K, dtype=dtype, device=device)
        return IkResult(root_pos.clone(), root_quat.clone(), joint_pos.clone(), e, e.clone(),
                        torch.empty(0, dtype=torch.int32, device=device))
    if backend == "warp":
        from mimiclab.kernels.warp_ik import ik_solve_warp

        out = ik_solve_warp(ik_tree_tensors(tree, device, dtype), lower, upper, step,
                            {k: (v[:, None] if k in _PER_PROBLEM else v) for k, v in tg.items()},  # N clips of 1 frame
                            {"root_pos": root_pos, "root_quat": root_quat, "joint_pos": joint_pos, "posture": posture},
                            {"iterations": int(iterations), "first_iterations": int(iterations),
                             "damping": float(damping), "tol": float(tol), **weights,
                             "limit_first_frame": True}, prior=pr)
        return IkResult(*(out[f][:, 0] for f in _RESULT_FIELDS))
    if backend == "torch":
        lo = torch.maximum(lower, joint_pos - step)
        hi = torch.minimum(upper, joint_pos + step)
        q1 = torch.minimum(torch.maximum(joint_pos, lo), hi)
        m, mu = regulariser(posture, float(posture_weight), float(velocity_weight), 0.0, q1=q1)
        out = ik_reference(tree, tg, root_pos, root_quat, joint_pos, lo, hi, m, mu,
                           int(iterations), float(damping), float(tol), prior=_reference_prior(pr))
        return IkResult(*out)
    tg = {k: (v[:, None] if k in _PER_PROBLEM else v) for k, v in tg.items()}  # N clips of 1 frame
    out = _solve_compiled(backend, tree, tg, root_pos, root_quat, joint_pos, lower, upper, step, posture,
                          weights, pr, iterations, iterations, damping, tol, limit_first_frame=True,
                          num_threads=num_threads)
    return IkResult(*(getattr(out, f)[:, 0] for f in _RESULT_FIELDS))


def solve_ik_sequence(tree, targets: IkTargets, root_pos, root_quat, joint_pos, iterations: int = 3,
                      first_frame_iterations: int = 20, damping: float = 1e-3, posture=None,
                      posture_weight: float = 0.0, joint_velocity_limit=None, fps: float = 50.0,
                      tol: float = 1e-6, backend: str = "auto", num_threads: int = 0,
                      prior: JointPrior | None = None, velocity_weight: float = 0.0,
                      acceleration_weight: float = 0.0) -> IkResult:
    """C clips × T frames: targets.pos (C,T,K,3) (quat (C,T,K,4), weights (K,) or (C,T,K)).
    Frame 0 starts from root_pos (C,3), root_quat (C,4), joint_pos (C,J) with
    `first_frame_iterations`; every later frame warm-starts from the previous frame's solution with
    `iterations`, and q moves at most joint_velocity_limit (J,) or scalar [rad/s] / fps per frame.
    velocity_weight / acceleration_weight: temporal smoothness costs on q − q₁ and q − 2q₁ + q₂
    (previous frames' solutions); prior: the anatomical prior (JointPrior).
    Clips are solved in parallel, frames in order. Outputs have leading shape (C,T)."""
    if iterations < 1 or first_frame_iterations < 1:
        raise ValueError("iterations: must be >= 1")
    _check_weights(posture_weight=posture_weight, velocity_weight=velocity_weight,
                   acceleration_weight=acceleration_weight)
    if fps <= 0 or not math.isfinite(fps):
        raise ValueError("fps: must be a positive number")
    pos = as_tensor("target pos", targets.pos)
    if pos.dim() != 4:
        raise ValueError(f"target pos: expected shape (C, T, K, 3), got {tuple(pos.shape)}")
    C, T = pos.shape[:2]
    J = tree.num_joints
    root_pos, root_quat, joint_pos = _check_state(root_pos, root_quat, joint_pos, (C,), J)
    dtype, device = root_pos.dtype, root_pos.device
    tg = _prepare_targets(tree, targets, (C, T), dtype, device)
    step = None if joint_velocity_limit is None else torch.as_tensor(joint_velocity_limit, dtype=dtype) / fps
    lower, upper, step = _joint_bounds(tree, dtype, device, step)
    posture = _posture(posture, joint_pos, (C,), J)
    pr = _prior(prior, J, dtype, device)
    backend = resolve_backend(backend, device)
    weights = {"posture_weight": float(posture_weight), "velocity_weight": float(velocity_weight),
               "acceleration_weight": float(acceleration_weight)}
    if C == 0 or T == 0:
        raise ValueError(f"targets: empty sequence batch (C={C}, T={T})")
    if backend == "warp":
        from mimiclab.kernels.warp_ik import ik_solve_warp

        out = ik_solve_warp(ik_tree_tensors(tree, device, dtype), lower, upper, step, tg,
                            {"root_pos": root_pos, "root_quat": root_quat, "joint_pos": joint_pos, "posture": posture},
                            {"iterations": int(iterations), "first_iterations": int(first_frame_iterations),
                             "damping": float(damping), "tol": float(tol), **weights,
                             "limit_first_frame": False}, prior=pr)
        return IkResult(*(out[f] for f in _RESULT_FIELDS))
    if backend == "torch":
        return _sequence_reference(tree, tg, root_pos, root_quat, joint_pos, lower, upper, step, posture,
                                   weights, pr, iterations, first_frame_iterations, damping, tol)
    return _solve_compiled(backend, tree, tg, root_pos, root_quat, joint_pos, lower, upper, step,
                           posture, weights, pr, iterations, first_frame_iterations, damping, tol,
                           limit_first_frame=False, num_threads=num_threads)


def _sequence_reference(tree, tg, root_pos, root_quat, joint_pos, lower, upper, step, posture,
                        weights, pr, iterations, first_iterations, damping, tol) -> IkResult:
    C, T = tg["pos"].shape[:2]
    rp, rq, q = root_pos, root_quat, joint_pos
    prior = _reference_prior(pr)
    frames = []
    q2 = None
    for t in range(T):
        frame = {k: (v[:, t] if k in _PER_PROBLEM else v) for k, v in tg.items()}
        lo = torch.maximum(lower, q - step) if t > 0 else lower.expand_as(q)
        hi = torch.minimum(upper, q + step) if t > 0 else upper.expand_as(q)
        q1 = q if t > 0 else None
        m, mu = regulariser(posture, weights["posture_weight"], weights["velocity_weight"],
                            weights["acceleration_weight"], q1=q1, q2=q2 if t > 1 else None)
        out = ik_reference(tree, frame, rp, rq, q, lo, hi, m, mu,
                           int(first_iterations if t == 0 else iterations), float(damping), float(tol), prior=prior)
        q2 = q
        rp, rq, q = out[0], out[1], out[2]
        frames.append(out)
    return IkResult(*(torch.stack([f[i] for f in frames], dim=1) for i in range(6)))


def _solve_compiled(backend, tree, tg, root_pos, root_quat, joint_pos, lower, upper, step, posture,
                    weights, pr, iterations, first_iterations, damping, tol,
                    limit_first_frame: bool, num_threads: int = 0) -> IkResult:
    """Run the C++/CUDA kernel on (C,T) problems; C clips in parallel, T frames in order."""
    dtype, device = root_pos.dtype, root_pos.device
    C, T, K = tg["pos"].shape[:3]
    J = tree.num_joints
    out = {"root_pos": torch.empty(C, T, 3, dtype=dtype, device=device),
           "root_quat": torch.empty(C, T, 4, dtype=dtype, device=device),
           "joint_pos": torch.empty(C, T, J, dtype=dtype, device=device),
           "pos_error": torch.empty(C, T, K, dtype=dtype, device=device),
           "rot_error": torch.empty(C, T, K, dtype=dtype, device=device),
           "iterations": torch.empty(C, T, dtype=torch.int32, device=device)}
    tree_buf = {k: as_buffer(k, v) for k, v in ik_tree_tensors(tree, device, dtype).items()
                if not k.startswith("_")}
    bounds = {"lower": as_buffer("lower", lower), "upper": as_buffer("upper", upper),
              "max_step": as_buffer("max_step", step), **{k: as_buffer(k, v) for k, v in pr.items()}}
    target_buf = {k: as_buffer(k, v) for k, v in tg.items()}
    init_buf = {"root_pos": as_buffer("root_pos", root_pos), "root_quat": as_buffer("root_quat", root_quat),
                "joint_pos": as_buffer("joint_pos", joint_pos), "posture": as_buffer("posture", posture)}
    out_buf = {k: as_buffer(k, v) for k, v in out.items()}
    params = {"iterations": int(iterations), "first_iterations": int(first_iterations),
              "damping": float(damping), "tol": float(tol), **weights,
              "limit_first_frame": bool(limit_first_frame)}
    if backend == "cpp":
        backends.cpp_module().ik_solve(tree_buf, bounds, target_buf, init_buf, out_buf, params,
                                       num_threads=num_threads)
    else:
        module = backends.cuda_module()
        size = module.ik_workspace_size(tree.num_bodies, J, K)
        workspace = torch.empty(C, size, dtype=dtype, device=device)
        with torch.cuda.device(device):
            module.ik_solve(tree_buf, bounds, target_buf, init_buf, out_buf, params,
                            as_buffer("workspace", workspace))
    return IkResult(out["root_pos"], out["root_quat"], out["joint_pos"], out["pos_error"],
                    out["rot_error"], out["iterations"])
