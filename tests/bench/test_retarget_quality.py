"""`mimiclab bench retarget --quality`: mimiclab side by side with the mink per-frame IK peer (the
GMR method) on shipped synthetic samples, and a known-answer test of the peer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

pytest.importorskip("mink")


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    from mimiclab.retarget.sources.synthetic import write_samples

    paths = {p.name: str(p) for p in write_samples(tmp_path_factory.mktemp("samples"))}
    return [paths["arm_wave.bvh"], paths["walk.bvh"]]


@pytest.fixture(scope="module")
def side_by_side(samples):
    import contextlib
    import io

    from mimiclab.bench.retarget_quality import bench_retarget_quality

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        records = bench_retarget_quality(samples, None, verbose=True, progress=False, workers=2)
    return records, out.getvalue()


def test_both_methods_retarget_every_clip_to_the_same_frames(side_by_side, samples):
    records, _ = side_by_side
    clips = [r for r in records if r["kernel"] == "retarget_quality_clip"]
    assert len(clips) == 2 * len(samples)
    by = {(r["clip"], r["backend"]): r for r in clips}
    for name in ("arm_wave", "walk"):
        m, p = by[(name, "mimiclab")], by[(name, "mink_peer")]
        assert m["quality"]["frames"] == p["quality"]["frames"] == m["frames"] > 50
        assert math.isfinite(p["quality"]["keypoint_error_mean_m"])
        assert 0.0 < p["quality"]["keypoint_error_mean_m"] < 0.15  # the peer tracks the targets
        assert p["quality"]["joint_limit_violation_frames"] == 0.0  # ConfigurationLimit holds
        assert p["quality"]["penetration_max_depth_m"] < 1e-6  # GMR's ground alignment: lowest sole at z=0
        assert 1.0 <= p["solves_per_frame"] <= 10.0
    summary = {r["backend"]: r for r in records if r["kernel"] == "retarget_quality"}
    assert set(summary) == {"mimiclab", "mink_peer"}
    for r in summary.values():
        assert r["throughput"] > 0 and r["unit"] == "output frames/s" and r["clips"] == 2 and r["failed"] == 0
        assert "keypoint_error_mean_m" in r["quality_mean"] and "self_collision_frames" in r["quality_mean"]
        # the machine's figure: the same clips again on 2 warm processes, every frame made
        cores = r["all_cores"]
        assert cores["workers"] == 2 and cores["frames"] == sum(c["frames"] for c in clips) // 2
        assert cores["seconds"] > 0 and cores["frames_per_s"] == pytest.approx(cores["frames"] / cores["seconds"])
    verdict = next(r for r in records if r["kernel"] == "retarget_quality_verdict")
    assert verdict["better"]["keypoint_error_mean_m"] in ("mimiclab", "mink_peer", "tie")
    assert verdict["direction"]["frames"] is None and verdict["direction"]["keypoint_error_mean_m"] == "lower"
    json.dumps(records)  # --json can write them


def test_the_printed_tables_show_both_methods_and_frames_per_second(side_by_side):
    _, text = side_by_side
    for needle in ("mimiclab: quality over 2 clips", "mink peer (GMR method): quality over 2 clips",
                   "side by side", "keypoint_error_mean_m", "arm_wave", "walk",
                   "keypoint error mean [mm]", "frames/s (2 processes)", "frames/s on 2 processes"):
        assert needle in text, needle


def _smooth_g1_clip(frames: int, fps: float):
    """A slow G1 motion inside the joint limits: (root_pos, root_quat, joint_pos) float64 tensors."""
    from mimiclab.robots.g1 import G1

    lo = torch.tensor([j.lower for j in G1.joints], dtype=torch.float64)
    hi = torch.tensor([j.upper for j in G1.joints], dtype=torch.float64)
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    phase = torch.linspace(0.0, 2 * math.pi, G1.num_joints, dtype=torch.float64)
    t = torch.arange(frames, dtype=torch.float64)[:, None] / fps
    q = mid + 0.4 * half * torch.sin(2 * math.pi * 0.5 * t + phase)  # ≤ 0.4 of each range, 0.5 Hz
    root_pos = torch.stack([0.3 * t[:, 0], 0.05 * torch.sin(t[:, 0]), 0.75 + 0.02 * t[:, 0]], -1)
    yaw = 0.3 * t[:, 0]
    root_quat = torch.stack([torch.cos(yaw / 2), 0 * yaw, 0 * yaw, torch.sin(yaw / 2)], -1)
    return root_pos, root_quat, q


def _fk_targets(root_pos, root_quat, q) -> dict:
    """The G1 targets (pipeline layout) of a known motion: the 12 tracked targets of
    g1_targets.yaml, each at its body point, with its body's orientation."""
    from scipy.spatial.transform import Rotation

    from mimiclab.kernels import forward_kinematics
    from mimiclab.retarget.robot_targets import g1_targets
    from mimiclab.robots.g1 import G1
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    T = q.shape[0]
    body_pos, body_quat = forward_kinematics(g1_kinematic_tree(), root_pos, root_quat, q)
    rt = [t for t in g1_targets().targets if t.pos_weight > 0]
    body = np.array([G1.body_names.index(t.body) for t in rt], np.int32)
    offset = np.array([t.offset for t in rt], float)
    bq = body_quat[:, body].numpy()
    R = Rotation.from_quat(np.concatenate((bq[..., 1:], bq[..., :1]), -1).reshape(-1, 4)).as_matrix()
    pos = body_pos[:, body].numpy() + (R @ np.tile(offset, (T, 1))[..., None])[..., 0].reshape(T, len(rt), 3)
    return {"body_index": body, "offset": offset, "pos": pos, "quat": bq,
            "pos_weight": np.ones((T, len(rt))), "rot_weight": np.full((T, len(rt)), 0.1)}


def test_the_peer_reaches_targets_from_forward_kinematics_of_a_known_motion():
    from mimiclab.bench.retarget_peer import mink_solve
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.retarget.quality import keypoint_errors
    from mimiclab.robots.g1 import G1

    fps, T = 50.0, 25
    root_pos, root_quat, q = _smooth_g1_clip(T, fps)
    offset = _fk_targets(root_pos, root_quat, q)["offset"]
    assert np.abs(offset).max() > 0.1  # the torso target sits off its body origin (a site in mink)
    targets = _fk_targets(root_pos, root_quat, q)
    rp, rq, jp, solves = mink_solve(targets, fps)
    assert solves[0] > 10  # the first frame is solved to convergence from the default pose
    motion = motion_from_joint_trajectory(rp, rq, jp, fps)
    err = keypoint_errors(motion, targets)
    assert err["keypoint_error_mean_m"] < 0.002, err
    assert err["keypoint_error_max_m"] < 0.005, err
    assert np.abs(jp - q.numpy()).max() < 0.05  # the pose itself, not just its keypoints
    lo = np.array([j.lower for j in G1.joints])
    hi = np.array([j.upper for j in G1.joints])
    assert ((jp >= lo - 1e-9) & (jp <= hi + 1e-9)).all()


def test_the_velocity_limit_bounds_each_solve_as_in_gmr_or_the_whole_frame():
    from mimiclab.bench.retarget_peer import mink_solve
    from mimiclab.robots.g1 import G1

    fps = 50.0
    root_pos, root_quat, q = _smooth_g1_clip(40, fps)
    jump = torch.cat([q[:1].expand(5, -1), q[20:21].expand(5, -1)])  # the pose jumps at frame 5
    targets = _fk_targets(root_pos[:1].expand(10, -1), root_quat[:1].expand(10, -1), jump)
    step = 1.0 / fps * np.array([G1.joint(n).actuator.velocity_limit for n in G1.joint_names])
    ratio = {}
    for mode in ("per_solve", "per_frame"):
        _, _, jp, solves = mink_solve(targets, fps, velocity_limit=mode)
        ratio[mode] = (np.abs(np.diff(jp, axis=0)) / step).max()
        assert solves[5] > 1
    assert ratio["per_frame"] <= 1.0 + 1e-6  # all solves of a frame together within v_max·dt
    assert ratio["per_solve"] > 1.2  # GMR's mink.VelocityLimit: each solve may move v_max·dt


def test_bench_cli_runs_the_side_by_side(samples, tmp_path, capsys):
    from mimiclab.cli import main

    out = tmp_path / "quality.json"
    assert main(["bench", "retarget", "--quality", "--inputs", samples[0], "--clips", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert {r["backend"] for r in rows if r["kernel"] == "retarget_quality"} == {"mimiclab", "mink_peer"}
    assert "mink peer (GMR method)" in capsys.readouterr().out
    assert main(["bench", "retarget", "--quality", "--inputs", samples[0], "--clips", "0"]) == 1
    assert main(["bench", "retarget", "--quality", "--inputs", samples[0], "--workers", "0"]) == 1


def test_the_default_clips_are_one_per_action_of_each_corpus():
    from mimiclab.bench.retarget_quality import SHARED_DATA, default_clips

    if not (SHARED_DATA / "bandai").is_dir():
        pytest.skip(f"{SHARED_DATA / 'bandai'} is absent")
    clips = default_clips()
    assert clips == default_clips()  # deterministic
    bandai = [c for c in clips if "/bandai/" in c]
    keys = [(c.split("/")[-2], c.split("/")[-1].split("_")[1]) for c in bandai]
    assert len(keys) == len(set(keys)) >= 20  # one per (dataset, action)
    assert {k[0] for k in keys} == {"dataset-1", "dataset-2"}
    assert len(clips) - len(bandai) == len(list((SHARED_DATA / "bvh").glob("*.bvh")))
