"""Tracking metrics and terminations of one control step, with the names and meanings of
``mimiclab eval`` (``mimiclab.rl.eval``), computed in numpy from MuJoCo body frames.

Per step (robot after the step, reference at the same time), per clip averaged over its steps,
``overall`` the mean over clips; ``success``: the clip reached its end with no termination.

Names, units and meanings: ``mimiclab.deploy.metrics``.

Terminations (the task's, thresholds from ``tracking_env_cfg``): anchor height |z_ref − z| > 0.25 m;
gravity direction |g_ref,z − g_z| > 0.8 with g = (0, 0, −1) in each anchor frame; end-effector
height |z_ref − z| > 0.25 m for any end effector. (The task compares the end effectors with the
reference moved onto the robot's anchor xy and yaw, which leaves heights unchanged.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mimiclab.deploy.metrics import END_EFFECTORS, METRIC_UNITS, ROOT_BODY, STEP_METRICS, format_table, summary
from mimiclab.sim2sim.reference import ReferenceStep
from mimiclab.sim2sim.rotations import quat_angle, quat_apply_inverse

ANCHOR_HEIGHT_THRESHOLD = 0.25  # m
ANCHOR_GRAVITY_THRESHOLD = 0.8
EE_HEIGHT_THRESHOLD = 0.25  # m
GRAVITY_DIR = np.array([0.0, 0.0, -1.0])


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


__all__ = ["StepMetrics", "END_EFFECTORS", "METRIC_UNITS", "ROOT_BODY", "STEP_METRICS", "format_table", "summary"]
