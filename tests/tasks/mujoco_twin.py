"""The sim2sim MuJoCo side of the Isaac Lab ↔ MuJoCo parity tests (issue #6, deliverable 4)."""

from __future__ import annotations

import contextlib

import numpy as np


def g1_contract_from_table():
    """The G1 contract built from the robot table (what the Isaac Lab articulation also uses)."""
    from mimiclab.deploy.contract import Contract, ObservationTerm
    from mimiclab.robots.g1 import G1

    def per(attr):
        return tuple(float(getattr(j, attr)) for j in G1.joints)

    return Contract(robot=G1.name, task="parity", joint_names=G1.joint_names, kp=per("kp"), kd=per("kd"),
                    armature=tuple(j.actuator.armature for j in G1.joints),
                    effort_limit=tuple(j.actuator.effort_limit for j in G1.joints),
                    action_scale=per("action_scale"), action_offset=per("default_pos"),
                    default_joint_pos=per("default_pos"),
                    observations=(ObservationTerm("joint_pos", 29, 0, ("joint_pos",), "joint positions"),),
                    reference_inputs=(), anchor_body="torso_link", base_body="pelvis",
                    tracked_bodies=("pelvis", "torso_link"), end_effectors=("torso_link",), termination_thresholds={},
                    future_offsets=(1,), physics_dt=0.005, decimation=4, proprioceptive=True)


def fixed_root_model(contract, height: float):
    """The sim2sim G1 (contract gains, armature, effort limits) with the pelvis welded at `height` [m],
    no contacts (the Isaac Lab actuator scene has no self-collisions and no ground in reach)."""
    import mujoco

    from mimiclab.robots.mujoco_model import g1_mujoco_spec

    overrides = {j: {"kp": kp, "kd": kd, "armature": a, "effort_limit": e} for j, kp, kd, a, e in
                 zip(contract.joint_names, contract.kp, contract.kd, contract.armature, contract.effort_limit)}
    spec = g1_mujoco_spec(timestep=contract.physics_dt, joint_overrides=overrides, joint_order=contract.joint_names)
    pelvis = spec.body("pelvis")
    for joint in list(pelvis.joints):
        if joint.type == mujoco.mjtJoint.mjJNT_FREE:
            spec.delete(joint)
    pelvis.pos = [0.0, 0.0, height]
    for geom in spec.geoms:
        geom.contype, geom.conaffinity = 0, 0
    return spec.compile()


def joint_addresses(model, names):
    import mujoco

    ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names]
    assert min(ids) >= 0
    return np.array([model.jnt_qposadr[i] for i in ids]), np.array([model.jnt_dofadr[i] for i in ids])


def scramble_robot(env, g, base_height: float = 0.8) -> None:
    """Every env's G1 in a tilted, yawed, moving state with perturbed joints (for observation parity)."""
    import torch
    from isaaclab.utils.math import quat_from_euler_xyz

    robot = env.scene["robot"]
    n = env.num_envs
    pos = env.scene.env_origins + torch.tensor([0.1, -0.2, base_height])
    quat = quat_from_euler_xyz(torch.full((n,), 0.1), torch.full((n,), -0.15), torch.linspace(-2.5, 2.5, n))
    robot.write_root_pose_to_sim_index(root_pose=torch.cat([pos, quat], -1))
    robot.write_root_velocity_to_sim_index(root_velocity=torch.randn(n, 6, generator=g))
    q = robot.data.default_joint_pos.torch + 0.1 * torch.randn(n, 29, generator=g)
    lim = robot.data.joint_pos_limits.torch
    robot.write_joint_position_to_sim_index(position=torch.clamp(q, lim[..., 0], lim[..., 1]))
    robot.write_joint_velocity_to_sim_index(velocity=torch.randn(n, 29, generator=g))


def set_reference_steps(env, steps, g):
    """Env i tracks clip i mod C at control step steps[i] (clamped to the clip end), with a random last
    action; returns the clip ids (N,)."""
    import torch

    cmd = env.command_manager.get_term("motion")
    lib = cmd.library
    clip_ids = torch.tensor([i % lib.num_clips for i in range(env.num_envs)])
    cmd.clip_ids[:] = clip_ids
    cmd.start_times[:] = torch.minimum(torch.tensor(steps, dtype=torch.float32) * env.step_dt,
                                       lib.duration[clip_ids].float())
    cmd.start_steps[:] = env.common_step_counter  # the command's clock: zero steps since the start
    cmd._version += 1
    env.action_manager._action[:] = torch.randn(env.num_envs, 29, generator=g)
    return clip_ids


def policy_terms(env) -> dict:
    """The Isaac Lab actor observation terms, each evaluated without noise: {name: (N, dim)}."""
    om = env.observation_manager
    return {name: cfg.func(env, **cfg.params) for name, cfg in
            zip(om.active_terms["policy"], om._group_obs_term_cfgs["policy"])}


def group_terms(env, group_cfg) -> dict:
    """Every term of an observation-group cfg (an ``ObsGroup`` instance, None terms skipped), evaluated on
    `env` without noise, in the group's order: {name: (N, dim)} (another actor's terms on the same state)."""
    return {name: cfg.func(env, **cfg.params) for name, cfg in group_cfg.__dict__.items()
            if cfg is not None and hasattr(cfg, "func")}


@contextlib.contextmanager
def noise_free(env, group: str = "policy"):
    """The observation manager computes `group` without its noise models inside the block."""
    cfgs = env.observation_manager._group_obs_term_cfgs[group]
    saved = [c.noise for c in cfgs]
    for c in cfgs:
        c.noise = None
    try:
        yield
    finally:
        for c, n in zip(cfgs, saved):
            c.noise = n


def robot_state(env, i: int):
    """sim2sim's RobotState of env i's G1 (positions relative to the env origin, quaternions wxyz)."""
    from mimiclab.rotations.numpy_ops import quat_apply_inverse
    from mimiclab.deploy.observations import RobotState

    robot = env.scene["robot"]
    data = robot.data
    anchor = robot.body_names.index("torso_link")
    wxyz = lambda x: np.roll(x.double().numpy(), 1)  # noqa: E731  (Isaac Lab XYZW → wxyz)
    base_quat = wxyz(data.root_link_quat_w.torch[i])
    return RobotState(
        joint_pos=data.joint_pos.torch[i].double().numpy(), joint_vel=data.joint_vel.torch[i].double().numpy(),
        base_quat_w=base_quat,
        base_ang_vel_b=quat_apply_inverse(base_quat, data.root_link_ang_vel_w.torch[i].double().numpy()),
        anchor_pos_w=(data.body_link_pos_w.torch[i, anchor] - env.scene.env_origins[i]).double().numpy(),
        anchor_quat_w=wxyz(data.body_link_quat_w.torch[i, anchor]))


def runtime_of(env, i: int, term_names=None):
    """The deployment runtime (``mimiclab.deploy.runtime``) of env i: the contract export writes for
    this env (with env i's default joint positions, which may carry encoder offsets; with
    `term_names`, another actor's terms in its place), its last action as the ``actions`` term, and a
    policy that is never called."""
    from dataclasses import replace

    from mimiclab.deploy.contract import is_proprioceptive
    from mimiclab.deploy.observations import observation_spec
    from mimiclab.deploy.runtime import PolicyRuntime
    from mimiclab.rl.export import contract_from_env

    contract = contract_from_env(env, "parity")
    if term_names is not None and list(term_names) != [t.name for t in contract.observations]:
        spec = observation_spec(term_names, contract.num_actions, len(contract.future_offsets))
        contract = replace(contract, observations=spec, proprioceptive=is_proprioceptive(spec),
                           reference_inputs=tuple(n for n in term_names if n.startswith("ref_")))
    default = env.scene["robot"].data.default_joint_pos.torch[i].double().tolist()
    rt = PolicyRuntime(replace(contract, default_joint_pos=tuple(default)), policy=None)
    rt.last_action = env.action_manager.action[i].double().numpy().astype(np.float32)
    return rt


def assert_sim2sim_terms_equal(env, isaac: dict, steps, clip_ids, atol: float = 2e-4) -> None:
    """The runtime's observation (what sim2sim and a robot compute: the exported contract's terms, the
    clip sampled as the contract says), fed each env's robot state and its clip's reference at control
    step steps[i] (clamped to the clip end), equals the Isaac Lab values term by term (`isaac`:
    {name: (N, dim)}, in order)."""
    from mimiclab.motion.format import load_motion

    cmd = env.command_manager.get_term("motion")
    for i in range(env.num_envs):
        rt = runtime_of(env, i, term_names=list(isaac))
        ref = rt.reference(load_motion(cmd.library.clip_paths[int(clip_ids[i])]))
        k = min(steps[i], int(round(float(cmd.start_times[i]) / env.step_dt)))
        ours = rt.observe(robot_state(env, i), ref.step(k))
        assert list(ours) == list(isaac)
        for name, value in ours.items():
            np.testing.assert_allclose(value, isaac[name][i].double().numpy(), atol=atol, rtol=0,
                                       err_msg=f"env {i} term {name}")
