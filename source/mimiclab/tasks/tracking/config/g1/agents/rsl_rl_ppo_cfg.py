"""rsl_rl PPO for Mimic-Track-G1 (the reference MDP's figures)."""

from __future__ import annotations

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlMLPModelCfg, RslRlOnPolicyRunnerCfg

from mimiclab.tasks.rsl_rl_defaults import DEFAULT_LEARNER_DEVICE, reference_ppo


@configclass
class G1TrackingPPORunnerCfg(RslRlOnPolicyRunnerCfg):
    device = DEFAULT_LEARNER_DEVICE
    num_steps_per_env = 24
    max_iterations = 30000
    save_interval = 500
    experiment_name = "g1_tracking"
    obs_groups = {"actor": ["policy"], "critic": ["critic"]}
    actor = RslRlMLPModelCfg(
        hidden_dims=[512, 256, 128],
        activation="elu",
        obs_normalization=True,
        distribution_cfg=RslRlMLPModelCfg.GaussianDistributionCfg(init_std=1.0),
    )
    critic = RslRlMLPModelCfg(hidden_dims=[512, 256, 128], activation="elu", obs_normalization=True)
    algorithm = reference_ppo()


@configclass
class G1TrackingStateEstimationPPORunnerCfg(G1TrackingPPORunnerCfg):
    """The same PPO for Mimic-Track-G1-StateEstimation; its runs log apart (another observation layout)."""

    experiment_name = "g1_tracking_state_estimation"
