"""Point-cloud object terms: every available backend on the same float32 inputs, in one run.

Backends are timed in interleaved rounds (one call of each per round, after a warm-up call) and
each backend's median call time is kept, so a busy machine slows all of them alike. Prints nothing.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch

KERNELS = ("pointcloud_distance", "pointcloud_nearest")


def _inputs(n: int, p: int, k: int, device: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """A shared (P,3) cloud of O(10 cm), poses (N,7) near each other, queries (N,K,3) around them."""
    gen = torch.Generator().manual_seed(seed)

    def poses() -> torch.Tensor:
        pose = torch.cat((0.5 * torch.randn(n, 3, generator=gen), torch.randn(n, 4, generator=gen)), dim=1)
        pose[:, 3:] = torch.nn.functional.normalize(pose[:, 3:], dim=-1)
        return pose

    tensors = {"points": 0.1 * torch.randn(p, 3, generator=gen), "current": poses(), "reference": poses(),
               "queries": 0.5 * torch.randn(n, k, 3, generator=gen)}
    return {name: t.to(device) for name, t in tensors.items()}


def _median_seconds(calls: dict[str, Callable[[], object]], repeats: int, device: str) -> dict[str, float]:
    def timed(fn) -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for fn in calls.values():  # warm-up: Warp compiles or loads its kernels, caches fill
        timed(fn)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(max(1, repeats)):
        for name, fn in calls.items():
            samples[name].append(timed(fn))
    return {name: statistics.median(s) for name, s in samples.items()}


def bench_pointcloud(repeats: int = 10, sizes: Sequence[tuple[int, int, int]] = ((4096, 1024, 8),)) -> list[dict]:
    """Records {kernel, backend, device, size, throughput [envs/s], unit, ratio_vs_reference,
    seconds} for both point-cloud kernels, every backend available on the CPU (and on CUDA when
    present), float32. ratio_vs_reference = torch reference time / this backend's time."""
    from mimiclab.kernels.backends import available_backends
    from mimiclab.kernels.pointcloud import pointcloud_distance, pointcloud_nearest

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    records = []
    for device in devices:
        backends = available_backends(device)
        for n, p, k in sizes:
            x = _inputs(n, p, k, device)
            runs = {
                "pointcloud_distance": (f"N={n},P={p}", {
                    b: (lambda b=b: pointcloud_distance(x["points"], x["current"], x["reference"], backend=b))
                    for b in backends}),
                "pointcloud_nearest": (f"N={n},P={p},K={k}", {
                    b: (lambda b=b: pointcloud_nearest(x["points"], x["current"], x["queries"], backend=b))
                    for b in backends}),
            }
            for kernel, (size, calls) in runs.items():
                seconds = _median_seconds(calls, repeats, device)
                for backend, s in seconds.items():
                    records.append({"kernel": kernel, "backend": backend, "device": device, "size": size,
                                    "throughput": n / s, "unit": "envs/s",
                                    "ratio_vs_reference": seconds["torch"] / s, "seconds": s})
    return records
