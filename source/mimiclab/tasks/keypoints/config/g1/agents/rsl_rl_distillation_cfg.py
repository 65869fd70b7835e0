"""rsl_rl Distillation for Mimic-TrackKeypoints-G1: the deployable keypoint student (``policy`` group)
regresses the actions of a frozen privileged teacher (``teacher`` group, a PPO checkpoint of
Mimic-TrackKeypoints-G1-Teacher) on the student's own rollouts (DAgger-style: the student acts).

    mimiclab train --task Mimic-TrackKeypoints-G1 --teacher logs/rsl_rl/g1_tracking_keypoints_teacher/<run>/model_N.pt

The teacher model must be the teacher's PPO actor (same layers, normaliser and distribution) so that
its ``actor_state_dict`` loads; the student has the same layers as the PPO actor, so a student
checkpoint evaluates and exports like a PPO one.
"""

from __future__ import annotations

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlDistillationAlgorithmCfg, RslRlDistillationRunnerCfg, RslRlMLPModelCfg

from mimiclab.tasks.keypoints.config.g1.agents.rsl_rl_ppo_cfg import G1KeypointTeacherPPORunnerCfg
from mimiclab.tasks.rsl_rl_defaults import DEFAULT_LEARNER_DEVICE

_TEACHER = G1KeypointTeacherPPORunnerCfg()


@configclass
class G1KeypointDistillationRunnerCfg(RslRlDistillationRunnerCfg):
    device = DEFAULT_LEARNER_DEVICE
    num_steps_per_env = 24
    max_iterations = 5000
    save_interval = 500
    experiment_name = "g1_tracking_keypoints_student"
    obs_groups = {"student": ["policy"], "teacher": ["teacher"]}
    student = RslRlMLPModelCfg(
        hidden_dims=list(_TEACHER.actor.hidden_dims),
        activation=_TEACHER.actor.activation,
        obs_normalization=True,
        # the student's rollouts explore a little around its mean; the loss trains the mean
        distribution_cfg=RslRlMLPModelCfg.GaussianDistributionCfg(init_std=0.1),
    )
    teacher = _TEACHER.actor.copy()
    algorithm = RslRlDistillationAlgorithmCfg(
        num_learning_epochs=2,
        learning_rate=1.0e-3,
        gradient_length=24,  # divides num_learning_epochs · num_steps_per_env
        max_grad_norm=1.0,
        loss_type="mse",
    )
