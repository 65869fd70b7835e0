"""The two skeleton graphs of the learned retargeter: human body roles and the G1 joint tree.

Adjacencies are symmetric-normalised with self loops, D^-1/2 (A + I) D^-1/2, as in graph
convolutional networks.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from mimiclab.retarget.scaling import ORDER, ROLE_TREE

HUMAN_ROLES: tuple[str, ...] = ("pelvis",) + tuple(ORDER)  # 17 nodes
LIMB_GROUPS: tuple[str, ...] = ("hips", "legs", "feet", "torso", "shoulders", "arms")


def _normalised(adjacency: np.ndarray) -> torch.Tensor:
    a = adjacency + np.eye(adjacency.shape[0])
    d = 1.0 / np.sqrt(a.sum(1))
    return torch.as_tensor(d[:, None] * a * d[None, :], dtype=torch.float32)


@lru_cache(maxsize=None)
def human_adjacency() -> torch.Tensor:
    """(R,R) normalised adjacency of the role tree (``scaling.ROLE_TREE``)."""
    n = len(HUMAN_ROLES)
    a = np.zeros((n, n))
    for role, (parent, _) in ROLE_TREE.items():
        i, j = HUMAN_ROLES.index(role), HUMAN_ROLES.index(parent)
        a[i, j] = a[j, i] = 1.0
    return _normalised(a)


@lru_cache(maxsize=None)
def robot_adjacency() -> torch.Tensor:
    """(J+1,J+1) normalised adjacency: node 0 the floating root, node 1 + j joint j of the G1
    (``G1.joint_names`` order), each joint linked to the nearest jointed ancestor (or the root)."""
    from mimiclab.robots.g1 import G1
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    tree = g1_kinematic_tree()
    parent, joint_index = tree.parent.tolist(), tree.joint_index.tolist()
    column = [G1.joint_names.index(n) for n in tree.joint_names]  # tree column → G1 order
    n = len(G1.joint_names) + 1
    a = np.zeros((n, n))
    for b, j in enumerate(joint_index):
        if j < 0:
            continue
        p = parent[b]
        while p >= 0 and joint_index[p] < 0:
            p = parent[p]
        other = 0 if p < 0 else 1 + column[joint_index[p]]
        me = 1 + column[j]
        a[me, other] = a[other, me] = 1.0
    return _normalised(a)
