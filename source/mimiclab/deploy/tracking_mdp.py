"""Facts of the tracking MDP that a consumer outside Isaac Lab needs (the demo report, the CI
learning test, export, sim2sim, a robot-side runtime) without importing the task: numpy-free,
Isaac-Lab-free constants."""

from __future__ import annotations

from mimiclab.deploy.contract import SIGNALS, STATE_ESTIMATION_SIGNALS

# The exp-kernel reward terms that pay for following the reference (the task's RewardsCfg; every
# other reward term is a penalty). Their logged sum is "the tracking reward" of the learning figures.
TRACKING_REWARD_TERMS = ("anchor_pos", "anchor_ori", "body_pos", "body_ori", "body_lin_vel", "body_ang_vel")

# The actor observation terms of Mimic-Track-G1 (the proprioceptive default) and of its
# state-estimation variant Mimic-Track-G1-StateEstimation, in order.
PROPRIOCEPTIVE_ACTOR_TERMS = ("ref_joint_pos", "ref_anchor_pos_local", "ref_anchor_lin_vel", "ref_anchor_ori",
                              "projected_gravity", "base_ang_vel", "joint_pos", "joint_vel", "actions")
STATE_ESTIMATION_ACTOR_TERMS = ("ref_joint_pos", "ref_anchor_pos", "ref_anchor_ori", "projected_gravity",
                                "base_ang_vel", "joint_pos", "joint_vel", "actions")

# The one table: every actor observation term the project's tasks use (tracking and residual) → the
# robot-side signals it is computed from (mimiclab.deploy.contract.SIGNALS). Export fills each
# contract term's ``signals`` from it (a term missing here is an export error) and a contract is
# ``proprioceptive`` when no term needs base_position or base_lin_vel. "The anchor's orientation"
# (torso_link) is the IMU's attitude (roll/pitch from its gravity direction, heading integrated from
# its gyro) carried through the waist joint encoders; "the object" is its pose relative to the robot
# as perception measures it.
ACTOR_TERM_SIGNALS: dict[str, tuple[str, ...]] = {
    # the reference alone
    "ref_joint_pos": ("reference",),          # future reference joint positions
    "ref_anchor_pos_local": ("reference",),   # future reference anchor positions in the reference's own anchor frame
    "ref_anchor_lin_vel": ("reference",),     # reference anchor linear velocity in its own frame
    # the reference against the robot's measured anchor orientation
    "ref_anchor_ori": ("reference", "imu_gyro", "imu_gravity", "joint_pos"),
    # the reference against the robot's world position: needs a state estimator
    "ref_anchor_pos": ("reference", "base_position", "imu_gyro", "imu_gravity", "joint_pos"),
    # proprioception
    "projected_gravity": ("imu_gravity",),
    "base_ang_vel": ("imu_gyro",),
    "joint_pos": ("joint_pos",),
    "joint_vel": ("joint_vel",),
    "actions": ("last_action",),
    # the residual (loco-manipulation) task's object terms, in the robot's anchor frame
    "object_pos": ("object",),
    "object_ori": ("object",),
    "ref_object_pos": ("reference", "base_position", "imu_gyro", "imu_gravity", "joint_pos"),
    "ref_object_ori": ("reference", "imu_gyro", "imu_gravity", "joint_pos"),
}


def term_signals(name: str) -> tuple[str, ...]:
    """The signals of actor term `name`; KeyError (naming the term) when the table lacks it."""
    try:
        return ACTOR_TERM_SIGNALS[name]
    except KeyError:
        raise KeyError(f"observation term '{name}' is not in mimiclab.deploy.tracking_mdp.ACTOR_TERM_SIGNALS "
                       "(which robot signals it needs)") from None


def needs_state_estimation(name: str) -> tuple[str, ...]:
    """The signals of actor term `name` that a G1 does not measure (base_position, base_lin_vel)."""
    return tuple(s for s in term_signals(name) if s in STATE_ESTIMATION_SIGNALS)


assert all(s in SIGNALS for sig in ACTOR_TERM_SIGNALS.values() for s in sig), "ACTOR_TERM_SIGNALS: unknown signal"
