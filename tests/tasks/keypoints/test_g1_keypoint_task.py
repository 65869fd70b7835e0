"""Mimic-TrackKeypoints-G1 (GenMimic's keypoint-conditioned tracking): the registry's config, the
left-right mirror maps against the physics (a clip and its mirror image run side by side), and a
2-iteration `isaaclab train` with symmetry augmentation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
import torch

TASK = "Mimic-TrackKeypoints-G1"
K, J, B = 4, 29, 14
POLICY_DIM = K * B * 3 + K * 6 + 3 + 3 + J + J + J  # 285
CRITIC_DIM = K * J + J + K * 3 + K * 6 + B * 3 + B * 6 + 3 + 3 + 3 + J + J + J + K * B * 3  # 571


def test_registry_config_is_keypoint_conditioned_with_symmetric_ppo():
    """As Isaac Lab's registry builds it (no overrides): the actor sees no joint targets, the
    actions are offsets from the default pose, the position reward is keypoint-weighted, and PPO
    trains on mirrored mini-batches."""
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry, parse_env_cfg

    import mimiclab.tasks  # noqa: F401
    from mimiclab.deploy.tracking_mdp import KEYPOINT_ACTOR_TERMS, KEYPOINT_GOAL_NOISE, KEYPOINT_WEIGHTS
    from mimiclab.tasks.symmetry import mirror_augmentation

    for task in (TASK, f"{TASK}-Play"):
        assert task in gym.registry
    cfg = parse_env_cfg(TASK, device="cpu", num_envs=2)
    policy = cfg.observations.policy
    terms = tuple(n for n in KEYPOINT_ACTOR_TERMS if getattr(policy, n, None) is not None)
    assert terms == KEYPOINT_ACTOR_TERMS
    assert getattr(policy, "ref_joint_pos", None) is None and policy.enable_corruption
    assert policy.ref_keypoints.noise.n_max == KEYPOINT_GOAL_NOISE == -policy.ref_keypoints.noise.n_min
    assert cfg.actions.joint_pos.offset_from == "default"
    assert cfg.rewards.body_pos is None
    assert cfg.rewards.keypoint_pos.params["weights"] == KEYPOINT_WEIGHTS
    play = parse_env_cfg(f"{TASK}-Play", device="cpu", num_envs=2)
    assert not play.observations.policy.enable_corruption and play.commands.motion.sampling == "evaluation"
    agent = load_cfg_from_registry(TASK, "rsl_rl_cfg_entry_point")
    sym = agent.algorithm.symmetry_cfg
    assert sym.use_data_augmentation and sym.data_augmentation_func is mirror_augmentation
    assert agent.experiment_name == "g1_tracking_keypoints"


def test_group_mirror_refuses_unknown_terms_and_wrong_sizes():
    from mimiclab.robots.g1 import G1
    from mimiclab.tasks.symmetry import GroupMirror

    names = [j.name for j in G1.joints]
    with pytest.raises(KeyError, match="'height_scan'"):
        GroupMirror([("height_scan", 4)], names, names)
    with pytest.raises(ValueError, match="not a multiple"):
        GroupMirror([("projected_gravity", 4)], names, names)
    with pytest.raises(ValueError, match="no bodies"):
        GroupMirror([("ref_keypoints", 6)], names, names)
    m = GroupMirror([("projected_gravity", 3), ("base_ang_vel", 3)], names, names)
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    assert m(x).tolist() == [[1.0, -2.0, 3.0, -4.0, 5.0, -6.0]]
    with pytest.raises(ValueError, match="expected 6 numbers"):
        m(torch.zeros(2, 5))


@pytest.fixture(scope="module")
def mirrored_pair(two_clips, tmp_path_factory) -> list[Path]:
    """The walk clip and its mirror image (clip 0 and clip 1)."""
    from mimiclab.motion.format import load_motion, save_motion
    from mimiclab.motion.mirror import mirror_motion

    root = tmp_path_factory.mktemp("mirrored")
    walk = load_motion(two_clips[0])
    return [save_motion(root / "a_walk.npz", walk), save_motion(root / "b_walk_mirrored.npz", mirror_motion(walk))]


@pytest.fixture(scope="module")
def env(mirrored_pair, make_tracking_cfg):
    cfg = make_tracking_cfg(mirrored_pair, 2, f"{TASK}-Play")
    env = gym.make(f"{TASK}-Play", cfg=cfg)
    obs, _ = env.reset(seed=0)
    yield env.unwrapped, obs
    env.close()


def _term_errors(env, obs, mirrors) -> dict[str, tuple[float, float, float]]:
    """{group/term: (|env1 − mirror(env0)|max, |env1 − env0|max, |env1|max)}."""
    om, out = env.observation_manager, {}
    for group in ("policy", "critic"):
        x = obs[group]
        err, asym = (x[1] - mirrors[group](x[:1])[0]).abs(), (x[1] - x[0]).abs()
        start = 0
        for name, dim in zip(om.active_terms[group], om.group_obs_term_dim[group]):
            s = slice(start, start + dim[0])
            out[f"{group}/{name}"] = (float(err[s].max()), float(asym[s].max()), float(x[1, s].abs().max()))
            start += dim[0]
    return out


def test_observation_layout_is_deployable_keypoints(env):
    from mimiclab.deploy.tracking_mdp import KEYPOINT_ACTOR_TERMS

    env, obs = env
    assert tuple(env.observation_manager.active_terms["policy"]) == KEYPOINT_ACTOR_TERMS
    assert obs["policy"].shape == (2, POLICY_DIM) and obs["critic"].shape == (2, CRITIC_DIM)
    assert "keypoint_pos" in env.reward_manager.active_terms and "body_pos" not in env.reward_manager.active_terms


def test_mirrored_clip_gives_the_mirrored_observations_under_mirrored_actions(env):
    """Env 1 walks the mirror image of env 0's clip with the mirror of env 0's actions: every
    observation term of env 1 is the mirror of env 0's (a wrong twin or sign in any map shows as an
    error of the size of the signal), at reset to the MJCF's own asymmetry (1e-5 m) and after 10
    steps to 1 % of the signal (contact dynamics amplify that asymmetry)."""
    from mimiclab.tasks.symmetry import env_mirrors

    env, obs = env
    mirrors = env_mirrors(env)
    assert env.command_manager.get_term("motion").clip_ids.tolist() == [0, 1]
    at_reset = _term_errors(env, obs, mirrors)
    assert all(e < 5e-5 for e, _, _ in at_reset.values()), at_reset
    gen = torch.Generator().manual_seed(0)
    for _ in range(10):
        a0 = 0.3 * torch.randn(1, J, generator=gen)
        obs, reward, terminated, truncated, _ = env.step(torch.cat([a0, mirrors["__actions__"](a0)]))
        assert not (terminated | truncated).any()
    after = _term_errors(env, obs, mirrors)
    assert all(e <= 0.01 * max(1.0, mag) for e, _, mag in after.values()), after
    assert torch.allclose(reward[0], reward[1], rtol=1e-3)
    # the check can fail: the two envs are far from equal, only mirror images
    assert after["policy/ref_keypoints"][1] > 0.1 and after["policy/joint_pos"][1] > 0.1


def test_augmentation_doubles_the_batch_with_its_mirror(env):
    from tensordict import TensorDict

    from mimiclab.tasks.symmetry import env_mirrors, mirror_augmentation

    env, obs = env
    td = TensorDict({k: obs[k] for k in ("policy", "critic")}, batch_size=[2])
    actions = torch.randn(2, J)
    obs_aug, act_aug = mirror_augmentation(env, td, actions)
    assert obs_aug.batch_size[0] == 4 and act_aug.shape == (4, J)
    mirrors = env_mirrors(env)
    torch.testing.assert_close(obs_aug["policy"][2:], mirrors["policy"](obs["policy"]))
    torch.testing.assert_close(act_aug[:2], actions)
    back, _ = mirror_augmentation(env, obs_aug[2:], None)
    torch.testing.assert_close(back[2:]["critic"], obs["critic"])  # mirroring twice is the identity


def test_sim2sim_keypoint_observations_equal_the_isaac_actor_terms(env, mujoco_twin):
    """The deployment side of the keypoint policy: the contract export writes for this env carries
    the keypoint weights and the 285-number actor, and the runtime's numpy terms (``ref_keypoints``
    included) fed the same robot state and reference equal the Isaac Lab terms, past the clip end too."""
    from mimiclab.deploy.tracking_mdp import KEYPOINT_ACTOR_TERMS, KEYPOINT_WEIGHTS
    from mimiclab.rl.export import contract_from_env

    env, _ = env
    contract = contract_from_env(env, TASK)
    assert contract.keypoint_weights == KEYPOINT_WEIGHTS and contract.proprioceptive
    assert contract.observation_dim == POLICY_DIM and contract.action_offset_from == "default"
    g = torch.Generator().manual_seed(3)
    mujoco_twin.scramble_robot(env, g)
    env.scene.update(dt=0.0)
    steps = [30, 10_000]
    clip_ids = mujoco_twin.set_reference_steps(env, steps, g)
    isaac = mujoco_twin.policy_terms(env)
    assert tuple(isaac) == KEYPOINT_ACTOR_TERMS
    assert isaac["ref_keypoints"].abs().max() > 0.3  # bodies up to a metre from the anchor: a real signal
    mujoco_twin.assert_sim2sim_terms_equal(env, isaac, steps, clip_ids)


def test_isaaclab_train_trains_the_keypoint_task_with_symmetry(tmp_path, two_clips):
    exe = Path(sys.executable).with_name("isaaclab")
    env = {k: v for k, v in os.environ.items() if k != "MIMICLAB_PHYSICS"}
    env["MIMICLAB_MOTION"] = os.pathsep.join(str(p) for p in two_clips)
    res = subprocess.run([str(exe), "train", "--rl_library", "rsl_rl", "--task", TASK, "--device", "cpu",
                          "--num_envs", "8", "--max_iterations", "2"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    checkpoints = sorted(p.name for p in tmp_path.glob("logs/rsl_rl/g1_tracking_keypoints/*/model_*.pt"))
    assert checkpoints == ["model_0.pt", "model_1.pt"], checkpoints
    assert "Episode_Reward/keypoint_pos" in res.stdout
    assert "symmetry" in res.stdout.lower()
