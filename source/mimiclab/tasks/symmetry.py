"""Left-right symmetry of the tracking-family tasks for rsl_rl's ``Symmetry`` extension.

``mirror_augmentation(env, obs, actions)`` is the ``data_augmentation_func`` of
``RslRlSymmetryCfg``: it returns the batch followed by its mirror image (batch size doubled), for
data augmentation and/or the mirror loss. The mirror of every observation term follows
``mimiclab.deploy.tracking_mdp.OBSERVATION_MIRROR`` (by term name; the layout of each group is read
from the env's observation manager), joints and bodies are swapped with their twins and signed by
``mimiclab.robots.mirror``. A group is mirrored by one gather and one multiply: mirrored[:, i] =
sign[i] · x[:, index[i]].
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import torch

from mimiclab.deploy.tracking_mdp import OBSERVATION_MIRROR
from mimiclab.robots.mirror import index_mirror, joint_mirror

__all__ = ["GroupMirror", "mirror_augmentation", "env_mirrors"]

_VECTOR = ((0, 1, 2), (1.0, -1.0, 1.0))  # polar vector: y → −y
_AXIAL = ((0, 1, 2), (-1.0, 1.0, -1.0))  # angular velocity: det(M)·M·ω
_ORI6 = (tuple(range(6)), (1.0, -1.0, -1.0, 1.0, 1.0, -1.0))  # M R M on R[:, :2] row by row


def _bodies(perm: Sequence[int], unit: tuple) -> tuple[tuple[int, ...], tuple[float, ...]]:
    idx, sign = unit
    n = len(idx)
    return (tuple(perm[b] * n + c for b in range(len(perm)) for c in idx),
            tuple(s for _ in perm for s in sign))


class GroupMirror:
    """The mirror of one concatenated observation group (or of the actions).

    layout: [(term name, dim)] in group order; joint_names: the articulation's joint order (joint
    terms); action_joint_names: the action's joint order ("actions" terms); body_names: the tracked
    bodies (body terms). ``__call__(x (N, D)) -> (N, D)``; applying it twice gives x back.
    """

    def __init__(self, layout: Sequence[tuple[str, int]], joint_names: Sequence[str],
                 action_joint_names: Sequence[str], body_names: Sequence[str] = (), where: str = "observations"):
        joints, actions = joint_mirror(joint_names), joint_mirror(action_joint_names)
        units = {"joints": (joints.perm, joints.sign), "actions": (actions.perm, actions.sign),
                 "vector": _VECTOR, "axial": _AXIAL, "ori6": _ORI6}
        if body_names:
            bodies = index_mirror(body_names)
            units["body_vectors"] = _bodies(bodies, _VECTOR)
            units["body_ori6"] = _bodies(bodies, _ORI6)
        index, sign, start = [], [], 0
        for name, dim in layout:
            kind = OBSERVATION_MIRROR.get(name)
            if kind is None:
                raise KeyError(f"symmetry: {where} term '{name}' is not in "
                               "mimiclab.deploy.tracking_mdp.OBSERVATION_MIRROR (how it mirrors)")
            if kind not in units:
                raise ValueError(f"symmetry: {where} term '{name}' mirrors per tracked body, but no bodies were given")
            u_idx, u_sign = units[kind]
            if dim % len(u_idx):
                raise ValueError(f"symmetry: {where} term '{name}' has {dim} numbers, not a multiple of its "
                                 f"{kind} unit ({len(u_idx)})")
            for k in range(dim // len(u_idx)):
                index += [start + k * len(u_idx) + i for i in u_idx]
                sign += list(u_sign)
            start += dim
        self.dim = start
        self.index = torch.tensor(index, dtype=torch.long)
        self.sign = torch.tensor(sign, dtype=torch.float32)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"symmetry: expected {self.dim} numbers per row, got {tuple(x.shape)}")
        if self.index.device != x.device:
            self.index, self.sign = self.index.to(x.device), self.sign.to(x.device)
        return x[..., self.index] * self.sign.to(x.dtype)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def env_mirrors(env, action_term: str = "joint_pos", command_name: str = "motion") -> dict[str, GroupMirror]:
    """{observation group: GroupMirror, "__actions__": GroupMirror} of a manager-based env (or a
    wrapper of one), built once per env."""
    base = getattr(env, "unwrapped", env)
    got = _CACHE.get(base)
    if got is not None:
        return got
    robot = base.scene["robot"]
    term_cfg = base.action_manager.get_term(action_term).cfg
    ids, _ = robot.find_joints(term_cfg.joint_names, preserve_order=term_cfg.preserve_order)
    action_names = [robot.joint_names[i] for i in ids]
    body_names = list(base.command_manager.get_term(command_name).body_names)
    om = base.observation_manager
    mirrors = {}
    for group, names in om.active_terms.items():
        dims = [int(torch.Size(d).numel()) for d in om.group_obs_term_dim[group]]
        mirrors[group] = GroupMirror(list(zip(names, dims)), robot.joint_names, action_names, body_names,
                                     where=f"'{group}' group")
    mirrors["__actions__"] = GroupMirror([("actions", len(action_names))], robot.joint_names, action_names,
                                         where="actions")
    _CACHE[base] = mirrors
    return mirrors


def mirror_augmentation(env, obs=None, actions: torch.Tensor | None = None):
    """rsl_rl's ``data_augmentation_func``: (obs followed by its mirror, actions followed by theirs);
    None stays None. obs: a TensorDict of observation groups (N, D_g); actions (N, A)."""
    mirrors = env_mirrors(env)
    obs_aug = act_aug = None
    if obs is not None:
        mirrored = obs.clone()
        for group in obs.keys():
            if group not in mirrors:
                raise KeyError(f"symmetry: observation group '{group}' is not one of the env's {sorted(mirrors)}")
            mirrored[group] = mirrors[group](obs[group])
        obs_aug = torch.cat([obs, mirrored], dim=0)
    if actions is not None:
        act_aug = torch.cat([actions, mirrors["__actions__"](actions)], dim=0)
    return obs_aug, act_aug
