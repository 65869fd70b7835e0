"""A clip sampled at the policy's control steps, as the tracking task samples it.

    ref = ClipReference.from_motion(motion, contract.joint_names, contract.tracked_bodies,
                                    anchor_body="torso_link", control_dt=0.02, future_offsets=(1, 2, 4, 8))
    step = ref.step(k)            # ReferenceStep at t = k·control_dt

Timing (``mimiclab.tasks.tracking.mdp.commands``): the reference at time t is the clip interpolated
at t clamped to [0, duration] (duration = (frames − 1)/fps): linear for positions, velocities and
joints, shortest-arc slerp for quaternions; futures are at t + k·control_dt for k in the future
offsets, clamped at the clip end. The episode ends after the first control step whose time reaches
the duration (``num_steps``). Joints follow the given joint names and bodies the tracked body names
(mapped by name, never by file order). Root velocities for the reset are finite differences of the
root trajectory (world frame), as ``MotionLibrary`` computes them; body linear velocities are the
motion file's ``body_lin_vel_w`` (lerped, as ``MotionLibrary``).

Objects (loco-manipulation clips, ``mimiclab.motion.objects``): with ``with_object=True`` the clip's
object pose is sampled the same way (position linear, quaternion slerp; velocities are finite
differences of the pose trajectory, as ``MotionLibrary.object_frames``); ``ReferenceStep`` then
carries ``object_pos_w`` / ``object_quat_w`` at the step's time and ``initial_object_state()`` the
object's reset state. ``ref.object`` is the clip's ``ObjectTrack`` (None without an object).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mimiclab.rotations.numpy_ops import angular_velocity, linear_velocity, quat_normalize, quat_slerp

END_TOLERANCE = 1e-6  # s, as the task's motion_ended termination


@dataclass(frozen=True)
class ReferenceStep:
    """The reference at one control step (world frame, quaternions wxyz).

    joint_pos, joint_vel (J,) [rad, rad/s]; body_pos_w (B,3) [m], body_quat_w (B,4) of the tracked
    bodies; future_joint_pos (K,J) [rad]; future_anchor_pos_w (K,3) [m]; future_anchor_quat_w (K,4);
    body_lin_vel_w (B,3) [m/s] and future_body_pos_w (K,B,3) [m] (the tracked bodies at the future
    offsets: the keypoint goals) are None where a hand-made step leaves them out.
    """

    time: float
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    body_pos_w: np.ndarray
    body_quat_w: np.ndarray
    anchor_index: int
    future_joint_pos: np.ndarray
    future_anchor_pos_w: np.ndarray
    future_anchor_quat_w: np.ndarray
    object_pos_w: np.ndarray | None = None  # (3,) [m], clips with an object
    object_quat_w: np.ndarray | None = None  # (4,) wxyz
    body_lin_vel_w: np.ndarray | None = None  # (B,3) [m/s]
    future_body_pos_w: np.ndarray | None = None  # (K,B,3) [m]

    @property
    def anchor_pos_w(self) -> np.ndarray:
        return self.body_pos_w[self.anchor_index]

    @property
    def anchor_lin_vel_w(self) -> np.ndarray | None:
        """The reference anchor's linear velocity (3,) [m/s], world frame (None without body velocities)."""
        return None if self.body_lin_vel_w is None else self.body_lin_vel_w[self.anchor_index]

    @property
    def anchor_quat_w(self) -> np.ndarray:
        return self.body_quat_w[self.anchor_index]


@dataclass(frozen=True)
class RootState:
    """Root (pelvis) state for the reset: pos (3,) [m], quat (4,) wxyz, lin_vel (3,) [m/s] and
    ang_vel (3,) [rad/s] in the world frame; joint_pos, joint_vel (J,)."""

    pos: np.ndarray
    quat: np.ndarray
    lin_vel: np.ndarray
    ang_vel: np.ndarray
    joint_pos: np.ndarray
    joint_vel: np.ndarray


@dataclass(frozen=True)
class ObjectState:
    """The object's reset state: pos (3,) [m], quat (4,) wxyz, lin_vel (3,) [m/s] and ang_vel (3,)
    [rad/s] in the world frame."""

    pos: np.ndarray
    quat: np.ndarray
    lin_vel: np.ndarray
    ang_vel: np.ndarray


class ClipReference:
    """One clip mapped onto (joint_names, body_names) and sampled every control step."""

    def __init__(self, name: str, fps: float, joint_pos: np.ndarray, joint_vel: np.ndarray,
                 root_pos: np.ndarray, root_quat: np.ndarray, body_pos_w: np.ndarray, body_quat_w: np.ndarray,
                 joint_names: Sequence[str], body_names: Sequence[str], anchor_body: str, control_dt: float,
                 future_offsets: Sequence[int], obj=None, body_lin_vel_w: np.ndarray | None = None):
        """Frame arrays (T, ...) in the given name orders; see :meth:`from_motion`. obj: the clip's
        ``ObjectTrack`` (pose per frame) or None. body_lin_vel_w (T,B,3) [m/s]: the file's body
        velocities (None: finite differences of body_pos_w)."""
        if anchor_body not in body_names:
            raise ValueError(f"{name}: anchor body '{anchor_body}' is not among the tracked bodies")
        if not (control_dt > 0):
            raise ValueError(f"control_dt must be positive, got {control_dt}")
        self.name = name
        self.fps = float(fps)
        self.joint_names = tuple(joint_names)
        self.body_names = tuple(body_names)
        self.anchor_index = self.body_names.index(anchor_body)
        self.control_dt = float(control_dt)
        self.future_offsets = tuple(int(k) for k in future_offsets)
        self.num_frames = int(joint_pos.shape[0])
        self.duration = (self.num_frames - 1) / self.fps  # s
        f64 = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
        self._lin = {"joint_pos": f64(joint_pos), "joint_vel": f64(joint_vel), "body_pos_w": f64(body_pos_w),
                     "root_pos": f64(root_pos)}
        self._lin["body_lin_vel_w"] = (f64(body_lin_vel_w) if body_lin_vel_w is not None
                                       else linear_velocity(self._lin["body_pos_w"], 1.0 / self.fps))
        q = np.concatenate([f64(root_quat)[:, None], f64(body_quat_w)], axis=1)
        self._quat = quat_normalize(q)  # (T, 1+B, 4)
        dt = 1.0 / self.fps
        self._lin["root_lin_vel"] = linear_velocity(self._lin["root_pos"], dt)
        self._lin["root_ang_vel"] = angular_velocity(self._quat[:, 0], dt)
        self.object = obj
        self._obj_quat = None
        if obj is not None:
            pos, oq = f64(obj.pos_w), f64(obj.quat_w)
            if pos.shape != (self.num_frames, 3) or oq.shape != (self.num_frames, 4):
                raise ValueError(f"{name}: object pose has {pos.shape[0]} frames, the clip {self.num_frames}")
            self._obj_quat = quat_normalize(oq)  # (T,4)
            self._lin["object_pos"] = pos
            self._lin["object_lin_vel"] = linear_velocity(pos, dt)
            self._lin["object_ang_vel"] = angular_velocity(self._obj_quat, dt)

    @classmethod
    def from_motion(cls, motion, joint_names: Sequence[str], body_names: Sequence[str], anchor_body: str,
                    control_dt: float, future_offsets: Sequence[int], name: str = "clip",
                    with_object: bool = False) -> ClipReference:
        """From a ``mimiclab.motion.format.MotionData`` (picked by name: ValueError naming what it lacks).
        with_object: the clip must carry an object (one-line ValueError naming the clip otherwise)."""
        obj = None
        if with_object:
            from mimiclab.motion.objects import object_track

            try:
                obj = object_track(motion)
            except ValueError as e:
                raise ValueError(f"{name}: {str(e).splitlines()[0]}") from e
            if obj is None:
                raise ValueError(f"{name}: clip carries no object (object_* arrays), but the policy observes one")
        m = motion.select(list(joint_names), list(body_names), where=name)
        return cls(name, m.fps, m.joint_pos, m.joint_vel, m.root_pos_w, m.root_quat_w, m.body_pos_w,
                   m.body_quat_w, joint_names, body_names, anchor_body, control_dt, future_offsets, obj=obj,
                   body_lin_vel_w=m.body_lin_vel_w)

    @property
    def num_steps(self) -> int:
        """Control steps of one episode: the first k with k·control_dt ≥ duration − 1e-6 (≥ 1)."""
        return max(1, math.ceil((self.duration - END_TOLERANCE) / self.control_dt - 1e-9))

    def sample(self, times: np.ndarray) -> dict[str, np.ndarray]:
        """Fields at `times` (N,) [s] (clamped to [0, duration]): joint_pos, joint_vel, body_pos_w,
        body_lin_vel_w, root_pos, root_lin_vel, root_ang_vel (N, ...), root_quat (N,4), body_quat_w (N,B,4); with an
        object also object_pos, object_lin_vel, object_ang_vel (N,3) and object_quat (N,4)."""
        t = np.clip(np.asarray(times, dtype=np.float64).reshape(-1), 0.0, self.duration)
        s = t * self.fps
        last = max(self.num_frames - 2, 0)
        i0 = np.clip(np.minimum(np.floor(s).astype(np.int64), last), 0, None)
        w = np.clip(s - i0, 0.0, 1.0)
        i1 = np.minimum(i0 + 1, self.num_frames - 1)
        out = {}
        for k, x in self._lin.items():
            ww = w.reshape((-1,) + (1,) * (x.ndim - 1))
            out[k] = (1.0 - ww) * x[i0] + ww * x[i1]
        q = quat_slerp(self._quat[i0], self._quat[i1], w[:, None, None])
        out["root_quat"], out["body_quat_w"] = q[:, 0], q[:, 1:]
        if self._obj_quat is not None:
            out["object_quat"] = quat_slerp(self._obj_quat[i0], self._obj_quat[i1], w[:, None])
        return out

    def step(self, k: int) -> ReferenceStep:
        """The reference at t = k·control_dt with its futures (clamped at the clip end)."""
        t = k * self.control_dt
        times = t + np.array((0,) + self.future_offsets, dtype=np.float64) * self.control_dt
        f = self.sample(times)
        a = self.anchor_index
        obj = self._obj_quat is not None
        return ReferenceStep(time=t, joint_pos=f["joint_pos"][0], joint_vel=f["joint_vel"][0],
                             body_pos_w=f["body_pos_w"][0], body_quat_w=f["body_quat_w"][0], anchor_index=a,
                             future_joint_pos=f["joint_pos"][1:], future_anchor_pos_w=f["body_pos_w"][1:, a],
                             future_anchor_quat_w=f["body_quat_w"][1:, a],
                             object_pos_w=f["object_pos"][0] if obj else None,
                             object_quat_w=f["object_quat"][0] if obj else None,
                             body_lin_vel_w=f["body_lin_vel_w"][0], future_body_pos_w=f["body_pos_w"][1:])

    def initial_state(self) -> RootState:
        """The robot's reset state: the reference at t = 0."""
        f = self.sample(np.zeros(1))
        return RootState(pos=f["root_pos"][0], quat=f["root_quat"][0], lin_vel=f["root_lin_vel"][0],
                         ang_vel=f["root_ang_vel"][0], joint_pos=f["joint_pos"][0], joint_vel=f["joint_vel"][0])

    def initial_object_state(self) -> ObjectState:
        """The object's reset state: its reference at t = 0 (ValueError for a clip without one)."""
        if self._obj_quat is None:
            raise ValueError(f"{self.name}: clip carries no object")
        f = self.sample(np.zeros(1))
        return ObjectState(pos=f["object_pos"][0], quat=f["object_quat"][0], lin_vel=f["object_lin_vel"][0],
                           ang_vel=f["object_ang_vel"][0])
