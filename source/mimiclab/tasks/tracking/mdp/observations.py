"""Observation terms of the tracking task: ``term(env, command_name) -> Tensor[num_envs, D]``.

Actor, proprioceptive (the ``Mimic-Track-G1`` default; a G1 computes them from its reference, its
IMU and its joint encoders): the reference's future joint positions, its future anchor positions in
its own current anchor frame (:func:`ref_future_anchor_pos_local`), its anchor's linear velocity in
its own frame (:func:`ref_anchor_lin_vel_local`), and its future anchor orientations relative to the
robot's measured anchor orientation (:func:`ref_future_anchor_ori_b`). Actor with a state estimator
(``Mimic-Track-G1-StateEstimation``): the reference's future anchor positions in the robot's anchor
frame (:func:`ref_future_anchor_pos_b`, needs the robot's world position). Privileged (critic): robot
bodies relative to the robot's anchor. Orientations are the first two columns of the rotation matrix
(6 numbers, continuous; ``R[:, :2]`` flattened row by row). Quaternions are XYZW. Which robot-side
signals every actor term needs: ``mimiclab.deploy.tracking_mdp.ACTOR_TERM_SIGNALS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.utils.math import matrix_from_quat, quat_apply_inverse, quat_inv, quat_mul, yaw_quat

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

    from mimiclab.tasks.tracking.mdp.commands import MotionCommand

__all__ = ["ref_future_joint_pos", "ref_future_anchor_pos_b", "ref_future_anchor_pos_local",
           "ref_anchor_lin_vel_local", "ref_future_anchor_ori_b", "ref_future_keypoints_local", "ref_anchor_pos_b",
           "ref_anchor_ori_b", "ref_joint_pos", "ref_joint_vel", "robot_body_pos_b", "robot_body_ori_b",
           "frame_pos", "frame_ori6"]


def _cmd(env, name: str) -> MotionCommand:
    return env.command_manager.get_term(name)


def frame_pos(frame_pos_w: torch.Tensor, frame_quat_w: torch.Tensor, pos_w: torch.Tensor) -> torch.Tensor:
    """Points pos_w (N,K,3) in the frame (N,3)/(N,4 xyzw): (N,K,3) [m]."""
    K = pos_w.shape[1]
    q = frame_quat_w[:, None, :].expand(-1, K, -1)
    return quat_apply_inverse(q, pos_w - frame_pos_w[:, None, :])


def frame_ori6(frame_quat_w: torch.Tensor, quat_w: torch.Tensor) -> torch.Tensor:
    """Orientations quat_w (N,K,4) relative to the frame (N,4): first two rotation-matrix columns (N,K,6)."""
    K = quat_w.shape[1]
    rel = quat_mul(quat_inv(frame_quat_w)[:, None, :].expand(-1, K, -1), quat_w)
    return matrix_from_quat(rel)[..., :2].reshape(*rel.shape[:-1], 6)


def ref_future_joint_pos(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference joint positions at the future offsets (N, K·J) [rad]."""
    return _cmd(env, command_name).future_joint_pos.reshape(env.num_envs, -1)


def ref_future_anchor_pos_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference anchor positions at the future offsets in the robot's anchor frame (N, K·3) [m].

    ``R_aᵀ (p_ref(t + k·dt) − p_a)`` with p_a, R_a the robot anchor's world position and orientation:
    needs the robot's world position (a state estimator on a real G1); the state-estimation actor's
    ``ref_anchor_pos`` term."""
    c = _cmd(env, command_name)
    return frame_pos(c.robot_anchor_pos_w, c.robot_anchor_quat_w, c.future_anchor_pos_w).reshape(env.num_envs, -1)


def ref_future_anchor_pos_local(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference anchor positions at the future offsets in the reference's current anchor frame (N, K·3) [m].

    ``R_ref(t)ᵀ (p_ref(t + k·dt) − p_ref(t))`` for k in the future offsets, k-major (3 numbers per
    offset), with p_ref, R_ref the reference anchor's (torso_link) world position and orientation: where
    the reference anchor is going, seen from where it is now. The reference alone — no robot state, so
    shifting or turning the robot in the world leaves it unchanged (the default actor's
    ``ref_anchor_pos_local`` term)."""
    c = _cmd(env, command_name)
    return frame_pos(c.anchor_pos_w, c.anchor_quat_w, c.future_anchor_pos_w).reshape(env.num_envs, -1)


def ref_anchor_lin_vel_local(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference anchor linear velocity now in the reference anchor's own frame (N, 3) [m/s].

    ``R_ref(t)ᵀ v_ref(t)`` with v_ref the reference anchor's world linear velocity (the motion file's
    ``body_lin_vel_w``, interpolated like every reference field) and R_ref its orientation. The
    reference alone (the default actor's ``ref_anchor_lin_vel`` term)."""
    c = _cmd(env, command_name)
    return quat_apply_inverse(c.anchor_quat_w, c.anchor_lin_vel_w)


def ref_future_anchor_ori_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference anchor orientations at the future offsets relative to the robot's anchor (N, K·6).

    ``(R_aᵀ R_ref(t + k·dt))[:, :2]`` row by row, R_a the robot anchor's orientation (on a G1: the IMU's
    attitude through the waist joints; no position needed)."""
    c = _cmd(env, command_name)
    return frame_ori6(c.robot_anchor_quat_w, c.future_anchor_quat_w).reshape(env.num_envs, -1)


def ref_future_keypoints_local(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference keypoints (the tracked bodies) at the future offsets in the reference's current
    heading frame (N, K·B·3) [m], k-major then body-major.

    ``Yaw(R_ref(t))ᵀ (p_ref,b(t + k·dt) − p_ref(t))`` with p_ref, R_ref the reference anchor's world
    position and orientation and Yaw its heading: the goal keypoints as seen from the robot when the
    reference is placed on the robot's anchor (xy, heading), as the rewards place it. The
    reference alone — no joint targets and no robot state (the keypoint task's ``ref_keypoints``)."""
    c = _cmd(env, command_name)
    kp = c.future_body_pos_w  # (N,K,B,3)
    N, K, B, _ = kp.shape
    heading = yaw_quat(c.anchor_quat_w)
    return frame_pos(c.anchor_pos_w, heading, kp.reshape(N, K * B, 3)).reshape(N, -1)


def ref_anchor_pos_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference anchor position now in the robot's anchor frame (N, 3) [m]."""
    c = _cmd(env, command_name)
    return frame_pos(c.robot_anchor_pos_w, c.robot_anchor_quat_w, c.anchor_pos_w[:, None]).reshape(env.num_envs, 3)


def ref_anchor_ori_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference anchor orientation now relative to the robot's anchor (N, 6)."""
    c = _cmd(env, command_name)
    return frame_ori6(c.robot_anchor_quat_w, c.anchor_quat_w[:, None]).reshape(env.num_envs, 6)


def ref_joint_pos(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference joint positions now (N, J) [rad]."""
    return _cmd(env, command_name).joint_pos


def ref_joint_vel(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Reference joint velocities now (N, J) [rad/s]."""
    return _cmd(env, command_name).joint_vel


def robot_body_pos_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Tracked robot bodies in the robot's anchor frame (N, B·3) [m] (privileged)."""
    c = _cmd(env, command_name)
    return frame_pos(c.robot_anchor_pos_w, c.robot_anchor_quat_w, c.robot_body_pos_w).reshape(env.num_envs, -1)


def robot_body_ori_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """Tracked robot body orientations relative to the robot's anchor (N, B·6) (privileged)."""
    c = _cmd(env, command_name)
    return frame_ori6(c.robot_anchor_quat_w, c.robot_body_quat_w).reshape(env.num_envs, -1)
