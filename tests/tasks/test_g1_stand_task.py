"""Mimic-Stand-G1 through Isaac Lab's own machinery: entry point, gym.make on cpu, a real drop."""

from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
import torch

from mimiclab.kernels import forward_kinematics
from mimiclab.robots.foot_geometry import FootCapsules
from mimiclab.robots.g1 import G1

TASK = "Mimic-Stand-G1"


def _registered_through_entry_point() -> None:
    eps = [ep for ep in md.entry_points(group="isaaclab.tasks") if ep.name == "mimiclab"]
    assert len(eps) == 1, "mimiclab is not in the isaaclab.tasks entry-point group"
    eps[0].load()  # what Isaac Lab's launcher does


@pytest.fixture(scope="module")
def env(num_envs):
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    from mimiclab.tasks.physics import configure_device

    _registered_through_entry_point()
    cfg = parse_env_cfg(TASK, device="cpu", num_envs=num_envs)
    configure_device(cfg.sim, "cpu")
    env = gym.make(TASK, cfg=cfg)
    env.reset(seed=0)
    yield env.unwrapped
    env.close()


def test_registered_task_spawns_the_g1_standing_on_the_ground(num_envs):
    """Built exactly as Isaac Lab's registry does (parse_env_cfg, no overrides): at reset the pelvis
    is at the standing height (it used to spawn 0.793 m higher — the MJCF's pelvis offset baked
    into the USD — and drop onto the ground at 4 m/s) and the feet rest on the ground."""
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    _registered_through_entry_point()
    cfg = parse_env_cfg(TASK, device="cpu", num_envs=num_envs)
    env = gym.make(TASK, cfg=cfg)
    try:
        env.reset(seed=0)
        robot = env.unwrapped.scene["robot"]
        pelvis_z = robot.data.root_link_pose_w.torch[:, 2]
        assert (pelvis_z - G1.default_root_height).abs().max() < 0.02, pelvis_z
        ankles = robot.find_bodies(["left_ankle_roll_link", "right_ankle_roll_link"], preserve_order=True)[0]
        ankle_z = robot.data.body_link_pose_w.torch[:, ankles, 2]
        assert ((ankle_z > 0.015) & (ankle_z < 0.07)).all(), ankle_z  # soles (3.5 cm below) on the ground
        for _ in range(5):
            env.step(torch.zeros(num_envs, len(G1.joint_names)))
        assert robot.data.root_link_vel_w.torch[:, 2].abs().max() < 0.5  # settling, not falling
    finally:
        env.close()


def test_task_is_registered_through_the_isaaclab_entry_point():
    _registered_through_entry_point()
    spec = gym.spec(TASK)
    assert spec.kwargs["env_cfg_entry_point"].endswith(":G1StandEnvCfg")
    assert spec.kwargs["rsl_rl_cfg_entry_point"].endswith(":G1StandPPORunnerCfg")


def test_physics_is_newton_mjwarp_on_cpu(env):
    from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

    assert env.device == "cpu"
    assert isinstance(env.cfg.sim.physics, NewtonCfg)
    assert isinstance(env.cfg.sim.physics.solver_cfg, MJWarpSolverCfg)
    assert env.cfg.sim.physics.solver_cfg.integrator == "implicitfast"


def test_actions_are_in_g1_order_with_per_joint_scale(env, num_envs):
    term = env.action_manager.get_term("joint_pos")
    assert [env.scene["robot"].joint_names[i] for i in term._joint_ids] == list(G1.joint_names)
    torch.testing.assert_close(term._scale[0].cpu(), torch.tensor([j.action_scale for j in G1.joints]))
    obs, reward, terminated, truncated, _ = env.step(torch.zeros(num_envs, G1.num_joints))
    # base ang vel 3 + gravity 3 + joint pos 29 + joint vel 29 + last action 29
    assert obs["policy"].shape == (num_envs, 93)
    assert torch.isfinite(obs["policy"]).all() and torch.isfinite(reward).all()


def _standing_root_height(feet: FootCapsules, tree) -> float:
    """Pelvis height at which the default pose's lowest sole point touches z = 0 (FK on the MJCF tree)."""
    root_pos = torch.zeros(1, 3, dtype=torch.float64)
    root_quat = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    joint_pos = torch.tensor([[j.default_pos for j in G1.joints]], dtype=torch.float64)
    pos, quat = forward_kinematics(tree, root_pos, root_quat, joint_pos)
    ids = [G1.body_names.index(b) for b in G1.foot_bodies]
    return -feet.sole_heights(pos[:, ids], quat[:, ids]).min().item()


def _place_upright_at_rest(env, pelvis_z: float) -> torch.Tensor:
    """Every env's G1 upright in the default pose with the pelvis at `pelvis_z` [m], at rest, PD
    targets the default pose (no feed-forward); returns the default joint positions (N, J)."""
    robot = env.scene["robot"]
    n = env.num_envs
    q0 = robot.data.default_joint_pos.torch.clone()
    pose = torch.zeros(n, 7)
    pose[:, :2] = env.scene.env_origins[:, :2]
    pose[:, 2] = pelvis_z
    pose[:, 6] = 1.0  # identity, XYZW
    robot.write_root_pose_to_sim_index(root_pose=pose)
    robot.write_root_velocity_to_sim_index(root_velocity=torch.zeros(n, 6))
    robot.write_joint_position_to_sim_index(position=q0)
    robot.write_joint_velocity_to_sim_index(velocity=torch.zeros_like(q0))
    robot.actuators.target_command.set_position_index(value=q0)
    robot.actuators.target_command.set_velocity_index(value=torch.zeros_like(q0))
    robot.actuators.target_command.set_effort_index(value=torch.zeros_like(q0))
    env.scene.update(dt=0.0)
    return q0


def test_free_g1_dropped_from_5cm_lands_upright(env, num_envs, physics_step, g1_mjcf, g1_tree):
    from isaaclab.utils.math import convert_quat

    robot = env.scene["robot"]
    feet = FootCapsules.from_mjcf(g1_mjcf, G1.foot_bodies)
    foot_ids = [robot.body_names.index(b) for b in G1.foot_bodies]
    stand_z = _standing_root_height(feet, g1_tree)
    assert 0.7 < stand_z < 0.8

    _place_upright_at_rest(env, stand_z + 0.05)

    def soles() -> torch.Tensor:
        pos = robot.data.body_link_pos_w.torch[:, foot_ids]
        quat = convert_quat(robot.data.body_link_quat_w.torch[:, foot_ids], to="wxyz")
        return feet.sole_heights(pos, quat)

    assert soles().min() == pytest.approx(0.05, abs=2e-3)  # really 5 cm above the ground
    lowest, touched = float("inf"), False
    for _ in range(int(round(0.5 / env.physics_dt))):
        physics_step(env)
        data = robot.data
        assert torch.isfinite(data.joint_pos.torch).all() and torch.isfinite(data.root_pos_w.torch).all()
        sole = soles()
        lowest = min(lowest, sole.min().item())
        touched |= bool((sole < 0.005).all())
        pelvis_z = data.root_pos_w.torch[:, 2]
        assert ((pelvis_z > 0.6) & (pelvis_z < 0.85)).all(), f"pelvis height {pelvis_z.tolist()}"
        tilt = (data.projected_gravity_b.torch - torch.tensor([0.0, 0.0, -1.0])).norm(dim=-1)
        assert (tilt < 0.2).all(), f"gravity in body frame off straight down by {tilt.max():.3f}"
    assert touched, "the feet never reached the ground"
    assert lowest > -0.01, f"feet penetrated the ground by {-lowest * 100:.1f} cm"


def test_isaaclab_train_finds_and_trains_the_task(tmp_path):
    """`isaaclab train --rl_library rsl_rl --task Mimic-Stand-G1 --device cpu` end to end (2 iterations)."""
    exe = Path(sys.executable).with_name("isaaclab")
    res = subprocess.run([str(exe), "train", "--rl_library", "rsl_rl", "--task", TASK, "--device", "cpu",
                          "--num_envs", "2", "--max_iterations", "2"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, env={**os.environ})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    checkpoints = sorted(p.name for p in tmp_path.glob("logs/rsl_rl/g1_stand/*/model_*.pt"))
    assert checkpoints == ["model_0.pt", "model_1.pt"], checkpoints


def test_drop_pelvis_height_matches_sim2sim_mujoco(env, num_envs, physics_step, g1_mjcf, g1_tree, mujoco_twin):
    """Issue #6 parity (a): a free G1 dropped from 5 cm onto the ground under PD toward the default pose:
    the pelvis height over the first 0.5 s agrees between Isaac Lab (Newton) and the sim2sim MuJoCo model."""
    import mujoco
    import numpy as np

    from mimiclab.sim2sim.model import RobotIndex, build_model

    robot = env.scene["robot"]
    feet = FootCapsules.from_mjcf(g1_mjcf, G1.foot_bodies)
    z0 = _standing_root_height(feet, g1_tree) + 0.05
    q0 = _place_upright_at_rest(env, z0)

    contract = mujoco_twin.g1_contract_from_table()
    model = build_model(contract)
    data = mujoco.MjData(model)
    index = RobotIndex(model, contract.joint_names)
    names = list(robot.joint_names)
    order = [names.index(j) for j in contract.joint_names]
    data.qpos[index.root_qpos] = [0.0, 0.0, z0, 1.0, 0.0, 0.0, 0.0]
    data.qpos[index.qpos_adr] = q0[0, order].double().numpy()
    data.ctrl[index.actuator_of_joint] = q0[0, order].double().numpy()
    isaac, twin = [], []
    for _ in range(int(round(0.5 / env.physics_dt))):
        physics_step(env)
        mujoco.mj_step(model, data)
        isaac.append(float(robot.data.root_pos_w.torch[0, 2]))
        twin.append(float(data.qpos[index.root_qpos][2]))
    isaac, twin = np.array(isaac), np.array(twin)
    assert isaac.min() < z0 - 0.04  # it really fell onto the ground
    err = np.abs(isaac - twin)
    assert err.max() < DROP_PARITY_TOL_M, (f"pelvis height differs by up to {err.max() * 1000:.4f} mm at "
                                           f"t = {(err.argmax() + 1) * env.physics_dt:.3f} s")


DROP_PARITY_TOL_M = 1e-4  # measured here: 3e-7 m
