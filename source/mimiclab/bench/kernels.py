"""`mimiclab bench kernels`: every kernel × backend × size, measured side by side in one run.

Records (also what ``--json`` writes): ``kernel``, ``backend``, ``device``, ``size``,
``throughput``, ``unit``, ``ratio_vs_reference`` (throughput / torch reference throughput, same
run), ``seconds``, and ``mean_error_mm`` for IK. The IK peer appears as ``backend: "mink"``.
"""

from __future__ import annotations

import time

import torch

FULL_SIZES = {"fk": (1, 4096), "ik": (4096, 16, 1000, 200), "pointcloud": ((4096, 1024, 8),)}
QUICK_SIZES = {"fk": (1, 256), "ik": (256, 4, 50, 20), "pointcloud": ((256, 256, 8),)}


def _time(fn, repeats: int) -> float:
    fn()  # warm-up (first-call compilation, caches)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def bench_fk(batch_sizes, repeats: int = 20) -> list[dict]:
    """Forward kinematics of the G1 (30 bodies, 29 joints), float32."""
    from mimiclab.kernels import available_backends, forward_kinematics
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    tree = g1_kinematic_tree()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    gen = torch.Generator().manual_seed(0)
    records = []
    for device in devices:
        for n in batch_sizes:
            root_pos = torch.randn(n, 3, generator=gen).to(device)
            root_quat = torch.nn.functional.normalize(torch.randn(n, 4, generator=gen), dim=-1).to(device)
            joint_pos = torch.randn(n, tree.num_joints, generator=gen).to(device)
            ref = None
            for backend in ["torch"] + [b for b in available_backends(device) if b != "torch"]:
                s = _time(lambda: forward_kinematics(tree, root_pos, root_quat, joint_pos, backend=backend), repeats)
                ref = ref or s
                records.append({"kernel": "fk", "backend": backend, "device": device, "size": f"N={n}",
                                "throughput": n / s, "unit": "configs/s", "seconds": s,
                                "ratio_vs_reference": ref / s})
    return records


def run_kernel_bench(kernels=("fk", "ik", "pointcloud"), quick: bool = False, repeats: int = 10,
                     verbose: bool = True) -> list[dict]:
    """Run the benchmarks of `kernels` and print one table; returns the records."""
    sizes = QUICK_SIZES if quick else FULL_SIZES
    records: list[dict] = []
    if "fk" in kernels:
        records += bench_fk(sizes["fk"], repeats)
    if "ik" in kernels:
        from mimiclab.bench.ik import bench_ik

        n, clips, frames, mink_n = sizes["ik"]
        records += bench_ik(num_problems=n, clips=clips, frames=frames, mink_problems=mink_n)
    if "pointcloud" in kernels:
        from mimiclab.bench.pointcloud import bench_pointcloud

        records += bench_pointcloud(repeats=repeats, sizes=sizes["pointcloud"])
    if verbose:
        print(format_records(records))
    return records


def format_records(records: list[dict]) -> str:
    lines = ["kernel benchmarks — every row measured in this run; ratio = throughput / torch reference",
             f"{'kernel':<20} {'device':<6} {'size':<30} {'backend':<13} {'throughput':>14} {'unit':<10} "
             f"{'vs torch':>9} {'err mm':>8}"]
    for r in records:
        err = f"{r['mean_error_mm']:.4f}" if "mean_error_mm" in r else ""
        lines.append(f"{r['kernel']:<20} {r['device']:<6} {r['size']:<30} {r['backend']:<13} "
                     f"{r['throughput']:>14,.0f} {r['unit']:<10} {r['ratio_vs_reference']:>8.1f}x {err:>8}")
    return "\n".join(lines)
