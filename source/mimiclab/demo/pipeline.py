"""`mimiclab demo`: the main job, end to end on the device present.

Until the tracking and export issues land, the demo runs the part of the pipeline that exists and
says so: environment check, kernel benchmark, retargeting of the shipped synthetic human motions
to G1 motion files, and a short G1 simulation in Isaac Lab (Mimic-Stand-G1) with its figures written to DIR/demo.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch


def run_demo(out_dir: Path) -> int:
    from mimiclab.bench.kernels import run_kernel_bench
    from mimiclab.doctor import format_checks, run_checks

    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print("mimiclab demo — the pipeline so far: doctor → kernels → retarget → Isaac Lab G1 stand task.")
    print("(train → export → sim2sim join this demo as their issues land.)\n")
    checks = run_checks()
    print(format_checks(checks))
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        print(f"\nmimiclab demo: stopping: {failed[0].name}: {failed[0].detail}")
        return 1
    print()
    bench = run_kernel_bench(kernels=("fk", "ik"), quick=True, repeats=5)
    print()
    from mimiclab.retarget.batch import retarget_files, summary_table
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.retarget.sources.synthetic import write_samples

    print("Retargeting the shipped synthetic human motions (BVH and video keypoints) to the G1...")
    samples = write_samples(out_dir / "human_samples")
    retargeted = retarget_files([str(p) for p in samples], str(out_dir / "motions"), RetargetSettings())
    print(summary_table(retargeted))
    if not all(r.ok for r in retargeted):
        print("mimiclab demo: retargeting failed")
        return 1
    print()
    from mimiclab.tasks.stand.rollout import plot_rollout, run_stand_rollout

    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    print(f"Mimic-Stand-G1 on {device}: building the Isaac Lab env (first run compiles Warp kernels)...")
    stand = run_stand_rollout(num_envs=4 if device == "cpu" else 1024, seconds=2.0, device=device)
    plot_rollout(stand, out_dir / "stand_rollout.png")
    final = [h for h in stand["pelvis_height_m"][-1]]
    print(f"  built in {stand['build_s']:.1f} s; {stand['control_steps_per_s']:.1f} control steps/s "
          f"({stand['env_physics_steps_per_s']:.0f} env-physics-steps/s); NaN: {stand['nan']}; "
          f"pelvis height after {stand['time_s'][-1]:.1f} s: {min(final):.2f}–{max(final):.2f} m "
          f"(zero action: PD alone does not balance — that is the policy's job)")
    summary = {"kernels": bench, "stand": stand, "seconds": time.perf_counter() - t0,
               "retarget": [{"clip": r.name, "frames": r.frames, "quality": r.quality} for r in retargeted],
               "stages_missing": ["train", "export", "sim2sim"]}
    tmp = out_dir / ".demo.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    tmp.replace(out_dir / "demo.json")
    if stand["nan"]:
        print("mimiclab demo: the simulation produced NaN")
        return 1
    print(f"\nmimiclab demo: done in {summary['seconds']:.0f} s → {out_dir / 'demo.json'}")
    return 0
