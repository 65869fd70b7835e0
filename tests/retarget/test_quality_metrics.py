"""Known-answer tests of every retarget quality metric: motions built to have exactly one jump, a
known saturation, slide speed, penetration depth, twist and self-collision, plus an independent
recomputation of the sole heights through MuJoCo and the --strict gate."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.retarget import quality
from mimiclab.robots.g1 import G1
from mimiclab.rotations.numpy_ops import xyzw_to_wxyz

FPS = 50.0
T = 40


def _standing(T: int = T, clearance: float = 0.005, speed_x: float = 0.0):
    """Default G1 pose, both soles `clearance` above the ground, root moving at speed_x [m/s]."""
    q = np.tile([j.default_pos for j in G1.joints], (T, 1))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    root = np.zeros((T, 3))
    root[:, 2] = -quality.sole_heights(root, quat, q).min() + clearance
    root[:, 0] = speed_x * np.arange(T) / FPS
    return root, quat, q


def _motion(root, quat, q):
    return motion_from_joint_trajectory(root, quat, q, FPS)


def _j(name: str) -> int:
    return G1.joint_names.index(name)


def test_a_standing_robot_is_clean():
    m = _motion(*_standing())
    q = quality.quality_metrics(m, None, None)
    assert q["joint_jumps"] == 0 and q["joint_speed_saturation_frames"] == 0.0 and q["twisted_frames"] == 0.0
    assert q["penetration_frames"] == 0.0 and q["self_collision_frames"] == 0.0
    assert q["foot_sliding_left_m_s"] == pytest.approx(0.0, abs=1e-12) and q["failed_bounds"] == []
    assert q["foot_contact_frames_left"] == 1.0 and q["foot_contact_frames_right"] == 1.0


def test_exactly_one_jump():
    root, quat, q = _standing()
    q[20:, _j("left_shoulder_yaw_joint")] += 1.0  # 50 rad/s for one frame; the limit is 37
    m = _motion(root, quat, q)
    out = quality.quality_metrics(m, None, None)
    flags = quality.frame_flags(m)
    assert out["joint_jumps"] == 1 and np.flatnonzero(flags["joint_jump"]).tolist() == [20]
    assert out["joint_speed_saturation_frames"] == pytest.approx(1 / T)
    assert out["max_joint_speed_ratio"] == pytest.approx(50.0 / 37.0)
    assert "joint_jumps 1 > 0" in out["failed_bounds"]


def test_known_saturation_fraction():
    root, quat, q = _standing()
    limit = G1.joint("left_elbow_joint").actuator.velocity_limit
    step = 0.96 * limit / FPS
    q[11:21, _j("left_elbow_joint")] -= step * np.arange(1, 11)  # 10 transitions at 96 % of the limit
    q[21:, _j("left_elbow_joint")] = q[20, _j("left_elbow_joint")]
    out = quality.quality_metrics(_motion(root, quat, q), None, None)
    assert out["joint_jumps"] == 0
    assert out["joint_speed_saturation_frames"] == pytest.approx(10 / T)
    assert out["max_joint_speed_ratio"] == pytest.approx(0.96)


def test_known_slide_speed_and_no_contact_in_the_air():
    out = quality.quality_metrics(_motion(*_standing(speed_x=0.2)), None, None)
    assert out["foot_sliding_left_m_s"] == pytest.approx(0.2, abs=1e-9)
    assert out["foot_sliding_right_m_s"] == pytest.approx(0.2, abs=1e-9)
    assert out["sliding_frames"] == 1.0
    assert any(f.startswith("foot_sliding_left_m_s") for f in out["failed_bounds"])
    air = quality.quality_metrics(_motion(*_standing(clearance=0.05, speed_x=0.5)), None, None)
    assert air["foot_contact_frames_left"] == 0.0 and air["foot_sliding_left_m_s"] == 0.0


def test_landing_and_staying_is_not_sliding():
    """A foot that arrives moving and stays put slips at no frame (the arrival belongs to the air)."""
    root, quat, q = _standing()
    root[:20, 0] = -0.3 * (20 - np.arange(20)) / FPS  # moving at 0.3 m/s until frame 20, then still
    root[:20, 2] += 0.05  # ... 5 cm up while moving
    out = quality.quality_metrics(_motion(root, quat, q), None, None)
    assert out["foot_contact_frames_left"] == pytest.approx(20 / T)
    assert out["foot_sliding_left_m_s"] == pytest.approx(0.0, abs=1e-9)


def test_rolling_over_the_toes_is_not_sliding():
    """The whole robot pitched forward about the line under its toe capsules (heels rising): the
    touching points stay where they are, although the capsule centres move."""
    from scipy.spatial.transform import Rotation

    root, quat, q = _standing(clearance=0.0)
    m0 = _motion(root[:1], quat[:1], q[:1])
    (world, radii), _ = quality._feet().end_points(*quality._foot_poses(m0.root_pos_w, m0.root_quat_w, m0.joint_pos))
    pivot = world[0, int((world[0, :, 0]).argmax())].numpy() - np.array([0.0, 0.0, radii[0].item()])
    pivot[1] = 0.0
    angle = 0.004 * np.arange(T)  # pitch forward 0.2 rad/s
    R = Rotation.from_euler("y", angle[:, None])
    root = pivot + R.apply(root - pivot)
    quat = xyzw_to_wxyz(R.as_quat())
    flags_contact, speed = quality.foot_contact_speeds(_motion(root, quat, q))
    assert flags_contact.all()
    assert speed.max() < 5e-4  # the capsule centres move at ω·r = 2e-3 m/s


def test_slide_is_per_foot():
    root, quat, q = _standing()
    q[:, _j("right_hip_pitch_joint")] += np.linspace(0.0, 0.3, T)  # the right foot swings forward
    out = quality.quality_metrics(_motion(root, quat, q), None, None)
    assert out["foot_sliding_left_m_s"] < 1e-9 < out["foot_sliding_right_m_s"] or out["foot_contact_frames_right"] == 0


def test_known_penetration_depth_and_fraction():
    root, quat, q = _standing(clearance=0.0)
    root[:10, 2] -= 0.03  # 10 of 40 frames 3 cm into the ground
    root[10:15, 2] -= 0.005  # 5 frames within the 1 cm tolerance
    out = quality.quality_metrics(_motion(root, quat, q), None, None)
    assert out["penetration_frames"] == pytest.approx(10 / T)
    assert out["penetration_max_depth_m"] == pytest.approx(0.03, abs=1e-9)


@pytest.mark.parametrize("joint, value", [("left_hip_yaw_joint", 1.2), ("right_shoulder_yaw_joint", -1.9),
                                          ("waist_yaw_joint", 1.3), ("left_knee_joint", -0.08),
                                          ("right_elbow_joint", 1.7)])
def test_known_twist(joint, value):
    from mimiclab.robots.human_ranges import TWIST_RANGES

    root, quat, q = _standing()
    q[5:15, _j(joint)] = value  # inside the G1's limits, outside the human range
    lo, hi = TWIST_RANGES[joint]
    excess = max(lo - value, value - hi)
    out = quality.quality_metrics(_motion(root, quat, q), None, None)
    assert out["joint_limit_violation_frames"] == 0.0
    assert out["twisted_frames"] == pytest.approx(10 / T)
    assert out["twisted_joints"] == {joint: pytest.approx(10 / T)}
    assert out["twist_max_excess_rad"] == pytest.approx(excess)


def test_known_self_collision_frames():
    root, quat, q = _standing()
    q[3:9, _j("left_shoulder_roll_joint")] = -1.5  # the left arm swung through the torso
    q[3:9, _j("left_elbow_joint")] = 1.3
    out = quality.quality_metrics(_motion(root, quat, q), None, None)
    assert out["self_collision_frames"] == pytest.approx(6 / T)
    assert np.flatnonzero(quality.self_collision_flags(_motion(root, quat, q))).tolist() == list(range(3, 9))


def test_straight_knee_and_elbow_constants_by_forward_kinematics(g1_tree):
    """KNEE_STRAIGHT / ELBOW_STRAIGHT are where hip–knee–ankle (shoulder–elbow–wrist) line up."""
    import torch
    from scipy.optimize import minimize_scalar

    from mimiclab.kernels.fk import fk_reference
    from mimiclab.robots.human_ranges import ELBOW_STRAIGHT, KNEE_STRAIGHT

    def bend(joint, chain, v):
        q = torch.zeros(1, G1.num_joints, dtype=torch.float64)
        q[0, _j(joint)] = v
        pos, _ = fk_reference(g1_tree, torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64),
                              torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64), q)
        a, b, c = (pos[0, G1.body_names.index(n)] for n in chain)
        u, w = b - a, c - b
        return float(torch.acos(torch.clamp(u @ w / (u.norm() * w.norm()), -1.0, 1.0)))

    for joint, chain, expected in (
            ("left_knee_joint", ("left_hip_yaw_link", "left_knee_link", "left_ankle_roll_link"), KNEE_STRAIGHT),
            ("left_elbow_joint", ("left_shoulder_yaw_link", "left_elbow_link", "left_wrist_yaw_link"), ELBOW_STRAIGHT)):
        found = minimize_scalar(lambda v: bend(joint, chain, v), bounds=(-1.0, 2.5), method="bounded").x
        assert found == pytest.approx(expected, abs=0.01), joint


def test_sole_heights_agree_with_mujoco_geometry(tmp_path):
    """Independent recomputation: the lowest point of each foot's collision capsules, from MuJoCo's
    own geom poses, on a retargeted walk."""
    import mujoco

    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.retarget.sources.synthetic import write_samples
    from mimiclab.robots.assets import g1_mjcf_path

    walk = next(p for p in write_samples(tmp_path) if "walk" in p.name and p.suffix == ".bvh")
    m = retarget_human(load_human_motion(walk), RetargetSettings()).motion
    model = mujoco.MjModel.from_xml_path(str(g1_mjcf_path()))
    data = mujoco.MjData(model)
    qadr = [model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)] for n in m.joint_names]
    feet = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, b) for b in G1.foot_bodies]
    expected = np.zeros((m.num_frames, 2))
    for t in range(m.num_frames):
        data.qpos[:3], data.qpos[3:7], data.qpos[qadr] = m.root_pos_w[t], m.root_quat_w[t], m.joint_pos[t]
        mujoco.mj_kinematics(model, data)
        for f, body in enumerate(feet):
            lows = []
            for g in np.flatnonzero((model.geom_bodyid == body) & (model.geom_type == mujoco.mjtGeom.mjGEOM_CAPSULE)
                                    & (model.geom_contype != 0)):
                axis = data.geom_xmat[g].reshape(3, 3)[:, 2] * model.geom_size[g][1]
                lows.append(min(data.geom_xpos[g][2] + axis[2], data.geom_xpos[g][2] - axis[2]) - model.geom_size[g][0])
            expected[t, f] = min(lows)
    got = quality.sole_heights(m.root_pos_w, m.root_quat_w, m.joint_pos)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_failures_name_each_broken_bound():
    report = {"joint_jumps": 2, "twisted_frames": 0.1, "penetration_frames": 0.005, "self_collision_frames": 0.0}
    assert quality.quality_failures(report) == ["joint_jumps 2 > 0", "twisted_frames 0.1 > 0"]


def test_strict_gate_exits_non_zero_on_a_failing_clip(tmp_path):
    import subprocess
    import sys

    from mimiclab.motion.format import save_motion

    root, quat, q = _standing()
    q[5:15, _j("left_hip_yaw_joint")] = 1.2
    save_motion(tmp_path / "twisted.npz", _motion(root, quat, q))
    save_motion(tmp_path / "clean.npz", _motion(*_standing()))
    cmd = [sys.executable, "-m", "mimiclab", "retarget", "-o", str(tmp_path / "out")]
    lax = subprocess.run(cmd + [str(tmp_path / "twisted.npz")], capture_output=True, text=True)
    assert lax.returncode == 0, lax.stderr
    strict = subprocess.run(cmd + ["--strict", str(tmp_path / "twisted.npz"), str(tmp_path / "clean.npz")],
                            capture_output=True, text=True)
    assert strict.returncode == 1
    line = next(x for x in strict.stderr.splitlines() if "quality:" in x)
    assert "twisted.npz: " in line and "twisted_frames 0.25 > 0" in line and "clean.npz" not in strict.stderr
    row = next(x for x in strict.stdout.splitlines() if x.startswith("twisted"))
    assert "FAIL:" in row and "twisted_frames" in row
    ok = subprocess.run(cmd + ["--strict", str(tmp_path / "clean.npz")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
