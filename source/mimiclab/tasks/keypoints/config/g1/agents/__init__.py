"""Learning-agent configurations of Mimic-TrackKeypoints-G1."""
