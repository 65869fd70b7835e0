"""The robot side of retargeting: which G1 body (or point) follows each role (g1_targets.yaml),
the G1's own segment lengths, and its virtual foot points."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mimiclab.retarget.skeleton_map import CONFIG_DIR


@dataclass(frozen=True)
class BodyTarget:
    body: str
    role: str
    offset: tuple[float, float, float]
    pos_weight: float
    rot: str | None
    rot_weight: float


@dataclass(frozen=True)
class RobotTargets:
    targets: tuple[BodyTarget, ...]
    toe: tuple[float, float, float]
    heel: tuple[float, float, float]
    contact_height: float
    contact_speed: float
    contact_min_frames: int


@lru_cache(maxsize=1)
def g1_targets() -> RobotTargets:
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "g1_targets.yaml"))
    targets = tuple(BodyTarget(t["body"], t["role"], tuple(t.get("offset", (0.0, 0.0, 0.0))),
                               float(t.get("pos_weight", 1.0)), t.get("rot"), float(t.get("rot_weight", 0.0)))
                    for t in cfg["targets"])
    fp, c = cfg["foot_points"], cfg["contact"]
    return RobotTargets(targets, tuple(fp["toe"]), tuple(fp["heel"]), float(c["height"]), float(c["speed"]),
                        int(c["min_frames"]))


@lru_cache(maxsize=1)
def g1_role_points() -> dict[str, np.ndarray]:
    """World positions (3,) of every role's robot point at the G1 default standing pose, plus the
    toes (the virtual toe point)."""
    import torch

    from mimiclab.kernels import forward_kinematics
    from mimiclab.robots.g1 import G1
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree
    from mimiclab.rotations.torch_ops import quat_apply

    tree = g1_kinematic_tree()
    q = torch.tensor([[j.default_pos for j in G1.joints]], dtype=torch.float64)
    pos, quat = forward_kinematics(tree, torch.tensor([[0.0, 0.0, G1.default_root_height]], dtype=torch.float64),
                                   torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64), q, backend="torch")

    def point(body: str, offset) -> np.ndarray:
        b = G1.body_names.index(body)
        off = torch.tensor(offset, dtype=torch.float64)
        return (pos[0, b] + quat_apply(quat[0, b], off)).numpy()

    rt = g1_targets()
    out = {t.role: point(t.body, t.offset) for t in rt.targets}
    for side in ("left", "right"):
        out[f"{side}_toe"] = point(f"{side}_ankle_roll_link", rt.toe)
    return out
