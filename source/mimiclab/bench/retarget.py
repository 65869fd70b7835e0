"""`mimiclab bench retarget`: end-to-end throughput (parse → IK → post-process → write) on the
shipped synthetic samples and, when present, the shared mocap clips, per device."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

SHARED_BVH = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "bvh"


def bench_retarget(extra_inputs: list[str] | None = None, verbose: bool = True) -> list[dict]:
    """Records {kernel: "retarget", backend, device, size, throughput (source frames/s), unit,
    output_frames_per_s, clips, failed, ratio_vs_reference (vs the cpu run)}."""
    from mimiclab.retarget.batch import retarget_files
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.retarget.sources.synthetic import write_samples

    records = []
    with tempfile.TemporaryDirectory() as tmp:
        samples = [str(p) for p in write_samples(Path(tmp) / "samples")]
        sets = {"samples": samples}
        shared = sorted(str(p) for p in SHARED_BVH.glob("*.bvh")) if SHARED_BVH.is_dir() else []
        if shared:
            sets["shared_bvh"] = shared
        if extra_inputs:
            sets["inputs"] = list(extra_inputs)
        devices = ["cpu"] + (["cuda:0"] if torch.cuda.is_available() else [])
        for set_name, inputs in sets.items():
            source_frames = sum(load_human_motion(p).num_frames for p in inputs if not p.endswith((".csv",)))
            ref = None
            for device in devices:
                settings = RetargetSettings(device=device)
                retarget_files(inputs[:1], str(Path(tmp) / "warmup"), settings, progress=False)  # imports, caches
                start = time.perf_counter()
                results = retarget_files(inputs, str(Path(tmp) / f"out_{set_name}_{device}"), settings, progress=False)
                seconds = time.perf_counter() - start
                out_frames = sum(r.frames for r in results if r.ok)
                rec = {"kernel": "retarget", "backend": "pipeline", "device": device,
                       "size": f"{set_name}: {len(inputs)} clips, {source_frames} source frames",
                       "throughput": source_frames / seconds, "unit": "src frames/s",
                       "output_frames_per_s": out_frames / seconds, "seconds": seconds,
                       "clips": len(inputs), "failed": sum(not r.ok for r in results)}
                ref = ref or rec["throughput"]
                rec["ratio_vs_reference"] = rec["throughput"] / ref
                records.append(rec)
    if verbose:
        for r in records:
            print(f"retarget {r['device']:<7} {r['size']:<48} {r['throughput']:>9,.0f} source frames/s "
                  f"({r['output_frames_per_s']:,.0f} output frames/s at 50 Hz, {r['seconds']:.2f} s, "
                  f"{r['failed']} failed)")
    return records
