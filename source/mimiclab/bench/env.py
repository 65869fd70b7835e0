"""`mimiclab bench env`: the tracking task's env-steps/s against the same scene stepped as bare
physics (no managers, no MDP), measured side by side in one process."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch


def _sample_clips(folder: Path) -> list[str]:
    from mimiclab.retarget.batch import retarget_files
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.retarget.sources.synthetic import write_samples

    bvh = [str(p) for p in write_samples(folder / "src") if p.suffix == ".bvh"]
    results = retarget_files(bvh, str(folder / "g1"), RetargetSettings(), progress=False)
    return [str(folder / "g1" / f"{r.name}.npz") for r in results if r.ok]


def bench_env(num_envs: int | None = None, steps: int = 100, device: str | None = None,
              verbose: bool = True) -> list[dict]:
    """Records {kernel: "env", backend: "mdp"|"physics_only", device, size, throughput (env-steps/s
    at the 50 Hz control rate), unit, ratio_vs_reference (vs physics only), mdp_overhead}."""
    import gymnasium as gym
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    import mimiclab.tasks  # noqa: F401  (registers the tasks)
    from mimiclab.tasks.physics import configure_device

    device = device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    num_envs = num_envs or (16 if device == "cpu" else 4096)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_env_cfg("Mimic-Track-G1", device=device, num_envs=num_envs)
        cfg.commands.motion.motion_files = _sample_clips(Path(tmp))
        configure_device(cfg.sim, device)
        env = gym.make("Mimic-Track-G1", cfg=cfg)
        try:
            base = env.unwrapped
            robot = base.scene["robot"]
            actions = torch.zeros(num_envs, base.action_manager.total_action_dim, device=base.device)

            def mdp_steps() -> float:
                env.reset(seed=0)
                for _ in range(5):
                    env.step(actions)
                start = time.perf_counter()
                for _ in range(steps):
                    env.step(actions)
                return time.perf_counter() - start

            def physics_steps() -> float:
                env.reset(seed=0)
                for _ in range(5 * base.cfg.decimation):
                    robot.write_data_to_sim()
                    base.sim.step(render=False)
                    base.scene.update(dt=base.physics_dt)
                start = time.perf_counter()
                for _ in range(steps * base.cfg.decimation):
                    robot.write_data_to_sim()
                    base.sim.step(render=False)
                    base.scene.update(dt=base.physics_dt)
                return time.perf_counter() - start

            mdp_steps()  # warm-up (kernel compilation, caches)
            physics_s, mdp_s = physics_steps(), mdp_steps()
        finally:
            env.close()
    size = f"G1, {num_envs} envs, {steps} control steps"
    physics_rate, mdp_rate = steps * num_envs / physics_s, steps * num_envs / mdp_s
    records = [
        {"kernel": "env", "backend": "physics_only", "device": device, "size": size, "throughput": physics_rate,
         "unit": "env-steps/s", "seconds": physics_s, "ratio_vs_reference": 1.0},
        {"kernel": "env", "backend": "mdp", "device": device, "size": size, "throughput": mdp_rate,
         "unit": "env-steps/s", "seconds": mdp_s, "ratio_vs_reference": mdp_rate / physics_rate,
         "mdp_overhead": physics_rate / mdp_rate - 1.0},
    ]
    if verbose:
        print(f"Mimic-Track-G1 on {device}, {num_envs} envs — side by side, same process:")
        print(f"  physics only      {physics_rate:>10,.0f} env-steps/s")
        print(f"  full MDP          {mdp_rate:>10,.0f} env-steps/s  (MDP adds {100 * (physics_rate / mdp_rate - 1):.0f} %)")
    return records
