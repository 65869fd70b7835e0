"""MDP terms of the tracking task: Isaac Lab's stock terms plus the motion-reference terms here."""

from isaaclab.envs.mdp import *  # noqa: F401, F403

from mimiclab.tasks.tracking.mdp.actions import *  # noqa: F401, F403
from mimiclab.tasks.tracking.mdp.commands import *  # noqa: F401, F403
from mimiclab.tasks.tracking.mdp.events import *  # noqa: F401, F403
from mimiclab.tasks.tracking.mdp.observations import *  # noqa: F401, F403
from mimiclab.tasks.tracking.mdp.rewards import *  # noqa: F401, F403
from mimiclab.tasks.tracking.mdp.terminations import *  # noqa: F401, F403
