"""A confidence-aware One-Euro filter for landmark tracks (Casiez, Roussel & Vogel, CHI 2012).

Per coordinate, an exponential smoother whose cutoff rises with speed: slow motion is smoothed
hard (less jitter), fast motion lightly (less lag). For a sample x_t at rate fps (dt = 1/fps):

    dx_t   = lowpass((x_t - x̂_{t-1}) / dt, d_cutoff)          speed estimate [units/s]
    fc_t   = min_cutoff + beta · |dx_t|                          cutoff [Hz]
    α(fc)  = 1 / (1 + 1 / (2π · fc · dt))
    x̂_t    = x̂_{t-1} + α(fc_t) · w_t · (x_t - x̂_{t-1})

Confidence-aware: w_t = floor + (1 - floor) · c_t with the joint's confidence c_t in [0,1], so an
uncertain sample moves the estimate less (floor keeps a low-confidence joint from freezing).
A missing sample (NaN) gives NaN and keeps the state; after a gap longer than max_gap_s the filter
restarts at the next sample. Causal (each output uses only past samples).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroParams:
    """min_cutoff [Hz] at rest; beta [s/unit]: cutoff added per unit/s of speed (for metres: per
    m/s); d_cutoff [Hz] for the speed estimate; confidence_floor: the weight of a confidence-0
    sample; max_gap_s [s]: a longer run of missing samples restarts the filter."""

    min_cutoff: float = 1.0
    beta: float = 1.5
    d_cutoff: float = 1.0
    confidence_floor: float = 0.3
    max_gap_s: float = 0.25

    def describe(self) -> dict:
        return {"filter": "one-euro", **asdict(self)}


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    return 1.0 / (1.0 + 1.0 / (2.0 * np.pi * np.asarray(cutoff) * dt))


def one_euro(x: np.ndarray, fps: float, confidence: np.ndarray | None = None,
             params: OneEuroParams = OneEuroParams()) -> np.ndarray:
    """Filter tracks x (T, J, D) sampled at `fps` [Hz]; confidence (T, J) in [0,1] (None: all 1).

    Returns (T, J, D) float64, NaN where x is NaN (a joint counts as missing when any of its D
    coordinates is NaN).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"one_euro: x must be (T, J, D), got {x.shape}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"one_euro: fps must be positive, got {fps}")
    T, J, _ = x.shape
    conf = np.ones((T, J)) if confidence is None else np.clip(np.nan_to_num(confidence), 0.0, 1.0)
    dt = 1.0 / fps
    max_gap = max(1, int(round(params.max_gap_s * fps)))
    a_d = _alpha(params.d_cutoff, dt)
    out = np.full_like(x, np.nan)
    est = np.full(x.shape[1:], np.nan)  # x̂ per joint
    speed = np.zeros(x.shape[1:])       # filtered speed per joint [units/s]
    missing_run = np.zeros(J, dtype=np.int64)  # missing samples just before this one
    for t in range(T):
        ok = np.isfinite(x[t]).all(-1)
        fresh = ok & (~np.isfinite(est).all(-1) | (missing_run > max_gap))
        est[fresh], speed[fresh] = x[t][fresh], 0.0
        run = ok & ~fresh
        if run.any():
            speed[run] += a_d * ((x[t][run] - est[run]) / dt - speed[run])
            cutoff = params.min_cutoff + params.beta * np.linalg.norm(speed[run], axis=-1, keepdims=True)
            w = params.confidence_floor + (1.0 - params.confidence_floor) * conf[t][run][:, None]
            est[run] += _alpha(cutoff, dt) * w * (x[t][run] - est[run])
        out[t][ok] = est[ok]
        missing_run = np.where(ok, 0, missing_run + 1)
    return out
