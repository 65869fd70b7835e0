"""A generated clip is a motion the rest of the pipeline accepts: it trains the tracking task for
one PPO iteration (Mimic-Track-G1 as the registry builds it, CPU) and runs in MuJoCo sim2sim
through the exported policy."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.isaaclab


def _mimiclab(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "MIMICLAB_MOTION"}
    res = subprocess.run([sys.executable, "-m", "mimiclab", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                         timeout=900, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def test_a_generated_clip_trains_the_tracking_task_and_runs_in_sim2sim(mirror_data, tmp_path):
    clip = tmp_path / "clips" / "walk_generated.npz"
    clip.parent.mkdir()
    _mimiclab("generate", "--model", mirror_data["model"], "--text", "walk, normal", "-o", clip, "--seconds", "3",
              cwd=tmp_path)
    _mimiclab("train", "--task", "Mimic-Track-G1", "--motion", clip, "--num_envs", "4", "--max_iterations", "1",
              "--device", "cpu", cwd=tmp_path)
    runs = sorted((tmp_path / "logs" / "rsl_rl" / "g1_tracking").iterdir())
    assert len(runs) == 1 and list(runs[0].glob("model_*.pt"))
    exported = runs[0] / "exported"
    assert (exported / "policy.onnx").is_file()
    _mimiclab("sim2sim", "--policy", exported, "--motion", clip, "-o", tmp_path / "sim2sim", cwd=tmp_path)
    metrics = json.loads((tmp_path / "sim2sim" / "metrics.json").read_text())
    text = json.dumps(metrics)
    assert "walk_generated" in text
    numbers = [v for v in _numbers(metrics)]
    assert numbers and all(math.isfinite(v) for v in numbers)


def _numbers(x):
    if isinstance(x, bool):
        return
    if isinstance(x, (int, float)):
        yield float(x)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v)
    elif isinstance(x, list):
        for v in x:
            yield from _numbers(v)
