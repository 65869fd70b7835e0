"""Robustness perturbations for sim2sim, all off by default.

    p = Perturbations(push=True, friction_scale=0.6, added_mass=3.0, action_delay=1, seed=0)

push: every 1–3 s (uniform, redrawn after each push) the root velocity gets a random kick added,
as the task's training event ``push_robot`` does: x, y ±0.5 m/s, z ±0.2 m/s, roll, pitch ±0.52 rad/s,
yaw ±0.78 rad/s (world frame). friction_scale: multiplies every geom's sliding friction.
added_mass [kg]: added to the torso_link. action_delay: the joint targets use the action of
`action_delay` control steps earlier (the default pose before the first); the ``actions``
observation stays the policy's own last output.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

PUSH_INTERVAL_S = (1.0, 3.0)
PUSH_LIN_VEL = np.array([0.5, 0.5, 0.2])  # m/s, ± per world axis
PUSH_ANG_VEL = np.array([0.52, 0.52, 0.78])  # rad/s, ± roll pitch yaw


@dataclass(frozen=True)
class Perturbations:
    push: bool = False
    friction_scale: float = 1.0
    added_mass: float = 0.0  # kg
    added_mass_body: str = "torso_link"
    action_delay: int = 0  # control steps
    seed: int = 0

    def __post_init__(self):
        if not (self.friction_scale > 0):
            raise ValueError(f"friction scale must be positive, got {self.friction_scale}")
        if self.action_delay < 0:
            raise ValueError(f"action delay must be ≥ 0 control steps, got {self.action_delay}")

    @property
    def active(self) -> dict:
        """The settings that differ from the defaults (for the report)."""
        d = Perturbations()
        return {k: getattr(self, k) for k in ("push", "friction_scale", "added_mass", "action_delay")
                if getattr(self, k) != getattr(d, k)}


class Pusher:
    """Random root-velocity kicks at random intervals (module docstring); ``maybe_push`` once per
    control step."""

    def __init__(self, rng: np.random.Generator, control_dt: float):
        self.rng, self.control_dt = rng, control_dt
        self.t = 0.0
        self.next_t = self._interval()
        self.count = 0

    def _interval(self) -> float:
        return float(self.rng.uniform(*PUSH_INTERVAL_S))

    def maybe_push(self, data, root_qpos: slice, root_qvel: slice) -> bool:
        """Advance one control step; when due, add a kick to the free joint's velocity (linear part
        world frame, angular part rotated into the body frame as MuJoCo stores it)."""
        from mimiclab.rotations.numpy_ops import quat_apply_inverse

        self.t += self.control_dt
        if self.t < self.next_t - 1e-9:
            return False
        self.t, self.next_t = 0.0, self._interval()
        lin = self.rng.uniform(-PUSH_LIN_VEL, PUSH_LIN_VEL)
        ang_w = self.rng.uniform(-PUSH_ANG_VEL, PUSH_ANG_VEL)
        quat = data.qpos[root_qpos][3:7]
        data.qvel[root_qvel.start:root_qvel.start + 3] += lin
        data.qvel[root_qvel.start + 3:root_qvel.stop] += quat_apply_inverse(quat, ang_w)
        self.count += 1
        return True


class ActionDelay:
    """A FIFO of `steps` actions: ``__call__(a)`` returns the action of `steps` calls earlier
    (zeros — the default pose with offset = default — before that)."""

    def __init__(self, steps: int, num_actions: int):
        self.steps = int(steps)
        self.buf = deque([np.zeros(num_actions, dtype=np.float32)] * self.steps)

    def __call__(self, action: np.ndarray) -> np.ndarray:
        if self.steps == 0:
            return action
        self.buf.append(np.asarray(action, dtype=np.float32).copy())
        return self.buf.popleft()
