"""Learning-agent configurations of Mimic-Track-G1."""
