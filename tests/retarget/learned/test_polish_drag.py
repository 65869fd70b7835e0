"""The polish's dragging-foot round: a known-answer test of ``lift_dragging_feet``."""

from __future__ import annotations

import numpy as np

from mimiclab.retarget.learned.inference import DRAG_CLEARANCE, lift_dragging_feet
from mimiclab.retarget.quality import CONTACT_HEIGHT, sole_heights


def _gliding_stance(T: int = 12, fps: float = 50.0, sole: float = 0.01, speed: float = 0.5):
    """The G1's zero pose with both soles `sole` [m] above the floor, gliding along x at `speed` [m/s]."""
    from mimiclab.robots.g1 import G1

    q = np.zeros((T, len(G1.joint_names)))
    root_quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    root_pos = np.zeros((T, 3))
    root_pos[:, 0] = speed * np.arange(T) / fps
    root_pos[:, 2] = 1.0
    root_pos[:, 2] -= sole_heights(root_pos, root_quat, q).min(axis=1) - sole
    return root_pos, root_quat, q


def test_a_dragging_swing_foot_has_its_ankle_target_lifted_and_a_planted_one_does_not():
    solution = _gliding_stance()
    T = solution[0].shape[0]
    roles = np.array(["pelvis", "left_ankle", "right_ankle"])
    targets = {"pos": np.zeros((T, 3, 3)), "role": roles}
    planted = np.zeros((T, 2), bool)
    planted[:, 0] = True  # the human plants the left foot: its slide is the pins' business, not lifted
    lifted, dragging = lift_dragging_feet(targets, solution, planted, 50.0)
    assert dragging == T - 1  # frame 0 has no previous frame: no speed
    rise = lifted["pos"] - targets["pos"]
    np.testing.assert_allclose(rise[1:, 2, 2], CONTACT_HEIGHT + DRAG_CLEARANCE - 0.01, atol=1e-9)
    assert 0 < rise[0, 2, 2] < rise[1, 2, 2]  # spread to the neighbour, tapered
    assert not rise[:, :2].any() and not rise[..., :2].any()  # pelvis, left foot and x/y untouched
    assert targets["pos"].sum() == 0.0  # the input targets are not modified


def test_a_still_foot_or_a_foot_in_the_air_is_not_dragging():
    targets = {"pos": np.zeros((12, 2, 3)), "role": np.array(["left_ankle", "right_ankle"])}
    none = np.zeros((12, 2), bool)
    for solution in (_gliding_stance(speed=0.0), _gliding_stance(sole=0.03)):
        lifted, dragging = lift_dragging_feet(targets, solution, none, 50.0)
        assert dragging == 0 and lifted is targets
