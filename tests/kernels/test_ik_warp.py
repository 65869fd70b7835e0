"""Warp backend of the retargeting IK against the torch reference, on every Warp device here.

Tolerances (as for the C++ backend): float64 1e-9 on every output, float32 2e-3 (the LM steps of
float32 round differently; reachable targets are met to ~1e-6 either way). The iteration counts
must be equal: the problems below are not degenerate (no accept/reject decision on a cost tie).
The Warp module compiles once per process (cached on disk by Warp); every test reuses it. Without
a GPU the cuda variants skip, and the CUDA code of the kernel is still generated and compiled to
PTX (NVRTC) by the last test.
"""

from __future__ import annotations

import math

import pytest
import torch

from mimiclab.kernels import backends
from mimiclab.kernels.fk import fk_reference
from mimiclab.kernels.ik import IkTargets, JointPrior, ik_tree_tensors, solve_ik, solve_ik_sequence
from mimiclab.rotations.torch_ops import quat_mul
from mimiclab.robots.g1 import G1

pytestmark = pytest.mark.skipif(backends.warp_module() is None, reason="warp-lang is not installed")

BODIES = ("pelvis", "left_hip_roll_link", "right_hip_roll_link", "left_knee_link", "right_knee_link",
          "left_ankle_roll_link", "right_ankle_roll_link", "torso_link", "left_shoulder_roll_link",
          "right_shoulder_roll_link", "left_elbow_link", "right_elbow_link", "left_wrist_yaw_link",
          "right_wrist_yaw_link")
BODY_INDEX = torch.tensor([G1.body_names.index(b) for b in BODIES], dtype=torch.int32)
TOL = {torch.float64: 1e-9, torch.float32: 2e-3}
FIELDS = ("root_pos", "root_quat", "joint_pos", "pos_error", "rot_error")


def _has_warp_cuda() -> bool:
    return backends.warp_has_cuda() and torch.cuda.is_available()


DEVICES = [
    "cpu",
    pytest.param("cuda:0", marks=[pytest.mark.gpu, pytest.mark.skipif(
        not _has_warp_cuda(), reason="Warp sees no CUDA device (or torch has no CUDA): cuda variant skipped")]),
]


def _bounds(tree):
    return (torch.as_tensor(tree.joint_lower, dtype=torch.float64),
            torch.as_tensor(tree.joint_upper, dtype=torch.float64))


def _problems(tree, n, seed, dtype, noise=0.3):
    """n reachable problems: targets = FK of random poses within the limits (14 bodies, position +
    orientation); start = the truth with joints moved by U(±noise) rad, root by 5 cm and a tilt."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = _bounds(tree)
    f64 = torch.float64
    q = lo + (hi - lo) * torch.rand(n, tree.num_joints, generator=g, dtype=f64)
    rp = torch.tensor([0.0, 0.0, 0.8], dtype=f64) + 0.2 * torch.randn(n, 3, generator=g, dtype=f64)
    rq = torch.nn.functional.normalize(torch.randn(n, 4, generator=g, dtype=f64), dim=-1)
    body_pos, body_quat = fk_reference(tree, rp, rq, q)
    idx = BODY_INDEX.long()
    targets = IkTargets(BODY_INDEX, body_pos[:, idx].to(dtype), body_quat[:, idx].to(dtype))
    q0 = (q + noise * (2 * torch.rand(q.shape, generator=g, dtype=f64) - 1)).clamp(lo, hi)
    tilt = torch.cat((torch.ones(n, 1, dtype=f64), 0.05 * torch.randn(n, 3, generator=g, dtype=f64)), -1)
    rq0 = quat_mul(torch.nn.functional.normalize(tilt, dim=-1), rq)
    return targets, tuple(x.to(dtype) for x in (rp + 0.05, rq0, q0))


def _smooth_clips(tree, clips, frames, fps=30.0):
    """(C,T) targets of a sinusoidal joint motion inside the limits with a walking, yawing root."""
    lo, hi = _bounds(tree)
    f64 = torch.float64
    t = torch.arange(frames, dtype=f64) / fps
    phase = torch.linspace(0.0, math.pi, clips, dtype=f64)
    q = 0.5 * (lo + hi) + 0.25 * (hi - lo).clamp(max=1.0) * torch.sin(math.pi * t[None, :, None] + phase[:, None, None])
    rp = torch.stack((0.8 * t.expand(clips, -1), 0.05 * torch.sin(2 * math.pi * t).expand(clips, -1),
                      torch.full((clips, frames), 0.78, dtype=f64)), -1)
    yaw = 0.3 * torch.sin(t).expand(clips, -1)
    zero = torch.zeros_like(yaw)
    rq = torch.stack((torch.cos(yaw / 2), zero, zero, torch.sin(yaw / 2)), -1)
    body_pos, body_quat = fk_reference(tree, rp.reshape(-1, 3), rq.reshape(-1, 4), q.reshape(-1, tree.num_joints))
    shape = (clips, frames, len(BODIES))
    idx = BODY_INDEX.long()
    targets = IkTargets(BODY_INDEX, body_pos[:, idx].reshape(*shape, 3), body_quat[:, idx].reshape(*shape, 4))
    return targets, q, rp, rq


def _to(targets: IkTargets, device, dtype=None) -> IkTargets:
    def cast(x):
        return x.to(device=device, dtype=dtype or x.dtype)

    return IkTargets(targets.body_index.to(device), cast(targets.pos),
                     None if targets.quat is None else cast(targets.quat))


def _assert_matches(res, ref, dtype):
    for f in FIELDS:
        torch.testing.assert_close(getattr(res, f).cpu(), getattr(ref, f), atol=TOL[dtype], rtol=0, msg=f)
    assert torch.equal(res.iterations.cpu(), ref.iterations), "iterations differ"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_single_problems_match_reference(g1_tree, device, dtype):
    targets, init = _problems(g1_tree, 40, seed=11, dtype=dtype)
    kw = dict(iterations=4, posture=torch.zeros(G1.num_joints, dtype=dtype), posture_weight=1e-3,
              max_joint_step=0.25)
    ref = solve_ik(g1_tree, targets, *init, backend="torch", **kw)
    kw["posture"] = kw["posture"].to(device)
    res = solve_ik(g1_tree, _to(targets, device), *(x.to(device) for x in init), backend="warp", **kw)
    assert res.joint_pos.device.type == device.split(":")[0] and res.joint_pos.dtype == dtype
    assert res.joint_pos.shape == (40, G1.num_joints) and res.iterations.dtype == torch.int32
    _assert_matches(res, ref, dtype)


def _random_tree(num_bodies=12, seed=0):
    """A random topologically ordered tree: some fixed bodies, joint columns not in body order,
    arbitrary axes and anchors, limits ±1.5 rad."""
    import numpy as np

    from mimiclab.robots.kinematic_tree import KinematicTree

    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [rng.integers(0, b) for b in range(1, num_bodies)], np.int32)
    hinged = [b for b in range(1, num_bodies) if rng.random() < 0.8]
    joint_index = np.full(num_bodies, -1, np.int32)
    joint_index[hinged] = rng.permutation(len(hinged))
    quat = rng.normal(size=(num_bodies, 4))
    axis = rng.normal(size=(num_bodies, 3))
    J = len(hinged)
    return KinematicTree(tuple(f"b{i}" for i in range(num_bodies)), tuple(f"j{i}" for i in range(J)), parent,
                         joint_index, rng.normal(scale=0.3, size=(num_bodies, 3)),
                         quat / np.linalg.norm(quat, axis=1, keepdims=True),
                         axis / np.linalg.norm(axis, axis=1, keepdims=True), rng.normal(scale=0.1, size=(num_bodies, 3)),
                         np.full(J, -1.5), np.full(J, 1.5))


@pytest.mark.parametrize("orientation", [True, False])
def test_random_tree_with_offsets_matches_reference(orientation):
    """Any tree of hinges: targets on points attached to bodies (offsets), with or without
    orientation, per-target weights."""
    from mimiclab.rotations.torch_ops import quat_apply

    tree = _random_tree(seed=3)
    g = torch.Generator().manual_seed(4)
    n, f64 = 24, torch.float64
    body = torch.tensor([2, 5, 7, 9, 11], dtype=torch.int32)
    offset = 0.1 * torch.randn(len(body), 3, generator=g, dtype=f64)
    q = 3.0 * torch.rand(n, tree.num_joints, generator=g, dtype=f64) - 1.5
    rp = torch.randn(n, 3, generator=g, dtype=f64)
    rq = torch.nn.functional.normalize(torch.randn(n, 4, generator=g, dtype=f64), dim=-1)
    body_pos, body_quat = fk_reference(tree, rp, rq, q)
    bq = body_quat[:, body.long()]
    point = body_pos[:, body.long()] + quat_apply(bq, offset.expand(n, -1, -1))
    weights = torch.tensor([1.0, 0.5, 2.0, 1.0, 0.3], dtype=f64)
    targets = IkTargets(body, point, bq if orientation else None, offset, pos_weight=weights, rot_weight=0.2 * weights)
    init = (rp + 0.03, rq, (q + 0.2 * torch.randn(q.shape, generator=g, dtype=f64)).clamp(-1.5, 1.5))
    kw = dict(iterations=5, posture_weight=1e-4, max_joint_step=0.4)
    ref = solve_ik(tree, targets, *init, backend="torch", **kw)
    res = solve_ik(tree, targets, *init, backend="warp", **kw)
    _assert_matches(res, ref, f64)


def test_reachable_targets_are_reached(g1_tree):
    targets, init = _problems(g1_tree, 64, seed=12, dtype=torch.float32)
    res = solve_ik(g1_tree, targets, *init, iterations=10, backend="warp")
    assert (res.pos_error.mean(-1) < 1e-3).float().mean() >= 0.99
    assert ((res.iterations >= 1) & (res.iterations <= 10)).all()
    torch.testing.assert_close(res.root_quat.norm(dim=-1), torch.ones(64), atol=1e-6, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sequence_matches_reference(g1_tree, device, dtype):
    targets, q_true, rp, rq = _smooth_clips(g1_tree, clips=3, frames=10)
    lo, hi = _bounds(g1_tree)
    init = (rp[:, 0], rq[:, 0], (q_true[:, 0] + 0.05).clamp(lo, hi))
    kw = dict(iterations=2, first_frame_iterations=5, joint_velocity_limit=10.0, fps=30.0)
    if dtype == torch.float32:
        # at frame 0 the float32 steps reach the 1e-6 early-stop threshold at rounding level, where
        # the two roundings may stop one iteration apart: no early stop, so the counts must agree
        kw["tol"] = 0.0
    ref = solve_ik_sequence(g1_tree, _to(targets, "cpu", dtype), *(x.to(dtype) for x in init), backend="torch", **kw)
    res = solve_ik_sequence(g1_tree, _to(targets, device, dtype), *(x.to(device, dtype) for x in init),
                            backend="warp", **kw)
    assert res.joint_pos.shape == (3, 10, G1.num_joints) and res.iterations.shape == (3, 10)
    _assert_matches(res, ref, dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_limits_and_steps_are_never_violated(g1_tree, dtype):
    """Unreachable targets (right wrist 5 m away) and a start far off: q stays inside the joint
    limits and within max_step of the start (single problems) or of the previous frame."""
    targets, init = _problems(g1_tree, 24, seed=13, dtype=dtype, noise=0.8)
    targets.pos[:, -1] += torch.tensor([0.0, -5.0, 0.0], dtype=dtype)
    lo, hi = (b.to(dtype) for b in _bounds(g1_tree))
    res = solve_ik(g1_tree, targets, *init, iterations=8, max_joint_step=0.05, backend="warp")
    assert torch.isfinite(res.joint_pos).all() and (res.pos_error[:, -1] > 1.0).all()
    assert ((res.joint_pos >= lo) & (res.joint_pos <= hi)).all()
    assert ((res.joint_pos - init[2]).abs() <= 0.05 + 4 * torch.finfo(dtype).eps).all()

    seq_targets, q_true, rp, rq = _smooth_clips(g1_tree, clips=2, frames=8)
    seq_targets = _to(seq_targets, "cpu", dtype)
    seq_targets.pos[:, :, 5] += 1.0  # left ankle pulled 1 m away: the joints strain every frame
    step = 2.0 / 30.0
    seq = solve_ik_sequence(g1_tree, seq_targets, rp[:, 0].to(dtype), rq[:, 0].to(dtype),
                            q_true[:, 0].to(dtype), iterations=3, first_frame_iterations=6,
                            joint_velocity_limit=2.0, fps=30.0, backend="warp")
    assert ((seq.joint_pos >= lo) & (seq.joint_pos <= hi)).all()
    jumps = (seq.joint_pos[:, 1:] - seq.joint_pos[:, :-1]).abs()
    assert (jumps <= step + 4 * torch.finfo(dtype).eps).all()


def test_workspace_layout_does_not_change_results(g1_tree):
    """The interleaved workspace (the CUDA default) gives the same bits as clip-major rows."""
    from mimiclab.kernels.warp_ik import ik_solve_warp

    dtype = torch.float32
    targets, init = _problems(g1_tree, 16, seed=14, dtype=dtype)
    tt = ik_tree_tensors(g1_tree, "cpu", dtype)
    lo, hi = (b.to(dtype).contiguous() for b in _bounds(g1_tree))
    tg = {"body_index": BODY_INDEX, "offset": torch.zeros(len(BODIES), 3, dtype=dtype),
          "pos": targets.pos[:, None].contiguous(), "quat": targets.quat[:, None].contiguous(),
          "pos_weight": torch.ones(16, 1, len(BODIES), dtype=dtype),
          "rot_weight": torch.full((16, 1, len(BODIES)), 0.1, dtype=dtype)}
    start = {"root_pos": init[0], "root_quat": init[1], "joint_pos": init[2], "posture": init[2]}
    params = {"iterations": 3, "first_iterations": 3, "damping": 1e-3, "tol": 1e-6, "posture_weight": 0.0,
              "velocity_weight": 0.1, "acceleration_weight": 0.0, "limit_first_frame": True}
    prior = _narrow_prior(dtype)[0]
    prior = {"prior_lower": prior.lower, "prior_upper": prior.upper, "prior_weight": prior.weight}
    step = torch.full_like(lo, 0.3)
    a = ik_solve_warp(tt, lo, hi, step, tg, start, params, prior=prior, interleave_workspace=False)
    b = ik_solve_warp(tt, lo, hi, step, tg, start, params, prior=prior, interleave_workspace=True)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_bad_inputs_fail_clearly(g1_tree):
    from mimiclab.kernels.warp_ik import ik_solve_warp

    targets, init = _problems(g1_tree, 4, seed=15, dtype=torch.float32)
    rp, rq, q = init
    half = IkTargets(BODY_INDEX, targets.pos.half(), targets.quat.half())
    with pytest.raises(ValueError, match="root_pos: expected dtype float32 or float64, got float16"):
        solve_ik(g1_tree, half, rp.half(), rq.half(), q.half(), backend="warp")
    with pytest.raises(ValueError, match="root_quat: expected dtype float32"):
        solve_ik(g1_tree, targets, rp, rq.double(), q, backend="warp")
    with pytest.raises(ValueError, match=r"joint_pos: expected shape \(4, 29\)"):
        solve_ik(g1_tree, targets, rp, rq, q[:, :28], backend="warp")
    with pytest.raises(ValueError, match="targets: empty sequence batch"):
        solve_ik_sequence(g1_tree, IkTargets(BODY_INDEX, targets.pos[None, :0]), rp[:1], rq[:1], q[:1],
                          backend="warp")
    # the direct entry point checks on its own
    tt = ik_tree_tensors(g1_tree, "cpu", torch.float32)
    lo, hi = (b.float().contiguous() for b in _bounds(g1_tree))
    tg = {"body_index": BODY_INDEX, "offset": torch.zeros(len(BODIES), 3), "pos": targets.pos[:, None].contiguous(),
          "quat": targets.quat[:, None].contiguous(), "pos_weight": torch.ones(4, 1, len(BODIES)),
          "rot_weight": torch.ones(4, 1, len(BODIES))}
    start = {"root_pos": rp, "root_quat": rq, "joint_pos": q, "posture": q}
    params = {"iterations": 2, "first_iterations": 2, "damping": 1e-3, "tol": 1e-6, "posture_weight": 0.0,
              "velocity_weight": 0.0, "acceleration_weight": 0.0, "limit_first_frame": True}
    step = torch.full_like(lo, math.inf)
    with pytest.raises(ValueError, match="target pos: expected dtype float32 or float64, got float16"):
        ik_solve_warp(tt, lo, hi, step, {**tg, "pos": tg["pos"].half()}, start, params)
    with pytest.raises(ValueError, match="init posture: expected dtype float32, got float64"):
        ik_solve_warp(tt, lo, hi, step, tg, {**start, "posture": q.double()}, params)
    with pytest.raises(ValueError, match=r"init joint_pos: expected shape \(4, 29\), got \(4, 28\)"):
        ik_solve_warp(tt, lo, hi, step, tg, {**start, "joint_pos": q[:, :28].contiguous()}, params)
    with pytest.raises(ValueError, match="body_index: target 1 refers to body 99 outside the tree"):
        ik_solve_warp(tt, lo, hi, step, {**tg, "body_index": torch.tensor([0, 99] + [1] * 12, dtype=torch.int32)},
                      start, params)
    with pytest.raises(ValueError, match="tensor must be contiguous"):
        ik_solve_warp(tt, lo, hi, step, tg, {**start, "joint_pos": q.t().contiguous().t()}, params)
    with pytest.raises(ValueError, match="iterations: must be >= 1"):
        ik_solve_warp(tt, lo, hi, step, tg, start, {**params, "first_iterations": 0})
    bad_tree = {**tt, "anc_joints": tt["anc_joints"].flip(1).contiguous()}
    with pytest.raises(ValueError, match="anc_joints: must list valid joints in ascending order"):
        ik_solve_warp(bad_tree, lo, hi, step, tg, start, params)
    # the smoothness weights and the prior
    with pytest.raises(ValueError, match="params: missing velocity_weight, acceleration_weight"):
        ik_solve_warp(tt, lo, hi, step, tg, start, {k: v for k, v in params.items()
                                                       if k not in ("velocity_weight", "acceleration_weight")})
    with pytest.raises(ValueError, match="acceleration_weight: must be finite and >= 0"):
        ik_solve_warp(tt, lo, hi, step, tg, start, {**params, "acceleration_weight": -1.0})
    with pytest.raises(ValueError, match="velocity_weight: must be finite and >= 0"):
        ik_solve_warp(tt, lo, hi, step, tg, start, {**params, "velocity_weight": math.nan})
    pr = {"prior_lower": -torch.ones(29), "prior_upper": torch.ones(29), "prior_weight": torch.full((29,), 0.5)}
    ik_solve_warp(tt, lo, hi, step, tg, start, params, prior=pr)  # valid
    with pytest.raises(ValueError, match="prior: missing prior_weight"):
        ik_solve_warp(tt, lo, hi, step, tg, start, params, prior={k: v for k, v in pr.items() if k != "prior_weight"})
    with pytest.raises(TypeError, match="prior: expected a dict"):
        ik_solve_warp(tt, lo, hi, step, tg, start, params, prior=(pr["prior_lower"], pr["prior_upper"]))
    with pytest.raises(ValueError, match=r"prior_lower: expected shape \(29,\), got \(28,\)"):
        ik_solve_warp(tt, lo, hi, step, tg, start, params, prior={**pr, "prior_lower": pr["prior_lower"][:28]})
    with pytest.raises(ValueError, match="prior_upper: expected dtype float32, got float64"):
        ik_solve_warp(tt, lo, hi, step, tg, start, params, prior={**pr, "prior_upper": pr["prior_upper"].double()})
    with pytest.raises(ValueError, match="prior_weight: must be finite and >= 0 \\(joint 3\\)"):
        w = pr["prior_weight"].clone()
        w[3] = -0.1
        ik_solve_warp(tt, lo, hi, step, tg, start, params, prior={**pr, "prior_weight": w})
    with pytest.raises(ValueError, match="prior_lower, prior_upper: NaN or lower > upper \\(joint 2\\)"):
        a = pr["prior_lower"].clone()
        a[2] = 2.0
        ik_solve_warp(tt, lo, hi, step, tg, start, params, prior={**pr, "prior_lower": a})
    if _has_warp_cuda():
        with pytest.raises(ValueError, match="prior_weight: expected device cpu, got cuda:0"):
            ik_solve_warp(tt, lo, hi, step, tg, start, params, prior={**pr, "prior_weight": pr["prior_weight"].cuda()})


def _narrow_prior(dtype=torch.float64):
    """The anatomical prior holds both hip yaws and the waist yaw within ±0.05 rad and the knees
    below 0.3 rad (free below), weight 0.5; the other joints carry none (weight 0, ±inf)."""
    J = G1.num_joints
    lo = torch.full((J,), -math.inf, dtype=dtype)
    hi = torch.full((J,), math.inf, dtype=dtype)
    w = torch.zeros(J, dtype=dtype)
    held = [G1.joint_names.index(n) for n in ("left_hip_yaw_joint", "right_hip_yaw_joint", "waist_yaw_joint")]
    for j in held:
        lo[j], hi[j], w[j] = -0.05, 0.05, 0.5
    for name in ("left_knee_joint", "right_knee_joint"):
        j = G1.joint_names.index(name)
        hi[j], w[j] = 0.3, 0.5
    return JointPrior(lo, hi, w), held


def _prior_to(prior: JointPrior, device) -> JointPrior:
    return JointPrior(prior.lower.to(device), prior.upper.to(device), prior.weight.to(device))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_prior_and_velocity_cost_match_reference(g1_tree, device, dtype):
    """solve_ik with the anatomical prior (the random targets pull the held joints outside their
    narrow ranges) and the velocity cost toward the (projected) initial q."""
    targets, init = _problems(g1_tree, 40, seed=21, dtype=dtype)
    prior, held = _narrow_prior(dtype)
    assert ((init[2][:, held].abs() > 0.05).float().mean() > 0.5)  # the prior is active
    kw = dict(iterations=4, posture=torch.zeros(G1.num_joints, dtype=dtype), posture_weight=1e-3,
              velocity_weight=0.05, max_joint_step=0.25, prior=prior)
    if dtype == torch.float32:
        kw["tol"] = 0.0  # no early stop decided at rounding level: the iteration counts must agree
    ref = solve_ik(g1_tree, targets, *init, backend="torch", **kw)
    kw.update(posture=kw["posture"].to(device), prior=_prior_to(prior, device))
    res = solve_ik(g1_tree, _to(targets, device), *(x.to(device) for x in init), backend="warp", **kw)
    _assert_matches(res, ref, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sequence_smoothness_and_prior_match_reference(g1_tree, device, dtype):
    """solve_ik_sequence over 8 frames with every cost: posture, velocity (from frame 1),
    acceleration (from frame 2) and the prior."""
    targets, q_true, rp, rq = _smooth_clips(g1_tree, clips=3, frames=8)
    lo, hi = _bounds(g1_tree)
    init = (rp[:, 0], rq[:, 0], (q_true[:, 0] + 0.05).clamp(lo, hi))
    prior, _ = _narrow_prior(dtype)
    kw = dict(iterations=2, first_frame_iterations=5, joint_velocity_limit=10.0, fps=30.0, posture_weight=1e-3,
              velocity_weight=0.02, acceleration_weight=0.01)
    if dtype == torch.float32:
        kw["tol"] = 0.0  # as in test_sequence_matches_reference
    ref = solve_ik_sequence(g1_tree, _to(targets, "cpu", dtype), *(x.to(dtype) for x in init), backend="torch",
                            prior=prior, **kw)
    res = solve_ik_sequence(g1_tree, _to(targets, device, dtype), *(x.to(device, dtype) for x in init),
                            backend="warp", prior=_prior_to(prior, device), **kw)
    assert res.joint_pos.shape == (3, 8, G1.num_joints)
    _assert_matches(res, ref, dtype)
    # the smoothness costs change the solution (they are not silently ignored)
    plain = solve_ik_sequence(g1_tree, _to(targets, device, dtype), *(x.to(device, dtype) for x in init),
                              backend="warp", prior=_prior_to(prior, device),
                              **{**kw, "velocity_weight": 0.0, "acceleration_weight": 0.0})
    no_acc = solve_ik_sequence(g1_tree, _to(targets, device, dtype), *(x.to(device, dtype) for x in init),
                               backend="warp", prior=_prior_to(prior, device), **{**kw, "acceleration_weight": 0.0})
    assert torch.equal(plain.joint_pos[:, 0], res.joint_pos[:, 0])  # frame 0: no previous frame
    assert not torch.equal(plain.joint_pos[:, 1], res.joint_pos[:, 1])
    assert torch.equal(no_acc.joint_pos[:, :2], res.joint_pos[:, :2])  # acceleration from frame 2 on
    assert not torch.equal(no_acc.joint_pos[:, 2], res.joint_pos[:, 2])


def test_prior_pulls_joints_into_its_range(g1_tree):
    """Targets of random poses pull the hip and waist yaws far outside ±0.05 rad: with the prior
    the Warp solution stays much closer to that range."""
    targets, init = _problems(g1_tree, 32, seed=22, dtype=torch.float64)
    prior, held = _narrow_prior()
    free = solve_ik(g1_tree, targets, *init, iterations=10, backend="warp")
    kept = solve_ik(g1_tree, targets, *init, iterations=10, backend="warp", prior=prior)
    excess = lambda q: (q[:, held].abs() - 0.05).clamp_min(0).mean()  # noqa: E731
    assert excess(free.joint_pos) > 0.1
    assert excess(kept.joint_pos) < 0.5 * excess(free.joint_pos)


def test_cuda_code_generates_without_a_gpu(tmp_path):
    """Warp's CUDA code for both overloads compiles (NVRTC, to PTX for sm_90) on any machine."""
    import warp as wp

    from mimiclab.kernels import warp_ik  # noqa: F401  (registers the module)

    if not wp._src.context.runtime.core.wp_is_cuda_enabled():
        pytest.skip("this warp-lang build has no CUDA support")
    paths = wp.compile_aot_module("mimiclab.kernels.warp_ik", arch=90, module_dir=tmp_path, use_ptx=True)
    assert paths and all(p.exists() and p.stat().st_size > 0 for p in paths)
