"""Mimic-Residual-Box-G1 built by Isaac Lab on the CPU (one simulation for the whole module)."""

from __future__ import annotations

import time

import gymnasium as gym
import pytest
import torch

TASK = "Mimic-Residual-Box-G1"
NUM_ENVS = 4
TRACK_POLICY_DIM, TRACK_CRITIC_DIM = 248, 403  # the proprioceptive Mimic-Track-G1 actor
POLICY_DIM = TRACK_POLICY_DIM + 3 + 6 + 3 + 6  # 266
CRITIC_DIM = TRACK_CRITIC_DIM + 3 + 6 + 3 + 6 + 3 + 3  # 427


@pytest.fixture(scope="module")
def env(box_clip, make_residual_cfg):
    cfg = make_residual_cfg([box_clip], NUM_ENVS, TASK)
    env = gym.make(TASK, cfg=cfg)
    env.reset(seed=0)
    yield env.unwrapped
    env.close()


def _cmd(env):
    return env.command_manager.get_term("motion")


def _physics_steps(env, n: int) -> None:
    """Raw physics steps of the whole scene (robot actions held, object wrench as set)."""
    for _ in range(n):
        env.scene.write_data_to_sim()
        env.sim.step(render=False)
        env.scene.update(dt=env.physics_dt)


def test_play_variant_has_no_assist_and_no_randomisation():
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    import mimiclab.tasks  # noqa: F401

    cfg = parse_env_cfg("Mimic-Residual-Box-G1-Play", device="cpu", num_envs=2)
    assert cfg.commands.motion.sampling == "evaluation" and not cfg.commands.motion.assist.enabled
    assert cfg.curriculum.object_assist is None and cfg.events.object_mass is None
    assert cfg.commands.motion.object_pose_range == {}


def test_object_is_the_clips_box(env):
    from mimiclab.robots.g1 import G1  # noqa: F401

    obj = env.scene["object"]
    assert obj.num_instances == NUM_ENVS and obj.num_bodies == 1
    spec = _cmd(env).object_spec
    assert spec.shape == "box" and spec.size == (0.3, 0.25, 0.2) and spec.mass == 2.0
    # mass randomisation (startup, scale 0.8–1.2) acted on the spawned 2 kg box
    mass = obj.data.body_mass.torch.reshape(-1)
    assert ((mass > 1.6 - 1e-4) & (mass < 2.4 + 1e-4)).all(), mass
    assert _cmd(env).object_points.shape == (1024, 3)


def test_object_friction_and_com_are_randomised_within_range(env):
    """The object's startup randomisation (friction 0.4–1.2 per env, CoM ±2 cm) lands in the model."""
    import warp as wp

    obj = env.scene["object"]
    model = env.sim.physics_manager.get_model()
    mu = wp.to_torch(obj._root_view.get_attribute("shape_material_mu", model)[:, 0]).reshape(env.num_envs, -1)
    assert ((mu >= 0.4 - 1e-6) & (mu <= 1.2 + 1e-6)).all(), mu
    assert mu[:, 0].std() > 0.01  # one draw per env, not one for all
    nominal = env.event_manager.get_term_cfg("object_com").func.default_com[:, 0, :3]
    offset = obj.data.body_com_pos_b.torch[:, 0] - nominal
    assert (offset.abs() <= 0.02 + 1e-6).all() and offset.abs().max() > 1e-3, offset


def test_observation_layout(env):
    om = env.observation_manager
    obs = om.compute()
    assert obs["policy"].shape == (NUM_ENVS, POLICY_DIM) and obs["critic"].shape == (NUM_ENVS, CRITIC_DIM)
    assert torch.isfinite(obs["policy"]).all() and torch.isfinite(obs["critic"]).all()
    names = om.active_terms["policy"]
    assert names[-4:] == ["object_pos", "object_ori", "ref_object_pos", "ref_object_ori"], names
    assert names[:9] == ["ref_joint_pos", "ref_anchor_pos_local", "ref_anchor_lin_vel", "ref_anchor_ori",
                         "projected_gravity", "base_ang_vel", "joint_pos", "joint_vel", "actions"]
    assert om.active_terms["critic"][-2:] == ["object_lin_vel", "object_ang_vel"]


def test_object_starts_at_its_reference_and_the_pointcloud_reward_is_one(env):
    from isaaclab.utils.math import quat_error_magnitude

    env.reset()
    c = _cmd(env)
    torch.testing.assert_close(c.object_pos_w, c.object_ref_pos_w, atol=1e-5, rtol=0)
    assert quat_error_magnitude(c.object_quat_w, c.object_ref_quat_w).max() < 1e-4
    rm = env.reward_manager
    cfg = rm.get_term_cfg("object_pointcloud")
    r = cfg.func(env, **cfg.params)
    assert (r > 0.999).all(), r
    obs = env.observation_manager.compute()["policy"]
    torch.testing.assert_close(obs[:, -18:-9], obs[:, -9:], atol=1e-5, rtol=0)  # object == reference


def test_assist_pulls_a_displaced_object_back(env):
    """Displace the object after a reset; env steps (zero actions) bring it back to its moving reference."""
    env.reset()
    c = _cmd(env)
    obj = env.scene["object"]
    ids = torch.arange(NUM_ENVS)
    pose = torch.cat([c.object_pos_w + torch.tensor([0.15, -0.1, 0.05]), c.object_quat_w], -1)
    obj.write_root_pose_to_sim_index(root_pose=pose, env_ids=ids)
    obj.write_root_link_velocity_to_sim_index(root_velocity=torch.cat([c.object_ref_lin_vel_w, c.object_ref_ang_vel_w],
                                                                      -1), env_ids=ids)
    d0 = c.pointcloud_distance()[0]
    assert (d0 > 0.15).all()
    c.apply_assist()
    f = c.assist_force
    assert (f.norm(dim=-1) <= 100.0 + 1e-3).all()
    steps = 25  # 0.5 s
    for _ in range(steps):
        env.step(torch.zeros(NUM_ENVS, env.action_manager.total_action_dim))
    kept = env.episode_length_buf == steps  # envs that ran through without a reset
    assert kept.any()
    d1 = c.pointcloud_distance()[0]
    assert (d1[kept] < 0.3 * d0[kept]).all(), (d0, d1, kept)


def test_full_assist_follows_a_moving_reference(env):
    """Env steps (robot under zero actions): the assisted box stays on its moving reference."""
    env.reset()
    c = _cmd(env)
    assert c.assist_scale == 1.0
    start = c.object_ref_pos_w.clone()
    worst = 0.0
    for _ in range(25):
        env.step(torch.zeros(NUM_ENVS, env.action_manager.total_action_dim))
        ran = env.episode_length_buf > 5  # envs that have not just been reset
        if ran.any():
            worst = max(worst, float(c.pointcloud_distance()[0][ran].max()))
    moved = (c.object_ref_pos_w - start).norm(dim=-1)
    print(f"reference moved up to {float(moved.max()):.3f} m; worst point-cloud distance {worst:.4f} m")
    # a PD without acceleration feed-forward lags the swinging hands' box by about a/kp (≈ 6 cm here);
    # the point-cloud termination is at 0.3 m
    assert worst < 0.1


def test_steps_are_finite_and_terms_in_range(env):
    env.reset()
    for _ in range(5):
        obs, rew, term, trunc, extras = env.step(torch.randn(NUM_ENVS, env.action_manager.total_action_dim) * 0.3)
        assert torch.isfinite(obs["policy"]).all() and torch.isfinite(rew).all()
    rm = env.reward_manager
    for name in ("object_pointcloud", "object_contact"):
        cfg = rm.get_term_cfg(name)
        r = cfg.func(env, **cfg.params)
        assert r.shape == (NUM_ENVS,) and ((r >= 0) & (r <= 1)).all(), (name, r)


def test_curriculum_state_is_logged(env):
    env.reset()
    log = env.extras.get("log", {})
    assert "Curriculum/object_assist" in log, sorted(log)
    assert float(log["Curriculum/object_assist"]) == _cmd(env).assist_scale


def test_pointcloud_term_cost_vs_env_step(env):
    """Not an assertion on time: prints the share of an env step the point-cloud term takes."""
    env.reset()
    c = _cmd(env)
    act = torch.zeros(NUM_ENVS, env.action_manager.total_action_dim)
    for _ in range(3):
        env.step(act)
    n = 20
    t0 = time.perf_counter()
    for _ in range(n):
        env.step(act)
    step = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for _ in range(n * 10):
        c.pointcloud_distance()
    pc = (time.perf_counter() - t0) / (n * 10)
    print(f"\nenv step {step * 1e3:.2f} ms ({NUM_ENVS} envs, CPU); point-cloud distance (1024 points, "
          f"backend {c.cfg.pointcloud_backend}) {pc * 1e3:.3f} ms = {100 * pc / step:.2f} % of a step")


def test_sim2sim_object_observations_equal_the_isaac_actor_terms(env, mujoco_twin):
    """Issue #7 parity: the same robot + object state and reference fed to the Isaac Lab policy terms
    (all 13, the object ones included) and to sim2sim's numpy implementation give the same numbers,
    term by term; the same surface points and point-cloud distance D."""
    import numpy as np
    from isaaclab.utils.math import quat_from_euler_xyz

    from mimiclab.deploy.observations import RobotState
    from mimiclab.motion.format import load_motion
    from mimiclab.rotations.numpy_ops import quat_apply_inverse
    from mimiclab.sim2sim.metrics import ObjectMetrics

    env.reset()
    robot, obj = env.scene["robot"], env.scene["object"]
    cmd = _cmd(env)
    g = torch.Generator().manual_seed(13)
    n = env.num_envs
    origins = env.scene.env_origins
    mujoco_twin.scramble_robot(env, g)
    opos = origins + torch.tensor([0.5, 0.1, 0.9]) + 0.2 * torch.randn(n, 3, generator=g)
    oquat = quat_from_euler_xyz(0.3 * torch.randn(n, generator=g), 0.3 * torch.randn(n, generator=g),
                                torch.linspace(3.0, -3.0, n))
    obj.write_root_pose_to_sim_index(root_pose=torch.cat([opos, oquat], -1))
    env.scene.update(dt=0.0)
    steps = [15, 25, 10_000, 0]  # the third is past the clip end: the reference clamps to the last frame
    clip_ids = mujoco_twin.set_reference_steps(env, steps, g)
    lib = cmd.library
    isaac = mujoco_twin.policy_terms(env)
    isaac_d = cmd.pointcloud_distance()[0]
    data = robot.data
    anchor = robot.body_names.index("torso_link")
    wxyz = lambda x: np.roll(x.double().numpy(), 1)  # noqa: E731  (Isaac Lab XYZW → wxyz)
    for i in range(n):
        rt = mujoco_twin.runtime_of(env, i)
        ref = rt.reference(load_motion(lib.clip_paths[int(clip_ids[i])]))
        k = min(steps[i], int(round(float(cmd.start_times[i]) / env.step_dt)))
        base_quat = wxyz(data.root_link_quat_w.torch[i])
        state = RobotState(
            joint_pos=data.joint_pos.torch[i].double().numpy(), joint_vel=data.joint_vel.torch[i].double().numpy(),
            base_quat_w=base_quat,
            base_ang_vel_b=quat_apply_inverse(base_quat, data.root_link_ang_vel_w.torch[i].double().numpy()),
            anchor_pos_w=(data.body_link_pos_w.torch[i, anchor] - origins[i]).double().numpy(),
            anchor_quat_w=wxyz(data.body_link_quat_w.torch[i, anchor]),
            object_pos_w=(obj.data.root_link_pos_w.torch[i] - origins[i]).double().numpy(),
            object_quat_w=wxyz(obj.data.root_link_quat_w.torch[i]))
        step = ref.step(k)
        ours = rt.observe(state, step)
        assert list(ours) == list(isaac)
        for name, value in ours.items():
            np.testing.assert_allclose(value, isaac[name][i].double().numpy(), atol=2e-4, rtol=0,
                                       err_msg=f"env {i} term {name}")
        metrics = ObjectMetrics(ref.object, rt.contract.termination_thresholds["object_distance"])
        np.testing.assert_allclose(metrics.points, cmd.object_points.double().numpy(), atol=1e-6, rtol=0)
        d = metrics.distance(step, state.object_pos_w, state.object_quat_w)
        assert d == pytest.approx(float(isaac_d[i]), abs=2e-4), f"env {i} D"
        assert d > 0.05  # the object really is away from its reference: the comparison means something


def test_contract_is_not_proprioceptive_and_a_proprioceptive_label_is_refused(env):
    """The residual actor's ref_object_pos (the clip's object in the robot's anchor frame) needs the robot's
    world position: the task declares proprioceptive = False, and export refuses the label."""
    from mimiclab.rl.export import ExportError, contract_from_env

    assert not env.cfg.proprioceptive
    c = contract_from_env(env, TASK)
    assert not c.proprioceptive and c.observation_dim == POLICY_DIM
    assert [t.name for t in c.observations if t.needs_state_estimation] == ["ref_object_pos"]
    assert dict((t.name, t.signals) for t in c.observations)["object_pos"] == ("object",)
    with pytest.raises(ExportError, match="labelled proprioceptive but its observation 'ref_object_pos' needs "
                                          "base_position"):
        contract_from_env(env, TASK, proprioceptive=True)
