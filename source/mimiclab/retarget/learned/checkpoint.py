"""Saving and loading a learned retargeter: ``MODEL_DIR/model.pt`` (tensors and plain values only,
read with ``weights_only=True``) and ``MODEL_DIR/model.json`` (its config and figures, for people)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from mimiclab.retarget.learned.model import ModelConfig, RetargetNet

FORMAT = "mimiclab-retarget-model"
MODEL_FILE = "model.pt"


def save_model(path: str | Path, net: RetargetNet, info: dict) -> Path:
    """Write `net` (and `info`: training figures, plain JSON values) to `path` (a .pt file)
    atomically; ``model.json`` beside it repeats the config and info."""
    from mimiclab.motion.format import atomic_write_bytes

    path = Path(path)
    payload = {"format": FORMAT, "version": 1, "config": net.cfg.to_dict(), "joint_names": net.joint_names,
               "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()}, "info": info}
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_bytes(path.with_suffix(".json"), json.dumps(
        {"format": FORMAT, "config": net.cfg.to_dict(), "info": info}, indent=2, sort_keys=True, default=str).encode())
    return path


def resolve(path: str | Path) -> Path:
    """A model folder (its model.pt) or a .pt file; ValueError when there is none."""
    p = Path(path)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.is_file():
        raise ValueError(f"{path}: no learned retargeter here (expected a folder with {MODEL_FILE} or a .pt file; "
                         "train one with `mimiclab retarget-model train`)")
    return p


def load_model(path: str | Path, device: str = "cpu") -> RetargetNet:
    """The model in `path` (folder or .pt), in eval mode; ValueError when it is not one of ours."""
    p = resolve(path)
    try:
        payload = torch.load(p, map_location=device, weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ValueError(f"{p}: not a readable model file ({str(e).splitlines()[0]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{p}: not a mimiclab learned-retargeter model")
    net = RetargetNet(ModelConfig.from_dict(payload["config"]))
    if list(payload["joint_names"]) != net.joint_names:
        raise ValueError(f"{p}: the model's joints differ from this robot's (trained for another robot table)")
    try:
        net.load_state_dict(payload["state_dict"])
    except RuntimeError as e:
        raise ValueError(f"{p}: the model's weights do not fit this version's network "
                         f"({str(e).splitlines()[0]})") from None
    net.info = payload.get("info", {})
    return net.to(device).eval()
