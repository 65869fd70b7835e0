"""Figures for a RoboMirror model, on held-out clips (``split_of`` 'test').

Intent encoders: text retrieval of a clip's human-motion intent among every label text of the
corpus (R@1, R@3; chance 1/N) and the action of the best text (action R@1).
Generated motion (`generated_figures`, one prompt per held-out clip, its label text):
recognition (the evaluator's action classifier names the prompted action; chance 1/A),
R-precision of the evaluator's G1-motion encoder against its own text head (R@1/R@3 among all
texts), a Fréchet distance between evaluator features of generated and real held-out windows,
diversity (mean distance between generated features of different prompts), and the retarget
quality report (fraction of clips inside ``QUALITY_BOUNDS``, mean of its figures).
"""

from __future__ import annotations

import numpy as np
import torch

from mimiclab.robomirror.checkpoint import Model
from mimiclab.robomirror.corpus import Clip, _pad


def recall_at(scores: torch.Tensor, target: torch.Tensor, k: int) -> float:
    """Fraction of rows whose target column is among the k highest scores (B,N), target (B,)."""
    top = scores.topk(min(k, scores.shape[1]), dim=1).indices
    return float((top == target[:, None]).any(dim=1).float().mean())


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a (N,E) and b (M,E)."""
    from scipy.linalg import sqrtm

    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = sqrtm(s1 @ s2)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def centre_window(x: np.ndarray, window: int) -> np.ndarray:
    x = _pad(x, window)
    s = (x.shape[0] - window) // 2
    return x[s:s + window]


@torch.no_grad()
def text_bank(model: Model, evaluator: bool = False) -> torch.Tensor:
    """(N, E) unit intents of the corpus's label texts, through the generator's text head or
    the evaluator's."""
    head = model.nets.eval_text_head if evaluator else model.nets.text_head
    return head(model.text_embeddings)


@torch.no_grad()
def evaluator_scores(model: Model, g1_windows: torch.Tensor) -> dict[str, torch.Tensor]:
    """Evaluator outputs of raw G1 windows (B,L,G1_DIM): 'features' (B,E), 'text_scores' (B,N),
    'action_logits' (B,A)."""
    x = model.nets.g1_norm(g1_windows)
    f = model.nets.eval_encoder(x)
    return {"features": f, "text_scores": f @ text_bank(model, evaluator=True).T, "action_logits": model.nets.classifier(x)}


@torch.no_grad()
def heldout_figures(model: Model, clips: list[Clip]) -> dict:
    """Intent-encoder and evaluator figures on real held-out clips (centre windows)."""
    if not clips:
        return {}
    from mimiclab.robomirror.generation import human_intent_from_features

    W = model.nets.cfg.window
    target = torch.tensor([model.texts.index(c.text) for c in clips])
    action = torch.tensor([model.actions.index(c.action) for c in clips])
    text_actions = [_action_of(model, t) for t in model.texts]
    h = torch.cat([human_intent_from_features(model, c.human) for c in clips])
    scores = h @ text_bank(model).T
    best = scores.argmax(1).tolist()
    real = torch.stack([torch.from_numpy(centre_window(c.g1, W)) for c in clips])
    ev = evaluator_scores(model, real)
    return {"clips": len(clips), "texts": len(model.texts), "actions": len(model.actions),
            "intent_text_r1": recall_at(scores, target, 1), "intent_text_r3": recall_at(scores, target, 3),
            "intent_action_r1": float(np.mean([text_actions[b] == c.action for b, c in zip(best, clips)])),
            "evaluator_text_r1": recall_at(ev["text_scores"], target, 1),
            "evaluator_text_r3": recall_at(ev["text_scores"], target, 3),
            "classifier_accuracy_real": float((ev["action_logits"].argmax(1) == action).float().mean())}


def _action_of(model: Model, text: str) -> str:
    """The action a label text names (its part before the comma, hyphenated as in file names)."""
    head = text.split(",")[0].strip().replace(" ", "-")
    return head if head in model.actions else text


@torch.no_grad()
def generated_figures(model: Model, clips: list[Clip], seed: int = 0, guidance: float = 2.5, steps: int = 30,
                      method: str = "diffusion", num_windows: int = 2, intent: str = "text") -> dict:
    """Figures of motion generated for each clip's label text (intent 'text') or its human
    motion (intent 'human'), measured on the motion a user gets (cleaned, 50 fps; its features
    read back at FPS); windows are scored one by one."""
    from mimiclab.retarget.quality import quality_metrics
    from mimiclab.robomirror.generation import generate_features, human_intent_from_features, motion_from_features

    W = model.nets.cfg.window
    if intent == "text":
        intents = text_bank(model)[torch.tensor([model.texts.index(c.text) for c in clips])]
    else:
        intents = torch.cat([human_intent_from_features(model, c.human) for c in clips])
    feats = generate_features(model, intents, num_windows, seed, guidance, steps, method)
    motions = [motion_from_features(f.numpy()) for f in feats]  # what a user gets: cleaned, at 50 fps
    reports = [quality_metrics(m, None, None) for m in motions]
    windows = torch.stack([torch.from_numpy(motion_features(m)[:num_windows * W]) for m in motions])
    windows = windows.view(len(clips) * num_windows, W, -1)
    target = torch.tensor([model.texts.index(c.text) for c in clips]).repeat_interleave(num_windows)
    action = torch.tensor([model.actions.index(c.action) for c in clips]).repeat_interleave(num_windows)
    ev = evaluator_scores(model, windows)
    real = torch.stack([torch.from_numpy(centre_window(c.g1, W)) for c in clips])
    real_f = evaluator_scores(model, real)["features"].numpy()
    gen_f = ev["features"].numpy()
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(gen_f), (2, 4 * len(gen_f)))
    keep = i // num_windows != j // num_windows
    keys = ("joint_limit_violation_frames", "joint_jumps", "penetration_frames", "sliding_frames",
            "self_collision_frames", "twisted_frames", "foot_sliding_m_s")
    return {"method": method, "intent": intent, "guidance": guidance, "prompts": len(clips),
            "recognition": float((ev["action_logits"].argmax(1) == action).float().mean()),
            "recognition_chance": 1.0 / len(model.actions),
            "r_precision_r1": recall_at(ev["text_scores"], target, 1),
            "r_precision_r3": recall_at(ev["text_scores"], target, 3),
            "fid": frechet_distance(gen_f, real_f),
            "diversity": float(np.linalg.norm(gen_f[i[keep]] - gen_f[j[keep]], axis=1).mean()) if keep.any() else 0.0,
            "quality_pass_rate": float(np.mean([not r["failed_bounds"] for r in reports])),
            "quality_mean": {k: float(np.mean([r[k] for r in reports])) for k in keys}}


def motion_features(motion) -> np.ndarray:
    """(T', G1_DIM) features of a G1 MotionData read back at the corpus rate FPS."""
    from mimiclab.robomirror.corpus import FPS
    from mimiclab.robomirror.features import g1_features
    from mimiclab.robots.g1 import G1

    step = max(1, int(round(motion.fps / FPS)))
    m = motion.select(joint_names=G1.joint_names)
    return g1_features(m.root_pos_w[::step], m.root_quat_w[::step], m.joint_pos[::step], motion.fps / step)


def real_figures(model: Model, clips: list[Clip]) -> dict:
    """The same evaluator figures for the real held-out windows (the ceiling)."""
    W = model.nets.cfg.window
    real = torch.stack([torch.from_numpy(centre_window(c.g1, W)) for c in clips])
    ev = evaluator_scores(model, real)
    action = torch.tensor([model.actions.index(c.action) for c in clips])
    target = torch.tensor([model.texts.index(c.text) for c in clips])
    return {"recognition": float((ev["action_logits"].argmax(1) == action).float().mean()),
            "r_precision_r1": recall_at(ev["text_scores"], target, 1),
            "r_precision_r3": recall_at(ev["text_scores"], target, 3)}
