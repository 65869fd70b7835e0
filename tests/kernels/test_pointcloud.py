"""Point-cloud object terms: every backend against the torch reference, hand-checked cases, input
errors, and surface sampling. Tolerances: float32 1e-5 m, float64 1e-12 m (absolute; the inputs
are O(1) m), rewards relative to them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mimiclab.kernels import pointcloud_distance, pointcloud_nearest
from mimiclab.kernels.backends import cuda_device_count, warp_has_cuda, warp_module
from mimiclab.kernels.buffers import as_buffer
from mimiclab.kernels.pointcloud import (pointcloud_distance_reference, pointcloud_nearest_reference,
                                         pose_points)
from mimiclab.kernels.surface_sampling import sample_surface

TOL = {torch.float32: 1e-5, torch.float64: 1e-12}
CPU_BACKENDS = ["cpp", pytest.param("warp", marks=pytest.mark.skipif(warp_module() is None, reason="warp is not installed"))]
needs_cuda = pytest.mark.skipif(cuda_device_count() == 0 or not torch.cuda.is_available(),
                                reason="needs a CUDA GPU and a CUDA build of torch (none here)")
needs_warp_cuda = pytest.mark.skipif(warp_module() is None or not warp_has_cuda() or not torch.cuda.is_available(),
                                     reason="needs Warp with a CUDA device and a CUDA build of torch (none here)")


def _poses(n: int, gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    pose = torch.randn(n, 7, generator=gen, dtype=dtype)
    pose[:, 3:] = torch.nn.functional.normalize(pose[:, 3:], dim=-1)
    return pose


def _case(n=64, p=300, k=7, dtype=torch.float64, per_env=False, seed=0):
    """Random cloud (P,3) or (N,P,3), current/reference poses (N,7) and queries (N,K,3)."""
    gen = torch.Generator().manual_seed(seed)
    points = torch.randn(*((n,) if per_env else ()), p, 3, generator=gen, dtype=dtype)
    current, reference = _poses(n, gen, dtype), _poses(n, gen, dtype)
    queries = 2.0 * torch.randn(n, k, 3, generator=gen, dtype=dtype)
    return points, current, reference, queries


def _identity(n: int, dtype=torch.float64) -> torch.Tensor:
    pose = torch.zeros(n, 7, dtype=dtype)
    pose[:, 3] = 1.0
    return pose


def _check_nearest(points, pose, queries, dist, index, tol):
    """dist equals the reference; index names a point at that distance (robust to near-ties)."""
    ref_dist, ref_index = pointcloud_nearest_reference(points, pose, queries)
    assert index.dtype == torch.int64 and index.shape == ref_index.shape
    torch.testing.assert_close(dist, ref_dist, atol=tol, rtol=0)
    posed = pose_points(points, pose)
    chosen = torch.gather(posed, 1, index[..., None].expand(-1, -1, 3))
    torch.testing.assert_close((chosen - queries).norm(dim=-1), ref_dist, atol=tol, rtol=0)
    assert (index == ref_index).float().mean() > 0.99


# ---- every backend against the reference -------------------------------------------------------------

@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("per_env", [False, True], ids=["shared_cloud", "per_env_cloud"])
def test_cpu_backends_match_reference(backend, dtype, per_env):
    points, current, reference, queries = _case(dtype=dtype, per_env=per_env, seed=1 + per_env)
    ref_d, ref_r = pointcloud_distance_reference(points, current, reference, lam=10.0)
    d, r = pointcloud_distance(points, current, reference, lam=10.0, backend=backend)
    assert d.dtype == dtype and d.shape == (64,) and r.shape == (64,)
    torch.testing.assert_close(d, ref_d, atol=TOL[dtype], rtol=0)
    torch.testing.assert_close(r, ref_r, atol=0, rtol=20 * TOL[dtype])
    dist, index = pointcloud_nearest(points, current, queries, backend=backend)
    _check_nearest(points, current, queries, dist, index, TOL[dtype])


def test_auto_backend_on_cpu_is_cpp_and_agrees():
    points, current, reference, queries = _case(n=5, p=40, k=3)
    torch.testing.assert_close(pointcloud_distance(points, current, reference)[0],
                               pointcloud_distance(points, current, reference, backend="cpp")[0], atol=0, rtol=0)
    assert torch.equal(pointcloud_nearest(points, current, queries)[1],
                       pointcloud_nearest(points, current, queries, backend="cpp")[1])


@needs_cuda
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("per_env", [False, True], ids=["shared_cloud", "per_env_cloud"])
def test_cuda_matches_reference(dtype, per_env):
    points, current, reference, queries = _case(n=777, p=1000, k=5, dtype=dtype, per_env=per_env, seed=7)
    ref_d, ref_r = pointcloud_distance_reference(points, current, reference)
    d, r = pointcloud_distance(points.cuda(), current.cuda(), reference.cuda(), backend="cuda")
    assert d.device.type == "cuda"
    torch.testing.assert_close(d.cpu(), ref_d, atol=TOL[dtype], rtol=0)
    torch.testing.assert_close(r.cpu(), ref_r, atol=0, rtol=20 * TOL[dtype])
    dist, index = pointcloud_nearest(points.cuda(), current.cuda(), queries.cuda(), backend="cuda")
    _check_nearest(points, current, queries, dist.cpu(), index.cpu(), TOL[dtype])


@needs_warp_cuda
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_warp_cuda_matches_reference(dtype):
    points, current, reference, queries = _case(n=300, p=500, k=4, dtype=dtype, seed=8)
    ref_d, _ = pointcloud_distance_reference(points, current, reference)
    d, _ = pointcloud_distance(points.cuda(), current.cuda(), reference.cuda(), backend="warp")
    torch.testing.assert_close(d.cpu(), ref_d, atol=TOL[dtype], rtol=0)
    dist, index = pointcloud_nearest(points.cuda(), current.cuda(), queries.cuda(), backend="warp")
    _check_nearest(points, current, queries, dist.cpu(), index.cpu(), TOL[dtype])


# ---- hand-checkable cases ------------------------------------------------------------------------------

ALL_CPU = ["torch", *CPU_BACKENDS]


@pytest.mark.parametrize("backend", ALL_CPU)
def test_identical_poses_give_zero_distance_and_full_reward(backend):
    points, current, _, _ = _case(n=6, p=50)
    for pose in (_identity(6), current):
        d, r = pointcloud_distance(points, pose, pose.clone(), backend=backend)
        assert torch.equal(d, torch.zeros(6, dtype=torch.float64)) and torch.equal(r, torch.ones(6, dtype=torch.float64))


@pytest.mark.parametrize("backend", ALL_CPU)
def test_pure_translation_gives_its_length(backend):
    """Same (random) orientation, positions 1.25 m apart: every point moves by exactly 1.25 m."""
    points, current, _, _ = _case(n=6, p=64, dtype=torch.float32)
    current[:, :3] = torch.round(current[:, :3] * 8) / 8  # dyadic positions: exact differences
    reference = current.clone()
    reference[:, :3] -= torch.tensor([0.75, -1.0, 0.0])
    d, r = pointcloud_distance(points, current, reference, lam=2.0, backend=backend)
    if backend == "torch":  # poses each point twice: rounding of O(1) coordinates
        torch.testing.assert_close(d, torch.full((6,), 1.25), atol=1e-6, rtol=0)
    else:  # (R - R) x + dt: exactly the translation, for every point
        assert torch.equal(d, torch.full((6,), 1.25))
    torch.testing.assert_close(r, torch.full((6,), math.exp(-2.5)), atol=0, rtol=1e-6)


@pytest.mark.parametrize("backend", ALL_CPU)
def test_half_turn_about_z(backend):
    """Points (1,0,0) and (0,0,2): a half turn about z moves the first by 2 m, the second not at all."""
    points = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]], dtype=torch.float64)
    current = _identity(1)
    reference = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
    d, r = pointcloud_distance(points, current, reference, lam=10.0, backend=backend)
    torch.testing.assert_close(d, torch.tensor([1.0], dtype=torch.float64), atol=1e-15, rtol=0)
    torch.testing.assert_close(r, torch.tensor([math.exp(-10.0)], dtype=torch.float64), atol=0, rtol=1e-14)


@pytest.mark.parametrize("backend", ALL_CPU)
def test_query_at_a_cloud_point_finds_it(backend):
    points, current, _, _ = _case(n=4, p=100, k=1)
    posed = pose_points(points, current)
    targets = torch.tensor([5, 17, 99, 0])
    queries = torch.stack([posed[i, targets[i]] for i in range(4)])[:, None, :]
    dist, index = pointcloud_nearest(points, current, queries, backend=backend)
    assert torch.equal(index[:, 0], targets)
    torch.testing.assert_close(dist, torch.zeros(4, 1, dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize("backend", ALL_CPU)
def test_nearest_ties_go_to_the_lowest_index(backend):
    """A cloud with the same point at indices 2 and 5, and a query equidistant from 0 and 1."""
    points = torch.tensor([[1.0, 0, 0], [-1.0, 0, 0], [0, 3.0, 0], [9.0, 9, 9], [8.0, 8, 8], [0, 3.0, 0]],
                          dtype=torch.float64)
    queries = torch.tensor([[[0, 3.0, 0.5], [0.0, 0, 0.25]]], dtype=torch.float64)
    dist, index = pointcloud_nearest(points, _identity(1), queries, backend=backend)
    assert index.tolist() == [[2, 0]]
    torch.testing.assert_close(dist, torch.tensor([[0.5, math.hypot(1.0, 0.25)]], dtype=torch.float64))


@pytest.mark.parametrize("backend", ALL_CPU)
def test_numpy_inputs(backend):
    points, current, reference, queries = _case(n=5, p=30, k=2)
    d_np, r_np = pointcloud_distance(points.numpy(), current.numpy(), reference.numpy(), backend=backend)
    d, r = pointcloud_distance(points, current, reference, backend=backend)
    assert isinstance(d_np, torch.Tensor) and torch.equal(d_np, d) and torch.equal(r_np, r)
    dist_np, index_np = pointcloud_nearest(points.numpy(), current.numpy(), queries.numpy(), backend=backend)
    dist, index = pointcloud_nearest(points, current, queries, backend=backend)
    assert torch.equal(dist_np, dist) and torch.equal(index_np, index)


@pytest.mark.parametrize("backend", ALL_CPU)
def test_empty_batch_gives_empty_outputs(backend):
    points = torch.randn(10, 3)
    d, r = pointcloud_distance(points, torch.zeros(0, 7), torch.zeros(0, 7), backend=backend)
    assert d.shape == (0,) and r.shape == (0,) and d.dtype == torch.float32
    dist, index = pointcloud_nearest(points, torch.zeros(0, 7), torch.zeros(0, 3, 3), backend=backend)
    assert dist.shape == (0, 3) and index.shape == (0, 3) and index.dtype == torch.int64
    dist, index = pointcloud_nearest(points, _identity(2, torch.float32), torch.zeros(2, 0, 3), backend=backend)
    assert dist.shape == (2, 0) and index.shape == (2, 0)


def test_cpp_is_bitwise_deterministic_across_thread_counts():
    points, current, reference, queries = _case(n=3000, p=64, k=3, dtype=torch.float32, seed=3)
    one = pointcloud_distance(points, current, reference, backend="cpp", num_threads=1)
    many = pointcloud_distance(points, current, reference, backend="cpp", num_threads=2)
    assert torch.equal(one[0], many[0]) and torch.equal(one[1], many[1])
    one = pointcloud_nearest(points, current, queries, backend="cpp", num_threads=1)
    many = pointcloud_nearest(points, current, queries, backend="cpp", num_threads=3)
    assert torch.equal(one[0], many[0]) and torch.equal(one[1], many[1])


# ---- input errors ---------------------------------------------------------------------------------------

def test_bad_inputs_fail_with_named_errors():
    points, current, reference, queries = _case(n=4, p=20, k=2, dtype=torch.float32)
    with pytest.raises(ValueError, match=r"current_pose: expected shape \(\*, 7\), got \(4, 6\)"):
        pointcloud_distance(points, current[:, :6], reference)
    with pytest.raises(ValueError, match=r"reference_pose: expected shape \(4, 7\), got \(3, 7\)"):
        pointcloud_distance(points, current, reference[:3])
    with pytest.raises(ValueError, match=r"object_points: expected shape \(\*, 3\)"):
        pointcloud_distance(points[:, :2], current, reference)
    with pytest.raises(ValueError, match=r"object_points: expected shape \(4, \*, 3\), got \(5, 20, 3\)"):
        pointcloud_distance(torch.randn(5, 20, 3), current, reference)
    with pytest.raises(ValueError, match=r"object_points: expected shape \(P, 3\) or \(4, P, 3\)"):
        pointcloud_distance(points[None, None], current, reference)
    with pytest.raises(ValueError, match="object_points: the object cloud needs at least one point"):
        pointcloud_distance(points[:0], current, reference)
    with pytest.raises(ValueError, match="reference_pose: expected dtype float32, got float64"):
        pointcloud_distance(points, current, reference.double())
    with pytest.raises(ValueError, match="current_pose: expected dtype float32 or float64, got int32"):
        pointcloud_distance(points, current.to(torch.int32), reference)
    nan_pose = current.clone()
    nan_pose[2, 4] = float("nan")
    with pytest.raises(ValueError, match="current_pose: contains NaN or Inf"):
        pointcloud_distance(points, nan_pose, reference)
    with pytest.raises(ValueError, match="object_points: contains NaN or Inf"):
        pointcloud_distance(torch.full((3, 3), float("inf")), current, reference)
    with pytest.raises(ValueError, match="lam: expected a finite number >= 0"):
        pointcloud_distance(points, current, reference, lam=-1.0)
    with pytest.raises(ValueError, match="lam: expected a finite number >= 0"):
        pointcloud_distance(points, current, reference, lam=float("nan"))
    with pytest.raises(ValueError, match=r"query_points: expected shape \(4, \*, 3\), got \(4, 2\)"):
        pointcloud_nearest(points, current, queries[:, :, 0])
    with pytest.raises(ValueError, match="object_points: expected device cpu, got meta"):
        pointcloud_nearest(torch.empty(20, 3, device="meta"), current, queries)
    with pytest.raises(TypeError, match="pose: expected a torch.Tensor or numpy array, got list"):
        pointcloud_nearest(points, current.tolist(), queries)
    with pytest.raises(ValueError, match="unknown backend"):
        pointcloud_distance(points, current, reference, backend="fortran")
    with pytest.raises(ValueError, match="cuda tensors"):
        pointcloud_nearest(points, current, queries, backend="cuda")


def test_cpp_binding_validates_buffers_itself():
    """The compiled side re-checks shapes/dtypes so a wrong direct call cannot read out of bounds."""
    from mimiclab import _C

    points, current, reference, queries = _case(n=4, p=20, k=2, dtype=torch.float32)
    dist, reward = torch.empty(4), torch.empty(3)
    with pytest.raises(ValueError, match=r"reward: expected shape \(4,\), got \(3,\)"):
        _C.pointcloud_distance(as_buffer("p", points), as_buffer("c", current), as_buffer("r", reference),
                               as_buffer("d", dist), as_buffer("w", reward), 10.0)
    with pytest.raises(ValueError, match=r"object_points: expected shape \(4, -1, 3\), got \(5, 20, 3\)"):
        many = torch.randn(5, 20, 3)
        _C.pointcloud_distance(as_buffer("p", many), as_buffer("c", current), as_buffer("r", reference),
                               as_buffer("d", dist), as_buffer("w", torch.empty(4)), 10.0)
    with pytest.raises(ValueError, match="the object cloud needs at least one point"):
        empty = torch.empty(0, 3)
        _C.pointcloud_distance(as_buffer("p", empty), as_buffer("c", current), as_buffer("r", reference),
                               as_buffer("d", dist), as_buffer("w", torch.empty(4)), 10.0)
    with pytest.raises(ValueError, match="reference_pose: expected dtype float32, got float64"):
        ref64 = reference.double()
        _C.pointcloud_distance(as_buffer("p", points), as_buffer("c", current), as_buffer("r", ref64),
                               as_buffer("d", dist), as_buffer("w", torch.empty(4)), 10.0)
    index32 = torch.empty(4, 2, dtype=torch.int32)
    with pytest.raises(ValueError, match="index: expected dtype int64, got int32"):
        _C.pointcloud_nearest(as_buffer("p", points), as_buffer("c", current), as_buffer("q", queries),
                              as_buffer("d", torch.empty(4, 2)), as_buffer("i", index32))
    with pytest.raises(ValueError, match=r"distance: expected shape \(4, 2\), got \(4, 3\)"):
        _C.pointcloud_nearest(as_buffer("p", points), as_buffer("c", current), as_buffer("q", queries),
                              as_buffer("d", torch.empty(4, 3)), as_buffer("i", index32))


def test_cuda_binding_rejects_host_buffers():
    """Runs without a GPU: the CUDA entry points refuse CPU buffers before launching anything."""
    from mimiclab.kernels.backends import cuda_module

    mod = cuda_module()
    if mod is None:
        pytest.skip("mimiclab._C_cuda was not built (no nvcc at build time)")
    points, current, reference, _ = _case(n=4, p=20, dtype=torch.float32)
    dist, reward = torch.empty(4), torch.empty(4)
    with pytest.raises(ValueError, match="expected a cuda buffer, got device cpu"):
        mod.pointcloud_distance(as_buffer("p", points), as_buffer("c", current), as_buffer("r", reference),
                                as_buffer("d", dist), as_buffer("w", reward), 10.0)


# ---- surface sampling ------------------------------------------------------------------------------------

def test_sphere_points_lie_on_the_sphere():
    points = sample_surface({"sphere": 0.15}, 2000, seed=0)
    assert points.shape == (2000, 3) and points.dtype == torch.float32
    assert (points.double().norm(dim=1) - 0.15).abs().max() < 1e-5
    assert points.double().mean(0).abs().max() < 0.01  # spread over the whole sphere


def test_box_points_lie_on_its_faces():
    half = torch.tensor([0.2, 0.15, 0.05])
    points = sample_surface({"box": [0.4, 0.3, 0.1]}, 3000, seed=1).double()
    assert (points.abs() <= half + 1e-6).all()
    on_face = ((points.abs() - half).abs() < 1e-6).any(dim=1)
    assert on_face.all()
    # by area: the two 0.4 x 0.3 faces hold 0.12 / (0.12 + 0.04 + 0.03) of the surface
    big_faces = ((points[:, 2].abs() - 0.05).abs() < 1e-6).double().mean()
    assert abs(big_faces - 0.12 / 0.19) < 0.03


def test_cylinder_and_capsule_points_lie_on_their_surfaces():
    r, h = 0.05, 0.3
    cyl = sample_surface({"cylinder": [r, h]}, 2000, seed=2).double()
    rho = cyl[:, :2].norm(dim=1)
    on_side = ((rho - r).abs() < 1e-6) & (cyl[:, 2].abs() <= h / 2 + 1e-6)
    on_cap = ((cyl[:, 2].abs() - h / 2).abs() < 1e-6) & (rho <= r + 1e-6)
    assert (on_side | on_cap).all() and on_cap.any() and on_side.any()
    cap = sample_surface({"capsule": [r, h]}, 2000, seed=3).double()
    axis_z = cap[:, 2].clamp(-h / 2, h / 2)  # nearest point on the segment between the ball centres
    dist_to_axis = torch.cat((cap[:, :2], (cap[:, 2] - axis_z)[:, None]), dim=1).norm(dim=1)
    assert (dist_to_axis - r).abs().max() < 1e-6
    assert cap[:, 2].max() > h / 2 + 0.9 * r and cap[:, 2].min() < -h / 2 - 0.9 * r


def test_mesh_sampling_from_trimesh_and_file(tmp_path):
    import trimesh

    mesh = trimesh.creation.box(extents=[1.0, 2.0, 3.0])
    points = sample_surface(mesh, 500, seed=4)
    assert points.shape == (500, 3)
    assert ((points.abs() - torch.tensor([0.5, 1.0, 1.5])).abs() < 1e-5).any(dim=1).all()
    path = tmp_path / "box.stl"
    mesh.export(path)
    assert torch.equal(sample_surface(str(path), 500, seed=4), points)


def test_sampling_is_deterministic_by_seed():
    a = sample_surface({"capsule": [0.1, 0.2]}, 256, seed=11)
    assert torch.equal(a, sample_surface({"capsule": [0.1, 0.2]}, 256, seed=11))
    assert not torch.equal(a, sample_surface({"capsule": [0.1, 0.2]}, 256, seed=12))


@pytest.mark.parametrize("source, message", [
    ({"cone": [1, 2]}, "primitive spec: expected one key out of box, sphere, cylinder, capsule"),
    ({"box": [1, 2]}, r"box: expected \[sx, sy, sz\] as 3 positive"),
    ({"sphere": -0.1}, "sphere: expected r as 1 positive"),
    ({"cylinder": [0.1, float("nan")]}, r"cylinder: expected \[r, h\]"),
    ({"sphere": 1, "box": [1, 1, 1]}, "primitive spec: expected one key"),
    ("/nonexistent/mesh.obj", "mesh file not found"),
    (42, "surface source: expected a trimesh.Trimesh"),
])
def test_bad_surface_sources_fail_with_named_errors(source, message):
    with pytest.raises(ValueError, match=message):
        sample_surface(source, 10)


def test_bad_point_count_and_degenerate_mesh():
    import trimesh

    with pytest.raises(ValueError, match="num_points: expected an integer >= 1"):
        sample_surface({"sphere": 1.0}, 0)
    flat = trimesh.Trimesh(vertices=np.zeros((3, 3)), faces=[[0, 1, 2]], process=False)
    with pytest.raises(ValueError, match="mesh: needs triangles with a positive finite area"):
        sample_surface(flat, 10)


def test_sampled_cloud_feeds_the_kernels():
    """End to end: a sampled box cloud shifted by 2 cm gives D = 0.02 m on the C++ backend."""
    points = sample_surface({"box": [0.3, 0.2, 0.1]}, 1024, seed=0)
    current = _identity(8, torch.float32)
    reference = current.clone()
    reference[:, 0] += 0.02
    d, r = pointcloud_distance(points, current, reference)
    torch.testing.assert_close(d, torch.full((8,), 0.02), atol=1e-7, rtol=0)
