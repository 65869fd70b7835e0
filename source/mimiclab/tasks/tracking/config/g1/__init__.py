"""Mimic-Track-G1 and Mimic-Track-G1-Play: registration with gymnasium (string entry points)."""

import gymnasium as gym

from . import agents

for _id, _cfg in (("Mimic-Track-G1", "G1TrackingEnvCfg"), ("Mimic-Track-G1-Play", "G1TrackingPlayEnvCfg")):
    gym.register(
        id=_id,
        entry_point="isaaclab.envs:ManagerBasedRLEnv",
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.env_cfg:{_cfg}",
            "rsl_rl_cfg_entry_point": f"{agents.__name__}.rsl_rl_ppo_cfg:G1TrackingPPORunnerCfg",
            "default_agent": "rsl_rl",
        },
    )
