"""Tracking metrics and terminations of one control step, with the names and meanings of
``mimiclab eval`` (``mimiclab.rl.eval``), computed in numpy from MuJoCo body frames.

Per step (robot after the step, reference at the same time), per clip averaged over its steps,
``overall`` the mean over clips; ``success``: the clip reached its end with no termination.

Names, units and meanings: ``mimiclab.deploy.metrics``.

Terminations: those the contract lists in ``termination_thresholds`` (the task's, read off its
termination manager at export; a name not implemented here is refused): ``anchor_height``
|z_ref − z| of the anchor; ``anchor_gravity`` |g_ref,z − g_z| with g = (0, 0, −1) in each anchor
frame; ``end_effector_height`` |z_ref − z| of any of the contract's ``end_effectors``. (The task
compares the end effectors with the reference moved onto the robot's anchor xy and yaw, which leaves
heights unchanged.) Root-relative metrics subtract the contract's ``base_body``.

Objects (residual policies, :class:`ObjectMetrics`): ``object_pointcloud_distance`` [m] per step,
D = mean over the object's P = 1024 surface points x (``mimiclab.motion.objects.surface_points``,
seed 0, as the task samples them) of |T_cur x − T_ref x|, the task's ``object_pointcloud`` (a numpy
twin of ``mimiclab.kernels.pointcloud.pointcloud_distance``); termination ``object_distance`` when
D exceeds the contract's threshold (the residual task's ``object_distance`` term).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mimiclab.deploy.metrics import (  # noqa: F401  (re-exported for the runner)
    METRIC_UNITS,
    OBJECT_METRIC,
    OBJECT_METRIC_UNITS,
    STEP_METRICS,
    format_table,
    summary,
)
from mimiclab.deploy.observations import GRAVITY_DIR
from mimiclab.deploy.reference import ReferenceStep
from mimiclab.deploy.tracking_mdp import OBJECT_TERMINATION_THRESHOLDS, TERMINATION_THRESHOLDS
from mimiclab.rotations.numpy_ops import matrix_from_quat, quat_angle, quat_apply_inverse

OBJECT_SURFACE_POINTS = 1024
OBJECT_TERMINATION = "object_distance"
IMPLEMENTED_TERMINATIONS = tuple(TERMINATION_THRESHOLDS) + tuple(OBJECT_TERMINATION_THRESHOLDS)


def check_terminations(thresholds: dict) -> None:
    """ValueError (one line) naming a termination the metrics here do not implement."""
    unknown = [n for n in thresholds if n not in IMPLEMENTED_TERMINATIONS]
    if unknown:
        raise ValueError(f"termination '{unknown[0]}' is not implemented by sim2sim (it implements "
                         f"{', '.join(IMPLEMENTED_TERMINATIONS)})")


def pointcloud_distance(points: np.ndarray, pos_a: np.ndarray, quat_a: np.ndarray, pos_b: np.ndarray,
                        quat_b: np.ndarray) -> float:
    """Mean over object-frame points (P,3) [m] of |T_a x − T_b x| for poses a, b (3,) [m] / (4,) wxyz."""
    ra, rb = matrix_from_quat(np.asarray(quat_a, np.float64)), matrix_from_quat(np.asarray(quat_b, np.float64))
    d = np.asarray(points, np.float64) @ (ra - rb).T + (np.asarray(pos_a, np.float64) - np.asarray(pos_b, np.float64))
    return float(np.linalg.norm(d, axis=-1).mean())


class ObjectMetrics:
    """D and the ``object_distance`` termination of a step for one object (module docstring)."""

    def __init__(self, obj, threshold: float | None, num_points: int = OBJECT_SURFACE_POINTS):
        """obj: ``mimiclab.motion.objects.ObjectTrack`` (its shape and size); threshold [m] of the
        ``object_distance`` termination (None: the contract has none, never terminated)."""
        from mimiclab.motion.objects import surface_points

        self.points = surface_points(obj, num_points, seed=0).double().numpy()  # (P,3) object frame
        self.threshold = None if threshold is None else float(threshold)

    def distance(self, ref: ReferenceStep, object_pos_w: np.ndarray, object_quat_w: np.ndarray) -> float:
        """D [m] between the object's pose and the reference's."""
        return pointcloud_distance(self.points, object_pos_w, object_quat_w, ref.object_pos_w, ref.object_quat_w)

    def terminated(self, distance: float) -> bool:
        return self.threshold is not None and bool(distance > self.threshold)


class StepMetrics:
    """Metrics and terminations of a step for tracked bodies `body_names` (reference body order):
    root-relative errors about `root_body`, end-effector errors over `end_effectors`, the terminations
    of `thresholds` ({name: threshold}; ValueError for a name not implemented here)."""

    def __init__(self, body_names: Sequence[str], anchor_body: str, root_body: str, end_effectors: Sequence[str],
                 thresholds: dict):
        names = list(body_names)
        missing = [b for b in (root_body, anchor_body, *end_effectors) if b not in names]
        if missing:
            raise ValueError(f"tracked bodies lack '{missing[0]}' (needed by the metrics)")
        if not end_effectors:
            raise ValueError("the metrics need at least one end effector")
        check_terminations(thresholds)
        self.root = names.index(root_body)
        self.anchor = names.index(anchor_body)
        self.ee = [names.index(b) for b in end_effectors]
        self.thresholds = {n: float(v) for n, v in thresholds.items() if n in TERMINATION_THRESHOLDS}

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
        """{name: fired} of the thresholded terminations (anchor_height, anchor_gravity,
        end_effector_height, those the contract lists, in its order)."""
        a = self.anchor
        g_ref = quat_apply_inverse(ref.body_quat_w[a], GRAVITY_DIR)
        g_rob = quat_apply_inverse(body_quat_w[a], GRAVITY_DIR)
        error = {"anchor_height": lambda: abs(ref.body_pos_w[a, 2] - body_pos_w[a, 2]),
                 "anchor_gravity": lambda: abs(g_ref[2] - g_rob[2]),
                 "end_effector_height": lambda: np.abs(ref.body_pos_w[self.ee, 2] - body_pos_w[self.ee, 2]).max()}
        return {n: bool(error[n]() > t) for n, t in self.thresholds.items()}


__all__ = ["StepMetrics", "ObjectMetrics", "OBJECT_METRIC", "OBJECT_METRIC_UNITS", "pointcloud_distance",
           "check_terminations", "METRIC_UNITS", "STEP_METRICS", "format_table", "summary"]
