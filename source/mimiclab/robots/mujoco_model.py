"""The G1 as a MuJoCo model with mimiclab's actuation: the MJCF plus armature and PD actuators
from the robot table (for sim2sim and MuJoCo-side checks), so MuJoCo and Isaac Lab share one set
of gains, armature and limits. Per-joint overrides (e.g. a deployment contract's values) replace
table entries by joint name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

OVERRIDABLE = ("kp", "kd", "armature", "effort_limit")  # N·m/rad, N·m·s/rad, kg·m², N·m


def g1_mujoco_spec(mjcf: str | Path | None = None, timestep: float = 0.005,
                   joint_overrides: Mapping[str, Mapping[str, float]] | None = None,
                   joint_order: Sequence[str] | None = None):
    """``mujoco.MjSpec`` of the G1 with one position actuator per joint.

    Each actuator: kp = Kp, kv = Kd (damping on joint velocity), force range ±effort limit, named
    after its joint; joints get the table's armature and the implicitfast integrator is used.
    joint_overrides: {joint name: {"kp"|"kd"|"armature"|"effort_limit": value}} replacing the
    table's values (ValueError for an unknown joint or key). joint_order: actuator order (default
    ``G1.joint_names``; must be a permutation of it).
    """
    import mujoco

    from mimiclab.robots.assets import g1_mjcf_path
    from mimiclab.robots.g1 import G1

    overrides = {k: dict(v) for k, v in (joint_overrides or {}).items()}
    unknown = [j for j in overrides if j not in G1.joint_names]
    if unknown:
        raise ValueError(f"joint_overrides: unknown G1 joint '{unknown[0]}'")
    for j, v in overrides.items():
        bad = [k for k in v if k not in OVERRIDABLE]
        if bad:
            raise ValueError(f"joint_overrides['{j}']: unknown key '{bad[0]}' (one of {', '.join(OVERRIDABLE)})")
    order = list(G1.joint_names if joint_order is None else joint_order)
    if sorted(order) != sorted(G1.joint_names):
        raise ValueError("joint_order must be a permutation of the G1 joint names")

    spec = mujoco.MjSpec.from_file(str(mjcf or g1_mjcf_path()))
    spec.option.timestep = timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    for existing in list(spec.actuators):
        spec.delete(existing)
    for name in order:
        joint = G1.joint(name)
        o = overrides.get(name, {})
        kp, kd = o.get("kp", joint.kp), o.get("kd", joint.kd)
        effort = o.get("effort_limit", joint.actuator.effort_limit)
        js = spec.joint(name)
        if js is None:
            raise ValueError(f"joint '{name}' is not in the MJCF")
        js.armature = o.get("armature", joint.actuator.armature)
        act = spec.add_actuator()
        act.name = name
        act.target = name
        act.trntype = mujoco.mjtTrn.mjTRN_JOINT
        act.set_to_position(kp=kp, kv=kd)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-effort, effort]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
    return spec


def g1_mujoco_model(mjcf: str | Path | None = None, timestep: float = 0.005,
                    joint_overrides: Mapping[str, Mapping[str, float]] | None = None,
                    joint_order: Sequence[str] | None = None):
    """Compiled ``mujoco.MjModel`` of :func:`g1_mujoco_spec`."""
    return g1_mujoco_spec(mjcf, timestep, joint_overrides, joint_order).compile()
