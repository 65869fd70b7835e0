"""Author loco-manipulation references from ordinary motion: attach an object to a retargeted clip.

    motion = attach_box(motion, size=(0.3, 0.25, 0.2), mass=2.0, frames=(40, 160))
    path = make_box_carry_motion(out_dir)   # the shipped "pick up and carry a box" sample

The box (object frame: x forward, y left, z up, centred) is held between the hands for frames
start..end (both included): its centre follows the midpoint of the two palms (G1 palm site,
``PALM_OFFSET`` in the wrist frame) plus `offset` in the pelvis-heading frame, never below resting
height, its orientation the pelvis yaw. Before `start` it rests on the ground (bottom face at
z = 0) below where it is picked up, with the heading of frame `start`; after `end` it stays where
it was released, dropped to the ground. Contact labels: ``derive_contact_labels`` on the hands,
torso and elbows while held (0 outside), the hands 1 throughout the hold.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mimiclab.motion.objects import PALM_OFFSET, ObjectTrack, derive_contact_labels, surface_distance, with_object
from mimiclab.rotations.numpy_ops import quat_apply, yaw_quat

HANDS = ("left_wrist_yaw_link", "right_wrist_yaw_link")
CONTACT_BODIES = ("torso_link", "left_elbow_link", "right_elbow_link", "left_wrist_yaw_link", "right_wrist_yaw_link")


def parse_hold_frames(text: str) -> tuple[int, int]:
    """'40:160' → (40, 160); ValueError (one line) otherwise."""
    parts = str(text).split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = int(parts[0]), int(parts[1])
    except ValueError:
        raise ValueError(f"--hold-frames: expected START:END frame numbers, got {text!r}") from None
    if not 0 <= start < end:
        raise ValueError(f"--hold-frames: need 0 <= START < END, got {text!r}")
    return start, end


def parse_box_size(text: str) -> tuple[float, float, float]:
    """'0.3,0.25,0.2' → (0.3, 0.25, 0.2) [m]; ValueError (one line) otherwise."""
    try:
        size = tuple(float(v) for v in str(text).split(","))
    except ValueError:
        raise ValueError(f"--attach-box: expected three sizes X,Y,Z in metres, got {text!r}") from None
    if len(size) != 3 or not all(np.isfinite(s) and s > 0 for s in size):
        raise ValueError(f"--attach-box: expected three positive sizes X,Y,Z in metres, got {text!r}")
    return size


def palm_positions(motion, hands: Sequence[str] = HANDS, palm_offset=PALM_OFFSET) -> np.ndarray:
    """(T,H,3) world positions of the palms: each hand body's origin + its rotation @ palm_offset."""
    idx = [motion.body_names.index(h) for h in hands]
    p = np.asarray(motion.body_pos_w[:, idx], np.float64)
    q = np.asarray(motion.body_quat_w[:, idx], np.float64)
    return p + quat_apply(q, np.broadcast_to(np.asarray(palm_offset, np.float64), p.shape))


def attach_box(motion, size, mass: float, frames: tuple[int, int], hands: Sequence[str] = HANDS,
               name: str = "box", offset=(0.0, 0.0, 0.0), palm_offset=PALM_OFFSET,
               contact_bodies: Sequence[str] = CONTACT_BODIES, threshold: float = 0.03):
    """A copy of `motion` (MotionData) with a box of full extents `size` (x, y, z) [m] and `mass` [kg]
    held between `hands` over frames start..end (both included; see the module docstring).

    offset (3,) [m]: added to the palm midpoint, in the pelvis-heading frame. contact_bodies: the
    labelled bodies (those the motion lacks are skipped; the hands must exist). threshold [m]: contact
    distance for ``derive_contact_labels``. meta["object"] records the hold and how well the hands
    meet the box (largest palm-to-surface distance while held, the pick-up / release drops).
    ValueError (one line) on bad sizes, mass, frames or hand names.
    """
    try:
        size = np.asarray(size, dtype=np.float64).reshape(3)
    except (TypeError, ValueError):
        raise ValueError(f"attach_box: size must be three extents [m], got {size!r}") from None
    if not (np.isfinite(size).all() and (size > 0).all()):
        raise ValueError(f"attach_box: size must be three positive extents [m], got {size.tolist()}")
    if not (np.isfinite(mass) and mass > 0):
        raise ValueError(f"attach_box: mass must be positive [kg], got {mass}")
    T = motion.num_frames
    try:
        start, end = (int(f) for f in frames)
    except (TypeError, ValueError):
        raise ValueError(f"attach_box: frames must be (start, end), got {frames!r}") from None
    if not 0 <= start < end < T:
        raise ValueError(f"attach_box: hold frames {start}:{end} must satisfy 0 <= start < end <= {T - 1} "
                         f"(the motion has {T} frames)")
    missing = [h for h in hands if h not in motion.body_names]
    if len(hands) != 2 or missing:
        raise ValueError(f"attach_box: hands must be two bodies of the motion, unknown {missing or list(hands)}")

    heading = yaw_quat(motion.root_quat_w)
    palms = palm_positions(motion, hands, palm_offset)
    held = palms.mean(axis=1) + quat_apply(heading, np.broadcast_to(np.asarray(offset, np.float64), (T, 3)))
    rest_z = size[2] / 2
    below = held[:, 2] < rest_z
    held[:, 2] = np.maximum(held[:, 2], rest_z)  # a box cannot go through the ground
    pos = held.copy()
    quat = heading.copy()
    pos[:start] = (held[start, 0], held[start, 1], rest_z)
    quat[:start] = heading[start]
    pos[end + 1:] = (held[end, 0], held[end, 1], rest_z)
    quat[end + 1:] = heading[end]

    bodies = [b for b in contact_bodies if b in motion.body_names]
    for h in hands:
        if h not in bodies:
            bodies.append(h)
    track = ObjectTrack(name=name, shape="box", size=size, mass=float(mass), pos_w=pos, quat_w=quat,
                        contact_bodies=bodies)
    hold = np.zeros(T, bool)
    hold[start:end + 1] = True
    labels = derive_contact_labels(motion, track, bodies, threshold) * hold[:, None]
    for h in hands:
        labels[:, bodies.index(h)] = hold
    track.contacts = labels.astype(np.float32)
    palm_dist = np.abs(surface_distance(track, palms, signed=True))[hold]
    out = with_object(motion, track, "attach_box")
    out.meta["object"] = {
        "attached": "box", "size_m": size.tolist(), "mass_kg": float(mass), "hold_frames": [start, end],
        "hands": list(hands), "palm_surface_distance_max_m": float(palm_dist.max()),
        "palm_surface_distance_mean_m": float(palm_dist.mean()),
        "pickup_drop_m": float(held[start, 2] - rest_z), "release_drop_m": float(held[end, 2] - rest_z),
        "held_frames_clamped_to_ground": int(below[hold].sum()), "contact_threshold_m": float(threshold)}
    return out


# --------------------------------------------------------------------------------------------
# the shipped sample

BOX_CARRY_SIZE = (0.30, 0.42, 0.32)  # m: x (forward), y (between the palms: G1 palms 0.40–0.45 m apart), z
BOX_CARRY_MASS = 2.0  # kg


def make_box_carry_motion(out_dir: str | os.PathLike, fps: float = 50.0) -> Path:
    """Write the synthetic pick-up-and-carry human BVH and its G1 motion with the box attached:
    `out_dir`/box_carry.bvh and `out_dir`/box_carry.npz (returned). The hold frames come from the
    synthetic motion's lift and put-down times (``extra["hold_seconds"]``) at `fps`."""
    from mimiclab.motion.format import save_motion
    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.retarget.sources.synthetic import synthetic_box_carry, write_box_sample

    out = Path(out_dir)
    bvh = write_box_sample(out)
    t0, t1 = synthetic_box_carry().extra["hold_seconds"]
    motion = retarget_human(load_human_motion(bvh), RetargetSettings(fps=fps)).motion
    frames = (int(round(t0 * fps)), min(int(round(t1 * fps)), motion.num_frames - 1))
    motion = attach_box(motion, BOX_CARRY_SIZE, BOX_CARRY_MASS, frames)
    return save_motion(out / "box_carry.npz", motion)
