"""Per-limb scaling: give the human role skeleton the G1's proportions, frame by frame.

Each role hangs from a parent role; its offset from the parent is scaled by the ratio of the G1's
segment length to the human's (median over the clip) for that limb group, and the chain is
rebuilt from the pelvis down/out. The pelvis trajectory is scaled by the leg ratio, so stride
length and pelvis height follow the robot's legs.
"""

from __future__ import annotations

import numpy as np

# role → (parent role, limb group)
ROLE_TREE = {
    "left_hip": ("pelvis", "hips"), "right_hip": ("pelvis", "hips"),
    "left_knee": ("left_hip", "legs"), "right_knee": ("right_hip", "legs"),
    "left_ankle": ("left_knee", "legs"), "right_ankle": ("right_knee", "legs"),
    "left_toe": ("left_ankle", "feet"), "right_toe": ("right_ankle", "feet"),
    "chest": ("pelvis", "torso"), "head": ("chest", "torso"),
    "left_shoulder": ("chest", "shoulders"), "right_shoulder": ("chest", "shoulders"),
    "left_elbow": ("left_shoulder", "arms"), "right_elbow": ("right_shoulder", "arms"),
    "left_wrist": ("left_elbow", "arms"), "right_wrist": ("right_elbow", "arms"),
}
ORDER = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_toe",
         "right_toe", "chest", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
         "left_wrist", "right_wrist")


def segment_lengths(roles: dict[str, np.ndarray]) -> dict[str, float]:
    """Summed median segment length per limb group [m] over the roles present; for 'hips' the
    median distance between the two hips (hip joint centres sit at different depths below the
    pelvis joint in each skeleton, so only the width is comparable)."""
    out: dict[str, float] = {}
    if "left_hip" in roles and "right_hip" in roles:
        width = np.linalg.norm(roles["left_hip"] - roles["right_hip"], axis=-1)
        out["hips"] = float(np.median(width[np.isfinite(width)]))
    for role, (parent, group) in ROLE_TREE.items():
        if group == "hips":
            continue
        if role in roles and parent in roles:
            d = np.linalg.norm(roles[role] - roles[parent], axis=-1)
            d = d[np.isfinite(d)]
            if d.size:
                out[group] = out.get(group, 0.0) + float(np.median(d))
    return out


def limb_scales(human: dict[str, float], robot: dict[str, float]) -> dict[str, float]:
    """Robot / human length per limb group (groups missing on either side: the leg ratio)."""
    leg = robot["legs"] / human["legs"]
    return {g: (robot[g] / human[g] if g in human and g in robot and human[g] > 1e-6 else leg)
            for g in set(human) | set(robot) | {"legs"}}


def rescale_roles(roles: dict[str, np.ndarray], scales: dict[str, float]) -> dict[str, np.ndarray]:
    """Role positions with each segment scaled by its group's factor (pelvis scaled by 'legs')."""
    out = {"pelvis": roles["pelvis"] * scales["legs"]}
    for role in ORDER:
        if role not in roles:
            continue
        parent, group = ROLE_TREE[role]
        out[role] = out[parent] + scales[group] * (roles[role] - roles[parent])
    return out
