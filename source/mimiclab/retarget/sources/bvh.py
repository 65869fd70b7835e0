"""BVH motion capture reader and writer.

Reader: any channel order per joint, 0–6 channels per joint (e.g. 6 on every joint as in the
Bandai Namco files, or 3 rotation channels on non-root joints), End Site blocks, several roots or
a root above the hips, any units and up axis (numbers are kept as they are), tabs / CRLF / extra
whitespace. Global joint positions and orientations come from forward kinematics vectorised over
frames.

Conventions (those of the common exporters): a joint's rotation channels form an intrinsic Euler
sequence in the order they are listed, in degrees (``Zrotation Xrotation Yrotation`` →
R = Rz·Rx·Ry); a joint's position channels *replace* the matching OFFSET components
(``position_mode="add"`` adds them instead); global frame of joint j:
R_j = R_parent · R_local, p_j = p_parent + R_parent · t_local.

Every problem raises ``ValueError("<path>: <problem>")`` on one line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from mimiclab.motion.format import atomic_write_bytes
from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.rotations.numpy_ops import euler_from_matrix, matrix_from_euler, quat_from_matrix

CHANNEL_NAMES = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")
_CHANNEL_LOOKUP = {c.lower(): c for c in CHANNEL_NAMES}
_FRAMES_RE = re.compile(r"^\s*frames\s*:?\s*(\S+)\s*$", re.IGNORECASE)
_FRAME_TIME_RE = re.compile(r"^\s*frame\s*time\s*:?\s*(\S+)\s*$", re.IGNORECASE)


class _Joint:
    __slots__ = ("name", "parent", "offset", "channels")

    def __init__(self, name: str, parent: int):
        self.name = name
        self.parent = parent
        self.offset: np.ndarray | None = None
        self.channels: list[str] = []


def _parse_hierarchy(where: str, header: str, has_motion: bool = True
                     ) -> tuple[list[_Joint], list[tuple[int, np.ndarray]]]:
    """Tokens of the HIERARCHY section → joints (depth-first order) and end sites (parent, offset)."""
    tokens = header.replace("{", " { ").replace("}", " } ").split()
    if not tokens:
        raise ValueError(f"{where}: empty file (truncated?)")
    if tokens[0].upper() != "HIERARCHY":
        raise ValueError(f"{where}: not a BVH file (expected 'HIERARCHY', found {tokens[0][:40]!r})")
    joints: list[_Joint] = []
    end_sites: list[list] = []  # [parent index, offset or None]
    stack: list[tuple[str, int]] = []  # ("joint", index) or ("end", index into end_sites)
    n = len(tokens)
    pos = 1

    def take_name(start: int, kind: str) -> tuple[str, int]:
        end = start
        while end < n and tokens[end] != "{":
            if tokens[end] in ("}", "OFFSET", "CHANNELS", "JOINT", "ROOT", "MOTION") or end - start > 8:
                raise ValueError(f"{where}: malformed hierarchy: '{{' expected after {kind}")
            end += 1
        if end >= n:
            raise ValueError(f"{where}: truncated hierarchy: unexpected end after {kind}")
        return " ".join(tokens[start:end]), end + 1

    while pos < n:
        tok = tokens[pos]
        key = tok.upper()
        if key in ("ROOT", "JOINT"):
            if key == "ROOT" and stack:
                raise ValueError(f"{where}: malformed hierarchy: ROOT inside another joint")
            if key == "JOINT" and (not stack or stack[-1][0] != "joint"):
                raise ValueError(f"{where}: malformed hierarchy: JOINT outside a joint block")
            name, pos = take_name(pos + 1, key)
            if not name:
                raise ValueError(f"{where}: malformed hierarchy: {key} without a name")
            joints.append(_Joint(name, stack[-1][1] if stack else -1))
            stack.append(("joint", len(joints) - 1))
        elif key == "END":
            if not stack or stack[-1][0] != "joint":
                raise ValueError(f"{where}: malformed hierarchy: End Site outside a joint block")
            _, pos = take_name(pos + 1, "End Site")
            end_sites.append([stack[-1][1], None])
            stack.append(("end", len(end_sites) - 1))
        elif key == "OFFSET":
            if not stack:
                raise ValueError(f"{where}: malformed hierarchy: OFFSET outside a joint block")
            if pos + 3 > n - 1:
                raise ValueError(f"{where}: truncated hierarchy: incomplete OFFSET")
            try:
                off = np.array([float(t) for t in tokens[pos + 1:pos + 4]])
            except ValueError:
                raise ValueError(f"{where}: malformed hierarchy: OFFSET needs 3 numbers, "
                                 f"got {' '.join(tokens[pos + 1:pos + 4])[:60]!r}") from None
            if not np.isfinite(off).all():
                raise ValueError(f"{where}: malformed hierarchy: non-finite OFFSET")
            kind, idx = stack[-1]
            if kind == "joint":
                if joints[idx].offset is not None:
                    raise ValueError(f"{where}: malformed hierarchy: two OFFSETs in joint {joints[idx].name!r}")
                joints[idx].offset = off
            else:
                end_sites[idx][1] = off
            pos += 4
        elif key == "CHANNELS":
            if not stack or stack[-1][0] != "joint":
                raise ValueError(f"{where}: malformed hierarchy: CHANNELS outside a joint block")
            joint = joints[stack[-1][1]]
            if pos + 1 >= n:
                raise ValueError(f"{where}: truncated hierarchy: incomplete CHANNELS")
            try:
                count = int(tokens[pos + 1])
            except ValueError:
                raise ValueError(f"{where}: malformed hierarchy: channel count {tokens[pos + 1][:20]!r} "
                                 f"of joint {joint.name!r} is not an integer") from None
            if not 0 <= count <= 6:
                raise ValueError(f"{where}: malformed hierarchy: joint {joint.name!r} declares {count} channels")
            names = tokens[pos + 2:pos + 2 + count]
            if len(names) < count:
                raise ValueError(f"{where}: truncated hierarchy: incomplete CHANNELS of joint {joint.name!r}")
            chans = []
            for c in names:
                canon = _CHANNEL_LOOKUP.get(c.lower())
                if canon is None:
                    raise ValueError(f"{where}: malformed hierarchy: unknown channel {c[:30]!r} in joint "
                                     f"{joint.name!r} (CHANNELS {count} must list {count} of "
                                     f"{', '.join(CHANNEL_NAMES)})")
                chans.append(canon)
            if len(set(chans)) != len(chans) or joint.channels:
                raise ValueError(f"{where}: malformed hierarchy: repeated channels in joint {joint.name!r}")
            joint.channels = chans
            pos += 2 + count
        elif tok == "}":
            if not stack:
                raise ValueError(f"{where}: malformed hierarchy: unbalanced '}}'")
            kind, idx = stack.pop()
            if kind == "joint" and joints[idx].offset is None:
                raise ValueError(f"{where}: malformed hierarchy: joint {joints[idx].name!r} has no OFFSET")
            if kind == "end" and end_sites[idx][1] is None:
                raise ValueError(f"{where}: malformed hierarchy: End Site of joint "
                                 f"{joints[end_sites[idx][0]].name!r} has no OFFSET")
            pos += 1
        else:
            raise ValueError(f"{where}: malformed hierarchy: unexpected {tok[:40]!r}")
    if stack:
        raise ValueError(f"{where}: truncated hierarchy: {len(stack)} block(s) not closed before "
                         f"{'MOTION' if has_motion else 'the end of the file'} (missing '}}')")
    if not joints:
        raise ValueError(f"{where}: malformed hierarchy: no ROOT joint")
    names = [j.name for j in joints]
    if len(set(names)) != len(names):
        dup = sorted({x for x in names if names.count(x) > 1})
        raise ValueError(f"{where}: malformed hierarchy: duplicate joint names {dup[:5]}")
    return joints, [(p, o) for p, o in end_sites]


def _parse_motion(where: str, lines: list[str], num_channels: int, first_line: int
                  ) -> tuple[np.ndarray, float]:
    """Lines after MOTION (the first is line `first_line` of the file) → values (T,C), frame time [s]."""
    it = 0
    header: list[str] = []
    while it < len(lines) and len(header) < 2:
        if lines[it].strip():
            header.append(lines[it])
        it += 1
    m_frames = _FRAMES_RE.match(header[0]) if header else None
    if m_frames is None:
        if not header:
            raise ValueError(f"{where}: truncated file: no 'Frames:' line after MOTION")
        raise ValueError(f"{where}: malformed MOTION header: expected 'Frames: N', "
                         f"found {header[0].strip()[:40]!r}")
    try:
        num_frames = int(m_frames.group(1))
    except ValueError:
        raise ValueError(f"{where}: malformed MOTION header: frame count {m_frames.group(1)[:20]!r} "
                         "is not an integer") from None
    if num_frames < 0:
        raise ValueError(f"{where}: malformed MOTION header: negative frame count {num_frames}")
    m_time = _FRAME_TIME_RE.match(header[1]) if len(header) > 1 else None
    if m_time is None:
        if len(header) < 2:
            raise ValueError(f"{where}: truncated file: no 'Frame Time:' line after MOTION")
        raise ValueError(f"{where}: malformed MOTION header: expected 'Frame Time: dt', "
                         f"found {header[1].strip()[:40]!r}")
    try:
        frame_time = float(m_time.group(1))
    except ValueError:
        raise ValueError(f"{where}: malformed MOTION header: frame time {m_time.group(1)[:20]!r} "
                         "is not a number") from None
    if not np.isfinite(frame_time) or frame_time <= 0:
        raise ValueError(f"{where}: frame time must be positive, got {m_time.group(1)[:20]}")

    rows = [ln.split() for ln in lines[it:]]
    line_no = [k for k, r in enumerate(rows) if r]
    rows = [rows[k] for k in line_no]
    if num_frames == 0 and not rows:
        raise ValueError(f"{where}: the motion has zero frames")
    counts = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    bad = np.flatnonzero(counts != num_channels)
    if bad.size:
        k = int(bad[0])
        hint = " (truncated file?)" if k == len(rows) - 1 and counts[k] < num_channels else ""
        raise ValueError(f"{where}: frame {k} (line {first_line + it + line_no[k]}) has {counts[k]} values, "
                         f"expected {num_channels} (one per channel){hint}")
    if len(rows) != num_frames:
        hint = " (truncated file?)" if len(rows) < num_frames else ""
        raise ValueError(f"{where}: frame count mismatch: MOTION says {num_frames} frames but the file "
                         f"has {len(rows)} rows{hint}")
    if num_frames == 0:
        raise ValueError(f"{where}: the motion has zero frames")
    try:
        values = np.array([tok for r in rows for tok in r], dtype=np.float64)
    except ValueError:
        for k, r in enumerate(rows):
            try:
                np.array(r, dtype=np.float64)
            except ValueError:
                tok = next(t for t in r if not _is_number(t))
                raise ValueError(f"{where}: frame {k} (line {first_line + it + line_no[k]}) has a non-numeric "
                                 f"value {tok[:30]!r}") from None
        raise
    values = values.reshape(num_frames, num_channels) if num_channels else np.zeros((num_frames, 0))
    if not np.isfinite(values).all():
        k = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise ValueError(f"{where}: NaN or Inf value in frame {k}")
    return values, frame_time


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


def _snap_fps(frame_time: float) -> float:
    """1/frame_time, snapped to the nearest integer when the file rounded it (0.0333333 → 30)."""
    fps = 1.0 / frame_time
    r = round(fps)
    return float(r) if r > 0 and abs(fps - r) < 1e-4 * fps else fps


PLAUSIBLE_FPS = (10.0, 1000.0)  # mocap frame rates; a Frame Time outside (e.g. 1.0 s) is an exporter slip
FALLBACK_FPS = 30.0


def _frame_rate(where: str, frame_time: float, source_fps: float | None) -> float:
    """fps from the Frame Time, or `source_fps` when given; an implausible Frame Time → 30 fps + warning."""
    from mimiclab.motion.input_warning import warn_input

    if source_fps is not None:
        if not (np.isfinite(source_fps) and source_fps > 0):
            raise ValueError(f"{where}: --source-fps must be a positive number, got {source_fps}")
        return float(source_fps)
    fps = _snap_fps(frame_time)
    if not PLAUSIBLE_FPS[0] <= fps <= PLAUSIBLE_FPS[1]:
        warn_input(f"{where}: Frame Time {frame_time:g} s ({fps:.3g} fps) is not a mocap frame rate; "
                   f"assumed {FALLBACK_FPS:g} fps (pass --source-fps to set it)")
        return FALLBACK_FPS
    return fps


def rest_pose(parents: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(J,3) joint positions with every rotation zero (the skeleton as its OFFSETs draw it)."""
    rest = np.zeros_like(offsets, dtype=np.float64)
    for j, p in enumerate(parents):  # parents come before children (depth-first order)
        rest[j] = offsets[j] + (rest[p] if p >= 0 else 0.0)
    return rest


def read_bvh(path: str | os.PathLike, position_mode: str = "replace", source_fps: float | None = None) -> HumanMotion:
    """Read a BVH file into a HumanMotion (positions and orientations by forward kinematics).

    Returns: positions (T,J,3) in the file's units and axes (unit_scale/up_axis None: BVH does not
    state them), orientations (T,J,4) wxyz global joint frames (identity in the rest pose),
    parents (J,), fps = 1/Frame Time. `extra` holds: "offsets" (J,3), "channels" (list per joint),
    "channel_values" (T,C) as in the file, "frame_time" [s], "end_site_parents" (E,),
    "end_site_offsets" (E,3) and "end_site_positions" (T,E,3).
    position_mode: "replace" (position channels replace OFFSET components) or "add".
    source_fps: the frame rate to use instead of 1/Frame Time (an implausible Frame Time, outside
    10–1000 fps, is otherwise replaced by 30 fps with a warning). extra["rest_positions"] (J,3):
    the zero-rotation pose.
    """
    where = str(path)
    if position_mode not in ("replace", "add"):
        raise ValueError(f"{where}: position_mode must be 'replace' or 'add', got {position_mode!r}")
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ValueError(f"{where}: cannot read the file ({e.strerror or e})") from None
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines()
    motion_at = next((k for k, ln in enumerate(lines) if ln.strip().upper() == "MOTION"), None)
    header = "\n".join(lines[:motion_at] if motion_at is not None else lines)
    joints, end_sites = _parse_hierarchy(where, header, motion_at is not None)
    if motion_at is None:
        raise ValueError(f"{where}: truncated file: no MOTION section after the hierarchy")

    num_channels = sum(len(j.channels) for j in joints)
    if num_channels == 0:
        raise ValueError(f"{where}: malformed hierarchy: no joint declares CHANNELS")
    values, frame_time = _parse_motion(where, lines[motion_at + 1:], num_channels, motion_at + 2)
    positions, rotations, translations = _fk_from_channels(joints, values, position_mode)
    T, J = positions.shape[:2]

    parents = np.array([j.parent for j in joints], dtype=np.int64)
    offsets = np.stack([j.offset for j in joints])
    es_parents = np.array([p for p, _ in end_sites], dtype=np.int64)
    es_offsets = np.stack([o for _, o in end_sites]) if end_sites else np.zeros((0, 3))
    if end_sites:
        es_pos = positions[:, es_parents] + np.einsum("teab,eb->tea", rotations[:, es_parents], es_offsets)
    else:
        es_pos = np.zeros((T, 0, 3))
    motion = HumanMotion(
        name=Path(path).stem, fps=_frame_rate(where, frame_time, source_fps), joint_names=[j.name for j in joints],
        positions=positions, orientations=quat_from_matrix(rotations), parents=parents,
        source=where,
        extra={"offsets": offsets, "channels": [list(j.channels) for j in joints], "channel_values": values,
               "frame_time": frame_time, "end_site_parents": es_parents, "end_site_offsets": es_offsets,
               "end_site_positions": es_pos,
               "rest_positions": rest_pose(parents, offsets)},
    )
    motion.validate()
    return motion


def forward_kinematics(parents: np.ndarray, translations: np.ndarray, rotations: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Global joint frames of a tree.

    parents (J,) int, -1 for roots, every parent listed before its children.
    translations (T,J,3): each joint's origin in its parent's frame (world frame for roots).
    rotations (T,J,3,3): each joint's rotation relative to its parent (world for roots).
    Returns positions (T,J,3) and global rotations (T,J,3,3).
    """
    T, J = translations.shape[:2]
    pos = np.empty((T, J, 3))
    rot = np.empty((T, J, 3, 3))
    for j in range(J):
        p = int(parents[j])
        if p < 0:
            pos[:, j] = translations[:, j]
            rot[:, j] = rotations[:, j]
        else:
            rp = rot[:, p]
            pos[:, j] = pos[:, p] + np.einsum("tab,tb->ta", rp, translations[:, j])
            rot[:, j] = rp @ rotations[:, j]
    return pos, rot


def _fk_from_channels(joints: list[_Joint], values: np.ndarray, position_mode: str
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel values (T,C) → global positions (T,J,3), global rotations (T,J,3,3), local translations."""
    T, J = values.shape[0], len(joints)
    translations = np.empty((T, J, 3))
    translations[:] = np.stack([j.offset for j in joints])[None]
    rot_groups: dict[str, tuple[list[int], list[list[int]]]] = {}
    col = 0
    for idx, joint in enumerate(joints):
        axes, rcols = "", []
        for c in joint.channels:
            axis = "xyz".index(c[0].lower())
            if c.endswith("position"):
                if position_mode == "replace":
                    translations[:, idx, axis] = values[:, col]
                else:
                    translations[:, idx, axis] += values[:, col]
            else:
                axes += c[0].lower()
                rcols.append(col)
            col += 1
        group = rot_groups.setdefault(axes, ([], []))
        group[0].append(idx)
        group[1].append(rcols)
    rotations = np.empty((T, J, 3, 3))
    for axes, (idxs, cols) in rot_groups.items():
        if not axes:
            rotations[:, idxs] = np.eye(3)
            continue
        angles = np.deg2rad(values[:, np.array(cols)])  # (T, Jg, K)
        rotations[:, idxs] = matrix_from_euler(angles, axes)
    parents = np.array([j.parent for j in joints], dtype=np.int64)
    positions, grot = forward_kinematics(parents, translations, rotations)
    return positions, grot, translations


def bvh_channel_values(channels: list[list[str]], translations: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Local joint motion → BVH channel values (T,C), columns in joint order then channel order.

    channels: per joint, its channel names (rotation channels must be 0 or 3 distinct axes).
    translations (T,J,3): local translations (file units) for the position channels.
    rotations (T,J,3,3): local rotations; converted to degrees of each joint's Euler sequence.
    """
    T = translations.shape[0]
    cols = []
    for j, chans in enumerate(channels):
        rot_chans = [c for c in chans if c.lower().endswith("rotation")]
        if rot_chans and len(rot_chans) != 3:
            raise ValueError(f"bvh_channel_values: joint {j} needs 0 or 3 rotation channels, got {rot_chans}")
        euler = np.rad2deg(euler_from_matrix(rotations[:, j], "".join(c[0] for c in rot_chans))) \
            if rot_chans else None
        r = 0
        for c in chans:
            if c.lower().endswith("position"):
                cols.append(translations[:, j, "xyz".index(c[0].lower())])
            else:
                cols.append(euler[:, r])
                r += 1
    return np.stack(cols, axis=1) if cols else np.zeros((T, 0))


def write_bvh(path: str | os.PathLike, joint_names: list[str], parents: np.ndarray, offsets: np.ndarray,
              channels: list[list[str]], values: np.ndarray, frame_time: float,
              end_sites: list[tuple[int, np.ndarray]] | None = None, decimals: int = 6) -> Path:
    """Write a BVH file atomically (temp file in the same folder, then os.replace).

    joint_names (J,), parents (J,) (-1 = root), offsets (J,3) in file units, channels: per joint a list
    of channel names (CHANNEL_NAMES, any order), values (T,C): the channel values of all joints in
    joint order (see bvh_channel_values), degrees for rotations; frame_time [s];
    end_sites: (parent joint index, offset (3,)) pairs. Joints are written depth first with children
    in index order; pass them in depth-first order to read them back in the same order.
    """
    path = Path(path)
    parents = np.asarray(parents, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    J = len(joint_names)
    if parents.shape != (J,) or offsets.shape != (J, 3) or len(channels) != J:
        raise ValueError(f"{path}: write_bvh needs parents (J,), offsets (J,3) and channels for {J} joints")
    canon = [[_CHANNEL_LOOKUP.get(c.lower(), "") for c in chans] for chans in channels]
    if any("" in chans for chans in canon):
        raise ValueError(f"{path}: write_bvh: unknown channel name (use {', '.join(CHANNEL_NAMES)})")
    C = sum(len(c) for c in canon)
    if C == 0 or values.ndim != 2 or values.shape[1] != C or values.shape[0] == 0:
        raise ValueError(f"{path}: write_bvh needs values (T>0, {C}), got {values.shape}")
    if not np.isfinite(values).all() or not frame_time > 0:
        raise ValueError(f"{path}: write_bvh: non-finite values or non-positive frame time")
    starts = np.concatenate(([0], np.cumsum([len(c) for c in canon])))
    children: dict[int, list[int]] = {j: [] for j in range(-1, J)}
    for j in range(J):
        if not -1 <= parents[j] < J or parents[j] == j:
            raise ValueError(f"{path}: write_bvh: bad parent index {parents[j]} for joint {j}")
        children[int(parents[j])].append(j)
    ends: dict[int, list[np.ndarray]] = {}
    for p, off in end_sites or []:
        ends.setdefault(int(p), []).append(np.asarray(off, dtype=np.float64))

    fmt = f"{{:.{decimals}f}}"
    out: list[str] = ["HIERARCHY"]
    order: list[int] = []

    def emit(j: int, depth: int) -> None:
        ind = "\t" * depth
        out.append(f"{ind}{'ROOT' if parents[j] < 0 else 'JOINT'} {joint_names[j]}")
        out.append(f"{ind}{{")
        out.append(f"{ind}\tOFFSET " + " ".join(fmt.format(v) for v in offsets[j]))
        out.append(f"{ind}\tCHANNELS {len(canon[j])}" + "".join(" " + c for c in canon[j]))
        order.append(j)
        for c in children[j]:
            emit(c, depth + 1)
        for off in ends.get(j, []):
            out.append(f"{ind}\tEnd Site")
            out.append(f"{ind}\t{{")
            out.append(f"{ind}\t\tOFFSET " + " ".join(fmt.format(v) for v in off))
            out.append(f"{ind}\t}}")
        out.append(f"{ind}}}")

    for root in children[-1]:
        emit(root, 0)
    if len(order) != J:
        raise ValueError(f"{path}: write_bvh: the parents do not form a tree")
    cols = np.concatenate([np.arange(starts[j], starts[j + 1]) for j in order]).astype(np.int64)
    out.append("MOTION")
    out.append(f"Frames: {values.shape[0]}")
    out.append(f"Frame Time: {frame_time:.8g}")
    data = np.round(values[:, cols], decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    row_fmt = " ".join([f"%.{decimals}f"] * C)
    body = "\n".join(row_fmt % tuple(r) for r in data)
    text = "\n".join(out) + "\n" + body + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
