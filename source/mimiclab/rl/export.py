"""``mimiclab export``: a checkpoint → ``policy.onnx`` + ``contract.json``, the contract read off the
task's own managers (never written by hand, so it cannot drift from training).

    export_checkpoint("logs/rsl_rl/g1_tracking/<run>/model_100.pt", "exported/")

Training calls :func:`export_runner` at its end (``<run>/exported/``) and writes the contract at its
start (``<run>/contract.json``), so every checkpoint has a contract beside it; eval and play check
that contract against the env they build (:func:`check_checkpoint_contract`).

Signals: every actor term's robot-side signals come from ``mimiclab.deploy.tracking_mdp.ACTOR_TERM_SIGNALS``
(a term missing there is an :class:`ExportError`); the contract is ``proprioceptive`` when no term needs
``base_position`` or ``base_lin_vel``. A task that declares ``proprioceptive = True`` in its env cfg
(``Mimic-Track-G1``) is refused when one of its actor terms needs either.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mimiclab.deploy.contract import (
    CONTRACT_FILE,
    Contract,
    ContractError,
    DeploymentTarget,
    ObservationTerm,
    check_contract,
    is_proprioceptive,
    load_contract,
)
from mimiclab.deploy.tracking_mdp import (
    ACTOR_TERM_DEFINITIONS,
    ACTOR_TERM_SIGNALS,
    OBJECT_TERMINATION_THRESHOLDS,
    TERMINATION_THRESHOLDS,
)

EXPORT_TASK = "Mimic-Track-G1-Play"
# the Play task a tracking run's checkpoints are evaluated and exported in, by the run's training task
TRACKING_PLAY_TASKS = {"Mimic-Track-G1": EXPORT_TASK,
                       "Mimic-Track-G1-StateEstimation": "Mimic-Track-G1-StateEstimation-Play",
                       "Mimic-TrackKeypoints-G1": "Mimic-TrackKeypoints-G1-Play",
                       "Mimic-TrackKeypoints-G1-Teacher": "Mimic-TrackKeypoints-G1-Teacher-Play"}
POLICY_GROUP = "policy"
ACTION_TERM = "joint_pos"
COMMAND = "motion"


class ExportError(ValueError):
    """Bad input to export (one-line message)."""


def _values(x, ids) -> tuple[float, ...]:
    t = x.torch if hasattr(x, "torch") else x
    return tuple(float(v) for v in t[0, ids].tolist())


def contract_from_env(env, task: str, proprioceptive: bool | None = None) -> Contract:
    """The deployment contract of a built tracking env (``gym.make`` result or its ``unwrapped``).

    Each actor term's signals come from ``ACTOR_TERM_SIGNALS`` (ExportError naming a term it lacks).
    proprioceptive: the label asked for (None: the env cfg's ``proprioceptive``, absent = no claim);
    True is refused with an ExportError naming the first term that needs base_position or base_lin_vel.
    The written ``proprioceptive`` field is what the terms' signals say."""
    import torch

    base = getattr(env, "unwrapped", env)
    om, am = base.observation_manager, base.action_manager
    robot = base.scene["robot"]
    action = am.get_term(ACTION_TERM)
    joint_names = tuple(action._joint_names)
    ids = [robot.joint_names.index(j) for j in joint_names]
    if list(robot.joint_names) != list(joint_names):
        # joint-wise observations (joint_pos, joint_vel, ref_joint_pos) follow the articulation's order
        raise ExportError(f"the articulation's joint order {list(robot.joint_names)[:3]}... differs from the "
                          f"action order {list(joint_names)[:3]}...; joint observations would be ambiguous")
    n = len(joint_names)

    def per_joint(v) -> tuple[float, ...]:
        t = torch.as_tensor(v, dtype=torch.float32).reshape(-1)
        if t.numel() == 1:
            t = t.expand(n)
        elif t.numel() != n:
            t = t.reshape(-1, n)[0]
        return tuple(float(x) for x in t.tolist())

    names = list(om.active_terms[POLICY_GROUP])
    dims = om.group_obs_term_dim[POLICY_GROUP]
    cfgs = om._group_obs_term_cfgs[POLICY_GROUP]
    unknown = [name for name in names if name not in ACTOR_TERM_SIGNALS]
    if unknown:
        raise ExportError(f"{task}: actor observation term '{unknown[0]}' is not in "
                          "mimiclab.deploy.tracking_mdp.ACTOR_TERM_SIGNALS; add the robot signals it needs there")
    observations = tuple(ObservationTerm(name, int(dim[-1]), int(cfg.history_length or 0), ACTOR_TERM_SIGNALS[name],
                                         ACTOR_TERM_DEFINITIONS[name]) for name, dim, cfg in zip(names, dims, cfgs))
    if proprioceptive is None:
        proprioceptive = getattr(base.cfg, "proprioceptive", None)
    needy = next((t for t in observations if t.needs_state_estimation), None)
    if proprioceptive and needy is not None:
        raise ExportError(f"{task}: the actor is labelled proprioceptive but its observation '{needy.name}' needs "
                          f"{needy.needs_state_estimation[0]} (a state estimator on the robot); drop the term or "
                          "set the env cfg's proprioceptive = False")
    reference = tuple(name for name in names if name.startswith("ref_"))  # the reference motion's terms
    cmd = base.command_manager.get_term(COMMAND)
    data = robot.data
    default = _nominal_default_joint_pos(robot, joint_names)  # envs may carry randomised encoder offsets
    offset = default if action.cfg.use_default_offset else per_joint(action._offset)
    return Contract(
        robot="g1_29dof", task=task, joint_names=joint_names,
        kp=_values(data.joint_stiffness, ids), kd=_values(data.joint_damping, ids),
        armature=_values(data.joint_armature, ids), effort_limit=_values(data.joint_effort_limits, ids),
        action_scale=per_joint(action._scale), action_offset=offset,
        default_joint_pos=default, observations=observations,
        reference_inputs=reference, anchor_body=cmd.cfg.anchor_body_name, base_body=robot.body_names[0],
        tracked_bodies=tuple(cmd.body_names), end_effectors=_end_effectors(base),
        termination_thresholds=_termination_thresholds(base), future_offsets=tuple(cmd.future_offsets),
        physics_dt=float(base.physics_dt), decimation=int(base.cfg.decimation),
        proprioceptive=is_proprioceptive(observations),
        action_offset_from=str(getattr(action.cfg, "offset_from", "default")),
        keypoint_weights=_keypoint_weights(base))


KEYPOINT_REWARD = "keypoint_pos"  # the keypoint-weighted tracking reward term (Mimic-TrackKeypoints-G1)


def _keypoint_weights(base) -> dict[str, float]:
    """{tracked body: weight} of the env's keypoint-weighted reward term ({} without one)."""
    rm = base.reward_manager
    if KEYPOINT_REWARD not in rm.active_terms:
        return {}
    return {str(k): float(v) for k, v in rm.get_term_cfg(KEYPOINT_REWARD).params["weights"].items()}


END_EFFECTOR_TERMINATION = "end_effector_height"  # its body_names are the end effectors


def _termination_thresholds(base) -> dict[str, float]:
    """{name: threshold} of the env's active early terminations that a consumer implements
    (``TERMINATION_THRESHOLDS`` and, with an object, ``OBJECT_TERMINATION_THRESHOLDS``), read off the
    termination manager (ExportError for another thresholded termination: add it to the facts module)."""
    tm = base.termination_manager
    known = {**TERMINATION_THRESHOLDS, **OBJECT_TERMINATION_THRESHOLDS}
    out = {}
    for name in tm.active_terms:
        cfg = tm.get_term_cfg(name)
        if cfg.time_out:
            continue
        if name not in known:
            raise ExportError(f"termination '{name}' is not one a deployment consumer implements "
                              f"({', '.join(known)}; mimiclab.deploy.tracking_mdp)")
        out[name] = float(cfg.params["threshold"])
    return out


def _end_effectors(base) -> tuple[str, ...]:
    """The body names of the end-effector height termination (the metrics' end effectors)."""
    tm = base.termination_manager
    if END_EFFECTOR_TERMINATION not in tm.active_terms:
        raise ExportError(f"the env has no '{END_EFFECTOR_TERMINATION}' termination (it names the end effectors)")
    return tuple(tm.get_term_cfg(END_EFFECTOR_TERMINATION).params["body_names"])


def _nominal_default_joint_pos(robot, joint_names) -> tuple[float, ...]:
    """The articulation config's standing pose (before any randomisation), in `joint_names` order."""
    from isaaclab.utils.string import resolve_matching_names_values

    ids, names, values = resolve_matching_names_values(dict(robot.cfg.init_state.joint_pos), list(joint_names),
                                                       preserve_order=True)
    got = dict(zip(names, values))
    missing = [j for j in joint_names if j not in got]
    if missing:
        raise ExportError(f"the articulation config gives no default position for joint '{missing[0]}'")
    return tuple(float(got[j]) for j in joint_names)


def target_of(contract: Contract) -> DeploymentTarget:
    """Everything of `contract` that a consumer checks (the env-side view used by eval and play)."""
    return DeploymentTarget(joint_names=contract.joint_names, kp=contract.kp, kd=contract.kd,
                            observations=contract.observations, physics_dt=contract.physics_dt,
                            decimation=contract.decimation, control_dt=contract.control_dt,
                            anchor_body=contract.anchor_body, base_body=contract.base_body,
                            future_offsets=contract.future_offsets, action_scale=contract.action_scale,
                            action_offset=contract.action_offset, action_offset_from=contract.action_offset_from,
                            default_joint_pos=contract.default_joint_pos, effort_limit=contract.effort_limit,
                            armature=contract.armature, tracked_bodies=contract.tracked_bodies,
                            end_effectors=contract.end_effectors,
                            termination_thresholds=contract.termination_thresholds)


def check_checkpoint_contract(checkpoint: str | os.PathLike, env, task: str) -> Contract | None:
    """Check the ``contract.json`` beside `checkpoint` (its run folder) against the built `env`;
    ContractError on mismatch, None (and nothing checked) when the run has no contract."""
    path = Path(checkpoint).parent / CONTRACT_FILE
    if not path.is_file():
        return None
    contract = load_contract(path)
    check_contract(contract, target_of(contract_from_env(env, task)), source=str(path))
    return contract


def actor_modules(runner):
    """(normaliser, deterministic MLP) of an rsl_rl 5 runner's actor, on the CPU."""
    import torch

    from mimiclab.rl.residual import ResidualMLPModel, deterministic_actor_modules

    actor = runner.alg.get_policy()
    if isinstance(actor, ResidualMLPModel):  # base + residual heads, each with its own normaliser
        return deterministic_actor_modules(actor)
    if getattr(actor, "is_recurrent", False):
        raise ExportError("recurrent actors are not supported by mimiclab export yet")
    if list(getattr(actor, "obs_groups", [POLICY_GROUP])) != [POLICY_GROUP]:
        raise ExportError(f"the actor reads observation groups {actor.obs_groups}, export expects ['policy']")
    mlp = actor.mlp
    if actor.distribution is not None:
        mlp = torch.nn.Sequential(mlp, actor.distribution.as_deterministic_output_module())
    return actor.obs_normalizer, mlp


def export_runner(runner, env, task: str, out_dir: str | os.PathLike, extra: dict | None = None) -> Contract:
    """Write ``policy.onnx`` + ``contract.json`` of a live runner/env pair into `out_dir`, then verify the
    ONNX against ``runner.get_inference_policy()`` on observations recorded by stepping the env
    (:data:`VERIFY_STEPS` control steps; the env's state moves on)."""
    import dataclasses

    from mimiclab.deploy.onnx_policy import write_policy_onnx

    from mimiclab.rl.residual import ResidualMLPModel, residual_provenance

    contract = contract_from_env(env, task)
    actor = runner.alg.get_policy()
    extra = {**(extra or {}), **({"residual": residual_provenance(actor)} if isinstance(actor, ResidualMLPModel)
                                 else {})}
    if extra:
        contract = dataclasses.replace(contract, extra=extra)
    normalizer, mlp = actor_modules(runner)
    contract = write_policy_onnx(normalizer, mlp, contract, out_dir)
    _check_onnx_matches_runner(runner, Path(out_dir))
    return contract


VERIFY_STEPS = 8  # control steps of recorded observations the ONNX is checked on
VERIFY_ENVS = 16  # envs per step (the first ones)


def _check_onnx_matches_runner(runner, out_dir: Path, steps: int = VERIFY_STEPS, atol: float = 1e-4) -> float:
    """The exported ONNX must give the actions of ``runner.get_inference_policy()`` (what play and eval
    run) on observations recorded from the runner's env over `steps` control steps driven by that
    policy (the first VERIFY_ENVS envs, so reset and mid-episode states are both seen). Returns the largest difference;
    ExportError above `atol`."""
    import numpy as np
    import torch

    from mimiclab.deploy.onnx_policy import OnnxPolicy

    onnx = OnnxPolicy.load(out_dir)
    policy = runner.get_inference_policy(device=runner.device)
    env = runner.env
    widths = [t.dim * max(t.history_length, 1) for t in onnx.contract.observations]
    worst = 0.0
    with torch.inference_mode():
        obs = env.get_observations()
        for _ in range(steps):
            want = policy(obs)
            flat = obs[POLICY_GROUP].detach().cpu().numpy()
            ref = want.detach().cpu().numpy()
            for i in range(min(flat.shape[0], VERIFY_ENVS)):
                parts = np.split(flat[i], np.cumsum(widths)[:-1])
                terms = {t.name: v for t, v in zip(onnx.contract.observations, parts)}
                worst = max(worst, float(np.abs(onnx(terms) - ref[i]).max()))
            obs, _, dones, _ = env.step(want)
            if hasattr(policy, "reset"):
                policy.reset(dones)
    if not worst <= atol:
        raise ExportError(f"{out_dir}: the ONNX policy differs from the runner's inference policy by {worst:.2e} "
                          f"(> {atol:g}) on {steps} recorded steps")
    return worst


def is_tracking_env(env) -> bool:
    """Whether `env` has the tracking task's motion command (the only task family export supports)."""
    base = getattr(env, "unwrapped", env)
    return COMMAND in base.command_manager.active_terms


RESIDUAL_EXPORT_TASK = "Mimic-Residual-Box-G1-Play"


def task_for_checkpoint(checkpoint: str | os.PathLike | dict, checkpoint_path: str | os.PathLike | None = None) -> str:
    """The Play task a checkpoint (path or loaded dict) runs in: the residual box task for a residual
    actor, else the Play variant of the tracking task named by the run's ``contract.json`` (beside the
    checkpoint at `checkpoint_path`, or at `checkpoint` when it is a path), else ``Mimic-Track-G1-Play``."""
    from mimiclab.rl.residual import residual_actor_settings

    if residual_actor_settings(checkpoint):
        return RESIDUAL_EXPORT_TASK
    path = checkpoint_path if checkpoint_path is not None else (None if isinstance(checkpoint, dict) else checkpoint)
    if path is not None:
        import json

        try:  # only the task name: the contract itself is checked against the built env later
            trained = json.loads((Path(path).parent / CONTRACT_FILE).read_text()).get("task")
        except (OSError, ValueError, AttributeError):
            trained = None
        if isinstance(trained, str):
            if trained in TRACKING_PLAY_TASKS:
                return TRACKING_PLAY_TASKS[trained]
            if trained in TRACKING_PLAY_TASKS.values():
                return trained
    return EXPORT_TASK


def _standing_clip(folder: Path, with_box: bool = False) -> Path:
    """A 1 s clip of the G1 standing in its default pose (export needs a reference, not a specific one),
    with a 0.3 m box resting on the ground 0.6 m ahead when `with_box`."""
    import numpy as np

    from mimiclab.motion.format import save_motion
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.robots.g1 import G1

    frames = 50
    q = np.tile(np.array([j.default_pos for j in G1.joints]), (frames, 1))
    root = np.tile([0.0, 0.0, G1.default_root_height], (frames, 1))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (frames, 1))
    motion = motion_from_joint_trajectory(root, quat, q, fps=50.0, joint_names=list(G1.joint_names))
    if with_box:
        from mimiclab.motion.objects import ObjectTrack, with_object

        box = ObjectTrack(name="box", shape="box", size=np.array([0.3, 0.3, 0.3]), mass=1.0,
                          pos_w=np.tile([0.6, 0.0, 0.15], (frames, 1)), quat_w=quat.copy())
        motion = with_object(motion, box)
    return save_motion(folder / "standing.npz", motion)


def export_checkpoint(checkpoint: str | os.PathLike, out_dir: str | os.PathLike, task: str | None = None,
                      device: str = "cpu") -> Contract:
    """Build `task` (default: :func:`task_for_checkpoint`) with one env, load the checkpoint's actor,
    write ``policy.onnx`` + ``contract.json``."""
    from mimiclab.rl.eval import load_actor_state

    state = load_actor_state(checkpoint, device)
    task = task or task_for_checkpoint(state, checkpoint_path=checkpoint)
    import gymnasium as gym
    from isaaclab.cli import load_external_tasks
    from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

    load_external_tasks()
    if task not in gym.registry:
        raise ExportError(f"unknown task '{task}'")
    with tempfile.TemporaryDirectory(prefix="mimiclab-export-") as tmp:
        cfg = parse_env_cfg(task, device=device, num_envs=1)
        cfg.sim.physics.use_cuda_graph = device.startswith("cuda")
        cfg.commands.motion.motion_files = [str(_standing_clip(Path(tmp), with_box=task == RESIDUAL_EXPORT_TASK))]
        env = gym.make(task, cfg=cfg)
        try:
            runner = make_runner(env, task, device)
            try:
                runner.alg.load(state, {"actor": True}, True)
            except (RuntimeError, KeyError) as e:
                raise ExportError(f"checkpoint {checkpoint}: does not fit {task}'s policy "
                                  f"({str(e).splitlines()[0]})") from e
            check_checkpoint_contract(checkpoint, env, task)
            return export_runner(runner, env, task, out_dir,
                                 extra={"checkpoint": str(Path(checkpoint).resolve()),
                                        "iteration": int(state.get("iter", -1))})
        finally:
            env.close()


def make_runner(env, task: str, device: str):
    """An rsl_rl OnPolicyRunner for `env` with the task's registered agent config (no logging)."""
    import importlib.metadata as md

    from isaaclab.utils import to_dict
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper, handle_deprecated_rsl_rl_cfg
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry
    from rsl_rl.runners import OnPolicyRunner

    agent_cfg = load_cfg_from_registry(task, "rsl_rl_cfg_entry_point")
    agent_cfg.device = device
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, md.version("rsl-rl-lib"))
    wrapped = env if isinstance(env, RslRlVecEnvWrapper) else RslRlVecEnvWrapper(env)
    return OnPolicyRunner(wrapped, to_dict(agent_cfg), log_dir=None, device=device)


__all__ = ["ExportError", "ContractError", "contract_from_env", "target_of", "check_checkpoint_contract",
           "export_runner", "export_checkpoint", "make_runner", "actor_modules"]
