"""Human-motion sources: BVH, 3D keypoint files and the synthetic samples, all as HumanMotion."""

from mimiclab.retarget.sources.bvh import read_bvh, write_bvh
from mimiclab.retarget.sources.detect import detect_format, load_human_motion
from mimiclab.retarget.sources.keypoints import read_keypoints, write_keypoints

__all__ = ["detect_format", "load_human_motion", "read_bvh", "read_keypoints", "write_bvh", "write_keypoints"]
