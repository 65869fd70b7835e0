"""Mimic-Track-G1 built by Isaac Lab on the CPU (one simulation for the whole module)."""

from __future__ import annotations

import os

import gymnasium as gym
import pytest
import torch

from mimiclab.robots.g1 import G1

TASK = "Mimic-Track-G1"
NUM_ENVS = 4
K, J, B = 4, 29, 14
POLICY_DIM = K * J + K * 3 + 3 + K * 6 + 3 + 3 + J + J + J  # 248 (proprioceptive; state estimation: 245)
CRITIC_DIM = K * J + J + K * 3 + K * 6 + B * 3 + B * 6 + 3 + 3 + 3 + J + J + J  # 403
TRACKING_TERMS = ("anchor_pos", "anchor_ori", "body_pos", "body_ori", "body_lin_vel", "body_ang_vel")


@pytest.fixture(scope="module")
def env(two_clips, make_tracking_cfg):
    cfg = make_tracking_cfg(two_clips, NUM_ENVS, TASK)
    env = gym.make(TASK, cfg=cfg)
    env.reset(seed=0)
    yield env.unwrapped
    env.close()


def _reward_terms(env) -> dict[str, torch.Tensor]:
    """Every reward term evaluated on the current state, unweighted: {name: (N,)}."""
    rm = env.reward_manager
    return {name: cfg.func(env, **cfg.params) for name, cfg in zip(rm._term_names, rm._term_cfgs)}


def test_play_variant_walks_every_clip_without_noise():
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    import mimiclab.tasks  # noqa: F401

    cfg = parse_env_cfg("Mimic-Track-G1-Play", device="cpu", num_envs=2)
    assert cfg.commands.motion.sampling == "evaluation"
    assert not cfg.observations.policy.enable_corruption and cfg.events.push_robot is None
    assert cfg.commands.motion.pose_range == {} and cfg.commands.motion.joint_position_range == (0.0, 0.0)


def test_motion_files_default_to_the_environment_variable(monkeypatch, tmp_path):
    from mimiclab.tasks.tracking.tracking_env_cfg import motion_files_from_env

    monkeypatch.setenv("MIMICLAB_MOTION", os.pathsep.join(["a.npz", str(tmp_path), "clips/*.npz", ""]))
    assert motion_files_from_env() == ["a.npz", str(tmp_path), "clips/*.npz"]


def test_reference_mdp_timing_and_observation_shapes(env):
    assert env.device == "cpu"
    assert env.physics_dt == pytest.approx(0.005) and env.cfg.decimation == 4 and env.max_episode_length_s == 10.0
    obs = env.observation_manager.compute()
    assert obs["policy"].shape == (NUM_ENVS, POLICY_DIM) and obs["critic"].shape == (NUM_ENVS, CRITIC_DIM)
    assert torch.isfinite(obs["policy"]).all() and torch.isfinite(obs["critic"]).all()
    term = env.action_manager.get_term("joint_pos")
    assert [env.scene["robot"].joint_names[i] for i in term._joint_ids] == list(G1.joint_names)


def test_robot_starts_at_the_reference_state(env):
    from isaaclab.utils.math import quat_error_magnitude

    env.reset()
    cmd = env.command_manager.get_term("motion")
    robot = env.scene["robot"]
    assert set(cmd.clip_ids.tolist()) <= {0, 1} and (cmd.times == cmd.start_times).all()
    torch.testing.assert_close(robot.data.joint_pos.torch, cmd.joint_pos, atol=1e-5, rtol=0)
    torch.testing.assert_close(robot.data.joint_vel.torch, cmd.joint_vel, atol=1e-4, rtol=0)
    torch.testing.assert_close(cmd.robot_body_pos_w, cmd.body_pos_w, atol=2e-3, rtol=0)
    # start times fall between frames: FK of lerped joints vs slerped body frames differ slightly
    # down the arm chains (≈ 0.02 rad at the wrists on these clips); the root is exact
    err = quat_error_magnitude(cmd.robot_body_quat_w, cmd.body_quat_w)
    assert err[:, cmd.body_names.index("pelvis")].max() < 1e-4 and err.max() < 0.04, err
    terms = _reward_terms(env)
    for name in ("anchor_pos", "anchor_ori", "body_pos", "body_ori"):
        assert (terms[name] > 0.999).all(), (name, terms[name])


def test_steps_advance_the_reference_and_rewards_stay_in_range(env):
    env.reset()
    cmd = env.command_manager.get_term("motion")
    start = cmd.start_times.clone()
    for k in range(1, 6):
        obs, reward, terminated, truncated, _ = env.step(torch.zeros(NUM_ENVS, J))
        assert torch.isfinite(obs["policy"]).all() and torch.isfinite(reward).all()
        ran = env.episode_length_buf == k  # envs not reset on the way
        torch.testing.assert_close(cmd.times[ran], start[ran] + k * env.step_dt)
        terms = _reward_terms(env)
        for name in TRACKING_TERMS:
            assert ((terms[name] > 0) & (terms[name] <= 1)).all(), (name, terms[name])
        assert (terms["action_rate"] >= 0).all() and (terms["joint_limits"] >= 0).all()
        max_step = sum(env.reward_manager.get_term_cfg(n).weight for n in TRACKING_TERMS) * env.step_dt
        assert (reward <= max_step + 1e-6).all()
    # holding the default pose lags the reference a little, nothing more
    assert (terms["body_pos"] > 0.3).all()


def test_a_failure_is_charged_to_the_sampler(env):
    env.reset()
    cmd = env.command_manager.get_term("motion")
    robot = env.scene["robot"]
    before = cmd.sampler.failure.sum().item()
    pose = robot.data.root_link_pose_w.torch.clone()
    pose[0, 2] -= 0.5  # env 0 half a metre below its reference
    robot.write_root_pose_to_sim_index(root_pose=pose[:1], env_ids=torch.tensor([0]))
    _, _, terminated, _, _ = env.step(torch.zeros(NUM_ENVS, J))
    assert terminated[0]
    assert cmd.sampler.failure.sum().item() > before
    assert env.episode_length_buf[0] == 0  # reset, and back on the reference
    torch.testing.assert_close(robot.data.joint_pos.torch[0], cmd.joint_pos[0], atol=1e-5, rtol=0)


def test_reference_clock_ignores_randomised_episode_lengths(env):
    """rsl_rl's init_at_random_ep_len writes random episode lengths after the reset: the command's
    own clock keeps the reference on the robot (same frame at the start, one step later after one
    step), where a clock read off episode_length_buf would jump up to 10 s ahead."""
    env.reset()
    cmd = env.command_manager.get_term("motion")
    robot = env.scene["robot"]
    t0 = cmd.start_times.clone()
    torch.testing.assert_close(cmd.times, t0)
    env.episode_length_buf[:] = torch.randint(50, int(env.max_episode_length) - 10, (NUM_ENVS,))
    torch.testing.assert_close(cmd.times, t0)  # unmoved by the random episode lengths
    torch.testing.assert_close(robot.data.joint_pos.torch, cmd.joint_pos, atol=1e-5, rtol=0)
    env.step(torch.zeros(NUM_ENVS, J))
    torch.testing.assert_close(cmd.times, t0 + env.step_dt)
    assert (cmd.metrics["error_joint_pos"] < 0.1).all()  # robot and reference still together


def test_sampler_seed_follows_the_env_seed(two_clips, make_tracking_cfg):
    """MotionCommandCfg.seed None → the env's seed (``--seed``, plus the rank in distributed runs)."""
    from mimiclab.tasks.tracking.mdp.commands import MotionCommand

    cfg = make_tracking_cfg(two_clips, NUM_ENVS, TASK)
    assert cfg.commands.motion.seed is None

    class _Env:
        class cfg:
            seed = 17

    cmd = MotionCommand.__new__(MotionCommand)
    cmd.cfg = cfg.commands.motion
    assert cmd.sampler_seed(_Env) == 17
    cmd.cfg.seed = 3
    assert cmd.sampler_seed(_Env) == 3


def test_permuted_motion_files_give_the_same_rewards(env, permuted_clips):
    """The same clips with joints and bodies shuffled in the file: same reference, same rewards."""
    from mimiclab.motion.library import MotionLibrary

    env.reset()
    for _ in range(3):
        env.step(0.3 * torch.randn(NUM_ENVS, J, generator=torch.Generator().manual_seed(1)))
    cmd = env.command_manager.get_term("motion")
    original = cmd.library
    before, obs_before = _reward_terms(env), env.observation_manager.compute()
    permuted = MotionLibrary.from_paths([str(p) for p in permuted_clips], joint_names=original.joint_names,
                                        body_names=original.body_names, device=original.device)
    try:
        cmd.library = permuted
        cmd._version += 1  # drop the cached reference
        after, obs_after = _reward_terms(env), env.observation_manager.compute()
    finally:
        cmd.library = original
        cmd._version += 1
    for name in before:
        torch.testing.assert_close(after[name], before[name], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(obs_after["critic"], obs_before["critic"], atol=1e-5, rtol=1e-5)


def test_env_steps_per_second_is_reported(env, capsys):
    import time

    env.reset()
    n = 20
    t0 = time.perf_counter()
    for _ in range(n):
        env.step(torch.zeros(NUM_ENVS, J))
    rate = n * NUM_ENVS / (time.perf_counter() - t0)
    with capsys.disabled():
        print(f"\nMimic-Track-G1 on cpu: {rate:.0f} env-steps/s ({NUM_ENVS} envs, decimation 4)")
    assert rate > 0


@pytest.mark.parametrize("actor", ["proprioceptive", "state_estimation"])
def test_sim2sim_observations_equal_the_isaac_actor_terms(env, mujoco_twin, actor):
    """Issue #6 parity (b): the same robot state and reference frame fed to the Isaac Lab actor terms and
    to sim2sim's independent numpy implementation give the same numbers, term by term — for the default
    (proprioceptive) actor of this env and for the state-estimation actor's terms
    (``StateEstimationPolicyCfg``) evaluated on the same state."""
    from mimiclab.deploy.tracking_mdp import PROPRIOCEPTIVE_ACTOR_TERMS, STATE_ESTIMATION_ACTOR_TERMS
    from mimiclab.tasks.tracking.tracking_env_cfg import ObservationsCfg

    robot = env.scene["robot"]
    assert list(robot.joint_names) == list(G1.joint_names)
    g = torch.Generator().manual_seed(11)
    mujoco_twin.scramble_robot(env, g)
    env.scene.update(dt=0.0)
    steps = [15, 25, 10_000, 0]  # the third is past the clip end: futures clamp to the last frame
    clip_ids = mujoco_twin.set_reference_steps(env, steps, g)
    if actor == "proprioceptive":
        isaac = mujoco_twin.policy_terms(env)
        assert tuple(isaac) == PROPRIOCEPTIVE_ACTOR_TERMS
    else:
        isaac = mujoco_twin.group_terms(env, ObservationsCfg.StateEstimationPolicyCfg())
        assert tuple(isaac) == STATE_ESTIMATION_ACTOR_TERMS
    mujoco_twin.assert_sim2sim_terms_equal(env, isaac, steps, clip_ids)


def test_default_actor_is_translation_invariant_and_the_state_estimation_actor_is_not(env, mujoco_twin):
    """Issue 15: the same robot state and reference, the robot shifted by 10 m in x (reference unchanged):
    the default actor's observations (through the observation manager, noise off) and the actions of a
    randomly initialised actor of the task's agent config are identical; the state-estimation actor's
    observations (and a random actor's actions over them) differ — the control that the test can fail."""
    from mimiclab.rl.export import actor_modules, make_runner
    from mimiclab.tasks.tracking.tracking_env_cfg import ObservationsCfg

    torch.manual_seed(0)
    normalizer, mlp = actor_modules(make_runner(env, TASK, "cpu"))  # wraps (and resets) the env
    se_mlp = torch.nn.Sequential(torch.nn.Linear(POLICY_DIM - 3, 64), torch.nn.ELU(), torch.nn.Linear(64, J))
    se_cfg = ObservationsCfg.StateEstimationPolicyCfg()
    g = torch.Generator().manual_seed(5)
    mujoco_twin.scramble_robot(env, g)
    env.scene.update(dt=0.0)
    mujoco_twin.set_reference_steps(env, [15, 25, 40, 5], g)
    cmd = env.command_manager.get_term("motion")
    robot = env.scene["robot"]

    def observe():
        with mujoco_twin.noise_free(env):
            obs = env.observation_manager.compute_group("policy").clone()
        se = torch.cat(list(mujoco_twin.group_terms(env, se_cfg).values()), dim=-1)
        with torch.no_grad():
            return obs, mlp(normalizer(obs)), se, se_mlp(se)

    anchor, ref_anchor = cmd.robot_anchor_pos_w.clone(), cmd.anchor_pos_w.clone()
    obs0, act0, se0, se_act0 = observe()
    pose = robot.data.root_link_pose_w.torch.clone()
    pose[:, 0] += 10.0
    robot.write_root_pose_to_sim_index(root_pose=pose)
    env.scene.update(dt=0.0)
    torch.testing.assert_close(cmd.robot_anchor_pos_w - anchor, torch.tensor([10.0, 0.0, 0.0]).expand(NUM_ENVS, 3),
                               atol=1e-4, rtol=0)  # the robot moved, the reference did not
    assert torch.equal(cmd.anchor_pos_w, ref_anchor)
    obs1, act1, se1, se_act1 = observe()
    assert obs0.shape == (NUM_ENVS, POLICY_DIM) and se0.shape == (NUM_ENVS, POLICY_DIM - 3)
    assert torch.equal(obs1, obs0)
    assert torch.equal(act1, act0)
    assert (se1 - se0).abs().max() > 5.0  # ref_anchor_pos: 10 m in the robot's frame
    assert not torch.allclose(se_act1, se_act0, atol=1e-3)


def test_default_contract_is_proprioceptive_with_signals_per_term(env):
    from mimiclab.deploy.tracking_mdp import ACTOR_TERM_SIGNALS, PROPRIOCEPTIVE_ACTOR_TERMS
    from mimiclab.rl.export import contract_from_env

    assert env.cfg.proprioceptive
    c = contract_from_env(env, TASK)
    assert c.proprioceptive and c.observation_dim == POLICY_DIM
    assert tuple(t.name for t in c.observations) == PROPRIOCEPTIVE_ACTOR_TERMS
    assert all(t.signals == ACTOR_TERM_SIGNALS[t.name] for t in c.observations)
    assert not any(s in ("base_position", "base_lin_vel") for t in c.observations for s in t.signals)
    assert c.reference_inputs == ("ref_joint_pos", "ref_anchor_pos_local", "ref_anchor_lin_vel", "ref_anchor_ori")


def test_tracking_reward_terms_are_the_positive_exp_terms(env):
    from mimiclab.deploy.tracking_mdp import TRACKING_REWARD_TERMS

    rm = env.reward_manager
    positive = tuple(n for n, c in zip(rm._term_names, rm._term_cfgs) if c.weight > 0)
    assert TRACKING_REWARD_TERMS == TRACKING_TERMS == positive


def test_action_offset_from_default_and_from_the_next_reference_frame(env):
    term = env.action_manager.get_term("joint_pos")
    cmd = env.command_manager.get_term("motion")
    robot = env.scene["robot"]
    a = torch.linspace(-1.0, 1.0, NUM_ENVS * J).reshape(NUM_ENVS, J)
    scale = torch.as_tensor(term._scale)
    saved = term.cfg.offset_from
    try:
        term.cfg.offset_from = "default"
        term.process_actions(a)
        want = robot.data.default_joint_pos.torch[:, term._joint_ids] + a * scale
        torch.testing.assert_close(term.processed_actions, want)
        term.cfg.offset_from = "reference"
        term.process_actions(a)
        nxt = cmd.library.frames(cmd.clip_ids, cmd.times + env.step_dt)["joint_pos"]
        assert (nxt - cmd.joint_pos).abs().max() > 1e-4  # the next frame differs from the current one
        nominal = env.event_manager.get_term_cfg("add_joint_default_pos").func.nominal  # encoder-offset DR
        shift = (robot.data.default_joint_pos.torch - nominal)[:, term._joint_ids]
        torch.testing.assert_close(term.processed_actions, nxt[:, term._joint_ids] + a * scale + shift)
    finally:
        term.cfg.offset_from = saved
        term.process_actions(torch.zeros(NUM_ENVS, J))
