"""Unitree / LAFAN1 G1 joint CSV: one row per frame, comma (or tab / space / ';') separated:

    x y z qx qy qz qw  j0 … j28

root position [m], root (pelvis) quaternion in xyzw, then the 29 joint angles [rad] in G1 SDK
order (= ``G1.joint_names``). An optional header row (a first line of non-numeric tokens):

* named columns are mapped by name, in any order: root position (``x``, ``base_x``,
  ``root_pos_x``, ``pos_x`` …), root quaternion (``qw``, ``base_qw``, ``root_quat_w``,
  ``quat_w`` … — so xyzw or wxyz as the names say), joints by G1 name with or without ``_joint``;
* a ``frame`` / ``index`` column is dropped; a ``time`` / ``timestamp`` column (seconds; ``*_ms``
  milliseconds) is dropped and gives the frame rate when it is regular;
* numbered names (``j0`` … ``j28``, ``0`` … ``35``, ``col_1`` …) with 36 data columns: the standard
  order above.

Without a time column the file stores no rate: the caller's `fps` (``--source-fps``), else 30 fps
(LAFAN1) is assumed — with a warning when the motion then walks implausibly slowly
(``check_assumed_rate``: a 60 fps file read at 30). Blank lines and lines starting with '#' are
skipped. Reading re-runs our forward kinematics (``motion_from_joint_trajectory``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mimiclab.motion.format import MotionData, atomic_write, choose_fps
from mimiclab.motion.input_warning import warn_input
from mimiclab.robots.g1 import G1
from mimiclab.rotations.numpy_ops import quat_normalize, wxyz_to_xyzw, xyzw_to_wxyz

G1_CSV_FPS = 30.0
NUM_COLUMNS = 7 + len(G1.joint_names)  # 36
CSV_QUAT_TOL = 1e-2  # |‖q‖ − 1| accepted in a CSV row (text precision); rows are then normalised
SLOT_LABELS = ("x", "y", "z", "qx", "qy", "qz", "qw", *G1.joint_names)  # the 36 standard columns
_LAYOUT_HINT = f"x y z qx qy qz qw + {len(G1.joint_names)} G1 joints"

_FRAME_NAMES = {"", "frame", "frames", "frame_id", "frame_idx", "frame_index", "frame_number", "frame_no",
                "frame_num", "index", "idx", "unnamed_0"}
_TIME_SCALES = {"time": 1.0, "timestamp": 1.0, "t": 1.0, "time_s": 1.0, "timestamp_s": 1.0, "seconds": 1.0,
                "sec": 1.0, "secs": 1.0, "time_sec": 1.0, "time_ms": 1e-3, "timestamp_ms": 1e-3, "ms": 1e-3,
                "time_us": 1e-6, "timestamp_us": 1e-6, "time_ns": 1e-9, "timestamp_ns": 1e-9}
_ROOT_PREFIXES = ("floating_base_", "root_", "base_", "pelvis_", "trunk_", "body_")
_POS_RE = re.compile(r"^(?:pos|position|p|trans|translation|t|loc|location)?_?([xyz])$")
_QUAT_RE = re.compile(r"^(?:q|quat|quaternion|rot|rotation|orient|orientation|ori)_?([wxyz])$")
_GENERIC_RE = re.compile(r"^(?:j|joint|q|dof|col|column|c|unnamed|dim|v|var|field|f|value)?_?\d+$")
_JOINT_SUFFIX_RE = re.compile(r"_(?:pos|position|q|angle|rad)$")
_POS_SLOT = {"x": 0, "y": 1, "z": 2}
_QUAT_SLOT = {"x": 3, "y": 4, "z": 5, "w": 6}
_JOINT_SLOT = {n: 7 + i for i, n in enumerate(G1.joint_names)}

# assumed-rate check (check_assumed_rate): natural walking and running step at 1.4-3 steps/s
# (85-180 steps/min; the slowest clips of a real mocap corpus, retargeted: 1.38); below 1.1 steps/s
# the clip is almost surely slowed down, e.g. a 60 fps file read at 30 (walks then read 0.7-1.1).
MIN_STEPS_PER_S = 1.1
TYPICAL_STEPS_PER_S = 1.8
MIN_PATH_M = 1.0  # root path length [m] for a clip to count as locomotion
MIN_LEG_SWING_RAD = 0.3  # 5-95 % range of left − right hip pitch [rad]
MIN_STEPS = 4  # alternations of the legs needed to measure a step rate


@dataclass
class _Table:
    """Parsed CSV: values (T, 36) in the standard column order, optional times (T,) [s]."""

    values: np.ndarray
    lines: list[int]  # file line number of each row
    times: np.ndarray | None = None
    time_decimals: int | None = None  # digits after the point in the time column (None: exponent form)


# --------------------------------------------------------------------------------------------
# header


def _norm(token: str) -> str:
    t = token.strip().strip("\"'").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", t).strip("_")


def _joint_slot(t: str) -> int | None:
    for cand in (t, _JOINT_SUFFIX_RE.sub("", t)):
        for name in (cand, cand + "_joint"):
            if name in _JOINT_SLOT:
                return _JOINT_SLOT[name]
    return None


def _classify(token: str) -> tuple[str, float | int | None]:
    """('time', scale) | ('frame', None) | ('slot', 0..35) | ('generic', None) | ('unknown', None)."""
    t = _norm(token)
    if t in _TIME_SCALES:
        return "time", _TIME_SCALES[t]
    if t in _FRAME_NAMES:
        return "frame", None
    slot = _joint_slot(t)
    if slot is not None:
        return "slot", slot
    rest = next((t[len(p):] for p in _ROOT_PREFIXES if t.startswith(p)), t)
    if m := _QUAT_RE.match(rest):
        return "slot", _QUAT_SLOT[m.group(1)]
    if m := _POS_RE.match(rest):
        return "slot", _POS_SLOT[m.group(1)]
    if _GENERIC_RE.match(t):
        return "generic", None
    return "unknown", None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _is_header(tokens: list[str], more_lines: bool) -> bool:
    """A header: some non-numeric tokens and the numeric ones integers (column numbers), or exactly
    the column numbers 0..n-1 / 1..n."""
    numeric = [_is_number(t) for t in tokens]
    ints = [re.fullmatch(r"\s*\d+\s*", t) is not None for t in tokens]
    if not all(numeric):
        return all(i or not n for n, i in zip(numeric, ints))
    if all(ints) and more_lines:
        values = [int(t) for t in tokens]
        return values in (list(range(len(values))), list(range(1, len(values) + 1)))
    return False


def _header_order(tokens: list[str], line: int, path: Path) -> tuple[list[int], int | None, float]:
    """(file column of each of the 36 standard slots, time column or None, time scale to seconds)."""
    kinds = [_classify(t) for t in tokens]
    where = f"{path}: line {line}: header"
    unknown = [t.strip() for t, (k, _) in zip(tokens, kinds) if k == "unknown"]
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:8]) + (f" … ({len(unknown)} in all)" if len(unknown) > 8 else "")
        raise ValueError(f"{where} has unknown column names {shown} (known: x y z qx qy qz qw or "
                         f"root_pos_* / root_quat_*, the 29 G1 joint names, time, frame)")
    times = [i for i, (k, _) in enumerate(kinds) if k == "time"]
    if len(times) > 1:
        raise ValueError(f"{where} has {len(times)} time columns ({', '.join(tokens[i].strip() for i in times)})")
    cols = [i for i, (k, _) in enumerate(kinds) if k in ("slot", "generic")]
    if any(kinds[i][0] == "generic" for i in cols):
        order = _positional(tokens, kinds, cols, where)
    else:
        order = _by_name(tokens, kinds, cols, where)
    return order, (times[0] if times else None), (kinds[times[0]][1] if times else 1.0)


def _positional(tokens, kinds, cols: list[int], where: str) -> list[int]:
    """Numbered header columns: the standard order; named ones among them must sit in their place."""
    if len(cols) != NUM_COLUMNS:
        raise ValueError(f"{where} has {len(cols)} data columns; the G1 29-DoF CSV needs {NUM_COLUMNS} "
                         f"({_LAYOUT_HINT})")
    for slot, i in enumerate(cols):
        if kinds[i][0] == "slot" and kinds[i][1] != slot:
            raise ValueError(f"{where} mixes named and numbered columns, and {tokens[i].strip()!r} "
                             f"(column {i + 1}) is not in its standard place ({SLOT_LABELS[slot]!r} is)")
    return cols


def _by_name(tokens, kinds, cols: list[int], where: str) -> list[int]:
    """Named header columns: each of the 36 slots exactly once."""
    slots: dict[int, int] = {}
    for i in cols:
        s = kinds[i][1]
        if s in slots:
            raise ValueError(f"{where} names {SLOT_LABELS[s]!r} twice ({tokens[slots[s]].strip()!r} in column "
                             f"{slots[s] + 1}, {tokens[i].strip()!r} in column {i + 1})")
        slots[s] = i
    missing = [SLOT_LABELS[s] for s in range(NUM_COLUMNS) if s not in slots]
    if missing:
        joints = sum(1 for s in slots if s >= 7)
        shown = ", ".join(missing[:8]) + (f" … ({len(missing)} in all)" if len(missing) > 8 else "")
        raise ValueError(f"{where} lacks {shown} (it names {joints} of the 29 G1 joints; "
                         f"mimiclab reads the 29-DoF G1: {_LAYOUT_HINT})")
    return [slots[s] for s in range(NUM_COLUMNS)]


# --------------------------------------------------------------------------------------------
# rows


def _split(line: str, sep: str | None) -> list[str]:
    row = line.split(sep)
    if sep is not None and len(row) > 1 and not row[-1].strip():
        row = row[:-1]  # a trailing separator
    return row


def _count_error(path: Path, line: int, n: int, header_width: int | None) -> ValueError:
    if header_width is not None:
        return ValueError(f"{path}: line {line} has {n} columns, the header has {header_width}")
    hint = f"the G1 29-DoF CSV is {_LAYOUT_HINT}"
    if n == 7 + 23:
        hint += "; 30 columns = 7 + 23 joints, a 23-DoF G1, which mimiclab does not read"
    elif n == NUM_COLUMNS + 1:
        hint += "; a frame or time column needs a header row naming it"
    return ValueError(f"{path}: line {line} has {n} columns, expected {NUM_COLUMNS} ({hint})")


def _to_float(path: Path, lines: list[tuple[int, str]], rows: list[list[str]]) -> np.ndarray:
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        for (n, _), row in zip(lines, rows):
            for c, token in enumerate(row):
                if not _is_number(token):
                    raise ValueError(f"{path}: line {n} column {c + 1}: {token.strip()!r} is not a number") from None
        raise


def _decimals(tokens: list[str]) -> int | None:
    """Most digits after the point among `tokens` (None when one is in exponent form)."""
    if any("e" in t.lower() for t in tokens):
        return None
    return max((len(t.strip().split(".")[1]) if "." in t else 0) for t in tokens)


def _parse(path: Path) -> _Table:
    """The CSV's rows in the standard order; ValueError naming the file, line and problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: unreadable CSV ({e.__class__.__name__}: {e})") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
    if not lines:
        raise ValueError(f"{path}: zero frames (empty CSV)")
    first = lines[0][1]
    sep = "," if "," in first else (";" if ";" in first else None)
    rows = [_split(line, sep) for _, line in lines]
    order, time_col, scale, width = list(range(NUM_COLUMNS)), None, 1.0, None
    if _is_header(rows[0], len(rows) > 1):
        order, time_col, scale = _header_order(rows[0], lines[0][0], path)
        width = len(rows[0])
        lines, rows = lines[1:], rows[1:]
        if not rows:
            raise ValueError(f"{path}: zero frames (a header row only)")
    for (n, _), row in zip(lines, rows):
        if len(row) != (width or NUM_COLUMNS):
            raise _count_error(path, n, len(row), width)
    data = _to_float(path, lines, rows)
    used = order + ([time_col] if time_col is not None else [])
    bad = ~np.isfinite(data[:, used]).all(axis=1)
    if bad.any():
        rows_bad = np.flatnonzero(bad)
        raise ValueError(f"{path}: NaN or Inf on line {lines[rows_bad[0]][0]} "
                         f"({len(rows_bad)} bad row{'s' if len(rows_bad) > 1 else ''})")
    table = _Table(data[:, order], [n for n, _ in lines])
    if time_col is not None:
        table.times = data[:, time_col] * scale
        table.time_decimals = _decimals([r[time_col] for r in rows])
        if table.time_decimals is not None and scale != 1.0:
            table.time_decimals += int(round(-np.log10(scale)))
    _check_quats(path, table)
    return table


def _check_quats(path: Path, table: _Table) -> None:
    norm = np.linalg.norm(table.values[:, 3:7], axis=1)
    err = np.abs(norm - 1.0)
    if err.max() > CSV_QUAT_TOL:
        i = int(np.argmax(err))
        raise ValueError(f"{path}: line {table.lines[i]}: root quaternion (qx qy qz qw) has norm "
                         f"{norm[i]:.4g}, expected 1")


# --------------------------------------------------------------------------------------------
# frame rate


def rate_from_times(path: Path, t: np.ndarray, lines: list[int], decimals: int | None) -> float | None:
    """Frame rate [fps] of a time column t (T,) [s]: strictly increasing (else ValueError); regular
    within a quarter frame → (T−1)/(t_last − t_0), snapped to an integer rate when the printed
    precision allows; irregular → 1/median interval, with a warning. None for a single frame."""
    if t.size < 2:
        return None
    dt = np.diff(t)
    bad = np.flatnonzero(dt <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        what = "goes backwards" if dt[bad[0]] < 0 else "repeats"
        raise ValueError(f"{path}: line {lines[i]}: the time column {what} ({t[i]:.6g} s after {t[i - 1]:.6g} s)")
    span = float(t[-1] - t[0])
    fps = (t.size - 1) / span
    resid = t - t[0] - np.arange(t.size) / fps
    if np.abs(resid).max() > 0.25 / fps:
        median = 1.0 / float(np.median(dt))
        warn_input(f"{path}: the time column is irregular (frame intervals {dt.min():.4g} to {dt.max():.4g} s, "
                   f"dropped frames?); reading at {median:.6g} fps from the median interval, without resampling")
        return float(f"{median:.6g}")
    res = 1e-9 if decimals is None else 0.5 * 10.0 ** -decimals
    tol = fps * (2.0 * res + 1e-9) / span + 1e-6 * fps
    snapped = round(fps)
    return float(snapped) if snapped >= 1 and abs(fps - snapped) <= tol else float(f"{fps:.6g}")


def step_rate(motion: MotionData) -> float | None:
    """Steps per second of a locomotion clip at its fps: alternations of left − right hip pitch
    (with hysteresis) over the time they span; None unless the root travels ≥ 1 m, the legs swing
    ≥ 0.3 rad and alternate ≥ 4 times (standing, gestures: no step rate to judge)."""
    names = list(motion.joint_names)
    if "left_hip_pitch_joint" not in names or "right_hip_pitch_joint" not in names:
        return None
    root = np.asarray(motion.root_pos_w, dtype=np.float64)
    if np.linalg.norm(np.diff(root[:, :2], axis=0), axis=1).sum() < MIN_PATH_M:
        return None
    q = np.asarray(motion.joint_pos, dtype=np.float64)
    d = q[:, names.index("left_hip_pitch_joint")] - q[:, names.index("right_hip_pitch_joint")]
    d = d - np.median(d)
    swing = float(np.percentile(d, 95) - np.percentile(d, 5))
    if swing < MIN_LEG_SWING_RAD:
        return None
    side = np.where(d > 0.1 * swing, 1, np.where(d < -0.1 * swing, -1, 0))
    side = side[side != 0]
    frames = np.flatnonzero((d > 0.1 * swing) | (d < -0.1 * swing))
    flips = frames[1:][side[1:] != side[:-1]]
    if flips.size < MIN_STEPS:
        return None
    return (flips.size - 1) * float(motion.fps) / float(flips[-1] - flips[0])


def check_assumed_rate(path: Path, motion: MotionData) -> None:
    """Warn when a clip read at the assumed 30 fps walks implausibly slowly (< 1.1 steps/s): the
    file was probably recorded faster (a 60 fps retarget). The rate is not changed."""
    rate = step_rate(motion)
    if rate is None or rate >= MIN_STEPS_PER_S:
        return
    suggest = 60 if motion.fps * TYPICAL_STEPS_PER_S / rate < 90 else 120
    root = np.asarray(motion.root_pos_w, dtype=np.float64)
    speed = float(np.median(np.linalg.norm(np.diff(root[:, :2], axis=0), axis=1))) * motion.fps
    warn_input(f"{path}: the CSV stores no frame rate and {motion.fps:g} fps was assumed, but at {motion.fps:g} fps "
               f"the motion steps {rate * 60:.0f} times a minute ({speed:.2f} m/s), implausibly slow for walking "
               f"(people step 85-180 times a minute); if it was recorded at {suggest} fps, "
               f"pass --source-fps {suggest}")


# --------------------------------------------------------------------------------------------
# read / write


def read_g1_csv(path: str | os.PathLike, fps: float | None = None) -> MotionData:
    """Read a G1 CSV (module docstring) into a full ``MotionData`` (no resampling).

    fps: the rate of the file (``--source-fps``); it wins over a time column, with a warning when
    they differ. None: the time column's rate, else 30 fps assumed (``check_assumed_rate``).
    Quaternions are converted to wxyz and normalised; bodies and velocities come from our FK.
    ValueError naming the file: unreadable, wrong column count (with the count), unknown header
    names, non-numbers, NaN/Inf rows, zero frames, non-unit quaternions, a time column that goes
    backwards, bad fps.
    """
    from mimiclab.motion.kinematics import motion_from_joint_trajectory

    path = Path(path)
    table = _parse(path)
    file_fps = None
    if table.times is not None:
        file_fps = rate_from_times(path, table.times, table.lines, table.time_decimals)
    rate = choose_fps(file_fps, fps, str(path), what="the time column says")
    assumed = rate is None
    data = table.values
    quat = quat_normalize(xyzw_to_wxyz(data[:, 3:7]))
    source = {"format": "g1csv", "file": path.name}
    try:
        motion = motion_from_joint_trajectory(data[:, :3], quat, data[:, 7:], G1_CSV_FPS if assumed else rate,
                                              joint_names=G1.joint_names, meta={"source": source})
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    if assumed:
        check_assumed_rate(path, motion)
    return motion


def write_g1_csv(path: str | os.PathLike, motion: MotionData) -> Path:
    """Write `motion` as a G1 CSV (comma separated, '%.9g' — float32 values round-trip exactly),
    atomically. Joints are picked by name (every G1 joint must be present); fps is not stored."""
    path = Path(path)
    motion.validate(str(path))
    m = motion.select(G1.joint_names, None, where=str(path))
    q = np.asarray(m.root_quat_w, dtype=np.float64)
    table = np.concatenate([np.asarray(m.root_pos_w, dtype=np.float64), wxyz_to_xyzw(q),
                            np.asarray(m.joint_pos, dtype=np.float64)], axis=1)
    fmt = ",".join(["%.9g"] * NUM_COLUMNS)
    text = "\n".join(fmt % tuple(row) for row in table.tolist()) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode("ascii")))
