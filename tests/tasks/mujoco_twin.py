"""The sim2sim MuJoCo side of the Isaac Lab ↔ MuJoCo parity tests (issue #6, deliverable 4)."""

from __future__ import annotations

import numpy as np


def g1_contract_from_table():
    """The G1 contract built from the robot table (what the Isaac Lab articulation also uses)."""
    from mimiclab.deploy.contract import Contract, ObservationTerm
    from mimiclab.robots.g1 import G1

    def per(attr):
        return tuple(float(getattr(j, attr)) for j in G1.joints)

    return Contract(robot=G1.name, task="parity", joint_names=G1.joint_names, kp=per("kp"), kd=per("kd"),
                    armature=tuple(j.actuator.armature for j in G1.joints),
                    effort_limit=tuple(j.actuator.effort_limit for j in G1.joints),
                    action_scale=per("action_scale"), action_offset=per("default_pos"),
                    default_joint_pos=per("default_pos"), observations=(ObservationTerm("joint_pos", 29),),
                    reference_inputs=(), anchor_body="torso_link", base_body="pelvis", tracked_bodies=("pelvis",),
                    future_offsets=(1,), physics_dt=0.005, decimation=4)


def fixed_root_model(contract, height: float):
    """The sim2sim G1 (contract gains, armature, effort limits) with the pelvis welded at `height` [m],
    no contacts (the Isaac Lab actuator scene has no self-collisions and no ground in reach)."""
    import mujoco

    from mimiclab.robots.mujoco_model import g1_mujoco_spec

    overrides = {j: {"kp": kp, "kd": kd, "armature": a, "effort_limit": e} for j, kp, kd, a, e in
                 zip(contract.joint_names, contract.kp, contract.kd, contract.armature, contract.effort_limit)}
    spec = g1_mujoco_spec(timestep=contract.physics_dt, joint_overrides=overrides, joint_order=contract.joint_names)
    pelvis = spec.body("pelvis")
    for joint in list(pelvis.joints):
        if joint.type == mujoco.mjtJoint.mjJNT_FREE:
            spec.delete(joint)
    pelvis.pos = [0.0, 0.0, height]
    for geom in spec.geoms:
        geom.contype, geom.conaffinity = 0, 0
    return spec.compile()


def joint_addresses(model, names):
    import mujoco

    ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names]
    assert min(ids) >= 0
    return np.array([model.jnt_qposadr[i] for i in ids]), np.array([model.jnt_dofadr[i] for i in ids])
