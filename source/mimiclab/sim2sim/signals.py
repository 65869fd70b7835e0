"""The robot's signals read from a MuJoCo state: what a G1's sensors (and, for state-estimation
policies, a state estimator) would hand the runtime (``mimiclab.deploy.runtime``).

    signals = MujocoSignals(model, contract)             # addresses resolved once
    check_contract(contract, signals.target(model))      # joints, gains, timestep, bodies of the model
    state = signals.robot_state(data)                    # RobotState (kinematics must be current)

Joint encoders are qpos/qvel of the contract's joints; the IMU is the base body (the floating base:
its xquat and the free joint's angular velocity qvel[3:6], which MuJoCo gives in the body frame);
the anchor's pose is its xpos/xquat (a real robot gets its orientation from the IMU and the joint
encoders, and its world position only from a state estimator); the object's pose is the ``object``
body's (perception on a robot).
"""

from __future__ import annotations

from mimiclab.deploy.contract import Contract, DeploymentTarget
from mimiclab.deploy.observations import RobotState


class MujocoSignals:
    """Reads a :class:`RobotState` in the contract's joint order from MuJoCo ``data``.

    ValueError (one line) when the model lacks a joint, the anchor, base or a tracked body, when the
    base is not the floating base, or when the contract observes an object and the model has none."""

    def __init__(self, model, contract: Contract):
        from mimiclab.sim2sim.model import ObjectIndex, RobotIndex

        self.contract = contract
        self.index = RobotIndex(model, contract.joint_names)
        self.anchor_id, self.base_id = self.index.body_ids(model, [contract.anchor_body, contract.base_body])
        self.tracked_ids = self.index.body_ids(model, contract.tracked_bodies)
        if self.base_id != self.index.root_body:
            raise ValueError(f"base body '{contract.base_body}' is not the floating base of the model")
        self.object_index = ObjectIndex(model) if contract.observes_object else None

    def target(self, model) -> DeploymentTarget:
        """What the model drives, for ``check_contract``: its joints, actuator gains and timestep."""
        from mimiclab.sim2sim.model import actuator_gains

        kp, kd = (tuple(float(x) for x in v) for v in actuator_gains(model, self.index))
        return DeploymentTarget(joint_names=self.contract.joint_names, kp=kp, kd=kd,
                                physics_dt=float(model.opt.timestep))

    def robot_state(self, data) -> RobotState:
        """The measured state from MuJoCo ``data`` (kinematics current: after mj_step or mj_forward)."""
        ix, ob = self.index, self.object_index
        return RobotState(joint_pos=data.qpos[ix.qpos_adr].copy(), joint_vel=data.qvel[ix.dof_adr].copy(),
                          base_quat_w=data.xquat[self.base_id].copy(),
                          base_ang_vel_b=data.qvel[ix.root_qvel][3:6].copy(),
                          anchor_pos_w=data.xpos[self.anchor_id].copy(),
                          anchor_quat_w=data.xquat[self.anchor_id].copy(),
                          object_pos_w=data.xpos[ob.body].copy() if ob is not None else None,
                          object_quat_w=data.xquat[ob.body].copy() if ob is not None else None)
