"""Retargeting end to end: real mocap acceptance, G1 round trip, determinism, bad input, batch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mimiclab.retarget.batch import retarget_file, retarget_files
from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.pipeline import RetargetSettings, retarget_human

SHARED_BVH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bvh"
SHARED_CLIPS = sorted(SHARED_BVH.glob("*.bvh")) if SHARED_BVH.is_dir() else []


@pytest.fixture(scope="module")
def shared_results(tmp_path_factory):
    if not SHARED_CLIPS:
        pytest.skip(f"{SHARED_BVH} is absent: the shared mocap clips are not on this machine")
    out = tmp_path_factory.mktemp("shared")
    return retarget_files([str(p) for p in SHARED_CLIPS], str(out), RetargetSettings(), progress=False), out


def test_shared_mocap_clips_meet_the_quality_bar(shared_results):
    results, out = shared_results
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    for r in results:
        q = json.loads((out / f"{r.name}.quality.json").read_text())
        assert q["joint_limit_violation_frames"] == 0.0, r.name
        assert q["penetration_frames"] < 0.05, r.name
        assert q["joint_jumps"] == 0 and q["max_joint_speed_ratio"] <= 1.0 + 1e-9, r.name
        assert q["twisted_frames"] == 0.0 and q["self_collision_frames"] <= 0.01, r.name
        assert q["contact_frames"] > 0.3 or "wave" in r.name, r.name  # walking/running: feet do plant
        assert q["keypoint_error_mean_m"] < 0.1, r.name


def test_g1_round_trip_recovers_joint_angles(g1_tree):
    """A G1 motion's own body poses through the identity map come back as its joint angles."""
    import torch

    from mimiclab.bench.problems import TRACKED_BODIES, smooth_clips
    from mimiclab.kernels.fk import fk_reference
    from mimiclab.retarget.quality import sole_heights
    from mimiclab.robots.g1 import G1

    _, q, root_pos, root_quat = smooth_clips(g1_tree, TRACKED_BODIES, 1, 100, fps=50.0)
    root_pos = root_pos.clone()
    root_pos[..., 2] += 0.1  # clear of the ground
    body_pos, body_quat = fk_reference(g1_tree, root_pos[0], root_quat[0], q[0])
    human = HumanMotion("g1", 50.0, list(G1.body_names), body_pos.numpy(), body_quat.numpy(), source="g1 round trip")
    result = retarget_human(human, RetargetSettings(fps=50.0))
    err = np.abs(result.motion.joint_pos - q[0].numpy())
    assert err.mean() < 0.02, err.mean()
    before = sole_heights(root_pos[0].numpy(), root_quat[0].numpy(), q[0].numpy()).min()
    after = sole_heights(result.motion.root_pos_w, result.motion.root_quat_w, result.motion.joint_pos).min()
    assert after >= min(before, 0.0) - 1e-6  # no penetration added
    assert torch.is_tensor(q)


def test_grounded_motion_lifts_exactly_the_sole_deficit(g1_tree):
    """A standing pose sunk 5 cm into the floor in frames 3-6 comes out with its lowest sole at
    z = 0 there and untouched elsewhere, equal to the motion of the lifted root built from scratch."""
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.retarget.pipeline import grounded_motion
    from mimiclab.retarget.quality import foot_sole_heights, sole_heights

    T = 10
    q = np.zeros((T, len(g1_tree.joint_names)))
    root_quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    root_pos = np.tile([0.0, 0.0, 1.0], (T, 1))
    root_pos[:, 2] -= sole_heights(root_pos, root_quat, q).min(axis=1) - 0.02  # soles 2 cm up
    root_pos[3:7, 2] -= 0.07  # 5 cm under the floor
    motion = grounded_motion(root_pos, root_quat, q, 50.0)
    low = foot_sole_heights(motion).min(axis=1)
    np.testing.assert_allclose(low[3:7], 0.0, atol=1e-9)
    np.testing.assert_allclose(low[[0, 1, 2, 7, 8, 9]], 0.02, atol=1e-9)
    lifted = root_pos.copy()
    lifted[3:7, 2] += 0.05
    ref = motion_from_joint_trajectory(lifted, root_quat, q, 50.0)
    for key in ("root_pos_w", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w", "joint_vel"):
        np.testing.assert_allclose(getattr(motion, key), getattr(ref, key), atol=1e-9, err_msg=key)


def test_same_input_gives_byte_identical_output(tmp_path):
    clip = SHARED_CLIPS[0] if SHARED_CLIPS else None
    if clip is None:
        from mimiclab.retarget.sources.synthetic import write_samples

        clip = next(p for p in write_samples(tmp_path / "samples") if str(p).endswith(".bvh"))
    a = retarget_file(str(clip), str(tmp_path / "a"), RetargetSettings())
    b = retarget_file(str(clip), str(tmp_path / "b"), RetargetSettings())
    assert a.ok and b.ok
    for suffix in (".npz", ".quality.json"):
        pa = tmp_path / "a" / f"{a.name}{suffix}"
        pb = tmp_path / "b" / f"{b.name}{suffix}"
        if suffix == ".quality.json":  # the report names its input path, identical here
            assert json.loads(pa.read_text()) == json.loads(pb.read_text())
        assert pa.read_bytes() == pb.read_bytes(), suffix


def _mimiclab(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mimiclab", *args], capture_output=True, text=True, cwd=cwd)


BAD_BVH = {
    "truncated.bvh": "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n",
    "frames.bvh": ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
                   " End Site\n {\n  OFFSET 0 10 0\n }\n}\nMOTION\nFrames: 3\nFrame Time: 0.033333\n0 0 0 0 0 0\n0 0 0 0 0 0\n"),
    "nan.bvh": ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
                " End Site\n {\n  OFFSET 0 10 0\n }\n}\nMOTION\nFrames: 2\nFrame Time: 0.033333\n0 0 0 0 0 0\n0 nan 0 0 0 0\n"),
    "zero.bvh": ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
                 " End Site\n {\n  OFFSET 0 10 0\n }\n}\nMOTION\nFrames: 0\nFrame Time: 0.033333\n"),
}


@pytest.mark.parametrize("name", sorted(BAD_BVH))
def test_bad_bvh_gives_one_line_error_and_no_output(tmp_path, name):
    src = tmp_path / name
    src.write_text(BAD_BVH[name])
    res = _mimiclab("retarget", str(src), "-o", str(tmp_path / "out"))
    assert res.returncode != 0
    errors = [line for line in res.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and str(src) in errors[0], res.stderr
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_unknown_skeleton_lists_what_is_missing(tmp_path):
    from mimiclab.retarget.skeleton_map import choose_map

    with pytest.raises(ValueError, match="unknown skeleton.*lacks"):
        choose_map("auto", ["root", "spine_a", "arm_b"], "odd.bvh")


def test_bad_csv_and_npz_fail_per_file_and_batch_keeps_the_good_ones(tmp_path, g1_tree):
    from mimiclab.motion.g1_csv import write_g1_csv
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.robots.g1 import G1

    T = 40
    q = np.tile([j.default_pos for j in G1.joints], (T, 1))
    root = np.tile([0.0, 0.0, 0.8], (T, 1))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    good = tmp_path / "good.csv"
    write_g1_csv(good, motion_from_joint_trajectory(root, quat, q, 30.0))
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("0 0 0.8 0 0 0 1 " + " ".join(["0"] * 28) + "\n")
    bad_npz = tmp_path / "broken.npz"
    bad_npz.write_bytes(b"not a zip")
    out = tmp_path / "out"
    res = _mimiclab("retarget", str(good), str(bad_csv), str(bad_npz), "-o", str(out))
    assert res.returncode == 1
    assert (out / "good.npz").is_file() and (out / "good.quality.json").is_file()
    assert not (out / "bad.npz").exists() and not (out / "broken.quality.json").exists()
    assert "bad.csv" in res.stderr and "35 columns" in res.stderr
    assert "broken.npz" in res.stderr
    from mimiclab.motion.format import load_motion

    motion = load_motion(out / "good.npz")
    assert motion.fps == 50.0 and motion.num_frames == int((T - 1) * 50 / 30) + 1


def test_own_skeleton_names_units_and_axes_with_a_user_map(tmp_path):
    """The synthetic walk renamed, in inches and Y-up, through a user map: same motion as the
    original within the ground/heading normalisation."""
    from mimiclab.retarget.sources.synthetic import synthetic_walk

    walk = synthetic_walk(seconds=2.0)
    renamed = [f"jnt_{i:02d}" for i in range(len(walk.joint_names))]
    to_y_up = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # inverse of Y-up → Z-up
    odd = HumanMotion("odd", walk.fps, renamed, (walk.positions @ to_y_up.T) / 0.0254, source="odd skeleton")
    roles = {"pelvis": "Hips", "chest": ["LeftArm", "RightArm"], "head": "Head"}
    for side, s in (("left", "Left"), ("right", "Right")):
        roles.update({f"{side}_hip": f"{s}UpLeg", f"{side}_knee": f"{s}Leg", f"{side}_ankle": f"{s}Foot",
                      f"{side}_toe": f"{s}ToeBase", f"{side}_shoulder": f"{s}Arm", f"{side}_elbow": f"{s}ForeArm",
                      f"{side}_wrist": f"{s}Hand"})
    index = {n: renamed[i] for i, n in enumerate(walk.joint_names)}
    lines = ["name: odd", "roles:"]
    for role, src in roles.items():
        names = [src] if isinstance(src, str) else src
        lines.append(f"  {role}: [{', '.join(index[n] for n in names)}]")
    user_map = tmp_path / "odd_map.yaml"
    user_map.write_text("\n".join(lines) + "\n")
    got = retarget_human(odd, RetargetSettings(skeleton=str(user_map)))
    ref = retarget_human(walk, RetargetSettings())
    assert got.quality["joint_limit_violation_frames"] == 0.0
    assert np.abs(got.motion.joint_pos - ref.motion.joint_pos).mean() < 0.02
    with pytest.raises(ValueError, match="unknown skeleton"):
        retarget_human(odd, RetargetSettings())  # no built-in map knows these names


def test_shipped_samples_retarget_cleanly(tmp_path):
    """The synthetic walk / arm-wave (BVH and keypoints): no limits, penetration, jumps, and the G1
    does not hit itself (limb clearance keeps arms off the torso and knees apart)."""
    from mimiclab.retarget.sources.synthetic import write_samples

    samples = [str(p) for p in write_samples(tmp_path / "samples")]
    results = retarget_files(samples, str(tmp_path / "out"), RetargetSettings(), progress=False, workers=2)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    for r in results:
        q = r.quality
        assert q["joint_limit_violation_frames"] == 0.0 and q["penetration_frames"] == 0.0, r.name
        assert q["joint_jumps"] == 0 and q["self_collision_frames"] < 0.02, (r.name, q["self_collision_frames"])
        assert q["foot_sliding_m_s"] <= 0.05 and q["twisted_frames"] == 0.0, r.name


def test_first_frame_multi_start_never_loses_to_the_standing_start(g1_tree, monkeypatch):
    """Frame 0 solved from every START_POSTURES start keeps the cheapest: on random G1 poses its
    keypoint error is never worse than the standing start's alone, and it reaches the pose."""
    import torch

    from mimiclab.bench.problems import TRACKED_BODIES
    from mimiclab.kernels.fk import fk_reference
    from mimiclab.retarget import pipeline
    from mimiclab.robots.g1 import G1

    assert len(pipeline.START_POSTURES) >= 3
    body = np.array([G1.body_names.index(b) for b in TRACKED_BODIES], np.int32)
    lo, hi = np.array([j.lower for j in G1.joints]), np.array([j.upper for j in G1.joints])
    rng = np.random.default_rng(3)
    for _ in range(4):
        q = np.clip(np.array([j.default_pos for j in G1.joints]) + rng.normal(0.0, 0.6, G1.num_joints), lo, hi)
        pos, rot = fk_reference(g1_tree, torch.tensor([[0.0, 0.0, 0.7]], dtype=torch.float64),
                                torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64), torch.tensor(q[None]))
        K, T = len(body), 2
        targets = {"body_index": body, "offset": np.zeros((K, 3)), "pos": np.repeat(pos[:, body].numpy(), T, 0),
                   "quat": np.repeat(rot[:, body].numpy(), T, 0), "pos_weight": np.ones((T, K)),
                   "rot_weight": np.full((T, K), 0.1)}
        errors = []
        for starts in (pipeline.START_POSTURES, ({},)):
            monkeypatch.setattr(pipeline, "START_POSTURES", starts)
            rp, rq, jq = pipeline.solve_targets(targets, RetargetSettings(prior_weight=0.0), [0.0, 0.0, 0.75],
                                                [1.0, 0.0, 0.0, 0.0])
            got, _ = fk_reference(g1_tree, torch.as_tensor(rp[:1]), torch.as_tensor(rq[:1]), torch.as_tensor(jq[:1]))
            errors.append(float((got[0, body] - pos[0, body]).norm(dim=-1).mean()))
        assert errors[0] <= errors[1] + 1e-6 and errors[0] < 0.01, errors


def test_default_workers_use_the_cores_only_for_enough_clips(tmp_path, capsys):
    from mimiclab.cli import main
    from mimiclab.retarget.batch import CLIPS_PER_WORKER, default_workers

    assert default_workers(1, cpus=2) == 1 and default_workers(CLIPS_PER_WORKER - 1, cpus=2) == 1
    assert default_workers(2 * CLIPS_PER_WORKER, cpus=2) == 2
    assert default_workers(379, cpus=16) == 16 and default_workers(3 * CLIPS_PER_WORKER, cpus=16) == 3
    assert main(["retarget", "x.bvh", "-o", str(tmp_path), "--workers", "0"]) != 0
    assert "--workers must be >= 1" in capsys.readouterr().err


def test_smooth_option_low_passes_noisy_keypoints(tmp_path, capsys):
    """--smooth sets the keypoint low-pass: on a walk with 3 cm per-frame jitter, σ = 3 frames gives
    a smoother robot motion (joint jerk) than σ = 0, and a negative value is a one-line error."""
    from mimiclab.cli import main
    from mimiclab.retarget.sources.synthetic import write_samples

    src = next(p for p in write_samples(tmp_path / "src") if p.name == "walk_coco17.npz")
    with np.load(src, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    data["keypoints"] = data["keypoints"] + np.random.default_rng(0).normal(0.0, 0.03, data["keypoints"].shape)
    noisy = tmp_path / "noisy.npz"
    np.savez(noisy, **data)
    jerk = {}
    for sigma in ("0", "3"):
        assert main(["retarget", str(noisy), "-o", str(tmp_path / sigma), "--smooth", sigma]) == 0
        jerk[sigma] = json.loads((tmp_path / sigma / "noisy.quality.json").read_text())["jerk_mean_rad_s3"]
    assert jerk["3"] < 0.5 * jerk["0"], jerk
    capsys.readouterr()
    assert main(["retarget", str(noisy), "-o", str(tmp_path / "bad"), "--smooth", "-1"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--smooth must be a finite number of frames >= 0" in err[0], err
    assert not (tmp_path / "bad").exists()


def test_summary_table_names_every_clip_in_full():
    from mimiclab.retarget.batch import FileResult, summary_table

    long = "dataset-2_walk-turn-left_normal_001"  # longer than the old 34-character column
    q = {"keypoint_error_mean_m": 0.02, "joint_limit_violation_frames": 0.0, "joint_jumps": 0,
         "joint_speed_saturation_frames": 0.0, "twisted_frames": 0.0, "penetration_frames": 0.0,
         "foot_sliding_left_m_s": 0.01, "foot_sliding_right_m_s": 0.01, "self_collision_frames": 0.0,
         "failed_bounds": []}
    table = summary_table([FileResult("a.bvh", long, True, frames=10, seconds=0.1, quality=q),
                           FileResult("b.bvh", long + "_broken", False, error="not a BVH")])
    rows = table.splitlines()
    assert rows[1].split()[0] == long and rows[1].split()[-1] == "pass"
    assert rows[2].startswith(long + "_broken FAILED: not a BVH")
    assert rows[0].index("frames") + len("frames") == rows[1].index(" 10 ") + 3  # columns stay aligned
    assert "warm-up" in rows[-1]
