"""`mimiclab demo`: the main job, end to end on the device present.

Until the retargeting, tracking and export issues land, the demo runs the part of the pipeline
that exists and says so: environment check, kernel benchmark, and a short G1 simulation in Isaac
Lab (Mimic-Stand-G1) with its figures written to DIR/demo.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path


def run_demo(out_dir: Path) -> int:
    from mimiclab.bench.kernels import run_kernel_bench
    from mimiclab.doctor import format_checks, run_checks

    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print("mimiclab demo — the pipeline so far: doctor → kernels → Isaac Lab G1 stand task.")
    print("(retarget → train → export → sim2sim join this demo as their issues land.)\n")
    checks = run_checks()
    print(format_checks(checks))
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        print(f"\nmimiclab demo: stopping: {failed[0].name}: {failed[0].detail}")
        return 1
    print()
    bench = run_kernel_bench(batch_sizes=[1, 4096], repeats=10)
    print()
    from mimiclab.tasks.stand.rollout import run_stand_rollout

    stand = run_stand_rollout(num_envs=4, seconds=2.0, device="cpu")
    summary = {"kernels": bench, "stand": stand, "seconds": time.perf_counter() - t0,
               "stages_missing": ["retarget", "train", "export", "sim2sim"]}
    tmp = out_dir / ".demo.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    tmp.replace(out_dir / "demo.json")
    print(f"\nmimiclab demo: done in {summary['seconds']:.0f} s → {out_dir / 'demo.json'}")
    return 0
