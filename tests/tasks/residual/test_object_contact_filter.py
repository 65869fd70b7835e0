"""object_contact_reward counts contact with the object only (issue 14).

Mimic-Residual-Box-G1 built by Isaac Lab on the CPU (one simulation for the module), real MuJoCo
contacts: the G1 is dropped face down so that its left hand lands on the box (the hand presses on
the box), or lands on the ground with the box 1.5 m away. The scene's ``object_contact_forces``
sensor (filtered against the object) reads the box's force only; the tracking scene's unfiltered
``contact_forces`` reads the ground's too. The first tests need no simulation.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch

from mimiclab.tasks.residual import mdp

TASK = "Mimic-Residual-Box-G1"
NUM_ENVS = 4
HAND = "left_wrist_yaw_link"  # labelled in contact (with the right wrist) in the clip's second half
SETTLE, WINDOW = 100, 50  # physics steps (5 ms): the fall, then the measured window


# -- the term on hand-made sensors (no simulation) -----------------------------------------------

def _fake_env(matrix, contact_bodies=("a", "b"), labels=None):
    n = matrix.shape[0] if matrix is not None else 1
    labels = torch.ones(n, len(contact_bodies)) if labels is None else labels
    cmd = SimpleNamespace(object_contact_bodies=list(contact_bodies), object_ref_contacts=labels)
    data = SimpleNamespace(force_matrix_w=None if matrix is None else SimpleNamespace(torch=matrix))
    sensor = SimpleNamespace(sensor_names=["a", "b", "c"], data=data)
    return SimpleNamespace(num_envs=n, device="cpu", scene=SimpleNamespace(sensors={"s": sensor}),
                           command_manager=SimpleNamespace(get_term=lambda name: cmd))


def _term(env):
    from isaaclab.managers import RewardTermCfg, SceneEntityCfg

    params = {"command_name": "motion", "lam": 10.0, "sensor_cfg": SceneEntityCfg("s")}
    cfg = RewardTermCfg(func=mdp.object_contact_reward, weight=1.0, params=params)
    return mdp.object_contact_reward(cfg, env), params


def test_forces_are_the_sum_of_magnitudes_over_the_filter_bodies():
    """f_i = Σ_j ‖F_ij‖: two filter bodies pushing body a from opposite sides add up (their vector sum
    would be 0); the forces of an unlabelled sensor body (c) are not read."""
    m = torch.zeros(2, 3, 2, 3)  # (envs, sensor bodies a b c, filter bodies, xyz)
    m[0, 0, 0] = torch.tensor([0.0, 0.0, 6.0])
    m[0, 0, 1] = torch.tensor([0.0, 0.0, -8.0])  # a: 6 + 8 = 14 N
    m[0, 1, 1] = torch.tensor([3.0, 4.0, 0.0])  # b: 5 N
    m[1, 2, 0] = torch.tensor([100.0, 0.0, 0.0])  # env 1: only c, which is not a contact body
    env = _fake_env(m)
    term, params = _term(env)
    r = term(env, **params)
    want = mdp.contact_reward(torch.ones(1, 2), torch.tensor([[14.0, 5.0]]), 10.0)
    torch.testing.assert_close(r[0], want[0])
    assert r[1] == 0.0


def test_a_sensor_without_a_filter_is_refused():
    with pytest.raises(ValueError, match="no contact filter"):
        _term(_fake_env(None))
    with pytest.raises(ValueError, match="no contact filter"):
        _term(_fake_env(torch.zeros(1, 3, 0, 3)))  # a filter that matched no body


# -- real contacts --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def env(box_clip, make_residual_cfg):
    cfg = make_residual_cfg([box_clip], NUM_ENVS, TASK)
    cfg.commands.motion.assist.enabled = False  # no virtual wrench on the box: contacts alone move it
    # no startup randomisation (friction, masses, CoM, joint offsets): the same contacts every run,
    # whatever earlier tests drew from the global RNG
    for name in ("physics_material", "add_joint_default_pos", "base_com", "object_mass", "object_material",
                 "object_com"):
        setattr(cfg.events, name, None)
    env = gym.make(TASK, cfg=cfg)
    env.reset(seed=0)
    yield env.unwrapped
    env.close()


def _label_hands(env, mujoco_twin, in_contact: bool) -> None:
    """Point the reference at the clip's end (wrists labelled in contact) or its start (no labels)."""
    mujoco_twin.set_reference_steps(env, [10_000 if in_contact else 0] * env.num_envs, torch.Generator())
    c = env.command_manager.get_term("motion")
    col = c.object_contact_bodies.index(HAND)
    assert (c.object_ref_contacts[:, col] == (1.0 if in_contact else 0.0)).all()


def _drop_face_down(env, physics_step, mujoco_twin, *, box_under_hand: bool) -> dict[str, torch.Tensor]:
    """Reset (hands then labelled in contact); the G1 in its default pose, face down, pelvis `height`
    above the ground, falls for SETTLE steps, then WINDOW steps are recorded: the hand's filtered force
    Σ_j‖F_j‖ and unfiltered net force ‖F‖ [N] (WINDOW, N), the object_contact reward after each step,
    and the reward the unfiltered sensor's forces would give."""
    from isaaclab.utils.math import quat_from_euler_xyz

    env.reset()
    _label_hands(env, mujoco_twin, in_contact=True)
    robot, obj = env.scene["robot"], env.scene["object"]
    n, origins = env.num_envs, env.scene.env_origins
    default = robot.data.default_joint_pos.torch.clone()
    robot.write_joint_state_to_sim_index(position=default, velocity=torch.zeros_like(default))
    robot.actuators.target_command.set_position_index(value=default)  # PD targets: the default pose
    pose = robot.data.root_link_pose_w.torch.clone()
    height = 0.35 if box_under_hand else 0.15  # m; the hand starts 5 cm above the box / the ground
    pose[:, :3] = origins + torch.tensor([0.0, 0.0, height])
    pose[:, 3:] = quat_from_euler_xyz(torch.zeros(n), torch.full((n,), math.pi / 2), torch.zeros(n))
    robot.write_root_pose_to_sim_index(root_pose=pose)
    robot.write_root_velocity_to_sim_index(root_velocity=torch.zeros(n, 6))
    size = env.command_manager.get_term("motion").object_spec.size
    upright = torch.tensor([[0.0, 0.0, 0.0, 1.0]]).expand(n, 4)
    on_ground = origins[:, 2] + 0.5 * size[2] + 1e-3
    away = torch.stack([origins[:, 0], origins[:, 1] + 1.5, on_ground], -1)
    obj.write_root_pose_to_sim_index(root_pose=torch.cat([away, upright], -1))
    obj.write_root_velocity_to_sim_index(root_velocity=torch.zeros(n, 6))
    physics_step(env)  # forward kinematics of the new pose: where the hand is
    hand = robot.body_names.index(HAND)
    if box_under_hand:
        p = robot.data.body_link_pos_w.torch[:, hand]
        obj.write_root_pose_to_sim_index(root_pose=torch.cat([torch.stack([p[:, 0], p[:, 1], on_ground], -1),
                                                              upright], -1))
        obj.write_root_velocity_to_sim_index(root_velocity=torch.zeros(n, 6))
    filtered, net = env.scene["object_contact_forces"], env.scene["contact_forces"]
    term = env.reward_manager.get_term_cfg("object_contact")
    out = {"filtered": [], "net": [], "reward": [], "net_reward": []}
    for k in range(SETTLE + WINDOW):
        physics_step(env)
        if k < SETTLE:
            continue
        out["filtered"].append(filtered.data.force_matrix_w.torch[:, hand].norm(dim=-1).sum(-1))
        out["net"].append(net.data.net_forces_w.torch[:, hand].norm(dim=-1))
        out["reward"].append(term.func(env, **term.params))
        c = env.command_manager.get_term("motion")
        f = net.data.net_forces_w.torch[:, [robot.body_names.index(b) for b in c.object_contact_bodies]]
        out["net_reward"].append(mdp.contact_reward(c.object_ref_contacts, f.norm(dim=-1), term.params["lam"]))
    return {k: torch.stack(v) for k, v in out.items()}


def test_the_object_sensor_is_filtered_against_the_object(env):
    sensor = env.scene["object_contact_forces"]
    assert sensor.filter_object_names == ["Object"]
    assert sensor.sensor_names == env.scene["robot"].body_names
    assert sensor.data.force_matrix_w.torch.shape == (NUM_ENVS, len(sensor.sensor_names), 1, 3)
    assert env.reward_manager.get_term_cfg("object_contact").params["sensor_cfg"].name == "object_contact_forces"
    assert not env.scene["contact_forces"].cfg.filter_prim_paths_expr  # the tracking terms' sensor is unchanged


def test_hand_pressing_on_the_box_is_rewarded(env, physics_step, mujoco_twin):
    m = _drop_face_down(env, physics_step, mujoco_twin, box_under_hand=True)
    f, net, r = m["filtered"], m["net"], m["reward"]
    print(f"\nhand on the box: filtered {f.mean(0).tolist()} N, unfiltered {net.mean(0).tolist()} N (window "
          f"means); reward {r.mean(0).tolist()}")
    assert (f.mean(0) > 5.0).all(), f.mean(0)  # the hand presses on the box (≈ 10–20 N)
    # the hand touches the box only (not the ground): the filter passes the object's force whole
    torch.testing.assert_close(f, net, atol=1e-3, rtol=1e-3)
    # the reward earns whenever the box pushes on the labelled hand, and does so most of the window
    assert (r[f > 0] > 0).all() and (r.mean(0) > 0.1).all(), r.mean(0)
    # the same contact with the hand unlabelled (the clip's first half) earns nothing
    _label_hands(env, mujoco_twin, in_contact=False)
    term = env.reward_manager.get_term_cfg("object_contact")
    assert (term.func(env, **term.params) == 0).all()


def test_hand_on_the_ground_earns_nothing(env, physics_step, mujoco_twin):
    m = _drop_face_down(env, physics_step, mujoco_twin, box_under_hand=False)
    f, net = m["filtered"], m["net"]
    print(f"\nhand on the ground: filtered max {f.max().item():.3g} N, unfiltered {net.mean(0).tolist()} N "
          f"(window means); unfiltered reward would be {m['net_reward'].mean(0).tolist()}")
    assert (net.mean(0) > 5.0).all(), net.mean(0)  # the hand is on the ground (≈ 13–20 N)
    assert f.abs().max() < 1e-6
    assert (m["reward"] == 0).all()
    assert (m["net_reward"].mean(0) > 0.1).all()  # what the unfiltered sensor would have paid


def test_filtered_force_is_mujocos_hand_box_contact_force(env, physics_step, mujoco_twin):
    """On the MuJoCo-C backend: the force matrix entry (hand, box) equals the sum of mj_contactForce over
    the contacts between the hand's geoms and the box's, world by world (what the adapter feeds Newton)."""
    import mujoco

    from mimiclab.tasks.physics_mujoco_cpu import MuJoCoCSolver

    solver = env.sim.physics_manager._solver
    if not isinstance(solver, MuJoCoCSolver):
        pytest.skip(f"physics backend {type(solver).__name__}, not MuJoCo C")
    _drop_face_down(env, physics_step, mujoco_twin, box_under_hand=True)
    model = env.sim.physics_manager.get_model()
    labels, shape_body = list(model.body_label), model.shape_body.numpy()
    g2s = solver.mjc_geom_to_newton_shape.numpy()
    hand = env.scene["robot"].body_names.index(HAND)
    matrix = env.scene["object_contact_forces"].data.force_matrix_w.torch[:, hand, 0].double().numpy()
    f6 = np.zeros(6)
    touching = 0
    for w, (m, d) in enumerate(zip(solver.mj_models, solver.mj_datas)):

        def owner(geom: int) -> str:
            shape = g2s[w, geom]
            return labels[shape_body[shape]] if shape >= 0 and shape_body[shape] >= 0 else ""

        want = np.zeros(3)
        for k in range(d.ncon):
            a, b = (owner(int(g)) for g in d.contact.geom[k])
            pair = {a.split("/")[-1], b.split("/")[-1]}
            if pair != {HAND, "Object"} or f"env_{w}/" not in a:
                continue
            mujoco.mj_contactForce(m, d, k, f6)
            on_geom2 = d.contact.frame[k].reshape(3, 3).T @ f6[:3]  # world frame, acting on geom 2
            want += on_geom2 if b.endswith("/" + HAND) else -on_geom2
        touching += int(np.linalg.norm(want) > 1.0)
        np.testing.assert_allclose(matrix[w], want, rtol=1e-3, atol=1e-2, err_msg=f"world {w}")
    print(f"\nMuJoCo C parity: {touching} of {NUM_ENVS} worlds with hand-box contact > 1 N at the last step")
    assert touching >= NUM_ENVS // 2, touching  # the comparison is about real hand-box contacts
