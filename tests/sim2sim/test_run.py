"""sim2sim end to end: the eval JSON shape, plots, video, physics sanity, CLI errors, no Isaac Lab."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mimiclab.sim2sim.metrics import METRIC_UNITS, STEP_METRICS
from mimiclab.sim2sim.perturbations import Perturbations
from mimiclab.sim2sim.runner import run_sim2sim

ROOT = Path(__file__).resolve().parents[2]
MIMICLAB = [sys.executable, "-m", "mimiclab"]


def test_random_policy_run_writes_eval_shaped_metrics_plot_and_video(random_policy_dir, wave_clip, stand_clip,
                                                                     tmp_path):
    policy_dir = random_policy_dir[0]
    video = tmp_path / "run.mp4"
    report = run_sim2sim(policy_dir, [wave_clip, stand_clip], tmp_path / "out", video=video, progress=False)
    on_disk = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert {"policy", "device", "units", "overall", "clips"} <= set(report)
    assert report["units"] == METRIC_UNITS
    assert set(report["clips"]) == {"wave", "stand"}
    for c in report["clips"].values():
        assert isinstance(c["success"], bool)
        assert 1 <= c["steps"] <= 100
        assert all(math.isfinite(c[m]) for m in STEP_METRICS)
        assert c["success"] or c["terminations"]
    assert report["clips"]["wave"]["frames"] == 31 and report["clips"]["wave"]["duration_s"] == pytest.approx(1.0)
    o = report["overall"]
    assert o["num_clips"] == 2 and 0.0 <= o["success_rate"] <= 1.0
    assert o["mpkpe"] == pytest.approx(np.mean([c["mpkpe"] for c in report["clips"].values()]))
    for name in ("wave", "stand"):
        png = tmp_path / "out" / f"{name}_tracking.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if report["video"] is None or report["video"].endswith(".png"):
        pytest.skip("offscreen rendering unavailable here; keyframe strip written instead")
    import imageio.v2 as imageio

    steps = sum(c["steps"] for c in report["clips"].values())
    n, middle = 0, None
    with imageio.get_reader(str(video)) as reader:
        for n, frame in enumerate(reader, 1):
            assert frame.shape == (360, 640, 3)
            if n == steps // 2:
                middle = frame.astype(np.float32)
    assert n == steps + 2  # every clip's reset frame plus one per control step
    assert middle.std() > 10  # a picture, not a blank frame


def test_zero_action_holds_the_standing_reference_for_a_while(zero_policy_dir, stand_clip):
    """Targets at the default pose from the reference's default pose: the robot only sags under
    gravity (PD alone, no policy): within 4 cm of the reference for 0.3 s, no termination for 0.5 s.
    A wrong reset (height, quaternion order, joint mapping) or ground would be off at once."""
    from mimiclab.deploy.runtime import PolicyRuntime
    from mimiclab.motion.format import load_motion
    from mimiclab.sim2sim.model import build_model
    from mimiclab.sim2sim.runner import Episode
    from mimiclab.sim2sim.signals import MujocoSignals

    runtime = PolicyRuntime.load(zero_policy_dir)
    model = build_model(runtime.contract)
    ref = runtime.reference(load_motion(stand_clip), name="stand")
    rec = Episode(model, runtime, MujocoSignals(model, runtime.contract), ref, Perturbations(),
                  np.random.default_rng(0)).run()
    assert rec["steps"] >= 25
    assert rec["mpkpe"][0] < 0.005
    assert rec["mpkpe"][:15].max() < 0.04
    assert rec["joint_pos_error"][:25].max() < 0.1


def test_perturbations_change_the_run(zero_policy_dir, stand_clip, tmp_path):
    base = run_sim2sim(zero_policy_dir, [stand_clip], tmp_path / "a", progress=False)
    pushed = run_sim2sim(zero_policy_dir, [stand_clip], tmp_path / "b", progress=False, episodes=2,
                         perturbations=Perturbations(push=True, added_mass=5.0, action_delay=2, seed=3))
    assert pushed["perturbations"] == {"push": True, "added_mass": 5.0, "action_delay": 2}
    assert pushed["clips"]["stand"]["episodes"] == 2
    assert pushed["clips"]["stand"]["mpkpe"] != pytest.approx(base["clips"]["stand"]["mpkpe"], rel=1e-3)


def _cli(*args, env=None):
    return subprocess.run([*MIMICLAB, "sim2sim", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def _one_line_error(res):
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mimiclab sim2sim: error: "), res.stderr
    return lines[0]


def test_cli_refuses_bad_inputs_with_one_line(random_policy_dir, zero_policy_dir, stand_clip, tmp_path):
    tampered = tmp_path / "tampered"
    shutil.copytree(random_policy_dir[0], tampered)
    d = json.loads((tampered / "contract.json").read_text())
    d["kp"][0] *= 2
    (tampered / "contract.json").write_text(json.dumps(d))
    assert "does not match the contract" in _one_line_error(_cli("--policy", tampered, "--motion", stand_clip))

    mixed = tmp_path / "mixed"
    shutil.copytree(random_policy_dir[0], mixed)
    shutil.copy(zero_policy_dir / "policy.onnx", mixed / "policy.onnx")
    assert "sha256" in _one_line_error(_cli("--policy", mixed, "--motion", stand_clip))

    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a motion file")
    assert "junk.npz" in _one_line_error(_cli("--policy", random_policy_dir[0], "--motion", junk))
    assert "no such policy folder" in _one_line_error(_cli("--policy", tmp_path / "nope", "--motion", stand_clip))
    assert not (ROOT / "sim2sim_out").exists() or (ROOT / "sim2sim_out" / "metrics.json").exists()


def test_cli_prints_the_table(zero_policy_dir, stand_clip, tmp_path):
    res = _cli("--policy", zero_policy_dir, "--motion", stand_clip, "-o", tmp_path / "o", "--action-delay", "1")
    assert res.returncode == 0, res.stderr
    assert "stand" in res.stdout and "overall" in res.stdout and "mpkpe" in res.stdout
    assert (tmp_path / "o" / "metrics.json").is_file()


def test_runs_with_isaaclab_blocked(random_policy_dir, wave_clip, tmp_path, run_with_isaaclab_blocked):
    clips, loaded = run_with_isaaclab_blocked(random_policy_dir[0], wave_clip, tmp_path / "o")
    assert clips["wave"]["steps"] >= 1
    assert not loaded, loaded
    assert (tmp_path / "o" / "metrics.json").is_file()


def test_full_clip_runs_to_the_end_after_a_termination(random_policy_dir, stand_clip, tmp_path):
    """--full-clip: the falling random policy still fails, but the episode covers the whole clip."""
    short = run_sim2sim(random_policy_dir[0], [stand_clip], tmp_path / "a", progress=False)["clips"]["stand"]
    full = run_sim2sim(random_policy_dir[0], [stand_clip], tmp_path / "b", progress=False,
                       full_clip=True)["clips"]["stand"]
    assert not short["success"] and not full["success"]
    assert short["steps"] < full["steps"] == 100  # 2 s at 50 Hz
    assert full["tracked_s"] == pytest.approx(short["tracked_s"])  # tracked until the same termination
    assert full["terminations"] == short["terminations"]


def test_sim2sim_runs_the_runtime_without_torch_or_isaac_lab(zero_policy_dir, short_stand_clip, tmp_path):
    """The deployment path (runtime + MuJoCo) needs numpy, onnxruntime and mujoco only: a whole sim2sim
    run in a fresh interpreter loads neither torch, Isaac Lab nor warp."""
    import subprocess
    import sys

    code = ("import sys; from mimiclab.sim2sim.runner import run_sim2sim; "
            f"r = run_sim2sim({str(zero_policy_dir)!r}, [{str(short_stand_clip)!r}], {str(tmp_path / 'o')!r}, "
            "progress=False); assert r['clips'], r; "
            "bad = [m for m in ('torch', 'isaaclab', 'warp') if m in sys.modules]; assert not bad, bad")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
