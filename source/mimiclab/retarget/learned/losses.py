"""Losses of the learned retargeter (all means over batch, frames and the named items).

    terms = losses(net, batch, fps)      # {name: scalar tensor}; total = weighted sum (WEIGHTS)

translation: human → latent → G1 against the IK solution (joint angles [rad], root position [m]
and orientation in the human's heading frame); reconstruction: G1 → latent → G1 against itself;
alignment: the two latents of the same frames; fk: mean body-position error [m] of both decodings
over all G1 bodies; smoothness: squared joint acceleration [rad/frame²]²; contact: squared foot
speed [m/s]² while the source marks that foot planted (heel or toe).
"""

from __future__ import annotations

import torch

from mimiclab.retarget.learned.features import human_nodes, robot_in_heading, robot_nodes, yaw_matrix
from mimiclab.rotations.torch_ops import quat_from_matrix

WEIGHTS = {"translation": 1.0, "reconstruction": 1.0, "alignment": 0.1, "fk": 10.0, "smoothness": 10.0,
           "contact": 0.1}
FOOT_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link")


def body_positions(out: dict, tree) -> torch.Tensor:
    """Body positions (B,T,Nb,3) [m] in the heading frame of a decoding (``RetargetNet.decode``)."""
    from mimiclab.kernels.fk import fk_reference

    B, T, J = out["joint_pos"].shape
    pos, _ = fk_reference(tree, out["rel_pos"].reshape(-1, 3), quat_from_matrix(out["rel_mat"]).reshape(-1, 4),
                          out["joint_pos"].reshape(-1, J))
    return pos.reshape(B, T, -1, 3)


def pose_error(out: dict, target: dict) -> torch.Tensor:
    """Joint (smooth L1 [rad]) + root position (5 · squared [m]) + root orientation (squared
    Frobenius) error of a decoding against a target in the same heading frame."""
    return (torch.nn.functional.smooth_l1_loss(out["joint_pos"], target["joint_pos"], beta=0.05)
            + 5.0 * (out["rel_pos"] - target["rel_pos"]).square().sum(-1).mean()
            + (out["rel_mat"] - target["rel_mat"]).square().sum((-1, -2)).mean())


def losses(net, batch: dict, fps: float, tree=None) -> dict[str, torch.Tensor]:
    """The loss terms on a batch of windows (``PairSet.sample``)."""
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    tree = tree or g1_kinematic_tree()
    nodes, origin, yaw = human_nodes(batch["roles"], batch["present"], batch["contacts"], batch["log_scales"], fps)
    rel, mat = robot_in_heading(batch["root_pos"], batch["root_quat"], origin, yaw)
    target_h = {"rel_pos": rel, "rel_mat": mat, "joint_pos": batch["joint_pos"]}
    root, joints, r_origin, r_yaw = robot_nodes(batch["root_pos"], batch["root_quat"], batch["joint_pos"], fps)
    rel_r, mat_r = robot_in_heading(batch["root_pos"], batch["root_quat"], r_origin, r_yaw)
    target_r = {"rel_pos": rel_r, "rel_mat": mat_r, "joint_pos": batch["joint_pos"]}

    z_h, z_r = net.encode_human(nodes), net.encode_robot(root, joints)
    out_h, out_r = net.decode(z_h), net.decode(z_r)
    with torch.no_grad():
        true_h, true_r = body_positions(target_h, tree), body_positions(target_r, tree)
    body_h, body_r = body_positions(out_h, tree), body_positions(out_r, tree)
    fk = 0.5 * ((body_h - true_h).norm(dim=-1).mean() + (body_r - true_r).norm(dim=-1).mean())

    q = out_h["joint_pos"]
    smooth = (q[:, 2:] - 2 * q[:, 1:-1] + q[:, :-2]).square().mean() if q.shape[1] > 2 else q.sum() * 0
    feet = [tree.body_names.index(b) for b in FOOT_BODIES]
    world = torch.einsum("btij,btnj->btni", yaw_matrix(yaw), body_h[:, :, feet]) + origin[:, :, None]
    speed2 = ((world[:, 1:] - world[:, :-1]) * fps).square().sum(-1)  # (B,T-1,2)
    planted = torch.stack((batch["contacts"][..., :2].amax(-1), batch["contacts"][..., 2:].amax(-1)), -1)
    still = planted[:, 1:] * planted[:, :-1]
    contact = (speed2 * still).sum() / still.sum().clamp_min(1.0)
    return {"translation": pose_error(out_h, target_h), "reconstruction": pose_error(out_r, target_r),
            "alignment": (z_h - z_r).square().mean(), "fk": fk, "smoothness": smooth, "contact": contact}


def total(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum(WEIGHTS[k] * v for k, v in terms.items())
