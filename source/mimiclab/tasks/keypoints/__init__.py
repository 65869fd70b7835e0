"""Keypoint-conditioned tracking (GenMimic): the G1 follows the future 3D keypoints of reference clips."""
