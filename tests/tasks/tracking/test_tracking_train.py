"""`isaaclab train --rl_library rsl_rl --task ID --device cpu` on two clips (2 iterations) for both tracking
task ids, with the task's own (default CPU) physics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("task, experiment", [("Mimic-Track-G1", "g1_tracking"),
                                              ("Mimic-Track-G1-StateEstimation", "g1_tracking_state_estimation")])
def test_isaaclab_train_trains_the_tracking_task(tmp_path, two_clips, task, experiment):
    exe = Path(sys.executable).with_name("isaaclab")
    env = {k: v for k, v in os.environ.items() if k != "MIMICLAB_PHYSICS"}
    env["MIMICLAB_MOTION"] = os.pathsep.join(str(p) for p in two_clips)
    res = subprocess.run([str(exe), "train", "--rl_library", "rsl_rl", "--task", task, "--device", "cpu",
                          "--num_envs", "8", "--max_iterations", "2"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    checkpoints = sorted(p.name for p in tmp_path.glob(f"logs/rsl_rl/{experiment}/*/model_*.pt"))
    assert checkpoints == ["model_0.pt", "model_1.pt"], checkpoints
    assert "Metrics/motion/error_anchor_pos" in res.stdout


def test_isaaclab_train_without_motion_files_fails_clearly(tmp_path):
    exe = Path(sys.executable).with_name("isaaclab")
    env = {k: v for k, v in os.environ.items() if k != "MIMICLAB_MOTION"}
    res = subprocess.run([str(exe), "train", "--rl_library", "rsl_rl", "--task", "Mimic-Track-G1", "--device", "cpu",
                          "--num_envs", "2", "--max_iterations", "1"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode != 0
    assert "MIMICLAB_MOTION" in res.stdout + res.stderr
