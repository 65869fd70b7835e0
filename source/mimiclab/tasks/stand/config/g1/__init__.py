"""Mimic-Stand-G1: registration with gymnasium (string entry points, loaded lazily)."""

import gymnasium as gym

from . import agents

gym.register(
    id="Mimic-Stand-G1",
    entry_point="isaaclab.envs:ManagerBasedRLEnv",
    disable_env_checker=True,
    kwargs={
        "env_cfg_entry_point": f"{__name__}.env_cfg:G1StandEnvCfg",
        "rsl_rl_cfg_entry_point": f"{agents.__name__}.rsl_rl_ppo_cfg:G1StandPPORunnerCfg",
        "default_agent": "rsl_rl",
    },
)
