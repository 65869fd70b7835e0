"""The training corpus: IK pair files (``retarget.learned.pairs``) → per-clip features and labels.

    corpus = Corpus.load(pair_paths)      # every clip, at FPS, with .split 'train' / 'test'

Each clip keeps its G1 features (T, G1_DIM), its human features (T, HUMAN_DIM), its label
(``labels``) and its split (``pairs.split_of``: a stable hash of the name). Windows shorter clips
cannot fill are padded with their last frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mimiclab.retarget.learned.pairs import read_pair, split_of
from mimiclab.robomirror.features import g1_features, human_features
from mimiclab.robomirror.labels import clip_label, label_text

FPS = 25.0  # the generator's frame rate (pair files are at the retargeter's 50 fps)


@dataclass
class Clip:
    name: str
    split: str
    action: str
    style: str
    text: str
    g1: np.ndarray  # (T, G1_DIM) float32
    human: np.ndarray  # (T, HUMAN_DIM) float32


def clip_from_pair(pair: dict, name: str) -> Clip:
    """One pair file's arrays → a Clip at FPS."""
    fps = float(pair["meta"].get("fps", 50.0))
    step = max(1, int(round(fps / FPS)))
    g1 = g1_features(pair["root_pos"][::step], pair["root_quat"][::step], pair["joint_pos"][::step], fps / step)
    human = human_features(pair["roles"][::step], pair["present"], fps / step)
    action, style = clip_label(name)
    return Clip(name, split_of(name), action, style, label_text(action, style), g1, human)


def _pad(x: np.ndarray, length: int) -> np.ndarray:
    return x if x.shape[0] >= length else np.concatenate([x, np.repeat(x[-1:], length - x.shape[0], 0)])


@dataclass
class Corpus:
    clips: list[Clip]

    @classmethod
    def load(cls, pair_paths: list[str | Path]) -> "Corpus":
        """Read the pair files (ValueError naming a bad one; none at all is an error too)."""
        if not pair_paths:
            raise ValueError("no pair files to learn from")
        clips = []
        for p in pair_paths:
            pair = read_pair(p)
            clips.append(clip_from_pair(pair, str(pair["name"])))
        return cls(clips)

    def split(self, which: str) -> list[Clip]:
        return [c for c in self.clips if c.split == which]

    @property
    def actions(self) -> list[str]:
        return sorted({c.action for c in self.clips})

    @property
    def texts(self) -> list[str]:
        return sorted({c.text for c in self.clips})


class WindowSampler:
    """Random (clip, start) windows of `length` frames from `clips`, with a torch Generator.

    sample(n) → {"g1": (n,L,G1_DIM), "human": (n,L,HUMAN_DIM), "prev": (n,G1_DIM) the frame
    before the window (zeros at a clip's start), "has_prev": (n,) bool, "clip": (n,) index}.
    """

    def __init__(self, clips: list[Clip], length: int):
        if not clips:
            raise ValueError("no clips in this split")
        self.clips, self.length = clips, length
        self.g1 = [torch.from_numpy(_pad(c.g1, length)) for c in clips]
        self.human = [torch.from_numpy(_pad(c.human, length)) for c in clips]
        frames = torch.tensor([float(g.shape[0] - length + 1) for g in self.g1])
        self.weights = frames / frames.sum()  # every start frame equally likely

    def sample(self, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        idx = torch.multinomial(self.weights, n, replacement=True, generator=gen)
        u = torch.rand(n, generator=gen)
        g1, human, prev, has_prev = [], [], [], []
        for i, r in zip(idx.tolist(), u.tolist()):
            start = int(r * (self.g1[i].shape[0] - self.length + 1))
            g1.append(self.g1[i][start:start + self.length])
            human.append(self.human[i][start:start + self.length])
            prev.append(self.g1[i][start - 1] if start > 0 else torch.zeros_like(self.g1[i][0]))
            has_prev.append(start > 0)
        return {"g1": torch.stack(g1), "human": torch.stack(human), "prev": torch.stack(prev),
                "has_prev": torch.tensor(has_prev), "clip": idx}
