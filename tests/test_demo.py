"""`mimiclab demo` (the main job), reduced to a few PPO iterations: every stage runs end to end and
reports its metrics in demo.json and report.html; a re-run reuses finished stages; an interrupted
training resumes from its last checkpoint instead of starting over."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

STAGES = ("retarget", "train", "export", "eval", "sim2sim")
METRICS = ("mpkpe", "root_relative_mpkpe", "joint_pos_error", "joint_vel_error", "ee_pos_error", "ee_ori_error")


def _demo(out: Path, *extra: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mimiclab", "demo", "-o", str(out), "--num-envs", "4", *extra],
                          capture_output=True, text=True, timeout=900, **kw)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    res = _demo(out, "--iterations", "2")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return out, json.loads((out / "demo.json").read_text()), res


def test_every_stage_reports_its_metrics(demo_run):
    out, d, _ = demo_run
    assert d["preset"] == "cpu-quick" and d["smoke_scale"] is True and d["device"] == "cpu"
    assert d["settings"]["iterations"] == 2 and d["settings"]["num_envs"] == 4
    assert all(d["stages"][s]["status"] == "done" for s in STAGES), d["stages"]
    clips = d["stages"]["retarget"]["clips"]
    assert {"walk", "arm_wave", "walk_coco17"} <= set(clips)
    assert all(q["joint_limit_violation_frames"] == 0 and q["frames"] > 10 for q in clips.values())
    train = d["stages"]["train"]
    assert train["curves"]["iteration"] == [0, 1]
    assert len(train["curves"]["Train/mean_episode_length"]) == 2
    assert (out / train["checkpoint"]).name == "model_1.pt"
    export = d["stages"]["export"]
    assert export["observation_dim"] == 248 and export["num_actions"] == 29  # the proprioceptive actor
    assert (out / export["policy_dir"] / "policy.onnx").is_file()
    for stage in ("eval", "sim2sim"):
        m = d["stages"][stage]["metrics"]
        assert set(m["clips"]) >= {"walk", "arm_wave"}, stage
        for name in METRICS:
            assert math.isfinite(m["overall"][name]) and m["overall"][name] >= 0, (stage, name)
    assert d["stages"]["eval"]["metrics"]["overall"]["num_clips"] == len(clips)
    s2s = d["stages"]["sim2sim"]
    assert s2s["video"] or s2s["keyframes"], "neither a video nor a keyframe strip"
    assert (out / s2s["plot"]).stat().st_size > 10_000


def test_report_is_written_from_the_run(demo_run):
    out, d, res = demo_run
    html = (out / "report.html").read_text()
    assert "http://" not in html and "https://" not in html  # self-contained
    for clip in d["stages"]["eval"]["metrics"]["clips"]:
        assert clip in html
    mpkpe_mm = d["stages"]["eval"]["metrics"]["overall"]["mpkpe"] * 1000
    assert f"{mpkpe_mm:.1f}" in html  # numbers come from this run
    assert (out / "figures" / "training_curves.png").stat().st_size > 10_000
    assert str(out / "report.html") in res.stdout
    assert not list(out.rglob(".*.tmp"))


def test_rerun_reuses_every_finished_stage(demo_run):
    out, _, _ = demo_run
    res = _demo(out, "--iterations", "2")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    d = json.loads((out / "demo.json").read_text())
    assert all(d["stages"][s]["cached"] for s in STAGES), {s: d["stages"][s]["cached"] for s in STAGES}
    assert res.stdout.count("reused") == len(STAGES)


def test_changed_settings_redo_training_but_not_retargeting(demo_run, tmp_path):
    import shutil

    out, _, _ = demo_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    res = _demo(copy, "--iterations", "1")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    d = json.loads((copy / "demo.json").read_text())
    assert d["stages"]["retarget"]["cached"] is True
    assert d["stages"]["train"]["cached"] is False and d["stages"]["train"]["curves"]["iteration"] == [0]


def test_interrupted_training_resumes(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "mimiclab", "demo", "-o", str(out), "--num-envs", "4", "--iterations", "8"]
    # SIGINT as a terminal delivers it: default disposition in the child even when this test runs in a
    # background job (where the shell sets SIGINT to ignored and children would inherit that)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 600
    while time.time() < deadline and not list((out / "train").rglob("model_0.pt")):
        assert proc.poll() is None, "the demo ended before training wrote a checkpoint"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the demo and its training subprocess
    proc.wait(timeout=120)
    assert proc.returncode != 0
    d = json.loads((out / "demo.json").read_text())
    assert "train" not in d["stages"] or d["stages"]["train"]["status"] != "done"
    res = _demo(out, "--iterations", "8")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    d = json.loads((out / "demo.json").read_text())
    assert d["stages"]["retarget"]["cached"] is True
    train = d["stages"]["train"]
    assert train["resumed_from"] is not None and "resuming from" in res.stdout
    assert train["curves"]["iteration"][-1] == 7 and (out / train["checkpoint"]).name == "model_7.pt"
    assert len(train["log_dirs"]) == 2  # the first run's checkpoints and the resumed run's
