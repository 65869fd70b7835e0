"""Generic kinematic trees from MJCF: names by default, limits, attached points, vs mj_kinematics."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch

from mimiclab.kernels import backends, forward_kinematics
from mimiclab.kernels.fk import attached_points
from mimiclab.robots.g1 import G1
from mimiclab.robots.kinematic_tree import KinematicTree, mjcf_site_attachments

# A free-floating base, a chain of three hinges (tilted body frames, off-origin anchors,
# non-unit axes, ranges in degrees, one unlimited hinge), a fixed branch with a site, a site on the
# last link, and a separate top-level prop that must not join the tree.
CHAIN_MJCF = """
<mujoco model="chain">
  <compiler angle="degree" autolimits="true"/>
  <worldbody>
    <body name="base" pos="0 0 1">
      <freejoint name="root"/>
      <geom type="box" size="0.1 0.1 0.1"/>
      <body name="link1" pos="0.1 0.02 -0.05" euler="10 20 30">
        <joint name="hinge1" type="hinge" axis="0 0 2" pos="0.01 0 0.02" range="-90 45"/>
        <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.02"/>
        <body name="link2" pos="0.3 0 0" quat="0.9 0.1 -0.3 0.2">
          <joint name="hinge2" type="hinge" axis="1 1 0" pos="0 0.03 0"/>
          <geom type="capsule" fromto="0 0 0 0.25 0 0" size="0.02"/>
          <body name="link3" pos="0.25 0 0" euler="-40 0 15">
            <joint name="hinge3" type="hinge" axis="0 1 0" range="-30 120"/>
            <geom type="capsule" fromto="0 0 0 0.2 0 0" size="0.02"/>
            <site name="tip" pos="0.2 0.01 -0.03"/>
          </body>
        </body>
      </body>
      <body name="sensor_mount" pos="-0.1 0 0.1" euler="0 45 0">
        <geom type="sphere" size="0.02"/>
        <site name="mount_point" pos="0.05 -0.02 0.04"/>
      </body>
    </body>
    <body name="prop" pos="2 0 0.5">
      <freejoint/>
      <geom type="box" size="0.05 0.05 0.05"/>
    </body>
  </worldbody>
</mujoco>
"""

BACKENDS = ["torch", "cpp"] + (["warp"] if backends.warp_module() is not None else [])


@pytest.fixture(scope="module")
def chain_mjcf(tmp_path_factory):
    path = tmp_path_factory.mktemp("mjcf") / "chain.xml"
    path.write_text(CHAIN_MJCF)
    return path


@pytest.fixture(scope="module")
def chain_tree(chain_mjcf):
    return KinematicTree.from_mjcf(chain_mjcf)


def _random_config(tree, n, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    root_pos = torch.randn(n, 3, generator=g, dtype=torch.float64)
    root_quat = torch.nn.functional.normalize(torch.randn(n, 4, generator=g, dtype=torch.float64), dim=-1)
    joint_pos = (torch.rand(n, tree.num_joints, generator=g, dtype=torch.float64) - 0.5) * 2 * math.pi
    return tuple(x.to(dtype) for x in (root_pos, root_quat, joint_pos))


def _mujoco_poses(path, tree, root_pos, root_quat, joint_pos, sites=()):
    """(N,B,3), (N,B,4), (N,S,3) from mj_kinematics, joints and bodies matched by name."""
    model = mujoco.MjModel.from_xml_path(str(path))
    data = mujoco.MjData(model)
    root_joint = model.body_jntadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, tree.body_names[0])]
    n = root_pos.shape[0]
    xpos, xquat = np.zeros((n, tree.num_bodies, 3)), np.zeros((n, tree.num_bodies, 4))
    site_pos = np.zeros((n, len(sites), 3))
    for i in range(n):
        adr = model.jnt_qposadr[root_joint]
        data.qpos[adr:adr + 3] = root_pos[i].double().numpy()
        data.qpos[adr + 3:adr + 7] = root_quat[i].double().numpy()
        for j, name in enumerate(tree.joint_names):
            data.qpos[model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)]] = joint_pos[i, j]
        mujoco.mj_kinematics(model, data)
        for b, name in enumerate(tree.body_names):
            bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
            xpos[i, b], xquat[i, b] = data.xpos[bid], data.xquat[bid]
        for s, name in enumerate(sites):
            site_pos[i, s] = data.site_xpos[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, name)]
    return xpos, xquat, site_pos


def test_generic_tree_takes_every_body_and_hinge_in_mjcf_order(chain_tree):
    assert chain_tree.body_names == ("base", "link1", "link2", "link3", "sensor_mount")  # no "prop"
    assert chain_tree.joint_names == ("hinge1", "hinge2", "hinge3")
    assert chain_tree.parent.tolist() == [-1, 0, 1, 2, 0]
    assert chain_tree.joint_index.tolist() == [-1, 0, 1, 2, -1]
    np.testing.assert_allclose(np.linalg.norm(chain_tree.joint_axis[1:4], axis=1), 1.0)
    np.testing.assert_allclose(chain_tree.joint_anchor[1], [0.01, 0, 0.02])


def test_limits_read_from_mjcf(chain_tree):
    np.testing.assert_allclose(chain_tree.joint_lower, np.deg2rad([-90.0, -np.inf, -30.0]))
    np.testing.assert_allclose(chain_tree.joint_upper, np.deg2rad([45.0, np.inf, 120.0]))
    assert chain_tree.joint_lower.dtype == np.float64 and chain_tree.joint_lower.shape == (3,)


def test_limits_default_to_unlimited_for_hand_built_trees(chain_tree):
    t = KinematicTree(chain_tree.body_names, chain_tree.joint_names, chain_tree.parent, chain_tree.joint_index,
                      chain_tree.local_pos, chain_tree.local_quat, chain_tree.joint_axis, chain_tree.joint_anchor)
    assert np.all(t.joint_lower == -np.inf) and np.all(t.joint_upper == np.inf)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_generic_tree_matches_mj_kinematics(chain_mjcf, chain_tree, backend, dtype):
    inputs = _random_config(chain_tree, 16, dtype, seed=1)
    pos, quat = forward_kinematics(chain_tree, *inputs, backend=backend)
    xpos, xquat, _ = _mujoco_poses(chain_mjcf, chain_tree, *inputs)
    np.testing.assert_allclose(pos.double().numpy(), xpos, atol=1e-5, rtol=0)
    same_rotation = (quat.double() * torch.from_numpy(xquat)).sum(-1).abs()  # q and -q are one rotation
    np.testing.assert_allclose(same_rotation.numpy(), 1.0, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_attached_points_match_mujoco_sites(chain_mjcf, chain_tree, dtype):
    sites = ("tip", "mount_point")
    body_index, offset = mjcf_site_attachments(chain_mjcf, chain_tree, sites)
    assert body_index.tolist() == [3, 4]
    inputs = _random_config(chain_tree, 16, dtype, seed=2)
    pos, quat = forward_kinematics(chain_tree, *inputs, backend="torch")
    points = attached_points(pos, quat, body_index, offset)
    assert points.shape == (16, 2, 3) and points.dtype == dtype
    _, _, site_pos = _mujoco_poses(chain_mjcf, chain_tree, *inputs, sites=sites)
    np.testing.assert_allclose(points.double().numpy(), site_pos, atol=1e-5, rtol=0)


def test_attached_points_on_g1_feet_sites(g1_mjcf, g1_tree):
    """A point on the ankle roll body (the feet sites of the G1 MJCF), through the C++ backend."""
    body_index, offset = mjcf_site_attachments(g1_mjcf, g1_tree, ("left_foot", "right_foot"))
    assert [g1_tree.body_names[i] for i in body_index] == ["left_ankle_roll_link", "right_ankle_roll_link"]
    inputs = _random_config(g1_tree, 4, torch.float64, seed=3)
    pos, quat = forward_kinematics(g1_tree, *inputs, backend="cpp")
    _, _, site_pos = _mujoco_poses(g1_mjcf, g1_tree, *inputs, sites=("left_foot", "right_foot"))
    np.testing.assert_allclose(attached_points(pos, quat, body_index, offset).numpy(), site_pos, atol=1e-9)


def test_attached_points_bad_inputs(chain_tree):
    pos, quat = forward_kinematics(chain_tree, *_random_config(chain_tree, 2, torch.float32), backend="torch")
    with pytest.raises(ValueError, match=r"body_index: values must lie in \[0, 5\)"):
        attached_points(pos, quat, [5], [[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"offset: expected shape \(2, 3\)"):
        attached_points(pos, quat, [0, 1], [[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="body_index: expected a 1-d integer array"):
        attached_points(pos, quat, [0.5], [[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"body_quat: expected shape \(N, B, 4\)"):
        attached_points(pos, pos, [0], [[0.0, 0.0, 0.0]])
    assert attached_points(pos, quat, np.zeros(0, np.int64), np.zeros((0, 3))).shape == (2, 0, 3)


def test_generic_tree_of_the_g1_matches_the_named_one(g1_mjcf, g1_tree):
    generic = KinematicTree.from_mjcf(g1_mjcf)
    assert generic.body_names == G1.body_names  # G1 body order is the MJCF depth-first order
    assert sorted(generic.joint_names) == sorted(G1.joint_names)
    for name, spec in zip(G1.joint_names, G1.joints):
        j = generic.joint_names.index(name)
        assert generic.joint_lower[j] == pytest.approx(spec.lower, abs=1e-4), name
        assert generic.joint_upper[j] == pytest.approx(spec.upper, abs=1e-4), name
    np.testing.assert_array_equal(g1_tree.joint_lower, [generic.joint_lower[generic.joint_names.index(n)]
                                                        for n in G1.joint_names])


def test_non_hinge_joint_is_rejected(tmp_path):
    path = tmp_path / "ball.xml"
    path.write_text(CHAIN_MJCF.replace('type="hinge" axis="1 1 0"', 'type="ball"'))
    with pytest.raises(ValueError, match="joint 'hinge2' is not a hinge"):
        KinematicTree.from_mjcf(path)
