"""Known answers for every motion corruption of ``mimiclab bench robustness`` (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.bench.corruptions import (CORRUPTIONS, SEVERITIES, CorruptionError, RoleMotion, apply_corruption)
from mimiclab.bench.corruptions.body import segment_factors
from mimiclab.retarget.scaling import ROLE_TREE
from mimiclab.retarget.skeleton_map import ROLES

FPS = 50.0
T = 200


def _rng(seed=0):
    return np.random.default_rng(seed)


def _standing() -> np.ndarray:
    from mimiclab.retarget.robot_targets import g1_role_points

    pts = g1_role_points()
    pts["head"] = pts["chest"] + np.array([0.0, 0.0, 0.25])
    return np.stack([pts[r] for r in ROLES])  # (J,3)


@pytest.fixture(scope="module")
def moving() -> RoleMotion:
    """A body swaying smoothly (every joint its own phase), feet untouched: (T,J,3)."""
    t = np.arange(T) / FPS
    J = len(ROLES)
    phase = np.linspace(0, np.pi, J)[None, :, None] + np.array([0.0, 0.7, 1.3])
    pos = _standing()[None] + 0.1 * np.sin(2 * np.pi * 0.8 * t[:, None, None] + phase)
    return RoleMotion(tuple(ROLES), pos, FPS)


@pytest.fixture(scope="module")
def stepping() -> RoleMotion:
    """Standing still; the left foot planted for frames 0..99 then lifted 0.3 m and moving forward."""
    pos = np.repeat(_standing()[None], T, axis=0)
    for r in ("left_ankle", "left_toe"):
        j = ROLES.index(r)
        pos[100:, j, 2] += 0.3
        pos[100:, j, 0] += np.linspace(0.0, 0.5, T - 100)
    return RoleMotion(tuple(ROLES), pos, FPS)


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_severity_zero_is_the_identity(name, moving):
    out, info = apply_corruption(name, moving, 0, _rng())
    assert out is moving and info == {}


@pytest.mark.parametrize("name", CORRUPTIONS)
@pytest.mark.parametrize("severity", [1, 2, 3])
def test_every_corruption_is_deterministic_finite_and_changes_the_motion(name, severity, moving, stepping):
    base = stepping if name == "foot_skate" else moving
    a, _ = apply_corruption(name, base, severity, _rng(7))
    b, _ = apply_corruption(name, base, severity, _rng(7))
    assert np.array_equal(a.positions, b.positions)  # bitwise, same seed
    assert a.positions.dtype == np.float64 and np.isfinite(a.positions).all()
    assert a.positions.shape[1:] == base.positions.shape[1:] and a.names == base.names and a.fps == base.fps
    n = min(a.num_frames, base.num_frames)
    assert np.abs(a.positions[:n] - base.positions[:n]).max() > 1e-4
    if name != "bone_length":  # the only deterministic one
        c, _ = apply_corruption(name, base, severity, _rng(8))
        assert not np.array_equal(a.positions, c.positions)
    assert np.array_equal(base.positions, (stepping if name == "foot_skate" else moving).positions)  # input intact


def test_jitter_has_the_documented_sigma(moving):
    for s in (1, 2, 3):
        out, _ = apply_corruption("jitter", moving, s, _rng(s))
        d = out.positions - moving.positions
        sigma = SEVERITIES["jitter"][s]["sigma"]
        assert abs(d.std() / sigma - 1) < 0.03 and abs(d.mean()) < 0.05 * sigma


def test_drop_refills_exactly_the_documented_number_of_frames_by_interpolation(moving):
    out, info = apply_corruption("drop", moving, 2, _rng())
    lost = np.array(info["frames"])
    assert len(lost) == round(SEVERITIES["drop"][2]["rate"] * (T - 2)) == len(set(lost.tolist()))
    assert 0 not in lost and T - 1 not in lost
    changed = np.flatnonzero(np.abs(out.positions - moving.positions).max(axis=(1, 2)) > 1e-9)
    assert set(changed.tolist()) <= set(lost.tolist()) and len(changed) > 0.9 * len(lost)
    kept = np.setdiff1d(np.arange(T), lost)
    expect = np.interp(lost, kept, moving.positions[kept, 3, 1])
    assert np.allclose(out.positions[lost, 3, 1], expect)
    assert np.array_equal(out.positions[kept], moving.positions[kept])


def test_duplicate_adds_the_documented_number_of_repeated_frames(moving):
    out, info = apply_corruption("duplicate", moving, 3, _rng())
    k = round(SEVERITIES["duplicate"][3]["rate"] * T)
    assert out.num_frames == T + k and info["added_frames"] == k
    repeats = np.flatnonzero(np.all(np.diff(out.positions, axis=0) == 0, axis=(1, 2)))
    assert len(repeats) == k
    # dropping the repeats gives the clip back
    keep = np.setdiff1d(np.arange(out.num_frames), repeats + 1)
    assert np.array_equal(out.positions[keep], moving.positions)


def test_flicker_touches_only_the_documented_fraction_of_frames(moving):
    out, info = apply_corruption("flicker", moving, 3, _rng())
    k = round(SEVERITIES["flicker"][3]["rate"] * T)
    changed = np.flatnonzero(np.abs(out.positions - moving.positions).max(axis=(1, 2)) > 0)
    assert changed.tolist() == info["frames"] and len(changed) == k
    swaps = [f for f, kind in zip(info["frames"], info["kinds"]) if kind == "swap"]
    li, ri = ROLES.index("left_wrist"), ROLES.index("right_wrist")
    assert swaps and np.array_equal(out.positions[swaps[0], li], moving.positions[swaps[0], ri])
    spike = info["frames"][info["kinds"].index("spike")]
    moved = np.linalg.norm(out.positions[spike] - moving.positions[spike], axis=-1)
    assert np.count_nonzero(moved > 0) == 3 and np.allclose(moved[moved > 0], 0.15)


def _segment(pos, role):
    return np.linalg.norm(pos[:, ROLES.index(role)] - pos[:, ROLES.index(ROLE_TREE[role][0])], axis=-1)


def test_bone_length_scales_every_segment_by_exactly_its_documented_factor(moving):
    p = SEVERITIES["bone_length"][3]
    out, info = apply_corruption("bone_length", moving, 3, _rng())
    factors = segment_factors(ROLES, **p)
    assert factors["left_wrist"] == pytest.approx(p["arms"] * p["left"])
    assert factors["right_knee"] == pytest.approx(p["legs"] / p["left"])
    assert factors["head"] == factors["left_toe"] == factors["left_shoulder"] == 1.0
    for role in ROLE_TREE:
        ratio = _segment(out.positions, role) / _segment(moving.positions, role)
        assert np.allclose(ratio, factors[role], rtol=1e-10), role
    assert np.array_equal(out.positions[:, ROLES.index("pelvis")], moving.positions[:, ROLES.index("pelvis")])
    assert info["factors"] == factors


def test_depth_error_moves_joints_only_along_one_horizontal_axis_and_is_correlated(moving):
    p = SEVERITIES["depth"][2]
    out, info = apply_corruption("depth", moving, 2, _rng())
    d = out.positions - moving.positions
    axis = np.array(info["axis"])
    assert axis[2] == 0 and np.isclose(np.linalg.norm(axis), 1)
    along = d @ axis
    assert np.allclose(d - along[..., None] * axis, 0, atol=1e-12)  # nothing across the camera axis
    assert abs(along.std() / np.hypot(p["sigma_body"], p["sigma_joint"]) - 1) < 0.25
    lag1 = np.corrcoef(along[1:].ravel(), along[:-1].ravel())[0, 1]
    assert lag1 > 0.9  # temporally correlated (white noise would be ≈ 0)


def test_foot_skate_slides_planted_feet_at_the_documented_speed(stepping):
    speed = SEVERITIES["foot_skate"][2]["speed"]
    out, info = apply_corruption("foot_skate", stepping, 2, _rng())
    assert info["left"]["contacts"] == [(0, 99)] and info["right"]["contacts"] == [(0, T - 1)]
    for role in ("left_ankle", "left_toe", "right_ankle"):
        d = out.positions[:, ROLES.index(role)] - stepping.positions[:, ROLES.index(role)]
        v = np.linalg.norm(np.diff(d[:100], axis=0), axis=-1) * FPS
        assert np.allclose(v, speed) and np.allclose(d[:, 2], 0)
    d = out.positions[:, ROLES.index("left_ankle")] - stepping.positions[:, ROLES.index("left_ankle")]
    assert np.allclose(d[0], 0) and np.linalg.norm(d[99]) == pytest.approx(speed * 99 / FPS)
    others = [j for j, r in enumerate(ROLES) if r not in ("left_ankle", "left_toe", "right_ankle", "right_toe")]
    assert np.array_equal(out.positions[:, others], stepping.positions[:, others])


def test_drift_ends_exactly_the_documented_distance_away(moving):
    for s in (1, 3):
        p = SEVERITIES["drift"][s]
        out, info = apply_corruption("drift", moving, s, _rng(s))
        d = out.positions - moving.positions
        assert np.allclose(d, d[:, :1])  # the whole body moves together
        assert np.allclose(d[..., 2], 0) and np.allclose(d[0], 0)
        assert np.linalg.norm(d[-1, 0]) == pytest.approx(p["speed"] * (T - 1) / FPS, rel=1e-9)
        walk = info["offset_m"] - p["speed"] * (np.arange(T) / FPS)[:, None] * np.array(info["heading"])
        assert np.sqrt(np.mean(np.sum(walk ** 2, -1))) == pytest.approx(p["walk"])


def test_warp_keeps_the_endpoints_and_is_monotone(moving):
    for s in (1, 2, 3):
        alpha = SEVERITIES["warp"][s]["alpha"]
        out, info = apply_corruption("warp", moving, s, _rng(s))
        phi = info["phi"]
        assert phi[0] == 0 and phi[-1] == 1 and np.all(np.diff(phi) > 0)
        rate = np.diff(phi) * (T - 1)
        assert rate.min() >= 1 - alpha - 1e-3 and rate.max() <= 1 + alpha + 1e-3 and rate.max() > 1 + alpha / 2
        assert np.array_equal(out.positions[[0, -1]], moving.positions[[0, -1]])
        assert out.num_frames == T


def test_unknown_names_and_severities_are_refused(moving):
    with pytest.raises(CorruptionError, match="unknown corruption 'blur'"):
        apply_corruption("blur", moving, 1, _rng())
    with pytest.raises(CorruptionError, match="severity 4"):
        apply_corruption("jitter", moving, 4, _rng())


def test_the_parameter_table_is_complete_and_documented():
    import mimiclab.bench.corruptions as c

    for name in CORRUPTIONS:
        assert sorted(SEVERITIES[name]) == [1, 2, 3]
        assert f"``{name}``" in c.__doc__
