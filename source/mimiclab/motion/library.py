"""Motion library: many clips mapped by name onto a simulator's order, packed into flat tensors.

    lib = MotionLibrary.from_paths(["clips/", "extra/*.npz", "walk.bvh"],
                                   joint_names=robot.joint_names, body_names=robot.body_names,
                                   device="cuda:0")
    ref = lib.frames(clip_ids, times)                    # dict of (N, ...) tensors
    fut = lib.future(clip_ids, times, step_dt=0.02, offsets=(1, 2, 4, 8))   # dict of (N, 4, ...) tensors

Packing (F = total frames of all clips, J joints, B bodies, all float32 on `device`):
    joint_pos (F,J) [rad], joint_vel (F,J) [rad/s],
    root_pos (F,3) [m], root_quat (F,4) wxyz, root_lin_vel (F,3) [m/s], root_ang_vel (F,3) [rad/s]
    (world frame; the root velocities are finite differences of the root trajectory, as for bodies),
    body_pos_w (F,B,3) [m], body_quat_w (F,B,4) wxyz, body_lin_vel_w (F,B,3) [m/s],
    body_ang_vel_w (F,B,3) [rad/s];
    per clip (C,): start (long, first row in F), length (long, frames), fps (float), duration
    (float, (length−1)/fps [s]); clip_names (C,) and clip_paths.

Joint and body columns follow the `joint_names` / `body_names` given (the simulator's order, e.g. as
an Isaac Lab articulation reports them), matched by name: files are never read by position.
Every field is a view into two packed buffers (linear fields, quaternions), so one gather per
buffer serves a whole query; the returned tensors are views too (use ``reshape``, not ``view``).

Objects (loco-manipulation). Clips may carry one object each (``MotionData.objects``: the
``object_*`` arrays of the motion format). When every clip has one, ``has_object`` is True and

    spec = lib.object_spec                             # ObjectSpec: shape, size, mass (one per library)
    obj = lib.object_frames(clip_ids, times)           # {"pos" (N,3), "quat" (N,4) wxyz,
                                                       #  "lin_vel" (N,3), "ang_vel" (N,3), "contacts" (N,C)}

interpolated like the robot fields (lerp, slerp; contact labels lerped, so in [0, 1] between
frames); ``object_contact_bodies`` (C,) names the label columns (the union over clips, a body a
clip does not label reads 0). ``require_object=True`` makes a clip without an object an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mimiclab.motion.format import MotionData
from mimiclab.rotations.numpy_ops import angular_velocity, linear_velocity, quat_normalize
from mimiclab.rotations.torch_ops import quat_nlerp, quat_slerp

# (name, trailing shape) of the linear (lerped) fields, in packed order; "J" / "B" = counts.
LINEAR_FIELDS: tuple[tuple[str, tuple], ...] = (
    ("joint_pos", ("J",)),
    ("joint_vel", ("J",)),
    ("root_pos", (3,)),
    ("root_lin_vel", (3,)),
    ("root_ang_vel", (3,)),
    ("body_pos_w", ("B", 3)),
    ("body_lin_vel_w", ("B", 3)),
    ("body_ang_vel_w", ("B", 3)),
)
QUAT_FIELDS = ("root_quat", "body_quat_w")  # packed as (F, 1+B, 4): root first, then the bodies
FIELDS = tuple(n for n, _ in LINEAR_FIELDS) + QUAT_FIELDS


def quat_interp(q0: torch.Tensor, q1: torch.Tensor, w: torch.Tensor, mode: str = "slerp") -> torch.Tensor:
    """Interpolate unit quaternions (...,4) wxyz at fractions w (broadcastable to (...,1)), on the
    shortest arc, unit-norm: "slerp" (constant angular speed, ``mimiclab.rotations.torch_ops.quat_slerp``,
    the formula the motion files are resampled with) or "nlerp" (normalised lerp, cheaper)."""
    if mode == "slerp":
        return quat_slerp(q0, q1, w)
    if mode == "nlerp":
        return quat_nlerp(q0, q1, w)
    raise ValueError(f"unknown quaternion interpolation '{mode}' (slerp, nlerp)")


OBJECT_SHAPES = ("box", "cylinder", "mesh")
OBJECT_KEYS = ("object_shape", "object_size", "object_mass", "object_pos_w", "object_quat_w")  # required


@dataclass(frozen=True)
class ObjectSpec:
    """The object of a library's clips (one type per library).

    shape "box" | "cylinder" | "mesh"; size (3,) [m]: box full extents (x, y, z), cylinder
    (radius, height, 0), mesh (0, 0, 0); mass [kg]; mesh_vertices (V,3) [m] / mesh_faces (F,3) for
    meshes (None otherwise).
    """

    name: str
    shape: str
    size: tuple[float, float, float]
    mass: float
    mesh_vertices: np.ndarray | None = None
    mesh_faces: np.ndarray | None = None

    def surface_source(self):
        """What ``mimiclab.kernels.surface_sampling.sample_surface`` takes for this object."""
        if self.shape == "box":
            return {"box": list(self.size)}
        if self.shape == "cylinder":
            return {"cylinder": [self.size[0], self.size[1]]}
        import trimesh

        return trimesh.Trimesh(vertices=self.mesh_vertices, faces=self.mesh_faces, process=False)


def _object_spec(objects: dict, where: str) -> ObjectSpec:
    missing = [k for k in OBJECT_KEYS if k not in objects]
    if missing:
        raise ValueError(f"{where}: object lacks {missing}")
    shape = str(np.asarray(objects["object_shape"]).reshape(()))
    if shape not in OBJECT_SHAPES:
        raise ValueError(f"{where}: object_shape '{shape}' is not one of {list(OBJECT_SHAPES)}")
    size = np.asarray(objects["object_size"], np.float64).reshape(-1)
    if size.shape != (3,):
        raise ValueError(f"{where}: object_size has shape {size.shape}, expected (3,)")
    mass = float(np.asarray(objects["object_mass"], np.float64).reshape(()))
    if not mass > 0:
        raise ValueError(f"{where}: object_mass must be > 0, got {mass}")
    verts = faces = None
    if shape == "mesh":
        if "object_mesh_vertices" not in objects or "object_mesh_faces" not in objects:
            raise ValueError(f"{where}: a mesh object needs object_mesh_vertices and object_mesh_faces")
        verts = np.asarray(objects["object_mesh_vertices"], np.float64)
        faces = np.asarray(objects["object_mesh_faces"], np.int64)
    name = str(np.asarray(objects.get("object_name", "object")).reshape(()))
    return ObjectSpec(name=name, shape=shape, size=tuple(float(x) for x in size), mass=mass,
                      mesh_vertices=verts, mesh_faces=faces)


def object_spec_from_arrays(objects: dict, where: str = "motion") -> ObjectSpec:
    """The ObjectSpec of one clip's ``object_*`` arrays (one-line ValueError naming `where`)."""
    return _object_spec(objects, where)


def _same_object(a: ObjectSpec, b: ObjectSpec) -> bool:
    if a.shape != b.shape or not np.allclose(a.size, b.size) or not np.isclose(a.mass, b.mass):
        return False
    if a.shape == "mesh":
        return (a.mesh_vertices.shape == b.mesh_vertices.shape and np.allclose(a.mesh_vertices, b.mesh_vertices)
                and np.array_equal(a.mesh_faces, b.mesh_faces))
    return True


def _names(names, kind: str) -> list[str]:
    if isinstance(names, (str, bytes)):
        raise ValueError(f"motion library: {kind}_names must be a list of names, got a string")
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"motion library: duplicate {kind} names {dup}")
    return names


def _unique_clip_names(paths: Sequence[str]) -> list[str]:
    """File stems; stems shared by several files are replaced by the whole path."""
    stems = [Path(p).stem for p in paths]
    return [s if stems.count(s) == 1 else str(p) for s, p in zip(stems, paths)]


class MotionLibrary:
    """Clips packed into flat float32 tensors on `device` (see the module docstring for fields)."""

    def __init__(self, motions: Sequence[MotionData], joint_names: Sequence[str], body_names: Sequence[str],
                 device: str | torch.device = "cpu", clip_names: Sequence[str] | None = None,
                 fps: float | None = None, quat_mode: str = "slerp", clip_paths: Sequence[str] | None = None,
                 require_object: bool = False):
        """Map every MotionData by name onto (`joint_names`, `body_names`) and pack it.

        fps: resample clips with another frame rate to this one (our FK; default: keep each
        clip's own fps — the library handles per-clip rates). clip_paths: where each clip came
        from (named in errors). ValueError for no clips, an empty clip, and names a clip lacks
        (the message names the clip and the names). Objects (module docstring): packed when every
        clip carries one; ValueError when clips carry different objects, when an object's arrays
        are malformed, and (``require_object``) when a clip has no object.
        """
        if quat_mode not in ("slerp", "nlerp"):
            raise ValueError(f"unknown quaternion interpolation '{quat_mode}' (slerp, nlerp)")
        motions = list(motions)
        if not motions:
            raise ValueError("motion library: no clips")
        clip_names = [f"clip_{i}" for i in range(len(motions))] if clip_names is None else list(clip_names)
        if len(clip_names) != len(motions):
            raise ValueError(f"motion library: {len(clip_names)} clip names for {len(motions)} clips")
        self.joint_names = _names(joint_names, "joint")
        self.body_names = _names(body_names, "body")
        self.device = torch.device(device)
        self.clip_names = clip_names
        self.clip_paths = list(clip_paths) if clip_paths is not None else []
        self.quat_mode = quat_mode
        self._offset_cache: dict[tuple, torch.Tensor] = {}
        J, B = len(self.joint_names), len(self.body_names)

        lin_parts, quat_parts, lengths, rates = [], [], [], []
        obj_clips: list[tuple[str, dict, float]] = []  # (where, objects, fps) per clip
        for i, (name, m) in enumerate(zip(clip_names, motions)):
            name = self.clip_paths[i] if i < len(self.clip_paths) else name
            if m.num_frames < 1:
                raise ValueError(f"{name}: empty clip (zero frames)")
            have_j, have_b = set(m.joint_names), set(m.body_names)
            missing_j = [n for n in self.joint_names if n not in have_j]
            missing_b = [n for n in self.body_names if n not in have_b]
            if missing_j or missing_b:
                what = []
                if missing_j:
                    what.append(f"joints {missing_j}")
                if missing_b:
                    what.append(f"bodies {missing_b}")
                raise ValueError(f"{name}: motion lacks {' and '.join(what)} of the simulator order")
            if fps is not None and abs(float(m.fps) - float(fps)) > 1e-9:
                from mimiclab.motion.kinematics import resample_motion

                m = resample_motion(m, float(fps))
            objects = dict(m.objects)  # before select: contact labels may name untracked bodies
            m = m.select(self.joint_names, self.body_names, where=name)
            T, dt = m.num_frames, 1.0 / float(m.fps)
            root_quat = m.root_quat_w.astype(np.float64)
            cols = {
                "joint_pos": m.joint_pos, "joint_vel": m.joint_vel, "root_pos": m.root_pos_w,
                "root_lin_vel": linear_velocity(m.root_pos_w, dt),
                "root_ang_vel": angular_velocity(root_quat, dt),
                "body_pos_w": m.body_pos_w, "body_lin_vel_w": m.body_lin_vel_w, "body_ang_vel_w": m.body_ang_vel_w,
            }
            lin_parts.append(np.concatenate([np.asarray(cols[f], np.float32).reshape(T, -1)
                                             for f, _ in LINEAR_FIELDS], axis=1))
            q = np.concatenate([root_quat[:, None], m.body_quat_w.astype(np.float64)], axis=1)
            quat_parts.append(quat_normalize(q).astype(np.float32))
            lengths.append(T)
            rates.append(float(m.fps))
            obj_clips.append((name, objects, float(m.fps)))

        dev = self.device
        self._lin = torch.from_numpy(np.concatenate(lin_parts, axis=0)).to(dev)
        self._quat = torch.from_numpy(np.concatenate(quat_parts, axis=0)).to(dev)
        self.length = torch.tensor(lengths, dtype=torch.long, device=dev)
        self.start = torch.cumsum(self.length, 0) - self.length
        self.fps = torch.tensor(rates, dtype=torch.float32, device=dev)
        self.duration = (self.length - 1).to(torch.float32) / self.fps
        self._dims = {"J": J, "B": B}
        self._slices: dict[str, tuple[int, int, tuple]] = {}
        col = 0
        for f, trailing in LINEAR_FIELDS:
            shape = tuple(self._dims.get(d, d) for d in trailing)
            width = int(np.prod(shape))
            self._slices[f] = (col, col + width, shape)
            col += width
        for f in self._slices:
            setattr(self, f, self._split(self._lin, f))
        self.root_quat = self._quat[:, 0]
        self.body_quat_w = self._quat[:, 1:]
        self._pack_objects(obj_clips, lengths, require_object)

    def _pack_objects(self, clips: list[tuple[str, dict, float]], lengths: list[int], require: bool) -> None:
        """Object pose, velocities and contact labels packed like the robot fields (module docstring)."""
        self.object_spec: ObjectSpec | None = None
        self.object_contact_bodies: list[str] = []
        self._obj_lin = self._obj_quat = None
        with_obj = ["object_pos_w" in objects for _, objects, _ in clips]
        if require:
            for (where, _, _), has in zip(clips, with_obj):
                if not has:
                    raise ValueError(f"{where}: clip has no object (object_* arrays), but the library needs one")
        if not clips or not all(with_obj):
            return
        specs = [_object_spec(objects, where) for where, objects, _ in clips]
        for (where, _, _), spec in zip(clips, specs):
            if not _same_object(specs[0], spec):
                raise ValueError(f"{where}: object {spec.shape} {list(spec.size)} {spec.mass} kg differs from "
                                 f"{clips[0][0]}'s {specs[0].shape} {list(specs[0].size)} {specs[0].mass} kg "
                                 "(one object type per library)")
        bodies: list[str] = []
        for _, objects, _ in clips:
            for b in np.asarray(objects.get("object_contact_bodies", np.zeros(0, "<U1"))).reshape(-1).tolist():
                if str(b) not in bodies:
                    bodies.append(str(b))
        C = len(bodies)
        lin_parts, quat_parts = [], []
        for (where, objects, fps), T in zip(clips, lengths):
            pos = np.asarray(objects["object_pos_w"], np.float64)
            quat = np.asarray(objects["object_quat_w"], np.float64)
            if pos.shape != (T, 3) or quat.shape != (T, 4):
                raise ValueError(f"{where}: object_pos_w {pos.shape} / object_quat_w {quat.shape}, expected "
                                 f"({T}, 3) / ({T}, 4) (one pose per frame)")
            if not (np.isfinite(pos).all() and np.isfinite(quat).all()):
                raise ValueError(f"{where}: object pose has NaN or Inf")
            norm = np.linalg.norm(quat, axis=-1, keepdims=True)
            if (np.abs(norm - 1.0) > 1e-3).any():
                raise ValueError(f"{where}: object_quat_w is not a unit quaternion (wxyz)")
            quat = quat / norm
            contacts = np.zeros((T, C), np.float32)
            if "object_contacts" in objects:
                names = [str(b) for b in np.asarray(objects.get("object_contact_bodies", [])).reshape(-1)]
                labels = np.asarray(objects["object_contacts"], np.float32)
                if labels.shape != (T, len(names)):
                    raise ValueError(f"{where}: object_contacts has shape {labels.shape}, expected ({T}, {len(names)})"
                                     " (frames, object_contact_bodies)")
                contacts[:, [bodies.index(n) for n in names]] = labels
            dt = 1.0 / fps
            lin_parts.append(np.concatenate([pos, linear_velocity(pos, dt), angular_velocity(quat, dt), contacts],
                                            axis=1).astype(np.float32))
            quat_parts.append(quat.astype(np.float32))
        self._obj_lin = torch.from_numpy(np.concatenate(lin_parts, axis=0)).to(self.device)
        self._obj_quat = torch.from_numpy(np.concatenate(quat_parts, axis=0)).to(self.device)
        self.object_spec = specs[0]
        self.object_contact_bodies = bodies

    @property
    def has_object(self) -> bool:
        """Every clip carries an object (``object_spec``, ``object_frames`` are available)."""
        return self.object_spec is not None

    def object_frames(self, clip_ids: torch.Tensor, times: torch.Tensor) -> dict[str, torch.Tensor]:
        """The object's reference at `times` (N,) [s] of clips `clip_ids` (N,), interpolated like
        ``frames``: pos (N,3) [m], quat (N,4) wxyz, lin_vel (N,3) [m/s], ang_vel (N,3) [rad/s] (world
        frame, finite differences of the pose), contacts (N,C) in [0,1] (``object_contact_bodies``)."""
        if not self.has_object:
            raise ValueError("motion library: the clips carry no object")
        i0, i1, w = self.frame_index(clip_ids.reshape(-1), times.reshape(-1))
        lin = torch.lerp(self._obj_lin[i0], self._obj_lin[i1], w[:, None])
        quat = quat_interp(self._obj_quat[i0], self._obj_quat[i1], w[:, None], self.quat_mode)
        return {"pos": lin[:, 0:3], "quat": quat, "lin_vel": lin[:, 3:6], "ang_vel": lin[:, 6:9],
                "contacts": lin[:, 9:]}

    # ------------------------------------------------------------------------------------------

    @classmethod
    def from_paths(cls, paths: Sequence[str | os.PathLike] | str | os.PathLike, joint_names: Sequence[str],
                   body_names: Sequence[str], device: str | torch.device = "cpu", fps: float | None = None,
                   quat_mode: str = "slerp",
                   human_loader: Callable[[Path, float | None], MotionData] | None = None,
                   require_object: bool = False) -> "MotionLibrary":
        """Load files, folders (*.npz, *.csv inside, sorted), globs and ``*.manifest.json`` (kept clips)
        (see ``expand_motion_paths``).

        Robot formats via ``load_motion``; BVH / keypoint files are retargeted in memory (at `fps`,
        default 50). Clip names are the file stems (whole paths where stems collide).
        """
        from mimiclab.motion.clip_loading import expand_motion_paths, load_clip

        files = expand_motion_paths(paths)
        motions = [load_clip(p, fps=fps, human_loader=human_loader) for p in files]
        return cls(motions, joint_names, body_names, device=device, fps=fps, quat_mode=quat_mode,
                   clip_names=_unique_clip_names([str(p) for p in files]), clip_paths=[str(p) for p in files],
                   require_object=require_object)

    @property
    def num_clips(self) -> int:
        return int(self.length.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self._lin.shape[0])

    @property
    def total_duration(self) -> float:
        """Sum of clip durations [s]."""
        return float(self.duration.sum())

    def _split(self, packed: torch.Tensor, f: str) -> torch.Tensor:
        a, b, shape = self._slices[f]
        return packed[:, a:b].unflatten(1, shape) if len(shape) > 1 else packed[:, a:b]

    # ------------------------------------------------------------------------------------------

    def frame_index(self, clip_ids: torch.Tensor, times: torch.Tensor):
        """Rows (i0, i1) into the packed tensors and the blend weight w (N,) for `times` [s]
        clamped to [0, duration]: reference = (1−w)·x[i0] + w·x[i1]."""
        clip_ids = clip_ids.to(self.device, torch.long)
        length = self.length[clip_ids]
        t = times.to(self.device, torch.float32).clamp(min=0.0)
        t = torch.minimum(t, self.duration[clip_ids])
        s = t * self.fps[clip_ids]
        k = s.floor()
        last = (length - 2).clamp(min=0)
        i0 = torch.minimum(k.long(), last).clamp(min=0)
        w = (s - i0.to(s.dtype)).clamp(0.0, 1.0)
        i1 = torch.minimum(i0 + 1, length - 1)
        start = self.start[clip_ids]
        return start + i0, start + i1, w

    def frames(self, clip_ids: torch.Tensor, times: torch.Tensor) -> dict[str, torch.Tensor]:
        """The reference at `times` (N,) [s] of clips `clip_ids` (N,): {field: (N, ...)}.

        Linear interpolation for positions, velocities and joints; slerp (or nlerp) with the
        shortest-arc sign fix for quaternions. Times are clamped to [0, duration].
        """
        i0, i1, w = self.frame_index(clip_ids.reshape(-1), times.reshape(-1))
        lin = torch.lerp(self._lin[i0], self._lin[i1], w[:, None])
        quat = quat_interp(self._quat[i0], self._quat[i1], w[:, None, None], self.quat_mode)
        out = {f: self._split(lin, f) for f, _ in LINEAR_FIELDS}
        out["root_quat"] = quat[:, 0]
        out["body_quat_w"] = quat[:, 1:]
        return out

    def future(self, clip_ids: torch.Tensor, times: torch.Tensor, step_dt: float,
               offsets: Sequence[int] | torch.Tensor) -> dict[str, torch.Tensor]:
        """The reference at times + k·step_dt for k in `offsets` (K,): {field: (N, K, ...)},
        clamped at each clip's end. step_dt: control step [s]. Include offset 0 to get the current
        frame from the same call."""
        if isinstance(offsets, torch.Tensor):
            off = offsets.to(self.device, torch.float32).reshape(-1)
        else:  # cached: no host → device copy per step
            key = tuple(float(k) for k in offsets)
            off = self._offset_cache.get(key)
            if off is None:
                off = self._offset_cache[key] = torch.tensor(key, dtype=torch.float32, device=self.device)
        N, K = clip_ids.numel(), off.numel()
        t = times.to(self.device, torch.float32).reshape(-1, 1) + off[None, :] * float(step_dt)
        ids = clip_ids.to(self.device, torch.long).reshape(-1, 1).expand(N, K)
        flat = self.frames(ids.reshape(-1), t.reshape(-1))
        return {f: x.reshape((N, K) + x.shape[1:]) for f, x in flat.items()}

    def evaluation_starts(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every clip once from its start: clip_ids (C,) = 0..C−1 and start times (C,) = 0."""
        ids = torch.arange(self.num_clips, device=self.device)
        return ids, torch.zeros(self.num_clips, device=self.device)

    def __repr__(self) -> str:
        return (f"MotionLibrary({self.num_clips} clips, {self.num_frames} frames, {self.total_duration:.1f} s, "
                f"J={len(self.joint_names)}, B={len(self.body_names)}, device={self.device})")
