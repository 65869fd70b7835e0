"""The virtual object controller (ResMimic's assist): a PD wrench on the object toward its reference.

    force  = s · m · (kp · (p_ref − p) + kd · (v_ref − v) + g_comp)       capped at max_force [N]
    torque = s · R I Rᵀ · (kp_rot · rotvec(q_ref ⊗ q⁻¹) + kd_rot · (ω_ref − ω))   capped at max_torque [N·m]

with m the object's mass, I its body-frame inertia (the gains are per kg, and per unit inertia for the
rotation, so the closed loop has the same natural frequency √kp ≈ 9 rad/s whatever the object), s the
curriculum scale in [0, 1], and g_comp = −gravity (so that a full assist holds the object on its
reference instead of letting it sag by g/kp ≈ 0.12 m). The damping acts on the velocity error, so a
moving reference is followed without lag; with a static reference it is the plain −kd·v.

When: once per control step (50 Hz), after the physics and resets (``ObjectMotionCommand``'s update),
through the object's *permanent* wrench composer in the world frame: Isaac Lab re-expresses it in the
body frame at every physics step, and holds it over the decimation's 4 physics steps (zero-order
hold; ω·dt ≈ 0.18 at 50 Hz, well inside the stable range).
"""

from __future__ import annotations

import torch
from isaaclab.utils.configclass import configclass
from isaaclab.utils.math import axis_angle_from_quat, matrix_from_quat, quat_inv, quat_mul

__all__ = ["ObjectAssistCfg", "assist_wrench"]

GRAVITY = (0.0, 0.0, -9.81)


@configclass
class ObjectAssistCfg:
    """Gains and limits of the virtual object controller (``assist_wrench``)."""

    enabled: bool = True
    kp: float = 80.0
    """Position gain per kg [1/s²]."""
    kd: float = 8.0
    """Velocity gain per kg [1/s]."""
    kp_rot: float = 80.0
    """Rotation gain per unit inertia [1/s²]."""
    kd_rot: float = 8.0
    """Angular velocity gain per unit inertia [1/s]."""
    max_force: float = 100.0
    """Cap on |force| [N]."""
    max_torque: float = 20.0
    """Cap on |torque| [N·m]."""
    gravity_compensation: bool = True
    initial_scale: float = 1.0
    """Curriculum scale at the start of training (faded by the ``object_assist`` curriculum term)."""


def _cap(x: torch.Tensor, limit: float) -> torch.Tensor:
    norm = x.norm(dim=-1, keepdim=True)
    return x * torch.clamp(limit / norm.clamp(min=1e-12), max=1.0)


def assist_wrench(pos: torch.Tensor, quat: torch.Tensor, lin_vel: torch.Tensor, ang_vel: torch.Tensor,
                  ref_pos: torch.Tensor, ref_quat: torch.Tensor, ref_lin_vel: torch.Tensor,
                  ref_ang_vel: torch.Tensor, mass: torch.Tensor, inertia: torch.Tensor, scale,
                  cfg: ObjectAssistCfg) -> tuple[torch.Tensor, torch.Tensor]:
    """World-frame force (N,3) [N] and torque (N,3) [N·m] at the object's CoM (module docstring).

    pos/ref_pos (N,3) [m], quat/ref_quat (N,4) XYZW, velocities (N,3) world [m/s, rad/s],
    mass (N,) [kg], inertia (N,3,3) body frame [kg·m²], scale: float or (N,) in [0, 1].
    """
    scale = torch.as_tensor(scale, dtype=pos.dtype, device=pos.device).reshape(-1, 1)
    acc = cfg.kp * (ref_pos - pos) + cfg.kd * (ref_lin_vel - lin_vel)
    if cfg.gravity_compensation:
        acc = acc - torch.tensor(GRAVITY, dtype=pos.dtype, device=pos.device)
    force = _cap(scale * mass.reshape(-1, 1) * acc, cfg.max_force)
    rot_err = axis_angle_from_quat(quat_mul(ref_quat, quat_inv(quat)))  # world frame rotation vector
    alpha = cfg.kp_rot * rot_err + cfg.kd_rot * (ref_ang_vel - ang_vel)
    R = matrix_from_quat(quat)
    inertia_w = R @ inertia @ R.transpose(-1, -2)
    torque = _cap(scale * (inertia_w @ alpha[..., None])[..., 0], cfg.max_torque)
    return force, torque
