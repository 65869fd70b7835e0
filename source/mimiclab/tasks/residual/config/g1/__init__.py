"""Mimic-Residual-Box-G1 and Mimic-Residual-Box-G1-Play: registration with gymnasium (string entry points)."""

import gymnasium as gym

from . import agents

for _id, _cfg in (("Mimic-Residual-Box-G1", "G1ResidualBoxEnvCfg"),
                  ("Mimic-Residual-Box-G1-Play", "G1ResidualBoxPlayEnvCfg")):
    gym.register(
        id=_id,
        entry_point="mimiclab.tasks.residual.residual_env:ResidualEnv",
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.env_cfg:{_cfg}",
            "rsl_rl_cfg_entry_point": f"{agents.__name__}.rsl_rl_ppo_cfg:G1ResidualBoxPPORunnerCfg",
            "default_agent": "rsl_rl",
        },
    )
