"""The networks of the generator (all small 1-D conv / MLP nets, CPU-trainable).

Shapes: a window is (B, L, D) frames × features; the motion latent is (B, LATENT) with
LATENT = latent_channels · L / 4; an intent is a unit vector (B, intent_dim).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from mimiclab.robomirror.features import G1_DIM, HUMAN_DIM

TEXT_DIM = 384  # all-MiniLM-L6-v2


@dataclass
class NetConfig:
    window: int = 48  # frames at corpus.FPS (1.92 s)
    hidden: int = 128  # conv channels
    latent_channels: int = 8
    intent_dim: int = 128
    denoiser_width: int = 512
    denoiser_blocks: int = 4
    diffusion_steps: int = 1000  # training noise levels (cosine schedule)

    @property
    def latent_dim(self) -> int:
        return self.latent_channels * (self.window // 4)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "NetConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


class Normalizer(nn.Module):
    """x → (x − mean) / std per feature; stats from training frames (std floored at 1e-3)."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, frames: torch.Tensor) -> "Normalizer":
        self.mean.copy_(frames.mean(0))
        self.std.copy_(frames.std(0).clamp_min(1e-3))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Module:
    return nn.Sequential(nn.Conv1d(cin, cout, 5, stride=stride, padding=2), nn.GELU())


class MotionAutoencoder(nn.Module):
    """Normalised G1 windows (B,L,G1_DIM) ↔ latents (B, latent_dim): two stride-2 convs down,
    two nearest-upsample convs back."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        h, c = cfg.hidden, cfg.latent_channels
        self.enc = nn.Sequential(_conv(G1_DIM, h), _conv(h, h, 2), _conv(h, h, 2), nn.Conv1d(h, c, 3, padding=1))
        self.dec = nn.Sequential(_conv(c, h), nn.Upsample(scale_factor=2), _conv(h, h), nn.Upsample(scale_factor=2),
                                 _conv(h, h), nn.Conv1d(h, G1_DIM, 5, padding=2))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x.transpose(1, 2)).flatten(1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        c = self.enc[-1].out_channels
        return self.dec(z.view(z.shape[0], c, -1)).transpose(1, 2)


class SequenceEncoder(nn.Module):
    """(B,L,in_dim) normalised frames → (B,out_dim): convs, mean and max over time, an MLP;
    `unit` makes the output a unit vector (an intent)."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int, unit: bool = True):
        super().__init__()
        self.convs = nn.Sequential(_conv(in_dim, hidden), _conv(hidden, hidden, 2), _conv(hidden, hidden, 2))
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.GELU(), nn.Linear(hidden, out_dim))
        self.unit = unit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.convs(x.transpose(1, 2))
        out = self.head(torch.cat([h.mean(-1), h.amax(-1)], dim=-1))
        return nn.functional.normalize(out, dim=-1) if self.unit else out


class TextHead(nn.Module):
    """MiniLM sentence embeddings (B,384) → unit intents (B,intent_dim)."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(TEXT_DIM, cfg.intent_dim), nn.GELU(), nn.Linear(cfg.intent_dim, cfg.intent_dim))

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.net(e), dim=-1)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) integer noise levels → (B,dim) sinusoidal features."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    a = t.float()[:, None] * freqs[None]
    return torch.cat([a.sin(), a.cos()], dim=-1)


class _Block(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, width))

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return h + self.mlp(self.norm(h) + c)


class Denoiser(nn.Module):
    """Predicts the clean latent x0 from a noisy latent (B,latent), its noise level (B,), an
    intent (B,intent_dim) with its presence flag (B,), and the frame before the window (B,G1_DIM,
    normalised) with its flag (B,): the flags are 0 for classifier-free guidance's null condition
    and for a window with no predecessor."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        w = cfg.denoiser_width
        self.diffusion_steps = cfg.diffusion_steps
        self.inp = nn.Linear(cfg.latent_dim, w)
        self.cond = nn.Sequential(nn.Linear(128 + cfg.intent_dim + 1 + G1_DIM + 1, w), nn.GELU(), nn.Linear(w, w))
        self.blocks = nn.ModuleList(_Block(w) for _ in range(cfg.denoiser_blocks))
        self.out = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, cfg.latent_dim))

    def forward(self, x, t, intent, has_intent, prev, has_prev) -> torch.Tensor:
        c = torch.cat([timestep_embedding(t, 128), intent * has_intent[:, None], has_intent[:, None].float(),
                       prev * has_prev[:, None], has_prev[:, None].float()], dim=-1)
        c = self.cond(c)
        h = self.inp(x)
        for b in self.blocks:
            h = b(h, c)
        return self.out(h)


class Aligner(nn.Module):
    """The ablation: an intent (and the previous frame) mapped straight to a motion latent."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        w = cfg.denoiser_width
        self.net = nn.Sequential(nn.Linear(cfg.intent_dim + G1_DIM + 1, w), nn.GELU(), nn.Linear(w, w), nn.GELU(),
                                 nn.Linear(w, cfg.latent_dim))

    def forward(self, intent, prev, has_prev) -> torch.Tensor:
        return self.net(torch.cat([intent, prev * has_prev[:, None], has_prev[:, None].float()], dim=-1))


class RoboMirrorNets(nn.Module):
    """Everything a model folder holds: normalisers, the autoencoder (and its latent scale), the
    intent encoders, the generator and the ablation, and the evaluator (an independent G1-motion
    encoder with its own text head, and an action classifier)."""

    def __init__(self, cfg: NetConfig, num_actions: int):
        super().__init__()
        self.cfg = cfg
        self.g1_norm, self.human_norm = Normalizer(G1_DIM), Normalizer(HUMAN_DIM)
        self.autoencoder = MotionAutoencoder(cfg)
        self.register_buffer("latent_mean", torch.zeros(cfg.latent_dim))
        self.register_buffer("latent_std", torch.ones(cfg.latent_dim))
        self.text_head = TextHead(cfg)
        self.human_encoder = SequenceEncoder(HUMAN_DIM, cfg.intent_dim, cfg.hidden)
        self.denoiser = Denoiser(cfg)
        self.aligner = Aligner(cfg)
        self.eval_encoder = SequenceEncoder(G1_DIM, cfg.intent_dim, cfg.hidden)
        self.eval_text_head = TextHead(cfg)
        self.classifier = SequenceEncoder(G1_DIM, num_actions, cfg.hidden, unit=False)

    def latents(self, g1_windows: torch.Tensor) -> torch.Tensor:
        """Raw G1 windows (B,L,G1_DIM) → standardised latents (B,latent_dim)."""
        return (self.autoencoder.encode(self.g1_norm(g1_windows)) - self.latent_mean) / self.latent_std

    def windows(self, latents: torch.Tensor) -> torch.Tensor:
        """Standardised latents → raw G1 windows (B,L,G1_DIM)."""
        return self.g1_norm.inverse(self.autoencoder.decode(latents * self.latent_std + self.latent_mean))
