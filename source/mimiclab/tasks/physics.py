"""Default physics for mimiclab tasks: Newton + MuJoCo — MuJoCo C on the CPU, MuJoCo-Warp on CUDA.

``implicitfast`` integration and joint armature keep the PD-actuated G1 stable at dt = 5 ms;
``njmax``/``nconmax`` are per-world constraint/contact capacities of MuJoCo-Warp (the solver prints
the size it needs on overflow, and NaNs follow), sized for a G1 that may fall on flat ground.

Physics presets (``physics=`` of :func:`apply_sim_defaults`, or ``$MIMICLAB_PHYSICS``):

- ``auto`` (default): :class:`~mimiclab.tasks.physics_mujoco_cpu.MuJoCoCSolverCfg` — on a CPU device
  every world is stepped by MuJoCo C (one ``MjData`` per env) inside Newton/Isaac Lab; on CUDA it is
  plain MuJoCo-Warp. Same solver options, same model, same task ids, MDP terms and contract.
- ``mujoco_c``: MuJoCo C, refuses CUDA.
- ``mjwarp``: Newton's MuJoCo-Warp on whatever device (the previous CPU default).
- ``mjwarp_capture``: MuJoCo-Warp with its step replayed from a Warp graph (CPU capture); bench only.
- ``newton_mujoco_cpu``: Newton's own ``use_mujoco_cpu=True`` backend (one world only; bench only).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from isaaclab_newton.physics import NewtonCfg

PHYSICS_ENV_VAR = "MIMICLAB_PHYSICS"
PHYSICS_PRESETS = ("auto", "mujoco_c", "mjwarp", "mjwarp_capture", "newton_mujoco_cpu")

PHYSICS_DT = 0.005  # s (200 Hz)
DECIMATION = 4  # 50 Hz policy


def _chosen(preset: str | None) -> str:
    """`preset`, else ``$MIMICLAB_PHYSICS``, else ``auto``."""
    return preset or os.environ.get(PHYSICS_ENV_VAR) or "auto"


def resolved_preset(device: str, preset: str | None = None) -> str:
    """What physics a preset (default ``$MIMICLAB_PHYSICS`` or ``auto``) runs on `device`: ``auto`` is
    ``mujoco_c`` on the CPU and ``mjwarp`` on CUDA; other presets are themselves."""
    preset = _chosen(preset)
    if preset == "auto":
        return "mjwarp" if str(device).startswith("cuda") else "mujoco_c"
    return preset


def newton_mjwarp_cfg(njmax: int = 600, nconmax: int = 150) -> NewtonCfg:
    from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

    return NewtonCfg(
        solver_cfg=MJWarpSolverCfg(njmax=njmax, nconmax=nconmax, integrator="implicitfast",
                                   cone="pyramidal", impratio=1.0),
        num_substeps=1,
        use_cuda_graph=False,  # enabled per device by configure_device()
    )


def physics_cfg(preset: str | None = None, njmax: int = 600, nconmax: int = 150) -> NewtonCfg:
    """The Newton physics config of a preset (see the module docstring; default ``$MIMICLAB_PHYSICS``
    or ``auto``)."""
    from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

    preset = _chosen(preset)
    if preset not in PHYSICS_PRESETS:
        raise ValueError(f"unknown physics preset {preset!r} (choose from {', '.join(PHYSICS_PRESETS)})")
    options = dict(njmax=njmax, nconmax=nconmax, integrator="implicitfast", cone="pyramidal", impratio=1.0)
    if preset == "mjwarp":
        solver_cfg = MJWarpSolverCfg(**options)
    elif preset == "newton_mujoco_cpu":
        solver_cfg = MJWarpSolverCfg(use_mujoco_cpu=True, **options)
    else:
        from mimiclab.tasks.physics_mujoco_cpu import MuJoCoCSolverCfg

        solver_cfg = MuJoCoCSolverCfg(backend=preset, **options)
    return NewtonCfg(solver_cfg=solver_cfg, num_substeps=1,
                     use_cuda_graph=False)  # enabled per device by configure_device()


def configure_device(sim_cfg, device: str) -> None:
    """Set the simulation device; CUDA graphs only where they exist."""
    sim_cfg.device = device
    sim_cfg.physics.use_cuda_graph = device.startswith("cuda")


def apply_sim_defaults(env_cfg, episode_length_s: float = 10.0, physics: str | None = None) -> None:
    """200 Hz Newton physics (preset `physics`, see the module docstring), 50 Hz policy,
    `episode_length_s` episodes, local flat ground."""
    import isaaclab.sim as sim_utils
    from isaaclab.assets import AssetBaseCfg

    from mimiclab.tasks.ground import ground_plane_usd

    env_cfg.decimation = DECIMATION
    env_cfg.episode_length_s = episode_length_s
    env_cfg.sim.dt = PHYSICS_DT
    env_cfg.sim.render_interval = DECIMATION
    env_cfg.sim.physics = physics_cfg(physics)
    env_cfg.scene.ground = AssetBaseCfg(prim_path="/World/ground",
                                        spawn=sim_utils.GroundPlaneCfg(usd_path=str(ground_plane_usd())))
