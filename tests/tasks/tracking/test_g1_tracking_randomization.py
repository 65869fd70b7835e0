"""Domain randomisation and the contact sensor of Mimic-Track-G1 on Newton MJWarp (CPU).

Each startup term is read back from the asset *and* from the MuJoCo-Warp model the solver steps
(model changes reach the solver at the next physics step), so a term that only changed a Python
buffer would fail here.
"""

from __future__ import annotations

import math
import re

import gymnasium as gym
import pytest
import torch
import warp as wp

TASK = "Mimic-Track-G1"
NUM_ENVS = 4
J = 29
MASS_ADD = (-1.0, 3.0)  # kg on torso_link, a test-only term (the reference MDP randomises the CoM)


@pytest.fixture(scope="module")
def env(two_clips, make_tracking_cfg):
    from isaaclab.managers import EventTermCfg, SceneEntityCfg

    from mimiclab.tasks.tracking import mdp

    cfg = make_tracking_cfg(two_clips, NUM_ENVS, TASK)
    cfg.events.base_mass = EventTermCfg(func=mdp.randomize_rigid_body_mass, mode="startup",
                                        params={"asset_cfg": SceneEntityCfg("robot", body_names="torso_link"),
                                                "mass_distribution_params": MASS_ADD, "operation": "add"})
    env = gym.make(TASK, cfg=cfg)
    env.reset(seed=0)
    env.unwrapped.step(torch.zeros(NUM_ENVS, J))  # model changes reach the solver on a physics step
    yield env.unwrapped
    env.close()


def _solver(env):
    return env.sim.physics_manager._solver


def _event(env, name):
    return env.event_manager.get_term_cfg(name).func


def test_play_config_switches_all_randomisation_off():
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    import mimiclab.tasks  # noqa: F401

    train = parse_env_cfg(TASK, device="cpu", num_envs=2)
    play = parse_env_cfg("Mimic-Track-G1-Play", device="cpu", num_envs=2)
    names = ("physics_material", "add_joint_default_pos", "base_com", "push_robot")
    assert all(getattr(train.events, n) is not None for n in names)
    assert all(getattr(play.events, n) is None for n in names)


def test_friction_is_sampled_per_shape_and_reaches_the_solver(env):
    robot = env.scene["robot"]
    model = env.sim.physics_manager.get_model()
    mu = wp.to_torch(robot._root_view.get_attribute("shape_material_mu", model)[:, 0])  # (N, shapes)
    rest = wp.to_torch(robot._root_view.get_attribute("shape_material_restitution", model)[:, 0])
    assert mu.shape[0] == NUM_ENVS and mu.shape[1] > 20
    assert ((mu >= 0.3) & (mu <= 1.6)).all() and mu.std() > 0.2
    assert ((rest >= 0.0) & (rest <= 0.5)).all() and rest.std() > 0.05
    assert not torch.allclose(mu[0], mu[1])  # per env, not one draw for all
    # the MuJoCo-Warp model the solver steps: every robot geom (body != world) carries a sample
    mjm = _solver(env).mjw_model
    geom_mu = torch.as_tensor(mjm.geom_friction.numpy()[..., 0])  # (N, geoms)
    robot_geoms = torch.as_tensor(mjm.geom_bodyid.numpy()) != 0
    sampled = geom_mu[:, robot_geoms]
    assert sampled.shape[1] > 20 and ((sampled >= 0.3) & (sampled <= 1.6)).all()
    # colliding shapes become geoms (visual-only shapes do not): each geom holds its shape's sample
    assert ((sampled[:, :, None] - mu[:, None, :]).abs() < 1e-6).any(dim=2).all()


def test_torso_com_offset_within_range_and_in_the_solver(env):
    robot = env.scene["robot"]
    torso = robot.body_names.index("torso_link")
    nominal = _event(env, "base_com").default_com[:, torso, :3]
    com = robot.data.body_com_pos_b.torch[:, torso]
    offset = com - nominal
    for axis, half in enumerate((0.025, 0.05, 0.05)):
        assert (offset[:, axis].abs() <= half + 1e-6).all(), offset
    assert offset.abs().max() > 1e-3  # it moved
    others = [i for i in range(robot.num_bodies) if i != torso]
    torch.testing.assert_close(robot.data.body_com_pos_b.torch[:, others],
                               _event(env, "base_com").default_com[:, others, :3])
    mjm = _solver(env).mjw_model
    ipos = torch.as_tensor(mjm.body_ipos.numpy())  # (N, 1 + bodies, 3): world body first
    match = (ipos[:, :, None] - com[:, None, None]).norm(dim=-1).squeeze(-1) < 1e-5
    assert match.any(dim=1).all(), "the solver's body_ipos does not carry the sampled CoM"


def test_torso_mass_within_range_and_in_the_solver(env):
    robot = env.scene["robot"]
    torso = robot.body_names.index("torso_link")
    nominal = _event(env, "base_mass").default_mass[:, torso]
    mass = robot.data.body_mass.torch[:, torso]
    delta = mass - nominal
    assert ((delta >= MASS_ADD[0] - 1e-5) & (delta <= MASS_ADD[1] + 1e-5)).all() and delta.abs().max() > 0.05
    solver_mass = torch.as_tensor(_solver(env).mjw_model.body_mass.numpy())  # (N, 1 + bodies)
    assert ((solver_mass - mass[:, None]).abs() < 1e-4).any(dim=1).all()
    assert not ((solver_mass - nominal[:, None]).abs() < 1e-4).any(dim=1).all()


def test_default_joint_offsets_shift_observations_and_action_offset(env):
    robot = env.scene["robot"]
    nominal = _event(env, "add_joint_default_pos").nominal
    default = robot.data.default_joint_pos.torch
    offset = default - nominal
    assert (offset.abs() <= 0.01 + 1e-6).all() and offset.abs().max() > 1e-3
    assert not torch.allclose(offset[0], offset[1])
    # the encoder zero: joint_pos_rel reads q − default
    from mimiclab.tasks.tracking import mdp

    torch.testing.assert_close(mdp.joint_pos_rel(env), robot.data.joint_pos.torch - default)
    # the action offset follows, in the action's joint order: a zero action targets the next reference
    # frame shifted by the same calibration error (offset_from="reference", the shipped default)
    term = env.action_manager.get_term("joint_pos")
    torch.testing.assert_close(term._offset, default[:, term._joint_ids])
    assert term.cfg.offset_from == "reference"
    cmd = env.command_manager.get_term("motion")
    term.process_actions(torch.zeros(NUM_ENVS, J))
    shift = (default - nominal)[:, term._joint_ids]
    torch.testing.assert_close(term.processed_actions, cmd.next_joint_pos[:, term._joint_ids] + shift)


def test_randomised_env_steps_finitely(env):
    env.reset()
    for _ in range(5):
        obs, reward, *_ = env.step(torch.zeros(NUM_ENVS, J))
        assert torch.isfinite(obs["policy"]).all() and torch.isfinite(obs["critic"]).all()
        assert torch.isfinite(reward).all()


def test_undesired_contact_bodies_are_all_but_ankles_and_wrists(env):
    from mimiclab.tasks.tracking.tracking_env_cfg import END_EFFECTORS, UNDESIRED_CONTACT_BODIES

    names = env.scene["contact_forces"].sensor_names
    assert names == env.scene["robot"].body_names
    picked = [n for n in names if re.fullmatch(UNDESIRED_CONTACT_BODIES, n)]
    assert sorted(picked) == sorted(set(names) - set(END_EFFECTORS))
    cfg = env.reward_manager.get_term_cfg("undesired_contacts")
    assert cfg.weight == -0.1 and cfg.params["threshold"] == 1.0
    assert sorted(names[i] for i in cfg.params["sensor_cfg"].body_ids) == sorted(picked)


def _undesired(env) -> torch.Tensor:
    cfg = env.reward_manager.get_term_cfg("undesired_contacts")
    return cfg.func(env, **cfg.params)


def test_standing_robot_touches_the_ground_with_its_feet_only(env):
    """Two control steps after a reset at zero action, both feet carry the weight and nothing else
    touches. (It failed in 2 of 4 envs with the synthetic walk as retargeted before the stance-foot
    rules of ``retarget/foot_targets`` — flat pitch, stance pitch, stance heading, rolling pins —
    and has held since.)"""
    env.reset()
    for _ in range(2):
        env.step(torch.zeros(NUM_ENVS, J))
    sensor = env.scene["contact_forces"]
    force = sensor.data.net_forces_w.torch.norm(dim=-1)  # (N, bodies) [N]
    feet = [sensor.sensor_names.index(n) for n in ("left_ankle_roll_link", "right_ankle_roll_link")]
    assert (force[:, feet].sum(-1) > 50.0).all(), force  # the feet carry the weight (≈ 35 kg)
    assert (_undesired(env) == 0).all()


def test_robot_lying_on_the_ground_counts_undesired_contacts(env, physics_step):
    from isaaclab.utils.math import quat_from_euler_xyz

    env.reset()
    robot = env.scene["robot"]
    ids = torch.arange(NUM_ENVS)
    pose = robot.data.root_link_pose_w.torch.clone()
    pose[:, 2] = 0.15  # pelvis 15 cm above the ground, body horizontal (pitched 90°, face up)
    pose[:, 3:] = quat_from_euler_xyz(torch.zeros(NUM_ENVS), torch.full((NUM_ENVS,), -math.pi / 2),
                                      torch.zeros(NUM_ENVS))
    robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=ids)
    robot.write_root_velocity_to_sim_index(root_velocity=torch.zeros(NUM_ENVS, 6), env_ids=ids)
    for _ in range(100):  # 0.5 s to settle
        physics_step(env)
    count = _undesired(env)
    # the back and arms touch down (which links, and how many, varies as the body settles)
    assert (count >= 1).all() and count.sum() >= NUM_ENVS + 2, count
    env.reset()
