"""rsl_rl PPO for Mimic-TrackKeypoints-G1: the tracking PPO with left-right symmetry augmentation
(every mini-batch also trains on its mirror image, ``mimiclab.tasks.symmetry``)."""

from __future__ import annotations

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlSymmetryCfg

from mimiclab.tasks.rsl_rl_defaults import reference_ppo
from mimiclab.tasks.symmetry import mirror_augmentation
from mimiclab.tasks.tracking.config.g1.agents.rsl_rl_ppo_cfg import G1TrackingPPORunnerCfg


def symmetric_ppo():
    """The reference PPO plus mirrored mini-batches (data augmentation; the mirror loss is logged, weight 0)."""
    alg = reference_ppo()
    alg.symmetry_cfg = RslRlSymmetryCfg(use_data_augmentation=True, use_mirror_loss=False,
                                        data_augmentation_func=mirror_augmentation)
    return alg


@configclass
class G1KeypointTrackingPPORunnerCfg(G1TrackingPPORunnerCfg):
    experiment_name = "g1_tracking_keypoints"
    algorithm = symmetric_ppo()


@configclass
class G1KeypointTeacherPPORunnerCfg(G1KeypointTrackingPPORunnerCfg):
    """The privileged teacher (Mimic-TrackKeypoints-G1-Teacher): the same symmetric PPO, its runs apart."""

    experiment_name = "g1_tracking_keypoints_teacher"
