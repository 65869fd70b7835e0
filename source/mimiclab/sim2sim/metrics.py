"""Tracking metrics and terminations of one control step, with the names and meanings of
``mimiclab eval`` (``mimiclab.rl.eval``), computed in numpy from MuJoCo body frames.

Per step (robot after the step, reference at the same time), per clip averaged over its steps,
``overall`` the mean over clips; ``success``: the clip reached its end with no termination.

Names, units and meanings: ``mimiclab.deploy.metrics``.

Terminations (the task's, thresholds from ``tracking_env_cfg``): anchor height |z_ref − z| > 0.25 m;
gravity direction |g_ref,z − g_z| > 0.8 with g = (0, 0, −1) in each anchor frame; end-effector
height |z_ref − z| > 0.25 m for any end effector. (The task compares the end effectors with the
reference moved onto the robot's anchor xy and yaw, which leaves heights unchanged.)

Objects (residual policies, :class:`ObjectMetrics`): ``object_pointcloud_distance`` [m] per step,
D = mean over the object's P = 1024 surface points x (``mimiclab.motion.objects.surface_points``,
seed 0, as the task samples them) of |T_cur x − T_ref x|, the task's ``object_pointcloud`` (a numpy
twin of ``mimiclab.kernels.pointcloud.pointcloud_distance``); termination ``object_distance`` when
D > 0.3 m (the residual task's ``object_distance`` term).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mimiclab.deploy.metrics import (  # noqa: F401  (re-exported for the runner)
    END_EFFECTORS,
    METRIC_UNITS,
    OBJECT_METRIC,
    OBJECT_METRIC_UNITS,
    ROOT_BODY,
    STEP_METRICS,
    format_table,
    summary,
)
from mimiclab.sim2sim.reference import ReferenceStep
from mimiclab.rotations.numpy_ops import matrix_from_quat, quat_angle, quat_apply_inverse

ANCHOR_HEIGHT_THRESHOLD = 0.25  # m
ANCHOR_GRAVITY_THRESHOLD = 0.8
EE_HEIGHT_THRESHOLD = 0.25  # m
GRAVITY_DIR = np.array([0.0, 0.0, -1.0])
OBJECT_DISTANCE_THRESHOLD = 0.3  # m
OBJECT_SURFACE_POINTS = 1024


def pointcloud_distance(points: np.ndarray, pos_a: np.ndarray, quat_a: np.ndarray, pos_b: np.ndarray,
                        quat_b: np.ndarray) -> float:
    """Mean over object-frame points (P,3) [m] of |T_a x − T_b x| for poses a, b (3,) [m] / (4,) wxyz."""
    ra, rb = matrix_from_quat(np.asarray(quat_a, np.float64)), matrix_from_quat(np.asarray(quat_b, np.float64))
    d = np.asarray(points, np.float64) @ (ra - rb).T + (np.asarray(pos_a, np.float64) - np.asarray(pos_b, np.float64))
    return float(np.linalg.norm(d, axis=-1).mean())


class ObjectMetrics:
    """D and the ``object_distance`` termination of a step for one object (module docstring)."""

    def __init__(self, obj, num_points: int = OBJECT_SURFACE_POINTS, threshold: float = OBJECT_DISTANCE_THRESHOLD):
        """obj: ``mimiclab.motion.objects.ObjectTrack`` (its shape and size)."""
        from mimiclab.motion.objects import surface_points

        self.points = surface_points(obj, num_points, seed=0).double().numpy()  # (P,3) object frame
        self.threshold = float(threshold)

    def distance(self, ref: ReferenceStep, object_pos_w: np.ndarray, object_quat_w: np.ndarray) -> float:
        """D [m] between the object's pose and the reference's."""
        return pointcloud_distance(self.points, object_pos_w, object_quat_w, ref.object_pos_w, ref.object_quat_w)

    def terminated(self, distance: float) -> bool:
        return bool(distance > self.threshold)


class StepMetrics:
    """Metrics and terminations of a step for tracked bodies `body_names` (reference body order)."""

    def __init__(self, body_names: Sequence[str], anchor_body: str):
        names = list(body_names)
        missing = [b for b in (ROOT_BODY, anchor_body, *END_EFFECTORS) if b not in names]
        if missing:
            raise ValueError(f"tracked bodies lack '{missing[0]}' (needed by the metrics)")
        self.root = names.index(ROOT_BODY)
        self.anchor = names.index(anchor_body)
        self.ee = [names.index(b) for b in END_EFFECTORS]

    def errors(self, ref: ReferenceStep, body_pos_w: np.ndarray, body_quat_w: np.ndarray,
               joint_pos: np.ndarray, joint_vel: np.ndarray) -> dict[str, float]:
        """{metric: value} from the robot's tracked bodies (B,3)/(B,4 wxyz) and joints (J,)."""
        rp, p = ref.body_pos_w, body_pos_w
        r, ee = self.root, self.ee
        return {
            "mpkpe": float(np.linalg.norm(rp - p, axis=-1).mean()),
            "root_relative_mpkpe": float(np.linalg.norm((rp - rp[r]) - (p - p[r]), axis=-1).mean()),
            "joint_pos_error": float(np.abs(ref.joint_pos - joint_pos).mean()),
            "joint_vel_error": float(np.abs(ref.joint_vel - joint_vel).mean()),
            "ee_pos_error": float(np.linalg.norm(rp[ee] - p[ee], axis=-1).mean()),
            "ee_ori_error": float(quat_angle(ref.body_quat_w[ee], body_quat_w[ee]).mean()),
        }

    def terminations(self, ref: ReferenceStep, body_pos_w: np.ndarray, body_quat_w: np.ndarray) -> dict[str, bool]:
        """{anchor_height, anchor_gravity, end_effector_height: fired}."""
        a = self.anchor
        g_ref = quat_apply_inverse(ref.body_quat_w[a], GRAVITY_DIR)
        g_rob = quat_apply_inverse(body_quat_w[a], GRAVITY_DIR)
        ee_dz = np.abs(ref.body_pos_w[self.ee, 2] - body_pos_w[self.ee, 2])
        return {
            "anchor_height": bool(abs(ref.body_pos_w[a, 2] - body_pos_w[a, 2]) > ANCHOR_HEIGHT_THRESHOLD),
            "anchor_gravity": bool(abs(g_ref[2] - g_rob[2]) > ANCHOR_GRAVITY_THRESHOLD),
            "end_effector_height": bool((ee_dz > EE_HEIGHT_THRESHOLD).any()),
        }


__all__ = ["StepMetrics", "ObjectMetrics", "OBJECT_METRIC", "OBJECT_METRIC_UNITS", "pointcloud_distance",
           "END_EFFECTORS", "METRIC_UNITS", "ROOT_BODY", "STEP_METRICS", "format_table", "summary"]
