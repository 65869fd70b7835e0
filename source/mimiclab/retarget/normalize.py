"""Units, up axis, handedness, heading and ground: bring role positions to metres, Z-up,
right-handed, facing +x at frame 0, pelvis above the origin at frame 0, ground at z = 0."""

from __future__ import annotations

import numpy as np

from mimiclab.motion.input_warning import warn_input
from mimiclab.rotations.numpy_ops import matrix_about_axis

NOMINAL_HEIGHT = 1.70  # m: the performer's height assumed when no unit makes the body human-sized
HEIGHT_RANGE = (0.9, 2.4)  # m: plausible human heights
UNITS = {"m": 1.0, "dm": 0.1, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "ft": 0.3048,
         "cmu": 0.0254 / 0.45}  # CMU mocap units: 1/0.45 inch ≈ 5.64 cm
UNIT_ALIASES = {"meter": "m", "meters": "m", "metre": "m", "metres": "m", "in": "inch", "inches": "inch",
                "centimeter": "cm", "centimeters": "cm", "millimeter": "mm", "millimeters": "mm", "feet": "ft",
                "foot": "ft"}
LEG_FRACTION = 0.49  # (thigh + shin) / body height (anthropometric tables: 0.245 + 0.246)
TOE_ABOVE_SOLE = 0.02  # m, a mocap toe joint (ball of the foot) above the ground when planted
ANKLE_ABOVE_SOLE = 0.07  # m
SIGNED_AXES = ("x", "y", "z", "-x", "-y", "-z")


def parse_units(text: str) -> float:
    """'cm' / 'inch' / 'cmu' / ... or a number (metres per unit) → metres per unit; ValueError if not."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(float(text))
    key = str(text).strip().lower()
    key = UNIT_ALIASES.get(key, key)
    if key in UNITS:
        return UNITS[key]
    try:
        value = float(key)
    except ValueError:
        raise ValueError(f"unknown units {text!r} (use {', '.join(UNITS)} or metres per unit)") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"units must be a positive number of metres per unit, got {text!r}")
    return value


def unit_name(scale: float) -> str:
    """'cm' for 0.01, else the number."""
    return next((k for k, v in UNITS.items() if abs(v - scale) < 1e-9 * v), f"{scale:.6g} m/unit")


def body_height_units(roles: dict[str, np.ndarray]) -> float:
    """The performer's height in file units from the leg bones (median over frames, posture-proof):
    (thigh + shin) / 0.49."""
    legs = []
    for side in ("left", "right"):
        thigh = np.linalg.norm(roles[f"{side}_knee"] - roles[f"{side}_hip"], axis=-1)
        shin = np.linalg.norm(roles[f"{side}_ankle"] - roles[f"{side}_knee"], axis=-1)
        legs.append(np.nanmedian(thigh + shin))
    return float(np.nanmean(legs)) / LEG_FRACTION


def infer_unit_scale(height_in_units: float, where: str) -> float:
    """Metres per unit: the standard unit (m, dm, cm, mm, inch, ft, CMU) that makes the body a
    plausible human height, closest to 1.70 m; when none does, the scale that makes it 1.70 m
    (with a warning naming --units / --height)."""
    if not np.isfinite(height_in_units) or height_in_units <= 0:
        raise ValueError(f"{where}: cannot infer units: the legs have no length")
    fits = [s for s in UNITS.values() if HEIGHT_RANGE[0] <= height_in_units * s <= HEIGHT_RANGE[1]]
    if fits:
        return min(fits, key=lambda s: abs(np.log(height_in_units * s / NOMINAL_HEIGHT)))
    scale = NOMINAL_HEIGHT / height_in_units
    warn_input(f"{where}: units unknown: the body is {height_in_units:.4g} units tall, no standard unit makes "
               f"that a human; assumed a {NOMINAL_HEIGHT:.2f} m performer ({scale:.4g} m/unit; "
               "pass --units or --height)")
    return scale


def axis_vector(axis: str) -> np.ndarray:
    """'y' → (0,1,0), '-z' → (0,0,-1)."""
    if axis not in SIGNED_AXES:
        raise ValueError(f"unsupported up axis '{axis}' (use one of {', '.join(SIGNED_AXES)})")
    v = np.zeros(3)
    v["xyz".index(axis[-1])] = -1.0 if axis.startswith("-") else 1.0
    return v


def nearest_axis(v: np.ndarray) -> str:
    """The signed coordinate axis closest to direction v."""
    i = int(np.argmax(np.abs(v)))
    return ("-" if v[i] < 0 else "") + "xyz"[i]


def up_axis_rotation(up: str) -> np.ndarray:
    """3×3 proper rotation taking the signed axis `up` to +z (exact: entries are 0 and ±1)."""
    u = axis_vector(up)
    z = np.array([0.0, 0.0, 1.0])
    if u @ z > 0.5:
        return np.eye(3)
    if u @ z < -0.5:
        return np.diag([1.0, -1.0, -1.0])
    k = np.cross(u, z)  # unit, as u ⟂ z: a quarter turn about k
    K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.rint(np.eye(3) + K + K @ K) + 0.0


def guess_up_axis(roles: dict[str, np.ndarray]) -> str:
    """The signed axis along which head/chest sits above the ankles (median over frames)."""
    top = roles.get("head", roles["chest"])
    bottom = 0.5 * (roles["left_ankle"] + roles["right_ankle"])
    return nearest_axis(np.nanmedian(top - bottom, axis=0))


def heading_rotation(roles: dict[str, np.ndarray]) -> np.ndarray:
    """3×3 yaw rotation making the pelvis face +x at frame 0 (left hip toward +y)."""
    left = roles["left_hip"][0] - roles["right_hip"][0]
    yaw_left = np.arctan2(left[1], left[0])  # where +y currently points
    return matrix_about_axis("z", np.pi / 2 - yaw_left)


def normalize_roles(roles: dict[str, np.ndarray], unit_scale: float | None, up_axis: str | None,
                    where: str, up_vector: np.ndarray | None = None, mirrored: bool = False,
                    height: float | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Role positions (T,3) → metres, Z-up, right-handed, heading +x, frame-0 pelvis at x = y = 0,
    ground z = 0.

    Up: `up_axis` (signed axis name) if known, else the axis nearest `up_vector` (a skeleton
    inference), else the axis along which the head sits above the ankles. mirrored: reflect
    (a left-handed file). Scale: `unit_scale` if known, else from `height` [m] if given, else
    inferred from the body's height (``infer_unit_scale``).
    Ground: the 2nd percentile over time of the lowest foot role, less the typical height of that
    joint above the sole (toes ≈ 2 cm, ankles ≈ 7 cm).
    Returns (new roles, info dict with the scale, up axis, rotation and ground height used)."""
    up = up_axis or (nearest_axis(up_vector) if up_vector is not None else guess_up_axis(roles))
    R = up_axis_rotation(up)
    if mirrored:
        R = np.diag([1.0, -1.0, 1.0]) @ R  # reflect across the x-z plane after bringing up to +z
    rotated = {k: v @ R.T for k, v in roles.items()}
    height_units = body_height_units(rotated)
    if unit_scale is None:
        unit_scale = height / height_units if height is not None else infer_unit_scale(height_units, where)
    R_head = heading_rotation(rotated)
    out = {k: (v @ R_head.T) * unit_scale for k, v in rotated.items()}
    origin = out["pelvis"][0].copy()
    if "left_toe" in out and "right_toe" in out:
        feet, above_sole = [out["left_toe"][:, 2], out["right_toe"][:, 2]], TOE_ABOVE_SOLE
    else:
        feet, above_sole = [out["left_ankle"][:, 2], out["right_ankle"][:, 2]], ANKLE_ABOVE_SOLE
    ground = float(np.percentile(np.minimum.reduce(feet), 2.0)) - above_sole
    shift = np.array([origin[0], origin[1], ground])
    out = {k: v - shift for k, v in out.items()}
    return out, {"unit_scale": unit_scale, "units": unit_name(unit_scale), "up_axis": up, "mirrored": mirrored,
                 "body_height_m": height_units * unit_scale, "heading": (R_head @ R).tolist(),
                 "ground_height_m": ground}
