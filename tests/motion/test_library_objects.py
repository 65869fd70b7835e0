"""MotionLibrary with objects: spec, interpolated object frames, contact labels, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mimiclab.motion.format import MotionData
from mimiclab.motion.library import MotionLibrary

J_NAMES = ["j0", "j1"]
B_NAMES = ["pelvis", "hand", "torso"]


def _quat_z(angle: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(angle / 2), 0 * angle, 0 * angle, np.sin(angle / 2)], axis=-1)


def _motion(T=11, fps=10.0, obj: dict | None = None) -> MotionData:
    t = np.arange(T) / fps
    B = len(B_NAMES)
    ident = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    m = MotionData(fps=fps, joint_names=list(J_NAMES), body_names=list(B_NAMES),
                   joint_pos=np.zeros((T, 2), np.float32), joint_vel=np.zeros((T, 2), np.float32),
                   root_pos_w=np.stack([t, 0 * t, 0.7 + 0 * t], 1).astype(np.float32),
                   root_quat_w=ident.astype(np.float32),
                   body_pos_w=np.zeros((T, B, 3), np.float32), body_quat_w=np.tile(ident[:, None], (1, B, 1)).astype(np.float32),
                   body_lin_vel_w=np.zeros((T, B, 3), np.float32), body_ang_vel_w=np.zeros((T, B, 3), np.float32))
    if obj is not None:
        m.objects = obj
    return m


def _box(T=11, fps=10.0, size=(0.3, 0.2, 0.1), mass=2.0, bodies=("hand", "torso"), speed=1.0, spin=0.5):
    t = np.arange(T) / fps
    contacts = np.zeros((T, len(bodies)), np.float32)
    contacts[T // 2:, 0] = 1.0
    return {"object_name": np.asarray("box"), "object_shape": np.asarray("box"),
            "object_size": np.asarray(size, np.float64), "object_mass": np.asarray(mass, np.float64),
            "object_pos_w": np.stack([speed * t, 0 * t, 0.5 + 0 * t], 1), "object_quat_w": _quat_z(spin * t),
            "object_contact_bodies": np.asarray(bodies), "object_contacts": contacts}


def test_library_without_objects_has_none():
    lib = MotionLibrary([_motion()], J_NAMES, B_NAMES)
    assert not lib.has_object and lib.object_spec is None and lib.object_contact_bodies == []
    with pytest.raises(ValueError, match="no object"):
        lib.object_frames(torch.zeros(1, dtype=torch.long), torch.zeros(1))


def test_object_spec_and_interpolated_frames():
    lib = MotionLibrary([_motion(obj=_box())], J_NAMES, B_NAMES)
    assert lib.has_object
    spec = lib.object_spec
    assert spec.shape == "box" and spec.size == (0.3, 0.2, 0.1) and spec.mass == 2.0 and spec.name == "box"
    assert spec.surface_source() == {"box": [0.3, 0.2, 0.1]}
    assert lib.object_contact_bodies == ["hand", "torso"]
    times = torch.tensor([0.0, 0.25, 0.55, 5.0])  # the last is clamped to the clip's end (1.0 s)
    fr = lib.object_frames(torch.zeros(4, dtype=torch.long), times)
    assert fr["pos"].shape == (4, 3) and fr["quat"].shape == (4, 4) and fr["contacts"].shape == (4, 2)
    torch.testing.assert_close(fr["pos"][:, 0], torch.tensor([0.0, 0.25, 0.55, 1.0]), atol=1e-6, rtol=0)
    angle = 0.5 * times.clamp(max=1.0)  # slerp about z at constant rate: exact
    torch.testing.assert_close(fr["quat"], torch.from_numpy(_quat_z(angle.numpy())).float(), atol=1e-6, rtol=0)
    torch.testing.assert_close(fr["lin_vel"], torch.tensor([[1.0, 0.0, 0.0]]).expand(4, 3), atol=1e-4, rtol=0)
    torch.testing.assert_close(fr["ang_vel"], torch.tensor([[0.0, 0.0, 0.5]]).expand(4, 3), atol=1e-4, rtol=0)
    # labels: 0 before frame 5, 1 from it, lerped between frames 4 and 5
    torch.testing.assert_close(fr["contacts"][:, 0], torch.tensor([0.0, 0.0, 1.0, 1.0]))
    mid = lib.object_frames(torch.zeros(1, dtype=torch.long), torch.tensor([0.45]))["contacts"]
    assert math.isclose(float(mid[0, 0]), 0.5, abs_tol=1e-5) and float(mid[0, 1]) == 0.0


def test_contact_bodies_are_the_union_over_clips_and_need_not_be_tracked():
    a = _motion(obj=_box(bodies=("hand",)))
    b = _motion(obj=_box(bodies=("torso", "left_elbow")))  # "left_elbow" is not among the library's bodies
    lib = MotionLibrary([a, b], J_NAMES, B_NAMES)
    assert lib.object_contact_bodies == ["hand", "torso", "left_elbow"]
    fr = lib.object_frames(torch.tensor([0, 1]), torch.tensor([1.0, 1.0]))
    torch.testing.assert_close(fr["contacts"], torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))


def test_clips_must_agree_on_the_object():
    with pytest.raises(ValueError, match="one object type per library"):
        MotionLibrary([_motion(obj=_box()), _motion(obj=_box(mass=3.0))], J_NAMES, B_NAMES)


def test_a_clip_without_an_object_is_an_error_when_one_is_required():
    lib = MotionLibrary([_motion(obj=_box()), _motion()], J_NAMES, B_NAMES, clip_names=["a", "b"])
    assert not lib.has_object  # mixed: objects ignored unless required
    with pytest.raises(ValueError, match=r"^b: clip has no object") as e:
        MotionLibrary([_motion(obj=_box()), _motion()], J_NAMES, B_NAMES, clip_names=["a", "b"],
                      require_object=True)
    assert "\n" not in str(e.value)


def test_malformed_object_arrays():
    bad = _box()
    bad["object_pos_w"] = bad["object_pos_w"][:-1]
    with pytest.raises(ValueError, match="one pose per frame"):
        MotionLibrary([_motion(obj=bad)], J_NAMES, B_NAMES)


def test_objects_survive_save_load_and_resampling(tmp_path):
    from mimiclab.motion.format import save_motion

    path = save_motion(tmp_path / "box.npz", _motion(T=21, fps=20.0, obj=_box(T=21, fps=20.0)))
    lib = MotionLibrary.from_paths([path], J_NAMES, B_NAMES, require_object=True)
    fr = lib.object_frames(torch.zeros(1, dtype=torch.long), torch.tensor([0.5]))
    torch.testing.assert_close(fr["pos"], torch.tensor([[0.5, 0.0, 0.5]]), atol=1e-6, rtol=0)
