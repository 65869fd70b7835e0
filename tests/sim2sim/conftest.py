"""sim2sim fixtures: synthetic G1 clips built from the default pose (FK, no Isaac Lab) and a
zero-action policy."""

from __future__ import annotations

import numpy as np
import pytest

import mimiclab  # noqa: F401  (chooses MUJOCO_GL before any test module imports mujoco)


def make_clip(path, seconds: float, fps: float = 50.0, wave: float = 0.0, yaw_rate: float = 0.0):
    """A G1 clip standing in the default pose (pelvis 0.76 m); `wave` [rad] swings the shoulders
    and `yaw_rate` [rad/s] turns the root in place."""
    from mimiclab.motion.format import save_motion
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.robots.g1 import G1

    T = int(round(seconds * fps)) + 1
    t = np.arange(T) / fps
    q = np.tile(np.array([j.default_pos for j in G1.joints]), (T, 1))
    for name in ("left_shoulder_pitch_joint", "right_shoulder_pitch_joint"):
        q[:, G1.joint_names.index(name)] += wave * np.sin(2 * np.pi * 0.5 * t)
    yaw = yaw_rate * t
    quat = np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=1)
    root = np.tile([0.0, 0.0, 0.76], (T, 1))
    return save_motion(path, motion_from_joint_trajectory(root, quat, q, fps))


@pytest.fixture(scope="session")
def stand_clip(tmp_path_factory):
    """2 s of the default standing pose at 50 fps."""
    return make_clip(tmp_path_factory.mktemp("clips") / "stand.npz", 2.0)


@pytest.fixture(scope="session")
def short_stand_clip(tmp_path_factory):
    """0.5 s of the default standing pose at 50 fps (a zero-action robot holds it that long)."""
    return make_clip(tmp_path_factory.mktemp("clips") / "short_stand.npz", 0.5)


@pytest.fixture(scope="session")
def wave_clip(tmp_path_factory):
    """1 s at 30 fps: shoulders swinging ±0.5 rad while the root turns at 0.8 rad/s."""
    return make_clip(tmp_path_factory.mktemp("clips") / "wave.npz", 1.0, fps=30.0, wave=0.5, yaw_rate=0.8)


@pytest.fixture(scope="session")
def zero_policy_dir(g1_contract, tmp_path_factory):
    """policy.onnx + contract.json of an actor that always outputs zeros (targets = default pose)."""
    import torch

    from mimiclab.deploy.onnx_policy import write_policy_onnx

    n = g1_contract.observation_dim
    mlp = torch.nn.Linear(n, g1_contract.num_actions)
    torch.nn.init.zeros_(mlp.weight)
    torch.nn.init.zeros_(mlp.bias)
    out = tmp_path_factory.mktemp("zero_policy")
    write_policy_onnx(torch.nn.Identity(), mlp, g1_contract, out)
    return out


@pytest.fixture(scope="session")
def box_clip(tmp_path_factory):
    """1 s standing at 50 fps with a 0.30×0.46×0.32 m, 2 kg box resting on the ground 0.6 m in front
    of the robot, turning at 0.2 rad/s (a hand-made clip with an object, ``with_object``)."""
    from mimiclab.motion.format import load_motion, save_motion
    from mimiclab.motion.objects import ObjectTrack, with_object

    d = tmp_path_factory.mktemp("box_clip")
    m = load_motion(make_clip(d / "plain.npz", 1.0))
    T, size = m.num_frames, np.array([0.30, 0.46, 0.32])
    yaw = 0.2 * np.arange(T) / m.fps
    quat = np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=1)
    track = ObjectTrack(name="box", shape="box", size=size, mass=2.0,
                        pos_w=np.tile([0.6, 0.0, size[2] / 2], (T, 1)), quat_w=quat)
    return save_motion(d / "box_stand.npz", with_object(m, track))


_BLOCK_ISAACLAB = """
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0].startswith("isaaclab"):
            raise ImportError(f"blocked: {name}")
        return None
sys.meta_path.insert(0, Block())
from mimiclab.sim2sim.runner import run_sim2sim
r = run_sim2sim(sys.argv[1], [sys.argv[2]], sys.argv[3], progress=False)
bad = sorted(m for m in sys.modules
             if m.split(".")[0].startswith("isaaclab") or m.startswith(("mimiclab.tasks", "mimiclab.rl")))
print(json.dumps({"clips": r["clips"], "loaded": bad}))
"""


@pytest.fixture(scope="session")
def run_with_isaaclab_blocked():
    """run(policy_dir, clip, out) → ({clip: result}, forbidden modules loaded): sim2sim in a subprocess
    where any ``isaaclab*`` import raises (what a robot-side machine without Isaac Lab sees)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def run(policy_dir, clip, out):
        res = subprocess.run([sys.executable, "-c", _BLOCK_ISAACLAB, str(policy_dir), str(clip), str(out)],
                             capture_output=True, text=True, cwd=root, timeout=300,
                             env={**os.environ, "MUJOCO_GL": "disable"})
        assert res.returncode == 0, res.stderr[-2000:]
        report = json.loads(res.stdout.strip().splitlines()[-1])
        return report["clips"], report["loaded"]

    return run
