"""``mimiclab sim2sim``: an exported policy (``policy.onnx`` + ``contract.json``) tracking motion clips
in plain MuJoCo on the CPU, reporting the metrics of ``mimiclab eval``.

    report = run_sim2sim("export/", ["clips/"], "sim2sim_out", video="sim2sim_out/run.mp4")

Per episode (the ``Mimic-Track-G1-Play`` semantics): the robot is reset to the clip's first frame;
each control step computes the observations from the current state and the reference at the current
time t, runs the ONNX, sets the PD targets (offset + scale·action), advances ``decimation`` physics
steps and t by control_dt, then scores the step (robot and reference at the same t) and checks the
terminations. The episode ends at the clip's end (success) or a termination (failure); with
``full_clip`` it goes on to the clip's end after a termination (still a failure; ``tracked_s`` is the
time up to the termination, the metrics cover the whole clip).

Output: ``metrics.json`` ``{"policy", "task", "device", "simulator", "units", "perturbations",
"timing", "overall": {...}, "clips": {name: {...}}}`` (metric names and meanings as eval; per clip
also ``episodes``, ``episode_success_rate`` and ``terminations``), ``<clip>_tracking.png`` per clip,
and the video (first episode of every clip) when asked.

Everything between the robot's signals and the joint targets is the runtime's
(``mimiclab.deploy.runtime.PolicyRuntime``, the class a robot loop uses): the observation terms are the
contract's (by name, in its order: the proprioceptive ``Mimic-Track-G1`` set, the ``-StateEstimation``
set, the residual set), the reference is sampled at its control rate and future offsets, the targets
follow its action scale, offset and ``action_offset_from``; a term the runtime does not implement is
refused with a one-line ContractError before anything runs. sim2sim adds only the simulated robot
(``mimiclab.sim2sim.model``, built from the contract's gains, armature and effort limits; its signals,
``mimiclab.sim2sim.signals``) and the scoring (the contract's tracked bodies, end effectors and
termination thresholds, ``mimiclab.sim2sim.metrics``).

Residual loco-manipulation policies (the contract observes ``object_pos``, ``object_ori``,
``ref_object_pos``, ``ref_object_ori``): every clip must carry an object (the same one: shape, size,
mass), which becomes a free body of the MuJoCo model (``model.add_object``), is reset to the clip's
first-frame object pose and velocity with the robot, is observed in the robot's anchor frame with its
reference now, and is scored by ``object_pointcloud_distance`` (per step, per clip, overall; unit in
``units``) with the termination ``object_distance`` (D above the contract's threshold).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import mimiclab.sim2sim  # noqa: F401  (MUJOCO_GL default before mujoco is imported)
from mimiclab.deploy.contract import ContractError, check_contract
from mimiclab.deploy.metrics import METRICS_FILE
from mimiclab.deploy.reference import ClipReference
from mimiclab.deploy.runtime import PolicyRuntime
from mimiclab.sim2sim.metrics import (METRIC_UNITS, OBJECT_METRIC, OBJECT_METRIC_UNITS, OBJECT_TERMINATION,
                                      STEP_METRICS, ObjectMetrics, StepMetrics, check_terminations, summary)
from mimiclab.sim2sim.perturbations import ActionDelay, Perturbations, Pusher


class Sim2SimError(ValueError):
    """Bad input to ``run_sim2sim`` (one-line message)."""


def _clip_names(paths: Sequence[Path]) -> list[str]:
    stems = [p.stem for p in paths]
    return [s if stems.count(s) == 1 else str(p) for s, p in zip(stems, paths)]


def load_references(motion_paths, runtime: PolicyRuntime) -> list[tuple[ClipReference, Path]]:
    """Every clip of `motion_paths` (files, folders, globs) as the runtime samples it (the contract's
    joints, tracked bodies, control rate and future offsets; its object, required and the same in
    every clip, when the policy observes one); Sim2SimError naming the file on any problem."""
    from mimiclab.motion.clip_loading import expand_motion_paths, load_clip

    try:
        files = expand_motion_paths(motion_paths)
        out = []
        for name, p in zip(_clip_names(files), files):
            motion = load_clip(p)
            out.append((runtime.reference(motion, name=name), p))
        if runtime.observes_object and out:
            a = out[0][0].object
            for ref, p in out[1:]:
                b = ref.object
                if (a.shape, a.mass) != (b.shape, b.mass) or not np.allclose(a.size, b.size, rtol=0, atol=1e-9):
                    raise ValueError(f"{p}: object {b.shape} {list(map(float, b.size))} m {b.mass} kg differs from "
                                     f"{out[0][1]}'s {a.shape} {list(map(float, a.size))} m {a.mass} kg (one object "
                                     "per run)")
        return out
    except ValueError as e:
        raise Sim2SimError(str(e).splitlines()[0]) from e


class Episode:
    """One clip tracked once from t = 0; see the module docstring. ``run()`` → per-step record."""

    def __init__(self, model, runtime: PolicyRuntime, signals, ref: ClipReference, perturbations: Perturbations,
                 rng: np.random.Generator, recorder=None, full_clip: bool = False):
        """signals: ``mimiclab.sim2sim.signals.MujocoSignals`` of `model` and the runtime's contract."""
        import mujoco

        self.mujoco = mujoco
        self.model, self.runtime, self.signals, self.ref = model, runtime, signals, ref
        c = runtime.contract
        self.decimation = c.decimation
        self.index = signals.index
        self.body_ids = self.index.body_ids(model, ref.body_names)
        self.metrics = StepMetrics(ref.body_names, c.anchor_body, c.base_body, c.end_effectors,
                                   c.termination_thresholds)
        self.object_index = signals.object_index  # None: tracking only
        self.object_metrics = (ObjectMetrics(ref.object, c.termination_thresholds.get(OBJECT_TERMINATION))
                               if self.object_index is not None else None)
        self.delay = ActionDelay(perturbations.action_delay, c.num_actions)
        self.pusher = Pusher(rng, c.control_dt) if perturbations.push else None
        self.recorder = recorder
        self.full_clip = full_clip  # keep going after a termination (the episode still counts as failed)

    def reset(self, data) -> None:
        """The robot at the reference's first frame (joint positions clamped to the joint ranges)."""
        s, ix = self.ref.initial_state(), self.index
        from mimiclab.rotations.numpy_ops import quat_apply_inverse

        self.mujoco.mj_resetData(self.model, data)
        data.qpos[ix.root_qpos] = np.concatenate([s.pos, s.quat / np.linalg.norm(s.quat)])
        data.qvel[ix.root_qvel] = np.concatenate([s.lin_vel, quat_apply_inverse(s.quat, s.ang_vel)])
        data.qpos[ix.qpos_adr] = np.clip(s.joint_pos, ix.joint_range[:, 0], ix.joint_range[:, 1])
        data.qvel[ix.dof_adr] = s.joint_vel
        data.ctrl[ix.actuator_of_joint] = self.runtime.joint_targets(np.zeros(self.runtime.contract.num_actions),
                                                                     self.ref.step(0))
        if self.object_index is not None:  # the object at its reference pose and velocity at t = 0
            o, oi = self.ref.initial_object_state(), self.object_index
            data.qpos[oi.qpos] = np.concatenate([o.pos, o.quat / np.linalg.norm(o.quat)])
            data.qvel[oi.qvel] = np.concatenate([o.lin_vel, quat_apply_inverse(o.quat, o.ang_vel)])
        self.mujoco.mj_forward(self.model, data)

    def object_distance(self, data, ref) -> float:
        """D [m] of the object in `data` (kinematics current) against the reference step `ref`."""
        b = self.object_index.body
        return self.object_metrics.distance(ref, data.xpos[b], data.xquat[b])

    def run(self) -> dict:
        """{"time": (S,), metric: (S,) per step, "success", "termination" (name or None), "steps"}."""
        mj, model = self.mujoco, self.model
        data = mj.MjData(model)
        self.reset(data)
        if self.recorder is not None:
            self.recorder.capture(data)
        rt = self.runtime
        rt.reset()
        metric_names = STEP_METRICS + ((OBJECT_METRIC,) if self.object_metrics is not None else ())
        rec = {m: [] for m in metric_names}
        times, termination, tracked = [], None, None
        n = self.ref.num_steps
        act = self.index.actuator_of_joint
        now = self.ref.step(0)
        for k in range(n):
            action = rt.act(self.signals.robot_state(data), now)
            ref = now = self.ref.step(k + 1)  # the step this action drives toward, and the next observation's
            data.ctrl[act] = rt.joint_targets(self.delay(action), ref)
            for _ in range(self.decimation):
                mj.mj_step(model, data)
            mj.mj_kinematics(model, data)  # body frames of the state the step produced
            if self.recorder is not None:
                self.recorder.capture(data)
            pos, quat = data.xpos[self.body_ids], data.xquat[self.body_ids]
            q, qd = data.qpos[self.index.qpos_adr], data.qvel[self.index.dof_adr]
            for m, v in self.metrics.errors(ref, pos, quat, q, qd).items():
                rec[m].append(v)
            times.append(ref.time)
            fired = [name for name, f in self.metrics.terminations(ref, pos, quat).items() if f]
            if self.object_metrics is not None:
                d = self.object_distance(data, ref)
                rec[OBJECT_METRIC].append(d)
                if self.object_metrics.terminated(d):
                    fired.append("object_distance")
            diverged = not np.isfinite(data.qpos).all()
            if diverged:
                fired.append("simulation_diverged")
            if fired and termination is None:
                termination, tracked = fired[0], len(times)
            if termination is not None and (diverged or not self.full_clip):
                break
            if self.pusher is not None:
                self.pusher.maybe_push(data, self.index.root_qpos, self.index.root_qvel)
        out = {m: np.asarray(v) for m, v in rec.items()}
        tracked = len(times) if tracked is None else tracked  # steps up to and including the termination
        out.update(time=np.asarray(times), success=termination is None, termination=termination,
                   steps=len(times), tracked_steps=tracked,
                   terminated_at=float(times[tracked - 1]) if termination is not None and tracked else None)
        return out


def _metric_names(episodes: list[dict]) -> tuple[str, ...]:
    return STEP_METRICS + ((OBJECT_METRIC,) if episodes and OBJECT_METRIC in episodes[0] else ())


def _clip_result(ref: ClipReference, path: Path, episodes: list[dict], control_dt: float) -> dict:
    names = _metric_names(episodes)
    per_ep = [{m: float(np.mean(e[m])) if e["steps"] else float("nan") for m in names} for e in episodes]
    terms: dict[str, int] = {}
    for e in episodes:
        if e["termination"]:
            terms[e["termination"]] = terms.get(e["termination"], 0) + 1
    steps = float(np.mean([e["steps"] for e in episodes]))
    tracked = float(np.mean([e["tracked_steps"] for e in episodes]))
    return {"path": str(path), "frames": ref.num_frames, "duration_s": ref.duration,
            "success": all(e["success"] for e in episodes),
            "steps": int(round(steps)) if len(episodes) == 1 else steps,
            "tracked_s": tracked * control_dt,
            **{m: float(np.mean([p[m] for p in per_ep])) for m in names},
            "episodes": len(episodes),
            "episode_success_rate": sum(e["success"] for e in episodes) / len(episodes),
            "terminations": terms}


def run_sim2sim(policy_dir: str | os.PathLike, motion_paths: Sequence[str | os.PathLike] | str,
                output_dir: str | os.PathLike, episodes: int = 1, video: str | os.PathLike | None = None,
                perturbations: Perturbations | None = None, progress: bool = True, full_clip: bool = False) -> dict:
    """Run the policy of `policy_dir` on every clip of `motion_paths` `episodes` times; write
    ``output_dir/metrics.json`` and ``output_dir/<clip>_tracking.png`` (and `video`); return the
    report (module docstring). Sim2SimError / ContractError (ValueError, one line) on bad input."""
    import mujoco

    from mimiclab.motion.format import atomic_write
    from mimiclab.sim2sim.model import build_model
    from mimiclab.sim2sim.plots import plot_clip
    from mimiclab.sim2sim.signals import MujocoSignals

    if episodes < 1:
        raise Sim2SimError(f"episodes must be ≥ 1, got {episodes}")
    p = perturbations or Perturbations()
    runtime = PolicyRuntime.load(policy_dir)
    contract = runtime.contract
    source = str(Path(policy_dir) / "contract.json")
    try:
        check_terminations(contract.termination_thresholds)
    except ValueError as e:
        raise ContractError(f"{source}: {e}") from e
    refs = load_references(motion_paths, runtime)  # the object (its geometry) comes from the clips
    obj = refs[0][0].object if refs and runtime.observes_object else None
    try:
        model = build_model(contract, friction_scale=p.friction_scale, added_mass=p.added_mass,
                            added_mass_body=p.added_mass_body, obj=obj)
        signals = MujocoSignals(model, contract)
    except ValueError as e:
        raise ContractError(f"{source}: {e}") from e
    check_contract(contract, signals.target(model), source=source)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)

    recorder = None
    if video is not None:
        from mimiclab.motion.video import Recorder

        recorder = Recorder(model, video, fps=round(1.0 / contract.control_dt),
                            track_body=int(signals.index.root_body))
        if not recorder.ok:
            print(f"mimiclab sim2sim: warning: video disabled ({recorder.note}); writing a keyframe strip PNG "
                  "instead (install libosmesa6 and imageio-ffmpeg, or set MUJOCO_GL)", file=sys.stderr)

    rng = np.random.default_rng(p.seed)
    clips, total_steps, timed_steps, wall = {}, 0, 0, 0.0  # timing: episodes without rendering
    for ci, (ref, path) in enumerate(refs):
        runs = []
        for e in range(episodes):
            ep = Episode(model, runtime, signals, ref, p, rng, recorder=recorder if e == 0 else None,
                         full_clip=full_clip)
            t0 = time.perf_counter()
            runs.append(ep.run())
            wall += time.perf_counter() - t0 if e > 0 or recorder is None else 0.0
            total_steps += runs[-1]["steps"]
            timed_steps += runs[-1]["steps"] if e > 0 or recorder is None else 0
        clips[ref.name] = _clip_result(ref, path, runs, contract.control_dt)
        plot_clip(ref.name, runs, out / f"{Path(ref.name).name}_tracking.png")
        if progress:
            c = clips[ref.name]
            print(f"sim2sim [{ci + 1}/{len(refs)}] {ref.name}: {c['episode_success_rate']:.0%} of {episodes} "
                  f"episode(s) reached the end, tracked {c['tracked_s']:.2f}/{ref.duration:.2f} s, "
                  f"mpkpe {c['mpkpe']:.3f} m"
                  + (f", object D {c[OBJECT_METRIC]:.3f} m" if OBJECT_METRIC in c else ""), file=sys.stderr)
    video_path = recorder.close() if recorder is not None else None
    overall = summary(clips)
    units = METRIC_UNITS
    if runtime.observes_object:
        overall[OBJECT_METRIC] = float(np.mean([c[OBJECT_METRIC] for c in clips.values()])) if clips else float("nan")
        units = {**METRIC_UNITS, **OBJECT_METRIC_UNITS}
    report = {"policy": str(Path(policy_dir).resolve()), "task": contract.task, "device": "cpu",
              "simulator": f"mujoco {mujoco.__version__}", "units": units, "perturbations": p.active,
              "timing": {"control_steps": total_steps, "episodes_s": wall,
                         "steps_per_s": timed_steps / wall if wall > 0 else None},
              "video": str(video_path) if video_path is not None else None,
              "overall": overall, "clips": clips}
    atomic_write(out / METRICS_FILE, lambda f: f.write(json.dumps(report, indent=2).encode()))
    return report
