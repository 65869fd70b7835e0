"""Where episodes start in a motion library: failure-adaptive training starts and evaluation walks.

    sampler = AdaptiveSampler(lib, generator=torch.Generator(device=lib.device).manual_seed(seed))
    clip_ids, t0 = sampler.sample(len(env_ids))              # at reset
    sampler.update(clip_ids, t0, t_end, failed)               # finished episodes (any time)
    sampler.flush()                                           # once per env step, on every rank

Bins: every clip is cut into ceil(duration / bin_seconds) bins (at least one; the last one may be
shorter). Each bin keeps decayed sums of its **exposures** E (episodes that ran through it) and
**failures** F (episodes that terminated in it); each ``flush`` applies one decay step
``x ← (1 − α)·x + increments`` (α per env step, the reference MDP's 0.001). The failure **rate** of a
bin is the posterior mean ``r = (F + ρ₀·β) / (E + β)`` (prior rate ρ₀ = 0.5 worth β = 1 exposure:
one failure moves a fresh bin from 0.5 to 0.75, not to "all starts"). Starts go *before* hard
moments: ``s_b = Σ_k λᵏ·r_{b+k} / Σ_k λᵏ`` over the next K bins of the same clip (K = 3, λ = 0.8).
A bin is drawn with probability ``p_b = (1 − u)·s_b / Σ s + u / NB`` (u = 0.1): every bin keeps
the absolute floor u / NB. The start time is uniform inside the drawn bin. Rates, not counts: the
bin that gets the starts does not keep the probability by collecting more failures. Across ranks
``count_reducer`` (e.g. an all-reduce sum) is applied to the increments at every ``flush``, so all
ranks share one set of statistics. Everything is vectorised on the library's device.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

PRIOR_RATE = 0.5  # ρ₀: failure rate assumed for a bin never seen
PRIOR_WEIGHT = 1.0  # β: that prior is worth this many exposures


class AdaptiveSampler:
    """Failure-rate-adaptive (clip × time-bin) start sampling with an absolute uniform floor."""

    def __init__(self, library, bin_seconds: float = 1.0, ema_alpha: float = 0.001,
                 uniform_fraction: float = 0.1, generator: torch.Generator | None = None,
                 count_reducer: Callable[[torch.Tensor], None] | None = None,
                 kernel_size: int = 3, kernel_decay: float = 0.8):
        """library: a MotionLibrary; generator: a seeded torch.Generator on the library's device
        (None: torch's global RNG); count_reducer: called in place on the (2, NB) increments
        (exposures, failures) at every flush, e.g. ``torch.distributed.all_reduce``;
        kernel_size / kernel_decay: K and λ of the look-ahead smoothing (K = 1: none)."""
        if not (bin_seconds > 0 and math.isfinite(bin_seconds)):
            raise ValueError(f"bin_seconds must be > 0, got {bin_seconds}")
        if not 0.0 < ema_alpha <= 1.0:
            raise ValueError(f"ema_alpha must be in (0, 1], got {ema_alpha}")
        if not 0.0 <= uniform_fraction <= 1.0:
            raise ValueError(f"uniform_fraction must be in [0, 1], got {uniform_fraction}")
        if kernel_size < 1 or not 0.0 < kernel_decay <= 1.0:
            raise ValueError(f"kernel_size must be ≥ 1 and kernel_decay in (0, 1], got {kernel_size}, {kernel_decay}")
        self.library = library
        self.device = library.device
        self.bin_seconds = float(bin_seconds)
        self.ema_alpha = float(ema_alpha)
        self.uniform_fraction = float(uniform_fraction)
        self.generator = generator
        self.count_reducer = count_reducer
        self.kernel = kernel_decay ** torch.arange(kernel_size, dtype=torch.float32, device=self.device)  # (K,)
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
        self.bins_left = (self.clip_num_bins[self.bin_clip] - 1 - k).to(torch.long)  # (NB,) later bins in the clip
        self.exposure = torch.zeros(nb, device=self.device)  # (NB,) decayed exposures
        self.failure = torch.zeros(nb, device=self.device)  # (NB,) decayed failures
        self._pending = torch.zeros(2, nb, device=self.device)  # increments since the last flush

    def bin_index(self, clip_ids: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """Bin (N,) long of (clip, time [s]); times outside the clip go to its first / last bin."""
        clip_ids = clip_ids.to(self.device, torch.long).reshape(-1)
        k = torch.floor(times.to(self.device, torch.float32).reshape(-1) / self.bin_seconds).long()
        k = torch.minimum(k.clamp(min=0), self.clip_num_bins[clip_ids] - 1)
        return self.clip_bin_offset[clip_ids] + k

    def rates(self) -> torch.Tensor:
        """Posterior mean failure rate of every bin (NB,): (F + ρ₀·β) / (E + β)."""
        return (self.failure + PRIOR_RATE * PRIOR_WEIGHT) / (self.exposure + PRIOR_WEIGHT)

    def smoothed_rates(self) -> torch.Tensor:
        """s_b = Σ_k λᵏ·r_{b+k} / Σ_k λᵏ over the bin and the next K−1 bins of its clip (NB,)."""
        r = self.rates()
        num = torch.zeros_like(r)
        den = torch.zeros_like(r)
        for k, w in enumerate(self.kernel.tolist()):
            valid = self.bins_left >= k
            idx = torch.clamp(torch.arange(self.num_bins, device=self.device) + k, max=self.num_bins - 1)
            num += torch.where(valid, w * r[idx], 0.0)
            den += torch.where(valid, torch.full_like(r, w), 0.0)
        return num / den

    def probabilities(self) -> torch.Tensor:
        """Sampling probability of every bin (NB,), summing to 1, each ≥ u / NB."""
        u, nb = self.uniform_fraction, self.num_bins
        s = self.smoothed_rates()
        return (1.0 - u) * s / s.sum().clamp(min=1e-30) + u / nb

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw `n` starts: clip_ids (n,) long and start times (n,) [s], uniform inside each bin."""
        if n <= 0:
            return (torch.zeros(0, dtype=torch.long, device=self.device), torch.zeros(0, device=self.device))
        bins = torch.multinomial(self.probabilities(), n, replacement=True, generator=self.generator)
        r = torch.rand(n, generator=self.generator, device=self.device)
        return self.bin_clip[bins], self.bin_start[bins] + r * self.bin_length[bins]

    def update(self, clip_ids: torch.Tensor, start_times: torch.Tensor, end_times: torch.Tensor,
               failed: torch.Tensor) -> None:
        """Feed finished episodes: clip_ids (N,), start and end times (N,) [s] in the clip, failed (N,)
        bool. Every bin from the start's to the end's gains one exposure; a failure is charged to
        the bin it happened in. Applied at the next ``flush``."""
        if clip_ids.numel() == 0:
            return
        b0 = self.bin_index(clip_ids, start_times)
        b1 = torch.maximum(self.bin_index(clip_ids, end_times), b0)
        diff = torch.zeros(self.num_bins + 1, device=self.device)
        ones = torch.ones_like(b0, dtype=torch.float32)
        diff.index_add_(0, b0, ones)
        diff.index_add_(0, b1 + 1, -ones)
        self._pending[0] += torch.cumsum(diff, 0)[:-1]
        self._pending[1].index_add_(0, b1, failed.to(self.device).reshape(-1).to(torch.float32))

    def flush(self) -> None:
        """One decay step with the pending increments (reduced across ranks first); call it once per
        env step on every rank (the reducer is a collective)."""
        inc = self._pending
        if self.count_reducer is not None:
            self.count_reducer(inc)
        keep = 1.0 - self.ema_alpha
        self.exposure.mul_(keep).add_(inc[0])
        self.failure.mul_(keep).add_(inc[1])
        self._pending = torch.zeros_like(inc)

    def metrics(self) -> dict[str, torch.Tensor]:
        """For logging: normalised sampling entropy (1 = uniform) and the largest bin probability."""
        p = self.probabilities()
        ent = -(p * p.clamp(min=1e-30).log()).sum() / max(math.log(self.num_bins), 1e-30)
        return {"sampling_entropy": ent if self.num_bins > 1 else torch.ones((), device=self.device),
                "sampling_top_prob": p.max()}

    def state_dict(self) -> dict:
        return {"exposure": self.exposure.clone(), "failure": self.failure.clone(), "num_bins": self.num_bins,
                "bin_seconds": self.bin_seconds}

    def load_state_dict(self, state: dict) -> None:
        """Restore the statistics (ValueError when the bins do not match this library or the state
        predates failure rates)."""
        if int(state["num_bins"]) != self.num_bins or float(state["bin_seconds"]) != self.bin_seconds:
            raise ValueError(f"sampler state has {state['num_bins']} bins of {state['bin_seconds']} s, "
                             f"this library has {self.num_bins} of {self.bin_seconds} s")
        if "exposure" not in state:
            raise ValueError("sampler state holds failure counts only (a checkpoint from before failure rates); "
                             "its statistics cannot be restored")
        self.exposure.copy_(state["exposure"].to(self.device))
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

    def update(self, clip_ids: torch.Tensor, start_times: torch.Tensor, end_times: torch.Tensor,
               failed: torch.Tensor) -> None:
        """No-op (evaluation does not adapt)."""

    def flush(self) -> None:
        """No-op."""
