"""Mimic-Track-G1-StateEstimation built by Isaac Lab on the CPU (one simulation for the whole module): the
actor that observes the reference anchor in the robot's frame (needs the robot's world position), kept
available by name beside the proprioceptive default."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

TASK = "Mimic-Track-G1-StateEstimation"
NUM_ENVS = 4
K, J, B = 4, 29, 14
POLICY_DIM = K * J + K * 3 + K * 6 + 3 + 3 + J + J + J  # 245
CRITIC_DIM = K * J + J + K * 3 + K * 6 + B * 3 + B * 6 + 3 + 3 + 3 + J + J + J  # 403 (the default task's critic)


@pytest.fixture(scope="module")
def env(two_clips, make_tracking_cfg):
    cfg = make_tracking_cfg(two_clips, NUM_ENVS, TASK)
    env = gym.make(TASK, cfg=cfg)
    env.reset(seed=0)
    yield env.unwrapped
    env.close()


def test_registered_with_play_variant_and_its_own_agent_config():
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry, parse_env_cfg

    import mimiclab.tasks  # noqa: F401

    cfg = parse_env_cfg(f"{TASK}-Play", device="cpu", num_envs=2)
    assert cfg.commands.motion.sampling == "evaluation" and not cfg.observations.policy.enable_corruption
    assert not cfg.proprioceptive and cfg.observations.policy.ref_anchor_pos is not None
    assert parse_env_cfg("Mimic-Track-G1", device="cpu", num_envs=2).proprioceptive
    agent = load_cfg_from_registry(TASK, "rsl_rl_cfg_entry_point")
    assert agent.experiment_name == "g1_tracking_state_estimation"  # its runs log apart from the default's


def test_observation_layout(env):
    from mimiclab.deploy.tracking_mdp import STATE_ESTIMATION_ACTOR_TERMS

    om = env.observation_manager
    obs = om.compute()
    assert obs["policy"].shape == (NUM_ENVS, POLICY_DIM) and obs["critic"].shape == (NUM_ENVS, CRITIC_DIM)
    assert torch.isfinite(obs["policy"]).all()
    assert tuple(om.active_terms["policy"]) == STATE_ESTIMATION_ACTOR_TERMS
    obs, *_ = env.step(torch.zeros(NUM_ENVS, J))
    assert torch.isfinite(obs["policy"]).all()


def test_sim2sim_observations_equal_the_isaac_actor_terms(env, mujoco_twin):
    """The parity of the default module, on this task's own actor group (its observation manager's terms)."""
    env.reset()
    g = torch.Generator().manual_seed(17)
    mujoco_twin.scramble_robot(env, g)
    env.scene.update(dt=0.0)
    steps = [20, 0, 10_000, 35]
    clip_ids = mujoco_twin.set_reference_steps(env, steps, g)
    mujoco_twin.assert_sim2sim_terms_equal(env, mujoco_twin.policy_terms(env), steps, clip_ids)


def test_contract_is_not_proprioceptive_and_a_proprioceptive_label_is_refused(env, tmp_path):
    from mimiclab.deploy.contract import load_contract, save_contract
    from mimiclab.rl.export import ExportError, contract_from_env

    c = contract_from_env(env, TASK)
    assert not c.proprioceptive and c.observation_dim == POLICY_DIM
    anchor = next(t for t in c.observations if t.name == "ref_anchor_pos")
    assert "base_position" in anchor.signals and anchor.needs_state_estimation == ("base_position",)
    assert load_contract(save_contract(c, tmp_path / "contract.json")) == c
    with pytest.raises(ExportError) as e:
        contract_from_env(env, TASK, proprioceptive=True)
    msg = str(e.value)
    assert "\n" not in msg and "labelled proprioceptive" in msg and "'ref_anchor_pos' needs base_position" in msg
    env.cfg.proprioceptive = True  # the label as a task would declare it
    try:
        with pytest.raises(ExportError, match="'ref_anchor_pos' needs base_position"):
            contract_from_env(env, TASK)
    finally:
        env.cfg.proprioceptive = False


def test_an_actor_term_missing_from_the_signal_table_is_an_export_error(env, monkeypatch):
    from mimiclab.deploy import tracking_mdp
    from mimiclab.rl.export import ExportError, contract_from_env

    monkeypatch.delitem(tracking_mdp.ACTOR_TERM_SIGNALS, "joint_vel")
    with pytest.raises(ExportError, match="actor observation term 'joint_vel' is not in "
                                          "mimiclab.deploy.tracking_mdp.ACTOR_TERM_SIGNALS"):
        contract_from_env(env, TASK)


def test_checkpoints_of_this_task_are_evaluated_in_its_play_variant(tmp_path):
    """The run's contract names the training task: eval and export pick its Play variant."""
    import json

    from mimiclab.rl.export import task_for_checkpoint

    run = tmp_path / "run"
    run.mkdir()
    state = {"actor_state_dict": {}}
    assert task_for_checkpoint(state, checkpoint_path=run / "model_1.pt") == "Mimic-Track-G1-Play"
    (run / "contract.json").write_text(json.dumps({"task": TASK}))
    assert task_for_checkpoint(state, checkpoint_path=run / "model_1.pt") == f"{TASK}-Play"
    (run / "contract.json").write_text(json.dumps({"task": "Mimic-Track-G1"}))
    assert task_for_checkpoint(state, checkpoint_path=run / "model_1.pt") == "Mimic-Track-G1-Play"
