"""Distributed training runs here: two CPU ranks under torchrun, gradients all-reduced over gloo
(the same code path as multi-GPU NCCL runs, which need a GPU machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    from mimiclab.retarget.batch import retarget_files
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.retarget.sources.synthetic import write_samples

    root = tmp_path_factory.mktemp("dist_clips")
    bvh = [str(p) for p in write_samples(root / "src") if p.suffix == ".bvh"]
    results = retarget_files(bvh, str(root / "g1"), RetargetSettings(), progress=False)
    assert all(r.ok for r in results)
    return root / "g1"


def test_two_cpu_ranks_train_together(tmp_path, clip_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("MIMICLAB_MOTION", "RANK", "WORLD_SIZE", "LOCAL_RANK")}
    res = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "mimiclab",
         "train", "--task", "Mimic-Track-G1", "--motion", str(clip_dir), "--distributed", "--device", "cpu",
         "--num_envs", "4", "--max_iterations", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    runs = list((tmp_path / "logs" / "rsl_rl" / "g1_tracking").iterdir())
    assert len(runs) == 1
    assert sorted(p.name for p in runs[0].glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]  # rank 0 saves
    # 2 ranks x 4 envs x 24 steps per iteration: the world size is 2
    assert "Total steps: 192" in res.stdout
