"""The one runtime: an exported policy (``policy.onnx`` + ``contract.json``) driving a robot from its
signals and the reference, exactly as the contract says. numpy + onnxruntime only; ``mimiclab
sim2sim`` uses it and nothing else, and a robot's control loop uses the same class:

    rt = PolicyRuntime.load("export/", available_signals=("joint_pos", "joint_vel", "imu_gyro",
                                                          "imu_gravity", "reference", "last_action"))
    ref = rt.reference(load_clip("walk.npz"))     # the clip sampled at the contract's control rate
    rt.reset()
    for k in range(ref.num_steps):                # every control_dt seconds
        cmd = rt.step(robot_state(), ref.step(k), ref.step(k + 1))
        send(cmd.joint_pos_target, cmd.kp, cmd.kd)   # PD targets [rad], gains [N·m/rad, N·m·s/rad]

What the contract decides here, field by field:

- ``observations`` (names, order, dims, signals): the terms built (``mimiclab.deploy.observations``),
  checked on load against what this implementation produces (a term it lacks, another dim or other
  signals: ContractError); ``default_joint_pos``: the zero of the ``joint_pos`` term.
- ``joint_names``, ``tracked_bodies``, ``anchor_body``, ``control_dt``, ``future_offsets``: how
  :meth:`reference` maps and samples a clip; a reference step with another number of futures is refused.
- ``action_scale``, ``action_offset``, ``action_offset_from``: target = offset + scale · action, the
  offset being ``action_offset`` ("default") or the reference's joint positions one control step
  ahead ("reference").
- ``kp``, ``kd``, ``effort_limit``: returned with every command for the robot's PD loop.

The robot-side part (``physics_dt``, ``decimation``, armature, the bodies' names in the robot model,
termination thresholds for scoring) is the consumer's: sim2sim checks it with ``check_contract``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mimiclab.deploy.contract import Contract, ContractError, DeploymentTarget, check_contract
from mimiclab.deploy.observations import RobotState, observation_spec, observation_terms
from mimiclab.deploy.reference import ClipReference, ReferenceStep


@dataclass(frozen=True)
class JointCommand:
    """One control step's output, joints in the contract's order: action (J,) the raw policy output,
    joint_pos_target (J,) [rad], kp (J,) [N·m/rad], kd (J,) [N·m·s/rad], effort_limit (J,) [N·m]."""

    action: np.ndarray
    joint_pos_target: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    effort_limit: np.ndarray


class PolicyRuntime:
    """A contract and its policy (``OnnxPolicy`` or any {term: array} → (J,) actions callable)."""

    def __init__(self, contract: Contract, policy: Callable[[dict], np.ndarray],
                 available_signals: Sequence[str] | None = None, source: str = "contract.json"):
        """ContractError (one line) when the contract's observations are not what this runtime builds
        (names, dims, signals) or need a signal outside `available_signals` (None: not checked)."""
        self.contract, self.policy = contract, policy
        try:
            spec = observation_spec([t.name for t in contract.observations], contract.num_actions,
                                    len(contract.future_offsets), len(contract.tracked_bodies))
        except ValueError as e:
            raise ContractError(f"{source}: {e}") from e
        check_contract(contract, DeploymentTarget(joint_names=contract.joint_names, observations=spec,
                                                  available_signals=available_signals), source=source)
        self.term_names = tuple(t.name for t in spec)
        f64 = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
        self.default_joint_pos = f64(contract.default_joint_pos)
        self.action_scale, self.action_offset = f64(contract.action_scale), f64(contract.action_offset)
        self.offset_from_reference = contract.action_offset_from == "reference"
        self.kp, self.kd, self.effort_limit = f64(contract.kp), f64(contract.kd), f64(contract.effort_limit)
        self.last_action = np.zeros(contract.num_actions, dtype=np.float32)

    @staticmethod
    def load(policy_dir: str | os.PathLike, available_signals: Sequence[str] | None = None) -> PolicyRuntime:
        """The validated ``policy.onnx`` + ``contract.json`` of `policy_dir` (ContractError otherwise)."""
        from pathlib import Path

        from mimiclab.deploy.onnx_policy import OnnxPolicy

        policy = OnnxPolicy.load(policy_dir)
        return PolicyRuntime(policy.contract, policy, available_signals,
                             source=str(Path(policy_dir) / "contract.json"))

    @property
    def observes_object(self) -> bool:
        """The policy observes an object (its pose enters through RobotState.object_*)."""
        return self.contract.observes_object

    def reference(self, motion, name: str = "clip") -> ClipReference:
        """`motion` (``MotionData``) mapped onto the contract's joints and tracked bodies, sampled every
        control_dt with the contract's future offsets (and its object when the policy observes one);
        ValueError naming what the clip lacks."""
        c = self.contract
        return ClipReference.from_motion(motion, c.joint_names, c.tracked_bodies, c.anchor_body, c.control_dt,
                                         c.future_offsets, name=name, with_object=self.observes_object)

    def reset(self) -> None:
        """Start of an episode: the ``actions`` term reads zeros."""
        self.last_action = np.zeros(self.contract.num_actions, dtype=np.float32)

    def observe(self, state: RobotState, ref: ReferenceStep) -> dict[str, np.ndarray]:
        """{term: (dim,) float64} in the contract's order from the robot state and the reference now."""
        k = len(self.contract.future_offsets)
        if np.shape(ref.future_joint_pos)[0] != k:
            raise ContractError(f"the reference step has {np.shape(ref.future_joint_pos)[0]} future frames, the "
                                f"contract's future_offsets {list(self.contract.future_offsets)} need {k} (sample "
                                "the clip with PolicyRuntime.reference)")
        return observation_terms(state, ref, self.last_action, self.default_joint_pos, self.term_names)

    def act(self, state: RobotState, ref: ReferenceStep) -> np.ndarray:
        """The policy's action (J,) float32 for this state; it becomes the next ``actions`` term."""
        action = np.asarray(self.policy(self.observe(state, ref)), dtype=np.float32).reshape(-1)
        if action.shape != (self.contract.num_actions,) or not np.isfinite(action).all():
            raise ContractError(f"the policy returned {action.shape} actions"
                                + ("" if np.isfinite(action).all() else " with non-finite values")
                                + f", the contract has {self.contract.num_actions} joints")
        self.last_action = action
        return action

    def joint_targets(self, action: np.ndarray, next_ref: ReferenceStep) -> np.ndarray:
        """PD targets (J,) [rad] = offset + scale · action, the offset being the reference's joint
        positions at the step the action drives toward (`next_ref`, t + control_dt) or the contract's
        ``action_offset``."""
        offset = np.asarray(next_ref.joint_pos, dtype=np.float64) if self.offset_from_reference else self.action_offset
        return offset + self.action_scale * np.asarray(action, dtype=np.float64)

    def step(self, state: RobotState, ref: ReferenceStep, next_ref: ReferenceStep) -> JointCommand:
        """One control step: observe, act, and the joint targets with the contract's gains."""
        action = self.act(state, ref)
        return JointCommand(action=action, joint_pos_target=self.joint_targets(action, next_ref), kp=self.kp,
                            kd=self.kd, effort_limit=self.effort_limit)
