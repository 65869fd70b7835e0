"""mimiclab: human motion to whole-body Unitree G1 skills (retargeting, tracking, export, sim2sim)."""

__version__ = "0.1.0"
