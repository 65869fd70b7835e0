"""The MuJoCo model sim2sim drives: the G1 MJCF with the contract's actuation and a ground plane.

    model = build_model(contract)                       # mujoco.MjModel
    robot = RobotIndex(model, contract.joint_names)     # qpos/qvel addresses, body ids

Matches the Isaac Lab task (``Mimic-Track-G1``, Newton + MuJoCo-Warp): timestep = the contract's
physics_dt, implicitfast integration, pyramidal cones, impratio 1, MuJoCo's default contact
solref (0.02, 1) — Newton's default contact stiffness 2500 / damping 100 converts to exactly that.
One position actuator per contract joint in action order with the contract's kp, kd (kv),
armature and effort limit (force range). Self-collisions are off (the task spawns the G1 with
``self_collision_enabled=False``): robot geoms collide with the ground only.

Friction: the task's ground carries Isaac Lab's default material (0.5) and the G1 USD's material
is 1.0; MuJoCo-Warp combines the two by max, so the effective coefficient is 1.0 — the plane here
gets 1.0 (torsional 0.005, rolling 1e-4, MuJoCo's defaults) and the robot keeps the MJCF's 1.0.

Object (residual loco-manipulation policies, ``build_model(contract, obj=track)``): one free body
``object`` (free joint ``object_root``) with one primitive geom of the clip's object (box: full
extents → MuJoCo half sizes; cylinder: radius and height, axis along the object z), its mass (inertia
of a uniform solid, as Isaac Lab's MassPropertiesCfg), the robot's friction (1.0, scaled like every
geom), colliding with the ground and with the robot (``ObjectIndex`` finds its qpos/qvel).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mimiclab.deploy.contract import Contract

GROUND_FRICTION = (1.0, 0.005, 0.0001)  # sliding, torsional, rolling
ROBOT_CONTYPE, GROUND_CONTYPE = 1, 2  # robot geoms collide with the ground, never with each other
OBJECT_BODY, OBJECT_JOINT = "object", "object_root"
OBJECT_FRICTION = (1.0, 0.005, 0.0001)  # the robot's (G1 MJCF) sliding friction
OBJECT_RGBA = (0.8, 0.5, 0.2, 1.0)  # the task's object colour


def build_model(contract: Contract, mjcf: str | Path | None = None, friction_scale: float = 1.0,
                added_mass: float = 0.0, added_mass_body: str = "torso_link", obj=None):
    """``mujoco.MjModel`` of the G1 driven as the contract says, on a ground plane.

    obj: an object with ``shape``, ``size``, ``mass`` (``mimiclab.motion.objects.ObjectTrack``): added
    as the free body ``object`` (module docstring); ValueError for a shape without a primitive (mesh).
    friction_scale: multiplies the sliding friction of every geom (robot and ground) (1).
    added_mass [kg]: added to `added_mass_body` (at its centre of mass; inertia unchanged).
    ValueError for a non-positive friction scale, a negative total mass or an unknown body.
    """
    import mujoco

    from mimiclab.robots.mujoco_model import g1_mujoco_spec

    if not (friction_scale > 0):
        raise ValueError(f"friction scale must be positive, got {friction_scale}")
    overrides = {j: {"kp": kp, "kd": kd, "armature": arm, "effort_limit": eff}
                 for j, kp, kd, arm, eff in zip(contract.joint_names, contract.kp, contract.kd, contract.armature,
                                                contract.effort_limit)}
    spec = g1_mujoco_spec(mjcf, timestep=contract.physics_dt, joint_overrides=overrides,
                          joint_order=contract.joint_names)
    spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL
    spec.option.impratio = 1.0
    for g in spec.geoms:
        if g.contype or g.conaffinity:
            g.contype, g.conaffinity = ROBOT_CONTYPE, 0
        g.friction[0] *= friction_scale
    _add_ground(spec, friction_scale)
    if obj is not None:
        add_object(spec, obj, friction_scale)
    if added_mass:
        body = spec.body(added_mass_body)
        if body is None:
            raise ValueError(f"added mass: no body '{added_mass_body}' in the model")
        if body.mass + added_mass <= 0:
            raise ValueError(f"added mass {added_mass} kg leaves '{added_mass_body}' with no mass")
        body.mass += added_mass
    return spec.compile()


def _add_ground(spec, friction_scale: float) -> None:
    import mujoco

    spec.add_texture(name="ground_grid", type=mujoco.mjtTexture.mjTEXTURE_2D,
                     builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER, width=256, height=256,
                     rgb1=[0.25, 0.28, 0.32], rgb2=[0.35, 0.38, 0.42])
    mat = spec.add_material(name="ground_grid", texrepeat=[1.0, 1.0], texuniform=True, reflectance=0.05)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "ground_grid"
    ground = spec.worldbody.add_geom(name="ground", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0.0, 0.0, 0.05],
                                     material="ground_grid")
    ground.contype, ground.conaffinity = 0, ROBOT_CONTYPE
    ground.friction = [GROUND_FRICTION[0] * friction_scale, GROUND_FRICTION[1], GROUND_FRICTION[2]]
    light = spec.worldbody.add_light(name="sun", pos=[0.0, 0.0, 4.0], dir=[0.0, 0.0, -1.0])
    light.castshadow = False


def add_object(spec, obj, friction_scale: float = 1.0) -> None:
    """Add `obj` (shape, size, mass) to the ``mujoco.MjSpec`` as the free body ``object`` at the origin
    (the episode reset places it)."""
    import mujoco

    size = np.asarray(obj.size, dtype=np.float64)
    if obj.shape == "box":
        gtype, gsize = mujoco.mjtGeom.mjGEOM_BOX, size / 2.0
    elif obj.shape == "cylinder":
        gtype, gsize = mujoco.mjtGeom.mjGEOM_CYLINDER, np.array([size[0], size[1] / 2.0, 0.0])
    else:
        raise ValueError(f"object shape '{obj.shape}' has no MuJoCo primitive in sim2sim yet (box, cylinder)")
    if not (float(obj.mass) > 0):
        raise ValueError(f"object mass must be positive, got {obj.mass}")
    body = spec.worldbody.add_body(name=OBJECT_BODY)
    body.add_freejoint(name=OBJECT_JOINT)
    geom = body.add_geom(name=OBJECT_BODY, type=gtype, size=gsize.tolist(), mass=float(obj.mass),
                         rgba=list(OBJECT_RGBA))
    geom.contype, geom.conaffinity = ROBOT_CONTYPE, ROBOT_CONTYPE  # with the ground and the robot
    geom.friction = [OBJECT_FRICTION[0] * friction_scale, OBJECT_FRICTION[1], OBJECT_FRICTION[2]]


class ObjectIndex:
    """Where the object lives in a model built with one: body id, free joint qpos (7) / qvel (6)."""

    def __init__(self, model):
        import mujoco

        self.body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, OBJECT_BODY)
        jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, OBJECT_JOINT)
        if self.body < 0 or jid < 0:
            raise ValueError(f"the MuJoCo model has no '{OBJECT_BODY}' body with a free joint")
        self.qpos = slice(int(model.jnt_qposadr[jid]), int(model.jnt_qposadr[jid]) + 7)
        self.qvel = slice(int(model.jnt_dofadr[jid]), int(model.jnt_dofadr[jid]) + 6)


class RobotIndex:
    """Where the contract's joints and the named bodies live in a model: qpos_adr / dof_adr (J,) in
    joint-name order, the free joint's qpos (7) / qvel (6) slices, body ids by name."""

    def __init__(self, model, joint_names: Sequence[str]):
        import mujoco

        self.joint_names = tuple(joint_names)
        jids = []
        for name in self.joint_names:
            jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
            if jid < 0:
                raise ValueError(f"joint '{name}' is not in the MuJoCo model")
            jids.append(jid)
        self.qpos_adr = np.array([model.jnt_qposadr[j] for j in jids])
        self.dof_adr = np.array([model.jnt_dofadr[j] for j in jids])
        self.joint_range = np.array([model.jnt_range[j] for j in jids])  # (J,2) [rad]
        root = int(model.body_rootid[model.jnt_bodyid[jids[0]]]) if jids else -1  # the robot's tree
        free = [j for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE
                and int(model.body_rootid[model.jnt_bodyid[j]]) == root]
        if len(free) != 1:
            raise ValueError(f"expected one free joint (the floating base), found {len(free)}")
        self.root_qpos = slice(int(model.jnt_qposadr[free[0]]), int(model.jnt_qposadr[free[0]]) + 7)
        self.root_qvel = slice(int(model.jnt_dofadr[free[0]]), int(model.jnt_dofadr[free[0]]) + 6)
        self.root_body = int(model.jnt_bodyid[free[0]])
        self.actuator_of_joint = np.array([_actuator_for(model, j) for j in jids])

    def body_ids(self, model, names: Sequence[str]) -> np.ndarray:
        """Body ids (B,) of `names`; ValueError naming the first unknown body."""
        import mujoco

        ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, n) for n in names]
        bad = [n for n, i in zip(names, ids) if i < 0]
        if bad:
            raise ValueError(f"body '{bad[0]}' is not in the MuJoCo model")
        return np.array(ids)


def _actuator_for(model, jid: int) -> int:
    import mujoco

    for a in range(model.nu):
        if model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT and model.actuator_trnid[a, 0] == jid:
            return a
    raise ValueError(f"joint '{model.joint(jid).name}' has no actuator")


def actuator_gains(model, index: RobotIndex) -> tuple[np.ndarray, np.ndarray]:
    """(kp, kd) (J,) [N·m/rad, N·m·s/rad] of the position actuators, in the index's joint order."""
    a = index.actuator_of_joint
    return model.actuator_gainprm[a, 0].copy(), -model.actuator_biasprm[a, 2].copy()
