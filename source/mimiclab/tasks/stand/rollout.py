"""A short open-loop rollout of Mimic-Stand-G1 (zero actions = PD holding the default pose).

Used by `mimiclab demo` until trained policies exist: it proves the task builds and steps on the
device present, and measures throughput.
"""

from __future__ import annotations

import time

import torch


def run_stand_rollout(num_envs: int = 4, seconds: float = 2.0, device: str = "cpu") -> dict:
    """Build Mimic-Stand-G1, step `seconds` of simulated time with zero actions.

    Returns {"num_envs", "device", "build_s", "control_steps", "control_steps_per_s",
    "env_physics_steps_per_s", "time_s" (T,), "pelvis_height_m" (T, num_envs), "nan"}.
    """
    import gymnasium as gym
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg
    from tqdm import trange

    import mimiclab.tasks  # noqa: F401  (registers the tasks)
    from mimiclab.tasks.physics import configure_device

    t0 = time.perf_counter()
    cfg = parse_env_cfg("Mimic-Stand-G1", device=device, num_envs=num_envs)
    configure_device(cfg.sim, device)
    env = gym.make("Mimic-Stand-G1", cfg=cfg)
    try:
        env.reset(seed=0)
        build_s = time.perf_counter() - t0
        base = env.unwrapped
        robot = base.scene["robot"]
        steps = int(round(seconds / base.step_dt))
        actions = torch.zeros(num_envs, base.action_manager.total_action_dim, device=base.device)
        heights, times = [], []
        t1 = time.perf_counter()
        for i in trange(steps, desc="Mimic-Stand-G1 rollout", unit="step", leave=False):
            env.step(actions)
            heights.append(robot.data.root_pos_w.torch[:, 2].cpu().tolist())
            times.append((i + 1) * base.step_dt)
        elapsed = time.perf_counter() - t1
        nan = not torch.isfinite(robot.data.joint_pos.torch).all().item()
    finally:
        env.close()
    return {
        "num_envs": num_envs,
        "device": device,
        "build_s": build_s,
        "control_steps": steps,
        "control_steps_per_s": steps / elapsed,
        "env_physics_steps_per_s": steps * num_envs * base.cfg.decimation / elapsed,
        "time_s": times,
        "pelvis_height_m": heights,
        "nan": nan,
    }


def plot_rollout(result: dict, path) -> None:
    """Pelvis height of every env over time, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=120)
    ax.plot(result["time_s"], result["pelvis_height_m"], lw=1.2)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("pelvis height [m]")
    ax.set_title(f"Mimic-Stand-G1, zero action (PD only), {result['num_envs']} envs on {result['device']}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
