"""Issue #7 CPU smoke: a GMT base from a short tracking run, then `Mimic-Residual-Box-G1` with 4 envs on
the shipped box-carry sample for a few iterations: checkpoint, combined export, eval, sim2sim with the
object; the ResMimic baselines (finetune, scratch) run through the same script; a base whose contract
does not fit is refused before anything is built."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

RESIDUAL = "Mimic-Residual-Box-G1"


def _mimiclab(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "MIMICLAB_MOTION"}
    return subprocess.run([sys.executable, "-m", "mimiclab", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def _ok(res):
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def _runs(ws: Path, experiment: str) -> list[Path]:
    return sorted((ws / "logs" / "rsl_rl" / experiment).iterdir())


@pytest.fixture(scope="module")
def box_clip(tmp_path_factory) -> Path:
    from mimiclab.retarget.attach_object import make_box_carry_motion

    return make_box_carry_motion(tmp_path_factory.mktemp("box"))


@pytest.fixture(scope="module")
def base_checkpoint(tmp_path_factory, box_clip) -> Path:
    """A GMT base: Mimic-Track-G1 for 1 iteration on the box-carry clip (its robot part)."""
    ws = tmp_path_factory.mktemp("base")
    _ok(_mimiclab("train", "--task", "Mimic-Track-G1", "--motion", box_clip, "--num_envs", "4",
                  "--max_iterations", "1", "--device", "cpu", cwd=ws))
    return _runs(ws, "g1_tracking")[0] / "model_0.pt"


@pytest.fixture(scope="module")
def residual_run(tmp_path_factory, box_clip, base_checkpoint) -> Path:
    ws = tmp_path_factory.mktemp("residual")
    _ok(_mimiclab("train", "--task", RESIDUAL, "--motion", box_clip, "--base", base_checkpoint, "--num_envs", "4",
                  "--max_iterations", "2", "--device", "cpu", cwd=ws))
    return _runs(ws, "g1_residual_box")[0]


def test_residual_training_writes_checkpoints_and_a_combined_export(residual_run):
    import torch

    from mimiclab.deploy.onnx_policy import OnnxPolicy
    from mimiclab.rl.residual import residual_actor_settings

    assert sorted(p.name for p in residual_run.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
    ck = torch.load(residual_run / "model_1.pt", weights_only=True)
    assert any(k.startswith("base.") for k in ck["actor_state_dict"])  # the frozen base travels with the run
    assert residual_actor_settings(residual_run / "model_1.pt")["mode"] == "residual"
    policy = OnnxPolicy.load(residual_run / "exported")  # ONE policy: base + residual
    names = [t.name for t in policy.contract.observations]
    assert names[-4:] == ["object_pos", "object_ori", "ref_object_pos", "ref_object_ori"]
    residual = policy.contract.extra["residual"]  # provenance of the frozen base travels with the export
    assert residual["residual_mode"] == "residual" and residual["base_observation_dim"] == 248
    assert policy.contract.observation_dim == 266 and policy.contract.task == RESIDUAL
    assert not policy.contract.proprioceptive  # ref_object_pos: the clip's object in the robot's frame


def test_frozen_base_did_not_change(residual_run, base_checkpoint):
    """The base inside the residual checkpoint equals the base checkpoint's actor after training."""
    import torch

    base = torch.load(base_checkpoint, weights_only=True)["actor_state_dict"]
    res = torch.load(residual_run / "model_1.pt", weights_only=True)["actor_state_dict"]
    base_weights = sorted((v for k, v in base.items() if k.startswith("mlp.") and k.endswith("weight")),
                          key=lambda t: t.numel())
    frozen = sorted((v for k, v in res.items() if k.startswith("base.t")), key=lambda t: t.numel())
    matched = [any(f.shape == b.shape and torch.equal(f, b) for f in frozen) for b in base_weights]
    assert all(matched), "a base layer changed during residual training"


def test_export_and_eval_of_a_residual_checkpoint(residual_run, box_clip, tmp_path):
    from mimiclab.deploy.onnx_policy import OnnxPolicy

    ck = residual_run / "model_1.pt"
    _ok(_mimiclab("export", "--checkpoint", ck, "-o", tmp_path / "policy", cwd=tmp_path))
    assert OnnxPolicy.load(tmp_path / "policy").contract.observation_dim == 266
    _ok(_mimiclab("eval", "--checkpoint", ck, "--motion", box_clip, "-o", tmp_path / "ev", cwd=tmp_path))
    report = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert report["task"] == "Mimic-Residual-Box-G1-Play"
    assert all(math.isfinite(v) for k, v in report["overall"].items() if isinstance(v, float))
    assert report["units"]["object_pointcloud_distance"] == "m"  # the same object metric as sim2sim
    assert 0.0 <= report["clips"]["box_carry"]["object_pointcloud_distance"] < 0.3


@pytest.mark.parametrize("mode", ["finetune", "scratch"])
def test_baselines_run_through_the_same_script(mode, box_clip, base_checkpoint, tmp_path):
    from mimiclab.rl.residual import residual_actor_settings

    base = ["--base", base_checkpoint] if mode == "finetune" else []
    _ok(_mimiclab("train", "--task", RESIDUAL, "--motion", box_clip, *base, "--num_envs", "4",
                  "--max_iterations", "1", "--device", "cpu", f"agent.actor.mode={mode}", cwd=tmp_path))
    ck = _runs(tmp_path, "g1_residual_box")[0] / "model_0.pt"
    assert residual_actor_settings(ck)["mode"] == mode


def test_a_base_that_does_not_fit_is_refused_before_building(base_checkpoint, box_clip, tmp_path):
    import shutil

    bad = tmp_path / "run"
    bad.mkdir()
    shutil.copy(base_checkpoint, bad / "model_0.pt")
    contract = json.loads((base_checkpoint.parent / "contract.json").read_text())
    contract["decimation"], contract["control_dt"] = 2, contract["physics_dt"] * 2
    (bad / "contract.json").write_text(json.dumps(contract))
    res = _mimiclab("train", "--task", RESIDUAL, "--motion", box_clip, "--base", bad / "model_0.pt", cwd=tmp_path)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("mimiclab train: error:")]
    assert len(lines) == 1 and "control_dt" in lines[0], res.stderr[-2000:]
    assert not (tmp_path / "logs").exists()


def test_sim2sim_runs_the_combined_policy_with_the_object(residual_run, box_clip, tmp_path):
    res = _ok(_mimiclab("sim2sim", "--policy", residual_run / "exported", "--motion", box_clip, "-o", tmp_path / "s2s",
                        cwd=tmp_path))
    report = json.loads((tmp_path / "s2s" / "metrics.json").read_text())
    clip = report["clips"]["box_carry"]
    assert clip["steps"] >= 1 and math.isfinite(clip["object_pointcloud_distance"])
    assert report["units"]["object_pointcloud_distance"] == "m"
    assert "object_pointcloud_distance" in res.stdout
