"""Runner-config side of the residual actor (Hydra-overridable fields: ``agent.actor.<field>=...``)."""

from __future__ import annotations

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlMLPModelCfg

from mimiclab.tasks.physics import DECIMATION, PHYSICS_DT


@configclass
class ResidualMLPModelCfg(RslRlMLPModelCfg):
    """``agent.actor`` of Mimic-Residual-Box-G1: the model is :class:`mimiclab.rl.residual.ResidualMLPModel`."""

    class_name: str = "mimiclab.rl.residual:ResidualMLPModel"
    hidden_dims: list[int] = [512, 256, 128]
    activation: str = "elu"
    obs_normalization: bool = True
    distribution_cfg: RslRlMLPModelCfg.DistributionCfg = RslRlMLPModelCfg.GaussianDistributionCfg(init_std=0.1)
    """Residual and fine-tuning runs start at std 0.1 (ResMimic); ``scratch`` uses ``scratch_init_std``."""

    mode: str = "residual"
    """``residual`` (frozen base + residual head) | ``finetune`` (base trainable) | ``scratch`` (no base)."""

    base_path: str = ""
    """rsl_rl checkpoint (``contract.json`` in its run folder) or exported folder / ``policy.onnx``."""

    residual_gain: float = 0.01
    """Scale of the residual head's last layer at initialisation."""

    scratch_init_std: float = 1.0
    """Initial action std of the ``scratch`` baseline."""

    control_dt: float = PHYSICS_DT * DECIMATION
    """The task's policy period [s]; the base contract must match it."""

    policy_terms: list | None = None
    """[[name, dim], ...] of the task's policy group; None: the fixed Mimic-Residual-Box-G1 layout."""

    base_activation: str | None = None
    """Activation of a checkpoint base; None: read from its run's params/agent.yaml (elu if absent)."""
