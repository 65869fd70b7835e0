"""Skeleton maps, scaling, batched IK pipeline, post-processing and quality metrics."""
