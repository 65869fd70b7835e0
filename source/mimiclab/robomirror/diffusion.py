"""Latent diffusion: cosine noise schedule, x0-prediction training loss, and a deterministic
DDIM sampler (η = 0) with classifier-free guidance.

    z = ddim_sample(denoiser, intent, has_intent, prev, has_prev, steps=30, guidance=2.5, gen=gen)

Guidance mixes the conditional and the unconditional (intent flag 0; the previous frame is kept
in both) predictions: x0 = x0_u + g · (x0_c − x0_u). With the same Generator seed the sample
is the same (the only randomness is the starting noise).
"""

from __future__ import annotations

import math

import torch


def alpha_bars(steps: int) -> torch.Tensor:
    """(steps,) ᾱ_t of the cosine schedule (Nichol & Dhariwal), clipped to [1e-5, 0.9999]."""
    s = 0.008
    t = torch.arange(steps + 1, dtype=torch.float64) / steps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    return (f[1:] / f[0]).clamp(1e-5, 0.9999).float()


def training_loss(denoiser, x0, intent, has_intent, prev, has_prev, gen: torch.Generator) -> torch.Tensor:
    """Mean squared error of the x0 prediction at uniformly drawn noise levels (`gen`: a CPU
    Generator; the draws move to x0's device)."""
    ab = alpha_bars(denoiser.diffusion_steps)
    t = torch.randint(0, ab.shape[0], (x0.shape[0],), generator=gen)
    noise = torch.randn(x0.shape, generator=gen).to(x0.device)
    a = ab[t][:, None].to(x0.device)
    t = t.to(x0.device)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
    return ((denoiser(xt, t, intent, has_intent, prev, has_prev) - x0) ** 2).mean()


@torch.no_grad()
def ddim_sample(denoiser, intent, has_intent, prev, has_prev, steps: int = 30, guidance: float = 2.5,
                gen: torch.Generator | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
    """(B, latent) clean latents from Gaussian noise in `steps` DDIM steps (η = 0)."""
    ab = alpha_bars(denoiser.diffusion_steps)
    T = ab.shape[0]
    B = intent.shape[0]
    x = noise if noise is not None else torch.randn((B, denoiser.out[-1].out_features), generator=gen)
    ts = torch.linspace(T - 1, 0, steps).round().long()
    null = torch.zeros_like(has_intent)
    for k, t in enumerate(ts.tolist()):
        tt = torch.full((B,), t, dtype=torch.long)
        x0 = denoiser(x, tt, intent, has_intent, prev, has_prev)
        if guidance != 1.0:
            x0u = denoiser(x, tt, intent, null, prev, has_prev)
            x0 = x0u + guidance * (x0 - x0u)
        a = ab[t]
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        a_next = ab[ts[k + 1]] if k + 1 < len(ts) else torch.tensor(1.0)
        x = a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps
    return x
