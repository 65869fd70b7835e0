"""scripts/gpu_check.sh in --dry-run mode (the same steps at smoke size on the CPU), so the GPU
check a GPU session runs first cannot rot between sessions that have a GPU."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_dry_run_runs_every_step_into_one_json(tmp_path):
    out = tmp_path / "gpu_check"
    res = subprocess.run(["bash", str(ROOT / "scripts/gpu_check.sh"), "--dry-run", "-o", str(out)],
                         capture_output=True, text=True, timeout=900)
    log = (out / "gpu_check.log").read_text() if (out / "gpu_check.log").is_file() else ""
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:] + log[-3000:]
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["dry_run"] and report["ok"]
    assert set(report["steps"]) == {"setup", "device", "pytest", "kernels", "env", "clips", "train"}
    assert all(s["exit_code"] == 0 for s in report["steps"].values())
    assert report["kernels"] and report["env"]  # the benches wrote their JSON
    assert any(r.get("backend") == "physics_only" for r in report["env"])
    training = report["training"]
    assert training["iterations"] == 2 and "Train/mean_reward" in training
    assert "torch" in log and "pytest" in log


def test_gpu_check_refuses_unknown_options():
    res = subprocess.run(["bash", str(ROOT / "scripts/gpu_check.sh"), "--fast"], capture_output=True, text=True)
    assert res.returncode == 2 and "unknown option --fast" in res.stderr
