"""Mimic-TrackKeypoints-G1 (+ -Play): keypoint-conditioned tracking (GenMimic), registration with
gymnasium (string entry points)."""

import gymnasium as gym

from . import agents

for _id, _cfg in (("Mimic-TrackKeypoints-G1", "G1KeypointTrackingEnvCfg"),
                  ("Mimic-TrackKeypoints-G1-Play", "G1KeypointTrackingPlayEnvCfg")):
    gym.register(
        id=_id,
        entry_point="isaaclab.envs:ManagerBasedRLEnv",
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.env_cfg:{_cfg}",
            "rsl_rl_cfg_entry_point": f"{agents.__name__}.rsl_rl_ppo_cfg:G1KeypointTrackingPPORunnerCfg",
            "default_agent": "rsl_rl",
        },
    )
