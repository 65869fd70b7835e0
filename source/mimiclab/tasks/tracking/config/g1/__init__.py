"""Mimic-Track-G1 (+ -Play), the proprioceptive default, and Mimic-Track-G1-StateEstimation (+ -Play),
the actor with the reference anchor in the robot's frame (needs a state estimator): registration with
gymnasium (string entry points)."""

import gymnasium as gym

from . import agents

for _id, _cfg, _agent in (
    ("Mimic-Track-G1", "G1TrackingEnvCfg", "G1TrackingPPORunnerCfg"),
    ("Mimic-Track-G1-Play", "G1TrackingPlayEnvCfg", "G1TrackingPPORunnerCfg"),
    ("Mimic-Track-G1-StateEstimation", "G1TrackingStateEstimationEnvCfg", "G1TrackingStateEstimationPPORunnerCfg"),
    ("Mimic-Track-G1-StateEstimation-Play", "G1TrackingStateEstimationPlayEnvCfg",
     "G1TrackingStateEstimationPPORunnerCfg"),
):
    gym.register(
        id=_id,
        entry_point="isaaclab.envs:ManagerBasedRLEnv",
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.env_cfg:{_cfg}",
            "rsl_rl_cfg_entry_point": f"{agents.__name__}.rsl_rl_ppo_cfg:{_agent}",
            "default_agent": "rsl_rl",
        },
    )
