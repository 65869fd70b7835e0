"""Units, up axis, heading and ground: bring role positions to metres, Z-up, facing +x at frame 0,
pelvis above the origin at frame 0, ground at z = 0."""

from __future__ import annotations

import numpy as np

# plausible human heights (top joint to lowest joint) [m]
_HEIGHT_RANGE = (0.9, 2.4)
_UNIT_CANDIDATES = ((1.0, "m"), (0.01, "cm"), (0.0254, "inch"), (0.001, "mm"))
TOE_ABOVE_SOLE = 0.02  # m, a mocap toe joint (ball of the foot) above the ground when planted
ANKLE_ABOVE_SOLE = 0.07  # m


def infer_unit_scale(height_in_units: float, where: str) -> float:
    """Metres per unit so that the body height becomes human-sized; ValueError when none fits."""
    for scale, _ in _UNIT_CANDIDATES:
        if _HEIGHT_RANGE[0] <= height_in_units * scale <= _HEIGHT_RANGE[1]:
            return scale
    raise ValueError(f"{where}: cannot infer units: the skeleton is {height_in_units:.3g} units tall "
                     f"(expected a human in m, cm, inches or mm)")


def up_axis_rotation(up: str) -> np.ndarray:
    """3×3 rotation taking `up` ('y' or 'z') to +z (Y-up → Z-up keeps a right-handed frame)."""
    if up == "z":
        return np.eye(3)
    if up == "y":
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    raise ValueError(f"unsupported up axis '{up}'")


def guess_up_axis(roles: dict[str, np.ndarray]) -> str:
    """The axis along which head/chest sits farthest above the ankles at frame 0."""
    top = roles.get("head", roles["chest"])[0]
    bottom = 0.5 * (roles["left_ankle"][0] + roles["right_ankle"][0])
    d = top - bottom
    axis = int(np.argmax(np.abs(d)))
    if axis == 0:
        raise ValueError("cannot tell the up axis: the body lies along x")
    if d[axis] < 0:
        raise ValueError("cannot tell the up axis: the body is upside down")
    return "yz"[axis - 1]


def heading_rotation(roles: dict[str, np.ndarray]) -> np.ndarray:
    """3×3 yaw rotation making the pelvis face +x at frame 0 (left hip toward +y)."""
    left = roles["left_hip"][0] - roles["right_hip"][0]
    yaw_left = np.arctan2(left[1], left[0])  # where +y currently points
    angle = np.pi / 2 - yaw_left
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def normalize_roles(roles: dict[str, np.ndarray], unit_scale: float | None, up_axis: str | None,
                    where: str) -> tuple[dict[str, np.ndarray], dict]:
    """Role positions (T,3) → metres, Z-up, heading +x, frame-0 pelvis at x = y = 0, ground z = 0.

    Ground: the 2nd percentile over time of the lowest foot role, less the typical height of that
    joint above the sole (toes ≈ 2 cm, ankles ≈ 7 cm).
    Returns (new roles, info dict with the scale, up axis, rotation and ground height used)."""
    up = up_axis or guess_up_axis(roles)
    R_up = up_axis_rotation(up)
    rotated = {k: v @ R_up.T for k, v in roles.items()}
    if unit_scale is None:
        top = rotated.get("head", rotated["chest"])[0, 2]
        low = min(rotated[r][0, 2] for r in ("left_ankle", "right_ankle", "left_toe", "right_toe") if r in rotated)
        unit_scale = infer_unit_scale(float(top - low) * 1.08, where)  # head joint ≈ 92 % of height
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
    return out, {"unit_scale": unit_scale, "up_axis": up, "heading": (R_head @ R_up).tolist(),
                 "ground_height_m": ground}
