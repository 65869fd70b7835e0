"""MDP terms of the stand task: Isaac Lab's stock terms plus the few defined here."""

from isaaclab.envs.mdp import *  # noqa: F401, F403

from mimiclab.tasks.stand.mdp.rewards import *  # noqa: F401, F403
