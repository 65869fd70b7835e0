"""The facts of the tracking MDP, in one place: the task configs (``mimiclab.tasks.tracking``,
``mimiclab.tasks.residual``), export (which copies them into the contract), eval, sim2sim, the
runtime and the benchmarks read them here. Numpy-free, Isaac-Lab-free constants.

A deployed policy's facts are its contract's (``mimiclab.deploy.contract``), written at export from
the task's managers; these constants are the defaults the tasks are built from."""

from __future__ import annotations

from mimiclab.deploy.contract import SIGNALS, STATE_ESTIMATION_SIGNALS

# Bodies (BeyondMimic's G1 convention). The reference is followed at 14 bodies; its anchor (the
# frame of the relative observations and terminations) is the torso; the base (floating base, the
# IMU, the root of root-relative metrics) is the pelvis.
TRACKED_BODIES = (
    "pelvis",
    "left_hip_roll_link", "left_knee_link", "left_ankle_roll_link",
    "right_hip_roll_link", "right_knee_link", "right_ankle_roll_link",
    "torso_link",
    "left_shoulder_roll_link", "left_elbow_link", "left_wrist_yaw_link",
    "right_shoulder_roll_link", "right_elbow_link", "right_wrist_yaw_link",
)
ANCHOR_BODY = "torso_link"
BASE_BODY = "pelvis"
END_EFFECTORS = ("left_ankle_roll_link", "right_ankle_roll_link", "left_wrist_yaw_link", "right_wrist_yaw_link")
FUTURE_OFFSETS = (1, 2, 4, 8)  # control steps ahead of the reference terms
GRAVITY_DIR = (0.0, 0.0, -1.0)  # world; "projected gravity" and the gravity termination use it in body frames

# Early terminations (the task's TerminationsCfg term names → threshold): anchor height |z_ref − z|
# [m]; gravity direction in the anchor frame |g_ref,z − g_z| [1]; any end effector's height [m].
TERMINATION_THRESHOLDS = {"anchor_height": 0.25, "anchor_gravity": 0.8, "end_effector_height": 0.25}
# With an object (the residual task): point-cloud distance D of the object to its reference [m].
OBJECT_TERMINATION_THRESHOLDS = {"object_distance": 0.3}

# The exp-kernel reward terms that pay for following the reference (the task's RewardsCfg; every
# other reward term is a penalty). Their logged sum is "the tracking reward" of the learning figures.
TRACKING_REWARD_TERMS = ("anchor_pos", "anchor_ori", "body_pos", "body_ori", "body_lin_vel", "body_ang_vel")

# The keypoint-conditioned task (Mimic-TrackKeypoints-G1, GenMimic): tracked-body weights of its
# keypoint position reward (hands and feet up-weighted, and the torso, which carries the head; the
# other tracked bodies weigh 1), and the uniform noise on its goal keypoints [m].
KEYPOINT_WEIGHTS = {"left_wrist_yaw_link": 2.0, "right_wrist_yaw_link": 2.0,
                    "left_ankle_roll_link": 2.0, "right_ankle_roll_link": 2.0, "torso_link": 1.5}
KEYPOINT_GOAL_NOISE = 0.03
KEYPOINT_ACTOR_TERMS = ("ref_keypoints", "ref_anchor_ori", "projected_gravity", "base_ang_vel", "joint_pos",
                        "joint_vel", "actions")
# Its privileged teacher (Mimic-TrackKeypoints-G1-Teacher, distilled into the keypoint student): the
# joint targets, the keypoints and the reference anchor trajectory, plus the base's linear velocity
# (which a G1 only has through a state estimator), then the student's proprioception.
KEYPOINT_TEACHER_ACTOR_TERMS = ("ref_joint_pos", "ref_keypoints", "ref_anchor_pos_local", "ref_anchor_lin_vel",
                                "ref_anchor_ori", "base_lin_vel", "projected_gravity", "base_ang_vel", "joint_pos",
                                "joint_vel", "actions")

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
    "ref_keypoints": ("reference",),          # future reference keypoints in the reference's heading frame
    # the reference against the robot's measured anchor orientation
    "ref_anchor_ori": ("reference", "imu_gyro", "imu_gravity", "joint_pos"),
    # the reference against the robot's world position: needs a state estimator
    "ref_anchor_pos": ("reference", "base_position", "imu_gyro", "imu_gravity", "joint_pos"),
    # privileged (the keypoint teacher): needs a state estimator on a robot
    "base_lin_vel": ("base_lin_vel",),
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


# What each actor term is, for the contract (``ObservationTerm.definition``): frame, unit, offsets.
# K future offsets (``future_offsets``, control steps), J joints (``joint_names`` order); "the anchor"
# is ``anchor_body``, "the base" ``base_body``; orientations are 6-D (R[:, :2] row by row). Every term
# enters the policy raw: its normaliser is folded into policy.onnx.
ACTOR_TERM_DEFINITIONS: dict[str, str] = {
    "ref_joint_pos": "reference joint positions at t + k*control_dt, k in future_offsets (K*J) [rad]",
    "ref_anchor_pos_local": "reference anchor positions at t + k*control_dt in the reference anchor frame at t: "
                            "R_ref(t)^T (p_ref(t+k) - p_ref(t)) (K*3) [m]",
    "ref_anchor_lin_vel": "reference anchor linear velocity at t in the reference anchor frame at t (3) [m/s]",
    "ref_keypoints": "reference tracked-body positions at t + k*control_dt in the reference anchor's heading "
                     "frame at t: Yaw(R_ref(t))^T (p_ref,b(t+k) - p_ref(t)), k-major then tracked_bodies (K*B*3) [m]",
    "ref_anchor_ori": "reference anchor orientations at t + k*control_dt relative to the robot anchor "
                      "orientation, 6-D (K*6) [1]",
    "ref_anchor_pos": "reference anchor positions at t + k*control_dt in the robot anchor frame: "
                      "R_a^T (p_ref(t+k) - p_a), world positions (K*3) [m]",
    "base_lin_vel": "base linear velocity in the base frame (3) [m/s]",
    "projected_gravity": "world gravity direction (0, 0, -1) in the base frame (3) [1]",
    "base_ang_vel": "base angular velocity in the base frame (3) [rad/s]",
    "joint_pos": "joint positions minus default_joint_pos (J) [rad]",
    "joint_vel": "joint velocities (J) [rad/s]",
    "actions": "the previous raw policy output, zeros after a reset (J) [1]",
    "object_pos": "object position in the robot anchor frame (3) [m]",
    "object_ori": "object orientation relative to the robot anchor, 6-D (6) [1]",
    "ref_object_pos": "reference object position at t in the robot anchor frame, world pose (3) [m]",
    "ref_object_ori": "reference object orientation at t relative to the robot anchor, 6-D (6) [1]",
}


# How every observation term (actor and critic, all tasks) mirrors left-right
# (``mimiclab.robots.mirror``, ``mimiclab.tasks.symmetry``), by the unit it is stacked from:
# "joints" (articulation joint order), "actions" (the action term's joint order), "vector" (a polar
# vector in a body or heading frame: y → −y), "axial" (an angular velocity: x, z → −x, −z), "ori6"
# (a 6-D orientation R[:, :2]: R → M R M), "body_vectors" / "body_ori6" (one per tracked body:
# bodies swapped with their twins, then as "vector" / "ori6"). Terms are K-stacked units
# (future offsets) of these.
OBSERVATION_MIRROR: dict[str, str] = {
    "ref_joint_pos": "joints", "ref_joint_vel": "joints", "joint_pos": "joints", "joint_vel": "joints",
    "actions": "actions",
    "ref_anchor_pos_local": "vector", "ref_anchor_lin_vel": "vector", "ref_anchor_pos": "vector",
    "projected_gravity": "vector", "base_lin_vel": "vector", "object_pos": "vector", "ref_object_pos": "vector",
    "base_ang_vel": "axial",
    "ref_anchor_ori": "ori6", "object_ori": "ori6", "ref_object_ori": "ori6",
    "body_pos": "body_vectors", "ref_keypoints": "body_vectors",
    "body_ori": "body_ori6",
}


def term_definition(name: str) -> str:
    """The definition of actor term `name`; KeyError (naming the term) when the table lacks it."""
    try:
        return ACTOR_TERM_DEFINITIONS[name]
    except KeyError:
        raise KeyError(f"observation term '{name}' is not in "
                       "mimiclab.deploy.tracking_mdp.ACTOR_TERM_DEFINITIONS") from None


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
assert set(ACTOR_TERM_DEFINITIONS) == set(ACTOR_TERM_SIGNALS), "every actor term has signals and a definition"
