"""rsl_rl PPO for Mimic-Residual-Box-G1: the tracking PPO with the residual actor (ResMimic).

The actor is ``mimiclab.rl.residual.ResidualMLPModel``: a frozen GMT base (``agent.actor.base_path``,
set by ``mimiclab train --base PATH``) plus a residual head started near zero (last-layer gain 0.01,
std 0.1). The baselines of the ResMimic comparison run through the same config:
``agent.actor.mode=residual`` (default) | ``finetune`` (the base trained further, no residual) |
``scratch`` (a plain actor, no base).
"""

from __future__ import annotations

from isaaclab.utils import configclass

from mimiclab.tasks.residual.config.g1.agents.residual_actor_cfg import ResidualMLPModelCfg
from mimiclab.tasks.tracking.config.g1.agents.rsl_rl_ppo_cfg import G1TrackingPPORunnerCfg


@configclass
class G1ResidualBoxPPORunnerCfg(G1TrackingPPORunnerCfg):
    experiment_name = "g1_residual_box"
    actor = ResidualMLPModelCfg()
