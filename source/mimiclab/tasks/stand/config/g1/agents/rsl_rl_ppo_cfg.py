"""rsl_rl PPO for Mimic-Stand-G1 (small: the task only proves the wiring)."""

from __future__ import annotations

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlMLPModelCfg, RslRlOnPolicyRunnerCfg

from mimiclab.tasks.rsl_rl_defaults import DEFAULT_LEARNER_DEVICE, reference_ppo


@configclass
class G1StandPPORunnerCfg(RslRlOnPolicyRunnerCfg):
    device = DEFAULT_LEARNER_DEVICE
    num_steps_per_env = 24
    max_iterations = 300
    save_interval = 50
    experiment_name = "g1_stand"
    actor = RslRlMLPModelCfg(
        hidden_dims=[256, 128],
        activation="elu",
        obs_normalization=True,
        distribution_cfg=RslRlMLPModelCfg.GaussianDistributionCfg(init_std=0.5),
    )
    critic = RslRlMLPModelCfg(hidden_dims=[256, 128], activation="elu", obs_normalization=True)
    algorithm = reference_ppo()
