"""Network inputs and outputs of the learned retargeter, in a heading frame (torch, batched).

Every clip is expressed in its own heading frame per frame: origin under the pelvis (x, y, 0),
x axis along the body's facing direction on the ground. Inputs and outputs are then invariant to
where the performer stands and which way they face, and the world trajectory is recovered exactly
from the heading track (no integrated drift). Shapes: B clips (or windows) × T frames.

Human side (``human_nodes``): per body role (``graph.HUMAN_ROLES``) its position in the heading
frame [m] (z is the height above the ground), its velocity in the heading frame [0.1 m/s], a
present flag, the heel/toe contact flag on the foot nodes, and the clip's log limb scales
(G1 length / human length per ``graph.LIMB_GROUPS``, the bone-length features).

Robot side (``robot_nodes``): the root's height, orientation in the heading frame (6-D) and
velocity; per joint its angle [rad] and velocity [0.1 rad/s].
"""

from __future__ import annotations

import torch

from mimiclab.retarget.learned.graph import HUMAN_ROLES
from mimiclab.rotations.torch_ops import matrix_from_quat, quat_from_matrix

VEL_SCALE = 0.1  # velocities enter the network in units of 10 m/s (rad/s)
HUMAN_NODE_DIM = 3 + 3 + 1 + 1 + 6
ROBOT_ROOT_DIM = 1 + 6 + 3 + 1
ROBOT_JOINT_DIM = 2
OUTPUT_ROOT_DIM = 3 + 6
# contact columns (left heel, left toe, right heel, right toe) → the role node carrying each
CONTACT_NODES = ("left_ankle", "left_toe", "right_ankle", "right_toe")


def yaw_matrix(yaw: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotations about +z by yaw (...) [rad]."""
    c, s = torch.cos(yaw), torch.sin(yaw)
    z, o = torch.zeros_like(yaw), torch.ones_like(yaw)
    return torch.stack((torch.stack((c, -s, z), -1), torch.stack((s, c, z), -1), torch.stack((z, z, o), -1)), -2)


def to_heading(v: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
    """World vectors v (B,T,...,3) expressed in the heading frame of yaw (B,T)."""
    c, s = torch.cos(yaw), torch.sin(yaw)
    while c.dim() < v.dim() - 1:
        c, s = c[..., None], s[..., None]
    x, y, z = v.unbind(-1)
    return torch.stack((c * x + s * y, -s * x + c * y, z), -1)


def _velocity(x: torch.Tensor, fps: float) -> torch.Tensor:
    """Backward differences along T (dim 1) × fps; frame 0 repeats frame 1's."""
    if x.shape[1] < 2:
        return torch.zeros_like(x)
    d = (x[:, 1:] - x[:, :-1]) * fps
    return torch.cat((d[:, :1], d), 1)


def human_heading(roles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Heading track of role positions (B,T,R,3) → origin (B,T,3) (pelvis on the ground), yaw (B,T):
    facing = the hip axis (left − right) turned −90° about z."""
    pelvis = roles[:, :, HUMAN_ROLES.index("pelvis")]
    lateral = roles[:, :, HUMAN_ROLES.index("left_hip")] - roles[:, :, HUMAN_ROLES.index("right_hip")]
    yaw = torch.atan2(-lateral[..., 0], lateral[..., 1])
    origin = torch.cat((pelvis[..., :2], torch.zeros_like(pelvis[..., :1])), -1)
    return origin, yaw


def robot_heading(root_pos: torch.Tensor, root_quat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Heading track of a G1 root (B,T,3), (B,T,4) wxyz → origin (B,T,3), yaw (B,T) of its x axis."""
    m = matrix_from_quat(root_quat)
    yaw = torch.atan2(m[..., 1, 0], m[..., 0, 0])
    origin = torch.cat((root_pos[..., :2], torch.zeros_like(root_pos[..., :1])), -1)
    return origin, yaw


def human_nodes(roles, present, contacts, log_scales, fps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Role positions (B,T,R,3) world [m], present (R,) or (B,R) bool, contacts (B,T,4) (heel/toe
    planted, left then right), log_scales (B,G) → node features (B,T,R,HUMAN_NODE_DIM), origin
    (B,T,3), yaw (B,T)."""
    B, T, R, _ = roles.shape
    origin, yaw = human_heading(roles)
    rel = to_heading(roles - origin[:, :, None], yaw)
    vel = to_heading(_velocity(roles, fps), yaw) * VEL_SCALE
    pres = torch.as_tensor(present, dtype=roles.dtype, device=roles.device)
    pres = pres.reshape(-1, 1, R, 1).expand(B, T, R, 1) if pres.dim() == 2 else pres.reshape(1, 1, R, 1).expand(B, T, R, 1)
    contact = torch.zeros(B, T, R, 1, dtype=roles.dtype, device=roles.device)
    for c, role in enumerate(CONTACT_NODES):
        contact[:, :, HUMAN_ROLES.index(role), 0] = contacts[..., c].to(roles.dtype)
    lengths = log_scales[:, None, None, :].to(roles.dtype).expand(B, T, R, log_scales.shape[-1])
    return torch.cat((rel * pres, vel * pres, pres, contact, lengths), -1), origin, yaw


def robot_in_heading(root_pos, root_quat, origin, yaw) -> tuple[torch.Tensor, torch.Tensor]:
    """A root trajectory (B,T,3), (B,T,4) in the heading frame (origin, yaw) → position (B,T,3),
    rotation matrix (B,T,3,3)."""
    rel = to_heading(root_pos - origin, yaw)
    mat = yaw_matrix(-yaw) @ matrix_from_quat(root_quat)
    return rel, mat


def robot_to_world(rel_pos, rel_mat, origin, yaw) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of ``robot_in_heading`` → root_pos (B,T,3), root_quat (B,T,4) wxyz."""
    R = yaw_matrix(yaw)
    pos = origin + (R @ rel_pos[..., None])[..., 0]
    return pos, quat_from_matrix(R @ rel_mat)


def robot_nodes(root_pos, root_quat, joint_pos, fps: float):
    """A G1 trajectory (B,T,3), (B,T,4) wxyz, (B,T,J) → root features (B,T,ROBOT_ROOT_DIM), joint
    features (B,T,J,ROBOT_JOINT_DIM), origin (B,T,3), yaw (B,T)."""
    origin, yaw = robot_heading(root_pos, root_quat)
    rel, mat = robot_in_heading(root_pos, root_quat, origin, yaw)
    vel = to_heading(_velocity(root_pos, fps), yaw) * VEL_SCALE
    dyaw = torch.atan2(torch.sin(yaw[:, 1:] - yaw[:, :-1]), torch.cos(yaw[:, 1:] - yaw[:, :-1])) * fps
    dyaw = torch.cat((dyaw[:, :1], dyaw), 1) if dyaw.shape[1] else torch.zeros_like(yaw)
    root = torch.cat((rel[..., 2:], mat[..., :2].flatten(-2), vel, (dyaw * VEL_SCALE)[..., None]), -1)
    joints = torch.stack((joint_pos, _velocity(joint_pos, fps) * VEL_SCALE), -1)
    return root, joints, origin, yaw
