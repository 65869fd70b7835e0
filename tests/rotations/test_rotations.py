"""mimiclab.rotations: known answers, round trips, numpy/torch agreement, conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from mimiclab.rotations import numpy_ops as R
from mimiclab.rotations import torch_ops as T

AXES = {"x": np.array([1.0, 0.0, 0.0]), "y": np.array([0.0, 1.0, 0.0]), "z": np.array([0.0, 0.0, 1.0])}
# R(90° about axis) as columns: the images of e_x, e_y, e_z
QUARTER = {
    "x": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),
    "y": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]),
    "z": np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
}
S = math.sqrt(0.5)


def _unit_quats(n, seed=0):
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


# --------------------------------------------------------------------------- known answers

def test_identity():
    I = np.array([1.0, 0.0, 0.0, 0.0])
    v = np.array([0.3, -1.2, 2.0])
    np.testing.assert_array_equal(R.matrix_from_quat(I), np.eye(3))
    np.testing.assert_array_equal(R.quat_apply(I, v), v)
    np.testing.assert_array_equal(R.quat_apply_inverse(I, v), v)
    np.testing.assert_array_equal(R.quat_log(I), np.zeros(3))
    np.testing.assert_array_equal(R.quat_exp(np.zeros(3)), I)
    np.testing.assert_array_equal(R.quat_from_matrix(np.eye(3)), I)
    np.testing.assert_array_equal(R.quat_mul(I, I), I)
    np.testing.assert_array_equal(R.ori6_from_quat(I), [1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(R.matrix_from_euler(np.zeros(3), "zxy"), np.eye(3))
    np.testing.assert_array_equal(R.matrix_from_euler(np.zeros((2, 0)), ""), np.broadcast_to(np.eye(3), (2, 3, 3)))
    assert R.quat_angle(I, I) == 0.0
    np.testing.assert_array_equal(T.matrix_from_quat(_t(I)).numpy(), np.eye(3))
    np.testing.assert_array_equal(T.quat_apply(_t(I), _t(v)).numpy(), v)


@pytest.mark.parametrize("axis", "xyz")
def test_quarter_turn_about_each_axis(axis):
    q = np.concatenate(([S], S * AXES[axis]))
    want = QUARTER[axis]
    np.testing.assert_allclose(R.quat_from_axis_angle(AXES[axis], math.pi / 2), q, atol=1e-16)
    np.testing.assert_allclose(R.quat_exp(AXES[axis] * math.pi / 2), q, atol=1e-16)
    np.testing.assert_allclose(R.quat_log(q), AXES[axis] * math.pi / 2, atol=1e-15)
    np.testing.assert_allclose(R.matrix_from_quat(q), want, atol=1e-15)
    np.testing.assert_allclose(R.matrix_about_axis(axis, math.pi / 2), want, atol=1e-15)
    np.testing.assert_allclose(R.matrix_from_euler(np.array([math.pi / 2]), axis), want, atol=1e-15)
    np.testing.assert_allclose(R.quat_from_matrix(want), q, atol=1e-15)
    for j, e in enumerate(np.eye(3)):  # the images of the basis vectors are the matrix columns
        np.testing.assert_allclose(R.quat_apply(q, e), want[:, j], atol=1e-15)
        np.testing.assert_allclose(R.quat_apply_inverse(q, want[:, j]), e, atol=1e-15)
    assert R.quat_angle(np.array([1.0, 0, 0, 0]), q) == pytest.approx(math.pi / 2, abs=1e-15)
    np.testing.assert_allclose(R.quat_mul(q, q), R.quat_from_axis_angle(AXES[axis], math.pi), atol=1e-15)
    np.testing.assert_allclose(T.matrix_from_quat(_t(q)).numpy(), want, atol=1e-15)
    np.testing.assert_allclose(T.quat_from_matrix(_t(want)).numpy(), q, atol=1e-15)
    # scipy (xyzw) agrees on the meaning of the quaternion
    np.testing.assert_allclose(Rotation.from_quat(R.wxyz_to_xyzw(q)).as_matrix(), want, atol=1e-15)


def test_composition_order_is_hamilton():
    """q_a ⊗ q_b rotates by b first, then a (as R_a @ R_b)."""
    qa, qb = _unit_quats(2, seed=3)
    np.testing.assert_allclose(R.matrix_from_quat(R.quat_mul(qa, qb)), R.matrix_from_quat(qa) @ R.matrix_from_quat(qb),
                               atol=1e-14)
    v = np.array([0.1, 0.2, -0.7])
    np.testing.assert_allclose(R.quat_apply(R.quat_mul(qa, qb), v), R.quat_apply(qa, R.quat_apply(qb, v)), atol=1e-14)
    np.testing.assert_allclose(R.quat_mul(qa, R.quat_conjugate(qa)), [1.0, 0.0, 0.0, 0.0], atol=1e-15)


def test_euler_is_intrinsic_in_the_written_order():
    a, b, c = 0.3, -0.4, 1.1
    m = R.matrix_from_euler(np.array([a, b, c]), "ZXY")
    want = R.matrix_about_axis("z", a) @ R.matrix_about_axis("x", b) @ R.matrix_about_axis("y", c)
    np.testing.assert_allclose(m, want, atol=1e-15)
    with pytest.raises(ValueError, match="2 angles for order 'xyz'"):
        R.matrix_from_euler(np.zeros(2), "xyz")
    with pytest.raises(ValueError, match="not a Tait-Bryan order"):
        R.euler_from_matrix(np.eye(3), "xyx")


@pytest.mark.parametrize("order", ["xyz", "xzy", "yxz", "yzx", "zxy", "zyx"])
def test_euler_round_trip_and_gimbal_lock(order):
    rng = np.random.default_rng(1)
    angles = rng.uniform(-3.0, 3.0, (200, 3))
    angles[:, 1] *= 0.45  # middle angle within (-pi/2, pi/2)
    m = R.matrix_from_euler(angles, order)
    expected = R.matrix_about_axis(order[0], angles[:, 0]) @ R.matrix_about_axis(order[1], angles[:, 1]) @ \
        R.matrix_about_axis(order[2], angles[:, 2])
    np.testing.assert_allclose(m, expected, atol=1e-12)
    np.testing.assert_allclose(R.euler_from_matrix(m, order), angles, atol=1e-9)
    locked = angles.copy()
    locked[:, 1] = np.pi / 2
    ml = R.matrix_from_euler(locked, order)
    np.testing.assert_allclose(R.matrix_from_euler(R.euler_from_matrix(ml, order), order), ml, atol=1e-9)
    assert (R.euler_from_matrix(ml, order)[:, 2] == 0.0).all()
    # scipy's intrinsic (upper-case) sequences are the same convention
    np.testing.assert_allclose(Rotation.from_euler(order.upper(), angles).as_matrix(), m, atol=1e-12)


def test_yaw_quat_keeps_only_the_heading():
    yaw = np.array([0.0, 0.7, -2.5, 3.0])
    pitch_roll = R.quat_mul(R.quat_from_axis_angle(AXES["y"], 0.4), R.quat_from_axis_angle(AXES["x"], -0.3))
    q = R.quat_mul(R.quat_from_axis_angle(np.broadcast_to(AXES["z"], (4, 3)), yaw), pitch_roll)  # yaw last (world z)
    want = np.stack((np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)), axis=-1)
    np.testing.assert_allclose(R.yaw_quat(q), want, atol=1e-15)
    np.testing.assert_allclose(T.yaw_quat(_t(q)).numpy(), want, atol=1e-15)


def test_slerp_known_answers_and_shortest_arc():
    q0 = np.array([1.0, 0.0, 0.0, 0.0])
    q1 = R.quat_from_axis_angle(AXES["z"], math.pi / 2)
    half = R.quat_from_axis_angle(AXES["z"], math.pi / 4)
    np.testing.assert_allclose(R.quat_slerp(q0, q1, 0.5), half, atol=1e-15)
    np.testing.assert_allclose(R.quat_slerp(q0, -q1, 0.5), half, atol=1e-15)  # −q1: the same short way
    np.testing.assert_allclose(R.quat_slerp(q0, q1, 0.0), q0, atol=1e-15)
    np.testing.assert_allclose(R.quat_slerp(q0, q1, 1.0), q1, atol=1e-15)
    ts = np.linspace(0.0, 1.0, 5)[:, None]  # one fraction per quaternion: trailing 1
    angles = R.quat_angle(q0, R.quat_slerp(np.broadcast_to(q0, (5, 4)), np.broadcast_to(q1, (5, 4)), ts))
    np.testing.assert_allclose(angles, ts[:, 0] * math.pi / 2, atol=1e-15)  # constant angular speed
    nl = R.quat_nlerp(q0, -q1, 0.5)
    np.testing.assert_allclose(nl, half, atol=1e-15)  # halfway: nlerp and slerp agree by symmetry
    np.testing.assert_allclose(T.quat_slerp(_t(q0), _t(-q1), 0.5).numpy(), half, atol=1e-15)
    np.testing.assert_allclose(T.quat_nlerp(_t(q0), _t(-q1), 0.5).numpy(), half, atol=1e-15)


def test_matrix_between_vectors():
    rng = np.random.default_rng(5)
    a = np.array([0.0, 0.0, -1.0])
    b = rng.normal(size=(50, 3))
    b /= np.linalg.norm(b, axis=-1, keepdims=True)
    b = b[b @ a > -0.9]  # away from the antipode, where the smallest rotation is undefined
    m = R.matrix_between_vectors(a, b)
    np.testing.assert_allclose(np.einsum("nij,j->ni", m, a), b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-12)
    np.testing.assert_allclose(m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=1e-12)
    axis = np.cross(a, b)  # the axis of the smallest rotation is left alone
    np.testing.assert_allclose(np.einsum("nij,nj->ni", m, axis), axis, atol=1e-12)


def test_angular_and_linear_velocity_of_a_constant_rate():
    omega = np.array([0.4, -1.1, 2.0])
    t = np.arange(30) * 0.02
    q = R.quat_mul(R.quat_exp(t[:, None] * omega), R.quat_from_axis_angle(AXES["y"], 0.3))
    np.testing.assert_allclose(R.angular_velocity(q, 0.02), np.broadcast_to(omega, (30, 3)), atol=1e-9)
    np.testing.assert_allclose(R.angular_velocity(-q, 0.02), np.broadcast_to(omega, (30, 3)), atol=1e-9)
    x = t[:, None] * np.array([1.0, 2.0, -3.0])
    np.testing.assert_allclose(R.linear_velocity(x, 0.02), np.broadcast_to([1.0, 2.0, -3.0], (30, 3)), atol=1e-12)
    assert (R.angular_velocity(q[:1], 0.02) == 0).all() and (R.linear_velocity(x[:1], 0.02) == 0).all()


# --------------------------------------------------------------------------- round trips, double cover

def test_matrix_quat_round_trips():
    q = _unit_quats(500, seed=1)
    q[:100] *= np.sign(q[:100, :1])  # a mix of w ≥ 0 and w < 0 inputs
    m = R.matrix_from_quat(q)
    back = R.quat_from_matrix(m)
    assert (back[:, 0] >= 0).all()
    np.testing.assert_allclose(back, q * np.sign(q[:, :1]), atol=1e-14)
    np.testing.assert_allclose(R.matrix_from_quat(back), m, atol=1e-14)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-13)
    # every branch of Shepperd's method: rotations by π (trace −1) about each axis and about diagonals
    for axis in (*AXES.values(), np.array([1.0, 1.0, 0.0]) * S, np.array([0.0, -1.0, 1.0]) * S):
        qp = R.quat_from_axis_angle(axis, math.pi)
        got = R.quat_from_matrix(R.matrix_from_quat(qp))
        assert R.quat_angle(got, qp) < 1e-7
    np.testing.assert_allclose(R.quat_exp(R.quat_log(q)), q * np.sign(q[:, :1]), atol=1e-14)
    rv = np.random.default_rng(2).normal(size=(100, 3))
    rv *= (0.99 * math.pi / np.maximum(np.linalg.norm(rv, axis=-1, keepdims=True), math.pi))  # angles < π
    np.testing.assert_allclose(R.quat_log(R.quat_exp(rv)), rv, atol=1e-13)


def test_double_cover():
    q = _unit_quats(200, seed=4)
    v = np.random.default_rng(4).normal(size=(200, 3))
    np.testing.assert_array_equal(R.matrix_from_quat(q), R.matrix_from_quat(-q))
    np.testing.assert_allclose(R.quat_apply(-q, v), R.quat_apply(q, v), atol=1e-15)
    np.testing.assert_allclose(R.quat_log(-q), R.quat_log(q), atol=1e-15)
    np.testing.assert_array_equal(R.quat_from_matrix(R.matrix_from_quat(-q)), R.quat_from_matrix(R.matrix_from_quat(q)))
    np.testing.assert_allclose(R.quat_angle(q, -q), 0.0, atol=1e-7)
    np.testing.assert_allclose(R.yaw_quat(-q), R.yaw_quat(q), atol=1e-15)
    np.testing.assert_array_equal(T.matrix_from_quat(_t(-q)).numpy(), T.matrix_from_quat(_t(q)).numpy())


def test_non_unit_input():
    """The normalising functions give the rotation of q / ‖q‖; the rest use q as given."""
    q = _unit_quats(50, seed=6)
    k = np.random.default_rng(6).uniform(0.2, 5.0, (50, 1))
    np.testing.assert_allclose(R.matrix_from_quat(k * q), R.matrix_from_quat(q), atol=1e-14)
    np.testing.assert_allclose(R.ori6_from_quat(k * q), R.ori6_from_quat(q), atol=1e-14)
    np.testing.assert_allclose(R.quat_normalize(k * q), q, atol=1e-15)
    np.testing.assert_allclose(R.quat_log(k * q), R.quat_log(q), atol=1e-14)
    s = R.quat_slerp(k * q, 3.0 * q[::-1], 0.3)
    np.testing.assert_allclose(np.linalg.norm(s, axis=-1), 1.0, atol=1e-15)
    np.testing.assert_allclose(s, R.quat_slerp(q, q[::-1], 0.3), atol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(R.quat_nlerp(k * q, q[::-1], 0.3), axis=-1), 1.0, atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(R.quat_from_matrix(R.matrix_from_quat(k * q)), axis=-1), 1.0, atol=1e-15)
    np.testing.assert_array_equal(R.quat_normalize(np.zeros(4)), np.zeros(4))  # no NaN
    v = np.array([1.0, 0.0, 0.0])
    assert not np.allclose(R.quat_apply(2.0 * q, v), R.quat_apply(q, v))  # used as given, not normalised
    for f in (T.matrix_from_quat, T.ori6_from_quat):
        np.testing.assert_allclose(f(_t(k * q)).numpy(), f(_t(q)).numpy(), atol=1e-14)
    np.testing.assert_array_equal(T.quat_normalize(torch.zeros(4)).numpy(), np.zeros(4))


def test_wxyz_xyzw():
    q = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)  # w, x, y, z
    np.testing.assert_array_equal(R.wxyz_to_xyzw(q), [[2.0, 3.0, 4.0, 1.0]])
    np.testing.assert_array_equal(R.xyzw_to_wxyz(R.wxyz_to_xyzw(q)), q)
    assert R.wxyz_to_xyzw(q).dtype == np.float32  # a pure reordering keeps the dtype
    np.testing.assert_array_equal(T.wxyz_to_xyzw(_t(q)).numpy(), R.wxyz_to_xyzw(q))
    np.testing.assert_array_equal(T.xyzw_to_wxyz(_t(q)).numpy(), R.xyzw_to_wxyz(q))
    u = _unit_quats(20, seed=8)
    np.testing.assert_allclose(R.matrix_from_quat(u), Rotation.from_quat(R.wxyz_to_xyzw(u)).as_matrix(), atol=1e-14)
    back = R.xyzw_to_wxyz(Rotation.from_matrix(R.matrix_from_quat(u)).as_quat())
    np.testing.assert_allclose(back * np.sign(back[:, :1]), u * np.sign(u[:, :1]), atol=1e-14)


# --------------------------------------------------------------------------- numpy ↔ torch

def test_numpy_and_torch_agree_on_random_inputs():
    rng = np.random.default_rng(7)
    n = 300
    a, b = _unit_quats(n, seed=8), _unit_quats(n, seed=9)
    v = rng.normal(size=(n, 3))
    rv = rng.normal(size=(n, 3))
    axis = v / np.linalg.norm(v, axis=-1, keepdims=True)
    angle = rng.uniform(-4, 4, n)
    w = rng.uniform(0, 1, (n, 1))
    m = R.matrix_from_quat(a)
    k = rng.uniform(0.5, 2.0, (n, 1))
    cases = {
        "quat_mul": ((a, b), {}), "quat_conjugate": ((a,), {}), "quat_apply": ((a, v), {}),
        "quat_apply_inverse": ((a, v), {}), "quat_angle": ((a, b), {}), "quat_from_axis_angle": ((axis, angle), {}),
        "quat_exp": ((rv,), {}), "quat_log": ((a,), {}), "quat_slerp": ((a, b, w), {}), "quat_nlerp": ((a, b, w), {}),
        "matrix_from_quat": ((k * a,), {}), "quat_from_matrix": ((m,), {}), "ori6_from_quat": ((a,), {}),
        "matrix_from_ori6": ((rng.normal(size=(n, 6)) * 3,), {}), "yaw_quat": ((a,), {}), "quat_normalize": ((k * a,), {}), "wxyz_to_xyzw": ((a,), {}), "xyzw_to_wxyz": ((a,), {}),
    }
    shared = {n for n in dir(T) if not n.startswith("_") and callable(getattr(T, n)) and getattr(T, n).__module__ == T.__name__}
    assert shared == set(cases), shared ^ set(cases)  # every torch function is checked
    for name, (args, kw) in cases.items():
        want = getattr(R, name)(*args, **kw)
        got = getattr(T, name)(*(_t(x) for x in args), **kw)
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-13, err_msg=name)
    # torch keeps dtype and broadcasts like numpy
    q32 = _t(a.astype(np.float32))
    assert T.quat_apply(q32, _t(v.astype(np.float32))).dtype == torch.float32
    assert T.quat_from_matrix(T.matrix_from_quat(q32)).dtype == torch.float32
    np.testing.assert_allclose(T.quat_apply(_t(a[:, None]), _t(v[None, :5])).numpy(),
                               R.quat_apply(a[:, None], v[None, :5]), atol=1e-13)


def test_small_angles_are_exact_enough():
    """Near identity (where the small-angle branches of exp / log act) numpy and torch still agree."""
    tiny = np.array([[1e-13, 0.0, 0.0], [0.0, 3e-9, -2e-9], [0.0, 0.0, 0.0]])
    q = R.quat_exp(tiny)
    np.testing.assert_allclose(R.quat_log(q), tiny, rtol=1e-12, atol=1e-25)
    np.testing.assert_allclose(T.quat_log(_t(q)).numpy(), R.quat_log(q), rtol=1e-15, atol=0)
    np.testing.assert_allclose(T.quat_exp(_t(tiny)).numpy(), q, rtol=1e-15, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU and a CUDA build of torch (none here)")
def test_torch_ops_on_cuda_match_cpu():
    a, b = _t(_unit_quats(64, seed=10)).float(), _t(_unit_quats(64, seed=11)).float()
    v = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    w = torch.rand(64, 1, generator=torch.Generator().manual_seed(1))
    for name, args in {"quat_apply": (a, v), "quat_slerp": (a, b, w), "quat_nlerp": (a, b, w), "quat_log": (a,),
                       "quat_from_matrix": (T.matrix_from_quat(a),), "ori6_from_quat": (a,), "yaw_quat": (a,)}.items():
        got = getattr(T, name)(*(x.cuda() for x in args))
        assert got.is_cuda, name
        torch.testing.assert_close(got.cpu(), getattr(T, name)(*args), rtol=0, atol=2e-6, msg=name)


@pytest.mark.parametrize("yaw", [0.7, -2.5, 3.0])
def test_best_fit_yaw_recovers_a_known_heading(yaw):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(40, 3))
    c, s = math.cos(yaw), math.sin(yaw)
    b = a @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T + np.array([1.5, -2.0, 0.0])
    b[:, 2] += rng.normal(size=40)  # heights do not enter the fit
    assert R.best_fit_yaw(a, b) == pytest.approx(yaw, abs=1e-12)
    assert R.best_fit_yaw(b, a) == pytest.approx(-yaw, abs=1e-12)


def test_matrix_from_ori6_recovers_rotations_and_orthonormalises_any_output():
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(64, 4, generator=gen, dtype=torch.float64)
    q = q / q.norm(dim=-1, keepdim=True)
    m = T.matrix_from_quat(q)
    np.testing.assert_allclose(T.matrix_from_ori6(T.ori6_from_quat(q)), m, atol=1e-12)
    np.testing.assert_allclose(R.matrix_from_ori6(R.ori6_from_quat(q.numpy())), m, atol=1e-12)
    np.testing.assert_allclose(T.matrix_from_ori6(m[..., :2].flatten(-2)), m, atol=1e-12)
    raw = T.matrix_from_ori6(torch.randn(64, 6, generator=gen, dtype=torch.float64) * 5)
    np.testing.assert_allclose(raw.transpose(-1, -2) @ raw, torch.eye(3, dtype=torch.float64).expand(64, 3, 3), atol=1e-12)
    np.testing.assert_allclose(torch.linalg.det(raw), 1.0, atol=1e-12)
