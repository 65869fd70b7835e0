"""Foot targets that agree with the ground: pitched swing feet, blended stance pins, swing clearance.

Per foot (T frames):

- **orientation**: heading from ankle → toe (or the pelvis when the foot is steep), and the human
  foot's *pitch* relative to its own flat pitch (the median ankle → toe pitch while planted: mocap
  ankles sit above the toes, so a flat human foot already points down), so heel strikes and
  toe-offs stay heel-first and toe-last on the G1 instead of scraping a flat sole;
- **stance pins**: while the source foot is planted the ankle is held at the run's mean position at
  the G1's flat-foot height, flat, with the run's first heading, and its toe/heel points are pinned
  to the ground (heel and toe each while the source's heel or toe is planted); the ankle's ground
  track is shifted so that planted points stay on their anchors and the swing leaves and reaches
  them continuously; pins ease in and out over ``BLEND_SECONDS`` around each run;
- **swing clearance**: outside the pins, any sole point moving horizontally faster than
  ``CLEAR_SPEED`` is lifted so that it is at least ``CLEARANCE`` above the ground: a moving foot
  is either off the ground or it is not moving.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial.transform import Rotation

from mimiclab.retarget.contacts import contact_runs
from mimiclab.rotations.numpy_ops import xyzw_to_wxyz

ANKLE_FLAT_HEIGHT = 0.035  # m: G1 ankle-roll origin above the ground with the sole flat on it
FOOT_CAPSULE_CENTER_HEIGHT = 0.01  # m: toe/heel points above the ground when the sole touches it
BLEND_SECONDS = 0.0  # pins fade in / out over this long at contact boundaries
CLEARANCE = 0.06  # m: lowest sole point of a moving swing foot above the ground
CLEAR_SPEED = (0.05, 0.3)  # m/s: clearance ramps from 0 to CLEARANCE over this sole-point speed
LIFT_RAMP_FRAMES = 2  # the swing lift eases in (and out) over this many frames
PIN_WEIGHT = 20.0  # IK weight of a planted heel / toe point (a body target weighs 1)
MAX_PITCH = 1.2  # rad: |foot pitch| beyond this is a tracking error, not a foot
MAX_TOE_OUT = 0.3  # rad: a planted foot's heading stays this close to the pelvis heading


@dataclass
class FootTargets:
    """One foot's IK targets: ankle position (T,3), orientation (T,4) wxyz, orientation weight
    scale (T,) (1 in stance), toe/heel pin positions (T,2,3) and pin weights (T,2)."""

    ankle: np.ndarray
    quat: np.ndarray
    rot_scale: np.ndarray
    pins: np.ndarray
    pin_weight: np.ndarray
    pos_scale: np.ndarray | float = 1.0
    move: np.ndarray | float = 0.0  # (T,3) [m] stance shift + swing lift added to the ankle (the knee follows)


@lru_cache(maxsize=1)
def _sole_points() -> tuple[np.ndarray, np.ndarray]:
    """The left foot's capsule end points (E,3) in the ankle-roll frame and radii (E,)."""
    from mimiclab.retarget.quality import _feet

    feet = _feet()
    return feet.endpoints[0].reshape(-1, 3), np.repeat(feet.radii[0], 2)


def _heading_pitch(ankle: np.ndarray, toe: np.ndarray | None, fallback_heading: np.ndarray):
    """Per frame heading [rad] and pitch [rad] (toe down positive) of the foot. The heading is the
    toe's ground direction where the foot is level enough and points within 60° of the fallback
    (the pelvis heading; a foot pointing down past vertical would flip it), blending into the
    fallback as the foot gets steep or turns away;
    the pitch is measured in the vertical plane of that heading, so it stays continuous through
    a vertical foot. Without toes: the fallback heading and zero pitch."""
    from mimiclab.retarget.frames import MIN_FOOT_LENGTH

    if toe is None:
        return fallback_heading, np.zeros(ankle.shape[0])
    along = toe - ankle
    horizontal = np.linalg.norm(along[:, :2], axis=-1)
    own = np.arctan2(along[:, 1], along[:, 0])
    # trust in the toe's direction grows with the foot's ground length and fades as it turns away
    # from the pelvis heading (a blend, not a switch: a switch would jump the target orientation)
    trust = np.clip(horizontal / MIN_FOOT_LENGTH - 0.5, 0.0, 1.0) * np.clip(2.0 * np.cos(own - fallback_heading), 0.0, 1.0)
    heading = fallback_heading + trust * np.angle(np.exp(1j * (own - fallback_heading)))
    forward = along[:, 0] * np.cos(heading) + along[:, 1] * np.sin(heading)
    return heading, np.arctan2(-along[:, 2], forward)


def _interpolate_gaps(x: np.ndarray) -> np.ndarray:
    """(T,D) with NaN rows filled by linear interpolation between the defined rows (held
    constant before the first and after the last; zeros when no row is defined)."""
    ok = ~np.isnan(x[:, 0])
    if not ok.any():
        return np.zeros_like(x)
    t = np.arange(x.shape[0])
    return np.stack([np.interp(t, t[ok], x[ok, d]) for d in range(x.shape[1])], axis=-1)


def _blend_weights(flags: np.ndarray, fps: float) -> np.ndarray:
    """(T,) pin weight in [0,1]: 1 on the planted frames, ramping linearly to 0 over BLEND_SECONDS
    before and after each run (the stance shift makes the swing meet the anchor there, so the
    ramps ease the foot onto and off its pin instead of switching the pin on and off)."""
    n = int(round(BLEND_SECONDS * fps))
    w = flags.astype(float)
    if n < 1:
        return w
    idx = np.arange(flags.shape[0])
    for start, end in contact_runs(flags):
        before = (idx < start) & (idx >= start - n)
        after = (idx >= end) & (idx < end + n)
        w = np.maximum(w, np.where(before, 1.0 - (start - idx) / (n + 1), 0.0))
        w = np.maximum(w, np.where(after, 1.0 - (idx - end + 1) / (n + 1), 0.0))
    return w


def _flat_pitch(pitch: np.ndarray, ankle_z: np.ndarray, planted: np.ndarray | None) -> float:
    """The source foot's pitch [rad] when its sole is flat: the median pitch over the frames whose
    toe is planted and whose ankle is lowest (the lowest quarter of those frames: a planted toe
    with the ankle at its lowest is a flat foot; a rising heel lifts the ankle). Without a planted
    toe: the lowest fifth of all frames."""
    toe = np.zeros_like(ankle_z, bool) if planted is None else planted[:, 1]
    frames, share = (toe, 25.0) if toe.sum() >= 3 else (np.ones_like(toe), 20.0)
    low = frames & (ankle_z <= np.percentile(ankle_z[frames], share))
    return float(np.median(pitch[low]))


def _stance_pitch(pitch: np.ndarray, planted: np.ndarray) -> np.ndarray:
    """Pitch (toe down positive, relative to flat) that agrees with the planted points: flat while
    heel and toe are down, toe-down-or-flat while only the toe is (the heel cannot go under the
    floor), toe-up-or-flat while only the heel is; eased over one frame either side of a change
    (a three-frame mean of the constrained pitch, taken only where a constraint acted)."""
    heel, toe = planted[:, 0], planted[:, 1]
    out = np.where(heel & toe, 0.0, pitch)
    out = np.where(toe & ~heel, np.maximum(out, 0.0), out)
    out = np.where(heel & ~toe, np.minimum(out, 0.0), out)
    changed = np.flatnonzero(out != pitch)
    if changed.size and out.shape[0] > 2:
        padded = np.concatenate((out[:1], out, out[-1:]))
        eased = (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0
        near = np.zeros(out.shape[0], bool)
        near[np.clip(np.concatenate((changed - 1, changed, changed + 1)), 0, out.shape[0] - 1)] = True
        out = np.where(near & ~(heel & toe), eased, out)
    return out


def _stance_heading(heading: np.ndarray, pelvis_heading: np.ndarray) -> float:
    """The one heading [rad] a planted foot keeps through a stance: the circular mean of the
    source foot's heading over the stance (a foot swivelling on its ball keeps its mean, not its
    landing heading), within MAX_TOE_OUT of the pelvis's mean heading over the stance (beyond that
    the hip would have to yaw past the human range)."""
    pelvis = np.angle(np.exp(1j * pelvis_heading).mean())
    mean = np.angle(np.exp(1j * heading).mean())
    return float(pelvis + np.clip(np.angle(np.exp(1j * (mean - pelvis))), -MAX_TOE_OUT, MAX_TOE_OUT))


def _rolling(flags: np.ndarray, pitch: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """(T,2) ground displacement [m] of a planted sole sphere's centre that rolls without slipping
    as the foot pitches: FOOT_CAPSULE_CENTER_HEIGHT (its radius) times the pitch change, along
    the heading (a heel rising over the toe rolls the toe forward), about each run's mean pitch,
    so the run's anchor stays its mean position. Zero outside the runs of `flags`."""
    out = np.zeros((flags.shape[0], 2))
    for start, end in contact_runs(flags):
        along = FOOT_CAPSULE_CENTER_HEIGHT * (pitch[start:end] - pitch[start:end].mean())
        out[start:end] = along[:, None] * np.stack((np.cos(heading[start:end]), np.sin(heading[start:end])), axis=-1)
    return out


def close_gaps(flags: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill runs of False shorter than max_gap frames between two True runs."""
    out = flags.copy()
    runs = contact_runs(flags)
    for (_, end), (start, _) in zip(runs[:-1], runs[1:]):
        if start - end < max_gap:
            out[end:start] = True
    return out


def point_contacts(roles: dict[str, np.ndarray], fps: float) -> np.ndarray:
    """(T,2,2) bool [left/right foot, heel/toe]: the source's heel (ankle) or toe is planted, i.e.
    low (within contact.height of its own ground level) and slow (contact.speed). Without toes the
    toe follows the heel."""
    from mimiclab.retarget.contacts import detect_contacts
    from mimiclab.retarget.robot_targets import g1_targets

    rt = g1_targets()
    T = roles["pelvis"].shape[0]
    out = np.zeros((T, 2, 2), bool)
    for f, side in enumerate(("left", "right")):
        ankle = roles[f"{side}_ankle"] - np.array([0.0, 0.0, ANKLE_FLAT_HEIGHT])
        points = [ankle]
        toe = roles.get(f"{side}_toe")
        if toe is not None:
            points.append(toe - np.array([0.0, 0.0, np.percentile(toe[:, 2], 5.0)]))
        flags = detect_contacts(np.stack(points, axis=1), fps, rt.contact_height, rt.contact_speed,
                                rt.contact_min_frames)
        for p in range(flags.shape[1]):  # a foot briefly over the speed threshold stays planted
            flags[:, p] = close_gaps(flags[:, p], rt.contact_min_frames)
        out[:, f, 0] = flags[:, 0]
        out[:, f, 1] = flags[:, -1]
    return out


def foot_targets(roles: dict[str, np.ndarray], side: str, pelvis_heading: np.ndarray,
                 planted: np.ndarray | None, fps: float, toe_point, heel_point) -> FootTargets:
    """The targets of the module docstring for one foot. planted: (T,2) heel/toe flags of this
    foot, or None for the plain human targets (no pins, no clearance)."""
    ankle = roles[f"{side}_ankle"].copy()
    T = ankle.shape[0]
    heading, pitch = _heading_pitch(ankle, roles.get(f"{side}_toe"), pelvis_heading)
    # relative to flat, in [-π/2, 3π/2): a foot swung up behind the body turns its sole up by
    # pitching further toe-down, past vertical (it does not flip to toe-up)
    relative = np.mod(pitch - _flat_pitch(pitch, ankle[:, 2], planted) + np.pi / 2, 2 * np.pi) - np.pi / 2
    pitch = np.clip(relative, -MAX_PITCH, MAX_PITCH)
    if planted is not None:
        pitch = _stance_pitch(pitch, planted)
    quat = xyzw_to_wxyz(Rotation.from_euler("ZY", np.stack((heading, pitch), axis=-1)).as_quat())
    if planted is None:
        return FootTargets(ankle, quat, np.zeros(T), np.zeros((T, 2, 3)), np.zeros((T, 2)))

    # stance feet stay put. The heading is held from the first frame of each stance (heel or toe
    # down), and the ankle's ground track is offset so that the planted heel (toe) point stays at
    # its run's mean position; between stances both offsets move linearly from one stance's value
    # to the next, so a swing leaves and reaches its anchors without snapping.
    stance = planted.any(axis=1)
    held_heading = np.full(T, np.nan)
    for start, end in contact_runs(stance):
        held = _stance_heading(heading[start:end], pelvis_heading[start:end])
        held_heading[start:end] = np.angle(np.exp(1j * (held - heading[start:end])))
    heading = heading + _interpolate_gaps(held_heading[:, None])[:, 0]
    rot = Rotation.from_euler("ZY", np.stack((heading, pitch), axis=-1))
    R = rot.as_matrix()
    points = [ankle + R @ np.asarray(p) for p in (heel_point, toe_point)]  # (T,3) each
    # one rigid anchor per stance: the ankle's ground position (mean over the flat frames, else
    # over the frames of the point that is down) with the held heading; the heel and toe anchors
    # are that foot's heel and toe, so two pins never pull the foot apart
    shift = np.zeros((T, 2))
    count = np.zeros(T)
    anchors = np.zeros((T, 2, 2))
    offsets = [np.asarray(p, float)[:2] for p in (heel_point, toe_point)]
    for start, end in contact_runs(stance):
        run = planted[start:end]
        flat = run.all(axis=1)
        psi = heading[start]
        Rz = np.array([[np.cos(psi), -np.sin(psi)], [np.sin(psi), np.cos(psi)]])
        if flat.any():
            base = ankle[start:end][flat, :2].mean(axis=0)
        else:
            j = int(run[:, 1].sum() > run[:, 0].sum())
            base = (points[j][start:end][run[:, j], :2] - Rz @ offsets[j]).mean(axis=0)
        for j in range(2):
            a = base + Rz @ offsets[j]
            down = np.flatnonzero(run[:, j]) + start
            shift[down] += a - points[j][down, :2]
            count[down] += 1
            anchors[down, j] = a
    shift = _interpolate_gaps(np.where(count[:, None] > 0, shift / np.maximum(count, 1)[:, None], np.nan))
    ankle[:, :2] += shift
    pins = np.zeros((T, 2, 3))
    pin_weight = np.zeros((T, 2))
    for j, point in enumerate((heel_point, toe_point)):
        pins[:, j] = ankle + R @ np.asarray(point)
        pins[planted[:, j], j, :2] = anchors[planted[:, j], j] + _rolling(planted[:, j], pitch, heading)[planted[:, j]]
        pins[:, j, 2] = FOOT_CAPSULE_CENTER_HEIGHT
        pin_weight[:, j] = PIN_WEIGHT * _blend_weights(planted[:, j], fps)
    hold = planted.any(axis=1).astype(float)
    held = pin_weight.max(axis=1) / PIN_WEIGHT
    lift = _sole_lift(ankle, rot, held, fps)
    ankle[:, 2] += lift
    move = np.concatenate((shift, lift[:, None]), axis=1)
    # pins carry the foot where they act: its position target fades to a tenth there
    return FootTargets(ankle, xyzw_to_wxyz(rot.as_quat()), hold, pins[:, ::-1].copy(), pin_weight[:, ::-1].copy(),
                       1.0 - 0.9 * held, move)


def _sole_lift(ankle: np.ndarray, rot: Rotation, pinned: np.ndarray, fps: float) -> np.ndarray:
    """(T,) how much [m] to raise the ankle target where a sole point moves faster than
    CLEAR_SPEED[0] while lower than its speed's clearance; pinned frames (weight 1) are left alone."""
    from scipy.ndimage import maximum_filter1d

    T = ankle.shape[0]
    if T < 2:
        return np.zeros(T)
    ends, radii = _sole_points()
    world = ankle[:, None, :] + np.einsum("tij,ej->tei", rot.as_matrix(), ends)  # (T,E,3)
    speed = np.linalg.norm(np.gradient(world[..., :2], axis=0), axis=-1) * fps  # (T,E)
    lo, hi = CLEAR_SPEED
    need = CLEARANCE * np.clip((speed - lo) / (hi - lo), 0.0, 1.0)
    deficit = np.maximum(0.0, need - (world[..., 2] - radii)).max(axis=1)
    deficit *= 1.0 - pinned
    # no one-frame dips, and a lift that grows over LIFT_RAMP_FRAMES into its first frame (the
    # heel rises on the last planted frames instead of the whole foot leaping off at once)
    lift = maximum_filter1d(deficit, size=3, mode="nearest")
    for k in range(2, LIFT_RAMP_FRAMES + 1):
        w = 1.0 - (k - 1) / LIFT_RAMP_FRAMES
        lift = np.maximum(lift, w * np.concatenate((deficit[k:], np.zeros(k)))[:T])
        lift = np.maximum(lift, w * np.concatenate((np.zeros(k), deficit[:-k]))[:T])
    return lift
