"""The actor observation terms, in numpy, from what the robot measures and the reference: the one
implementation the runtime (``mimiclab.deploy.runtime``, hence sim2sim and a robot loop) uses.

    terms = observation_terms(state, ref.step(k), last_action, default_joint_pos, names)   # {name: (dim,)}

The term set comes from the contract's term names (any of the terms below, in the contract's order; a
name not implemented here is a one-line ValueError). The ``Mimic-Track-G1`` policy group (the
proprioceptive default, :data:`TERM_NAMES`; K future offsets, J joints):

========================  =====  ==================================================================
``ref_joint_pos``         K·J    reference joint positions at t + k·control_dt [rad]
``ref_anchor_pos_local``  K·3    reference anchor positions there, in the reference's anchor frame
                                 now: R_ref(t)ᵀ (p_ref(t + k·dt) − p_ref(t)) [m] (reference only)
``ref_anchor_lin_vel``    3      reference anchor linear velocity now in its own frame:
                                 R_ref(t)ᵀ v_ref(t) [m/s] (reference only)
``ref_anchor_ori``        K·6    reference anchor orientations relative to the robot's anchor, each
                                 R[:, :2] flattened row by row
``projected_gravity``     3      world (0, 0, −1) in the base (pelvis) frame
``base_ang_vel``          3      base angular velocity in the base frame [rad/s]
``joint_pos``             J      q − default_joint_pos [rad]
``joint_vel``             J      q̇ [rad/s]
``actions``               J      the previous raw policy action (zeros at the start)
========================  =====  ==================================================================

The ``Mimic-TrackKeypoints-G1`` policy group (:data:`KEYPOINT_TERM_NAMES`, GenMimic) has instead of the
three reference terms before ``ref_anchor_ori`` (B tracked bodies):

========================  =====  ==================================================================
``ref_keypoints``         K·B·3  reference tracked-body positions at t + k·control_dt in the reference
                                 anchor's heading frame now: Yaw(R_ref(t))ᵀ (p_ref,b(t + k·dt) −
                                 p_ref(t)) [m], k-major then body (reference only)
========================  =====  ==================================================================

The ``Mimic-Track-G1-StateEstimation`` policy group (:data:`STATE_ESTIMATION_TERM_NAMES`) has instead of
the two reference-only anchor terms, after ``ref_joint_pos``:

========================  =====  ==================================================================
``ref_anchor_pos``        K·3    reference anchor positions at t + k·control_dt in the robot's
                                 anchor frame: R_aᵀ (p_ref − p_a) [m] (the robot's world position)
========================  =====  ==================================================================

With an object (the ``Mimic-Residual-*`` policy group, ``mimiclab.tasks.residual.mdp.observations``),
four more terms follow, in the robot's anchor frame:

=====================  =====  =====================================================================
``object_pos``         3      the object's position in the anchor frame [m]
``object_ori``         6      the object's orientation relative to the anchor (R[:, :2] row by row)
``ref_object_pos``     3      the reference object position now (the clip's world pose, not moved
                              onto the robot) in the anchor frame [m]
``ref_object_ori``     6      the reference object orientation now relative to the anchor
=====================  =====  =====================================================================

:func:`observation_terms` is a pure function of a :class:`RobotState` (what the robot's sensors
and state estimation give: sim2sim fills it from MuJoCo, ``mimiclab.sim2sim.signals``). The signals
each term needs on a robot: ``mimiclab.deploy.tracking_mdp.ACTOR_TERM_SIGNALS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mimiclab.deploy.contract import ObservationTerm
from mimiclab.deploy.reference import ReferenceStep
from mimiclab.deploy import tracking_mdp as facts
from mimiclab.deploy.tracking_mdp import (
    KEYPOINT_ACTOR_TERMS,
    PROPRIOCEPTIVE_ACTOR_TERMS,
    STATE_ESTIMATION_ACTOR_TERMS,
    term_definition,
    term_signals,
)
from mimiclab.rotations.numpy_ops import ori6_from_quat, quat_apply_inverse, quat_conjugate, quat_mul, yaw_quat

TERM_NAMES = PROPRIOCEPTIVE_ACTOR_TERMS  # the default (Mimic-Track-G1) policy group
STATE_ESTIMATION_TERM_NAMES = STATE_ESTIMATION_ACTOR_TERMS  # Mimic-Track-G1-StateEstimation
KEYPOINT_TERM_NAMES = KEYPOINT_ACTOR_TERMS  # Mimic-TrackKeypoints-G1
OBJECT_TERM_NAMES = ("object_pos", "object_ori", "ref_object_pos", "ref_object_ori")
OBJECT_TERM_DIMS = (3, 6, 3, 6)
GRAVITY_DIR = np.array(facts.GRAVITY_DIR)


@dataclass(frozen=True)
class RobotState:
    """What the observations read of the robot: joint_pos, joint_vel (J,) [rad, rad/s] in the
    observation's joint order; base_quat_w (4,) wxyz; base_ang_vel_b (3,) [rad/s] in the base frame;
    anchor_pos_w (3,) [m]; anchor_quat_w (4,) wxyz."""

    joint_pos: np.ndarray
    joint_vel: np.ndarray
    base_quat_w: np.ndarray
    base_ang_vel_b: np.ndarray
    anchor_pos_w: np.ndarray
    anchor_quat_w: np.ndarray
    object_pos_w: np.ndarray | None = None  # (3,) [m], with an object
    object_quat_w: np.ndarray | None = None  # (4,) wxyz


def anchor_frame_pos(frame_pos_w: np.ndarray, frame_quat_w: np.ndarray, pos_w: np.ndarray) -> np.ndarray:
    """Points pos_w (K,3) [m] in the frame (3,)/(4,) wxyz: (K,3) [m]."""
    return quat_apply_inverse(frame_quat_w[None], np.asarray(pos_w) - frame_pos_w[None])


def anchor_frame_ori6(frame_quat_w: np.ndarray, quat_w: np.ndarray) -> np.ndarray:
    """Orientations quat_w (K,4) relative to the frame (4,): first two rotation-matrix columns,
    row by row, (K,6)."""
    return ori6_from_quat(quat_mul(quat_conjugate(frame_quat_w)[None], np.asarray(quat_w))).reshape(-1, 6)


def _ref_anchor_lin_vel(ref: ReferenceStep) -> np.ndarray:
    if ref.anchor_lin_vel_w is None:
        raise ValueError("observation 'ref_anchor_lin_vel' needs the reference's body linear velocities "
                         "(ReferenceStep.body_lin_vel_w)")
    return quat_apply_inverse(ref.anchor_quat_w, np.asarray(ref.anchor_lin_vel_w, dtype=np.float64))


def _ref_keypoints(ref: ReferenceStep) -> np.ndarray:
    if ref.future_body_pos_w is None:
        raise ValueError("observation 'ref_keypoints' needs the reference's future body positions "
                         "(ReferenceStep.future_body_pos_w)")
    kp = np.asarray(ref.future_body_pos_w, dtype=np.float64)
    heading = yaw_quat(np.asarray(ref.anchor_quat_w, dtype=np.float64))
    return anchor_frame_pos(np.asarray(ref.anchor_pos_w, dtype=np.float64), heading, kp.reshape(-1, 3)).reshape(-1)


# name → f(state, ref, last_action, default_joint_pos) -> (dim,) float64 (the object terms: below)
_TERMS = {
    "ref_joint_pos": lambda s, r, a, d: np.asarray(r.future_joint_pos, dtype=np.float64).reshape(-1),
    "ref_anchor_pos": lambda s, r, a, d: anchor_frame_pos(s.anchor_pos_w, s.anchor_quat_w,
                                                          r.future_anchor_pos_w).reshape(-1),
    "ref_anchor_pos_local": lambda s, r, a, d: anchor_frame_pos(np.asarray(r.anchor_pos_w, dtype=np.float64),
                                                                r.anchor_quat_w, r.future_anchor_pos_w).reshape(-1),
    "ref_anchor_lin_vel": lambda s, r, a, d: _ref_anchor_lin_vel(r),
    "ref_keypoints": lambda s, r, a, d: _ref_keypoints(r),
    "ref_anchor_ori": lambda s, r, a, d: anchor_frame_ori6(s.anchor_quat_w, r.future_anchor_quat_w).reshape(-1),
    "projected_gravity": lambda s, r, a, d: quat_apply_inverse(s.base_quat_w, GRAVITY_DIR),
    "base_ang_vel": lambda s, r, a, d: np.asarray(s.base_ang_vel_b, dtype=np.float64).copy(),
    "joint_pos": lambda s, r, a, d: np.asarray(s.joint_pos, dtype=np.float64) - np.asarray(d),
    "joint_vel": lambda s, r, a, d: np.asarray(s.joint_vel, dtype=np.float64).copy(),
    "actions": lambda s, r, a, d: np.asarray(a, dtype=np.float64).copy(),
}
IMPLEMENTED_TERMS = tuple(_TERMS) + OBJECT_TERM_NAMES


def term_dims(num_joints: int, num_futures: int, num_bodies: int = len(facts.TRACKED_BODIES)) -> dict[str, int]:
    """Numbers per step of every implemented term for J joints, K future offsets and B tracked bodies."""
    J, K, B = int(num_joints), int(num_futures), int(num_bodies)
    return {"ref_joint_pos": K * J, "ref_keypoints": K * B * 3, "ref_anchor_pos": K * 3, "ref_anchor_pos_local": K * 3, "ref_anchor_lin_vel": 3,
            "ref_anchor_ori": K * 6, "projected_gravity": 3, "base_ang_vel": 3, "joint_pos": J, "joint_vel": J,
            "actions": J, **dict(zip(OBJECT_TERM_NAMES, OBJECT_TERM_DIMS))}


def check_term_names(names: Sequence[str]) -> tuple[str, ...]:
    """`names` as a tuple; ValueError (one line) naming the first term the runtime does not implement, or a
    name given twice."""
    names = tuple(str(n) for n in names)
    unknown = [n for n in names if n not in IMPLEMENTED_TERMS]
    if unknown:
        raise ValueError(f"observation term '{unknown[0]}' is not implemented by mimiclab.deploy.observations (it computes "
                         f"{', '.join(IMPLEMENTED_TERMS)})")
    dup = [n for n in names if names.count(n) > 1]
    if dup:
        raise ValueError(f"observation term '{dup[0]}' is listed twice")
    return names


def observation_terms(state: RobotState, ref: ReferenceStep, last_action: np.ndarray,
                      default_joint_pos: np.ndarray, names: Sequence[str] = TERM_NAMES) -> dict[str, np.ndarray]:
    """{term: (dim,) float64} of the terms `names` (default :data:`TERM_NAMES`), in that order (module
    docstring); ValueError for a name the runtime does not implement, or object terms without an object."""
    names = check_term_names(names)
    obj = object_observation_terms(state, ref) if any(n in OBJECT_TERM_NAMES for n in names) else {}
    return {n: obj[n] if n in obj else _TERMS[n](state, ref, last_action, default_joint_pos) for n in names}


def object_observation_terms(state: RobotState, ref: ReferenceStep) -> dict[str, np.ndarray]:
    """{term: (dim,) float64} in :data:`OBJECT_TERM_NAMES` order from the state's object pose and the
    reference's (module docstring); ValueError when either lacks the object."""
    if state.object_pos_w is None or ref.object_pos_w is None:
        raise ValueError("object observations need the object's pose and its reference")
    p, q = state.anchor_pos_w, state.anchor_quat_w
    return {
        "object_pos": anchor_frame_pos(p, q, np.asarray(state.object_pos_w)[None]).reshape(-1),
        "object_ori": anchor_frame_ori6(q, np.asarray(state.object_quat_w)[None]).reshape(-1),
        "ref_object_pos": anchor_frame_pos(p, q, np.asarray(ref.object_pos_w)[None]).reshape(-1),
        "ref_object_ori": anchor_frame_ori6(q, np.asarray(ref.object_quat_w)[None]).reshape(-1),
    }




def observation_spec(names: Sequence[str], num_joints: int, num_futures: int,
                     num_bodies: int = len(facts.TRACKED_BODIES)) -> tuple[ObservationTerm, ...]:
    """(name, dim, signals, definition) of the terms `names` for J joints, K future offsets and B
    tracked bodies: what this implementation produces (ValueError naming a term it does not implement)."""
    dims = term_dims(num_joints, num_futures, num_bodies)
    return tuple(ObservationTerm(n, dims[n], 0, term_signals(n), term_definition(n)) for n in check_term_names(names))
