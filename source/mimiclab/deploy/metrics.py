"""The tracking metrics' public names, units and report layout, shared by ``mimiclab eval`` (Isaac
Lab) and ``mimiclab sim2sim`` (MuJoCo) so the two reports compare key by key.

Per control step (the robot after the step, the reference at the same time), per clip averaged
over its steps, ``overall`` the mean over clips:

=========================  ======  ===============================================================
``success``                bool    the clip reached its end with no termination (per clip)
``success_rate``           1       fraction of successful clips (overall)
``mpkpe``                  m       mean over tracked bodies of ‖p_ref − p_robot‖, world frame
``root_relative_mpkpe``    m       same with each side's root (pelvis) position subtracted
``joint_pos_error``        rad     mean over joints of |q_ref − q|
``joint_vel_error``        rad/s   mean over joints of |q̇_ref − q̇|
``ee_pos_error``           m       mean over end effectors (ankles, wrists) of ‖p_ref − p‖, world
``ee_ori_error``           rad     mean over end effectors of the rotation angle between ref and robot
=========================  ======  ===============================================================
"""

from __future__ import annotations

from mimiclab.deploy.tracking_mdp import BASE_BODY as ROOT_BODY  # root-relative metrics subtract the base
from mimiclab.deploy.tracking_mdp import END_EFFECTORS  # noqa: F401  (the task's; a contract carries its own)

STEP_METRICS = ("mpkpe", "root_relative_mpkpe", "joint_pos_error", "joint_vel_error", "ee_pos_error", "ee_ori_error")
METRIC_UNITS = {"success": "bool", "success_rate": "1", "mpkpe": "m", "root_relative_mpkpe": "m",
                "joint_pos_error": "rad", "joint_vel_error": "rad/s", "ee_pos_error": "m", "ee_ori_error": "rad"}
METRICS_FILE = "metrics.json"
# Runs with an object (residual loco-manipulation) add, per step and averaged the same way:
OBJECT_METRIC = "object_pointcloud_distance"  # mean over object surface points of |T_cur x − T_ref x|
OBJECT_METRIC_UNITS = {OBJECT_METRIC: "m"}


def summary(clips: dict) -> dict:
    """``overall``: num_clips, success_rate (fraction of clips with ``success``) and the mean of every
    step metric over clips (NaN when there are none)."""
    out = {"num_clips": len(clips), "success_rate": sum(c["success"] for c in clips.values()) / max(len(clips), 1)}
    for m in STEP_METRICS + ((OBJECT_METRIC,) if any(OBJECT_METRIC in c for c in clips.values()) else ()):
        vals = [c[m] for c in clips.values()]
        out[m] = sum(vals) / len(vals) if vals else float("nan")
    return out


def format_table(report: dict) -> str:
    """Per-clip table plus the overall line."""
    cols = ("success",) + STEP_METRICS
    head = f"{'clip':<24}" + "".join(f"{c:>20}" for c in cols)
    rows = [head, "-" * len(head)]

    def cell(v):
        return f"{('yes' if v else 'no'):>20}" if isinstance(v, bool) else f"{v:>20.4f}"

    for name, c in report["clips"].items():
        rows.append(f"{name[:24]:<24}" + "".join(cell(c[k]) for k in cols))
    o = report["overall"]
    rows.append(f"{'overall':<24}" + f"{o['success_rate']:>20.2f}" + "".join(cell(o[k]) for k in STEP_METRICS))
    if OBJECT_METRIC in o:
        rows += ["", f"{'clip':<24}{OBJECT_METRIC + ' [m]':>32}"]
        rows += [f"{name[:24]:<24}{c[OBJECT_METRIC]:>32.4f}" for name, c in report["clips"].items()]
        rows.append(f"{'overall':<24}{o[OBJECT_METRIC]:>32.4f}")
    return "\n".join(rows)
