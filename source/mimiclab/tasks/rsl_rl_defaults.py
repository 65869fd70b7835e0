"""rsl_rl settings shared by every mimiclab task (the reference PPO of the common G1 trackers)."""

from __future__ import annotations

import torch
from isaaclab_rl.rsl_rl import RslRlPpoAlgorithmCfg

# Learner on the GPU when there is one; override with agent.device=... (Hydra).
DEFAULT_LEARNER_DEVICE = "cuda:0" if torch.cuda.is_available() else "cpu"


def reference_ppo() -> RslRlPpoAlgorithmCfg:
    """PPO: clip 0.2, entropy 0.005, 5 epochs × 4 minibatches, lr 1e-3 adaptive (KL 0.01)."""
    return RslRlPpoAlgorithmCfg(
        value_loss_coef=1.0,
        use_clipped_value_loss=True,
        clip_param=0.2,
        entropy_coef=0.005,
        num_learning_epochs=5,
        num_mini_batches=4,
        learning_rate=1.0e-3,
        schedule="adaptive",
        gamma=0.99,
        lam=0.95,
        desired_kl=0.01,
        max_grad_norm=1.0,
    )
