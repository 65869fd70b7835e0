"""The deployment contract (``contract.json`` beside ``policy.onnx``) and its validation.

The contract states everything a runtime needs to drive the robot with the exported policy and
nothing it could guess wrong: joints in action order with their PD gains, armature, effort limits,
action scale and offset (target = offset + scale · action, rad, where the offset is ``action_offset``
(``action_offset_from = "default"``) or the reference's joint positions one control step ahead
(``"reference"``)), the observation terms in order with
their dims, the anchor and base (IMU) bodies, the tracked bodies and end effectors, the early
terminations with their thresholds (which sim2sim scores with), the keypoint weights of a
keypoint-conditioned policy's tracking reward (``keypoint_weights``, optional), the reference's future offsets
(control steps), the control rate, and the conventions. It is produced from the task's own managers at export time
(``mimiclab.rl.export``), never written by hand.

Signals. Every observation term lists the robot-side signals it is computed from (``signals``, from
the vocabulary :data:`SIGNALS`: joint encoders, the IMU's gyro and gravity direction, the base's world
position and linear velocity, the reference motion, the object's pose, the last action), and the
contract states whether the policy is ``proprioceptive``: no term needs ``base_position`` or
``base_lin_vel`` (:data:`STATE_ESTIMATION_SIGNALS`, which a real G1 only has through a state
estimator). Both are required in a ``mimiclab.contract/1`` file; an unknown signal name, a term
without signals or a ``proprioceptive`` flag that contradicts the terms is refused on load.

A contract written by an older mimiclab (without signals, end effectors or termination thresholds)
is refused with "export the checkpoint again". The runtime that follows a contract:
``mimiclab.deploy.runtime``.

One function, :func:`check_contract`, is used by play, eval and sim2sim: it compares a contract
with a :class:`DeploymentTarget` (what the consumer is about to drive) and raises
:class:`ContractError` with a one-line message naming the first mismatching field.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

FORMAT = "mimiclab.contract/1"
CONTRACT_FILE = "contract.json"
QUATERNION_CONVENTION = "wxyz"  # quaternions in motion files and every contract-level array
ORIENTATION_ENCODING = "rotmat_first_two_columns_rowmajor"  # 6-D orientation observations
ACTION_OFFSETS = ("default", "reference")  # what the action is added to (see Contract.action_offset_from)
GAIN_RTOL = 1e-4  # gains are float32 inside simulators

# What a robot can hand an observation term (ObservationTerm.signals):
SIGNALS = (
    "joint_pos",      # joint encoders: positions [rad]
    "joint_vel",      # joint encoders: velocities [rad/s]
    "imu_gyro",       # the IMU's angular velocity (and the attitude integrated from it, heading included)
    "imu_gravity",    # the IMU's gravity direction (roll and pitch)
    "base_position",  # the robot's position in the world [m]: a state estimator (or mocap) on a real robot
    "base_lin_vel",   # the base's linear velocity [m/s]: a state estimator on a real robot
    "reference",      # the reference motion (the clip the policy tracks), known ahead of time
    "object",         # the object's pose relative to the robot (perception)
    "last_action",    # the policy's own previous output
)
STATE_ESTIMATION_SIGNALS = ("base_position", "base_lin_vel")  # not measured by a G1's own sensors


class ContractError(ValueError):
    """A contract that does not fit (one line, names the field)."""


@dataclass(frozen=True)
class ObservationTerm:
    """One actor observation term: ``dim`` numbers per step, ``history_length`` steps (0: none), computed
    from the robot-side ``signals`` (names from :data:`SIGNALS`) as ``definition`` says (frame, unit,
    offsets; ``mimiclab.deploy.tracking_mdp.ACTOR_TERM_DEFINITIONS``). ``()`` / ``""`` only in targets
    that do not state them — a contract file must."""

    name: str
    dim: int
    history_length: int = 0
    signals: tuple[str, ...] = ()
    definition: str = ""

    @property
    def needs_state_estimation(self) -> tuple[str, ...]:
        """The term's signals that a G1 does not measure (:data:`STATE_ESTIMATION_SIGNALS`)."""
        return tuple(s for s in self.signals if s in STATE_ESTIMATION_SIGNALS)


def is_proprioceptive(terms: Sequence[ObservationTerm]) -> bool:
    """No term needs ``base_position`` or ``base_lin_vel``."""
    return not any(t.needs_state_estimation for t in terms)


@dataclass(frozen=True)
class Contract:
    """The contract's fields; per-joint lists follow ``joint_names`` (the action order)."""

    robot: str
    task: str
    joint_names: tuple[str, ...]
    kp: tuple[float, ...]  # N·m/rad
    kd: tuple[float, ...]  # N·m·s/rad
    armature: tuple[float, ...]  # kg·m²
    effort_limit: tuple[float, ...]  # N·m
    action_scale: tuple[float, ...]  # rad per unit action
    action_offset: tuple[float, ...]  # rad (the target's offset when action_offset_from is "default")
    default_joint_pos: tuple[float, ...]  # rad (joint_pos observations are relative to it)
    observations: tuple[ObservationTerm, ...]
    reference_inputs: tuple[str, ...]  # observation terms that carry the reference motion
    anchor_body: str
    base_body: str  # projected gravity and angular velocity are of this body (the IMU)
    tracked_bodies: tuple[str, ...]
    end_effectors: tuple[str, ...]  # tracked bodies scored as end effectors (metrics, their height termination)
    termination_thresholds: dict  # early-termination term name → threshold (the task's; metrics use them)
    future_offsets: tuple[int, ...]  # control steps ahead for the reference terms
    physics_dt: float  # s
    decimation: int
    proprioceptive: bool  # no observation term needs base_position or base_lin_vel (STATE_ESTIMATION_SIGNALS)
    action_offset_from: str = "default"  # "default": action_offset; "reference": q_ref(t + control_dt)
    quaternion_convention: str = QUATERNION_CONVENTION
    orientation_encoding: str = ORIENTATION_ENCODING
    onnx_sha256: str = ""  # of policy.onnx; empty until the ONNX is written
    # tracked body → weight of the keypoint-weighted tracking reward the policy was trained with
    # (Mimic-TrackKeypoints-G1; empty: none, every body weighs 1)
    keypoint_weights: dict = field(default_factory=dict)
    format: str = FORMAT
    extra: dict = field(default_factory=dict)  # informational (versions, checkpoint, iteration)

    @property
    def control_dt(self) -> float:
        """Policy period [s] = physics_dt · decimation."""
        return self.physics_dt * self.decimation

    @property
    def observation_dim(self) -> int:
        return sum(t.dim * max(t.history_length, 1) for t in self.observations)

    @property
    def num_actions(self) -> int:
        return len(self.joint_names)

    @property
    def observes_object(self) -> bool:
        """Some observation term needs the ``object`` signal (the object's pose from perception)."""
        return any("object" in t.signals for t in self.observations)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["control_dt"] = self.control_dt
        d["observation_dim"] = self.observation_dim
        return d

    def digest(self) -> str:
        """sha256 of the contract's content without ``onnx_sha256`` and ``extra`` (stored in the ONNX)."""
        d = self.to_dict()
        d.pop("onnx_sha256")
        d.pop("extra")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    def with_onnx(self, sha256: str) -> Contract:
        return Contract(**{**{f.name: getattr(self, f.name) for f in fields(self)}, "onnx_sha256": sha256})

    @staticmethod
    def from_dict(d: dict, source: str = CONTRACT_FILE) -> Contract:
        """Parse and check the shape of every field; ContractError naming the field otherwise."""
        if not isinstance(d, dict):
            raise ContractError(f"{source}: not a JSON object")
        if d.get("format") != FORMAT:
            raise ContractError(f"{source}: format is {d.get('format')!r}, expected {FORMAT!r}")
        out = {}
        for f in fields(Contract):
            if f.name not in d:
                if f.default is not MISSING or f.default_factory is not MISSING:  # optional
                    continue
                hint = (" (a contract of an older mimiclab: export the checkpoint again)"
                        if f.name in _ADDED_FIELDS else "")
                raise ContractError(f"{source}: missing field '{f.name}'{hint}")
            out[f.name] = d[f.name]
        out["observations"] = _parse_terms(out["observations"], source)
        if not isinstance(out["proprioceptive"], bool):
            raise ContractError(f"{source}: proprioceptive is {out['proprioceptive']!r}, expected true or false")
        try:
            for k in ("joint_names", "reference_inputs", "tracked_bodies", "end_effectors"):
                out[k] = tuple(str(x) for x in out[k])
            out["future_offsets"] = tuple(int(x) for x in out["future_offsets"])
            if not isinstance(out["termination_thresholds"], dict):
                raise TypeError("termination_thresholds is not an object of name: threshold")
            out["termination_thresholds"] = {str(k): float(v) for k, v in out["termination_thresholds"].items()}
            if "keypoint_weights" in out:
                if not isinstance(out["keypoint_weights"], dict):
                    raise TypeError("keypoint_weights is not an object of body: weight")
                out["keypoint_weights"] = {str(k): float(v) for k, v in out["keypoint_weights"].items()}
            for k in _PER_JOINT:
                out[k] = tuple(float(x) for x in out[k])
            out["physics_dt"] = float(out["physics_dt"])
            out["decimation"] = int(out["decimation"])
        except (KeyError, TypeError, ValueError) as e:
            raise ContractError(f"{source}: malformed field ({type(e).__name__}: {e})") from e
        c = Contract(**out)
        _check_self_consistent(c, source)
        if "observation_dim" in d and int(d["observation_dim"]) != c.observation_dim:
            raise ContractError(f"{source}: observation_dim is {d['observation_dim']} but the terms add up to "
                                f"{c.observation_dim}")
        if "control_dt" in d and not math.isclose(float(d["control_dt"]), c.control_dt, rel_tol=1e-9):
            raise ContractError(f"{source}: control_dt is {d['control_dt']} but physics_dt·decimation is "
                                f"{c.control_dt}")
        return c


def _parse_terms(raw, source: str) -> tuple[ObservationTerm, ...]:
    """The observation terms of a contract file, each with its known, non-empty signals."""
    if not isinstance(raw, list):
        raise ContractError(f"{source}: observations is not a list")
    terms = []
    for t in raw:
        try:
            name = str(t["name"])
            dim, hist = int(t["dim"]), int(t.get("history_length", 0))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ContractError(f"{source}: malformed observation term ({type(e).__name__}: {e})") from e
        if "signals" not in t:
            raise ContractError(f"{source}: observation '{name}' lists no signals (a contract written before "
                                "signals were recorded: export the checkpoint again)")
        signals = t["signals"]
        if not isinstance(signals, list) or not signals or not all(isinstance(s, str) for s in signals):
            raise ContractError(f"{source}: observation '{name}' signals must be a non-empty list of names, "
                                f"got {signals!r}")
        unknown = [s for s in signals if s not in SIGNALS]
        if unknown:
            raise ContractError(f"{source}: observation '{name}' needs unknown signal '{unknown[0]}' (known: "
                                f"{', '.join(SIGNALS)})")
        definition = t.get("definition")
        if not isinstance(definition, str) or not definition.strip():
            raise ContractError(f"{source}: observation '{name}' has no definition (a contract of an older "
                                "mimiclab: export the checkpoint again)")
        terms.append(ObservationTerm(name, dim, hist, tuple(signals), definition))
    return tuple(terms)


_ADDED_FIELDS = ("proprioceptive", "end_effectors", "termination_thresholds")  # since the first contracts
_PER_JOINT = ("kp", "kd", "armature", "effort_limit", "action_scale", "action_offset", "default_joint_pos")


def _check_self_consistent(c: Contract, source: str) -> None:
    n = len(c.joint_names)
    if n == 0:
        raise ContractError(f"{source}: joint_names is empty")
    if len(set(c.joint_names)) != n:
        dup = next(j for j in c.joint_names if c.joint_names.count(j) > 1)
        raise ContractError(f"{source}: joint_names lists '{dup}' twice")
    for k in _PER_JOINT:
        v = getattr(c, k)
        if len(v) != n:
            raise ContractError(f"{source}: {k} has {len(v)} values for {n} joints")
        if not all(math.isfinite(x) for x in v):
            raise ContractError(f"{source}: {k} has a non-finite value")
    for t in c.observations:
        if t.dim <= 0:
            raise ContractError(f"{source}: observation '{t.name}' has dim {t.dim}")
    bodies = set(c.tracked_bodies)
    if len(bodies) != len(c.tracked_bodies):
        raise ContractError(f"{source}: tracked_bodies lists a body twice")
    for what, names in (("anchor_body", (c.anchor_body,)), ("end_effectors", c.end_effectors),
                        ("keypoint_weights body", tuple(c.keypoint_weights))):
        outside = [b for b in names if b not in bodies]
        if outside:
            raise ContractError(f"{source}: {what} '{outside[0]}' is not among the tracked bodies")
    if any(k <= 0 for k in c.future_offsets) or list(c.future_offsets) != sorted(set(c.future_offsets)):
        raise ContractError(f"{source}: future_offsets {list(c.future_offsets)} must be positive and increasing")
    bad = next((k for k, v in c.termination_thresholds.items() if not (math.isfinite(v) and v > 0)), None)
    if bad is not None:
        raise ContractError(f"{source}: termination threshold '{bad}' is {c.termination_thresholds[bad]}, "
                            "expected a positive number")
    bad = next((k for k, v in c.keypoint_weights.items() if not (math.isfinite(v) and v > 0)), None)
    if bad is not None:
        raise ContractError(f"{source}: keypoint weight of '{bad}' is {c.keypoint_weights[bad]}, expected a positive "
                            "number")
    missing = [r for r in c.reference_inputs if r not in {t.name for t in c.observations}]
    if missing:
        raise ContractError(f"{source}: reference input '{missing[0]}' is not an observation term")
    needy = next((t for t in c.observations if t.needs_state_estimation), None)
    if c.proprioceptive and needy is not None:
        raise ContractError(f"{source}: proprioceptive is true but observation '{needy.name}' needs "
                            f"{needy.needs_state_estimation[0]}")
    if not c.proprioceptive and needy is None:
        raise ContractError(f"{source}: proprioceptive is false but no observation needs "
                            f"{' or '.join(STATE_ESTIMATION_SIGNALS)}")
    if not (c.physics_dt > 0 and c.decimation >= 1):
        raise ContractError(f"{source}: physics_dt {c.physics_dt} / decimation {c.decimation} must be positive")
    if c.action_offset_from not in ACTION_OFFSETS:
        raise ContractError(f"{source}: action_offset_from is {c.action_offset_from!r}, expected one of "
                            f"{list(ACTION_OFFSETS)}")
    if c.quaternion_convention != QUATERNION_CONVENTION:
        raise ContractError(f"{source}: quaternion_convention is {c.quaternion_convention!r}, mimiclab uses "
                            f"{QUATERNION_CONVENTION!r}")


def save_contract(contract: Contract, path: str | os.PathLike) -> Path:
    """Write ``contract.json`` atomically (temporary file + rename)."""
    from mimiclab.motion.format import atomic_write

    text = json.dumps(contract.to_dict(), indent=2)
    return atomic_write(path, lambda f: f.write(text.encode()))


def load_contract(path: str | os.PathLike) -> Contract:
    """Read a contract (a ``contract.json`` or the folder holding one); ContractError on bad input."""
    p = Path(path)
    if p.is_dir():
        p = p / CONTRACT_FILE
    if not p.is_file():
        raise ContractError(f"{p}: no such contract file")
    try:
        d = json.loads(p.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ContractError(f"{p}: not valid JSON ({e})") from e
    return Contract.from_dict(d, source=str(p))


@dataclass(frozen=True)
class DeploymentTarget:
    """What a consumer (play, eval, sim2sim, a robot) is about to drive; ``None`` fields are not checked."""

    joint_names: Sequence[str]
    kp: Sequence[float] | None = None
    kd: Sequence[float] | None = None
    observations: Sequence[ObservationTerm] | None = None
    physics_dt: float | None = None
    decimation: int | None = None
    control_dt: float | None = None
    anchor_body: str | None = None
    base_body: str | None = None
    future_offsets: Sequence[int] | None = None
    action_scale: Sequence[float] | None = None
    action_offset: Sequence[float] | None = None
    action_offset_from: str | None = None
    default_joint_pos: Sequence[float] | None = None
    effort_limit: Sequence[float] | None = None
    armature: Sequence[float] | None = None
    tracked_bodies: Sequence[str] | None = None
    end_effectors: Sequence[str] | None = None
    termination_thresholds: dict | None = None
    available_signals: Sequence[str] | None = None  # what the robot measures (SIGNALS); None: not checked
    quaternion_convention: str = QUATERNION_CONVENTION


def check_contract(contract: Contract, target: DeploymentTarget, source: str = CONTRACT_FILE) -> None:
    """Raise ContractError (one line naming the field) when `contract` does not fit `target`."""
    _check_joints(contract.joint_names, tuple(target.joint_names), source)
    for k in ("kp", "kd", "action_scale", "action_offset", "default_joint_pos", "effort_limit", "armature"):
        want = getattr(target, k)
        if want is None:
            continue
        for j, a, b in zip(contract.joint_names, getattr(contract, k), want):
            if not math.isclose(a, b, rel_tol=GAIN_RTOL, abs_tol=1e-9):
                raise ContractError(f"{source}: {k} of '{j}' is {a:g} but the target uses {b:g}")
    if target.action_offset_from is not None and contract.action_offset_from != target.action_offset_from:
        raise ContractError(f"{source}: action_offset_from is {contract.action_offset_from!r} but the target adds "
                            f"the action to {target.action_offset_from!r}")
    if target.observations is not None:
        _check_observations(contract.observations, tuple(target.observations), source)
    if target.available_signals is not None:
        have = set(target.available_signals)
        for t in contract.observations:
            lack = [s for s in t.signals if s not in have]
            if lack:
                raise ContractError(f"{source}: observation '{t.name}' needs {lack[0]}, which the target does not "
                                    "provide")
    if target.physics_dt is not None and not math.isclose(contract.physics_dt, target.physics_dt, rel_tol=1e-6):
        raise ContractError(f"{source}: physics_dt is {contract.physics_dt:g} s but the target runs at "
                            f"{target.physics_dt:g} s")
    if target.decimation is not None and contract.decimation != target.decimation:
        raise ContractError(f"{source}: decimation is {contract.decimation} but the target uses {target.decimation}")
    if target.control_dt is not None and not math.isclose(contract.control_dt, target.control_dt, rel_tol=1e-6):
        raise ContractError(f"{source}: control_dt is {contract.control_dt:g} s but the target runs at "
                            f"{target.control_dt:g} s")
    for k in ("anchor_body", "base_body"):
        want = getattr(target, k)
        if want is not None and getattr(contract, k) != want:
            raise ContractError(f"{source}: {k} is '{getattr(contract, k)}' but the target uses '{want}'")
    for k in ("tracked_bodies", "end_effectors"):
        want = getattr(target, k)
        if want is not None and tuple(getattr(contract, k)) != tuple(want):
            raise ContractError(f"{source}: {k} are {list(getattr(contract, k))} but the target uses {list(want)}")
    want = target.termination_thresholds
    if want is not None:
        have = contract.termination_thresholds
        for name in sorted(set(have) | set(want)):
            if name not in want:
                raise ContractError(f"{source}: termination '{name}' is not implemented by the target "
                                    f"(it has {', '.join(sorted(want)) or 'none'})")
            if name not in have:
                raise ContractError(f"{source}: termination '{name}' of the target is missing")
            if not math.isclose(have[name], float(want[name]), rel_tol=1e-9, abs_tol=1e-12):
                raise ContractError(f"{source}: termination threshold '{name}' is {have[name]:g} but the target "
                                    f"uses {float(want[name]):g}")
    if target.future_offsets is not None and tuple(contract.future_offsets) != tuple(target.future_offsets):
        raise ContractError(f"{source}: future_offsets are {list(contract.future_offsets)} but the target uses "
                            f"{list(target.future_offsets)}")
    if contract.quaternion_convention != target.quaternion_convention:
        raise ContractError(f"{source}: quaternion_convention is {contract.quaternion_convention!r} but the "
                            f"target uses {target.quaternion_convention!r}")


def _check_joints(have: tuple[str, ...], want: tuple[str, ...], source: str) -> None:
    unknown = [j for j in have if j not in want]
    if unknown:
        raise ContractError(f"{source}: joint_names has '{unknown[0]}', which the target robot does not have")
    missing = [j for j in want if j not in have]
    if missing:
        raise ContractError(f"{source}: joint_names lacks '{missing[0]}' ({len(have)} joints, target has {len(want)})")
    if have != want:
        i = next(i for i, (a, b) in enumerate(zip(have, want)) if a != b)
        raise ContractError(f"{source}: joint_names order differs from the target at index {i}: "
                            f"'{have[i]}' where the target has '{want[i]}'")


def _check_observations(have: tuple[ObservationTerm, ...], want: tuple[ObservationTerm, ...], source: str) -> None:
    hn, wn = [t.name for t in have], [t.name for t in want]
    if hn != wn:
        extra = [n for n in hn if n not in wn]
        lack = [n for n in wn if n not in hn]
        if extra:
            raise ContractError(f"{source}: observation term '{extra[0]}' is not produced by the target")
        if lack:
            raise ContractError(f"{source}: observation term '{lack[0]}' is missing")
        i = next(i for i, (a, b) in enumerate(zip(hn, wn)) if a != b)
        raise ContractError(f"{source}: observation order differs at term {i}: '{hn[i]}' where the target has "
                            f"'{wn[i]}'")
    for a, b in zip(have, want):
        if a.dim != b.dim:
            raise ContractError(f"{source}: observation '{a.name}' has dim {a.dim} but the target produces {b.dim}")
        if a.history_length != b.history_length:
            raise ContractError(f"{source}: observation '{a.name}' has history_length {a.history_length} but the "
                                f"target uses {b.history_length}")
        if b.definition and a.definition != b.definition:
            raise ContractError(f"{source}: observation '{a.name}' is defined as {a.definition!r} but the target "
                                f"computes {b.definition!r}")
        if b.signals and tuple(a.signals) != tuple(b.signals):
            raise ContractError(f"{source}: observation '{a.name}' needs signals {list(a.signals)} but the target "
                                f"computes it from {list(b.signals)}")
