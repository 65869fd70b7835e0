"""MuJoCo gets the same actuation as Isaac Lab, from the same table, mapped by joint name."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from mimiclab.robots.g1 import G1
from mimiclab.robots.mujoco_model import g1_mujoco_model, g1_mujoco_spec


@pytest.fixture(scope="module")
def model(g1_mjcf):
    return g1_mujoco_model(g1_mjcf)


def test_actuators_follow_the_table_by_name(model):
    assert model.nu == G1.num_joints
    for i, spec in enumerate(G1.joints):
        act = model.actuator(i)
        assert act.name == spec.name
        jid = model.actuator_trnid[i, 0]
        assert model.joint(jid).name == spec.name
        assert model.actuator_gainprm[i, 0] == pytest.approx(spec.kp)
        assert model.actuator_biasprm[i, 1] == pytest.approx(-spec.kp)
        assert model.actuator_biasprm[i, 2] == pytest.approx(-spec.kd)
        assert tuple(model.actuator_forcerange[i]) == pytest.approx((-spec.actuator.effort_limit, spec.actuator.effort_limit))
        assert model.dof_armature[model.jnt_dofadr[jid]] == pytest.approx(spec.actuator.armature)
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST


def test_pd_holds_the_default_pose_with_the_root_fixed_in_mujoco(g1_mjcf):
    """Root welded in the air, gravity feed-forward as in the Isaac Lab test: every joint reaches
    the default pose from a ±0.1 rad perturbation within 1 s."""
    spec = g1_mujoco_spec(g1_mjcf)
    spec.delete(spec.joint("floating_base_joint"))
    spec.body("pelvis").pos = [0.0, 0.0, 1.3]
    model = spec.compile()
    data = mujoco.MjData(model)
    q0 = np.array([j.default_pos for j in G1.joints])
    qadr = np.array([model.jnt_qposadr[model.actuator_trnid[i, 0]] for i in range(model.nu)])
    vadr = np.array([model.jnt_dofadr[model.actuator_trnid[i, 0]] for i in range(model.nu)])
    rng = np.random.default_rng(0)
    data.qpos[qadr] = q0 + rng.uniform(-0.1, 0.1, size=q0.shape)
    data.ctrl[:] = q0
    for _ in range(200):
        mujoco.mj_forward(model, data)
        data.qfrc_applied[vadr] = data.qfrc_bias[vadr]  # gravity + Coriolis feed-forward
        mujoco.mj_step(model, data)
    err = np.abs(data.qpos[qadr] - q0)
    assert err.max() < 0.05, dict(zip(G1.joint_names, err.round(3)))
