"""Mimic-TrackKeypoints-G1 (+ -Play): keypoint-conditioned tracking (GenMimic), trained by PPO or
distilled from its privileged teacher Mimic-TrackKeypoints-G1-Teacher (+ -Play); registration with
gymnasium (string entry points)."""

import gymnasium as gym

from . import agents

_PPO = f"{agents.__name__}.rsl_rl_ppo_cfg"
_DISTILLATION = f"{agents.__name__}.rsl_rl_distillation_cfg:G1KeypointDistillationRunnerCfg"

for _id, _cfg, _agent, _distill in (
    ("Mimic-TrackKeypoints-G1", "G1KeypointTrackingEnvCfg", "G1KeypointTrackingPPORunnerCfg", True),
    ("Mimic-TrackKeypoints-G1-Play", "G1KeypointTrackingPlayEnvCfg", "G1KeypointTrackingPPORunnerCfg", True),
    ("Mimic-TrackKeypoints-G1-Teacher", "G1KeypointTeacherEnvCfg", "G1KeypointTeacherPPORunnerCfg", False),
    ("Mimic-TrackKeypoints-G1-Teacher-Play", "G1KeypointTeacherPlayEnvCfg", "G1KeypointTeacherPPORunnerCfg", False),
):
    gym.register(
        id=_id,
        entry_point="isaaclab.envs:ManagerBasedRLEnv",
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.env_cfg:{_cfg}",
            "rsl_rl_cfg_entry_point": f"{_PPO}:{_agent}",
            **({"rsl_rl_distillation_cfg_entry_point": _DISTILLATION} if _distill else {}),
            "default_agent": "rsl_rl",
        },
    )
