"""mimiclab.rl.executed on the CPU: the eval rollout recorded as executed motions, checked against the
clips and against ``evaluate`` on the same checkpoint and clips (one rollout each).

The checkpoint is an untrained Mimic-Track-G1 actor whose output layer is zero (action = the
task's reference offset, i.e. PD onto the next reference frame): no training run needed, and on
the two short clips below it finishes one ("stand") and falls during the other ("wave", yawed and
moved off the origin), so both the success and the failure path are recorded."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

FPS = 50.0


def _clip(folder, name, frames, yaw, xy, wave):
    from mimiclab.motion.format import save_motion
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.robots.g1 import G1

    t = np.arange(frames) / FPS
    q = np.tile([j.default_pos for j in G1.joints], (frames, 1))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        q[:, G1.joint_names.index(f"{side}_shoulder_roll_joint")] += sign * wave * np.sin(2 * np.pi * t) ** 2
    root = np.tile([xy[0], xy[1], G1.default_root_height], (frames, 1))
    quat = np.tile([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)], (frames, 1))
    return save_motion(folder / f"{name}.npz", motion_from_joint_trajectory(root, quat, q, fps=FPS))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    _clip(folder, "stand", 50, 0.0, (0.0, 0.0), 0.0)
    _clip(folder, "wave", 75, 0.6, (0.3, -0.2), 0.4)
    return folder


@pytest.fixture(scope="module")
def checkpoint(zero_actor_checkpoint):
    return zero_actor_checkpoint


@pytest.fixture(scope="module")
def runs(clips, checkpoint, tmp_path_factory):
    """rollout_executed (with output_dir) and evaluate, same checkpoint and clips, one rollout each."""
    from mimiclab.rl.eval import evaluate
    from mimiclab.rl.executed import rollout_executed

    out = tmp_path_factory.mktemp("executed")
    t0 = time.perf_counter()
    executed = rollout_executed(checkpoint, [clips], device="cpu", output_dir=out)
    t1 = time.perf_counter()
    report = evaluate(checkpoint, [clips / "stand.npz", clips / "wave.npz"], device="cpu")
    print(f"rollout_executed {t1 - t0:.1f} s, evaluate {time.perf_counter() - t1:.1f} s")
    return {"executed": executed, "report": report, "out": out}


def test_one_executed_clip_per_clip_with_evals_figures(runs):
    executed, report = runs["executed"], runs["report"]
    assert [e.name for e in executed] == ["stand", "wave"]
    for e in executed:
        r = report["clips"][e.name]
        assert e.success == r["success"] and e.tracked_s == pytest.approx(r["tracked_s"])
        assert e.mpkpe_m == pytest.approx(r["mpkpe"], rel=1e-6, abs=1e-9)
        assert e.motion.num_frames == r["steps"] + 1  # frame 0 is the reset state, then one per control step
        assert e.motion.fps == FPS
        meta = e.motion.meta
        assert (meta["generator"], meta["source_clip"], meta["success"]) == ("mimiclab.rl.executed", e.name, e.success)
        assert meta["checkpoint"] == report["checkpoint"]


def test_success_agrees_with_tracked_time(runs):
    executed, report = runs["executed"], runs["report"]
    for e in executed:
        duration = report["clips"][e.name]["duration_s"]
        assert e.success == (e.tracked_s >= duration - 0.5 / FPS), (e.name, e.tracked_s, duration)
        assert e.tracked_s <= duration + 0.5 / FPS
    assert {e.name: e.success for e in executed} == {"stand": True, "wave": False}  # both paths covered


def test_executed_motion_is_g1_named_within_limits_and_starts_on_the_clip(runs, clips):
    from mimiclab.motion.format import load_motion
    from mimiclab.robots.g1 import G1

    lo = np.array([j.lower for j in G1.joints])
    hi = np.array([j.upper for j in G1.joints])
    for e in runs["executed"]:
        m = e.motion
        assert m.joint_names == list(G1.joint_names)
        assert np.isfinite(m.joint_pos).all() and np.isfinite(m.root_pos_w).all()
        # MuJoCo's joint limits are soft constraints: a falling robot presses its ankles ~0.02 rad past them
        assert (m.joint_pos >= lo - 0.05).all() and (m.joint_pos <= hi + 0.05).all()
        ref = load_motion(clips / f"{e.name}.npz")
        assert np.linalg.norm(m.root_pos_w[0] - ref.root_pos_w[0]) < 0.03  # env origin subtracted
        assert abs(float(np.dot(m.root_quat_w[0], ref.root_quat_w[0]))) > 0.999  # wxyz, as the file
        assert np.abs(m.joint_pos[0] - ref.select(G1.joint_names).joint_pos[0]).max() < 0.02
        if e.success:  # frame k lines up with the clip at t = k / 50 s: a tracked clip has its length
            assert m.num_frames == ref.num_frames


def test_output_dir_holds_one_readable_executed_file_per_clip(runs):
    from mimiclab.motion.format import load_motion

    out = runs["out"]
    assert sorted(p.name for p in out.iterdir()) == ["stand.executed.npz", "wave.executed.npz"]
    for e in runs["executed"]:
        back = load_motion(out / f"{e.name}.executed.npz")
        assert back.num_frames == e.motion.num_frames and back.meta["source_clip"] == e.name
        np.testing.assert_allclose(back.joint_pos, e.motion.joint_pos, atol=1e-5)


def test_bad_input_is_a_one_line_value_error(checkpoint, clips, tmp_path):
    from mimiclab.rl.executed import rollout_executed

    with pytest.raises(ValueError, match="no such file"):
        rollout_executed(tmp_path / "nope.pt", [clips])
    with pytest.raises(ValueError, match="no motion files"):
        rollout_executed(checkpoint, [])
    with pytest.raises(ValueError, match="matches no motion files"):
        rollout_executed(checkpoint, [tmp_path / "none*.npz"])
    with pytest.raises(ValueError, match="num_envs"):
        rollout_executed(checkpoint, [clips], num_envs=0)


def test_one_env_taking_the_clips_in_turn_records_each_from_its_reset(runs, checkpoint, clips):
    """num_envs=1: the second clip starts on a reset inside the rollout; same figures as one env per clip."""
    from mimiclab.motion.format import load_motion
    from mimiclab.rl.executed import rollout_executed

    serial = rollout_executed(checkpoint, [clips], num_envs=1)
    for s, p in zip(serial, runs["executed"]):
        assert (s.name, s.success, s.motion.num_frames) == (p.name, p.success, p.motion.num_frames)
        assert s.mpkpe_m == pytest.approx(p.mpkpe_m, rel=1e-4)
        ref = load_motion(clips / f"{s.name}.npz")
        assert np.linalg.norm(s.motion.root_pos_w[0] - ref.root_pos_w[0]) < 0.03
