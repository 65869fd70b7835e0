"""Warp kernels of the point-cloud object terms (maths and shapes: ``mimiclab.kernels.pointcloud``).

The arrays are zero-copy views (``wp.from_torch``) of the caller's contiguous torch tensors, on the
tensors' device ("cpu" or "cuda:i"). The kernels are generic over float32 / float64; both overloads
are declared here, so Warp compiles this module once, on first use, and caches it on disk.

Distance: each thread sums |(R_cur - R_ref) x + (t_cur - t_ref)| over every C-th point of one env
into partial_sum (N, C), and a second kernel averages the C partial sums. C = 1 on the CPU (one
thread per env); on CUDA, C = 32 threads share an env so that 4096 envs fill the GPU.
Nearest: one thread per (env, query); the query is moved into the object frame, R^T (q - t), and
compared with the canonical points (a rotation keeps distances).
"""

from __future__ import annotations

from typing import Any

import torch

from mimiclab.kernels.backends import warp_module

wp = warp_module()
if wp is None:  # pragma: no cover - the front-end only imports this module when warp exists
    raise ImportError("warp is not installed")

wp.set_module_options({"enable_backward": False})

CUDA_CHUNKS = 32  # threads per env for the distance on CUDA


@wp.func
def _pose_position(pose: Any, n: int):
    return wp.vector(pose[n, 0], pose[n, 1], pose[n, 2])


@wp.func
def _pose_rotation(pose: Any, n: int):
    # Rows (N, 7) hold position then (w, x, y, z); Warp quaternions are (x, y, z, w).
    return wp.quat_to_matrix(wp.quaternion(pose[n, 4], pose[n, 5], pose[n, 6], pose[n, 3]))


@wp.kernel
def distance_partial_kernel(points: wp.array2d(dtype=Any), per_env_points: int,
                            current_pose: wp.array2d(dtype=Any), reference_pose: wp.array2d(dtype=Any),
                            partial_sum: wp.array2d(dtype=Any)):
    """partial_sum[n, c] = sum over p = c, c + C, ... of |T_cur x_p - T_ref x_p| [m]."""
    n, c = wp.tid()
    cloud = n * per_env_points  # 0: one cloud shared by all envs
    a = _pose_rotation(current_pose, n) - _pose_rotation(reference_pose, n)
    b = _pose_position(current_pose, n) - _pose_position(reference_pose, n)
    total = type(current_pose[n, 0])(0.0)
    for p in range(c, points.shape[1], partial_sum.shape[1]):
        total += wp.length(a * points[cloud, p] + b)
    partial_sum[n, c] = total


@wp.kernel
def distance_finalize_kernel(partial_sum: wp.array2d(dtype=Any), num_points: int, lam: Any,
                             distance: wp.array(dtype=Any), reward: wp.array(dtype=Any)):
    """distance[n] = (sum of the partial sums) / P [m]; reward[n] = exp(-lam distance[n])."""
    n = wp.tid()
    total = partial_sum[n, 0]
    for c in range(1, partial_sum.shape[1]):
        total += partial_sum[n, c]
    d = total / type(lam)(num_points)
    distance[n] = d
    reward[n] = wp.exp(-lam * d)


@wp.kernel
def nearest_kernel(points: wp.array2d(dtype=Any), per_env_points: int, pose: wp.array2d(dtype=Any),
                   query: wp.array2d(dtype=Any), distance: wp.array2d(dtype=Any),
                   index: wp.array2d(dtype=wp.int64)):
    """distance[n, k] = min_p |q_nk - T x_p| [m]; index[n, k] = its p (lowest on ties)."""
    n, k = wp.tid()
    cloud = n * per_env_points
    q_local = wp.transpose(_pose_rotation(pose, n)) * (query[n, k] - _pose_position(pose, n))
    best = wp.length_sq(points[cloud, 0] - q_local)
    best_p = int(0)
    for p in range(1, points.shape[1]):
        d2 = wp.length_sq(points[cloud, p] - q_local)
        if d2 < best:  # scanning upwards, strict < keeps the lowest index on ties
            best = d2
            best_p = p
    distance[n, k] = wp.sqrt(best)
    index[n, k] = wp.int64(best_p)


for _scalar, _vec3 in ((wp.float32, wp.vec3f), (wp.float64, wp.vec3d)):
    wp.overload(distance_partial_kernel, [wp.array2d(dtype=_vec3), int, wp.array2d(dtype=_scalar),
                                          wp.array2d(dtype=_scalar), wp.array2d(dtype=_scalar)])
    wp.overload(distance_finalize_kernel, [wp.array2d(dtype=_scalar), int, _scalar,
                                           wp.array(dtype=_scalar), wp.array(dtype=_scalar)])
    wp.overload(nearest_kernel, [wp.array2d(dtype=_vec3), int, wp.array2d(dtype=_scalar),
                                 wp.array2d(dtype=_vec3), wp.array2d(dtype=_scalar),
                                 wp.array2d(dtype=wp.int64)])


def _device(t: torch.Tensor) -> str:
    return "cpu" if t.device.type == "cpu" else f"cuda:{t.device.index or 0}"


def _launch(kernel, dim, like: torch.Tensor, inputs: list) -> None:
    """Launch on the tensors' device; on CUDA in torch's current stream (ordered with torch ops)."""
    if like.device.type == "cpu":
        wp.launch(kernel, dim=dim, device="cpu", inputs=inputs)
    else:
        stream = wp.stream_from_torch(torch.cuda.current_stream(like.device))
        wp.launch(kernel, dim=dim, device=_device(like), inputs=inputs, stream=stream)


def _vec3_type(t: torch.Tensor):
    return wp.vec3f if t.dtype == torch.float32 else wp.vec3d


def _cloud(object_points: torch.Tensor):
    """(P,3) or (N,P,3) points as an (N_clouds, P) vec3 array and the per-env flag (0 or 1)."""
    points = object_points if object_points.dim() == 3 else object_points.unsqueeze(0)
    return wp.from_torch(points, dtype=_vec3_type(points)), int(object_points.dim() == 3)


def pointcloud_distance(object_points: torch.Tensor, current_pose: torch.Tensor,
                        reference_pose: torch.Tensor, lam: float, distance: torch.Tensor,
                        reward: torch.Tensor) -> None:
    """Fill distance (N,) and reward (N,); inputs validated, contiguous, on one device, N > 0."""
    n = current_pose.shape[0]
    chunks = 1 if current_pose.device.type == "cpu" else CUDA_CHUNKS
    partial_sum = torch.empty((n, chunks), dtype=current_pose.dtype, device=current_pose.device)
    points, per_env = _cloud(object_points)
    partial = wp.from_torch(partial_sum)
    _launch(distance_partial_kernel, (n, chunks), current_pose,
            [points, per_env, wp.from_torch(current_pose), wp.from_torch(reference_pose), partial])
    scalar = wp.float32 if current_pose.dtype == torch.float32 else wp.float64
    _launch(distance_finalize_kernel, n, current_pose,
            [partial, points.shape[1], scalar(lam), wp.from_torch(distance), wp.from_torch(reward)])


def pointcloud_nearest(object_points: torch.Tensor, pose: torch.Tensor, query_points: torch.Tensor,
                       distance: torch.Tensor, index: torch.Tensor) -> None:
    """Fill distance (N,K) and index (N,K) int64; inputs validated, contiguous, one device, N > 0."""
    points, per_env = _cloud(object_points)
    query = wp.from_torch(query_points, dtype=_vec3_type(query_points))
    _launch(nearest_kernel, tuple(distance.shape), pose,
            [points, per_env, wp.from_torch(pose), query, wp.from_torch(distance), wp.from_torch(index)])
