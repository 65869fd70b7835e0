"""Isaac Lab tasks of mimiclab.

Importing this package registers every task with gymnasium; Isaac Lab's launcher imports it through
the ``isaaclab.tasks`` entry-point group (``isaaclab train --rl_library rsl_rl --task ID``).
Task modules and configs load lazily (string entry points), so registration is cheap.
"""

from mimiclab.tasks.stand.config import g1 as _stand_g1  # noqa: F401  (registers Mimic-Stand-G1)
from mimiclab.tasks.tracking.config import g1 as _track_g1  # noqa: F401  (registers Mimic-Track-G1[-StateEstimation], -Play)
from mimiclab.tasks.residual.config import g1 as _residual_g1  # noqa: F401  (registers Mimic-Residual-Box-G1, -Play)
from mimiclab.tasks.keypoints.config import g1 as _keypoints_g1  # noqa: F401  (registers Mimic-TrackKeypoints-G1, -Play)
