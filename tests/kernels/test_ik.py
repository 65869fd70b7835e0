"""Retargeting IK: C++ (and CUDA) equal the torch reference; reachable targets are reached; joint
limits and per-frame steps are never violated; sequences are smooth; bad input fails clearly."""

from __future__ import annotations

import math

import pytest
import torch

from mimiclab.bench.problems import TRACKED_BODIES, reachable_problems, smooth_clips
from mimiclab.kernels.backends import cuda_device_count
from mimiclab.kernels.fk import fk_reference
from mimiclab.kernels.ik import IkTargets, solve_ik, solve_ik_sequence
from mimiclab.robots.g1 import G1

BODY_INDEX = torch.tensor([G1.body_names.index(b) for b in TRACKED_BODIES], dtype=torch.int32)
TRACKED = TRACKED_BODIES


def _limits(tree, dtype=torch.float64):
    return torch.as_tensor(tree.joint_lower, dtype=dtype), torch.as_tensor(tree.joint_upper, dtype=dtype)


def _reachable(tree, n, seed, dtype=torch.float64, init_noise=0.3):
    return reachable_problems(tree, TRACKED_BODIES, n, seed, dtype=dtype, init_noise=init_noise)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-9), (torch.float32, 2e-3)])
def test_cpp_matches_reference(g1_tree, dtype, tol):
    targets, init, _ = _reachable(g1_tree, 48, seed=1, dtype=dtype)
    kwargs = dict(iterations=4, posture=torch.zeros(G1.num_joints, dtype=dtype), posture_weight=1e-3,
                  max_joint_step=0.25)
    ref = solve_ik(g1_tree, targets, *init, backend="torch", **kwargs)
    cpp = solve_ik(g1_tree, targets, *init, backend="cpp", **kwargs)
    for field in ("root_pos", "root_quat", "joint_pos", "pos_error", "rot_error"):
        torch.testing.assert_close(getattr(cpp, field), getattr(ref, field), atol=tol, rtol=0, msg=field)
    assert torch.equal(cpp.iterations, ref.iterations)


def test_reachable_targets_are_reached_within_limits(g1_tree):
    targets, init, _ = _reachable(g1_tree, 512, seed=2)
    res = solve_ik(g1_tree, targets, *init, iterations=10, backend="cpp")
    mean_err = res.pos_error.mean(-1)
    assert (mean_err < 1e-3).float().mean() >= 0.99, f"only {(mean_err < 1e-3).float().mean():.3f} below 1 mm"
    lo, hi = _limits(g1_tree)
    assert ((res.joint_pos >= lo) & (res.joint_pos <= hi)).all()
    assert (res.iterations <= 10).all() and (res.iterations >= 1).all()
    torch.testing.assert_close(res.root_quat.norm(dim=-1), torch.ones(512, dtype=torch.float64))


def test_unreachable_targets_keep_limits_and_report_residuals(g1_tree):
    targets, init, _ = _reachable(g1_tree, 16, seed=3)
    far = targets.pos.clone()
    far[:, -1] += torch.tensor([0.0, -5.0, 0.0], dtype=far.dtype)  # right wrist 5 m away: unreachable
    targets.pos = far
    for backend in ("torch", "cpp"):
        res = solve_ik(g1_tree, targets, *init, iterations=8, backend=backend)
        lo, hi = _limits(g1_tree)
        assert ((res.joint_pos >= lo) & (res.joint_pos <= hi)).all(), backend
        assert torch.isfinite(res.joint_pos).all() and (res.pos_error[:, -1] > 1.0).all()


def test_max_joint_step_is_never_exceeded(g1_tree):
    targets, init, _ = _reachable(g1_tree, 64, seed=4, init_noise=0.6)
    res = solve_ik(g1_tree, targets, *init, iterations=6, max_joint_step=0.05, backend="cpp")
    q0 = init[2]
    assert (res.joint_pos - q0).abs().max() <= 0.05 + 1e-12


def test_cpp_is_bitwise_reproducible(g1_tree):
    targets, init, _ = _reachable(g1_tree, 300, seed=5, dtype=torch.float32)
    a = solve_ik(g1_tree, targets, *init, backend="cpp")
    b = solve_ik(g1_tree, targets, *init, backend="cpp")
    assert torch.equal(a.joint_pos, b.joint_pos) and torch.equal(a.root_pos, b.root_pos)


def _smooth_clips(tree, clips, frames, fps=50.0):
    return smooth_clips(tree, TRACKED_BODIES, clips, frames, fps)


def test_sequence_mode_is_smooth_and_accurate(g1_tree):
    targets, q_true, root_pos, root_quat = _smooth_clips(g1_tree, clips=16, frames=120)
    q_init = q_true[:, 0] + 0.2  # frame 0 starts 0.2 rad off
    lo, hi = _limits(g1_tree)
    res = solve_ik_sequence(g1_tree, targets, root_pos[:, 0], root_quat[:, 0], q_init.clamp(lo, hi),
                            iterations=3, first_frame_iterations=30, joint_velocity_limit=20.0, fps=50.0,
                            backend="cpp")
    assert res.joint_pos.shape == (16, 120, G1.num_joints) and res.iterations.shape == (16, 120)
    jumps = (res.joint_pos[:, 1:] - res.joint_pos[:, :-1]).abs()
    assert jumps.max() <= 0.2, f"frame-to-frame jump {jumps.max():.3f} rad"
    assert res.pos_error.mean(-1).max() < 1e-3
    assert ((res.joint_pos >= lo) & (res.joint_pos <= hi)).all()


def test_sequence_cpp_matches_reference(g1_tree):
    targets, q_true, root_pos, root_quat = _smooth_clips(g1_tree, clips=3, frames=12)
    lo, hi = _limits(g1_tree)
    args = (g1_tree, targets, root_pos[:, 0], root_quat[:, 0], (q_true[:, 0] + 0.05).clamp(lo, hi))
    kwargs = dict(iterations=2, first_frame_iterations=5, joint_velocity_limit=10.0, fps=30.0)
    ref = solve_ik_sequence(*args, backend="torch", **kwargs)
    cpp = solve_ik_sequence(*args, backend="cpp", **kwargs)
    torch.testing.assert_close(cpp.joint_pos, ref.joint_pos, atol=1e-9, rtol=0)
    assert torch.equal(cpp.iterations, ref.iterations)


def test_bad_inputs_fail_clearly(g1_tree):
    targets, init, _ = _reachable(g1_tree, 4, seed=6)
    rp, rq, q = init
    nan_pos = targets.pos.clone()
    nan_pos[0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="target pos: contains NaN"):
        solve_ik(g1_tree, IkTargets(BODY_INDEX, nan_pos), rp, rq, q)
    with pytest.raises(ValueError, match=r"joint_pos: expected shape \(4, 29\)"):
        solve_ik(g1_tree, targets, rp, rq, q[:, :28])
    with pytest.raises(ValueError, match="root_quat: expected dtype float64"):
        solve_ik(g1_tree, targets, rp, rq.float(), q)
    with pytest.raises(ValueError, match="body_index: values must lie in"):
        solve_ik(g1_tree, IkTargets(torch.tensor([0, 99]), targets.pos[:, :2]), rp, rq, q)
    with pytest.raises(ValueError, match="root_quat: contains zero quaternions"):
        solve_ik(g1_tree, targets, rp, torch.zeros_like(rq), q)
    with pytest.raises(ValueError, match="iterations"):
        solve_ik(g1_tree, targets, rp, rq, q, iterations=0)
    with pytest.raises(ValueError, match="cuda tensors"):
        solve_ik(g1_tree, targets, rp, rq, q, backend="cuda")
    empty = solve_ik(g1_tree, IkTargets(BODY_INDEX, targets.pos[:0], targets.quat[:0]), rp[:0], rq[:0], q[:0])
    assert empty.joint_pos.shape == (0, 29) and empty.pos_error.shape == (0, len(TRACKED))


def test_numpy_inputs_are_accepted(g1_tree):
    targets, init, _ = _reachable(g1_tree, 8, seed=7)
    np_targets = IkTargets(BODY_INDEX.numpy(), targets.pos.numpy(), targets.quat.numpy())
    a = solve_ik(g1_tree, np_targets, *(x.numpy() for x in init), backend="cpp")
    b = solve_ik(g1_tree, targets, *init, backend="cpp")
    assert torch.equal(a.joint_pos, b.joint_pos)


def test_cpp_binding_validates_shapes_itself(g1_tree):
    from mimiclab import _C
    from mimiclab.kernels.buffers import as_buffer
    from mimiclab.kernels.ik import ik_tree_tensors

    tt = ik_tree_tensors(g1_tree, "cpu", torch.float64)
    tree = {k: as_buffer(k, v) for k, v in tt.items() if not k.startswith("_")}
    lo, hi = _limits(g1_tree)
    step = torch.full((29,), math.inf, dtype=torch.float64)
    bounds = {"lower": as_buffer("lower", lo), "upper": as_buffer("upper", hi), "max_step": as_buffer("s", step),
              "prior_lower": as_buffer("pl", -step), "prior_upper": as_buffer("pu", step),
              "prior_weight": as_buffer("pw", torch.zeros(29, dtype=torch.float64))}
    C, T, K = 2, 1, 3
    keep = {"body_index": torch.tensor([0, 5, 9], dtype=torch.int32), "offset": torch.zeros(K, 3, dtype=torch.float64),
            "pos": torch.zeros(C, T, K, 3, dtype=torch.float64), "quat": torch.zeros(C, T, K, 4, dtype=torch.float64),
            "pos_weight": torch.ones(C, T, K, dtype=torch.float64), "rot_weight": torch.ones(C, T, K, dtype=torch.float64)}
    init_t = {"root_pos": torch.zeros(C, 3, dtype=torch.float64), "root_quat": torch.zeros(C, 4, dtype=torch.float64),
              "joint_pos": torch.zeros(C, 29, dtype=torch.float64), "posture": torch.zeros(C, 28, dtype=torch.float64)}
    out_t = {"root_pos": torch.zeros(C, T, 3, dtype=torch.float64), "root_quat": torch.zeros(C, T, 4, dtype=torch.float64),
             "joint_pos": torch.zeros(C, T, 29, dtype=torch.float64), "pos_error": torch.zeros(C, T, K, dtype=torch.float64),
             "rot_error": torch.zeros(C, T, K, dtype=torch.float64), "iterations": torch.zeros(C, T, dtype=torch.int32)}
    params = {"iterations": 2, "first_iterations": 2, "damping": 1e-3, "tol": 1e-6, "posture_weight": 0.0,
              "velocity_weight": 0.0, "acceleration_weight": 0.0, "limit_first_frame": False}
    with pytest.raises(ValueError, match=r"init posture: expected shape \(2, 29\), got \(2, 28\)"):
        _C.ik_solve(tree, bounds, {k: as_buffer(k, v) for k, v in keep.items()},
                    {k: as_buffer(k, v) for k, v in init_t.items()}, {k: as_buffer(k, v) for k, v in out_t.items()}, params)


@pytest.mark.gpu
@pytest.mark.skipif(cuda_device_count() == 0 or not torch.cuda.is_available(),
                    reason="needs a CUDA GPU and a CUDA build of torch (none here)")
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-9), (torch.float32, 2e-3)])
def test_cuda_matches_reference(g1_tree, dtype, tol):
    targets, init, _ = _reachable(g1_tree, 256, seed=8, dtype=dtype)
    ref = solve_ik(g1_tree, targets, *init, iterations=4, backend="torch")
    cuda_targets = IkTargets(BODY_INDEX.cuda(), targets.pos.cuda(), targets.quat.cuda())
    res = solve_ik(g1_tree, cuda_targets, *(x.cuda() for x in init), iterations=4, backend="cuda")
    torch.testing.assert_close(res.joint_pos.cpu(), ref.joint_pos, atol=tol, rtol=0)


def _narrow_prior(dtype=torch.float64):
    """A prior that holds both hip yaws and the waist yaw within ±0.05 rad (weight 0.5)."""
    from mimiclab.kernels.ik import JointPrior

    J = G1.num_joints
    lo = torch.full((J,), -math.inf, dtype=dtype)
    hi = torch.full((J,), math.inf, dtype=dtype)
    w = torch.zeros(J, dtype=dtype)
    for name in ("left_hip_yaw_joint", "right_hip_yaw_joint", "waist_yaw_joint"):
        j = G1.joint_names.index(name)
        lo[j], hi[j], w[j] = -0.05, 0.05, 0.5
    return JointPrior(lo, hi, w), [G1.joint_names.index(n) for n in ("left_hip_yaw_joint", "right_hip_yaw_joint")]


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-9), (torch.float32, 2e-3)])
def test_prior_and_velocity_cost_cpp_matches_reference(g1_tree, dtype, tol):
    targets, init, _ = _reachable(g1_tree, 32, seed=11, dtype=dtype)
    prior, _ = _narrow_prior(dtype)
    kwargs = dict(iterations=4, posture_weight=1e-3, velocity_weight=0.05, prior=prior, max_joint_step=0.3)
    ref = solve_ik(g1_tree, targets, *init, backend="torch", **kwargs)
    cpp = solve_ik(g1_tree, targets, *init, backend="cpp", **kwargs)
    for field in ("root_pos", "root_quat", "joint_pos", "pos_error"):
        torch.testing.assert_close(getattr(cpp, field), getattr(ref, field), atol=tol, rtol=0, msg=field)
    assert torch.equal(cpp.iterations, ref.iterations)


def test_sequence_smoothness_and_prior_cpp_matches_reference(g1_tree):
    targets, q_true, root_pos, root_quat = _smooth_clips(g1_tree, clips=3, frames=10)
    lo, hi = _limits(g1_tree)
    prior, _ = _narrow_prior()
    args = (g1_tree, targets, root_pos[:, 0], root_quat[:, 0], (q_true[:, 0] + 0.05).clamp(lo, hi))
    kwargs = dict(iterations=2, first_frame_iterations=5, joint_velocity_limit=10.0, fps=30.0, prior=prior,
                  posture_weight=1e-3, velocity_weight=0.02, acceleration_weight=0.01)
    ref = solve_ik_sequence(*args, backend="torch", **kwargs)
    cpp = solve_ik_sequence(*args, backend="cpp", **kwargs)
    torch.testing.assert_close(cpp.joint_pos, ref.joint_pos, atol=1e-9, rtol=0)
    assert torch.equal(cpp.iterations, ref.iterations)


def test_prior_pulls_joints_into_the_human_range(g1_tree):
    """Targets made with hip yaws of ±0.6 rad: with the prior the solution keeps them near ±0.05."""
    targets, init, q_true = _reachable(g1_tree, 16, seed=12)
    prior, hips = _narrow_prior()
    free = solve_ik(g1_tree, targets, *init, iterations=10, backend="cpp")
    held = solve_ik(g1_tree, targets, *init, iterations=10, backend="cpp", prior=prior)
    excess = lambda q: (q[:, hips].abs() - 0.05).clamp_min(0).mean()  # noqa: E731
    assert excess(held.joint_pos) < 0.5 * excess(free.joint_pos)


def test_velocity_cost_slows_a_jumping_target(g1_tree):
    """The last (wrist) target jumps 10 cm halfway through the clip: the velocity cost spreads the
    jump over frames instead of taking it at once."""
    targets, q_true, root_pos, root_quat = _smooth_clips(g1_tree, clips=2, frames=20)
    pos = targets.pos.clone()
    pos[:, 10:, -1] += torch.tensor([0.0, 0.0, 0.10], dtype=pos.dtype)
    targets.pos = pos
    lo, hi = _limits(g1_tree)
    args = (g1_tree, targets, root_pos[:, 0], root_quat[:, 0], q_true[:, 0].clamp(lo, hi))
    plain = solve_ik_sequence(*args, iterations=3, first_frame_iterations=20, backend="cpp")
    smooth = solve_ik_sequence(*args, iterations=3, first_frame_iterations=20, velocity_weight=0.2, backend="cpp")
    step = lambda r: (r.joint_pos[:, 10] - r.joint_pos[:, 9]).abs().max()  # noqa: E731
    assert step(smooth) < step(plain)
