"""Physical cleanup of generated motion (a generator predicts root and joints independently, so
its feet float, sink and skate, and its limbs may cross the body):

1. joints clamped into the G1's limits and the human ranges the quality report checks
   (``robots.human_ranges.TWIST_RANGES``) and velocity-limited;
2. ``ground_and_pin``: the root is shifted (one offset for the clip) so the lower sole touches
   z = 0 on the GROUND_PERCENTILE-th percentile frame and raised where a sole is below z = 0;
   then the lower foot carries the body: in each frame where the same foot carried it in the
   previous frame and is planted (sole below PLANT_HEIGHT), the root moves by minus the slip of
   that foot's touching point (``quality.touching_point_steps``: what the report's sliding
   measures), accumulated so the rest of the clip follows;
3. ``contact_polish``: the robot's own role points (``robot_roles``: the bodies the retargeting
   IK drives, from FK) become IK targets with the retargeter's contact detection and correction
   (planted feet held in place) and its self-collision clearance, and POLISH_ITERATIONS
   Levenberg-Marquardt rounds per frame move the motion onto them
   (``retarget.learned.inference.polish_solution``, the learned retargeter's polish);
4. steps 1 and the ground lift once more, as the polish may leave the ranges.
"""

from __future__ import annotations

import numpy as np

GROUND_PERCENTILE = 10.0
PLANT_HEIGHT = 0.03  # m
POLISH_ITERATIONS = 3


def clamp_joints(joint_pos: np.ndarray) -> np.ndarray:
    """(T,29) joints in ``G1.joint_names`` order clamped into the G1's limits and TWIST_RANGES,
    1 mrad inside."""
    from mimiclab.robots.g1 import G1
    from mimiclab.robots.human_ranges import TWIST_RANGES

    lo = np.array([max(j.lower, TWIST_RANGES.get(j.name, (-np.inf, np.inf))[0]) for j in G1.joints]) + 1e-3
    hi = np.array([min(j.upper, TWIST_RANGES.get(j.name, (-np.inf, np.inf))[1]) for j in G1.joints]) - 1e-3
    return np.clip(joint_pos, lo, hi)


def ground_and_pin(root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray) -> np.ndarray:
    """A new root_pos (T,3) with the feet on the ground and the carrying foot pinned (step 2)."""
    from mimiclab.retarget.pipeline import lift_out_of_ground
    from mimiclab.retarget.quality import sole_heights, touching_point_steps

    out = np.array(root_pos, np.float64)
    low = sole_heights(out, root_quat, joint_pos).min(axis=1)
    out[:, 2] -= np.percentile(low, GROUND_PERCENTILE)
    out = lift_out_of_ground(out, root_quat, joint_pos)
    _, soles, steps = touching_point_steps(out, root_quat, joint_pos)  # (T,2), (T,2,2)
    support = soles.argmin(axis=1)  # the lower foot carries the body
    planted = soles.min(axis=1) < PLANT_HEIGHT
    keep = planted[1:] & planted[:-1] & (support[1:] == support[:-1])
    drift = steps[np.arange(1, len(out)), support[1:]]  # (T-1,2)
    out[1:, :2] -= np.cumsum(drift * keep[:, None], axis=0)
    return out


def robot_roles(root_pos, root_quat, joint_pos) -> dict[str, np.ndarray]:
    """{role: (T,3)} the world positions of the points the retargeting IK drives for each role
    (``robot_targets.g1_targets``: body + offset), plus the virtual toes."""
    import torch

    from mimiclab.kernels import forward_kinematics
    from mimiclab.retarget.robot_targets import g1_targets
    from mimiclab.robots.g1 import G1
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree
    from mimiclab.rotations.torch_ops import quat_apply

    t = lambda x: torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float64)  # noqa: E731
    pos, quat = forward_kinematics(g1_kinematic_tree(), t(root_pos), t(root_quat), t(joint_pos))

    def point(body: str, offset) -> np.ndarray:
        b = G1.body_names.index(body)
        return (pos[:, b] + quat_apply(quat[:, b], t(offset).expand(pos.shape[0], 3))).numpy()

    rt = g1_targets()
    out = {tg.role: point(tg.body, tg.offset) for tg in rt.targets}
    for side in ("left", "right"):
        out[f"{side}_toe"] = point(f"{side}_ankle_roll_link", rt.toe)
    return out


def contact_polish(root_pos, root_quat, joint_pos, fps: float, iterations: int = POLISH_ITERATIONS) -> tuple:
    """(root_pos, root_quat, joint_pos) polished onto contact-corrected, collision-cleared
    targets of the motion's own role points (step 3)."""
    from mimiclab.retarget.foot_targets import point_contacts
    from mimiclab.retarget.learned.inference import polish_solution
    from mimiclab.retarget.pipeline import RetargetSettings

    roles = robot_roles(root_pos, root_quat, joint_pos)
    prep = {"roles": roles, "points": point_contacts(roles, fps)}
    rp, rq, q = polish_solution(prep, (root_pos, root_quat, joint_pos), RetargetSettings(fps=fps), iterations)
    return rp, rq / np.linalg.norm(rq, axis=-1, keepdims=True), q


def clean_motion(root_pos, root_quat, joint_pos, fps: float, polish: int = POLISH_ITERATIONS) -> tuple:
    """Steps 1–4 of the module docstring → (root_pos, root_quat, joint_pos), float64."""
    from mimiclab.retarget.learned.inference import limit_velocity
    from mimiclab.retarget.pipeline import lift_out_of_ground

    q = limit_velocity(clamp_joints(np.asarray(joint_pos, np.float64)), fps)
    rp = ground_and_pin(root_pos, root_quat, q)
    rq = np.asarray(root_quat, np.float64)
    if polish > 0:
        rp, rq, q = contact_polish(rp, rq, q, fps, polish)
        q = limit_velocity(clamp_joints(q), fps)
        rp = lift_out_of_ground(rp, rq, q)
    return rp, rq, q
