"""Warp backend of forward kinematics against the torch reference, on every Warp device here.

Tolerances: float32 2e-5 (positions are O(1) m, a 30-body chain accumulates ~1e-6), float64 1e-12.
The kernels compile once per process (and are cached on disk by Warp); every test reuses them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimiclab.kernels import backends, forward_kinematics
from mimiclab.kernels.fk import tree_tensors
from mimiclab.robots.g1 import G1
from mimiclab.robots.kinematic_tree import KinematicTree

pytestmark = pytest.mark.skipif(backends.warp_module() is None, reason="warp-lang is not installed")

TOL = {torch.float32: 2e-5, torch.float64: 1e-12}


def _has_warp_cuda() -> bool:
    return backends.warp_module() is not None and backends.warp_has_cuda() and torch.cuda.is_available()


DEVICES = [
    "cpu",
    pytest.param("cuda:0", marks=[pytest.mark.gpu, pytest.mark.skipif(
        not _has_warp_cuda(), reason="Warp sees no CUDA device (or torch has no CUDA): cuda variant skipped")]),
]


def _random_tree(num_bodies=12, seed=0) -> KinematicTree:
    """A random topologically ordered tree with some fixed bodies and arbitrary anchors/axes."""
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [rng.integers(0, b) for b in range(1, num_bodies)], np.int32)
    hinged = [b for b in range(num_bodies) if b == 0 or rng.random() < 0.75]
    cols = rng.permutation(len(hinged))  # joint columns deliberately not in body order
    joint_index = np.full(num_bodies, -1, np.int32)
    joint_index[hinged] = cols
    quat = rng.normal(size=(num_bodies, 4))
    axis = rng.normal(size=(num_bodies, 3))
    return KinematicTree(tuple(f"b{i}" for i in range(num_bodies)), tuple(f"j{i}" for i in range(len(hinged))),
                         parent, joint_index, rng.normal(scale=0.3, size=(num_bodies, 3)),
                         quat / np.linalg.norm(quat, axis=1, keepdims=True),
                         axis / np.linalg.norm(axis, axis=1, keepdims=True), rng.normal(scale=0.1, size=(num_bodies, 3)))


def _inputs(num_joints, n, dtype, device="cpu", seed=0, lo=None, hi=None):
    g = torch.Generator().manual_seed(seed)
    root_pos = torch.randn(n, 3, generator=g, dtype=dtype)
    root_quat = torch.nn.functional.normalize(torch.randn(n, 4, generator=g, dtype=dtype), dim=-1)
    u = torch.rand(n, num_joints, generator=g, dtype=dtype)
    joint_pos = (lo + (hi - lo) * u) if lo is not None else (u - 0.5) * 6.0
    return tuple(x.to(device) for x in (root_pos, root_quat, joint_pos))


def _g1_inputs(tree, n, dtype, device="cpu", seed=0):
    lo = torch.tensor([j.lower for j in G1.joints], dtype=dtype)
    hi = torch.tensor([j.upper for j in G1.joints], dtype=dtype)
    return _inputs(tree.num_joints, n, dtype, device, seed, lo, hi)


def _compare(tree, inputs, dtype):
    ref_pos, ref_quat = forward_kinematics(tree, *(x.cpu() for x in inputs), backend="torch")
    pos, quat = forward_kinematics(tree, *inputs, backend="warp")
    n = inputs[0].shape[0]
    assert pos.dtype == dtype and pos.device == inputs[0].device
    assert pos.shape == (n, tree.num_bodies, 3) and quat.shape == (n, tree.num_bodies, 4)
    torch.testing.assert_close(pos.cpu(), ref_pos, atol=TOL[dtype], rtol=0)
    torch.testing.assert_close(quat.cpu(), ref_quat, atol=TOL[dtype], rtol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", [0, 1])
def test_random_tree_matches_reference(device, dtype, seed):
    tree = _random_tree(seed=seed)
    _compare(tree, _inputs(tree.num_joints, 257, dtype, device, seed=seed), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n", [1, 7, 1000])
def test_g1_matches_reference(g1_tree, device, dtype, n):
    _compare(g1_tree, _g1_inputs(g1_tree, n, dtype, device, seed=n), dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_empty_batch(g1_tree, device):
    pos, quat = forward_kinematics(g1_tree, *_g1_inputs(g1_tree, 0, torch.float32, device), backend="warp")
    assert pos.shape == (0, 30, 3) and quat.shape == (0, 30, 4) and pos.device.type == device.split(":")[0]


def test_non_contiguous_inputs(g1_tree):
    rp, rq, jp = _g1_inputs(g1_tree, 64, torch.float64, seed=4)
    jp_wide = torch.stack([jp, -jp], dim=-1)[..., 0]  # strided view (stride 2) with the same values
    assert not jp_wide.is_contiguous()
    ref = forward_kinematics(g1_tree, rp, rq, jp, backend="torch")
    pos, quat = forward_kinematics(g1_tree, rp, rq, jp_wide, backend="warp")
    torch.testing.assert_close(pos, ref[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(quat, ref[1], atol=1e-12, rtol=0)


def test_arrays_entry_point_writes_in_place_zero_copy(g1_tree):
    """The Warp-array API (for Isaac Lab on the sim device) writes into the caller's buffers;
    (N,3)/(N,4) scalar arrays are accepted as well as vec arrays."""
    import warp as wp

    from mimiclab.kernels.warp_fk import fk_forward_warp_arrays, warp_tree_arrays

    rp, rq, jp = _g1_inputs(g1_tree, 33, torch.float32, seed=9)
    out_pos, out_quat = torch.zeros(33, 30, 3), torch.zeros(33, 30, 4)
    tree = warp_tree_arrays(tree_tensors(g1_tree, "cpu", torch.float32))
    fk_forward_warp_arrays(tree, wp.from_torch(rp), wp.from_torch(rq, dtype=wp.vec4f), wp.from_torch(jp),
                           wp.from_torch(out_pos, dtype=wp.vec3f), wp.from_torch(out_quat))
    ref = forward_kinematics(g1_tree, rp, rq, jp, backend="torch")
    torch.testing.assert_close(out_pos, ref[0], atol=2e-5, rtol=0)
    torch.testing.assert_close(out_quat, ref[1], atol=2e-5, rtol=0)


def test_bad_inputs_fail_with_clear_errors(g1_tree):
    rp, rq, jp = _g1_inputs(g1_tree, 4, torch.float32)
    with pytest.raises(ValueError, match="joint_pos: expected shape"):
        forward_kinematics(g1_tree, rp, rq, jp[:, :28], backend="warp")
    with pytest.raises(ValueError, match="root_quat"):
        forward_kinematics(g1_tree, rp, rq.double(), jp, backend="warp")
    with pytest.raises(ValueError, match=r"root_quat: expected shape \(4, 4\), got \(3, 4\)"):
        forward_kinematics(g1_tree, rp, rq[:3], jp, backend="warp")
    with pytest.raises(ValueError, match="joint_pos: expected dtype float32"):
        forward_kinematics(g1_tree, rp, rq, jp.to(torch.int32), backend="warp")
    with pytest.raises(TypeError, match="root_pos: expected a torch.Tensor or numpy array"):
        forward_kinematics(g1_tree, rp.tolist(), rq, jp, backend="warp")


def test_direct_calls_validate_tree_and_arrays(g1_tree):
    import warp as wp

    from mimiclab.kernels.warp_fk import fk_forward_warp, fk_forward_warp_arrays, warp_tree_arrays

    rp, rq, jp = _g1_inputs(g1_tree, 4, torch.float32)
    t64 = tree_tensors(g1_tree, "cpu", torch.float64)
    with pytest.raises(ValueError, match="tree tensors are torch.float64"):
        fk_forward_warp(t64, rp, rq, jp)
    bad = dict(tree_tensors(g1_tree, "cpu", torch.float32))
    bad["joint_index"] = torch.full((30,), 40, dtype=torch.int32)
    with pytest.raises(ValueError, match=r"joint_index: body 0 refers to joint column 40, outside \[-1, 29\)"):
        fk_forward_warp(bad, rp, rq, jp)
    bad = dict(tree_tensors(g1_tree, "cpu", torch.float32))
    bad["parent"] = torch.arange(30, dtype=torch.int32)
    with pytest.raises(ValueError, match="tree.parent: body 0 has parent 0"):
        warp_tree_arrays(bad)
    tree = warp_tree_arrays(tree_tensors(g1_tree, "cpu", torch.float32))
    out_pos, out_quat = wp.zeros((4, 30), dtype=wp.vec3f), wp.zeros((4, 30), dtype=wp.vec4f)
    with pytest.raises(ValueError, match="wp.quat arrays are xyzw"):
        fk_forward_warp_arrays(tree, wp.from_torch(rp), wp.from_torch(rq, dtype=wp.quatf), wp.from_torch(jp),
                               out_pos, out_quat)
    with pytest.raises(ValueError, match=r"body_quat: expected shape \(4, 30\), got \(4, 29\)"):
        fk_forward_warp_arrays(tree, wp.from_torch(rp), wp.from_torch(rq), wp.from_torch(jp), out_pos,
                               wp.zeros((4, 29), dtype=wp.vec4f))
    with pytest.raises(ValueError, match="joint_pos: expected float32 like the tree, got float64"):
        fk_forward_warp_arrays(tree, wp.from_torch(rp), wp.from_torch(rq), wp.from_torch(jp.double()),
                               out_pos, out_quat)
