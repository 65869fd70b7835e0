"""The dual autoencoder: two skeleton-graph encoders into one latent, one decoder to the G1.

    net = RetargetNet(ModelConfig())
    z = net.encode_human(nodes)                  # (B,T,R,F) → (B,T,D)
    z = net.encode_robot(root, joints)           # (B,T,11), (B,T,J,2) → (B,T,D)
    out = net.decode(z)                          # rel_pos (B,T,3) [m], rel_mat (B,T,3,3), joint_pos (B,T,J) [rad]

Each encoder: a per-node embedding, graph convolutions over its skeleton (``graph``), the nodes
flattened into one vector per frame, then dilated temporal convolutions (``Temporal``). The decoder
is temporal convolutions and a linear head; joint angles are squashed into the G1's limits
(mid + half-range · tanh), so no output leaves them. Root outputs are in the input's heading frame
(``features``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from mimiclab.retarget.learned.features import (
    HUMAN_NODE_DIM, OUTPUT_ROOT_DIM, ROBOT_JOINT_DIM, ROBOT_ROOT_DIM)
from mimiclab.retarget.learned.graph import HUMAN_ROLES, human_adjacency, robot_adjacency
from mimiclab.rotations.torch_ops import matrix_from_ori6


@dataclass
class ModelConfig:
    """hidden: features per graph node; latent: per-frame latent size; graph_layers; temporal
    kernel and dilations (receptive field ±(kernel−1)/2·Σdilations frames per stack); fps the
    model works at."""

    hidden: int = 32
    latent: int = 128
    graph_layers: int = 2
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4)
    fps: float = 50.0

    def to_dict(self) -> dict:
        return {**asdict(self), "dilations": list(self.dilations)}

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return cls(**{**d, "dilations": tuple(d.get("dilations", cls.dilations))})


class Temporal(nn.Module):
    """Residual dilated temporal convolutions, (B,T,D) → (B,T,D), edges padded by repetition:
    each layer h ← h + GELU(W [h(t − d·k'), …, h(t + d·k')]) with k' = (kernel − 1)/2, written as
    one matrix product over the stacked shifted frames (faster than conv1d for these sizes on a CPU)."""

    def __init__(self, dim: int, kernel: int, dilations: tuple[int, ...]):
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"temporal kernel must be odd, got {kernel}")
        self.layers = nn.ModuleList(nn.Linear(kernel * dim, dim) for _ in dilations)
        self.dilations = tuple(dilations)
        self.half = (kernel - 1) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        T = h.shape[1]
        for layer, d in zip(self.layers, self.dilations):
            idx = (torch.arange(T, device=h.device)[:, None]
                   + d * torch.arange(-self.half, self.half + 1, device=h.device)).clamp(0, T - 1)
            h = h + torch.nn.functional.gelu(layer(h[:, idx].flatten(2)))
        return h


class GraphEncoder(nn.Module):
    """Node features (B,T,N,F) → (B,T,D): embedding + node identity, graph convolutions
    h ← h + GELU(Â h W), flattened nodes → linear → temporal convolutions."""

    def __init__(self, adjacency: torch.Tensor, in_dims: tuple[int, ...], cfg: ModelConfig):
        super().__init__()
        n = adjacency.shape[0]
        self.register_buffer("adjacency", adjacency.clone(), persistent=False)
        self.embed = nn.ModuleList(nn.Linear(f, cfg.hidden) for f in in_dims)  # one per node group
        self.node = nn.Parameter(torch.zeros(n, cfg.hidden))
        self.layers = nn.ModuleList(nn.Linear(cfg.hidden, cfg.hidden) for _ in range(cfg.graph_layers))
        self.flat = nn.Linear(n * cfg.hidden, cfg.latent)
        self.temporal = Temporal(cfg.latent, cfg.kernel, cfg.dilations)

    def forward(self, *groups: torch.Tensor) -> torch.Tensor:
        h = torch.cat([e(g) for e, g in zip(self.embed, groups)], 2) + self.node
        for layer in self.layers:
            h = h + torch.nn.functional.gelu(layer(torch.matmul(self.adjacency, h)))  # Â h over the nodes
        return self.temporal(self.flat(h.flatten(2)))


class RetargetNet(nn.Module):
    """Human encoder, robot encoder and the shared decoder (module docstring)."""

    def __init__(self, cfg: ModelConfig | None = None):
        super().__init__()
        from mimiclab.robots.g1 import G1

        self.cfg = cfg or ModelConfig()
        self.joint_names = list(G1.joint_names)
        lower = torch.tensor([j.lower for j in G1.joints], dtype=torch.float32)
        upper = torch.tensor([j.upper for j in G1.joints], dtype=torch.float32)
        self.register_buffer("joint_mid", (lower + upper) / 2)
        self.register_buffer("joint_half", (upper - lower) / 2)
        J = len(self.joint_names)
        self.human = GraphEncoder(human_adjacency(), (HUMAN_NODE_DIM,), self.cfg)
        self.robot = GraphEncoder(robot_adjacency(), (ROBOT_ROOT_DIM, ROBOT_JOINT_DIM), self.cfg)
        self.decoder = Temporal(self.cfg.latent, self.cfg.kernel, self.cfg.dilations)
        self.head = nn.Linear(self.cfg.latent, OUTPUT_ROOT_DIM + J)
        with torch.no_grad():  # start at the standing pose, upright, at the G1's home height
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias[2] = 0.78
            self.head.bias[3] = self.head.bias[6] = 1.0  # 6-D identity (R00, R11)
            default = torch.tensor([j.default_pos for j in G1.joints], dtype=torch.float32)
            self.head.bias[OUTPUT_ROOT_DIM:] = torch.atanh(((default - self.joint_mid) / self.joint_half).clamp(-0.99, 0.99))

    @property
    def context_frames(self) -> int:
        """Frames on each side that one output frame depends on (human encoder and decoder temporal
        stacks, plus the one-frame velocity features): windows with this much context on each
        side give the same outputs as the whole clip."""
        return 2 * ((self.cfg.kernel - 1) // 2) * sum(self.cfg.dilations) + 1

    @property
    def num_roles(self) -> int:
        return len(HUMAN_ROLES)

    def encode_human(self, nodes: torch.Tensor) -> torch.Tensor:
        return self.human(nodes)

    def encode_robot(self, root: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
        return self.robot(root[:, :, None], joints)

    def decode(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        y = self.head(self.decoder(z))
        return {"rel_pos": y[..., :3], "rel_mat": matrix_from_ori6(y[..., 3:9]),
                "joint_pos": self.joint_mid + self.joint_half * torch.tanh(y[..., OUTPUT_ROOT_DIM:])}
