"""GenMimic's teacher → student on the CPU: the privileged teacher (Mimic-TrackKeypoints-G1-Teacher,
PPO) for 1 iteration, then the deployable keypoint student distilled from its checkpoint through
rsl_rl's Distillation (`mimiclab train --task Mimic-TrackKeypoints-G1 --teacher CKPT`) for 2, its
export + contract, `mimiclab sim2sim` and `mimiclab eval` of the student; bad --teacher input →
one-line errors before anything is built."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

TASK = "Mimic-TrackKeypoints-G1"
TEACHER_TASK = f"{TASK}-Teacher"


def _mimiclab(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "MIMICLAB_MOTION"}
    return subprocess.run([sys.executable, "-m", "mimiclab", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def _ok(res):
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def _one_line_error(res) -> str:
    assert res.returncode != 0
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("mimiclab train: error:")]
    assert len(lines) == 1, res.stderr[-2000:]
    return lines[0]


def test_registry_configs_of_teacher_and_student():
    """As Isaac Lab's registry builds them: the student env carries the teacher's input as a
    noise-free ``teacher`` group; the teacher's task trains that input (with noise) as its actor and
    is not proprioceptive; the distillation config's teacher model is the teacher's PPO actor (so its
    checkpoint loads) and the student has the PPO actor's layers (so a student exports like one)."""
    import gymnasium as gym
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry, parse_env_cfg

    import mimiclab.tasks  # noqa: F401
    from mimiclab.deploy.tracking_mdp import KEYPOINT_ACTOR_TERMS, KEYPOINT_TEACHER_ACTOR_TERMS

    def terms(group):
        return tuple(n for n, t in vars(group).items() if hasattr(t, "func"))

    student = parse_env_cfg(TASK, device="cpu", num_envs=2)
    assert terms(student.observations.policy) == KEYPOINT_ACTOR_TERMS
    assert terms(student.observations.teacher) == KEYPOINT_TEACHER_ACTOR_TERMS
    assert not student.observations.teacher.enable_corruption and student.proprioceptive
    teacher = parse_env_cfg(TEACHER_TASK, device="cpu", num_envs=2)
    assert terms(teacher.observations.policy) == KEYPOINT_TEACHER_ACTOR_TERMS
    assert teacher.observations.policy.enable_corruption and teacher.observations.teacher is None
    assert teacher.observations.policy.base_lin_vel.noise is not None and not teacher.proprioceptive
    assert teacher.actions.joint_pos.offset_from == student.actions.joint_pos.offset_from == "default"
    assert teacher.rewards.keypoint_pos.params == student.rewards.keypoint_pos.params
    assert f"{TEACHER_TASK}-Play" in gym.registry
    assert "rsl_rl_distillation_cfg_entry_point" not in gym.registry[TEACHER_TASK].kwargs
    distill = load_cfg_from_registry(TASK, "rsl_rl_distillation_cfg_entry_point")
    ppo_teacher = load_cfg_from_registry(TEACHER_TASK, "rsl_rl_cfg_entry_point")
    ppo_student = load_cfg_from_registry(TASK, "rsl_rl_cfg_entry_point")
    assert distill.class_name == "DistillationRunner" and distill.algorithm.class_name == "Distillation"
    assert distill.obs_groups == {"student": ["policy"], "teacher": ["teacher"]}
    assert distill.teacher.to_dict() == ppo_teacher.actor.to_dict()
    for key in ("class_name", "hidden_dims", "activation", "obs_normalization"):
        assert getattr(distill.student, key) == getattr(ppo_student.actor, key), key
    assert distill.student.distribution_cfg.class_name == ppo_student.actor.distribution_cfg.class_name
    steps = distill.algorithm.num_learning_epochs * distill.num_steps_per_env
    assert steps % distill.algorithm.gradient_length == 0  # every stored step is backpropagated
    assert ppo_teacher.experiment_name != ppo_student.experiment_name != distill.experiment_name


@pytest.fixture(scope="module")
def distilled(tmp_path_factory, two_clips):
    """The teacher trained 1 iteration, then the student distilled from it for 2 (4 envs each)."""
    ws = tmp_path_factory.mktemp("distill")
    clips = [str(p) for p in two_clips]
    teacher = _ok(_mimiclab("train", "--task", TEACHER_TASK, "--motion", *clips, "--num_envs", "4",
                            "--max_iterations", "1", "--device", "cpu", cwd=ws))
    (teacher_ckpt,) = ws.glob("logs/rsl_rl/g1_tracking_keypoints_teacher/*/model_0.pt")
    student = _ok(_mimiclab("train", "--task", TASK, "--teacher", teacher_ckpt, "--motion", *clips, "--num_envs", "4",
                            "--max_iterations", "2", "--device", "cpu", cwd=ws))
    (run,) = ws.glob("logs/rsl_rl/g1_tracking_keypoints_student/*")
    return {"ws": ws, "teacher": teacher, "teacher_ckpt": teacher_ckpt, "student": student, "run": run,
            "clips": two_clips}


def test_student_is_distilled_from_the_teacher_checkpoint(distilled):
    run = distilled["run"]
    assert sorted(p.name for p in run.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
    out = distilled["student"].stdout
    assert "Mean behavior loss" in out and "Loading model checkpoint" in out
    losses = [float(ln.split(":")[-1]) for ln in out.splitlines() if "Mean behavior loss" in ln]
    assert len(losses) == 2 and all(math.isfinite(v) and v > 0 for v in losses)
    teacher = torch.load(distilled["teacher_ckpt"], map_location="cpu", weights_only=True)
    student = torch.load(run / "model_1.pt", map_location="cpu", weights_only=True)
    assert student["iter"] == 1 and set(student) >= {"student_state_dict", "teacher_state_dict"}
    frozen = teacher["actor_state_dict"]
    assert set(student["teacher_state_dict"]) == set(frozen)
    assert all(torch.equal(student["teacher_state_dict"][k], frozen[k]) for k in frozen)  # loaded, never trained
    first = torch.load(run / "model_0.pt", map_location="cpu", weights_only=True)["student_state_dict"]
    changed = [k for k in first if not torch.equal(first[k], student["student_state_dict"][k])]
    assert any(k.startswith("mlp.") for k in changed), changed  # the student learns


def test_student_exports_a_deployable_keypoint_contract(distilled):
    from mimiclab.deploy.contract import load_contract
    from mimiclab.deploy.tracking_mdp import KEYPOINT_ACTOR_TERMS, KEYPOINT_WEIGHTS

    exported = distilled["run"] / "exported"
    contract = load_contract(exported / "contract.json")
    assert contract.task == TASK and tuple(t.name for t in contract.observations) == KEYPOINT_ACTOR_TERMS
    assert contract.proprioceptive and contract.keypoint_weights == KEYPOINT_WEIGHTS
    assert contract.observation_dim == 285 and contract.action_offset_from == "default"
    teacher = load_contract(distilled["teacher_ckpt"].parent / "exported" / "contract.json")
    assert teacher.task == TEACHER_TASK and not teacher.proprioceptive and teacher.observation_dim == 419
    assert [t.name for t in teacher.observations if t.needs_state_estimation] == ["base_lin_vel"]


def test_student_runs_in_sim2sim_and_in_isaac_lab_eval(distilled, tmp_path):
    walk = str(distilled["clips"][0])
    _ok(_mimiclab("sim2sim", "--policy", distilled["run"] / "exported", "--motion", walk, "-o", tmp_path / "s2s",
                  cwd=tmp_path))
    s2s = json.loads((tmp_path / "s2s" / "metrics.json").read_text())
    _ok(_mimiclab("eval", "--checkpoint", distilled["run"] / "model_1.pt", "--motion", walk, "-o", tmp_path / "ev",
                  cwd=tmp_path))
    isaac = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert isaac["task"] == f"{TASK}-Play"
    for report in (s2s, isaac):
        assert math.isfinite(report["overall"]["mpkpe"]) and report["overall"]["mpkpe"] > 0


def test_bad_teacher_input_is_refused_in_one_line(distilled, tmp_path):
    ws, clips = distilled["ws"], [str(p) for p in distilled["clips"]]
    base = ["train", "--task", TASK, "--motion", *clips, "--max_iterations", "1", "--num_envs", "2"]
    line = _one_line_error(_mimiclab(*base, "--teacher", tmp_path / "missing.pt", cwd=tmp_path))
    assert "missing.pt: no such file" in line
    line = _one_line_error(_mimiclab(*base, "--teacher", distilled["run"] / "model_1.pt", cwd=tmp_path))
    assert "a distilled student" in line
    line = _one_line_error(_mimiclab("train", "--task", "Mimic-Track-G1", "--motion", *clips, "--teacher",
                                     distilled["teacher_ckpt"], cwd=tmp_path))
    assert "Mimic-Track-G1 has no teacher-student distillation" in line and TASK in line
    wrong = tmp_path / "wrong"  # a PPO checkpoint whose actor observes the student's terms, not the teacher's
    wrong.mkdir()
    shutil.copy(distilled["teacher_ckpt"], wrong / "model_0.pt")
    shutil.copy(distilled["run"] / "contract.json", wrong / "contract.json")
    line = _one_line_error(_mimiclab(*base, "--teacher", wrong / "model_0.pt", cwd=tmp_path))
    assert "the teacher of Mimic-TrackKeypoints-G1 observes" in line
    assert not (tmp_path / "logs").exists()
    assert sorted(p.name for p in ws.glob("logs/rsl_rl/*")) == ["g1_tracking_keypoints_student",
                                                                "g1_tracking_keypoints_teacher"]
