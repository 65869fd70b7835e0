"""A RoboMirror model folder: ``MODEL_DIR/model.pt`` (tensors and plain values only, read with
``weights_only=True``) and ``MODEL_DIR/model.json`` (config and figures, for people)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mimiclab.robomirror.networks import NetConfig, RoboMirrorNets

FORMAT = "mimiclab-robomirror-model"
MODEL_FILE = "model.pt"


@dataclass
class Model:
    """The networks plus the corpus facts they were trained on: the action labels (classifier
    order), the label texts and their MiniLM embeddings (N,384), and the training figures."""

    nets: RoboMirrorNets
    actions: list[str]
    texts: list[str]
    text_embeddings: torch.Tensor
    info: dict = field(default_factory=dict)


def save_model(path: str | Path, model: Model) -> Path:
    """Write `model` to `path` (a .pt file) atomically, with ``model.json`` beside it."""
    from mimiclab.motion.format import atomic_write_bytes

    path = Path(path)
    payload = {"format": FORMAT, "version": 1, "config": model.nets.cfg.to_dict(), "actions": model.actions,
               "texts": model.texts, "text_embeddings": model.text_embeddings.detach().cpu(),
               "state_dict": {k: v.detach().cpu() for k, v in model.nets.state_dict().items()}, "info": model.info}
    buf = io.BytesIO()
    torch.save(payload, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_bytes(path.with_suffix(".json"), json.dumps(
        {"format": FORMAT, "config": model.nets.cfg.to_dict(), "actions": model.actions, "info": model.info},
        indent=2, sort_keys=True, default=str).encode())
    return path


def load_model(path: str | Path) -> Model:
    """A model folder (its model.pt) or a .pt file, in eval mode; ValueError when it is not one."""
    p = Path(path)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.is_file():
        raise ValueError(f"{path}: no RoboMirror model here (expected a folder with {MODEL_FILE}; "
                         "train one with `mimiclab generate train`)")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ValueError(f"{p}: not a readable model file ({str(e).splitlines()[0]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{p}: not a mimiclab RoboMirror model")
    nets = RoboMirrorNets(NetConfig.from_dict(payload["config"]), len(payload["actions"]))
    try:
        nets.load_state_dict(payload["state_dict"])
    except RuntimeError as e:
        raise ValueError(f"{p}: the model's weights do not fit this version's networks "
                         f"({str(e).splitlines()[0]})") from None
    return Model(nets.eval(), list(payload["actions"]), list(payload["texts"]), payload["text_embeddings"],
                 payload.get("info", {}))
