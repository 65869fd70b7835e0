"""Facts of the tracking MDP that a consumer outside Isaac Lab needs (the demo report, the CI
learning test) without importing the task: numpy-free, Isaac-Lab-free constants."""

from __future__ import annotations

# The exp-kernel reward terms that pay for following the reference (the task's RewardsCfg; every
# other reward term is a penalty). Their logged sum is "the tracking reward" of the learning figures.
TRACKING_REWARD_TERMS = ("anchor_pos", "anchor_ori", "body_pos", "body_ori", "body_lin_vel", "body_ang_vel")
