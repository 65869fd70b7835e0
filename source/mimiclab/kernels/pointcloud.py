"""Point-cloud object terms for residual loco-manipulation: torch reference + C++ / CUDA / Warp.

    distance, reward = pointcloud_distance(object_points, current_pose, reference_pose, lam=10.0)
    dist, index = pointcloud_nearest(object_points, pose, query_points)

object_points  (P,3) canonical surface points in the object frame [m], shared by every env, or
               (N,P,3) one cloud per env (P >= 1; see ``surface_sampling.sample_surface``).
current_pose, reference_pose, pose
               (N,7) object pose in the world: position [m], then unit quaternion (w, x, y, z).
query_points   (N,K,3) world points [m] (bodies, hands).

distance (N,) [m] = mean_p |T_cur x_p - T_ref x_p|; reward (N,) = exp(-lam * distance).
dist (N,K) [m] = min_p |q_nk - T x_p|; index (N,K) int64 = the minimising p (lowest on ties).

Inputs may be torch tensors or numpy arrays; all share the first pose's dtype (float32 or float64)
and device (numpy arrays are placed there). ``backend``: "auto" (fastest for the device), "cpp",
"cuda", "warp" or "torch" (the readable reference below). Outputs have the inputs' dtype and device;
nothing is copied when the inputs are already contiguous on the backend's device.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mimiclab.kernels import backends
from mimiclab.kernels.buffers import as_buffer
from mimiclab.kernels.checks import as_tensor, check_tensor, resolve_backend
from mimiclab.rotations.torch_ops import quat_apply

# The reference's nearest-point search holds (chunk, K, P, 3) differences at a time.
_REFERENCE_PAIRS_PER_CHUNK = 1 << 22


# ---- readable torch reference ----------------------------------------------------------------------

def pose_points(object_points: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """World positions (N,P,3) [m] of object-frame points (P,3) or (N,P,3) under poses (N,7)."""
    points = object_points.expand(pose.shape[0], -1, -1) if object_points.dim() == 2 else object_points
    return quat_apply(pose[:, None, 3:], points) + pose[:, None, :3]


def pointcloud_distance_reference(object_points: torch.Tensor, current_pose: torch.Tensor,
                                  reference_pose: torch.Tensor,
                                  lam: float = 10.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Pose the cloud twice and average the point-to-point distances: D (N,) [m], exp(-lam D) (N,)."""
    offsets = pose_points(object_points, current_pose) - pose_points(object_points, reference_pose)
    distance = offsets.norm(dim=-1).mean(dim=-1)
    return distance, torch.exp(-lam * distance)


def pointcloud_nearest_reference(object_points: torch.Tensor, pose: torch.Tensor,
                                 query_points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pose the cloud and compare every query with every point: dist (N,K) [m], index (N,K) int64."""
    posed = pose_points(object_points, pose)  # (N,P,3)
    n, k, p = query_points.shape[0], query_points.shape[1], posed.shape[1]
    chunk = max(1, _REFERENCE_PAIRS_PER_CHUNK // max(1, k * p))
    dists, indices = [], []
    for start in range(0, n, chunk):
        diff = query_points[start:start + chunk, :, None, :] - posed[start:start + chunk, None, :, :]
        d, i = diff.norm(dim=-1).min(dim=-1)  # torch returns the first minimal index on ties
        dists.append(d)
        indices.append(i)
    if not dists:
        return (query_points.new_empty((0, k)),
                torch.empty((0, k), dtype=torch.int64, device=query_points.device))
    return torch.cat(dists), torch.cat(indices)


# ---- validation ----------------------------------------------------------------------------------

def _pose(name: str, pose) -> torch.Tensor:
    pose = as_tensor(name, pose)
    check_tensor(name, pose, (None, 7))
    return pose


def _like(name: str, x, first: torch.Tensor, shape) -> torch.Tensor:
    """x as a tensor with `first`'s dtype and device (numpy arrays are moved there, tensors must be)."""
    x = as_tensor(name, x, device=first.device if isinstance(x, np.ndarray) else None)
    check_tensor(name, x, shape, dtypes=(first.dtype,), device=first.device)
    return x


def _cloud(object_points, first: torch.Tensor) -> torch.Tensor:
    """object_points (P,3) or (N,P,3) with P >= 1, N from the poses."""
    n = first.shape[0]
    ndim = object_points.ndim if isinstance(object_points, (torch.Tensor, np.ndarray)) else 2
    if ndim not in (2, 3):
        raise ValueError(f"object_points: expected shape (P, 3) or ({n}, P, 3), got {tuple(object_points.shape)}")
    points = _like("object_points", object_points, first, (n, None, 3) if ndim == 3 else (None, 3))
    if points.shape[-2] < 1:
        raise ValueError(f"object_points: the object cloud needs at least one point, got shape {tuple(points.shape)}")
    return points


def _index_buffer(name: str, t: torch.Tensor) -> tuple[int, tuple[int, ...], str, str]:
    """Buffer descriptor of a contiguous int64 tensor (``as_buffer`` covers the float/int32 ones)."""
    device = "cpu" if t.device.type == "cpu" else f"{t.device.type}:{t.device.index or 0}"
    return (t.data_ptr(), tuple(t.shape), "int64", device)


def _cuda_stream(t: torch.Tensor) -> int:
    return torch.cuda.current_stream(t.device).cuda_stream


# ---- front-ends ----------------------------------------------------------------------------------

def pointcloud_distance(object_points, current_pose, reference_pose, lam: float = 10.0,
                        backend: str = "auto", num_threads: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean correspondence distance D (N,) [m] between the cloud under the current and the
    reference pose, and the reward exp(-lam D) (N,). num_threads: C++ only (0 = all cores)."""
    current_pose = _pose("current_pose", current_pose)
    reference_pose = _like("reference_pose", reference_pose, current_pose, (current_pose.shape[0], 7))
    object_points = _cloud(object_points, current_pose)
    lam = float(lam)
    if not math.isfinite(lam) or lam < 0:
        raise ValueError(f"lam: expected a finite number >= 0, got {lam}")
    backend = resolve_backend(backend, current_pose.device)
    n = current_pose.shape[0]
    if n == 0:
        empty = current_pose.new_empty((0,))
        return empty, empty.clone()
    if backend == "torch":
        return pointcloud_distance_reference(object_points, current_pose, reference_pose, lam)

    object_points, current_pose, reference_pose = (
        x.contiguous() for x in (object_points, current_pose, reference_pose))
    distance = current_pose.new_empty((n,))
    reward = current_pose.new_empty((n,))
    if backend == "warp":
        from mimiclab.kernels import warp_pointcloud

        warp_pointcloud.pointcloud_distance(object_points, current_pose, reference_pose, lam, distance, reward)
        return distance, reward
    args = (as_buffer("object_points", object_points), as_buffer("current_pose", current_pose),
            as_buffer("reference_pose", reference_pose), as_buffer("distance", distance),
            as_buffer("reward", reward), lam)
    if backend == "cpp":
        backends.cpp_module().pointcloud_distance(*args, num_threads=num_threads)
    else:
        with torch.cuda.device(current_pose.device):
            backends.cuda_module().pointcloud_distance(*args, stream=_cuda_stream(current_pose))
    return distance, reward


def pointcloud_nearest(object_points, pose, query_points, backend: str = "auto",
                       num_threads: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Distance (N,K) [m] from each query point to the nearest point of the posed cloud, and that
    point's index (N,K) int64 (lowest index on ties). num_threads: C++ only (0 = all cores)."""
    pose = _pose("pose", pose)
    n = pose.shape[0]
    query_points = _like("query_points", query_points, pose, (n, None, 3))
    object_points = _cloud(object_points, pose)
    backend = resolve_backend(backend, pose.device)
    k = query_points.shape[1]
    if n == 0 or k == 0:
        return pose.new_empty((n, k)), torch.empty((n, k), dtype=torch.int64, device=pose.device)
    if backend == "torch":
        return pointcloud_nearest_reference(object_points, pose, query_points)

    object_points, pose, query_points = (x.contiguous() for x in (object_points, pose, query_points))
    distance = pose.new_empty((n, k))
    index = torch.empty((n, k), dtype=torch.int64, device=pose.device)
    if backend == "warp":
        from mimiclab.kernels import warp_pointcloud

        warp_pointcloud.pointcloud_nearest(object_points, pose, query_points, distance, index)
        return distance, index
    args = (as_buffer("object_points", object_points), as_buffer("pose", pose),
            as_buffer("query_points", query_points), as_buffer("distance", distance),
            _index_buffer("index", index))
    if backend == "cpp":
        backends.cpp_module().pointcloud_nearest(*args, num_threads=num_threads)
    else:
        with torch.cuda.device(pose.device):
            backends.cuda_module().pointcloud_nearest(*args, stream=_cuda_stream(pose))
    return distance, index
