"""Training every network of a RoboMirror model from IK pair files, in stages:

1. the motion autoencoder (normalised G1 windows; reconstruction + velocity loss), then the
   latent statistics;
2. the human-motion intent encoder and the text head, contrastively: each window's intent
   against the intents of every training label text (InfoNCE over the label bank);
3. the evaluator, independent of 1–2: a G1-motion encoder against its own text head (same loss)
   and an action classifier (cross-entropy);
4. the diffusion generator over latents, conditioned on the text or the human intent of the
   window's clip (half each; dropped with p = cfg_drop for guidance) and on the frame before the
   window (dropped with p = prev_drop);
5. the alignment ablation (intent → latent by regression).

With the same seed, pairs and device a run reproduces exactly.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mimiclab.robomirror.checkpoint import Model, save_model
from mimiclab.robomirror.corpus import Corpus, WindowSampler
from mimiclab.robomirror.diffusion import training_loss
from mimiclab.robomirror.networks import NetConfig, RoboMirrorNets


@dataclass
class TrainConfig:
    """Iterations per stage (batch windows each); budget_s: a wall-time limit for the whole run,
    shared by the stages in proportion to their iterations (None: no limit)."""

    seed: int = 0
    batch: int = 64
    lr: float = 1e-3
    autoencoder_iterations: int = 3000
    intent_iterations: int = 1500
    evaluator_iterations: int = 1500
    diffusion_iterations: int = 6000
    alignment_iterations: int = 1500
    temperature: float = 0.07
    cfg_drop: float = 0.1
    prev_drop: float = 0.2
    budget_s: float | None = None

    @property
    def total_iterations(self) -> int:
        return (self.autoencoder_iterations + self.intent_iterations + self.evaluator_iterations
                + self.diffusion_iterations + self.alignment_iterations)


PRESETS = {
    "cpu": (NetConfig(), TrainConfig()),
    "quick": (NetConfig(hidden=48, latent_channels=8, intent_dim=64, denoiser_width=256, denoiser_blocks=3),
              TrainConfig(batch=32, autoencoder_iterations=600, intent_iterations=300, evaluator_iterations=300,
                          diffusion_iterations=1200, alignment_iterations=300, budget_s=270.0)),
    "gpu": (NetConfig(window=64, hidden=256, latent_channels=16, intent_dim=256, denoiser_width=1024, denoiser_blocks=8),
            TrainConfig(batch=512, autoencoder_iterations=20000, intent_iterations=10000, evaluator_iterations=10000,
                        diffusion_iterations=60000, alignment_iterations=10000)),
}


class _Stage:
    """One stage's loop: Adam with a cosine decay, gradient clipping, progress, TensorBoard."""

    def __init__(self, name: str, params, iterations: int, cfg: TrainConfig, writer, deadline: float | None,
                 progress: bool):
        from tqdm import tqdm

        self.name, self.writer, self.deadline = name, writer, deadline
        self.params = list(params)
        self.opt = torch.optim.Adam(self.params, lr=cfg.lr)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda i: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(i, iterations) / max(iterations, 1))))
        self.bar = tqdm(range(iterations), desc=f"train {name}", unit="it", disable=not progress)
        self.last = float("nan")
        self.done = 0

    def __iter__(self):
        for it in self.bar:
            if self.deadline is not None and time.perf_counter() > self.deadline and it > 0:
                break
            yield it
        self.bar.close()

    def step(self, loss: torch.Tensor, it: int) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        self.sched.step()
        self.last, self.done = float(loss.detach()), it + 1
        if it % 10 == 0:
            self.bar.set_postfix(loss=f"{self.last:.4f}")
            if self.writer is not None:
                self.writer.add_scalar(f"{self.name}/loss", self.last, it)


def _bank_loss(intents: torch.Tensor, bank: torch.Tensor, target: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE of unit intents (B,E) against a bank of unit text intents (N,E); target (B,) index."""
    return nn.functional.cross_entropy(intents @ bank.T / temperature, target)


def _deadlines(cfg: TrainConfig, start: float) -> list[float | None]:
    iters = [cfg.autoencoder_iterations, cfg.intent_iterations, cfg.evaluator_iterations,
             cfg.diffusion_iterations, cfg.alignment_iterations]
    if cfg.budget_s is None:
        return [None] * len(iters)
    ends = np.cumsum(iters) / max(sum(iters), 1) * cfg.budget_s
    return [start + float(e) for e in ends]


def train_model(pair_paths: list[str], out_dir: str | Path, cfg: TrainConfig | None = None,
                net_cfg: NetConfig | None = None, progress: bool = True, tensorboard: bool = True,
                device: str = "cpu") -> dict:
    """Train all stages on `device`, write `out_dir`/model.pt, return the summary (also in the
    model's info). Sampling and noise come from a CPU Generator, so a seed means the same draws
    on any device."""
    from mimiclab.robomirror.evaluation import heldout_figures
    from mimiclab.robomirror.text import embed_texts

    cfg, net_cfg = cfg or TrainConfig(), net_cfg or NetConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(cfg.seed)
    corpus = Corpus.load(pair_paths)
    train_clips = corpus.split("train")
    if not train_clips:
        raise ValueError("every clip fell in the held-out split: give more clips")
    sampler = WindowSampler(train_clips, net_cfg.window)
    actions, texts = corpus.actions, corpus.texts
    text_emb = torch.from_numpy(embed_texts(texts))
    train_texts = sorted({c.text for c in train_clips})
    train_text_idx = torch.tensor([texts.index(t) for t in train_texts])
    clip_text = torch.tensor([train_texts.index(c.text) for c in train_clips])  # index into train_texts
    clip_action = torch.tensor([actions.index(c.action) for c in train_clips])
    nets = RoboMirrorNets(net_cfg, len(actions))
    nets.g1_norm.fit(torch.from_numpy(np.concatenate([c.g1 for c in train_clips])))
    nets.human_norm.fit(torch.from_numpy(np.concatenate([c.human for c in train_clips])))
    nets.to(device)
    text_dev = text_emb.to(device)
    clip_text_dev, clip_action_dev = clip_text.to(device), clip_action.to(device)

    def sample(n):
        b = sampler.sample(n, gen)
        b = {k: v.to(device) for k, v in b.items()}
        b["text"], b["action"] = clip_text_dev[b["clip"]], clip_action_dev[b["clip"]]
        return b
    writer = None
    if tensorboard:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(out / "tensorboard"))
    start = time.perf_counter()
    ends = _deadlines(cfg, start)
    done = {}

    def stage(name, params, iters, deadline):
        return _Stage(name, params, iters, cfg, writer, deadline, progress)

    # 1. autoencoder
    ae = nets.autoencoder
    st = stage("autoencoder", ae.parameters(), cfg.autoencoder_iterations, ends[0])
    for it in st:
        x = nets.g1_norm(sample(cfg.batch)["g1"])
        y = ae.decode(ae.encode(x))
        loss = ((y - x) ** 2).mean() + 0.5 * ((y.diff(dim=1) - x.diff(dim=1)) ** 2).mean()
        st.step(loss, it)
    done["autoencoder"] = st.done
    with torch.no_grad():
        z = torch.cat([ae.encode(nets.g1_norm(sample(256)["g1"])) for _ in range(8)])
        nets.latent_mean.copy_(z.mean(0))
        nets.latent_std.copy_(z.std(0).clamp_min(1e-3))

    # 2. intents
    st = stage("intent", list(nets.human_encoder.parameters()) + list(nets.text_head.parameters()),
               cfg.intent_iterations, ends[1])
    bank_emb = text_dev[train_text_idx.to(device)]
    for it in st:
        b = sample(cfg.batch)
        h = nets.human_encoder(nets.human_norm(b["human"]))
        st.step(_bank_loss(h, nets.text_head(bank_emb), b["text"], cfg.temperature), it)
    done["intent"] = st.done

    # 3. evaluator
    st = stage("evaluator", [p for m in (nets.eval_encoder, nets.eval_text_head, nets.classifier) for p in m.parameters()],
               cfg.evaluator_iterations, ends[2])
    for it in st:
        b = sample(cfg.batch)
        x = nets.g1_norm(b["g1"])
        loss = _bank_loss(nets.eval_encoder(x), nets.eval_text_head(bank_emb), b["text"], cfg.temperature)
        loss = loss + nn.functional.cross_entropy(nets.classifier(x), b["action"])
        st.step(loss, it)
    done["evaluator"] = st.done

    def conditions(b):
        with torch.no_grad():
            z0 = nets.latents(b["g1"])
            text_intent = nets.text_head(bank_emb[b["text"]])
            human_intent = nets.human_encoder(nets.human_norm(b["human"]))
        n = z0.shape[0]
        use_text = (torch.rand(n, generator=gen) < 0.5).to(device)
        intent = torch.where(use_text[:, None], text_intent, human_intent)
        prev = nets.g1_norm(b["prev"])
        return z0, intent, prev

    # 4. diffusion
    st = stage("diffusion", nets.denoiser.parameters(), cfg.diffusion_iterations, ends[3])
    for it in st:
        b = sample(cfg.batch)
        z0, intent, prev = conditions(b)
        n = z0.shape[0]
        has_intent = (torch.rand(n, generator=gen) >= cfg.cfg_drop).float().to(device)
        has_prev = (b["has_prev"] & (torch.rand(n, generator=gen) >= cfg.prev_drop).to(device)).float()
        st.step(training_loss(nets.denoiser, z0, intent, has_intent, prev, has_prev, gen), it)
    done["diffusion"] = st.done

    # 5. alignment ablation
    st = stage("alignment", nets.aligner.parameters(), cfg.alignment_iterations, ends[4])
    for it in st:
        b = sample(cfg.batch)
        z0, intent, prev = conditions(b)
        has_prev = (b["has_prev"] & (torch.rand(z0.shape[0], generator=gen) >= cfg.prev_drop).to(device)).float()
        st.step(((nets.aligner(intent, prev, has_prev) - z0) ** 2).mean(), it)
    done["alignment"] = st.done
    if writer is not None:
        writer.close()
    nets.cpu().eval()
    model = Model(nets, actions, texts, text_emb)
    stopped = "" if all(done[k] == v for k, v in zip(done, (cfg.autoencoder_iterations, cfg.intent_iterations,
                                                           cfg.evaluator_iterations, cfg.diffusion_iterations,
                                                           cfg.alignment_iterations))) \
        else f"time budget of {cfg.budget_s:g} s reached: iterations run {done}"
    summary = {"name": out.name, "seconds": time.perf_counter() - start, "iterations": done, "stopped": stopped,
               "train_clips": len(train_clips), "test_clips": [c.name for c in corpus.split("test")],
               "train_config": asdict(cfg), "net_config": net_cfg.to_dict(),
               "heldout": heldout_figures(model, corpus.split("test"))}
    model.info = summary
    save_model(out / "model.pt", model)
    return copy.deepcopy(summary)
