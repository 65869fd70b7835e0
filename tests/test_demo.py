"""`mimiclab demo` (the main job) runs end to end here and writes its figures."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_runs_end_to_end(tmp_path):
    out = tmp_path / "demo"
    res = subprocess.run([sys.executable, "-m", "mimiclab", "demo", "-o", str(out)],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    summary = json.loads((out / "demo.json").read_text())
    stand = summary["stand"]
    assert stand["nan"] is False and stand["control_steps"] == 100
    assert len(stand["pelvis_height_m"]) == 100 and len(stand["pelvis_height_m"][0]) == stand["num_envs"]
    assert {(r["kernel"], r["backend"]) for r in summary["kernels"]} >= {("fk", "cpp"), ("ik", "cpp")}
    assert (out / "stand_rollout.png").stat().st_size > 10_000
    assert not list(out.glob(".*.tmp"))
    assert "train" in summary["stages_missing"]  # says honestly what is not there yet
    clips = {r["clip"]: r["quality"] for r in summary["retarget"]}
    assert {"walk", "arm_wave", "walk_coco17"} <= set(clips)
    assert all(q["joint_limit_violation_frames"] == 0 for q in clips.values())
    assert (out / "motions" / "walk.npz").is_file()
