"""Object rewards ``term(env, ...) -> Tensor[num_envs]`` in [0, 1].

``object_pointcloud_reward`` = exp(−λ·D), D (N,) [m] the mean distance between the object's P surface
points under its current and its reference pose (``ObjectMotionCommand.object_pointcloud``, through
``mimiclab.kernels.pointcloud``). ``object_contact_reward`` = Σ_i ĉ_i·exp(−λ_c/f_i) / Σ_i ĉ_i over the
labelled robot bodies, ĉ the reference labels, f_i [N] the contact force on body i **from the object
only**: a filtered ContactSensor (``filter_prim_paths_expr`` = the object's body) reports the force of
each filter body on each robot body (``force_matrix_w``), and f_i = Σ_j ‖F_ij‖ sums the magnitudes over
the filter bodies j (one, the object, in the residual scene; with several, the magnitudes add where
the norm of the summed force would cancel two opposite grips). A hand on the ground, a foot on the
floor or a self-contact earns nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.managers import ManagerTermBase, SceneEntityCfg

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["object_pointcloud_reward", "object_contact_reward", "contact_reward"]


def _cmd(env, name: str):
    return env.command_manager.get_term(name)


def object_pointcloud_reward(env: ManagerBasedRLEnv, lam: float = 10.0, command_name: str = "motion") -> torch.Tensor:
    """exp(−lam·D) (N,): 1 with the object on its reference, e⁻¹ at a mean point offset of 1/lam m."""
    return torch.exp(-lam * _cmd(env, command_name).object_pointcloud)


def contact_reward(labels: torch.Tensor, forces: torch.Tensor, lam: float) -> torch.Tensor:
    """Σ_i ĉ_i·exp(−lam/f_i) / Σ_i ĉ_i (N,) for labels ĉ (N,C) in [0,1] and force magnitudes f (N,C)
    [N]; f_i = 0 contributes 0, and an env with no labelled contact gets 0."""
    safe = forces.clamp(min=1e-9)
    per_body = torch.where(forces > 0, torch.exp(-lam / safe), torch.zeros_like(forces))
    total = labels.sum(-1)
    return torch.where(total > 0, (labels * per_body).sum(-1) / total.clamp(min=1e-9), torch.zeros_like(total))


class object_contact_reward(ManagerTermBase):
    """``contact_reward`` with the labels of the object command and the object's contact forces.

    Params: ``sensor_cfg`` a robot contact sensor filtered against the object
    (``SceneEntityCfg("object_contact_forces")``, ``ContactSensorCfg.filter_prim_paths_expr``); f_i =
    Σ_j ‖force_matrix_w[:, i, j]‖ [N] over its filter bodies j, the latest physics step; ``lam`` [N] (a
    force of lam N scores e⁻¹ ≈ 0.37); ``command_name``. Labelled bodies are matched to the sensor's
    bodies by name once; a sensor without a filter (net force from any contact) is a ValueError.
    """

    def __init__(self, cfg, env: ManagerBasedRLEnv):
        super().__init__(cfg, env)
        params = cfg.params
        c = _cmd(env, params.get("command_name", "motion"))
        sensor_cfg: SceneEntityCfg = params.get("sensor_cfg", SceneEntityCfg("object_contact_forces"))
        sensor = env.scene.sensors[sensor_cfg.name]
        matrix = sensor.data.force_matrix_w
        if matrix is None or matrix.torch.shape[2] == 0:
            raise ValueError(f"object_contact_reward: sensor '{sensor_cfg.name}' has no contact filter, so its "
                             "forces count any contact (ground, self); give it filter_prim_paths_expr = the "
                             "object's prim (e.g. ['{ENV_REGEX_NS}/Object'])")
        names = list(getattr(sensor, "sensor_names", None) or sensor.body_names)
        missing = [b for b in c.object_contact_bodies if b not in names]
        if missing:
            raise ValueError(f"object_contact_reward: contact bodies {missing} are not bodies of sensor "
                             f"'{sensor_cfg.name}'")
        self.body_ids = torch.tensor([names.index(b) for b in c.object_contact_bodies], dtype=torch.long,
                                     device=env.device)

    def __call__(self, env: ManagerBasedRLEnv, lam: float = 10.0, command_name: str = "motion",
                 sensor_cfg: SceneEntityCfg = SceneEntityCfg("object_contact_forces")) -> torch.Tensor:
        c = _cmd(env, command_name)
        if self.body_ids.numel() == 0:
            return torch.zeros(env.num_envs, device=env.device)
        matrix = env.scene.sensors[sensor_cfg.name].data.force_matrix_w.torch  # (N, bodies, filters, 3)
        forces = matrix[:, self.body_ids].norm(dim=-1).sum(dim=-1)
        return contact_reward(c.object_ref_contacts, forces, lam)
