"""Forward kinematics: torch reference against MuJoCo, every compiled backend against the reference."""

from __future__ import annotations

import shutil

import mujoco
import numpy as np
import pytest
import torch

from mimiclab.kernels import backend_report, forward_kinematics
from mimiclab.kernels.backends import cuda_device_count
from mimiclab.robots.g1 import G1


def _random_inputs(tree, n, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    root_pos = torch.randn(n, 3, generator=g, dtype=dtype)
    root_quat = torch.nn.functional.normalize(torch.randn(n, 4, generator=g, dtype=dtype), dim=-1)
    lo = torch.tensor([j.lower for j in G1.joints], dtype=dtype)
    hi = torch.tensor([j.upper for j in G1.joints], dtype=dtype)
    joint_pos = lo + (hi - lo) * torch.rand(n, tree.num_joints, generator=g, dtype=dtype)
    return root_pos, root_quat, joint_pos


def _same_rotation(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """|<q1, q2>| == 1 for equal rotations (q and -q are the same rotation)."""
    return (q1 * q2).sum(-1).abs()


def test_reference_matches_mujoco(g1_mjcf, g1_tree):
    model = mujoco.MjModel.from_xml_path(str(g1_mjcf))
    data = mujoco.MjData(model)
    root_pos, root_quat, joint_pos = _random_inputs(g1_tree, 8)
    body_pos, body_quat = forward_kinematics(g1_tree, root_pos, root_quat, joint_pos, backend="torch")
    for n in range(8):
        data.qpos[:3] = root_pos[n].numpy()
        data.qpos[3:7] = root_quat[n].numpy()
        for j, name in enumerate(G1.joint_names):  # by name, not by MuJoCo's qpos order
            data.qpos[model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)]] = joint_pos[n, j]
        mujoco.mj_kinematics(model, data)
        for b, name in enumerate(G1.body_names):
            bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
            np.testing.assert_allclose(body_pos[n, b].numpy(), data.xpos[bid], atol=1e-9, err_msg=name)
            assert _same_rotation(body_quat[n, b], torch.from_numpy(data.xquat[bid].copy())) == pytest.approx(1.0, abs=1e-9)


def test_default_pose_stands_on_the_ground(g1_tree):
    """With the pelvis at the default height, the feet's sole capsules (25 mm below the ankle roll
    origin, 10 mm radius) touch z = 0 within 4 cm: a wrong axis or sign would lift or bury them."""
    root_pos = torch.tensor([[0.0, 0.0, G1.default_root_height]], dtype=torch.float64)
    root_quat = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    joint_pos = torch.tensor([[j.default_pos for j in G1.joints]], dtype=torch.float64)
    body_pos, _ = forward_kinematics(g1_tree, root_pos, root_quat, joint_pos, backend="torch")
    for foot in G1.foot_bodies:
        sole_z = body_pos[0, G1.body_names.index(foot), 2].item() - 0.035
        assert abs(sole_z) < 0.04, (foot, sole_z)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 2e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("n", [1, 7, 1000])
def test_cpp_matches_reference(g1_tree, dtype, tol, n):
    inputs = _random_inputs(g1_tree, n, dtype=dtype, seed=n)
    ref_pos, ref_quat = forward_kinematics(g1_tree, *inputs, backend="torch")
    pos, quat = forward_kinematics(g1_tree, *inputs, backend="cpp")
    assert pos.dtype == dtype and pos.shape == (n, 30, 3) and quat.shape == (n, 30, 4)
    torch.testing.assert_close(pos, ref_pos, atol=tol, rtol=0)
    torch.testing.assert_close(quat, ref_quat, atol=tol, rtol=0)


def test_cpp_is_bitwise_deterministic_across_thread_counts(g1_tree):
    inputs = _random_inputs(g1_tree, 3000, dtype=torch.float32, seed=3)
    one = forward_kinematics(g1_tree, *inputs, backend="cpp", num_threads=1)
    many = forward_kinematics(g1_tree, *inputs, backend="cpp", num_threads=2)
    assert torch.equal(one[0], many[0]) and torch.equal(one[1], many[1])


def test_bad_inputs_fail_with_named_errors(g1_tree):
    rp, rq, jp = _random_inputs(g1_tree, 4, dtype=torch.float32)
    with pytest.raises(ValueError, match="joint_pos: expected shape"):
        forward_kinematics(g1_tree, rp, rq, jp[:, :28], backend="cpp")
    with pytest.raises(ValueError, match="root_quat: expected dtype float32"):
        forward_kinematics(g1_tree, rp, rq.double(), jp, backend="cpp")
    with pytest.raises(ValueError, match="joint_pos: expected dtype float32"):
        forward_kinematics(g1_tree, rp, rq, jp.to(torch.int32), backend="cpp")
    nan = jp.clone()
    nan[1, 3] = float("nan")
    with pytest.raises(ValueError, match="joint_pos: contains NaN"):
        forward_kinematics(g1_tree, rp, rq, nan, backend="cpp")
    with pytest.raises(ValueError, match="unknown backend"):
        forward_kinematics(g1_tree, rp, rq, jp, backend="fortran")
    with pytest.raises(ValueError, match="cuda tensors"):
        forward_kinematics(g1_tree, rp, rq, jp, backend="cuda")


def test_cpp_binding_validates_buffers_itself(g1_tree):
    """The compiled side re-checks shapes/dtypes so a wrong direct call cannot read out of bounds."""
    from mimiclab import _C
    from mimiclab.kernels.buffers import as_buffer
    from mimiclab.kernels.fk import tree_tensors

    rp, rq, jp = _random_inputs(g1_tree, 4, dtype=torch.float32)
    t = {k: as_buffer(k, v) for k, v in tree_tensors(g1_tree, "cpu", torch.float32).items() if not k.startswith("_")}
    out_pos, out_quat = torch.empty(4, 30, 3), torch.empty(4, 29, 4)
    with pytest.raises(ValueError, match=r"body_quat: expected shape \(4, 30, 4\), got \(4, 29, 4\)"):
        _C.fk_forward(t, as_buffer("rp", rp), as_buffer("rq", rq), as_buffer("jp", jp),
                      as_buffer("bp", out_pos), as_buffer("bq", out_quat))
    bad = dict(t)
    out_of_range = torch.full((30,), 40, dtype=torch.int32)  # kept alive: buffers are raw pointers
    bad["joint_index"] = as_buffer("ji", out_of_range)
    with pytest.raises(ValueError, match="joint_index: body 0 refers to joint column 40"):
        _C.fk_forward(bad, as_buffer("rp", rp), as_buffer("rq", rq), as_buffer("jp", jp),
                      as_buffer("bp", out_pos), as_buffer("bq", torch.empty(4, 30, 4)))


def test_cuda_module_built_whenever_nvcc_is_on_path():
    report = backend_report()
    if shutil.which("nvcc") is None:
        pytest.skip("nvcc is not on PATH: the CUDA module is optional here")
    assert report["cuda"]["built"], f"nvcc is on PATH but mimiclab._C_cuda was not built: {report['cuda']['detail']}"
    from mimiclab import _C, _C_cuda

    for kernel in ("fk_forward", "ik_solve", "pointcloud_distance", "pointcloud_nearest"):
        assert hasattr(_C, kernel) and hasattr(_C_cuda, kernel), kernel


@pytest.mark.gpu
@pytest.mark.skipif(cuda_device_count() == 0 or not torch.cuda.is_available(),
                    reason="needs a CUDA GPU and a CUDA build of torch (none here)")
@pytest.mark.parametrize("dtype, tol", [(torch.float32, 2e-5), (torch.float64, 1e-12)])
def test_cuda_matches_reference(g1_tree, dtype, tol):
    inputs = _random_inputs(g1_tree, 5000, dtype=dtype, seed=5)
    ref_pos, ref_quat = forward_kinematics(g1_tree, *inputs, backend="torch")
    pos, quat = forward_kinematics(g1_tree, *(x.cuda() for x in inputs), backend="cuda")
    torch.testing.assert_close(pos.cpu(), ref_pos, atol=tol, rtol=0)
    torch.testing.assert_close(quat.cpu(), ref_quat, atol=tol, rtol=0)
