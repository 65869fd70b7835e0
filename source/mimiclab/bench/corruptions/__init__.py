"""Corruptions of a normalised human motion, as estimated / generated video motion is corrupted.

Every corruption is pure numpy, seeded by a ``numpy.random.Generator`` and deterministic (bitwise
equal output for the same seed), and works on a :class:`~mimiclab.bench.corruptions.base.RoleMotion`:
the retargeter's role trajectories (``mimiclab.retarget.skeleton_map.ROLES``) as one array
``positions`` (T,J,3) [m], Z-up, ground at z = 0, ``fps`` [1/s]. Severity 0 is the identity (the
input object itself); severities 1..3 use the parameters of ``SEVERITIES`` (the one table below):

=================  ==============================================  =========  =========  =========
name               parameter                                       1          2          3
=================  ==============================================  =========  =========  =========
``jitter``         σ of i.i.d. Gaussian noise per joint and axis    0.01 m     0.02 m     0.04 m
``drop``           fraction of interior frames removed (detector   0.10       0.20       0.40
                   misses), refilled by linear interpolation
``duplicate``      fraction of frames repeated once (stutter; the  0.05       0.10       0.20
                   clip gets that many frames longer)
``flicker``        fraction of frames hit by a one-frame glitch:   0.02       0.05       0.10
                   half spikes (3 random joints moved 0.15 m),
                   half left/right limb swaps
``bone_length``    segment scale: arms × / legs × / left side      1.05/0.97  1.10/0.93  1.20/0.85
                   extra × (right side ÷ the same)                 /1.02      /1.05      /1.10
``depth``          σ along one horizontal camera axis (random      0.03/0.02  0.06/0.04  0.12/0.08
                   yaw): whole body / per joint, Gaussian-
                   smoothed over 0.2 s (temporally correlated)
``foot_skate``     planted feet slide at this speed, random        0.05 m/s   0.10 m/s   0.20 m/s
                   heading per contact, back in the swing
``drift``          whole body drifts horizontally: linear speed    0.05 m/s   0.10 m/s   0.20 m/s
                   (random heading) + a pinned random walk of σ    0.02 m     0.04 m     0.08 m
``warp``           time reparametrisation u + α/(2πk)·sin(2πku),   0.2        0.4        0.6
                   k ∈ {1, 2}; speed varies in [1−α, 1+α],
                   first and last frame kept
=================  ==============================================  =========  =========  =========

    from mimiclab.bench.corruptions import apply_corruption, RoleMotion
    out, info = apply_corruption("jitter", motion, severity=2, rng=np.random.default_rng(0))

``info`` says what was done (frames touched, factors, the warp φ, ...), for tests and reports.
"""

from __future__ import annotations

import numpy as np

from mimiclab.bench.corruptions.base import RoleMotion
from mimiclab.bench.corruptions.body import bone_length, drift, foot_skate
from mimiclab.bench.corruptions.noise import depth, flicker, jitter
from mimiclab.bench.corruptions.timing import drop, duplicate, warp

SEVERITIES: dict[str, dict[int, dict]] = {
    "jitter": {1: {"sigma": 0.01}, 2: {"sigma": 0.02}, 3: {"sigma": 0.04}},
    "drop": {1: {"rate": 0.10}, 2: {"rate": 0.20}, 3: {"rate": 0.40}},
    "duplicate": {1: {"rate": 0.05}, 2: {"rate": 0.10}, 3: {"rate": 0.20}},
    "flicker": {1: {"rate": 0.02}, 2: {"rate": 0.05}, 3: {"rate": 0.10}},
    "bone_length": {1: {"arms": 1.05, "legs": 0.97, "left": 1.02},
                    2: {"arms": 1.10, "legs": 0.93, "left": 1.05},
                    3: {"arms": 1.20, "legs": 0.85, "left": 1.10}},
    "depth": {1: {"sigma_body": 0.03, "sigma_joint": 0.02}, 2: {"sigma_body": 0.06, "sigma_joint": 0.04},
              3: {"sigma_body": 0.12, "sigma_joint": 0.08}},
    "foot_skate": {1: {"speed": 0.05}, 2: {"speed": 0.10}, 3: {"speed": 0.20}},
    "drift": {1: {"speed": 0.05, "walk": 0.02}, 2: {"speed": 0.10, "walk": 0.04}, 3: {"speed": 0.20, "walk": 0.08}},
    "warp": {1: {"alpha": 0.2}, 2: {"alpha": 0.4}, 3: {"alpha": 0.6}},
}
FUNCTIONS = {"jitter": jitter, "drop": drop, "duplicate": duplicate, "flicker": flicker, "bone_length": bone_length,
             "depth": depth, "foot_skate": foot_skate, "drift": drift, "warp": warp}
CORRUPTIONS = tuple(SEVERITIES)  # the benchmark's order
MAX_SEVERITY = 3


class CorruptionError(ValueError):
    """Unknown corruption name or severity (one-line message)."""


def check_corruption(name: str, severity: int) -> None:
    if name not in FUNCTIONS:
        raise CorruptionError(f"unknown corruption '{name}' (known: {', '.join(CORRUPTIONS)})")
    if severity != 0 and severity not in SEVERITIES[name]:
        raise CorruptionError(f"severity {severity} of '{name}' is not defined (0..{MAX_SEVERITY})")


def apply_corruption(name: str, motion: RoleMotion, severity: int,
                     rng: np.random.Generator) -> tuple[RoleMotion, dict]:
    """`motion` corrupted by `name` at `severity` (0: `motion` itself, info {}); parameters: SEVERITIES."""
    check_corruption(name, severity)
    if severity == 0:
        return motion, {}
    out, info = FUNCTIONS[name](motion, rng=rng, **SEVERITIES[name][severity])
    if not np.isfinite(out.positions).all():
        raise RuntimeError(f"corruption {name} (severity {severity}) produced non-finite positions")
    return out, info


__all__ = ["CORRUPTIONS", "FUNCTIONS", "MAX_SEVERITY", "SEVERITIES", "CorruptionError", "RoleMotion",
           "apply_corruption", "check_corruption"]
