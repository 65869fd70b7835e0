"""Batched forward kinematics of a floating-base tree: torch reference + C++ / CUDA / Warp dispatch.

    body_pos, body_quat = forward_kinematics(tree, root_pos, root_quat, joint_pos)

tree: a ``mimiclab.robots.kinematic_tree.KinematicTree`` (or any object with its array fields).
root_pos (N,3) [m], root_quat (N,4) wxyz, joint_pos (N,J) [rad] in ``tree.joint_names`` order.
Returns body_pos (N,B,3) [m] and body_quat (N,B,4) wxyz in ``tree.body_names`` order, with the
dtype and device of the inputs. float32 and float64 are supported by every backend.
"""

from __future__ import annotations

from typing import Any

import torch

from mimiclab.kernels import backends
from mimiclab.kernels.buffers import as_buffer
from mimiclab.kernels.checks import as_tensor, check_tensor, resolve_backend
from mimiclab.rotations.torch_ops import quat_apply, quat_from_axis_angle, quat_mul

_TREE_FLOAT_FIELDS = ("local_pos", "local_quat", "joint_axis", "joint_anchor")
_tree_cache: dict[tuple[int, str, torch.dtype], dict[str, torch.Tensor]] = {}


def tree_tensors(tree: Any, device: torch.device | str, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The tree's arrays as contiguous tensors on `device` (floats in `dtype`), cached per tree."""
    key = (id(tree), str(device), dtype)
    cached = _tree_cache.get(key)
    if cached is None:
        cached = {f: torch.as_tensor(getattr(tree, f), dtype=dtype, device=device).contiguous()
                  for f in _TREE_FLOAT_FIELDS}
        for f in ("parent", "joint_index"):
            cached[f] = torch.as_tensor(getattr(tree, f), dtype=torch.int32, device=device).contiguous()
        cached["_tree"] = tree  # keeps id(tree) alive and unique while cached
        _tree_cache[key] = cached
    return cached


def fk_reference(tree: Any, root_pos: torch.Tensor, root_quat: torch.Tensor,
                 joint_pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Readable torch reference: walk the bodies in topological order, vectorised over N."""
    t = tree_tensors(tree, root_pos.device, root_pos.dtype)
    parent = tree.parent.tolist()
    joint_index = tree.joint_index.tolist()
    pos: list[torch.Tensor] = []
    quat: list[torch.Tensor] = []
    for b, p in enumerate(parent):
        if p < 0:
            bp, bq = root_pos, root_quat
        else:
            bp = pos[p] + quat_apply(quat[p], t["local_pos"][b].expand_as(pos[p]))
            bq = quat_mul(quat[p], t["local_quat"][b].expand_as(quat[p]))
        j = joint_index[b]
        if j >= 0:
            rot = quat_from_axis_angle(t["joint_axis"][b].expand_as(bp), joint_pos[:, j])
            anchor = t["joint_anchor"][b].expand_as(bp)
            bp = bp + quat_apply(bq, anchor - quat_apply(rot, anchor))
            bq = quat_mul(bq, rot)
        pos.append(bp)
        quat.append(bq)
    return torch.stack(pos, dim=1), torch.stack(quat, dim=1)


def _check_inputs(tree: Any, root_pos, root_quat, joint_pos) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tensors (numpy accepted) of one float dtype and device with shapes (N,3), (N,4), (N,J), no NaN."""
    root_pos = as_tensor("root_pos", root_pos)
    n = root_pos.shape[0] if root_pos.dim() == 2 else None
    check_tensor("root_pos", root_pos, (n, 3))
    root_quat = as_tensor("root_quat", root_quat)
    check_tensor("root_quat", root_quat, (n, 4), dtypes=(root_pos.dtype,), device=root_pos.device)
    joint_pos = as_tensor("joint_pos", joint_pos)
    check_tensor("joint_pos", joint_pos, (n, tree.num_joints), dtypes=(root_pos.dtype,), device=root_pos.device)
    return root_pos, root_quat, joint_pos


def forward_kinematics(tree: Any, root_pos: torch.Tensor, root_quat: torch.Tensor,
                       joint_pos: torch.Tensor, backend: str = "auto",
                       num_threads: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Dispatch to `backend` ('auto' | 'cpp' | 'cuda' | 'warp' | 'torch'); see the module docstring."""
    root_pos, root_quat, joint_pos = _check_inputs(tree, root_pos, root_quat, joint_pos)
    backend = resolve_backend(backend, root_pos.device)
    if backend == "torch":
        return fk_reference(tree, root_pos, root_quat, joint_pos)
    if backend == "warp":
        from mimiclab.kernels.warp_fk import fk_forward_warp

        return fk_forward_warp(tree_tensors(tree, root_pos.device, root_pos.dtype), root_pos, root_quat, joint_pos)
    module = backends.cpp_module() if backend == "cpp" else backends.cuda_module()
    n, nb = root_pos.shape[0], tree.num_bodies
    root_pos, root_quat, joint_pos = (x.contiguous() for x in (root_pos, root_quat, joint_pos))
    body_pos = torch.empty((n, nb, 3), dtype=root_pos.dtype, device=root_pos.device)
    body_quat = torch.empty((n, nb, 4), dtype=root_pos.dtype, device=root_pos.device)
    t = tree_tensors(tree, root_pos.device, root_pos.dtype)
    tree_buffers = {k: as_buffer(k, v) for k, v in t.items() if not k.startswith("_")}
    args = [tree_buffers, as_buffer("root_pos", root_pos), as_buffer("root_quat", root_quat),
            as_buffer("joint_pos", joint_pos), as_buffer("body_pos", body_pos),
            as_buffer("body_quat", body_quat)]
    if backend == "cpp":
        module.fk_forward(*args, num_threads=num_threads)
    else:
        with torch.cuda.device(root_pos.device):
            module.fk_forward(*args)
    return body_pos, body_quat


def attached_points(body_pos: torch.Tensor, body_quat: torch.Tensor, body_index, offset) -> torch.Tensor:
    """World positions (N,M,3) [m] of M points rigidly attached to bodies (e.g. a virtual toe).

    body_pos (N,B,3) [m] and body_quat (N,B,4) wxyz from ``forward_kinematics``; body_index (M,)
    integer body indices; offset (M,3) [m] in the body frame (tensor or numpy; the small
    body_index/offset arrays are moved to the poses' device and dtype). Any device, differentiable.
    """
    for name, x, width in (("body_pos", body_pos, 3), ("body_quat", body_quat, 4)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 3 or x.shape[-1] != width:
            raise ValueError(f"{name}: expected shape (N, B, {width}), got {tuple(x.shape)}")
    if body_quat.shape[:2] != body_pos.shape[:2] or body_quat.dtype != body_pos.dtype or body_quat.device != body_pos.device:
        raise ValueError(f"body_quat: {tuple(body_quat.shape)} {body_quat.dtype} on {body_quat.device} does not "
                         f"match body_pos {tuple(body_pos.shape)} {body_pos.dtype} on {body_pos.device}")
    index = torch.as_tensor(body_index, device=body_pos.device)
    if index.dim() != 1 or (index.numel() and index.is_floating_point()) or index.dtype == torch.bool:
        raise ValueError(f"body_index: expected a 1-d integer array (M,), got {tuple(index.shape)} {index.dtype}")
    index = index.long()
    m, nb = index.shape[0], body_pos.shape[1]
    offset = torch.as_tensor(offset, dtype=body_pos.dtype, device=body_pos.device)
    if tuple(offset.shape) != (m, 3):
        raise ValueError(f"offset: expected shape ({m}, 3), got {tuple(offset.shape)}")
    if m and (int(index.min()) < 0 or int(index.max()) >= nb):
        raise ValueError(f"body_index: values must lie in [0, {nb}), got {index.tolist()}")
    pos, quat = body_pos[:, index], body_quat[:, index]  # (N,M,3), (N,M,4)
    return pos + quat_apply(quat, offset.expand_as(pos))
