"""Intent → G1 motion: text or human-motion intents, chained latent windows, a motion file.

    model = load_model("models/robomirror")
    motion = generate_motion(model, text_intent(model, "run, exhausted"), seconds=6, seed=0)

Windows of ``cfg.window`` frames at ``corpus.FPS`` are generated one after another, each
conditioned on the last frame of the one before (the robot's current state, when continuing),
decoded, joined with a short blend at each seam, integrated from the origin facing +x, upsampled
to the motion rate (50 fps), clamped into the joint limits and human ranges, velocity-limited,
put on the ground with planted feet held and self-collisions cleared (``cleanup``).
"""

from __future__ import annotations

import numpy as np
import torch

from mimiclab.robomirror.checkpoint import Model
from mimiclab.robomirror.cleanup import POLISH_ITERATIONS
from mimiclab.robomirror.corpus import FPS, _pad
from mimiclab.robomirror.diffusion import ddim_sample
from mimiclab.robomirror.features import g1_features, g1_trajectory, human_features

OUTPUT_FPS = 50.0
SEAM_FRAMES = 4  # frames over which a new window's offset from the previous one is blended away
METHODS = ("diffusion", "alignment")


@torch.no_grad()
def text_intent(model: Model, texts: list[str] | str) -> torch.Tensor:
    """(N, intent_dim) unit intents of text prompts (MiniLM, then the model's text head)."""
    from mimiclab.robomirror.text import embed_texts

    texts = [texts] if isinstance(texts, str) else list(texts)
    return model.nets.text_head(torch.from_numpy(embed_texts(texts)))


def human_windows(human_feats: np.ndarray, window: int) -> torch.Tensor:
    """(T, HUMAN_DIM) → (n, window, HUMAN_DIM): windows with a half-window hop (a short clip is
    padded with its last frame)."""
    x = _pad(human_feats, window)
    starts = list(range(0, x.shape[0] - window + 1, max(1, window // 2)))
    if starts[-1] != x.shape[0] - window:
        starts.append(x.shape[0] - window)
    return torch.stack([torch.from_numpy(x[s:s + window]) for s in starts])


@torch.no_grad()
def human_intent_from_features(model: Model, human_feats: np.ndarray) -> torch.Tensor:
    """(1, intent_dim): the mean of the human encoder's window intents, re-normalised."""
    nets = model.nets
    h = nets.human_encoder(nets.human_norm(human_windows(human_feats, nets.cfg.window))).mean(0, keepdim=True)
    return torch.nn.functional.normalize(h, dim=-1)


def human_intent(model: Model, human) -> torch.Tensor:
    """(1, intent_dim) intent of a ``HumanMotion`` (any mocap or keypoint source): the IK path's
    steps before the IK (skeleton map, scaling), never the IK itself."""
    from mimiclab.retarget.learned.inference import prepare_clip
    from mimiclab.retarget.pipeline import RetargetSettings

    settings = RetargetSettings()
    prep = prepare_clip(human, settings)
    step = max(1, int(round(settings.fps / FPS)))
    feats = human_features(prep["array"][::step], prep["present"], settings.fps / step)
    return human_intent_from_features(model, feats)


def _blend_seam(prev_last: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Shift a window's first SEAM_FRAMES frames toward continuing from `prev_last` (B,D)."""
    offset = prev_last - window[:, 0]
    ramp = torch.linspace(1.0, 0.0, SEAM_FRAMES + 1)[:SEAM_FRAMES]
    out = window.clone()
    out[:, :SEAM_FRAMES] += ramp[None, :, None] * offset[:, None]
    return out


@torch.no_grad()
def generate_features(model: Model, intents: torch.Tensor, num_windows: int, seed: int = 0, guidance: float = 2.5,
                      steps: int = 30, method: str = "diffusion", start: np.ndarray | None = None) -> torch.Tensor:
    """(B, num_windows·window, G1_DIM) raw features at FPS for B intents (B, intent_dim).

    start: optional (G1_DIM,) features of the robot's current frame (``g1_features`` of its
    state), which the first window continues from; otherwise the first window starts freely.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if num_windows < 1:
        raise ValueError(f"num_windows must be >= 1, got {num_windows}")
    nets = model.nets
    B = intents.shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    ones = torch.ones(B)
    if start is not None:
        last = torch.as_tensor(np.asarray(start, np.float32)).expand(B, -1)
        has_prev = ones.clone()
    else:
        last, has_prev = torch.zeros(B, nets.g1_norm.mean.shape[0]), torch.zeros(B)
    out = []
    for _ in range(num_windows):
        prev = nets.g1_norm(last) * has_prev[:, None]
        if method == "diffusion":
            z = ddim_sample(nets.denoiser, intents, ones, prev, has_prev, steps=steps, guidance=guidance, gen=gen)
        else:
            z = nets.aligner(intents, prev, has_prev)
        w = nets.windows(z)
        if has_prev.any():
            w = _blend_seam(last, w)
        out.append(w)
        last, has_prev = w[:, -1], ones.clone()
    return torch.cat(out, dim=1)


def upsample_trajectory(root_pos, root_quat, joint_pos, factor: int):
    """A (T,…) trajectory → factor·(T−1)+1 frames: positions and joints linearly, the root
    rotation by nlerp (the original frames are kept exactly)."""
    from mimiclab.rotations.numpy_ops import quat_nlerp

    T = root_pos.shape[0]
    if factor == 1 or T < 2:
        return root_pos, root_quat, joint_pos
    t = np.arange(factor * (T - 1) + 1) / factor
    i = np.minimum(t.astype(int), T - 2)
    a = (t - i)[:, None]
    lerp = lambda x: (1 - a) * x[i] + a * x[i + 1]  # noqa: E731
    return lerp(root_pos), quat_nlerp(root_quat[i], root_quat[i + 1], a), lerp(joint_pos)


def motion_from_features(features: np.ndarray, meta: dict | None = None, seconds: float | None = None,
                         polish: int = POLISH_ITERATIONS):
    """(T, G1_DIM) features at FPS → MotionData at OUTPUT_FPS (cut to `seconds` when given):
    integrated at FPS, upsampled, then ``cleanup.clean_motion`` with `polish` IK rounds."""
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.robomirror.cleanup import clean_motion

    traj = g1_trajectory(np.asarray(features, np.float32), FPS)
    root_pos, root_quat, joint_pos = upsample_trajectory(*traj, int(round(OUTPUT_FPS / FPS)))
    if seconds is not None:
        n = max(2, int(round(seconds * OUTPUT_FPS)) + 1)
        root_pos, root_quat, joint_pos = root_pos[:n], root_quat[:n], joint_pos[:n]
    root_pos, root_quat, joint_pos = clean_motion(root_pos, root_quat, joint_pos, OUTPUT_FPS, polish)
    return motion_from_joint_trajectory(root_pos, root_quat, joint_pos, OUTPUT_FPS, meta=meta or {})


def windows_for(seconds: float, window: int) -> int:
    """How many windows cover `seconds` (ValueError unless 0 < seconds <= 600)."""
    if not (np.isfinite(seconds) and 0 < seconds <= 600):
        raise ValueError(f"--seconds must be in (0, 600], got {seconds}")
    return int(np.ceil((seconds * FPS + 1) / window))


def generate_motion(model: Model, intent: torch.Tensor, seconds: float = 4.0, seed: int = 0, guidance: float = 2.5,
                    steps: int = 30, method: str = "diffusion", start_state=None, meta: dict | None = None,
                    polish: int = POLISH_ITERATIONS):
    """One MotionData of `seconds` for one intent (1, intent_dim). start_state: optional
    (root_pos (2,3), root_quat (2,4), joint_pos (2,29)), the robot's last two frames at
    OUTPUT_FPS, which the motion continues from (in its own frame: it starts at the origin)."""
    if not np.isfinite(guidance):
        raise ValueError(f"--guidance must be a finite number, got {guidance}")
    if not 1 <= steps <= model.nets.cfg.diffusion_steps:
        raise ValueError(f"--steps must be in [1, {model.nets.cfg.diffusion_steps}], got {steps}")
    start = None
    if start_state is not None:
        start = g1_features(*start_state, OUTPUT_FPS)[0]
    f = generate_features(model, intent, windows_for(seconds, model.nets.cfg.window), seed, guidance, steps,
                          method, start)[0].numpy()
    info = {"generator": "mimiclab.robomirror", "method": method, "seed": int(seed), "guidance": float(guidance),
            "steps": int(steps), "polish_iterations": int(polish), "model": model.info.get("name", ""),
            **(meta or {})}
    return motion_from_features(f, info, seconds, polish)
