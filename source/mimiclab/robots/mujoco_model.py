"""The G1 as a MuJoCo model with mimiclab's actuation: the MJCF plus armature and PD actuators
from the robot table (for sim2sim and MuJoCo-side checks), so MuJoCo and Isaac Lab share one set
of gains, armature and limits.
"""

from __future__ import annotations

from pathlib import Path


def g1_mujoco_spec(mjcf: str | Path | None = None, timestep: float = 0.005):
    """``mujoco.MjSpec`` of the G1 with one position actuator per joint, in G1 joint order.

    Each actuator: kp = Kp, kv = Kd (damping on joint velocity), force range ±effort limit, named
    after its joint; joints get the table's armature and the implicitfast integrator is used.
    """
    import mujoco

    from mimiclab.robots.assets import g1_mjcf_path
    from mimiclab.robots.g1 import G1

    spec = mujoco.MjSpec.from_file(str(mjcf or g1_mjcf_path()))
    spec.option.timestep = timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    for existing in list(spec.actuators):
        spec.delete(existing)
    for joint in G1.joints:
        js = spec.joint(joint.name)
        if js is None:
            raise ValueError(f"joint '{joint.name}' is not in the MJCF")
        js.armature = joint.actuator.armature
        act = spec.add_actuator()
        act.name = joint.name
        act.target = joint.name
        act.trntype = mujoco.mjtTrn.mjTRN_JOINT
        act.set_to_position(kp=joint.kp, kv=joint.kd)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-joint.actuator.effort_limit, joint.actuator.effort_limit]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
    return spec


def g1_mujoco_model(mjcf: str | Path | None = None, timestep: float = 0.005):
    """Compiled ``mujoco.MjModel`` of :func:`g1_mujoco_spec`."""
    return g1_mujoco_spec(mjcf, timestep).compile()
