"""`mimiclab bench env` runs both task families and reports figures measured inside one rollout
(no timing assertions: only that the figures exist, are consistent and are labelled)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("task", ["Mimic-Track-G1", "Mimic-Residual-Box-G1"])
def test_bench_env_reports_physics_mdp_and_pointcloud_share(task, tmp_path):
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, "-m", "mimiclab", "bench", "env", "--task", task, "--num_envs", "4",
                          "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    records = {r["backend"]: r for r in json.loads(out.read_text())}
    physics, mdp = records["physics_only"], records["mdp"]
    assert physics["throughput"] > 0 and mdp["throughput"] > 0
    assert physics["seconds"] < mdp["seconds"]  # physics is timed inside the full-MDP rollout
    assert mdp["mdp_overhead"] == pytest.approx(physics["throughput"] / mdp["throughput"] - 1.0)
    assert f"{task} on cpu, 4 envs" in res.stdout
    if task == "Mimic-Residual-Box-G1":
        pc = records["pointcloud_term"]
        assert 0.0 < pc["share_of_env_step"] < 1.0 and "% of the env step" in res.stdout
    else:
        assert "pointcloud_term" not in records
