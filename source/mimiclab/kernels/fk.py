"""Batched forward kinematics of a floating-base tree: torch reference + C++ / CUDA dispatch.

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
from mimiclab.kernels.checks import resolve_backend
from mimiclab.kernels.quat import quat_from_axis_angle, quat_mul, quat_rotate

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
            bp = pos[p] + quat_rotate(quat[p], t["local_pos"][b].expand_as(pos[p]))
            bq = quat_mul(quat[p], t["local_quat"][b].expand_as(quat[p]))
        j = joint_index[b]
        if j >= 0:
            rot = quat_from_axis_angle(t["joint_axis"][b].expand_as(bp), joint_pos[:, j])
            anchor = t["joint_anchor"][b].expand_as(bp)
            bp = bp + quat_rotate(bq, anchor - quat_rotate(rot, anchor))
            bq = quat_mul(bq, rot)
        pos.append(bp)
        quat.append(bq)
    return torch.stack(pos, dim=1), torch.stack(quat, dim=1)


def _check_inputs(tree: Any, root_pos: torch.Tensor, root_quat: torch.Tensor, joint_pos: torch.Tensor) -> None:
    for name, x in (("root_pos", root_pos), ("root_quat", root_quat), ("joint_pos", joint_pos)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
        if x.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"{name}: expected float32 or float64, got {x.dtype}")
        if x.dtype != root_pos.dtype or x.device != root_pos.device:
            raise ValueError(f"{name}: dtype/device {x.dtype}/{x.device} differs from root_pos "
                             f"{root_pos.dtype}/{root_pos.device}")
    n = root_pos.shape[0] if root_pos.dim() == 2 else -1
    expected = {"root_pos": (n, 3), "root_quat": (n, 4), "joint_pos": (n, tree.num_joints)}
    for name, x in (("root_pos", root_pos), ("root_quat", root_quat), ("joint_pos", joint_pos)):
        if tuple(x.shape) != expected[name]:
            raise ValueError(f"{name}: expected shape {expected[name]}, got {tuple(x.shape)}")


def forward_kinematics(tree: Any, root_pos: torch.Tensor, root_quat: torch.Tensor,
                       joint_pos: torch.Tensor, backend: str = "auto",
                       num_threads: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Dispatch to `backend` ('auto' | 'cpp' | 'cuda' | 'torch'); see the module docstring."""
    _check_inputs(tree, root_pos, root_quat, joint_pos)
    backend = resolve_backend(backend, root_pos.device)
    if backend == "torch":
        return fk_reference(tree, root_pos, root_quat, joint_pos)
    if backend == "warp":
        raise RuntimeError("backend 'warp' has no forward kinematics yet")
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
