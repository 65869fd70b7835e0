"""Human joint ranges in G1 joint coordinates [rad].

A G1 pose can be inside the robot's limits and still be anatomically wrong: a hip yaw of 2 rad
points the knee sideways and the foot backwards, an elbow past straight bends backwards. These
ranges are what a human body does (hip rotation ≈ ±45°, humeral rotation ≈ 70° in / 90° out,
trunk rotation ≈ ±50°, knees and elbows no more than ~10° past straight):

- ``TWIST_RANGES``: outside them a frame counts as *twisted* in the quality report;
- ``PRIOR_RANGES``: the comfortable part, inside which the retargeting IK's anatomical prior costs
  nothing (it grows quadratically outside, so the IK prefers the human solution).

"Straight" knee and elbow are where the G1's hip–knee–ankle (shoulder–elbow–wrist) link origins
line up; tests recompute both by forward kinematics.
"""

from __future__ import annotations

import math

KNEE_STRAIGHT = 0.2408  # rad: G1 knee angle at which thigh and shin are collinear
ELBOW_STRAIGHT = 1.3229  # rad: G1 elbow angle at which upper arm and forearm are collinear
HYPEREXTENSION = 0.17  # rad (~10°): past straight by more than this is bending the wrong way

_INF = math.inf

TWIST_RANGES: dict[str, tuple[float, float]] = {
    **{f"{s}_hip_yaw_joint": (-0.9, 0.9) for s in ("left", "right")},
    **{f"{s}_shoulder_yaw_joint": (-1.6, 1.6) for s in ("left", "right")},
    "waist_yaw_joint": (-1.0, 1.0),
    **{f"{s}_knee_joint": (KNEE_STRAIGHT - HYPEREXTENSION, _INF) for s in ("left", "right")},
    **{f"{s}_elbow_joint": (-_INF, ELBOW_STRAIGHT + HYPEREXTENSION) for s in ("left", "right")},
}

PRIOR_RANGES: dict[str, tuple[float, float]] = {
    **{f"{s}_hip_yaw_joint": (-0.45, 0.45) for s in ("left", "right")},
    **{f"{s}_shoulder_yaw_joint": (-1.2, 1.2) for s in ("left", "right")},
    "waist_yaw_joint": (-0.6, 0.6),
    **{f"{s}_knee_joint": (KNEE_STRAIGHT - 0.05, _INF) for s in ("left", "right")},
    **{f"{s}_elbow_joint": (-_INF, ELBOW_STRAIGHT + 0.05) for s in ("left", "right")},
    # wrists: no source gives hand orientations reliably, so they rest near neutral unless a
    # target needs them (otherwise the hands, free about three axes, wander)
    **{f"{s}_wrist_{a}_joint": (-0.3, 0.3) for s in ("left", "right") for a in ("roll", "pitch", "yaw")},
}


def ranges_for(joint_names, table: dict[str, tuple[float, float]]):
    """(lower (J,), upper (J,)) lists for `joint_names`; ±inf for joints the table leaves free."""
    lo = [table.get(n, (-_INF, _INF))[0] for n in joint_names]
    hi = [table.get(n, (-_INF, _INF))[1] for n in joint_names]
    return lo, hi
