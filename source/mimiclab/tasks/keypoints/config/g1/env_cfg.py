"""The keypoint-tracking task with the G1 (``Mimic-TrackKeypoints-G1``, ``-Play``) and its privileged
teacher (``Mimic-TrackKeypoints-G1-Teacher``, ``-Play``)."""

from __future__ import annotations

from isaaclab.utils import configclass

from mimiclab.tasks.keypoints.keypoints_env_cfg import KeypointTeacherEnvCfg, KeypointTrackingEnvCfg
from mimiclab.tasks.tracking.config.g1.env_cfg import to_play, use_g1


@configclass
class G1KeypointTrackingEnvCfg(KeypointTrackingEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1KeypointTrackingPlayEnvCfg(G1KeypointTrackingEnvCfg):
    """Evaluation: few envs, no noise (goal keypoints included), pushes or randomisation; every clip from its start."""

    def __post_init__(self):
        super().__post_init__()
        to_play(self)


@configclass
class G1KeypointTeacherEnvCfg(KeypointTeacherEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1KeypointTeacherPlayEnvCfg(G1KeypointTeacherEnvCfg):
    """Evaluation of the teacher (as ``G1KeypointTrackingPlayEnvCfg``)."""

    def __post_init__(self):
        super().__post_init__()
        to_play(self)
