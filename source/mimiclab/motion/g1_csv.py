"""Unitree / LAFAN1 G1 joint CSV: one row per frame, no header, comma (or whitespace) separated:

    x y z qx qy qz qw  j0 … j28

root position [m] and root (pelvis) quaternion in xyzw, then the 29 joint angles [rad] in G1 SDK
order (= ``G1.joint_names``). The file stores no frame rate: 30 fps by convention (LAFAN1).
Blank lines and lines starting with '#' are skipped; any other non-numeric line is an error.
Reading re-runs our forward kinematics (``motion_from_joint_trajectory``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mimiclab.motion.format import MotionData, atomic_write
from mimiclab.robots.g1 import G1

G1_CSV_FPS = 30.0
NUM_COLUMNS = 7 + len(G1.joint_names)  # 36
CSV_QUAT_TOL = 1e-2  # |‖q‖ − 1| accepted in a CSV row (text precision); rows are then normalised


def _parse(path: Path) -> np.ndarray:
    """(T, 36) float64 rows; ValueError naming the file, line and problem."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: unreadable CSV ({e.__class__.__name__}: {e})") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
    if not lines:
        raise ValueError(f"{path}: zero frames (empty CSV)")
    sep = "," if "," in lines[0][1] else None
    rows = [line.split(sep) for _, line in lines]
    for (n, _), row in zip(lines, rows):
        if len(row) != NUM_COLUMNS:
            raise ValueError(f"{path}: line {n} has {len(row)} columns, expected {NUM_COLUMNS} "
                             f"(x y z qx qy qz qw + {len(G1.joint_names)} G1 joints)")
    try:
        data = np.array(rows, dtype=np.float64)
    except ValueError:
        for (n, _), row in zip(lines, rows):
            for c, token in enumerate(row):
                try:
                    float(token)
                except ValueError:
                    raise ValueError(f"{path}: line {n} column {c + 1}: {token.strip()!r} is not a number") from None
        raise
    bad = ~np.isfinite(data).all(axis=1)
    if bad.any():
        rows_bad = np.flatnonzero(bad)
        raise ValueError(f"{path}: NaN or Inf on line {lines[rows_bad[0]][0]} "
                         f"({len(rows_bad)} bad row{'s' if len(rows_bad) > 1 else ''})")
    norm = np.linalg.norm(data[:, 3:7], axis=1)
    err = np.abs(norm - 1.0)
    if err.max() > CSV_QUAT_TOL:
        i = int(np.argmax(err))
        raise ValueError(f"{path}: line {lines[i][0]}: root quaternion (qx qy qz qw) has norm "
                         f"{norm[i]:.4g}, expected 1")
    return data


def read_g1_csv(path: str | os.PathLike, fps: float = G1_CSV_FPS) -> MotionData:
    """Read a G1 CSV (module docstring) into a full ``MotionData`` at `fps` (no resampling).

    Quaternions are converted xyzw → wxyz and normalised; bodies and velocities come from our FK.
    ValueError naming the file: unreadable, wrong column count (with the count), non-numbers,
    NaN/Inf rows, zero frames, non-unit quaternions, bad fps.
    """
    from mimiclab.motion.kinematics import motion_from_joint_trajectory

    path = Path(path)
    data = _parse(path)
    quat = data[:, [6, 3, 4, 5]]
    quat /= np.linalg.norm(quat, axis=1, keepdims=True)
    try:
        return motion_from_joint_trajectory(data[:, :3], quat, data[:, 7:], fps, joint_names=G1.joint_names,
                                            meta={"source": {"format": "g1csv", "file": path.name}})
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def write_g1_csv(path: str | os.PathLike, motion: MotionData) -> Path:
    """Write `motion` as a G1 CSV (comma separated, '%.9g' — float32 values round-trip exactly),
    atomically. Joints are picked by name (every G1 joint must be present); fps is not stored."""
    path = Path(path)
    motion.validate(str(path))
    m = motion.select(G1.joint_names, None, where=str(path))
    q = np.asarray(m.root_quat_w, dtype=np.float64)
    table = np.concatenate([np.asarray(m.root_pos_w, dtype=np.float64), q[:, [1, 2, 3, 0]],
                            np.asarray(m.joint_pos, dtype=np.float64)], axis=1)
    fmt = ",".join(["%.9g"] * NUM_COLUMNS)
    text = "\n".join(fmt % tuple(row) for row in table.tolist()) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode("ascii")))
