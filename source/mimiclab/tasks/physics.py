"""Default physics for mimiclab tasks: Newton with the MuJoCo-Warp solver.

``implicitfast`` integration and joint armature keep the PD-actuated G1 stable at dt = 5 ms;
``njmax``/``nconmax`` are per-world constraint/contact capacities (the solver prints the size it
needs on overflow, and NaNs follow), sized for a G1 that may fall on flat ground.
"""

from __future__ import annotations

from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

PHYSICS_DT = 0.005  # s (200 Hz)
DECIMATION = 4  # 50 Hz policy


def newton_mjwarp_cfg(njmax: int = 600, nconmax: int = 150) -> NewtonCfg:
    return NewtonCfg(
        solver_cfg=MJWarpSolverCfg(njmax=njmax, nconmax=nconmax, integrator="implicitfast",
                                   cone="pyramidal", impratio=1.0),
        num_substeps=1,
        use_cuda_graph=False,  # enabled per device by configure_device()
    )


def configure_device(sim_cfg, device: str) -> None:
    """Set the simulation device; CUDA graphs only where they exist."""
    sim_cfg.device = device
    sim_cfg.physics.use_cuda_graph = device.startswith("cuda")


def apply_sim_defaults(env_cfg, episode_length_s: float = 10.0) -> None:
    """200 Hz Newton MJWarp physics, 50 Hz policy, `episode_length_s` episodes, local flat ground."""
    import isaaclab.sim as sim_utils
    from isaaclab.assets import AssetBaseCfg

    from mimiclab.tasks.ground import ground_plane_usd

    env_cfg.decimation = DECIMATION
    env_cfg.episode_length_s = episode_length_s
    env_cfg.sim.dt = PHYSICS_DT
    env_cfg.sim.render_interval = DECIMATION
    env_cfg.sim.physics = newton_mjwarp_cfg()
    env_cfg.scene.ground = AssetBaseCfg(prim_path="/World/ground",
                                        spawn=sim_utils.GroundPlaneCfg(usd_path=str(ground_plane_usd())))
