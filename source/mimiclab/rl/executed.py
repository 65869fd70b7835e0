"""What a tracking policy actually executed: the ``mimiclab eval`` rollout, recorded as motions.

    clips = rollout_executed("logs/rsl_rl/g1_tracking/<run>/model_100.pt", ["clips/"], device="cpu",
                             output_dir="executed")   # also writes executed/<name>.executed.npz

The rollout is ``mimiclab.rl.eval``'s own (``run_rollout``: Play task, one env per clip by default,
every clip from t = 0, deterministic actor mean), so ``mpkpe_m`` is the figure eval reports. Per clip
the simulated robot's state is recorded at the control rate (1 / step_dt = 50 Hz): the pelvis
(root link) position with the env origin subtracted (so it lines up with the clip), its orientation
(converted from Isaac Lab's xyzw to the motion file's wxyz) and the joint positions, mapped by name
onto ``G1.joint_names``. Frame 0 is the state the env was reset to (the clip's first frame), frame k
the state after k control steps, so an executed motion has ``steps + 1`` frames (``tracked_s`` =
``steps`` / 50 s) and frame k lines up with the clip at t = k / 50 s. Bodies and velocities come from
``mimiclab.motion.kinematics.motion_from_joint_trajectory`` (forward kinematics, finite differences).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mimiclab.motion.format import MotionData
from mimiclab.rl.eval import EvalError, RolloutObserver, prepare_rollout, run_rollout

GENERATOR = "mimiclab.rl.executed"
SUFFIX = ".executed.npz"


@dataclass
class ExecutedClip:
    """One clip's executed motion: `success` (tracked to its end without a termination), `tracked_s`
    [s] (time tracked before the episode ended), `mpkpe_m` [m] (eval's mpkpe), `motion` (steps + 1
    frames at 50 fps, G1 joint and body names)."""

    name: str
    success: bool
    tracked_s: float
    mpkpe_m: float
    motion: MotionData


class _Recorder(RolloutObserver):
    """Per env: root pose (env origin subtracted, xyzw) and joint positions (G1 order) since its reset;
    the episode that eval reports for a clip is kept as (root_pos (T,3), root_quat_xyzw (T,4), q (T,J))."""

    def __init__(self):
        self.frames: dict[int, list[np.ndarray]] = {}
        self.kept: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._cols = None
        self.step_dt = None

    def _state(self, cmd) -> np.ndarray:
        """(N, 7 + J): root position − env origin, root quaternion xyzw, joint positions in G1 order."""
        import torch

        robot = cmd.robot
        if self._cols is None:
            from mimiclab.robots.g1 import G1

            names = list(robot.joint_names)
            missing = [j for j in G1.joint_names if j not in names]
            if missing:
                raise EvalError(f"the simulated robot lacks G1 joints {missing}")
            self._cols = torch.tensor([names.index(j) for j in G1.joint_names], device=cmd.device)
        pose = robot.data.root_link_pose_w.torch  # (N,7) pos + quat xyzw
        pos = pose[:, :3] - cmd._env.scene.env_origins
        q = robot.data.joint_pos.torch[:, self._cols]
        return torch.cat([pos, pose[:, 3:7], q], dim=-1).double().cpu().numpy()

    def begin(self, cmd, env_ids):
        self.step_dt = float(cmd.step_dt)
        state = self._state(cmd)
        for i in env_ids:
            self.frames[i] = [state[i]]

    def step(self, cmd):
        state = self._state(cmd)
        for i, rows in self.frames.items():
            rows.append(state[i])

    def end(self, env_id, clip, result):
        x = np.stack(self.frames[env_id])  # (steps + 1, 7 + J)
        if x.shape[0] != result["steps"] + 1:
            raise RuntimeError(f"recorded {x.shape[0]} frames for {result['steps']} steps")
        self.kept[clip] = (x[:, :3], x[:, 3:7], x[:, 7:])


def executed_file_name(name: str) -> str:
    """``<name>.executed.npz``; a clip name that is a path (shared stems) has its separators replaced by '_'."""
    flat = name.replace("\\", "/").strip("/").replace("/", "_")
    if flat.endswith(".npz"):
        flat = flat[:-4]
    return flat + SUFFIX


def rollout_executed(checkpoint: str | os.PathLike, motions: Sequence[str | os.PathLike], device: str = "cpu",
                     num_envs: int | None = None, output_dir: str | os.PathLike | None = None,
                     task: str | None = None) -> list[ExecutedClip]:
    """Roll `checkpoint` out on every clip of `motions` (files, folders, globs, as ``evaluate``) and
    return what the robot executed, one ExecutedClip per clip in clip order (module docstring).
    With `output_dir`, each motion is also written (atomically) to ``<output_dir>/<name>.executed.npz``.
    ValueError (EvalError) on bad input: no clips, a missing or unreadable checkpoint, num_envs < 1."""
    from mimiclab.motion.format import save_motion
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.robots.g1 import G1
    from mimiclab.rotations.numpy_ops import xyzw_to_wxyz

    files, state, task = prepare_rollout(checkpoint, motions, device, num_envs, task)
    if output_dir is not None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    recorder = _Recorder()
    clips, _ = run_rollout(checkpoint, files, state, task, device=device, num_envs=num_envs, observer=recorder,
                           command="executed")
    out = []
    for c, (name, r) in enumerate(clips.items()):
        root_pos, root_quat_xyzw, q = recorder.kept[c]
        meta = {"generator": GENERATOR, "checkpoint": str(Path(checkpoint).resolve()), "source_clip": name,
                "success": bool(r["success"]), "task": task, "source_path": r["path"],
                "tracked_s": float(r["tracked_s"]), "mpkpe_m": float(r["mpkpe"])}
        motion = motion_from_joint_trajectory(root_pos, xyzw_to_wxyz(root_quat_xyzw), q, fps=1.0 / recorder.step_dt,
                                              joint_names=G1.joint_names, meta=meta)
        if output_dir is not None:
            save_motion(Path(output_dir) / executed_file_name(name), motion)
        out.append(ExecutedClip(name=name, success=bool(r["success"]), tracked_s=float(r["tracked_s"]),
                                mpkpe_m=float(r["mpkpe"]), motion=motion))
    return out


__all__ = ["ExecutedClip", "rollout_executed", "executed_file_name", "GENERATOR", "SUFFIX"]
