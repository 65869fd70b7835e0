"""Learning-agent configurations of Mimic-Stand-G1."""
