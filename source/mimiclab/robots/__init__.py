"""Robot facts: the one source of truth for G1 names, order, limits, gains and assets.

Imports nothing from the rest of mimiclab. Isaac Lab, MuJoCo (sim2sim) and retargeting all read
their robot numbers from here.
"""

from mimiclab.robots.g1 import G1, JointSpec, ActuatorSpec  # noqa: F401
