"""Pair files → training windows with augmentation (torch, seeded).

    data = PairSet.load(pair_paths, split="train", mirror=True)
    batch = data.sample(64, 64, generator, Augment())   # dict of (B,W,...) tensors

Augmentation (``Augment``): mirroring (each clip and its left-right mirror, the robot side by
``mimiclab.robots.mirror``), speed warping (windows resampled at a random rate), heading (a random
turn and shift of the whole window about z), bone-length and height scaling (noise on the log
limb-scale features: the pipeline scales every skeleton to the G1 before IK, so the IK target
does not change with them and the network learns to ignore them the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mimiclab.retarget.learned.graph import HUMAN_ROLES
from mimiclab.retarget.learned.pairs import read_pair, split_of

_ROLE_MIRROR = [HUMAN_ROLES.index(r.replace("left_", "@").replace("right_", "left_").replace("@", "right_"))
                for r in HUMAN_ROLES]
_CONTACT_MIRROR = [2, 3, 0, 1]


@dataclass
class Augment:
    """speed: (low, high) playback-rate range; heading: turn the window by up to ±heading rad;
    length_noise / height_noise: std of the per-group / common log-scale noise."""

    speed: tuple[float, float] = (0.8, 1.25)
    heading: float = np.pi
    length_noise: float = 0.1
    height_noise: float = 0.1


def mirror_pair(p: dict) -> dict:
    """The left-right mirror (y → −y) of a pair's arrays."""
    from mimiclab.robots.g1 import G1
    from mimiclab.robots.mirror import joint_mirror

    jm = joint_mirror(G1.joint_names)
    flip = np.array([1.0, -1.0, 1.0], np.float32)
    return {**p, "name": p["name"] + "~mirror",
            "roles": p["roles"][:, _ROLE_MIRROR] * flip, "present": p["present"][_ROLE_MIRROR],
            "contacts": p["contacts"][:, _CONTACT_MIRROR], "root_pos": p["root_pos"] * flip,
            "root_quat": p["root_quat"] * np.array([1.0, -1.0, 1.0, -1.0], np.float32),
            "joint_pos": p["joint_pos"][:, list(jm.perm)] * np.asarray(jm.sign, np.float32)}


class PairSet:
    """Clips of one split, concatenated: per-frame tensors (N,...) and clip start / length."""

    FRAME_KEYS = ("roles", "contacts", "root_pos", "root_quat", "joint_pos")

    def __init__(self, pairs: list[dict]):
        if not pairs:
            raise ValueError("no training pairs in this split")
        self.names = [p["name"] for p in pairs]
        self.lengths = torch.tensor([p["roles"].shape[0] for p in pairs])
        self.starts = torch.cumsum(self.lengths, 0) - self.lengths
        self.frames = {k: torch.as_tensor(np.concatenate([p[k] for p in pairs]).astype(np.float32)) for k in self.FRAME_KEYS}
        self.present = torch.as_tensor(np.stack([p["present"] for p in pairs]))
        self.log_scales = torch.as_tensor(np.stack([p["log_scales"] for p in pairs]).astype(np.float32))
        self.fps = float(pairs[0]["meta"]["fps"])

    @classmethod
    def load(cls, paths: list[str], split: str | None = None, mirror: bool = False) -> "PairSet":
        """Pairs of `split` ('train' / 'test' / None: all), with their mirrors when `mirror`."""
        pairs = [p for p in (read_pair(x) for x in paths) if split is None or split_of(p["name"]) == split]
        return cls(pairs + ([mirror_pair(p) for p in pairs] if mirror else []))

    @property
    def num_frames(self) -> int:
        return int(self.lengths.sum())

    def clip(self, i: int) -> dict[str, torch.Tensor]:
        """Clip i as a batch of one: {key: (1,T,...)}, present (1,R), log_scales (1,G)."""
        s, n = int(self.starts[i]), int(self.lengths[i])
        out = {k: v[s:s + n][None] for k, v in self.frames.items()}
        return {**out, "present": self.present[i:i + 1], "log_scales": self.log_scales[i:i + 1]}

    def sample(self, batch: int, window: int, gen: torch.Generator, aug: Augment | None = None) -> dict:
        """`batch` windows of `window` frames from clips drawn by length; with `aug`, resampled at a
        random rate, turned and shifted about z, and with noisy limb-scale features."""
        clip = torch.multinomial(self.lengths.double(), batch, replacement=True, generator=gen)
        rate = torch.ones(batch, dtype=torch.float64)
        if aug is not None:
            lo, hi = np.log(aug.speed[0]), np.log(aug.speed[1])
            rate = torch.exp(lo + (hi - lo) * torch.rand(batch, generator=gen, dtype=torch.float64))
        last = (self.lengths[clip] - 1).double()
        room = (last - (window - 1) * rate).clamp_min(0.0)
        t = torch.rand(batch, generator=gen, dtype=torch.float64) * room
        times = torch.minimum(t[:, None] + rate[:, None] * torch.arange(window, dtype=torch.float64), last[:, None])
        i0 = times.floor().long()
        i1 = torch.minimum(i0 + 1, (self.lengths[clip] - 1)[:, None])
        w = (times - i0).float()
        base = self.starts[clip][:, None]
        out = {}
        for k, v in self.frames.items():
            a, b = v[base + i0], v[base + i1]
            ww = w.reshape(*w.shape, *([1] * (a.dim() - 2)))
            out[k] = torch.where(ww > 0.5, b, a) if k == "contacts" else a + (b - a) * ww
        out["root_quat"] = out["root_quat"] / out["root_quat"].norm(dim=-1, keepdim=True)
        out["present"], out["log_scales"] = self.present[clip], self.log_scales[clip].clone()
        if aug is not None:
            out = _turn(out, (2 * torch.rand(batch, generator=gen) - 1) * aug.heading,
                        torch.randn(batch, 2, generator=gen))
            G = out["log_scales"].shape[1]
            out["log_scales"] += aug.length_noise * torch.randn(batch, G, generator=gen)
            out["log_scales"] += aug.height_noise * torch.randn(batch, 1, generator=gen)
        return out


def _turn(b: dict, yaw: torch.Tensor, shift: torch.Tensor) -> dict:
    """The windows turned by yaw (B,) about z and shifted by (B,2) metres on the ground."""
    from mimiclab.retarget.learned.features import yaw_matrix
    from mimiclab.rotations.torch_ops import quat_mul

    R = yaw_matrix(yaw)  # (B,3,3)
    off = torch.cat((shift, torch.zeros_like(shift[:, :1])), -1)
    q = torch.stack((torch.cos(yaw / 2), torch.zeros_like(yaw), torch.zeros_like(yaw), torch.sin(yaw / 2)), -1)
    return {**b, "roles": torch.einsum("bij,btrj->btri", R, b["roles"]) + off[:, None, None],
            "root_pos": torch.einsum("bij,btj->bti", R, b["root_pos"]) + off[:, None],
            "root_quat": quat_mul(q[:, None].expand_as(b["root_quat"]), b["root_quat"])}
