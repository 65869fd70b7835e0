"""Warp backend of batched forward kinematics (same math as ``csrc/fk/fk.h``: ``fk_item``).

One Warp thread per batch item walks the bodies in topological order: body 0 (parent -1) takes
the root pose, every other body is parent pose ∘ local (pos, quat), then, when it has a hinge,
is rotated about ``joint_anchor`` by ``joint_pos[n, joint_index[b]]`` about ``joint_axis``.
Runs on Warp's "cpu" device and on "cuda:i"; float32 and float64 are both native (one generic
kernel with two overloads, compiled together on first use and cached by Warp on disk).

Quaternions are (w, x, y, z) stored in ``wp.vec4``/``wp.vec4d`` — *not* ``wp.quat`` (x, y, z, w).
Isaac Lab's XYZW quaternions must be reordered before they enter here.

Two entry points:

* ``fk_forward_warp(tree_tensors, root_pos, root_quat, joint_pos)`` — torch tensors in and out,
  zero-copy (``wp.from_torch``) on the tensors' device, launched on torch's current CUDA stream.
* ``fk_forward_warp_arrays(tree_arrays, root_pos, root_quat, joint_pos, body_pos, body_quat)`` —
  Warp arrays in, outputs written in place: for use inside Isaac Lab on the sim device. Build
  ``tree_arrays`` once with ``warp_tree_arrays(tree_tensors)`` (validates the tree's contents).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch

from mimiclab.kernels import backends
from mimiclab.kernels.warp_quat import quat_from_axis_angle, quat_mul, quat_rotate

wp = backends.warp_module()  # imports and initialises warp quietly
if wp is None:  # pragma: no cover - the front-end only imports this module when warp exists
    raise ImportError("warp-lang is not installed: the 'warp' backend is unavailable")

_TREE_VEC_FIELDS = {"local_pos": 3, "local_quat": 4, "joint_axis": 3, "joint_anchor": 3}
_TREE_INT_FIELDS = ("parent", "joint_index")
# scalar -> (vec3, vec4) of the two compiled overloads
_VEC_TYPES = {wp.float32: (wp.vec3f, wp.vec4f), wp.float64: (wp.vec3d, wp.vec4d)}
_TORCH_TO_WP = {torch.float32: wp.float32, torch.float64: wp.float64}


@wp.kernel(enable_backward=False)
def _fk_kernel(
    parent: wp.array[wp.int32],
    joint_index: wp.array[wp.int32],
    local_pos: wp.array[Any],
    local_quat: wp.array[Any],
    joint_axis: wp.array[Any],
    joint_anchor: wp.array[Any],
    root_pos: wp.array[Any],
    root_quat: wp.array[Any],
    joint_pos: wp.array2d[Any],
    body_pos: wp.array2d[Any],
    body_quat: wp.array2d[Any],
):
    n = wp.tid()
    for b in range(parent.shape[0]):
        p = root_pos[n]
        q = root_quat[n]
        pb = parent[b]
        if pb >= 0:
            pq = body_quat[n, pb]
            p = body_pos[n, pb] + quat_rotate(pq, local_pos[b])
            q = quat_mul(pq, local_quat[b])
        j = joint_index[b]
        if j >= 0:
            # rotate about the anchor a: x -> a + R (x - a), so the origin moves by a - R a
            rot = quat_from_axis_angle(joint_axis[b], joint_pos[n, j], q)
            a = joint_anchor[b]
            p = p + quat_rotate(q, a - quat_rotate(rot, a))
            q = quat_mul(q, rot)
        body_pos[n, b] = p
        body_quat[n, b] = q


def _overload_types(scalar) -> list:
    v3, v4 = _VEC_TYPES[scalar]
    return [wp.array[wp.int32], wp.array[wp.int32], wp.array[v3], wp.array[v4], wp.array[v3],
            wp.array[v3], wp.array[v3], wp.array[v4], wp.array2d[scalar], wp.array2d[v3],
            wp.array2d[v4]]


_KERNELS = {scalar: wp.overload(_fk_kernel, _overload_types(scalar)) for scalar in _VEC_TYPES}


# ---------------------------------------------------------------------------------------------
# Warp-array entry point (Isaac Lab / sim device).
# ---------------------------------------------------------------------------------------------

def _vec_view(name: str, a, length: int, ndim: int):
    """`a` as an array of vec<length> with `ndim` dims: accepts vec arrays as they are, or scalar
    arrays with one extra trailing dimension of size `length` (contiguous), viewed without a copy."""
    if not isinstance(a, wp.array):
        raise TypeError(f"{name}: expected a wp.array, got {type(a).__name__}")
    dt = a.dtype
    if wp.types.type_is_quaternion(dt):
        raise ValueError(f"{name}: wp.quat arrays are xyzw; pass (w, x, y, z) as vec4 or a (..., 4) float array")
    if wp.types.type_is_vector(dt):
        if dt._length_ != length or a.ndim != ndim or dt._wp_scalar_type_ not in _VEC_TYPES:
            raise ValueError(f"{name}: expected a {ndim}-d array of float32/float64 vec{length}, "
                             f"got {a.ndim}-d {dt.__name__}")
        return a
    if dt not in _VEC_TYPES or a.ndim != ndim + 1 or a.shape[-1] != length:
        raise ValueError(f"{name}: expected a {ndim}-d vec{length} array or a float32/float64 array of shape "
                         f"(..., {length}) with {ndim + 1} dims, got {a.ndim}-d {wp.types.type_repr(dt)} "
                         f"of shape {a.shape}")
    elem = wp.types.type_size_in_bytes(dt)
    if a.strides[-1] != elem:
        raise ValueError(f"{name}: the trailing dimension of size {length} must be contiguous")
    vec = _VEC_TYPES[dt][0 if length == 3 else 1]
    return wp.array(ptr=a.ptr, dtype=vec, shape=a.shape[:-1], strides=a.strides[:-1],
                    device=a.device, copy=False)


def fk_forward_warp_arrays(tree_arrays: dict[str, Any], root_pos, root_quat, joint_pos,
                           body_pos, body_quat, stream=None) -> None:
    """Launch FK on Warp arrays; writes body_pos/body_quat in place, on their device.

    tree_arrays: from ``warp_tree_arrays`` (B bodies). root_pos (N,) vec3 or (N,3) [m],
    root_quat (N,) vec4 or (N,4) wxyz, joint_pos (N,J) [rad], body_pos (N,B) vec3 or (N,B,3),
    body_quat (N,B) vec4 or (N,B,4) — all float32 or all float64, on the tree's device.
    `stream`: a ``wp.Stream`` on that device (default: the device's current Warp stream).
    Only metadata is checked here (no device sync); the tree's contents were checked once by
    ``warp_tree_arrays``. Async on CUDA like any launch.
    """
    rp = _vec_view("root_pos", root_pos, 3, 1)
    rq = _vec_view("root_quat", root_quat, 4, 1)
    bp = _vec_view("body_pos", body_pos, 3, 2)
    bq = _vec_view("body_quat", body_quat, 4, 2)
    if not isinstance(joint_pos, wp.array):
        raise TypeError(f"joint_pos: expected a wp.array, got {type(joint_pos).__name__}")
    if joint_pos.dtype not in _VEC_TYPES:
        raise ValueError(f"joint_pos: expected a float32/float64 (N, J) array, got dtype "
                         f"{wp.types.type_repr(joint_pos.dtype)}")
    scalar = tree_arrays["local_pos"].dtype._wp_scalar_type_
    device = tree_arrays["parent"].device
    n, nb, nj = rp.shape[0], tree_arrays["parent"].shape[0], tree_arrays["num_joints"]
    expected = {"root_pos": (rp, (n,)), "root_quat": (rq, (n,)), "joint_pos": (joint_pos, (n, nj)),
                "body_pos": (bp, (n, nb)), "body_quat": (bq, (n, nb))}
    for name, (a, shape) in expected.items():
        a_scalar = a.dtype._wp_scalar_type_ if wp.types.type_is_vector(a.dtype) else a.dtype
        if a_scalar is not scalar:
            raise ValueError(f"{name}: expected {wp.types.type_repr(scalar)} like the tree, got "
                             f"{wp.types.type_repr(a_scalar)}")
        if tuple(a.shape) != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {tuple(a.shape)}")
        if a.device != device:
            raise ValueError(f"{name}: expected device {device} like the tree, got {a.device}")
    if n == 0 or nb == 0:
        return
    _launch(scalar, n, device, tree_arrays, [rp, rq, joint_pos, bp, bq], stream)


def _launch(scalar, n: int, device, tree_arrays: dict[str, Any], batch_args: list, stream) -> None:
    """The launch itself: batch_args are wp.arrays or array descriptors (already checked)."""
    t = tree_arrays
    wp.launch(_KERNELS[scalar], dim=n, device=device, stream=stream,
              inputs=[t["parent"], t["joint_index"], t["local_pos"], t["local_quat"], t["joint_axis"],
                      t["joint_anchor"], *batch_args])


def warp_tree_arrays(tree_tensors: dict[str, torch.Tensor], num_joints: int | None = None) -> dict[str, Any]:
    """Zero-copy Warp views of the tree tensors (see ``mimiclab.kernels.fk.tree_tensors``), after
    checking the tree once: parent[b] < b with body 0 the only root, joint_index in [-1, J).

    The views keep the tensors alive. `num_joints` J defaults to max(joint_index) + 1.
    """
    for f in _TREE_INT_FIELDS + tuple(_TREE_VEC_FIELDS):
        if f not in tree_tensors:
            raise ValueError(f"tree: missing array '{f}'")
    parent, jidx = tree_tensors["parent"], tree_tensors["joint_index"]
    nb = parent.shape[0] if parent.dim() == 1 else -1
    for f in _TREE_INT_FIELDS:
        x = tree_tensors[f]
        if x.dtype != torch.int32 or tuple(x.shape) != (nb,) or x.device != parent.device:
            raise ValueError(f"tree.{f}: expected int32 of shape ({nb},) on {parent.device}, got "
                             f"{x.dtype} {tuple(x.shape)} on {x.device}")
    dtype = tree_tensors["local_pos"].dtype
    if dtype not in _TORCH_TO_WP:
        raise ValueError(f"tree.local_pos: expected float32 or float64, got {dtype}")
    for f, length in _TREE_VEC_FIELDS.items():
        x = tree_tensors[f]
        if x.dtype != dtype or tuple(x.shape) != (nb, length) or x.device != parent.device:
            raise ValueError(f"tree.{f}: expected {dtype} of shape ({nb}, {length}) on {parent.device}, "
                             f"got {x.dtype} {tuple(x.shape)} on {x.device}")
    p, j = parent.cpu().tolist(), jidx.cpu().tolist()
    for b in range(nb):
        if (b == 0) != (p[b] < 0) or p[b] >= b:
            raise ValueError(f"tree.parent: body {b} has parent {p[b]} (need -1 for body 0, 0 <= parent < b otherwise)")
    nj = (max(j) + 1 if j else 0) if num_joints is None else int(num_joints)
    for b in range(nb):
        if not -1 <= j[b] < nj:
            raise ValueError(f"tree.joint_index: body {b} refers to joint column {j[b]}, outside [-1, {nj})")
    scalar = _TORCH_TO_WP[dtype]
    arrays: dict[str, Any] = {f: wp.from_torch(tree_tensors[f].contiguous(), dtype=wp.int32, requires_grad=False)
                              for f in _TREE_INT_FIELDS}
    for f, length in _TREE_VEC_FIELDS.items():
        vec = _VEC_TYPES[scalar][0 if length == 3 else 1]
        arrays[f] = wp.from_torch(tree_tensors[f].contiguous(), dtype=vec, requires_grad=False)
    arrays["num_joints"] = nj
    return arrays


# Checked tree views, keyed by the ids of the tree tensors (the entry holds them, so ids stay unique).
_tree_array_cache: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_TREE_CACHE_SIZE = 8


def _cached_tree_arrays(tree_tensors: dict[str, torch.Tensor], num_joints: int) -> dict[str, Any]:
    key = tuple(id(tree_tensors[f]) for f in _TREE_INT_FIELDS + tuple(_TREE_VEC_FIELDS)) + (num_joints,)
    arrays = _tree_array_cache.get(key)
    if arrays is None:
        arrays = warp_tree_arrays(tree_tensors, num_joints)
        arrays["_tensors"] = [tree_tensors[f] for f in _TREE_INT_FIELDS + tuple(_TREE_VEC_FIELDS)]
        _tree_array_cache[key] = arrays
        while len(_tree_array_cache) > _TREE_CACHE_SIZE:
            _tree_array_cache.popitem(last=False)
    else:
        _tree_array_cache.move_to_end(key)
    return arrays


# ---------------------------------------------------------------------------------------------
# torch entry point
# ---------------------------------------------------------------------------------------------

def fk_forward_warp(tree_tensors: dict[str, torch.Tensor], root_pos: torch.Tensor, root_quat: torch.Tensor,
                    joint_pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """FK with Warp on the inputs' device ("cpu" or "cuda:i"), zero-copy.

    tree_tensors: ``mimiclab.kernels.fk.tree_tensors(tree, device, dtype)`` (B bodies, same
    device/dtype as the inputs). root_pos (N,3) [m], root_quat (N,4) wxyz, joint_pos (N,J) [rad],
    float32 or float64. Returns body_pos (N,B,3) [m], body_quat (N,B,4) wxyz, new tensors on the
    same device. Non-contiguous inputs are made contiguous (the only copy ever made).
    """
    for name, x in (("root_pos", root_pos), ("root_quat", root_quat), ("joint_pos", joint_pos)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
        if x.dtype not in _TORCH_TO_WP:
            raise ValueError(f"{name}: expected float32 or float64, got {x.dtype}")
        if x.dtype != root_pos.dtype or x.device != root_pos.device:
            raise ValueError(f"{name}: dtype/device {x.dtype}/{x.device} differs from root_pos "
                             f"{root_pos.dtype}/{root_pos.device}")
        if x.dim() != 2:
            raise ValueError(f"{name}: expected a 2-d tensor, got shape {tuple(x.shape)}")
    tl = tree_tensors["local_pos"]
    if tl.dtype != root_pos.dtype or tl.device != root_pos.device:
        raise ValueError(f"tree tensors are {tl.dtype} on {tl.device}, inputs {root_pos.dtype} on "
                         f"{root_pos.device}: build them with tree_tensors(tree, device, dtype)")
    n, nj, nb = root_pos.shape[0], joint_pos.shape[1], tree_tensors["parent"].shape[0]
    for name, x, shape in (("root_pos", root_pos, (n, 3)), ("root_quat", root_quat, (n, 4)),
                           ("joint_pos", joint_pos, (n, nj))):
        if tuple(x.shape) != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {tuple(x.shape)}")
    body_pos = torch.empty((n, nb, 3), dtype=root_pos.dtype, device=root_pos.device)
    body_quat = torch.empty((n, nb, 4), dtype=root_pos.dtype, device=root_pos.device)
    tree = _cached_tree_arrays(tree_tensors, nj)
    if n == 0 or nb == 0:
        return body_pos, body_quat
    scalar = _TORCH_TO_WP[root_pos.dtype]
    v3, v4 = _VEC_TYPES[scalar]
    # array descriptors (return_ctype) skip wp.array construction: shapes were checked above
    args = [wp.from_torch(x.contiguous(), dtype=d, requires_grad=False, return_ctype=True)
            for x, d in ((root_pos, v3), (root_quat, v4), (joint_pos, scalar), (body_pos, v3), (body_quat, v4))]
    device = tree["parent"].device
    stream = wp.stream_from_torch(root_pos.device) if device.is_cuda else None
    _launch(scalar, n, device, tree, args, stream)
    return body_pos, body_quat


__all__ = ["fk_forward_warp", "fk_forward_warp_arrays", "warp_tree_arrays"]
