"""The clip reference: sampled as the task's MotionLibrary samples it, futures clamped at the end."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.motion.format import load_motion
from mimiclab.deploy.reference import ClipReference

OFFSETS = (1, 2, 4, 8)


@pytest.fixture(scope="module")
def wave(wave_clip, g1_contract):
    return ClipReference.from_motion(load_motion(wave_clip), g1_contract.joint_names, g1_contract.tracked_bodies,
                                     "torso_link", 0.02, OFFSETS, name="wave")


def test_episode_length_and_futures_clamped_at_the_clip_end(wave):
    assert wave.duration == pytest.approx(1.0)
    assert wave.num_steps == 50  # 50 · 0.02 s reaches the 1 s duration
    last = wave.step(wave.num_steps - 3)  # t = 0.94 s: offsets 4 and 8 run past the end
    end = wave.sample(np.array([wave.duration]))
    assert np.allclose(last.future_joint_pos[2], end["joint_pos"][0])
    assert np.allclose(last.future_joint_pos[3], end["joint_pos"][0])
    assert not np.allclose(last.future_joint_pos[0], end["joint_pos"][0])  # t + 0.02 s is still inside
    assert np.allclose(last.future_anchor_pos_w[3], end["body_pos_w"][0, 7])
    assert np.allclose(np.abs((last.future_anchor_quat_w[3] * end["body_quat_w"][0, 7]).sum()), 1.0)


def test_matches_the_task_motion_library(wave, wave_clip, g1_contract):
    """Same times, same interpolation as MotionLibrary.future (30 fps clip, 50 Hz steps: real blends)."""
    import torch

    from mimiclab.motion.library import MotionLibrary

    lib = MotionLibrary([load_motion(wave_clip)], g1_contract.joint_names, g1_contract.tracked_bodies)
    for k in (0, 7, 31, 47):
        fr = lib.future(torch.zeros(1, dtype=torch.long), torch.tensor([k * 0.02]), 0.02, offsets=(0,) + OFFSETS)
        step = wave.step(k)
        assert step.joint_pos == pytest.approx(fr["joint_pos"][0, 0].numpy(), abs=1e-5)
        assert step.body_pos_w == pytest.approx(fr["body_pos_w"][0, 0].numpy(), abs=1e-5)
        assert step.future_joint_pos == pytest.approx(fr["joint_pos"][0, 1:].numpy(), abs=1e-5)
        assert step.future_anchor_pos_w == pytest.approx(fr["body_pos_w"][0, 1:, 7].numpy(), abs=1e-5)
        assert step.body_lin_vel_w == pytest.approx(fr["body_lin_vel_w"][0, 0].numpy(), abs=1e-5)
        assert step.anchor_lin_vel_w == pytest.approx(step.body_lin_vel_w[7])
        dots = np.abs((step.future_anchor_quat_w * fr["body_quat_w"][0, 1:, 7].numpy()).sum(-1))
        assert dots == pytest.approx(np.ones(4), abs=1e-6)
    init = wave.initial_state()
    fr = lib.frames(torch.zeros(1, dtype=torch.long), torch.zeros(1))
    assert init.ang_vel == pytest.approx(fr["root_ang_vel"][0].numpy(), abs=1e-4)
    assert init.ang_vel[2] == pytest.approx(0.8, abs=1e-3)  # the clip's turn rate


def test_missing_names_are_refused(wave_clip):
    with pytest.raises(ValueError, match="no_such_joint"):
        ClipReference.from_motion(load_motion(wave_clip), ["no_such_joint"], ["pelvis"], "pelvis", 0.02, OFFSETS)
