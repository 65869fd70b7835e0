"""`mimiclab bench env`: the tracking task's env-steps/s and the share of its step time spent in
physics, measured in the same run on the same states.

Physics is everything the scene does to advance the simulation (``scene.write_data_to_sim``,
``sim.step``, ``scene.update``); the rest is the MDP (command, observations, rewards,
terminations, resets, actions). Stepping bare physics in a separate loop would compare different
states (a robot lying on the ground makes the solver cost differ), so both figures come from one
rollout: physics-only env-steps/s = steps / time inside physics.

``--task Mimic-Residual-Box-G1`` benches the residual loco-manipulation task on the shipped box-carry
sample and also times the point-cloud object term (the distance D over 1024 surface points through
the kernels, computed once per control step and shared by the reward and the termination) inside
the same rollout: its share of an env step is the issue's ≤ 5 % figure.

``--physics A B ...`` benches physics presets one after the other in this process, each on the same
seeded rollout (same clips, seed, zero actions), and prints each one's ratio to ``mjwarp``.
"""

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


TRACKING_TASK = "Mimic-Track-G1"
RESIDUAL_TASK = "Mimic-Residual-Box-G1"


def _box_clip(folder: Path) -> list[str]:
    from mimiclab.retarget.attach_object import make_box_carry_motion

    return [str(make_box_carry_motion(folder))]


def bench_env(num_envs: int | None = None, steps: int = 100, device: str | None = None,
              verbose: bool = True, task: str = TRACKING_TASK, physics: list[str] | None = None) -> list[dict]:
    """Records {kernel: "env", backend: "mdp"|"physics_only", physics, device, size, throughput (env-steps/s
    at the 50 Hz control rate), unit, ratio_vs_reference, mdp_overhead}; for the residual task also
    {backend: "pointcloud_term", seconds, share_of_env_step}.
    Zero actions: the PD holds the reference-initialised pose while the reference moves on.

    ``physics``: physics presets (``mimiclab.tasks.physics.PHYSICS_PRESETS``) benched one after the
    other in this process on the same seeded rollout; with more than one, ``ratio_vs_reference`` is
    against the physics-only figure of ``mjwarp`` when it is in the list (else of the first preset), and
    a preset that fails is recorded with ``error`` instead of a throughput."""
    if task not in (TRACKING_TASK, RESIDUAL_TASK):
        raise ValueError(f"bench env: unknown task '{task}' ({TRACKING_TASK}, {RESIDUAL_TASK})")
    from mimiclab.tasks.physics import PHYSICS_PRESETS

    physics = list(physics or [None])
    for preset in physics:
        if preset is not None and preset not in PHYSICS_PRESETS:
            raise ValueError(f"bench env: unknown physics '{preset}' ({', '.join(PHYSICS_PRESETS)})")
    device = device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    num_envs = num_envs or (16 if device == "cpu" else 4096)
    results = []
    for preset in physics:
        try:
            results.append((preset, _bench_one(num_envs, steps, device, task, preset)))
        except Exception as exc:  # noqa: BLE001 - a failing backend is a result of the comparison
            results.append((preset, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"))
    ok = [(p, r) for p, r in results if not isinstance(r, str)]
    ref = next((r for p, r in ok if p == "mjwarp"), ok[0][1] if ok else None)
    size = f"G1, {num_envs} envs, {steps} control steps"
    records = []
    for preset, r in results:
        name = preset or "default"
        if isinstance(r, str):
            records.append({"kernel": "env", "backend": "physics_only", "physics": name, "device": device,
                            "size": size, "throughput": None, "unit": "env-steps/s", "error": r})
            continue
        physics_rate, mdp_rate = steps * num_envs / r["physics_s"], steps * num_envs / r["mdp_s"]
        ref_rate = steps * num_envs / ref["physics_s"] if len(physics) > 1 else physics_rate
        records += [
            {"kernel": "env", "backend": "physics_only", "physics": name, "device": device, "size": size,
             "throughput": physics_rate, "unit": "env-steps/s", "seconds": r["physics_s"],
             "ratio_vs_reference": physics_rate / ref_rate},
            {"kernel": "env", "backend": "mdp", "physics": name, "device": device, "size": size,
             "throughput": mdp_rate, "unit": "env-steps/s", "seconds": r["mdp_s"],
             "ratio_vs_reference": mdp_rate / ref_rate, "mdp_overhead": physics_rate / mdp_rate - 1.0,
             "mdp_share": 1.0 - r["physics_s"] / r["mdp_s"]},
        ]
        if task == RESIDUAL_TASK:
            records.append({"kernel": "env", "backend": "pointcloud_term", "physics": name, "device": device,
                            "size": size, "throughput": steps * num_envs / r["pointcloud_s"], "unit": "env-steps/s",
                            "seconds": r["pointcloud_s"], "share_of_env_step": r["pointcloud_s"] / r["mdp_s"],
                            "ratio_vs_reference": r["physics_s"] / r["pointcloud_s"]})
    if verbose:
        print(f"{task} on {device}, {num_envs} envs — one rollout per physics, physics timed inside it:")
        for preset, r in results:
            name = preset or "default"
            if isinstance(r, str):
                print(f"  [{name}] failed: {r}")
                continue
            physics_rate, mdp_rate = steps * num_envs / r["physics_s"], steps * num_envs / r["mdp_s"]
            print(f"  [{name}] physics only {physics_rate:>9,.0f} env-steps/s"
                  + (f"  ({physics_rate * ref['physics_s'] / (steps * num_envs):.1f}x mjwarp)"
                     if len(physics) > 1 else ""))
            print(f"  [{name}] full MDP     {mdp_rate:>9,.0f} env-steps/s  (MDP adds "
                  f"{100 * (physics_rate / mdp_rate - 1):.0f} %, {100 * (1 - r['physics_s'] / r['mdp_s']):.0f} % "
                  f"of the step)")
            if task == RESIDUAL_TASK:
                print(f"  [{name}] point-cloud term {1000 * r['pointcloud_s'] / steps:>8.3f} ms per env step "
                      f"({100 * r['pointcloud_s'] / r['mdp_s']:.2f} % of the env step; 1024 points)")
    return records


def _bench_one(num_envs: int, steps: int, device: str, task: str, preset: str | None) -> dict:
    import gymnasium as gym
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    import mimiclab.tasks  # noqa: F401  (registers the tasks)
    from mimiclab.tasks.physics import configure_device, physics_cfg

    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_env_cfg(task, device=device, num_envs=num_envs)
        cfg.commands.motion.motion_files = (_box_clip if task == RESIDUAL_TASK else _sample_clips)(Path(tmp))
        if preset is not None:
            cfg.sim.physics = physics_cfg(preset)
        configure_device(cfg.sim, device)
        env = gym.make(task, cfg=cfg)
        try:
            base = env.unwrapped
            actions = torch.zeros(num_envs, base.action_manager.total_action_dim, device=base.device)

            physics_time, pointcloud_time = [0.0], [0.0]

            def timed(fn, total=physics_time):
                def wrapper(*args, **kwargs):
                    t0 = time.perf_counter()
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        total[0] += time.perf_counter() - t0
                return wrapper

            torch.manual_seed(0)
            env.reset(seed=0)
            for _ in range(10):  # warm-up (kernel compilation, caches)
                env.step(actions)
            base.sim.step = timed(base.sim.step)
            base.scene.update = timed(base.scene.update)
            base.scene.write_data_to_sim = timed(base.scene.write_data_to_sim)
            cmd = base.command_manager.get_term("motion")
            if task == RESIDUAL_TASK:  # the kernel call behind the reward and the termination
                cmd.pointcloud_distance = timed(cmd.pointcloud_distance, pointcloud_time)
            start = time.perf_counter()
            for _ in range(steps):
                env.step(actions)
            mdp_s = time.perf_counter() - start
        finally:
            env.close()
    return {"physics_s": physics_time[0], "mdp_s": mdp_s, "pointcloud_s": pointcloud_time[0]}
