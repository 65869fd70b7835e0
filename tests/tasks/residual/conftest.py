"""Residual fixtures: the walk clip retargeted to the G1 with a box carried in front of the hands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

BOX_SIZE = (0.3, 0.25, 0.2)  # m
BOX_MASS = 2.0  # kg
CONTACT_BODIES = ("left_wrist_yaw_link", "right_wrist_yaw_link", "torso_link")
AHEAD = 0.45  # m in front of the hands' midpoint (clear of the robot: the tests see the object alone)


def yaw_wxyz(q: np.ndarray) -> np.ndarray:
    """(T,4) wxyz → the yaw-only part (T,4) wxyz."""
    w, x, y, z = q.T
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=1)


def box_objects(m, size=BOX_SIZE, mass=BOX_MASS, ahead=AHEAD) -> dict[str, np.ndarray]:
    """The schema arrays of a box following the hands' midpoint (+ `ahead` along the root's heading),
    yawing with the root; wrists labelled in contact in the second half of the clip."""
    b = list(m.body_names)
    mid = 0.5 * (m.body_pos_w[:, b.index("left_wrist_yaw_link")] + m.body_pos_w[:, b.index("right_wrist_yaw_link")])
    q = yaw_wxyz(np.asarray(m.root_quat_w, np.float64))
    yaw = 2 * np.arctan2(q[:, 3], q[:, 0])
    pos = mid + ahead * np.stack([np.cos(yaw), np.sin(yaw), 0 * yaw], axis=1)
    T = m.num_frames
    contacts = np.zeros((T, len(CONTACT_BODIES)), np.float32)
    contacts[T // 2:, :2] = 1.0
    return {"object_name": np.asarray("box"), "object_shape": np.asarray("box"),
            "object_size": np.asarray(size, np.float64), "object_mass": np.asarray(mass, np.float64),
            "object_pos_w": pos.astype(np.float64), "object_quat_w": q,
            "object_contact_bodies": np.asarray(CONTACT_BODIES), "object_contacts": contacts}


@pytest.fixture(scope="session")
def walk_clip(tmp_path_factory) -> Path:
    from mimiclab.retarget.batch import retarget_files
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.retarget.sources.synthetic import write_samples

    root = tmp_path_factory.mktemp("residual_clips")
    bvh = [str(p) for p in write_samples(root / "src") if p.suffix == ".bvh" and p.stem == "walk"]
    results = retarget_files(bvh, str(root / "g1"), RetargetSettings(), progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    return root / "g1" / "walk.npz"


@pytest.fixture(scope="session")
def box_clip(walk_clip, tmp_path_factory) -> Path:
    """walk.npz with a 0.3×0.25×0.2 m, 2 kg box in front of the hands (contacts labelled on the wrists)."""
    from mimiclab.motion.format import load_motion, save_motion

    m = load_motion(walk_clip)
    m.objects = box_objects(m)
    return save_motion(tmp_path_factory.mktemp("box") / "walk_box.npz", m)


@pytest.fixture(scope="session")
def make_residual_cfg(make_tracking_cfg):
    """The tracking tests' cfg builder for the residual task, with the object's reset noise off too."""

    def residual_cfg(clips, num_envs: int, task: str = "Mimic-Residual-Box-G1"):
        cfg = make_tracking_cfg(clips, num_envs, task)
        cfg.commands.motion.object_pose_range = {}
        return cfg

    return residual_cfg
