"""Where episodes start in a motion library: failure-adaptive training starts and evaluation walks.

    sampler = AdaptiveSampler(lib, generator=torch.Generator(device=lib.device).manual_seed(seed))
    clip_ids, t0 = sampler.sample(len(env_ids))           # at reset
    sampler.update(clip_ids, times, failed)                # episode outcomes (bool per episode)

Bins: every clip is cut into ceil(duration / bin_seconds) bins (at least one; the last one may be
shorter). Each bin keeps an exponential moving average of its failure count,
``f ← (1 − α)·f + α·count`` once per ``update`` call (the reference MDP: α = 0.001, 1 s bins,
10 % uniform). A bin is drawn with probability ``(1 − u)·f / Σf + u / NB`` (uniform while no
failure has been seen), so every bin keeps at least ``u / NB``; the start time is uniform inside
the drawn bin. Everything is vectorised on the library's device; no host synchronisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch


class AdaptiveSampler:
    """Failure-adaptive (clip × time-bin) start sampling with a uniform floor."""

    def __init__(self, library, bin_seconds: float = 1.0, ema_alpha: float = 0.001,
                 uniform_fraction: float = 0.1, generator: torch.Generator | None = None,
                 count_reducer: Callable[[torch.Tensor], None] | None = None):
        """library: a MotionLibrary; generator: a seeded torch.Generator on the library's device
        (None: torch's global RNG); count_reducer: called in place on the per-bin failure counts
        (NB,) before the EMA, e.g. ``torch.distributed.all_reduce`` to share one EMA across ranks."""
        if not (bin_seconds > 0 and math.isfinite(bin_seconds)):
            raise ValueError(f"bin_seconds must be > 0, got {bin_seconds}")
        if not 0.0 < ema_alpha <= 1.0:
            raise ValueError(f"ema_alpha must be in (0, 1], got {ema_alpha}")
        if not 0.0 <= uniform_fraction <= 1.0:
            raise ValueError(f"uniform_fraction must be in [0, 1], got {uniform_fraction}")
        self.library = library
        self.device = library.device
        self.bin_seconds = float(bin_seconds)
        self.ema_alpha = float(ema_alpha)
        self.uniform_fraction = float(uniform_fraction)
        self.generator = generator
        self.count_reducer = count_reducer
        dur = library.duration.to(torch.float64)
        nbins = torch.ceil(dur / self.bin_seconds - 1e-6).long().clamp(min=1)  # (C,)
        self.clip_num_bins = nbins
        self.clip_bin_offset = torch.cumsum(nbins, 0) - nbins  # (C,) first bin of each clip
        nb = int(nbins.sum())
        self.num_bins = nb
        self.bin_clip = torch.repeat_interleave(torch.arange(library.num_clips, device=self.device), nbins)  # (NB,)
        k = torch.arange(nb, device=self.device) - self.clip_bin_offset[self.bin_clip]  # bin number in its clip
        start = k.to(torch.float64) * self.bin_seconds
        self.bin_start = start.to(torch.float32)  # (NB,) [s]
        self.bin_length = (torch.minimum(start + self.bin_seconds, dur[self.bin_clip]) - start).clamp(min=0).to(torch.float32)
        self.failure = torch.zeros(nb, device=self.device)  # (NB,) failure EMA

    def bin_index(self, clip_ids: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """Bin (N,) long of (clip, time [s]); times outside the clip go to its first / last bin."""
        clip_ids = clip_ids.to(self.device, torch.long).reshape(-1)
        k = torch.floor(times.to(self.device, torch.float32).reshape(-1) / self.bin_seconds).long()
        k = torch.minimum(k.clamp(min=0), self.clip_num_bins[clip_ids] - 1)
        return self.clip_bin_offset[clip_ids] + k

    def probabilities(self) -> torch.Tensor:
        """Sampling probability of every bin (NB,), summing to 1."""
        u, nb = self.uniform_fraction, self.num_bins
        total = self.failure.sum()
        adaptive = (1.0 - u) * self.failure / total.clamp(min=1e-30) + u / nb
        return torch.where(total > 0, adaptive, torch.full_like(adaptive, 1.0 / nb))

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw `n` starts: clip_ids (n,) long and start times (n,) [s], uniform inside each bin."""
        if n <= 0:
            return (torch.zeros(0, dtype=torch.long, device=self.device), torch.zeros(0, device=self.device))
        bins = torch.multinomial(self.probabilities(), n, replacement=True, generator=self.generator)
        r = torch.rand(n, generator=self.generator, device=self.device)
        return self.bin_clip[bins], self.bin_start[bins] + r * self.bin_length[bins]

    def update(self, clip_ids: torch.Tensor, start_times: torch.Tensor, failed: torch.Tensor) -> None:
        """Feed finished episodes: clip_ids (N,), times (N,) [s] locating the bin, failed (N,) bool.

        The times name the bin an outcome is charged to: the episode's start time, or — closer
        to where the policy struggles — its time in the clip when it terminated. Then one EMA
        step for every bin (bins without failures decay).
        """
        counts = torch.zeros(self.num_bins, device=self.device)
        if clip_ids.numel():
            counts.index_add_(0, self.bin_index(clip_ids, start_times),
                              failed.to(self.device).reshape(-1).to(torch.float32))
        if self.count_reducer is not None:
            self.count_reducer(counts)
        self.failure.mul_(1.0 - self.ema_alpha).add_(counts, alpha=self.ema_alpha)

    def metrics(self) -> dict[str, torch.Tensor]:
        """For logging: normalised sampling entropy (1 = uniform) and the largest bin probability."""
        p = self.probabilities()
        ent = -(p * p.clamp(min=1e-30).log()).sum() / max(math.log(self.num_bins), 1e-30)
        return {"sampling_entropy": ent if self.num_bins > 1 else torch.ones((), device=self.device),
                "sampling_top_prob": p.max()}

    def state_dict(self) -> dict:
        return {"failure": self.failure.clone(), "num_bins": self.num_bins, "bin_seconds": self.bin_seconds}

    def load_state_dict(self, state: dict) -> None:
        """Restore the failure EMA (ValueError when the bins do not match this library)."""
        if int(state["num_bins"]) != self.num_bins or float(state["bin_seconds"]) != self.bin_seconds:
            raise ValueError(f"sampler state has {state['num_bins']} bins of {state['bin_seconds']} s, "
                             f"this library has {self.num_bins} of {self.bin_seconds} s")
        self.failure.copy_(state["failure"].to(self.device))


class EvaluationWalker:
    """Evaluation starts: every clip once from t = 0, in clip order 0..C−1.

    ``sample(n)`` hands out the next `n` clips; past the last clip it wraps around (so every env
    still gets a valid clip) and ``last_new`` (n,) bool marks which of the last draw were first
    visits. ``done`` once every clip has been handed out. Same interface as AdaptiveSampler.
    """

    def __init__(self, library):
        self.library = library
        self.device = library.device
        self.num_clips = library.num_clips
        self.issued = 0
        self.last_new = torch.zeros(0, dtype=torch.bool, device=self.device)

    @property
    def done(self) -> bool:
        return self.issued >= self.num_clips

    def reset(self) -> None:
        self.issued = 0

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.issued + torch.arange(n, device=self.device)
        self.last_new = k < self.num_clips
        self.issued += n
        return k % self.num_clips, torch.zeros(n, device=self.device)

    def update(self, clip_ids: torch.Tensor, start_times: torch.Tensor, failed: torch.Tensor) -> None:
        """No-op (evaluation does not adapt)."""
