"""`mimiclab bench kernels`: every built backend on the same inputs, one run, ratios to torch."""

from __future__ import annotations

import time

import torch


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def run_kernel_bench(batch_sizes: list[int], repeats: int = 20, verbose: bool = True) -> dict:
    """Forward kinematics of the G1 (30 bodies, float32) per backend and device.

    Returns {"fk": [{"device", "batch", "backend", "seconds", "items_per_s", "speedup_vs_torch"}]}.
    """
    from mimiclab.kernels import available_backends, forward_kinematics
    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    tree = g1_kinematic_tree()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    gen = torch.Generator().manual_seed(0)
    for device in devices:
        for n in batch_sizes:
            root_pos = torch.randn(n, 3, generator=gen).to(device)
            root_quat = torch.nn.functional.normalize(torch.randn(n, 4, generator=gen), dim=-1).to(device)
            joint_pos = torch.randn(n, tree.num_joints, generator=gen).to(device)
            times = {}
            for backend in available_backends(device):
                times[backend] = _time(lambda: forward_kinematics(tree, root_pos, root_quat, joint_pos, backend=backend), repeats)
            for backend, s in times.items():
                rows.append({"device": device, "batch": n, "backend": backend, "seconds": s,
                             "items_per_s": n / s, "speedup_vs_torch": times["torch"] / s})
    if verbose:
        print("forward kinematics, G1 (30 bodies, 29 joints), float32 — measured side by side")
        print(f"{'device':<6} {'batch':>7} {'backend':<7} {'ms/call':>9} {'items/s':>12} {'vs torch':>9}")
        for r in rows:
            print(f"{r['device']:<6} {r['batch']:>7} {r['backend']:<7} {r['seconds'] * 1e3:>9.3f} "
                  f"{r['items_per_s']:>12.0f} {r['speedup_vs_torch']:>8.1f}x")
    return {"fk": rows}
