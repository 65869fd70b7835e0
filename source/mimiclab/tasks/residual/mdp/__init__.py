"""MDP terms of the residual task: the tracking terms (Isaac Lab's stock terms included) plus the object."""

from mimiclab.tasks.tracking.mdp import *  # noqa: F401, F403

from mimiclab.tasks.residual.mdp.commands import *  # noqa: F401, F403
from mimiclab.tasks.residual.mdp.curriculums import *  # noqa: F401, F403
from mimiclab.tasks.residual.mdp.events import *  # noqa: F401, F403
from mimiclab.tasks.residual.mdp.object_controller import *  # noqa: F401, F403
from mimiclab.tasks.residual.mdp.observations import *  # noqa: F401, F403
from mimiclab.tasks.residual.mdp.rewards import *  # noqa: F401, F403
from mimiclab.tasks.residual.mdp.terminations import *  # noqa: F401, F403
