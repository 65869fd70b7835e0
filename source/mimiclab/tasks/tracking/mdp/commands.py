"""The motion command: owns the motion library and serves the reference to every other term.

Timing. The command owns its clock: an env's reference time is ``t = start_time + (s − s₀)·step_dt``
[s], s the env's ``common_step_counter`` and s₀ its value when the env was last reset. So neither
``init_at_random_ep_len`` (rsl_rl randomises ``episode_length_buf`` at the start of every run and
``--resume``) nor anything else that writes the episode length moves the reference away from the
robot: right after a reset the robot is written to the reference at ``start_time``; after the
k-th control step both the robot and ``t`` have advanced k steps. Rewards and terminations
(computed after the physics, once the episode length has been incremented) and observations all
see the reference that matches the robot's current state, with no one-step lag; the futures are
at ``t + k·step_dt`` for k in ``future_offsets``.

Frames and conventions. Everything exposed here is in Isaac Lab's convention: world frame with the
env origin added to reference positions, quaternions XYZW (motion files are wxyz; the conversion
happens once, in ``_reference``). Joints follow the articulation's ``joint_names`` and tracked
bodies follow ``cfg.body_names`` (both mapped by name; file order never matters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING
from typing import TYPE_CHECKING

import torch
from isaaclab.managers import CommandTerm, CommandTermCfg
from isaaclab.utils import configclass
from isaaclab.utils.math import (
    quat_apply,
    quat_error_magnitude,
    quat_from_euler_xyz,
    quat_inv,
    quat_mul,
    yaw_quat,
)

from mimiclab.deploy.tracking_mdp import ANCHOR_BODY, FUTURE_OFFSETS, TRACKED_BODIES
from mimiclab.rotations.torch_ops import wxyz_to_xyzw

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["MotionCommand", "MotionCommandCfg", "relative_body_frames"]



def relative_body_frames(ref_anchor_pos: torch.Tensor, ref_anchor_quat: torch.Tensor,
                         ref_body_pos: torch.Tensor, ref_body_quat: torch.Tensor,
                         robot_anchor_pos: torch.Tensor, robot_anchor_quat: torch.Tensor):
    """The reference bodies moved onto the robot: the reference anchor is put at the robot anchor's
    xy (keeping the reference height) and yaw, the bodies follow rigidly.

    ref_anchor_pos (N,3), ref_anchor_quat (N,4 xyzw), ref_body_pos (N,B,3), ref_body_quat (N,B,4),
    robot_anchor_pos (N,3), robot_anchor_quat (N,4). Returns body positions (N,B,3) [m] and
    orientations (N,B,4 xyzw) in the world frame, comparable with the robot's own bodies.
    """
    B = ref_body_pos.shape[1]
    delta_pos = robot_anchor_pos.clone()
    delta_pos[:, 2] = ref_anchor_pos[:, 2]
    delta_quat = yaw_quat(quat_mul(robot_anchor_quat, quat_inv(ref_anchor_quat)))  # (N,4)
    dq = delta_quat[:, None, :].expand(-1, B, -1)
    pos = delta_pos[:, None, :] + quat_apply(dq, ref_body_pos - ref_anchor_pos[:, None, :])
    quat = quat_mul(dq, ref_body_quat)
    return pos, quat


class MotionCommand(CommandTerm):
    """Per-env (clip, start time) into a ``MotionLibrary``; reference state at reset; the reference
    now and at future offsets for observations, rewards and terminations (see module docstring)."""

    cfg: MotionCommandCfg

    def __init__(self, cfg: MotionCommandCfg, env: ManagerBasedRLEnv):
        from mimiclab.motion.library import MotionLibrary
        from mimiclab.motion.sampling import AdaptiveSampler, EvaluationWalker

        files = [str(f) for f in (cfg.motion_files or []) if str(f).strip()]
        if not files:
            raise ValueError("motion command: no motion files; set MIMICLAB_MOTION=clip.npz[:dir/:glob...] "
                             "or env.commands.motion.motion_files=[...]")
        super().__init__(cfg, env)
        self.robot = env.scene[cfg.asset_name]
        body_names = list(cfg.body_names)
        if cfg.anchor_body_name not in body_names:
            raise ValueError(f"motion command: anchor body '{cfg.anchor_body_name}' is not among the tracked bodies")
        self.library = MotionLibrary.from_paths(files, joint_names=list(self.robot.joint_names),
                                                body_names=body_names, device=self.device, fps=cfg.fps)
        self.body_names = body_names
        self.anchor_index = body_names.index(cfg.anchor_body_name)  # in the tracked list
        self.body_ids = self.robot.find_bodies(body_names, preserve_order=True)[0]  # robot order ids (B,)
        self.anchor_body_id = self.body_ids[self.anchor_index]
        self.future_offsets = tuple(int(k) for k in cfg.future_offsets)
        self._offsets = (0,) + self.future_offsets
        if cfg.sampling == "adaptive":
            gen = torch.Generator(device=self.device)
            gen.manual_seed(self.sampler_seed(env))
            self.sampler = AdaptiveSampler(self.library, bin_seconds=cfg.bin_seconds, ema_alpha=cfg.ema_alpha,
                                           uniform_fraction=cfg.uniform_fraction, generator=gen,
                                           count_reducer=_distributed_sum())
        elif cfg.sampling == "evaluation":
            self.sampler = EvaluationWalker(self.library)
        else:
            raise ValueError(f"motion command: unknown sampling '{cfg.sampling}' (adaptive, evaluation)")
        n = self.num_envs
        self.clip_ids = torch.zeros(n, dtype=torch.long, device=self.device)
        self.start_times = torch.zeros(n, device=self.device)
        self.start_steps = torch.zeros(n, dtype=torch.long, device=self.device)  # common_step_counter at reset
        self._version = 0
        self._cache_key = None
        self._ref: dict[str, torch.Tensor] = {}
        for m in ("error_anchor_pos", "error_anchor_rot", "error_body_pos", "error_joint_pos", "sampling_entropy"):
            self.metrics[m] = torch.zeros(n, device=self.device)

    def __str__(self) -> str:
        return (f"MotionCommand: {self.library}, anchor {self.cfg.anchor_body_name}, {len(self.body_names)} "
                f"tracked bodies, future offsets {list(self.future_offsets)}, sampling {self.cfg.sampling}")

    # -- time and reference ---------------------------------------------------------------------

    @property
    def step_dt(self) -> float:
        return float(self._env.step_dt)

    def sampler_seed(self, env) -> int:
        """cfg.seed, else the env's seed (``--seed``; rsl_rl's distributed runs add the rank), else 0."""
        seed = self.cfg.seed if self.cfg.seed is not None else getattr(env.cfg, "seed", None)
        return int(seed) if seed is not None else 0

    @property
    def elapsed_steps(self) -> torch.Tensor:
        """Control steps since each env's last reset (N,) long — the command's own clock."""
        return int(getattr(self._env, "common_step_counter", 0)) - self.start_steps

    @property
    def times(self) -> torch.Tensor:
        """Reference time of every env (N,) [s]."""
        return self.start_times + self.elapsed_steps.to(self.start_times.dtype) * self.step_dt

    @property
    def clip_duration(self) -> torch.Tensor:
        """Duration of every env's clip (N,) [s]."""
        return self.library.duration[self.clip_ids]

    def _reference(self) -> dict[str, torch.Tensor]:
        key = (int(self._env.common_step_counter), self._version)
        if key != self._cache_key:
            fr = self.library.future(self.clip_ids, self.times, self.step_dt, offsets=self._offsets)
            origin = self._env.scene.env_origins
            body_pos = fr["body_pos_w"] + origin[:, None, None, :]  # (N,1+K,B,3)
            body_quat = wxyz_to_xyzw(fr["body_quat_w"])
            a = self.anchor_index
            self._ref = {
                "joint_pos": fr["joint_pos"][:, 0], "joint_vel": fr["joint_vel"][:, 0],
                "root_pos_w": fr["root_pos"][:, 0] + origin, "root_quat_w": wxyz_to_xyzw(fr["root_quat"][:, 0]),
                "root_lin_vel_w": fr["root_lin_vel"][:, 0], "root_ang_vel_w": fr["root_ang_vel"][:, 0],
                "body_pos_w": body_pos[:, 0], "body_quat_w": body_quat[:, 0],
                "body_lin_vel_w": fr["body_lin_vel_w"][:, 0], "body_ang_vel_w": fr["body_ang_vel_w"][:, 0],
                "future_joint_pos": fr["joint_pos"][:, 1:], "future_joint_vel": fr["joint_vel"][:, 1:],
                "future_anchor_pos_w": body_pos[:, 1:, a], "future_anchor_quat_w": body_quat[:, 1:, a],
                "future_body_pos_w": body_pos[:, 1:],
            }
            self._cache_key = key
        return self._ref

    @property
    def command(self) -> torch.Tensor:
        """Reference joint positions and velocities now (N, 2J) [rad, rad/s]."""
        r = self._reference()
        return torch.cat([r["joint_pos"], r["joint_vel"]], dim=-1)

    # reference now (N, ...) -- world frame with env origins, XYZW
    @property
    def joint_pos(self) -> torch.Tensor:
        return self._reference()["joint_pos"]

    @property
    def joint_vel(self) -> torch.Tensor:
        return self._reference()["joint_vel"]

    @property
    def body_pos_w(self) -> torch.Tensor:
        return self._reference()["body_pos_w"]

    @property
    def body_quat_w(self) -> torch.Tensor:
        return self._reference()["body_quat_w"]

    @property
    def body_lin_vel_w(self) -> torch.Tensor:
        return self._reference()["body_lin_vel_w"]

    @property
    def body_ang_vel_w(self) -> torch.Tensor:
        return self._reference()["body_ang_vel_w"]

    @property
    def anchor_pos_w(self) -> torch.Tensor:
        return self._reference()["body_pos_w"][:, self.anchor_index]

    @property
    def anchor_quat_w(self) -> torch.Tensor:
        return self._reference()["body_quat_w"][:, self.anchor_index]

    @property
    def anchor_lin_vel_w(self) -> torch.Tensor:
        """The reference anchor's linear velocity now (N, 3) [m/s], world frame."""
        return self._reference()["body_lin_vel_w"][:, self.anchor_index]

    @property
    def next_joint_pos(self) -> torch.Tensor:
        """Reference joint positions one control step ahead (N, J) [rad] (clamped at the clip's end):
        the "reference" action offset."""
        r = self._reference()
        if "next_joint_pos" not in r:
            r["next_joint_pos"] = self.library.frames(self.clip_ids, self.times + self.step_dt)["joint_pos"]
        return r["next_joint_pos"]

    # reference in the future (N, K, ...)
    @property
    def future_joint_pos(self) -> torch.Tensor:
        return self._reference()["future_joint_pos"]

    @property
    def future_anchor_pos_w(self) -> torch.Tensor:
        return self._reference()["future_anchor_pos_w"]

    @property
    def future_anchor_quat_w(self) -> torch.Tensor:
        return self._reference()["future_anchor_quat_w"]

    @property
    def future_body_pos_w(self) -> torch.Tensor:
        """Tracked reference bodies at the future offsets (N, K, B, 3) [m], world frame."""
        return self._reference()["future_body_pos_w"]

    # the reference bodies placed on the robot's anchor (xy, yaw)
    @property
    def body_pos_relative_w(self) -> torch.Tensor:
        return self._relative()[0]

    @property
    def body_quat_relative_w(self) -> torch.Tensor:
        return self._relative()[1]

    def _relative(self):
        r = self._reference()  # rebuilt whenever the step or a reset changes the robot's state
        if "rel_pos" not in r:
            r["rel_pos"], r["rel_quat"] = relative_body_frames(
                self.anchor_pos_w, self.anchor_quat_w, r["body_pos_w"], r["body_quat_w"],
                self.robot_anchor_pos_w, self.robot_anchor_quat_w)
        return r["rel_pos"], r["rel_quat"]

    # -- the robot, same bodies and order --------------------------------------------------------

    @property
    def robot_joint_pos(self) -> torch.Tensor:
        return self.robot.data.joint_pos.torch

    @property
    def robot_joint_vel(self) -> torch.Tensor:
        return self.robot.data.joint_vel.torch

    @property
    def robot_body_pos_w(self) -> torch.Tensor:
        return self.robot.data.body_link_pos_w.torch[:, self.body_ids]

    @property
    def robot_body_quat_w(self) -> torch.Tensor:
        return self.robot.data.body_link_quat_w.torch[:, self.body_ids]

    @property
    def robot_body_lin_vel_w(self) -> torch.Tensor:
        return self.robot.data.body_link_lin_vel_w.torch[:, self.body_ids]

    @property
    def robot_body_ang_vel_w(self) -> torch.Tensor:
        return self.robot.data.body_link_ang_vel_w.torch[:, self.body_ids]

    @property
    def robot_anchor_pos_w(self) -> torch.Tensor:
        return self.robot.data.body_link_pos_w.torch[:, self.anchor_body_id]

    @property
    def robot_anchor_quat_w(self) -> torch.Tensor:
        return self.robot.data.body_link_quat_w.torch[:, self.anchor_body_id]

    # -- CommandTerm hooks ----------------------------------------------------------------------

    def _update_metrics(self):
        self.metrics["error_anchor_pos"] = (self.anchor_pos_w - self.robot_anchor_pos_w).norm(dim=-1)
        self.metrics["error_anchor_rot"] = quat_error_magnitude(self.anchor_quat_w, self.robot_anchor_quat_w)
        self.metrics["error_body_pos"] = (self.body_pos_relative_w - self.robot_body_pos_w).norm(dim=-1).mean(-1)
        self.metrics["error_joint_pos"] = (self.joint_pos - self.robot_joint_pos).abs().mean(-1)
        if hasattr(self.sampler, "metrics"):
            self.metrics["sampling_entropy"][:] = self.sampler.metrics()["sampling_entropy"]

    def _update_command(self):
        """Nothing to advance: the reference time follows the step counter (module docstring), and
        the cached reference is keyed on it (resets bump ``_version`` themselves), so the rewards'
        reference serves this step's observations. The sampler's statistics take this step's finished
        episodes (one collective per step)."""
        self.sampler.flush()

    def _resample_command(self, env_ids: Sequence[int] | slice):
        """Charge the finished episodes to the sampler, draw new (clip, start), write the robot there."""
        if isinstance(env_ids, slice):
            env_ids = torch.arange(self.num_envs, device=self.device)[env_ids]
        env_ids = torch.as_tensor(env_ids, device=self.device).long().reshape(-1)
        if env_ids.numel() == 0:
            return
        env = self._env
        steps = self.elapsed_steps[env_ids]
        ran = steps > 0
        tm = getattr(env, "termination_manager", None)
        if tm is not None and bool(ran.any()):
            failed = tm.terminated[env_ids] & ran
            ids = env_ids[ran]
            t_end = self.start_times[ids] + steps[ran].to(self.start_times.dtype) * self.step_dt
            self.sampler.update(self.clip_ids[ids], self.start_times[ids], t_end, failed[ran])
        clip, t0 = self.sampler.sample(int(env_ids.numel()))
        self.clip_ids[env_ids] = clip
        self.start_times[env_ids] = t0
        self.start_steps[env_ids] = int(getattr(env, "common_step_counter", 0))
        self._version += 1
        self._write_reference_state(env_ids, clip, t0)

    def _write_reference_state(self, env_ids: torch.Tensor, clip: torch.Tensor, t0: torch.Tensor) -> None:
        """Root pose/velocity and joint state of the reference at (clip, t0), with the cfg's noise."""
        fr = self.library.frames(clip, t0)
        n = env_ids.numel()
        pos = fr["root_pos"] + self._env.scene.env_origins[env_ids]
        quat = wxyz_to_xyzw(fr["root_quat"])
        lin_vel, ang_vel = fr["root_lin_vel"].clone(), fr["root_ang_vel"].clone()
        pose_noise = _sample_ranges(self.cfg.pose_range, n, self.device)
        vel_noise = _sample_ranges(self.cfg.velocity_range, n, self.device)
        pos = pos + pose_noise[:, :3]
        dq = quat_from_euler_xyz(pose_noise[:, 3], pose_noise[:, 4], pose_noise[:, 5])
        quat = quat_mul(dq, quat)
        lin_vel, ang_vel = lin_vel + vel_noise[:, :3], ang_vel + vel_noise[:, 3:]
        joint_pos = fr["joint_pos"].clone()
        lo, hi = self.cfg.joint_position_range
        if lo != 0.0 or hi != 0.0:
            joint_pos += torch.empty_like(joint_pos).uniform_(lo, hi)
        limits = self.robot.data.joint_pos_limits.torch[env_ids]  # hard limits: clips may use the margin
        joint_pos = torch.clamp(joint_pos, limits[..., 0], limits[..., 1])
        self.robot.write_root_pose_to_sim_index(root_pose=torch.cat([pos, quat], -1), env_ids=env_ids)
        self.robot.write_root_link_velocity_to_sim_index(root_velocity=torch.cat([lin_vel, ang_vel], -1),
                                                         env_ids=env_ids)
        self.robot.write_joint_position_to_sim_index(position=joint_pos, env_ids=env_ids)
        self.robot.write_joint_velocity_to_sim_index(velocity=fr["joint_vel"], env_ids=env_ids)


def _distributed_sum():
    """An in-place all-reduce sum when torch.distributed runs (ranks share sampler statistics), else None."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return lambda t: dist.all_reduce(t, op=dist.ReduceOp.SUM)


def _sample_ranges(ranges: dict[str, tuple[float, float]], n: int, device) -> torch.Tensor:
    """(n, 6) uniform samples for keys x y z roll pitch yaw (missing keys: 0)."""
    out = torch.zeros(n, 6, device=device)
    for i, k in enumerate(("x", "y", "z", "roll", "pitch", "yaw")):
        if k in ranges:
            lo, hi = ranges[k]
            if lo != 0.0 or hi != 0.0:
                out[:, i].uniform_(lo, hi)
    return out


@configclass
class MotionCommandCfg(CommandTermCfg):
    """Configuration of ``MotionCommand``."""

    class_type: type = MotionCommand
    asset_name: str = "robot"
    motion_files: list[str] = MISSING
    """Motion files, folders or globs (npz, G1 CSV, BVH/keypoints retargeted on load)."""
    fps: float | None = None
    """Resample every clip to this rate (None: keep each clip's own)."""
    anchor_body_name: str = ANCHOR_BODY
    body_names: list[str] = list(TRACKED_BODIES)
    future_offsets: tuple[int, ...] = FUTURE_OFFSETS
    """Future reference frames in control steps."""
    sampling: str = "adaptive"
    """"adaptive" (failure-adaptive starts) or "evaluation" (every clip from t = 0 in order)."""
    bin_seconds: float = 1.0
    ema_alpha: float = 0.001
    uniform_fraction: float = 0.1
    seed: int | None = None
    """Seed of the start sampler (None: the env's seed, i.e. ``--seed`` plus the rank)."""
    pose_range: dict[str, tuple[float, float]] = {}
    """Reset noise on the root pose: keys x y z [m], roll pitch yaw [rad]."""
    velocity_range: dict[str, tuple[float, float]] = {}
    """Reset noise on the root velocity: keys x y z [m/s], roll pitch yaw [rad/s]."""
    joint_position_range: tuple[float, float] = (0.0, 0.0)
    """Reset noise on the joint positions [rad]."""
    resampling_time_range: tuple[float, float] = (1.0e9, 1.0e9)
    """Never resampled mid-episode: the clip runs until the episode ends."""
