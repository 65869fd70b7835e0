"""Robot-specific keypoint-tracking task configurations."""
