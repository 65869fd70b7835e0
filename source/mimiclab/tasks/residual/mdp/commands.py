"""The object motion command: the tracking ``MotionCommand`` plus the object of the clips.

On top of everything ``MotionCommand`` serves (same timing, frames and conventions: world frame with
env origins, XYZW), it
- requires every clip to carry an object (``MotionLibrary.has_object``; a clip without → ValueError),
- writes the object at its reference pose and velocity (plus ``object_pose_range`` noise) whenever an
  env resets, right after the robot,
- serves the object reference now (``object_ref_pos_w``, ``object_ref_quat_w``, velocities, contact
  labels ``object_ref_contacts`` over ``object_contact_bodies``) and the object's own state,
- owns the object's surface points (P,3) sampled once (``object_points``) and the point-cloud distance
  D (N,) [m] between the object under its current and its reference pose (``object_pointcloud``,
  computed once per control step through ``mimiclab.kernels.pointcloud`` and shared by the reward
  and the termination),
- runs the virtual object controller (``mdp.object_controller``) once per control step, scaled by
  ``assist_scale`` (the ``object_assist`` curriculum term lowers it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from isaaclab.utils import configclass
from isaaclab.utils.math import quat_from_euler_xyz, quat_mul

from mimiclab.tasks.residual.mdp.object_controller import ObjectAssistCfg, assist_wrench
from mimiclab.rotations.torch_ops import wxyz_to_xyzw, xyzw_to_wxyz
from mimiclab.tasks.tracking.mdp.commands import MotionCommand, MotionCommandCfg, _sample_ranges

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["ObjectMotionCommand", "ObjectMotionCommandCfg"]


class ObjectMotionCommand(MotionCommand):
    """``MotionCommand`` with the clips' object (module docstring)."""

    cfg: ObjectMotionCommandCfg

    def __init__(self, cfg: ObjectMotionCommandCfg, env: ManagerBasedRLEnv):
        from mimiclab.kernels.surface_sampling import sample_surface

        super().__init__(cfg, env)
        if not self.library.has_object:
            from mimiclab.motion.library import MotionLibrary

            # rebuilt only to name the clip at fault (one-line ValueError)
            MotionLibrary.from_paths([str(f) for f in cfg.motion_files], joint_names=list(self.robot.joint_names),
                                     body_names=list(self.body_names), device="cpu", fps=cfg.fps,
                                     require_object=True)
            raise ValueError("object motion command: the clips carry no object")
        self.object = env.scene[cfg.object_name]
        self.object_spec = self.library.object_spec
        self.object_contact_bodies = list(self.library.object_contact_bodies)
        self.object_points = sample_surface(self.object_spec.surface_source(), int(cfg.num_surface_points),
                                            seed=0, device=self.device)  # (P,3) object frame, as sim2sim
        self.assist_scale = float(cfg.assist.initial_scale) if cfg.assist.enabled else 0.0
        self._obj_key = None
        self._obj: dict[str, torch.Tensor] = {}
        self._pc_key = None
        self._pc_distance = torch.zeros(self.num_envs, device=self.device)
        self.assist_force = torch.zeros(self.num_envs, 3, device=self.device)
        self.assist_torque = torch.zeros(self.num_envs, 3, device=self.device)
        self._all_envs = torch.arange(self.num_envs, device=self.device)
        for m in ("error_object_pos", "object_pointcloud_distance"):
            self.metrics[m] = torch.zeros(self.num_envs, device=self.device)

    def __str__(self) -> str:
        s = self.object_spec
        return (super().__str__() + f"; object {s.name} ({s.shape} {list(s.size)} m, {s.mass} kg), "
                f"{len(self.object_points)} surface points, contact bodies {self.object_contact_bodies}")

    # -- the object reference (N, ...) world frame with env origins, XYZW --------------------------

    def _object_reference(self) -> dict[str, torch.Tensor]:
        key = (int(self._env.common_step_counter), self._version)
        if key != self._obj_key:
            fr = self.library.object_frames(self.clip_ids, self.times)
            self._obj = {"pos": fr["pos"] + self._env.scene.env_origins, "quat": wxyz_to_xyzw(fr["quat"]),
                         "lin_vel": fr["lin_vel"], "ang_vel": fr["ang_vel"], "contacts": fr["contacts"]}
            self._obj_key = key
        return self._obj

    @property
    def object_ref_pos_w(self) -> torch.Tensor:
        return self._object_reference()["pos"]

    @property
    def object_ref_quat_w(self) -> torch.Tensor:
        return self._object_reference()["quat"]

    @property
    def object_ref_lin_vel_w(self) -> torch.Tensor:
        return self._object_reference()["lin_vel"]

    @property
    def object_ref_ang_vel_w(self) -> torch.Tensor:
        return self._object_reference()["ang_vel"]

    @property
    def object_ref_contacts(self) -> torch.Tensor:
        """Reference contact labels (N,C) in [0,1], columns ``object_contact_bodies``."""
        return self._object_reference()["contacts"]

    # -- the object itself ---------------------------------------------------------------------

    @property
    def object_pos_w(self) -> torch.Tensor:
        return self.object.data.root_link_pos_w.torch

    @property
    def object_quat_w(self) -> torch.Tensor:
        return self.object.data.root_link_quat_w.torch

    @property
    def object_lin_vel_w(self) -> torch.Tensor:
        return self.object.data.root_link_lin_vel_w.torch

    @property
    def object_ang_vel_w(self) -> torch.Tensor:
        return self.object.data.root_link_ang_vel_w.torch

    @property
    def object_pointcloud(self) -> torch.Tensor:
        """D (N,) [m]: mean distance of the surface points under the current vs the reference pose."""
        key = (int(self._env.common_step_counter), self._version)
        if key != self._pc_key:
            self._pc_distance = self.pointcloud_distance()[0]
            self._pc_key = key
        return self._pc_distance

    def pointcloud_distance(self, lam: float = 10.0) -> tuple[torch.Tensor, torch.Tensor]:
        """(D, exp(−lam·D)) (N,) through the kernels (backend ``cfg.pointcloud_backend``), uncached."""
        from mimiclab.kernels.pointcloud import pointcloud_distance

        cur = torch.cat([self.object_pos_w, xyzw_to_wxyz(self.object_quat_w)], -1)
        ref = torch.cat([self.object_ref_pos_w, xyzw_to_wxyz(self.object_ref_quat_w)], -1)
        return pointcloud_distance(self.object_points, cur, ref, lam=lam, backend=self.cfg.pointcloud_backend)

    # -- hooks -----------------------------------------------------------------------------------

    def _update_metrics(self):
        super()._update_metrics()
        self.metrics["error_object_pos"] = (self.object_ref_pos_w - self.object_pos_w).norm(dim=-1)
        self.metrics["object_pointcloud_distance"] = self.object_pointcloud

    def _update_command(self):
        super()._update_command()
        self.apply_assist()

    def _resample_command(self, env_ids: Sequence[int] | slice):
        if isinstance(env_ids, slice):
            env_ids = torch.arange(self.num_envs, device=self.device)[env_ids]
        env_ids = torch.as_tensor(env_ids, device=self.device).long().reshape(-1)
        super()._resample_command(env_ids)
        if env_ids.numel() == 0:
            return
        self._write_object_state(env_ids)
        self.apply_assist()

    def _write_object_state(self, env_ids: torch.Tensor) -> None:
        """The object at its reference pose/velocity at the envs' new start, with the cfg's noise."""
        fr = self.library.object_frames(self.clip_ids[env_ids], self.start_times[env_ids])
        n = env_ids.numel()
        noise = _sample_ranges(self.cfg.object_pose_range, n, self.device)
        pos = fr["pos"] + self._env.scene.env_origins[env_ids] + noise[:, :3]
        quat = quat_mul(quat_from_euler_xyz(noise[:, 3], noise[:, 4], noise[:, 5]), wxyz_to_xyzw(fr["quat"]))
        self.object.write_root_pose_to_sim_index(root_pose=torch.cat([pos, quat], -1), env_ids=env_ids)
        self.object.write_root_link_velocity_to_sim_index(
            root_velocity=torch.cat([fr["lin_vel"], fr["ang_vel"]], -1), env_ids=env_ids)

    def apply_assist(self) -> None:
        """Set the virtual controller's wrench for the coming control step (object_controller)."""
        cfg = self.cfg.assist
        if not cfg.enabled or self.assist_scale <= 0.0:
            if bool(self.assist_force.any()) or bool(self.assist_torque.any()):
                self.assist_force.zero_()
                self.assist_torque.zero_()
                self._set_wrench()
            return
        # target: the reference at the end of the coming control step
        fr = self.library.object_frames(self.clip_ids, self.times + self.step_dt)
        data = self.object.data
        mass = data.body_mass.torch.reshape(self.num_envs, -1)[:, 0]
        inertia = data.body_inertia.torch.reshape(self.num_envs, 3, 3)
        self.assist_force, self.assist_torque = assist_wrench(
            self.object_pos_w, self.object_quat_w, self.object_lin_vel_w, self.object_ang_vel_w,
            fr["pos"] + self._env.scene.env_origins, wxyz_to_xyzw(fr["quat"]), fr["lin_vel"], fr["ang_vel"],
            mass, inertia, self.assist_scale, cfg)
        self._set_wrench()

    def _set_wrench(self) -> None:
        self.object.permanent_wrench_composer.set_forces_and_torques_index(
            forces=self.assist_force[:, None, :].contiguous(), torques=self.assist_torque[:, None, :].contiguous(),
            env_ids=self._all_envs, is_global=True)


@configclass
class ObjectMotionCommandCfg(MotionCommandCfg):
    """Configuration of ``ObjectMotionCommand``."""

    class_type: type = ObjectMotionCommand
    object_name: str = "object"
    """The object's scene entity (a ``RigidObject``)."""
    num_surface_points: int = 1024
    """P: surface points sampled once for the point-cloud terms."""
    pointcloud_backend: str = "auto"
    """``mimiclab.kernels.pointcloud`` backend ("auto": the fastest for the sim device)."""
    object_pose_range: dict[str, tuple[float, float]] = {}
    """Reset noise on the object's pose: keys x y z [m], roll pitch yaw [rad] (domain randomisation)."""
    assist: ObjectAssistCfg = ObjectAssistCfg()
    """The virtual object controller (faded out by the ``object_assist`` curriculum term)."""
