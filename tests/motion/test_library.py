"""Motion library: loading (files, folders, globs, raw BVH), name mapping (a permuted file and a
permuted simulator order), packing, interpolation, future frames, adaptive and evaluation sampling."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from mimiclab.motion import MotionData, save_motion
from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.motion.library import FIELDS, MotionLibrary, quat_interp
from mimiclab.motion.sampling import AdaptiveSampler, EvaluationWalker
from mimiclab.robots.g1 import G1
from mimiclab.rotations.numpy_ops import quat_slerp

JOINTS = list(G1.joint_names)
BODIES = list(G1.body_names)
TRACKED = ["pelvis", "left_hip_roll_link", "right_hip_roll_link", "left_knee_link", "right_knee_link",
           "left_ankle_roll_link", "right_ankle_roll_link", "torso_link", "left_shoulder_roll_link",
           "right_shoulder_roll_link", "left_elbow_link", "right_elbow_link", "left_wrist_yaw_link",
           "right_wrist_yaw_link"]


def _clip(T: int, fps: float, seed: int, yaw_rate: float = 1.5) -> MotionData:
    """Sinusoidal joints inside the limits, a yawing, drifting root."""
    rng = np.random.default_rng(seed)
    t = np.arange(T) / fps
    root_pos = np.stack([0.4 * t, 0.05 * np.sin(2 * t), 0.78 + 0.01 * np.cos(3 * t)], axis=1)
    yaw = yaw_rate * t
    root_quat = np.stack([np.cos(yaw / 2), 0 * t, 0 * t, np.sin(yaw / 2)], axis=1)
    default = np.array([j.default_pos for j in G1.joints])
    lo, hi = np.array([j.lower for j in G1.joints]), np.array([j.upper for j in G1.joints])
    q = np.clip(default + 0.3 * np.sin(3 * t[:, None] + rng.uniform(0, 6, len(JOINTS))), lo, hi)
    return motion_from_joint_trajectory(root_pos, root_quat, q, fps=fps, meta={"source": f"test{seed}"})


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Three clips in clips/ (a: 30 fps 1.3 s, b: 50 fps 2.36 s, c: 30 fps 0.8 s) and a permuted
    copy of a in other/ (joints and bodies stored in a shuffled order)."""
    root = tmp_path_factory.mktemp("lib")
    (root / "clips").mkdir()
    (root / "other").mkdir()
    motions = {"a": _clip(40, 30.0, 0), "b": _clip(119, 50.0, 1), "c": _clip(25, 30.0, 2)}
    for name, m in motions.items():
        save_motion(root / "clips" / f"{name}.npz", m)
    rng = np.random.default_rng(7)
    perm_j = [JOINTS[i] for i in rng.permutation(len(JOINTS))]
    perm_b = [BODIES[i] for i in rng.permutation(len(BODIES))]
    save_motion(root / "other" / "a_permuted.npz", motions["a"].select(perm_j, perm_b))
    return root, motions


@pytest.fixture(scope="module")
def lib(clips):
    root, _ = clips
    return MotionLibrary.from_paths([str(root / "clips")], JOINTS, BODIES)


def _times(lib, ids, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(ids.shape[0], generator=g) * lib.duration[ids]


# --------------------------------------------------------------------------------------------
# loading and packing


def test_files_folder_and_glob_give_the_same_library(clips, lib):
    root, motions = clips
    files = MotionLibrary.from_paths([str(root / "clips" / f"{n}.npz") for n in "abc"], JOINTS, BODIES)
    glob = MotionLibrary.from_paths(str(root / "clips" / "*.npz"), JOINTS, BODIES)
    assert lib.clip_names == files.clip_names == glob.clip_names == ["a", "b", "c"]
    assert lib.clip_paths[0].endswith("a.npz")
    ids = torch.tensor([0, 1, 2, 1, 0])
    t = _times(lib, ids)
    for other in (files, glob):
        for f, x in lib.frames(ids, t).items():
            torch.testing.assert_close(other.frames(ids, t)[f], x, rtol=0, atol=0)
    # packing: flat float32 tensors, offsets, per-clip fps and duration
    assert lib.num_clips == 3 and lib.num_frames == 40 + 119 + 25
    assert lib.start.tolist() == [0, 40, 159] and lib.length.tolist() == [40, 119, 25]
    torch.testing.assert_close(lib.fps, torch.tensor([30.0, 50.0, 30.0]))
    torch.testing.assert_close(lib.duration, torch.tensor([39 / 30, 118 / 50, 24 / 30]))
    assert lib.joint_pos.shape == (184, 29) and lib.body_quat_w.shape == (184, 30, 4)
    assert lib.root_pos.shape == (184, 3) and lib.root_quat.shape == (184, 4)
    assert all(getattr(lib, f).dtype == torch.float32 for f in FIELDS)
    np.testing.assert_array_equal(lib.joint_pos[40:159].numpy(), motions["b"].joint_pos.astype(np.float32))
    np.testing.assert_array_equal(lib.body_pos_w[159:].numpy(), motions["c"].body_pos_w.astype(np.float32))
    # the same file twice (file + folder) is loaded once
    assert MotionLibrary.from_paths([str(root / "clips" / "a.npz"), str(root / "clips")], JOINTS, BODIES).num_clips == 3


def test_permuted_file_gives_identical_frames(clips):
    root, _ = clips
    with np.load(root / "other" / "a_permuted.npz") as f:
        assert list(f["joint_names"]) != JOINTS and list(f["body_names"]) != BODIES  # really permuted
    for sim_joints, sim_bodies in ((JOINTS, BODIES), (JOINTS[::-1], TRACKED)):
        orig = MotionLibrary.from_paths([str(root / "clips" / "a.npz")], sim_joints, sim_bodies)
        perm = MotionLibrary.from_paths([str(root / "other" / "a_permuted.npz")], sim_joints, sim_bodies)
        ids = torch.zeros(64, dtype=torch.long)
        t = torch.linspace(-0.1, 1.5, 64)
        a, b = orig.frames(ids, t), perm.frames(ids, t)
        for f in FIELDS:
            torch.testing.assert_close(b[f], a[f], rtol=0, atol=0)


def test_permuted_simulator_order_permutes_columns(lib, clips):
    root, _ = clips
    rng = np.random.default_rng(3)
    jp = rng.permutation(len(JOINTS))
    bsel = [BODIES.index(n) for n in TRACKED][::-1]
    sim = MotionLibrary.from_paths(str(root / "clips"), [JOINTS[i] for i in jp], [BODIES[i] for i in bsel])
    ids = torch.tensor([0, 1, 2, 2])
    t = _times(lib, ids, seed=1)
    full, got = lib.frames(ids, t), sim.frames(ids, t)
    for f in ("joint_pos", "joint_vel"):
        torch.testing.assert_close(got[f], full[f][:, jp], rtol=0, atol=0)
    for f in ("body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w"):
        torch.testing.assert_close(got[f], full[f][:, bsel], rtol=0, atol=0)
    for f in ("root_pos", "root_quat", "root_lin_vel", "root_ang_vel"):
        torch.testing.assert_close(got[f], full[f], rtol=0, atol=0)


# --------------------------------------------------------------------------------------------
# interpolation


def test_joint_interpolation_exact_at_frames_and_linear_between(lib, clips):
    _, motions = clips
    b = motions["b"]
    k = torch.arange(118)
    ids = torch.ones_like(k)
    at = lib.frames(ids, k / 50.0)
    np.testing.assert_allclose(at["joint_pos"].numpy(), b.joint_pos[:118], atol=1e-6)
    np.testing.assert_allclose(at["body_pos_w"].numpy(), b.body_pos_w[:118], atol=1e-6)
    for w in (0.25, 0.5, 0.8):
        mid = lib.frames(ids, (k + w) / 50.0)
        want = (1 - w) * b.joint_pos[:118] + w * b.joint_pos[1:119]
        np.testing.assert_allclose(mid["joint_pos"].numpy(), want, atol=1e-5)
        want = (1 - w) * b.body_lin_vel_w[:118] + w * b.body_lin_vel_w[1:119]
        np.testing.assert_allclose(mid["body_lin_vel_w"].numpy(), want, atol=1e-4)
    # clamped to [0, duration]
    end = lib.frames(torch.tensor([1, 1, 0]), torch.tensor([-3.0, 100.0, 1e9]))
    np.testing.assert_allclose(end["joint_pos"][0].numpy(), b.joint_pos[0], atol=1e-6)
    np.testing.assert_allclose(end["joint_pos"][1].numpy(), b.joint_pos[-1], atol=1e-6)
    np.testing.assert_allclose(end["joint_pos"][2].numpy(), motions["a"].joint_pos[-1], atol=1e-6)


def test_quaternion_interpolation_unit_and_shortest_arc(lib, clips):
    _, motions = clips
    a = motions["a"]
    k = torch.arange(39)
    mid = lib.frames(torch.zeros_like(k), (k + 0.3) / 30.0)
    for f in ("root_quat", "body_quat_w"):
        torch.testing.assert_close(mid[f].norm(dim=-1), torch.ones(mid[f].shape[:-1]), rtol=0, atol=1e-6)
    want = quat_slerp(a.body_quat_w[:39], a.body_quat_w[1:40], 0.3)
    np.testing.assert_allclose(mid["body_quat_w"].numpy(), want, atol=2e-6)

    # a clip storing q and −q on alternate frames interpolates like the consistent one
    flip = np.where(np.arange(a.num_frames) % 2 == 1, -1.0, 1.0)
    flipped = replace(a, root_quat_w=a.root_quat_w * flip[:, None], body_quat_w=a.body_quat_w * flip[:, None, None])
    for mode in ("slerp", "nlerp"):
        two = MotionLibrary([a, flipped], JOINTS, BODIES, quat_mode=mode)
        t = (k + 0.5) / 30.0
        x, y = two.frames(torch.zeros_like(k), t), two.frames(torch.ones_like(k), t)
        for f in ("root_quat", "body_quat_w"):
            same = torch.minimum((x[f] - y[f]).abs().amax(-1), (x[f] + y[f]).abs().amax(-1))
            assert same.max() < 1e-6, (mode, f)

    # direct: the antipodal end point gives the short way round, never through the long arc
    q0 = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    half = np.radians(20.0) / 2
    q1 = torch.tensor([[-np.cos(half), 0.0, 0.0, -np.sin(half)]], dtype=torch.float32)  # 20° about z, negated
    q = quat_interp(q0, q1, torch.tensor([[0.5]]))
    angle = 2 * torch.atan2(q[0, 1:].norm(), q[0, 0].abs())
    assert abs(float(angle) - np.radians(10.0)) < 1e-5


def test_future_offsets_and_clamping(lib):
    ids = torch.tensor([0, 1, 2])
    t = torch.tensor([0.1, 2.2, 0.75])
    fut = lib.future(ids, t, step_dt=0.02, offsets=(1, 2, 4, 8))
    assert fut["joint_pos"].shape == (3, 4, 29) and fut["body_quat_w"].shape == (3, 4, 30, 4)
    for j, k in enumerate((1, 2, 4, 8)):
        now = lib.frames(ids, t + 0.02 * k)
        for f in FIELDS:
            torch.testing.assert_close(fut[f][:, j], now[f], rtol=0, atol=0)
    # clip b ends at 2.36 s: 2.2 + 0.16 clamps to its last frame; clip c ends at 0.8 s
    last_b = lib.joint_pos[lib.start[1] + lib.length[1] - 1]
    torch.testing.assert_close(fut["joint_pos"][1, 3], last_b, rtol=0, atol=1e-6)
    torch.testing.assert_close(fut["joint_pos"][2, 2], lib.joint_pos[183], rtol=0, atol=1e-6)
    custom = lib.future(ids, t, step_dt=0.1, offsets=(0, 3))
    torch.testing.assert_close(custom["root_pos"][:, 1], lib.frames(ids, t + 0.3)["root_pos"])


# --------------------------------------------------------------------------------------------
# sampling


def test_adaptive_sampler_deterministic_and_inside_bins(lib):
    def draw(seed):
        s = AdaptiveSampler(lib, generator=torch.Generator().manual_seed(seed))
        return s.sample(500)

    (c1, t1), (c2, t2), (c3, _) = draw(5), draw(5), draw(6)
    assert torch.equal(c1, c2) and torch.equal(t1, t2) and not torch.equal(c1, c3)
    assert ((t1 >= 0) & (t1 <= lib.duration[c1])).all()
    s = AdaptiveSampler(lib)
    assert s.clip_num_bins.tolist() == [2, 3, 1] and s.num_bins == 6  # 1.3 s, 2.36 s, 0.8 s
    torch.testing.assert_close(s.bin_length, torch.tensor([1.0, 0.3, 1.0, 1.0, 0.36, 0.8]))
    torch.testing.assert_close(s.probabilities(), torch.full((6,), 1 / 6))
    assert set(c1.tolist()) == {0, 1, 2}


def _episodes(s, clip, t0, t1, failed, n=1):
    s.update(torch.tensor([clip] * n), torch.tensor([t0] * n), torch.tensor([t1] * n), torch.tensor([failed] * n))


def test_one_failure_moves_a_fresh_bin_by_the_documented_amount(lib):
    """Rate prior 0.5 worth 1 exposure: one failed episode in bin h gives r_h = 0.75 (not 'all
    starts', as normalised counts did), every other bin stays at 0.5; without smoothing
    p_h = 0.9·0.75/(0.75 + 5·0.5) + 0.1/6."""
    s = AdaptiveSampler(lib, kernel_size=1)
    hard = s.bin_index(torch.tensor([1]), torch.tensor([1.5])).item()
    assert hard == 3
    _episodes(s, 1, 1.2, 1.5, True)
    s.flush()
    r = s.rates()
    torch.testing.assert_close(r[hard], torch.tensor(0.75))
    torch.testing.assert_close(r[torch.arange(6) != hard], torch.full((5,), 0.5))
    p = s.probabilities()
    torch.testing.assert_close(p[hard], torch.tensor(0.9 * 0.75 / (0.75 + 5 * 0.5) + 0.1 / 6))
    assert p[hard] < 0.3  # the bug this replaces gave it 0.9 + 0.1/6


def test_a_bin_failing_every_episode_converges_to_the_documented_share(lib):
    """Bin h fails every episode that reaches it, every other bin is run without failure: r_h → 1,
    the others → 0, so p_h → (1 − u)·s_h/Σs + u/NB with s the look-ahead smoothing of a one-hot
    rate: the bins just before h (same clip) get λ-weighted shares, the floor holds everywhere."""
    s = AdaptiveSampler(lib, ema_alpha=0.01, kernel_size=3, kernel_decay=0.8)
    hard = 3  # clip 1, second bin (clip 1 has bins 2, 3, 4)
    for _ in range(3000):
        _episodes(s, 1, 1.1, 1.5, True, n=4)  # every episode reaching bin 3 fails there
        _episodes(s, 1, 0.1, 0.9, False, n=4)  # bin 2 and bin 4 run without failing
        _episodes(s, 1, 2.05, 2.3, False, n=4)
        _episodes(s, 0, 0.0, 1.3, False, n=4)
        _episodes(s, 2, 0.0, 0.8, False, n=4)
        s.flush()
    r = s.rates()
    assert r[hard] > 0.99 and (r[torch.arange(6) != hard] < 0.01).all()
    expect_s = torch.zeros(6)
    expect_s[3] = 1.0 / (1 + 0.8)  # bin 3 looks at bins 3, 4 (nothing past its clip's end)
    expect_s[2] = 0.8 / (1 + 0.8 + 0.64)  # bin 2 looks at bins 2, 3, 4
    expect_p = 0.9 * expect_s / expect_s.sum() + 0.1 / 6
    torch.testing.assert_close(s.probabilities(), expect_p, atol=5e-3, rtol=0)
    assert s.probabilities()[2] > 0.1 / 6 + 0.1  # starts land *before* the hard moment too


def test_floor_always_holds_and_rates_do_not_feed_themselves(lib):
    """Whatever the statistics, every bin keeps ≥ u/NB; a bin with many exposures and a few failures
    has a lower share than a bin with few exposures that always fail (rates, not counts)."""
    s = AdaptiveSampler(lib, kernel_size=1, generator=torch.Generator().manual_seed(0))
    _episodes(s, 1, 1.1, 1.5, True, n=30)  # bin 3: 30 failures of 300 exposures
    _episodes(s, 1, 1.1, 1.5, False, n=270)
    _episodes(s, 2, 0.1, 0.5, True, n=5)  # bin 5: 5 of 5
    s.flush()
    p = s.probabilities()
    assert p[5] > p[3]
    assert (p >= 0.1 / 6 - 1e-7).all()
    torch.testing.assert_close(p.sum(), torch.tensor(1.0))
    ids, t = s.sample(4000)
    freq = torch.bincount(s.bin_index(ids, t), minlength=6).float() / 4000
    assert (freq > 0.005).all() and freq.argmax().item() == 5


def test_sampler_decay_reducer_and_state(lib):
    """One flush = one decay step with the increments; the reducer sees (2, NB) increments; state
    round-trips; a pre-rate state is refused in one line."""
    seen = []
    s = AdaptiveSampler(lib, ema_alpha=0.1, count_reducer=lambda t: (seen.append(t.clone()), t.mul_(2)))
    _episodes(s, 0, 0.2, 1.1, True)  # bins 0 and 1 exposed, the failure in bin 1
    s.flush()
    assert seen[0].shape == (2, 6) and seen[0][0].tolist() == [1, 1, 0, 0, 0, 0]
    torch.testing.assert_close(s.exposure, torch.tensor([2.0, 2.0, 0, 0, 0, 0]))  # doubled by the reducer
    s.flush()  # nothing new: decay only
    torch.testing.assert_close(s.failure, torch.tensor([0.0, 1.8, 0, 0, 0, 0]))
    fresh = AdaptiveSampler(lib)
    fresh.load_state_dict(s.state_dict())
    torch.testing.assert_close(fresh.probabilities(), s.probabilities())
    with pytest.raises(ValueError, match="failure counts only"):
        fresh.load_state_dict({"failure": torch.zeros(6), "num_bins": 6, "bin_seconds": 1.0})


def test_evaluation_starts_cover_every_clip_once(lib):
    ids, t = lib.evaluation_starts()
    assert ids.tolist() == [0, 1, 2] and t.tolist() == [0.0, 0.0, 0.0]
    walker = EvaluationWalker(lib)
    a, ta = walker.sample(2)
    assert a.tolist() == [0, 1] and walker.last_new.all() and not walker.done
    b, _ = walker.sample(2)
    assert b.tolist() == [2, 0] and walker.last_new.tolist() == [True, False] and walker.done
    assert (ta == 0).all()


# --------------------------------------------------------------------------------------------
# errors and raw mocap


def test_errors_name_the_clip_and_the_problem(clips, tmp_path):
    root, motions = clips
    with pytest.raises(ValueError, match="no motion paths"):
        MotionLibrary.from_paths([], JOINTS, BODIES)
    with pytest.raises(ValueError, match="no clips"):
        MotionLibrary([], JOINTS, BODIES)
    with pytest.raises(ValueError, match=r"a\.npz.*lacks joints \['no_such_joint'\]"):
        MotionLibrary.from_paths([str(root / "clips" / "a.npz")], JOINTS[:3] + ["no_such_joint"], BODIES)
    with pytest.raises(ValueError, match=r"a\.npz: motion lacks bodies \['hand_link'\]"):
        MotionLibrary.from_paths(str(root / "clips"), JOINTS, ["pelvis", "hand_link"])
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="broken.npz") as e:
        MotionLibrary.from_paths([str(root / "clips" / "a.npz"), str(bad)], JOINTS, BODIES)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="no such file"):
        MotionLibrary.from_paths([str(tmp_path / "missing.npz")], JOINTS, BODIES)
    with pytest.raises(ValueError, match="matches no motion files"):
        MotionLibrary.from_paths([str(tmp_path / "*.nothing")], JOINTS, BODIES)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="folder holds no motion files"):
        MotionLibrary.from_paths([str(tmp_path / "empty")], JOINTS, BODIES)
    empty = replace(motions["a"], **{f: getattr(motions["a"], f)[:0] for f in (
        "joint_pos", "joint_vel", "root_pos_w", "root_quat_w", "body_pos_w", "body_quat_w",
        "body_lin_vel_w", "body_ang_vel_w")})
    with pytest.raises(ValueError, match="empty clip"):
        MotionLibrary([empty], JOINTS, BODIES, clip_names=["empty"])


def test_raw_bvh_is_retargeted_on_load(tmp_path):
    from mimiclab.retarget.pipeline import retarget_path
    from mimiclab.retarget.sources.synthetic import synthetic_arm_wave, write_motion_bvh

    path = write_motion_bvh(tmp_path / "wave.bvh", synthetic_arm_wave(seconds=0.4, fps=30.0))
    with pytest.raises(ValueError, match="wave.bvh: human motion: retarget it first"):
        MotionLibrary.from_paths([str(path)], JOINTS, TRACKED)  # motion never imports retarget itself
    lib = MotionLibrary.from_paths([str(path)], JOINTS[::-1], TRACKED, fps=30.0, human_loader=retarget_path)
    assert lib.clip_names == ["wave"] and lib.num_frames == 12
    torch.testing.assert_close(lib.fps, torch.tensor([30.0]))
    ref = lib.frames(torch.zeros(3, dtype=torch.long), torch.tensor([0.0, 0.1, 0.37]))
    assert all(torch.isfinite(x).all() for x in ref.values())
    assert 0.5 < float(ref["root_pos"][0, 2]) < 1.0  # a standing G1 pelvis


def test_fps_resamples_and_keypoint_npz_is_detected_as_human(clips, tmp_path):
    from mimiclab.motion.clip_loading import is_human_motion_file
    from mimiclab.retarget.sources.keypoints import write_keypoints
    from mimiclab.retarget.sources.synthetic import keypoints_from_motion, synthetic_arm_wave

    root, _ = clips
    lib = MotionLibrary.from_paths([str(root / "clips" / "a.npz")], JOINTS, TRACKED, fps=50.0)
    assert lib.length.tolist() == [66] and lib.fps.tolist() == [50.0]  # 39 frames at 30 fps = 1.3 s
    kp = keypoints_from_motion(synthetic_arm_wave(seconds=0.2), "coco17")
    assert is_human_motion_file(write_keypoints(tmp_path / "kp.npz", kp))
    assert not is_human_motion_file(root / "clips" / "a.npz")
