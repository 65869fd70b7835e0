"""The CPU default physics (issue 19): MuJoCo C steps every world of an Isaac Lab / Newton scene.

The env is built exactly as Isaac Lab's registry builds it (``parse_env_cfg`` + ``gym.make``, motion
from ``$MIMICLAB_MOTION``, no cfg overrides), so domain randomisation, the contact sensor and the
task's own physics preset are the ones users train with. Each check reads the MuJoCo C side (one
``MjModel``/``MjData`` per world) and compares it with what Isaac Lab / Newton see.
"""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest
import torch

TASK = "Mimic-Track-G1"
NUM_ENVS = 4


@pytest.fixture(scope="module")
def env(two_clips):
    import os

    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    import mimiclab.tasks  # noqa: F401
    from mimiclab.tasks.tracking.tracking_env_cfg import MOTION_ENV_VAR

    old = os.environ.get(MOTION_ENV_VAR)
    os.environ[MOTION_ENV_VAR] = os.pathsep.join(str(p) for p in two_clips)
    try:
        cfg = parse_env_cfg(TASK, device="cpu", num_envs=NUM_ENVS)
        env = gym.make(TASK, cfg=cfg)
    finally:
        if old is None:
            os.environ.pop(MOTION_ENV_VAR, None)
        else:
            os.environ[MOTION_ENV_VAR] = old
    env.reset(seed=0)
    for _ in range(5):
        env.step(torch.zeros(NUM_ENVS, env.unwrapped.action_manager.total_action_dim))
    yield env.unwrapped
    env.close()


def _solver(env):
    return env.sim.physics_manager._solver


def test_presets():
    from isaaclab_newton.physics import MJWarpSolverCfg

    from mimiclab.tasks.physics import physics_cfg
    from mimiclab.tasks.physics_mujoco_cpu import MuJoCoCSolverCfg

    assert isinstance(physics_cfg("auto").solver_cfg, MuJoCoCSolverCfg)
    assert physics_cfg("auto").class_type.endswith("physics_mujoco_cpu:NewtonMuJoCoCManager")
    mjwarp = physics_cfg("mjwarp").solver_cfg
    assert type(mjwarp) is MJWarpSolverCfg and not mjwarp.use_mujoco_cpu
    assert physics_cfg("newton_mujoco_cpu").solver_cfg.use_mujoco_cpu
    for preset in ("auto", "mujoco_c", "mjwarp"):
        s = physics_cfg(preset).solver_cfg
        assert (s.integrator, s.cone, s.njmax, s.nconmax) == ("implicitfast", "pyramidal", 600, 150)
    with pytest.raises(ValueError, match="unknown physics preset"):
        physics_cfg("physx")


@pytest.mark.parametrize("task", ["Mimic-Stand-G1", "Mimic-Track-G1", "Mimic-Track-G1-Play",
                                  "Mimic-Track-G1-StateEstimation", "Mimic-Track-G1-StateEstimation-Play",
                                  "Mimic-Residual-Box-G1", "Mimic-Residual-Box-G1-Play",
                                  "Mimic-TrackKeypoints-G1", "Mimic-TrackKeypoints-G1-Play"])
def test_every_task_id_defaults_to_the_fast_cpu_physics(task, monkeypatch):
    """Each registered task's config (as Isaac Lab's registry loads it) runs MuJoCo C on the CPU and
    MuJoCo-Warp on CUDA (the ``auto`` preset)."""
    import gymnasium as gym
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    import mimiclab.tasks  # noqa: F401
    from mimiclab.tasks.physics import resolved_preset
    from mimiclab.tasks.physics_mujoco_cpu import MuJoCoCSolverCfg

    monkeypatch.delenv("MIMICLAB_PHYSICS", raising=False)
    assert task in gym.registry
    cfg = load_cfg_from_registry(task, "env_cfg_entry_point")
    solver = cfg.sim.physics.solver_cfg
    assert isinstance(solver, MuJoCoCSolverCfg) and solver.backend == "auto", (task, solver)
    assert (resolved_preset("cpu"), resolved_preset("cuda:0")) == ("mujoco_c", "mjwarp")


def test_registry_task_runs_one_mujoco_c_world_per_env(env):
    from mimiclab.tasks.physics_mujoco_cpu import MuJoCoCSolver, MuJoCoCSolverCfg

    assert isinstance(env.cfg.sim.physics.solver_cfg, MuJoCoCSolverCfg) and env.cfg.sim.physics.solver_cfg.backend == "auto"
    solver = _solver(env)
    assert isinstance(solver, MuJoCoCSolver) and solver.nworld == NUM_ENVS == len(solver.mj_datas)
    assert all(d.time > 0 for d in solver.mj_datas)  # every world really advanced
    assert len({id(m) for m in solver.mj_models}) == NUM_ENVS  # one model per world (randomised separately)


def _physics_step(env) -> None:
    env.scene.write_data_to_sim()
    env.sim.step(render=False)
    env.scene.update(dt=env.physics_dt)


def test_isaac_lab_joint_state_is_the_mujoco_state(env):
    """After a physics step Isaac Lab reads back exactly what MuJoCo C integrated (an env reset writes
    Newton's state after the step; MuJoCo takes it at the next one)."""
    robot, solver = env.scene["robot"], _solver(env)
    _physics_step(env)
    m = solver.mj_models[0]
    qadr, dadr = _joint_addresses(m, robot.joint_names)
    q, qd = robot.data.joint_pos.torch.double().numpy(), robot.data.joint_vel.torch.double().numpy()
    root = robot.data.root_link_pos_w.torch.double().numpy()
    free = m.jnt_qposadr[np.flatnonzero(m.jnt_type == mujoco.mjtJoint.mjJNT_FREE)[0]]
    for w, d in enumerate(solver.mj_datas):
        np.testing.assert_allclose(q[w], d.qpos[qadr], atol=1e-5)
        np.testing.assert_allclose(qd[w], d.qvel[dadr], atol=1e-3)
        np.testing.assert_allclose(root[w], d.qpos[free:free + 3], atol=1e-4)


def _mj_id(m, obj, name: str) -> int:
    """MuJoCo id of a Newton-converted element (names carry the USD path: ..._<name>)."""
    count = {mujoco.mjtObj.mjOBJ_JOINT: m.njnt, mujoco.mjtObj.mjOBJ_BODY: m.nbody}[obj]
    hits = [i for i in range(count) if mujoco.mj_id2name(m, obj, i).endswith("_" + name)]
    assert len(hits) == 1, (name, hits)
    return hits[0]


def _joint_addresses(m, names):
    ids = [_mj_id(m, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names]
    return [m.jnt_qposadr[i] for i in ids], [m.jnt_dofadr[i] for i in ids]


def test_contact_forces_equal_mj_contact_force(env):
    """The Newton contacts the contact sensor reads are MuJoCo's own (mj_contactForce), world by world."""
    solver = _solver(env)
    contacts = env.sim.physics_manager._contacts
    solver.update_contacts(contacts)
    n = int(contacts.rigid_contact_count.numpy()[0])
    assert n == sum(d.ncon for d in solver.mj_datas) > 0
    force = contacts.force.numpy()[:n]
    shape0 = contacts.rigid_contact_shape0.numpy()[:n]
    g2s = solver.mjc_geom_to_newton_shape.numpy()
    i = 0
    f6 = np.zeros(6)
    for w, (m, d) in enumerate(zip(solver.mj_models, solver.mj_datas)):
        for k in range(d.ncon):
            mujoco.mj_contactForce(m, d, k, f6)
            frame = d.contact.frame[k].reshape(3, 3)
            np.testing.assert_allclose(force[i, :3], -(frame.T @ f6[:3]), rtol=1e-4, atol=1e-3)
            assert shape0[i] == g2s[w, d.contact.geom[k, 0]]
            i += 1


def test_contact_sensor_reads_the_ground_force_mujoco_applies(env):
    """Isaac Lab's contact sensor (summed over the robot's bodies) equals the vertical ground force that
    MuJoCo C applied to each robot in the same physics step (mj_contactForce), and carries its weight."""
    robot, sensor, solver = env.scene["robot"], env.scene["contact_forces"], _solver(env)
    _physics_step(env)
    fz = sensor.data.net_forces_w.torch[..., 2].sum(dim=1).double().numpy()
    f6 = np.zeros(6)
    for w, (m, d) in enumerate(zip(solver.mj_models, solver.mj_datas)):
        total = 0.0
        for k in range(d.ncon):
            mujoco.mj_contactForce(m, d, k, f6)
            on_geom2 = d.contact.frame[k].reshape(3, 3).T @ f6[:3]  # world frame, acting on geom 2
            robot_is_geom2 = m.geom_bodyid[d.contact.geom[k, 1]] > 0
            total += on_geom2[2] if robot_is_geom2 else -on_geom2[2]
        assert fz[w] == pytest.approx(total, rel=1e-3, abs=1e-2), (w, fz[w], total)
    assert fz.max() > 0.3 * float(robot.data.body_mass.torch[0].sum()) * 9.81  # the ground carries them


def test_randomised_friction_mass_and_com_reach_every_mujoco_world(env):
    """Startup DR (friction per shape, torso CoM) lives in each world's MjModel, equal to Newton's."""
    solver = _solver(env)
    mjw = solver.mjw_model
    friction, ipos, mass = mjw.geom_friction.numpy(), mjw.body_ipos.numpy(), mjw.body_mass.numpy()
    for w, m in enumerate(solver.mj_models):
        np.testing.assert_allclose(m.geom_friction, friction[w], rtol=1e-6)
        np.testing.assert_allclose(m.body_ipos, ipos[w], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(m.body_mass, mass[w], rtol=1e-6)
    torso = _mj_id(solver.mj_models[0], mujoco.mjtObj.mjOBJ_BODY, "torso_link")
    coms = np.array([m.body_ipos[torso] for m in solver.mj_models])
    assert np.ptp(coms, axis=0).max() > 1e-3  # the CoM really differs between worlds
    frictions = np.array([m.geom_friction[:, 0] for m in solver.mj_models])
    assert np.ptp(frictions, axis=0).max() > 1e-2
    # and a model change made now reaches the C models at the next physics step
    robot = env.scene["robot"]
    masses = robot.data.body_mass.torch.clone()
    masses[:, robot.body_names.index("torso_link")] += torch.arange(NUM_ENVS, dtype=masses.dtype)
    robot.set_masses_index(masses=masses)
    env.step(torch.zeros(NUM_ENVS, env.action_manager.total_action_dim))
    got = np.array([m.body_mass[torso] for m in solver.mj_models])
    np.testing.assert_allclose(got, masses[:, robot.body_names.index("torso_link")].numpy(), rtol=1e-5)


def test_reset_state_enters_mujoco_at_the_next_physics_step(env):
    """After env.reset the next MuJoCo C step starts from the state Isaac Lab wrote: each world equals
    a fresh MjData started from that state (root + joints) and stepped once with the same controls."""
    robot, solver = env.scene["robot"], _solver(env)
    env.reset(seed=1)
    data = robot.data
    q, qd = data.joint_pos.torch.double().numpy(), data.joint_vel.torch.double().numpy()
    pos, quat = data.root_link_pos_w.torch.double().numpy(), data.root_link_quat_w.torch.double().numpy()
    lin, ang_b = data.root_link_lin_vel_w.torch.double().numpy(), data.root_link_ang_vel_b.torch.double().numpy()
    before = np.array([d.qpos.copy() for d in solver.mj_datas])
    _physics_step(env)
    m0 = solver.mj_models[0]
    qadr, dadr = _joint_addresses(m0, robot.joint_names)
    free = int(np.flatnonzero(m0.jnt_type == mujoco.mjtJoint.mjJNT_FREE)[0])
    fq, fd = m0.jnt_qposadr[free], m0.jnt_dofadr[free]
    for w, (m, d) in enumerate(zip(solver.mj_models, solver.mj_datas)):
        fresh = mujoco.MjData(m)
        fresh.qpos[qadr], fresh.qvel[dadr] = q[w], qd[w]
        fresh.qpos[fq:fq + 3], fresh.qpos[fq + 3:fq + 7] = pos[w], quat[w][[3, 0, 1, 2]]  # xyzw -> wxyz
        fresh.qvel[fd:fd + 3], fresh.qvel[fd + 3:fd + 6] = lin[w], ang_b[w]
        fresh.ctrl[:] = d.ctrl
        mujoco.mj_step(m, fresh)
        np.testing.assert_allclose(d.qpos, fresh.qpos, atol=1e-4)
    jumped = max(np.abs(d.qpos[qadr] - before[w][qadr]).max() for w, d in enumerate(solver.mj_datas))
    assert jumped > 0.05  # the reset really moved the MuJoCo state (not a continued integration)


def _clone_worlds(solver):
    """Independent copies of every world's MjData (same state, same warm start)."""
    import copy

    return [copy.copy(d) for d in solver.mj_datas]


def test_registry_solver_steps_worlds_through_the_native_module(env):
    from mimiclab.kernels.backends import backend_report

    assert backend_report()["mujoco_worlds"]["built"], backend_report()["mujoco_worlds"]["detail"]
    assert _solver(env)._native is not None


def test_native_step_equals_the_python_reference_bitwise(env):
    """_C_mujoco.step_worlds and the Python loop give identical float32 rows and MuJoCo states, with
    some worlds taking a written state and the others integrating their own."""
    solver = _solver(env)
    m0 = solver.mj_models[0]
    rng = np.random.default_rng(0)
    base = [np.array([d.qpos for d in solver.mj_datas], np.float32), np.array([d.qvel for d in solver.mj_datas], np.float32)]
    ctrl = np.array([d.ctrl for d in solver.mj_datas], np.float32) + rng.normal(0, 0.05, (NUM_ENVS, m0.nu)).astype(np.float32)
    qfrc = rng.normal(0, 1.0, (NUM_ENVS, m0.nv)).astype(np.float32)
    xfrc = rng.normal(0, 1.0, (NUM_ENVS, m0.nbody, 6)).astype(np.float32)
    write = np.array([w % 2 == 0 for w in range(NUM_ENVS)])
    results = []
    saved_datas, saved_addrs = solver.mj_datas, solver._data_addrs
    for native in (False, True):
        datas = _clone_worlds(solver)
        qpos, qvel = base[0].copy(), base[1].copy()
        qpos[write] += np.float32(0.01)  # a written state differs from the integrated one
        qact = np.zeros((NUM_ENVS, m0.nv), np.float32)
        try:
            solver.mj_datas, solver._data_addrs = datas, [d._address for d in datas]
            for _ in range(3):
                if native:
                    solver._native.step_worlds(solver._model_addrs, solver._data_addrs, ctrl, qfrc, xfrc, qpos,
                                               qvel, write, 0.005, qact, 2)
                else:
                    solver._step_worlds_python(ctrl, qfrc, xfrc, qpos, qvel, write, 0.005, qact)
        finally:
            solver.mj_datas, solver._data_addrs = saved_datas, saved_addrs
        results.append((qpos, qvel, qact, np.array([d.qpos for d in datas]), np.array([d.qvel for d in datas])))
    for ref, got in zip(*results):
        np.testing.assert_array_equal(got, ref)
    assert not np.array_equal(results[0][0], base[0])  # the worlds really moved


def test_native_contacts_equal_the_python_reference(env):
    solver = _solver(env)
    contacts = env.sim.physics_manager._contacts
    fields = ("rigid_contact_shape0", "rigid_contact_shape1", "rigid_contact_normal", "rigid_contact_point0",
              "rigid_contact_point1", "force")
    got = {}
    for native in (False, True):
        saved = solver._native
        if not native:
            solver._native = None
        try:
            solver.update_contacts(contacts)
        finally:
            solver._native = saved
        n = int(contacts.rigid_contact_count.numpy()[0])
        got[native] = (n, {f: getattr(contacts, f).numpy()[:n].copy() for f in fields})
    (n_ref, ref), (n, nat) = got[False], got[True]
    assert n == n_ref == sum(d.ncon for d in solver.mj_datas) > 0
    for f in fields[:2]:
        np.testing.assert_array_equal(nat[f], ref[f])
    for f in fields[2:5]:
        np.testing.assert_allclose(nat[f], ref[f], atol=1e-6)
    np.testing.assert_allclose(nat["force"], ref["force"], rtol=1e-5, atol=1e-4)


def test_native_module_refuses_bad_arrays(env):
    solver = _solver(env)
    m0 = solver.mj_models[0]
    ok = dict(ctrl=np.zeros((NUM_ENVS, m0.nu), np.float32), qfrc_applied=np.zeros((NUM_ENVS, m0.nv), np.float32),
              xfrc_applied=np.zeros((NUM_ENVS, m0.nbody, 6), np.float32),
              qpos=np.zeros((NUM_ENVS, m0.nq), np.float32), qvel=np.zeros((NUM_ENVS, m0.nv), np.float32),
              write=np.zeros(NUM_ENVS, bool), timestep=0.005)
    datas = _clone_worlds(solver)
    addrs = [d._address for d in datas]
    step = solver._native.step_worlds
    with pytest.raises(ValueError, match="ctrl must be a C-contiguous numpy array"):
        step(solver._model_addrs, addrs, **{**ok, "ctrl": ok["ctrl"].astype(np.float64)})
    with pytest.raises(ValueError, match="qvel must hold 4 rows"):
        step(solver._model_addrs, addrs, **{**ok, "qvel": ok["qvel"][:, :-1].copy()})
    with pytest.raises(ValueError, match="qpos must be a C-contiguous"):
        step(solver._model_addrs, addrs, **{**ok, "qpos": np.zeros((NUM_ENVS, 2 * m0.nq), np.float32)[:, ::2]})
    with pytest.raises(ValueError, match="as many models as datas"):
        step(solver._model_addrs, addrs[:-1], **ok)
    with pytest.raises(ValueError, match="timestep must be positive"):
        step(solver._model_addrs, addrs, **{**ok, "timestep": 0.0})
    cap = 1
    with pytest.raises(ValueError, match="contacts exceed rigid_contact_max=1"):
        solver._native.gather_contacts(solver._model_addrs, solver._data_addrs, solver._geom_to_shape_np(),
                                       np.zeros(cap, np.int32), np.zeros(cap, np.int32), np.zeros((cap, 3), np.float32),
                                       np.zeros((cap, 3), np.float32), np.zeros((cap, 3), np.float32), None)
