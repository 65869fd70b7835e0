"""``mimiclab eval``: a checkpoint tracking every clip of a motion set from t = 0 to its end.

    report = evaluate("logs/rsl_rl/g1_tracking/<run>/model_100.pt", ["clips/"], device="cpu",
                      output_dir="eval_out")            # also writes eval_out/metrics.json

The task is ``Mimic-Track-G1-Play`` (``Mimic-Track-G1-StateEstimation-Play`` for a run of that variant,
read from the run's ``contract.json``; no observation noise, no pushes, no reset noise, clips handed
out in order from t = 0 by the evaluation walker), one env per clip by default (``num_envs`` smaller
than the number of clips: envs take the next clip when they finish). The episode length is set to
cover the longest clip, so an episode ends when its clip ends (success) or a termination fires
(failure). The policy runs deterministically (the actor's mean).

Metrics: ``mimiclab.deploy.metrics`` (names, units and meanings shared with sim2sim).

Per clip also: ``frames`` (clip length), ``duration_s``, ``steps`` (control steps evaluated) and
``tracked_s`` (time tracked before the episode ended). Tracked bodies are the task's (14, anchor
torso_link); end effectors: ``END_EFFECTORS``. The reference is the task's own (env origin added).

The rollout itself is ``run_rollout`` (with ``RolloutObserver`` hooks): ``mimiclab.rl.executed``
runs the same loop and records what the robot executed.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mimiclab.deploy.metrics import (
    END_EFFECTORS,
    METRIC_UNITS,
    METRICS_FILE,
    OBJECT_METRIC,
    OBJECT_METRIC_UNITS,
    ROOT_BODY,
    STEP_METRICS,
    format_table,
)
from mimiclab.deploy.metrics import summary as _summary
from mimiclab.rl.motion_args import expand_motion_args



class EvalError(ValueError):
    """Bad input to ``evaluate`` (one-line message)."""


def step_errors(cmd) -> dict:
    """The metrics of one step for every env, {name: (N,)}, from a MotionCommand-like object
    (reference/robot bodies in the same order, ``body_names``, joints in the articulation's order)."""
    from isaaclab.utils.math import quat_error_magnitude

    ref_p, rob_p = cmd.body_pos_w, cmd.robot_body_pos_w  # (N,B,3)
    names = list(cmd.body_names)
    r = names.index(ROOT_BODY)
    ee = [names.index(b) for b in END_EFFECTORS]
    ref_q, rob_q = cmd.body_quat_w[:, ee], cmd.robot_body_quat_w[:, ee]  # (N,E,4)
    n, e = ref_q.shape[:2]
    extra = {OBJECT_METRIC: cmd.object_pointcloud} if hasattr(cmd, "object_pointcloud") else {}
    return {
        **extra,
        "mpkpe": (ref_p - rob_p).norm(dim=-1).mean(-1),
        "root_relative_mpkpe": ((ref_p - ref_p[:, r:r + 1]) - (rob_p - rob_p[:, r:r + 1])).norm(dim=-1).mean(-1),
        "joint_pos_error": (cmd.joint_pos - cmd.robot_joint_pos).abs().mean(-1),
        "joint_vel_error": (cmd.joint_vel - cmd.robot_joint_vel).abs().mean(-1),
        "ee_pos_error": (ref_p[:, ee] - rob_p[:, ee]).norm(dim=-1).mean(-1),
        "ee_ori_error": quat_error_magnitude(ref_q.reshape(-1, 4), rob_q.reshape(-1, 4)).reshape(n, e).mean(-1),
    }


def load_actor_state(checkpoint: str | os.PathLike, device: str, student_as_actor: bool = True) -> dict:
    """The checkpoint's dict (``torch.load(weights_only=True)``); EvalError when missing or unreadable.
    A distilled student's checkpoint (rsl_rl Distillation) gives its ``student_state_dict`` as the
    ``actor_state_dict`` (the student has the PPO actor's layers) unless `student_as_actor` is False,
    when it is refused as one."""
    import torch

    path = Path(checkpoint)
    if not path.is_file():
        raise EvalError(f"checkpoint {checkpoint}: no such file")
    try:
        data = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is a one-line user error
        raise EvalError(f"checkpoint {checkpoint}: not a readable rsl_rl checkpoint ({type(e).__name__}: {e})") from e
    student = isinstance(data, dict) and "actor_state_dict" not in data and "student_state_dict" in data
    if student and student_as_actor:
        data = {**data, "actor_state_dict": data["student_state_dict"]}
    if not isinstance(data, dict) or "actor_state_dict" not in data:
        what = "a distilled student" if student else "not an rsl_rl 5 PPO checkpoint"
        raise EvalError(f"checkpoint {checkpoint}: no actor_state_dict ({what})")
    return data


class RolloutObserver:
    """Hooks into the evaluation rollout (``run_rollout``); every method is optional (no-op here).

    ``begin(cmd, env_ids)``: the envs `env_ids` (list[int]) were just reset onto t = 0 of their clip
    (``cmd.clip_ids``), before any physics of their new episode. ``step(cmd)``: after the physics of
    a control step, before any reset (robot and reference at the same t). ``end(env_id, clip, result)``:
    env `env_id`'s episode of clip index `clip` ended and is the one reported (its ``result`` dict)."""

    def begin(self, cmd, env_ids: list[int]) -> None:
        pass

    def step(self, cmd) -> None:
        pass

    def end(self, env_id: int, clip: int, result: dict) -> None:
        pass


def prepare_rollout(checkpoint: str | os.PathLike, motion_paths: Sequence[str | os.PathLike], device: str,
                    num_envs: int | None, task: str | None) -> tuple[list[Path], dict, str]:
    """Checked inputs of a rollout: (motion files, checkpoint dict, task); EvalError on bad input."""
    files = expand_motion_args(motion_paths)
    state = load_actor_state(checkpoint, device)
    if task is None:
        from mimiclab.rl.export import task_for_checkpoint

        task = task_for_checkpoint(state, checkpoint_path=checkpoint)
    if num_envs is not None and num_envs < 1:
        raise EvalError(f"num_envs must be positive, got {num_envs}")
    return files, state, task


def run_rollout(checkpoint: str | os.PathLike, files: Sequence[Path], state: dict, task: str, device: str = "cpu",
                num_envs: int | None = None, observer: RolloutObserver | None = None,
                command: str = "eval") -> tuple[dict, tuple[str, ...]]:
    """The evaluation rollout (module docstring) of `checkpoint` (loaded: `state`) in `task` on `files`;
    returns ({clip name: per-clip result}, metric names). `observer` sees every step (RolloutObserver);
    `command` names the caller in the note printed when the run has no contract."""
    import gymnasium as gym
    import torch
    from isaaclab.cli import load_external_tasks
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    observer = observer if observer is not None else RolloutObserver()
    load_external_tasks()
    if task not in gym.registry:
        raise EvalError(f"unknown task '{task}'")
    n = len(files) if num_envs is None else min(num_envs, len(files))
    cfg = parse_env_cfg(task, device=device, num_envs=n)
    cfg.sim.device = device
    cfg.sim.physics.use_cuda_graph = device.startswith("cuda")
    cfg.commands.motion.motion_files = [str(f) for f in files]
    env = gym.make(task, cfg=cfg)
    try:
        base = env.unwrapped
        cmd = base.command_manager.get_term("motion")
        lib = cmd.library
        step_dt = float(base.step_dt)
        # every clip must end by its motion_end termination, never by the episode time-out
        base.cfg.episode_length_s = float(lib.duration.max()) + 2 * step_dt  # max_episode_length reads it
        from mimiclab.rl.export import check_checkpoint_contract, make_runner

        if check_checkpoint_contract(checkpoint, env, task) is None:
            print(f"mimiclab {command}: note: no contract.json beside {checkpoint}; the policy's observation "
                  "layout was not checked", file=sys.stderr)
        runner = make_runner(env, task, device)
        wrapped = runner.env
        try:
            runner.alg.load(state, {"actor": True}, True)
        except (RuntimeError, KeyError) as e:
            raise EvalError(f"checkpoint {checkpoint}: does not fit {task}'s policy ({str(e).splitlines()[0]})") from e
        policy = runner.get_inference_policy(device=device)

        C = lib.num_clips
        metrics = STEP_METRICS + ((OBJECT_METRIC,) if hasattr(cmd, "object_pointcloud") else ())
        sums = {m: torch.zeros(n, dtype=torch.float64, device=device) for m in metrics}
        steps = torch.zeros(n, dtype=torch.long, device=device)
        results: dict[int, dict] = {}
        reset_ids: list[int] = []
        tm = base.termination_manager
        original_compute = tm.compute

        def compute_and_record():
            dones = original_compute()  # after physics, before the reset: robot and reference at the same t
            errs = step_errors(cmd)
            observer.step(cmd)
            for m in metrics:
                sums[m] += errs[m].double()
            steps.add_(1)
            reset_ids[:] = torch.nonzero(dones).flatten().tolist()
            for i in reset_ids:
                c = int(cmd.clip_ids[i])
                if c not in results:
                    k = max(int(steps[i]), 1)
                    results[c] = {"success": not bool(tm.terminated[i]), "steps": int(steps[i]),
                                  "tracked_s": float(steps[i]) * step_dt,
                                  **{m: float(sums[m][i]) / k for m in metrics}}
                    observer.end(i, c, results[c])
                for m in metrics:
                    sums[m][i] = 0.0
                steps[i] = 0
            return dones

        tm.compute = compute_and_record
        obs = wrapped.get_observations()
        max_steps = int(base.max_episode_length) * (math.ceil(C / n) + 1)
        with torch.inference_mode():
            observer.begin(cmd, list(range(n)))
            for _ in range(max_steps):
                obs, _, dones, _ = wrapped.step(policy(obs))
                if hasattr(policy, "reset"):
                    policy.reset(dones)
                if len(results) == C:
                    break
                if reset_ids:
                    observer.begin(cmd, list(reset_ids))
        tm.compute = original_compute
        if len(results) != C:
            raise RuntimeError(f"evaluation ended with {C - len(results)} clip(s) not finished")
        clips = {}
        for c in range(C):
            clips[lib.clip_names[c]] = {"path": str(lib.clip_paths[c]), "frames": int(lib.length[c]),
                                        "duration_s": float(lib.duration[c]), **results[c]}
    finally:
        env.close()
    return clips, metrics


def evaluate(checkpoint: str | os.PathLike, motion_paths: Sequence[str | os.PathLike], device: str = "cpu",
             num_envs: int | None = None, output_dir: str | os.PathLike | None = None,
             task: str | None = None) -> dict:
    """Run the policy of `checkpoint` on every clip of `motion_paths` (files, folders, globs); returns
    ``{"checkpoint", "task", "device", "units", "overall": {...}, "clips": {name: {...}}}`` (module
    docstring) and writes it to ``output_dir/metrics.json`` when `output_dir` is given."""
    files, state, task = prepare_rollout(checkpoint, motion_paths, device, num_envs, task)
    if output_dir is not None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    clips, metrics = run_rollout(checkpoint, files, state, task, device=device, num_envs=num_envs)
    report = {"checkpoint": str(Path(checkpoint).resolve()), "task": task, "device": device,
              "units": {**METRIC_UNITS, **(OBJECT_METRIC_UNITS if OBJECT_METRIC in metrics else {})},
              "overall": _summary(clips), "clips": clips}
    if output_dir is not None:
        write_metrics(Path(output_dir) / METRICS_FILE, report)
    return report


def write_metrics(path: str | os.PathLike, report: dict) -> Path:
    """``report`` as JSON, atomically (temporary file + ``os.replace``)."""
    from mimiclab.motion.format import atomic_write

    return atomic_write(path, lambda f: f.write(json.dumps(report, indent=2).encode()))


__all__ = ["EvalError", "evaluate", "run_rollout", "prepare_rollout", "RolloutObserver", "step_errors",
           "load_actor_state", "write_metrics", "format_table", "END_EFFECTORS", "METRIC_UNITS",
           "METRICS_FILE", "ROOT_BODY", "STEP_METRICS"]
