"""Training the learned retargeter on IK pairs (CPU or GPU, seeded, TensorBoard, checkpoints).

    summary = train_model(pair_paths, "models/retarget", TrainConfig())   # writes model.pt

Windows of `window` frames are drawn from the training split (``pairs.split_of``) with their
mirrors and the augmentation of ``dataset.Augment``; Adam with a cosine learning-rate decay. Every
`eval_every` iterations the held-out clips are retargeted whole and their mean body-position error
against the IK solution [m] is logged. With the same seed, pairs and device a run reproduces
exactly (``torch.use_deterministic_algorithms``).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from mimiclab.retarget.learned.checkpoint import save_model
from mimiclab.retarget.learned.dataset import Augment, PairSet
from mimiclab.retarget.learned.losses import WEIGHTS, losses, total
from mimiclab.retarget.learned.model import ModelConfig, RetargetNet


@dataclass
class TrainConfig:
    """iterations of `batch` windows × `window` frames; lr decays by cosine to lr · lr_floor;
    budget_s: stop early (and say so) once this much wall time has passed (None: no limit)."""

    iterations: int = 4500
    batch: int = 32
    window: int = 64
    lr: float = 1e-3
    lr_floor: float = 0.05
    seed: int = 0
    eval_every: int = 500
    checkpoint_every: int = 2000
    budget_s: float | None = None
    mirror: bool = True
    augment: Augment | None = field(default_factory=Augment)


PRESETS = {
    "cpu": (ModelConfig(), TrainConfig()),  # ≈ 25 min on a 2-core CPU (about 3 it/s)
    "quick": (ModelConfig(hidden=16, latent=64), TrainConfig(iterations=500, batch=16, eval_every=250,
                                                             checkpoint_every=500, budget_s=280.0)),
    "gpu": (ModelConfig(hidden=64, latent=256, dilations=(1, 2, 4, 8)),
            TrainConfig(iterations=40000, batch=256, window=128, eval_every=2000, checkpoint_every=5000)),
}


def heldout_error(net: RetargetNet, data: PairSet) -> float:
    """Mean body-position error [m] of whole held-out clips, network output vs their IK solution."""
    from mimiclab.retarget.learned.inference import mean_body_error, predict

    errors, frames = [], []
    for i in range(len(data.names)):
        c = data.clip(i)
        pos, quat, q = predict(net, c["roles"], c["present"], c["contacts"], c["log_scales"], data.fps)
        errors.append(mean_body_error((c["root_pos"][0], c["root_quat"][0], c["joint_pos"][0]),
                                      (pos[0], quat[0], q[0])))
        frames.append(int(data.lengths[i]))
    return float(np.average(errors, weights=frames))


def train_model(pair_paths: list[str], out_dir: str | Path, cfg: TrainConfig | None = None,
                model_cfg: ModelConfig | None = None, init: RetargetNet | None = None, progress: bool = True,
                tensorboard: bool = True, device: str = "cpu") -> dict:
    """Train (from `init` when given) and write `out_dir`/model.pt; returns the summary that is
    also stored in the model's info (figures, clips, seconds)."""
    from tqdm import tqdm

    from mimiclab.robots.kinematic_tree import g1_kinematic_tree

    cfg = cfg or TrainConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(cfg.seed)
    train = PairSet.load(pair_paths, "train", mirror=cfg.mirror)
    try:
        test = PairSet.load(pair_paths, "test")
    except ValueError:
        test = None  # too few clips for a held-out one
    net = init if init is not None else RetargetNet(model_cfg or ModelConfig())
    net = net.to(device).train()
    tree = g1_kinematic_tree()
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: cfg.lr_floor + (1 - cfg.lr_floor) * 0.5 * (1 + math.cos(math.pi * min(i, cfg.iterations) / cfg.iterations)))
    writer = None
    if tensorboard:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(out / "tensorboard"))
    start, history, stopped = time.perf_counter(), [], ""
    bar = tqdm(range(cfg.iterations), desc="train retarget model", unit="it", disable=not progress)
    it = 0
    for it in bar:
        batch = {k: v.to(device) for k, v in train.sample(cfg.batch, cfg.window, gen, cfg.augment).items()}
        terms = losses(net, batch, train.fps, tree)
        loss = total(terms)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        if writer is not None and it % 10 == 0:
            writer.add_scalar("loss/total", float(loss.detach()), it)
            for k, v in terms.items():
                writer.add_scalar(f"loss/{k}", float(v.detach()), it)
        if (it + 1) % cfg.eval_every == 0 or it + 1 == cfg.iterations:
            row = {"iteration": it + 1, "loss": float(loss.detach()), "fk_m": float(terms["fk"].detach())}
            if test is not None:
                net.eval()
                row["heldout_body_error_m"] = heldout_error(net, test)
                net.train()
                if writer is not None:
                    writer.add_scalar("heldout/body_error_m", row["heldout_body_error_m"], it)
            history.append(row)
            bar.set_postfix({k: f"{v:.4f}" for k, v in row.items() if k != "iteration"})
        if (it + 1) % cfg.checkpoint_every == 0 and it + 1 < cfg.iterations:
            save_model(out / "checkpoints" / f"model_{it + 1}.pt", net, {"iteration": it + 1})
        if cfg.budget_s is not None and time.perf_counter() - start > cfg.budget_s:
            stopped = f"time budget of {cfg.budget_s:g} s reached after {it + 1} iterations"
            break
    bar.close()
    if writer is not None:
        writer.close()
    net.eval()
    summary = {"name": out.name, "iterations": it + 1, "seconds": time.perf_counter() - start, "stopped": stopped,
               "train_clips": len(train.names), "train_frames": train.num_frames,
               "test_clips": [] if test is None else test.names, "history": history, "loss_weights": WEIGHTS,
               "train_config": {**asdict(cfg), "augment": None if cfg.augment is None else asdict(cfg.augment)},
               "heldout_body_error_m": None if test is None else heldout_error(net, test)}
    net.info = summary
    save_model(out / "model.pt", net, summary)
    return summary
