"""Issue #5 acceptance smoke on the CPU: `mimiclab train` (Mimic-Track-G1, 8 envs, two clips) for 2
PPO iterations, `--resume` for 1 more, `mimiclab eval` → finite metrics for both clips; bad input →
one-line errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

TASK = "Mimic-Track-G1"
EXPECTED_METRICS = ("mpkpe", "root_relative_mpkpe", "joint_pos_error", "joint_vel_error", "ee_pos_error",
                    "ee_ori_error")


def _mimiclab(*args, cwd, env_extra=None, drop_motion_env=True):
    env = {k: v for k, v in os.environ.items() if not (drop_motion_env and k == "MIMICLAB_MOTION")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "mimiclab", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def _ok(res):
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def _one_line_error(res, command):
    assert res.returncode != 0
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith(f"mimiclab {command}: error:")]
    assert len(lines) == 1, res.stderr[-2000:]
    return lines[0]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """walk.npz and arm_wave.npz (G1, 50 fps) in one folder, from the synthetic BVH samples."""
    from mimiclab.retarget.batch import retarget_files
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.retarget.sources.synthetic import write_samples

    root = tmp_path_factory.mktemp("clips")
    bvh = [str(p) for p in write_samples(root / "src") if p.suffix == ".bvh"]
    results = retarget_files(bvh, str(root / "g1"), RetargetSettings(), progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    return root / "g1"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, clips):
    """Train 2 iterations, then resume for up to 5 with a time budget that the first one uses up
    (both in the same working directory)."""
    ws = tmp_path_factory.mktemp("train")
    first = _ok(_mimiclab("train", "--task", TASK, "--motion", clips, "--num_envs", "8", "--max_iterations", "2",
                          "--device", "cpu", cwd=ws))
    runs = sorted((ws / "logs" / "rsl_rl" / "g1_tracking").iterdir())
    assert len(runs) == 1, runs
    second = _ok(_mimiclab("train", "--task", TASK, "--motion", clips / "*.npz", "--max_iterations", "5",
                           "--time_budget", "0.01", "--resume", "env.scene.num_envs=8",
                           cwd=ws))  # device: the default (cpu here)
    return {"ws": ws, "first": first, "second": second, "first_run": runs[0]}


def test_train_writes_checkpoints_and_tensorboard_logs(workspace):
    run = workspace["first_run"]
    assert sorted(p.name for p in run.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
    assert list(run.glob("events.out.tfevents.*")), "no TensorBoard event file"
    assert not list(run.glob(".*.tmp")), "temporary checkpoint left behind"
    agent = (run / "params" / "agent.yaml").read_text()
    assert "device: cpu" in agent  # the learner follows the env device
    assert "logger: tensorboard" in agent
    import torch

    ck = torch.load(run / "model_1.pt", weights_only=True)
    assert ck["iter"] == 1 and "actor_state_dict" in ck


def test_resume_continues_from_the_last_checkpoint(workspace):
    out = workspace["second"].stdout
    assert f"Loading model checkpoint from: {workspace['first_run'] / 'model_1.pt'}" in out
    runs = sorted((workspace["ws"] / "logs" / "rsl_rl" / "g1_tracking").iterdir())
    assert len(runs) == 2  # Isaac Lab gives the resumed run its own folder
    assert sorted(p.name for p in runs[1].glob("model_*.pt")) == ["model_2.pt"]  # the count continues
    assert "time budget of 0.01 s reached: 1 of 5 iterations fitted" in workspace["second"].stdout
    assert (runs[1] / "exported" / "policy.onnx").is_file()  # stopped by the budget, exported as at an end
    import torch

    resumed = torch.load(runs[1] / "model_2.pt", weights_only=True)
    assert resumed["iter"] == 2
    first = torch.load(workspace["first_run"] / "model_1.pt", weights_only=True)["motion_sampler"]
    assert resumed["motion_sampler"]["failure"].shape == first["failure"].shape  # adaptive sampling state saved
    assert "motion sampler state not restored" not in workspace["second"].stdout


def test_eval_writes_finite_metrics_for_every_clip(workspace, clips, tmp_path):
    ck = next((workspace["ws"] / "logs" / "rsl_rl" / "g1_tracking").glob("*/model_2.pt"))
    res = _ok(_mimiclab("eval", "--checkpoint", ck, "--motion", clips / "walk.npz", clips / "arm_wave.npz",
                        "-o", tmp_path / "ev", "--device", "cpu", cwd=tmp_path))
    report = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert set(report["clips"]) == {"walk", "arm_wave"}
    for name, c in report["clips"].items():
        assert isinstance(c["success"], bool)
        assert c["steps"] >= 1 and c["frames"] > 1
        assert c["tracked_s"] <= c["duration_s"] + 0.05
        for m in EXPECTED_METRICS:
            assert math.isfinite(c[m]) and c[m] >= 0.0, (name, m, c[m])
        assert name in res.stdout
    o = report["overall"]
    assert o["num_clips"] == 2 and 0.0 <= o["success_rate"] <= 1.0
    assert all(math.isfinite(o[m]) for m in EXPECTED_METRICS)
    assert set(report["units"]) >= {"success", "success_rate", *EXPECTED_METRICS}
    assert "overall" in res.stdout


def test_eval_rejects_a_missing_checkpoint(tmp_path, clips):
    line = _one_line_error(_mimiclab("eval", "--checkpoint", tmp_path / "nope.pt", "--motion", clips, cwd=tmp_path),
                           "eval")
    assert "nope.pt" in line


def test_eval_rejects_motion_that_matches_nothing(tmp_path):
    (tmp_path / "m.pt").write_bytes(b"not a checkpoint")
    line = _one_line_error(_mimiclab("eval", "--checkpoint", tmp_path / "m.pt", "--motion", tmp_path / "none*.npz",
                                     cwd=tmp_path), "eval")
    assert "matches no motion files" in line


def test_eval_rejects_a_file_that_is_not_a_checkpoint(tmp_path, clips):
    (tmp_path / "m.pt").write_bytes(b"not a checkpoint")
    line = _one_line_error(_mimiclab("eval", "--checkpoint", tmp_path / "m.pt", "--motion", clips, cwd=tmp_path),
                           "eval")
    assert "not a readable rsl_rl checkpoint" in line


def test_train_rejects_an_unknown_task(tmp_path, clips):
    line = _one_line_error(_mimiclab("train", "--task", "Mimic-Nope", "--motion", clips, cwd=tmp_path), "train")
    assert "unknown task 'Mimic-Nope'" in line and "Mimic-Track-G1" in line


def test_train_rejects_a_tracking_task_without_motion(tmp_path):
    for task in (TASK, "Mimic-TrackKeypoints-G1"):
        line = _one_line_error(_mimiclab("train", "--task", task, "--max_iterations", "1", cwd=tmp_path), "train")
        assert task in line and "--motion" in line
    line = _one_line_error(_mimiclab("train", "--task", TASK, "--motion", tmp_path / "missing.npz", cwd=tmp_path),
                           "train")
    assert "missing.npz" in line


def test_train_video_without_isaac_sim_is_a_one_line_error(tmp_path, clips):
    import importlib.util

    if importlib.util.find_spec("isaacsim") is not None:
        pytest.skip("Isaac Sim is installed here: --video records through Kit")
    line = _one_line_error(_mimiclab("train", "--task", TASK, "--motion", clips, "--video", "--max_iterations", "1",
                                     cwd=tmp_path), "train")
    assert "--video" in line and "sim2sim" in line
    assert not (tmp_path / "logs").exists()


def test_train_argv_handling():
    from mimiclab.rl.train import TrainError, prepare_argv

    argv = prepare_argv(["--task", TASK, "--device", "cpu", "--video", "env.scene.num_envs=4", "--resume"])
    assert argv[:4] == ["--task", TASK, "--device", "cpu"] and "--video" in argv
    assert "env.scene.num_envs=4" in argv and "agent.device=cpu" in argv
    assert argv[-2:] == ["--checkpoint", "latest"] and "--resume" not in argv
    argv = prepare_argv(["--task", TASK, "--device", "cuda:1", "agent.device=cpu"])
    assert argv.count("agent.device=cpu") == 1 and "agent.device=cuda:1" not in argv
    distributed = prepare_argv(["--task", TASK, "--device", "cuda:0", "--distributed"])
    assert "agent.device=cuda:0" not in distributed
    stamps = [a for a in distributed if a.startswith("--run_timestamp=")]  # one run folder for every rank
    assert len(stamps) == 1 and stamps == [a for a in prepare_argv(["--task", TASK, "--distributed"])
                                           if a.startswith("--run_timestamp=")]
    assert not any(a.startswith("--run_timestamp=20") for a in
                   prepare_argv(["--task", TASK, "--distributed", "--run_timestamp=mine"]))
    with pytest.raises(TrainError, match="--task"):
        prepare_argv(["--num_envs", "2"])
    with pytest.raises(TrainError, match="exclude"):
        prepare_argv(["--task", TASK, "--resume", "--checkpoint", "x.pt"])


def test_motion_args_swallowed_hydra_overrides_are_given_back(tmp_path, monkeypatch):
    from mimiclab.rl.motion_args import MOTION_ENV_VAR
    from mimiclab.rl.train import prepare_argv

    clip = tmp_path / "a.npz"
    clip.write_bytes(b"")
    monkeypatch.delenv(MOTION_ENV_VAR, raising=False)
    argv = prepare_argv(["--task", TASK, "--motion", str(clip), "env.scene.num_envs=4", "--device", "cpu"])
    assert "env.scene.num_envs=4" in argv
    assert os.environ[MOTION_ENV_VAR] == str(clip.resolve())


# --- issue #6: the contract written by training, export at the end of training and from a checkpoint ---


def test_training_writes_the_contract_and_exports_at_its_end(workspace):
    from mimiclab.deploy.contract import load_contract
    from mimiclab.deploy.onnx_policy import OnnxPolicy
    from mimiclab.robots.g1 import G1

    run = workspace["first_run"]
    at_start = load_contract(run / "contract.json")
    policy = OnnxPolicy.load(run / "exported")
    assert policy.contract.digest() == at_start.digest()
    assert policy.contract.extra["iteration"] == 1
    c = at_start  # read off the managers: it must agree with the robot table and the reference MDP
    assert c.joint_names == G1.joint_names and c.task == TASK
    for k, attr in (("kp", "kp"), ("kd", "kd"), ("default_joint_pos", "default_pos"), ("action_scale", "action_scale")):
        assert getattr(c, k) == pytest.approx([getattr(j, attr) for j in G1.joints], rel=1e-5), k
    assert c.action_offset == pytest.approx(c.default_joint_pos)
    assert c.armature == pytest.approx([j.actuator.armature for j in G1.joints], rel=1e-5)
    assert c.effort_limit == pytest.approx([j.actuator.effort_limit for j in G1.joints])
    assert [t.name for t in c.observations] == ["ref_joint_pos", "ref_anchor_pos_local", "ref_anchor_lin_vel",
                                                "ref_anchor_ori", "projected_gravity", "base_ang_vel", "joint_pos",
                                                "joint_vel", "actions"]
    assert c.observation_dim == 248 and c.future_offsets == (1, 2, 4, 8)
    assert c.reference_inputs == ("ref_joint_pos", "ref_anchor_pos_local", "ref_anchor_lin_vel", "ref_anchor_ori")
    assert c.proprioceptive and all(t.signals for t in c.observations)  # the default actor needs no state estimator
    assert (c.anchor_body, c.base_body, c.physics_dt, c.decimation) == ("torso_link", "pelvis", 0.005, 4)


def test_export_cli_writes_a_validated_policy(workspace, tmp_path):
    from mimiclab.deploy.onnx_policy import OnnxPolicy

    ck = next((workspace["ws"] / "logs" / "rsl_rl" / "g1_tracking").glob("*/model_2.pt"))
    res = _ok(_mimiclab("export", "--checkpoint", ck, "-o", tmp_path / "out", cwd=tmp_path))
    assert "248 numbers" in res.stdout
    policy = OnnxPolicy.load(tmp_path / "out")  # hash + metadata + inputs checked against the contract
    assert policy.contract.extra["iteration"] == 2
    assert not list((tmp_path / "out").glob(".*.tmp"))
    zeros = {t.name: [0.0] * t.dim for t in policy.contract.observations}
    assert policy(zeros).shape == (29,)


def test_eval_refuses_a_checkpoint_whose_contract_does_not_fit(workspace, clips, tmp_path):
    import shutil

    run = next((workspace["ws"] / "logs" / "rsl_rl" / "g1_tracking").glob("*/model_2.pt")).parent
    bad = tmp_path / "run"
    bad.mkdir()
    shutil.copy(run / "model_2.pt", bad / "model_2.pt")
    contract = json.loads((run / "contract.json").read_text())
    contract["joint_names"][0], contract["joint_names"][1] = contract["joint_names"][1], contract["joint_names"][0]
    (bad / "contract.json").write_text(json.dumps(contract))
    line = _one_line_error(_mimiclab("eval", "--checkpoint", bad / "model_2.pt", "--motion", clips / "walk.npz",
                                     "-o", tmp_path / "ev", cwd=tmp_path), "eval")
    assert "joint_names order differs" in line and "index 0" in line
    line = _one_line_error(_mimiclab("export", "--checkpoint", bad / "model_2.pt", "-o", tmp_path / "x",
                                     cwd=tmp_path), "export")
    assert "joint_names order differs" in line
    assert not (tmp_path / "x" / "policy.onnx").exists()
