"""One object per motion clip: its geometry, pose trajectory and contact labels (``object_*`` arrays).

    track = object_track(motion)            # ObjectTrack | None
    motion = with_object(motion, track)     # validated copy carrying the track
    points = surface_points(track, 1024)    # (P,3) float32 in the object frame
    labels = derive_contact_labels(motion, track, ["left_wrist_yaw_link", "torso_link"])

Stored in the motion npz (``MotionData.objects``, written as-is, bit-exact) under the shared schema:
    object_name () str, object_shape () str "box" | "cylinder" | "mesh",
    object_size (3,) float64 [m] (box full extents x, y, z; cylinder (radius, height, 0); mesh (0,0,0)),
    object_mass () float64 [kg], object_mesh_vertices (V,3) float64 [m] + object_mesh_faces (F,3) int64
    (mesh only), object_pos_w (T,3) float64 [m], object_quat_w (T,4) float64 wxyz (world ← object, the
    same world frame as the robot's root/body arrays), object_contact_bodies (C,) str (robot body names),
    object_contacts (T,C) float32 in {0,1} (optional: derive them with ``derive_contact_labels``).
A motion carries an object when ``object_shape`` is present; the schema is then enforced by
``validate_motion`` (so on ``save_motion`` and ``load_motion``). Other ``object_*`` arrays without
``object_shape`` are free-form and stored as-is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from mimiclab.rotations.numpy_ops import quat_apply, quat_apply_inverse

SHAPES = ("box", "cylinder", "mesh")
QUAT_NORM_TOL = 1e-3
REQUIRED_KEYS = ("object_name", "object_shape", "object_size", "object_mass", "object_pos_w", "object_quat_w")
OPTIONAL_KEYS = ("object_mesh_vertices", "object_mesh_faces", "object_contact_bodies", "object_contacts")
TIME_KEYS = ("object_pos_w", "object_quat_w", "object_contacts")  # first dimension = motion frames

# Points on each robot body (body frame, metres) used to measure contact with the object: the origin,
# and for the wrists the palm site and the end of the hand collision capsule of the G1 MJCF.
BODY_CONTACT_POINTS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "left_wrist_yaw_link": ((0.0, 0.0, 0.0), (0.08, 0.0, 0.0), (0.15, -0.02, 0.0)),
    "right_wrist_yaw_link": ((0.0, 0.0, 0.0), (0.08, 0.0, 0.0), (0.15, 0.02, 0.0)),
}
PALM_OFFSET = (0.08, 0.0, 0.0)  # G1 palm site in the wrist_yaw_link frame [m]


@dataclass
class ObjectTrack:
    """An object and its pose per motion frame.

    name: label; shape: "box" | "cylinder" | "mesh"; size (3,) float64 [m]: box full extents (x, y, z),
    cylinder (radius, height, 0) with its axis along the object z, mesh (0, 0, 0); mass [kg] > 0;
    pos_w (T,3) float64 [m] and quat_w (T,4) float64 wxyz: world ← object frame per motion frame;
    contact_bodies: robot body names the labels refer to; contacts (T,C) float32 in {0,1} or None
    (absent: derive them with ``derive_contact_labels``); mesh_vertices (V,3) float64 [m] and
    mesh_faces (F,3) int64 for "mesh" (None otherwise). The object frame is centred on the object.
    """

    name: str
    shape: str
    size: np.ndarray
    mass: float
    pos_w: np.ndarray
    quat_w: np.ndarray
    contact_bodies: list[str] = field(default_factory=list)
    contacts: np.ndarray | None = None
    mesh_vertices: np.ndarray | None = None
    mesh_faces: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return int(np.asarray(self.pos_w).shape[0])

    def to_arrays(self, where: str = "object") -> dict[str, np.ndarray]:
        """The validated ``object_*`` arrays in the schema's dtypes."""
        return validate_object_arrays(_raw_arrays(self), where)

    def validate(self, where: str = "object", num_frames: int | None = None,
                 body_names: Sequence[str] | None = None) -> None:
        validate_object_arrays(_raw_arrays(self), where, num_frames, body_names)


def _raw_arrays(track: ObjectTrack) -> dict:
    out = {"object_name": np.asarray(track.name, dtype=np.str_), "object_shape": np.asarray(track.shape, dtype=np.str_),
           "object_size": track.size, "object_mass": track.mass, "object_pos_w": track.pos_w,
           "object_quat_w": track.quat_w}
    if track.contact_bodies is not None and (len(track.contact_bodies) or track.contacts is not None):
        out["object_contact_bodies"] = (np.asarray(list(track.contact_bodies), dtype=np.str_)
                                        if len(track.contact_bodies) else np.zeros(0, dtype="<U1"))
    if track.contacts is not None:
        out["object_contacts"] = track.contacts
    if track.mesh_vertices is not None:
        out["object_mesh_vertices"] = track.mesh_vertices
    if track.mesh_faces is not None:
        out["object_mesh_faces"] = track.mesh_faces
    return out


def _float(where: str, key: str, x, shape: tuple, dtype) -> np.ndarray:
    try:
        a = np.asarray(x)
    except Exception:
        raise ValueError(f"{where}: {key} is not an array") from None
    if a.dtype.kind not in "iuf" or a.dtype.kind == "b":
        raise ValueError(f"{where}: {key} must be numeric, got dtype {a.dtype}")
    if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{where}: {key} has shape {a.shape}, expected {want}")
    a = np.asarray(a, dtype=dtype, order="C")  # keeps 0-d arrays 0-d
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{where}: {key} has NaN or Inf at index {tuple(int(i) for i in bad)}")
    return a


def _string(where: str, key: str, x) -> str:
    a = np.asarray(x)
    if a.dtype.kind != "U" or a.ndim != 0:
        raise ValueError(f"{where}: {key} must be a string scalar, got dtype {a.dtype} shape {a.shape}")
    return str(a[()])


def validate_object_arrays(arrays: dict, where: str = "object", num_frames: int | None = None,
                           body_names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Check a schema object (see module docstring); return its arrays in the schema dtypes.

    float arrays become float64 (contacts float32), faces int64, strings numpy str; an array already in
    its dtype is returned unchanged (bit-exact). num_frames: T of the motion; body_names: the motion's
    bodies (contact bodies must be among them). Raises a one-line ValueError starting with `where`.
    """
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"{where}: object is missing {', '.join(missing)}")
    unknown = [k for k in arrays if k not in REQUIRED_KEYS + OPTIONAL_KEYS]
    if unknown:
        raise ValueError(f"{where}: unknown object arrays {sorted(unknown)} (schema: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)})")
    out: dict[str, np.ndarray] = {}
    name = _string(where, "object_name", arrays["object_name"])
    shape = _string(where, "object_shape", arrays["object_shape"])
    if shape not in SHAPES:
        raise ValueError(f"{where}: unknown object_shape {shape!r} (choose from {', '.join(SHAPES)})")
    out["object_name"] = np.asarray(name, dtype=np.str_)
    out["object_shape"] = np.asarray(shape, dtype=np.str_)
    size = _float(where, "object_size", arrays["object_size"], (3,), np.float64)
    if shape == "box" and not (size > 0).all():
        raise ValueError(f"{where}: box object_size must be 3 positive extents [m], got {size.tolist()}")
    if shape == "cylinder" and not (size[0] > 0 and size[1] > 0 and size[2] == 0):
        raise ValueError(f"{where}: cylinder object_size must be (radius > 0, height > 0, 0) [m], got {size.tolist()}")
    if shape == "mesh" and not (size == 0).all():
        raise ValueError(f"{where}: mesh object_size must be (0, 0, 0), got {size.tolist()}")
    out["object_size"] = size
    mass = _float(where, "object_mass", arrays["object_mass"], (), np.float64)
    if not mass > 0:
        raise ValueError(f"{where}: object_mass must be positive [kg], got {float(mass)}")
    out["object_mass"] = mass
    has_mesh = [k for k in ("object_mesh_vertices", "object_mesh_faces") if k in arrays]
    if shape == "mesh":
        if len(has_mesh) != 2:
            raise ValueError(f"{where}: a mesh object needs object_mesh_vertices and object_mesh_faces")
        v = _float(where, "object_mesh_vertices", arrays["object_mesh_vertices"], (None, 3), np.float64)
        faces = np.asarray(arrays["object_mesh_faces"])
        if faces.dtype.kind not in "iu" or faces.ndim != 2 or faces.shape[1] != 3 or faces.shape[0] == 0:
            raise ValueError(f"{where}: object_mesh_faces must be (F,3) integers, got {faces.dtype} {faces.shape}")
        if v.shape[0] < 3 or faces.min() < 0 or faces.max() >= v.shape[0]:
            raise ValueError(f"{where}: object_mesh_faces index outside the {v.shape[0]} vertices")
        out["object_mesh_vertices"] = v
        out["object_mesh_faces"] = np.asarray(faces, dtype=np.int64, order="C")
    elif has_mesh:
        raise ValueError(f"{where}: {has_mesh[0]} given for a {shape} (mesh arrays only for shape 'mesh')")
    pos = _float(where, "object_pos_w", arrays["object_pos_w"], (None, 3), np.float64)
    T = pos.shape[0]
    if T == 0:
        raise ValueError(f"{where}: object_pos_w has zero frames")
    if num_frames is not None and T != num_frames:
        raise ValueError(f"{where}: object_pos_w has {T} frames, the motion has {num_frames}")
    quat = _float(where, "object_quat_w", arrays["object_quat_w"], (T, 4), np.float64)
    err = np.abs(np.linalg.norm(quat, axis=-1) - 1.0)
    if err.max() > QUAT_NORM_TOL:
        f = int(np.argmax(err > QUAT_NORM_TOL))
        raise ValueError(f"{where}: object_quat_w is not a unit quaternion at frame {f} "
                         f"(|norm - 1| = {err[f]:.3g} > {QUAT_NORM_TOL})")
    out["object_pos_w"], out["object_quat_w"] = pos, quat
    if "object_contacts" in arrays and "object_contact_bodies" not in arrays:
        raise ValueError(f"{where}: object_contacts given without object_contact_bodies")
    if "object_contact_bodies" in arrays:
        b = np.asarray(arrays["object_contact_bodies"])
        if b.ndim != 1 or (b.size and b.dtype.kind != "U"):
            raise ValueError(f"{where}: object_contact_bodies must be a 1-d string array, got {b.dtype} {b.shape}")
        bodies = [str(n) for n in b]
        if len(set(bodies)) != len(bodies) or any(not n for n in bodies):
            raise ValueError(f"{where}: object_contact_bodies must be unique non-empty names, got {bodies}")
        if body_names is not None:
            unknown = [n for n in bodies if n not in set(body_names)]
            if unknown:
                raise ValueError(f"{where}: object_contact_bodies {unknown} are not bodies of the motion")
        out["object_contact_bodies"] = b if b.size else np.zeros(0, dtype="<U1")
        if "object_contacts" in arrays:
            c = _float(where, "object_contacts", arrays["object_contacts"], (T, len(bodies)), np.float32)
            if not np.isin(c, (0.0, 1.0)).all():
                raise ValueError(f"{where}: object_contacts must be 0 or 1")
            out["object_contacts"] = c
    return out


# --------------------------------------------------------------------------------------------


def has_object(motion) -> bool:
    return "object_shape" in motion.objects


def object_track(motion) -> ObjectTrack | None:
    """The motion's object as an ``ObjectTrack`` (validated against the motion), or None."""
    if not has_object(motion):
        return None
    a = validate_object_arrays(motion.objects, "motion object", motion.num_frames, motion.body_names)
    return ObjectTrack(
        name=str(a["object_name"][()]), shape=str(a["object_shape"][()]), size=a["object_size"],
        mass=float(a["object_mass"]), pos_w=a["object_pos_w"], quat_w=a["object_quat_w"],
        contact_bodies=[str(n) for n in a.get("object_contact_bodies", [])], contacts=a.get("object_contacts"),
        mesh_vertices=a.get("object_mesh_vertices"), mesh_faces=a.get("object_mesh_faces"))


def with_object(motion, track: ObjectTrack, where: str = "with_object"):
    """A copy of `motion` carrying `track` (replacing any object it had); ValueError if they do not fit."""
    arrays = validate_object_arrays(_raw_arrays(track), where, motion.num_frames, motion.body_names)
    objects = {k: v for k, v in motion.objects.items() if not k.startswith("object_")}
    objects.update(arrays)
    return replace(motion, meta=dict(motion.meta), objects=objects)


def select_object_bodies(objects: dict, body_names: Sequence[str]) -> dict:
    """``object_*`` arrays with the contact columns restricted to `body_names` (others dropped)."""
    if "object_contact_bodies" not in objects:
        return dict(objects)
    bodies = [str(n) for n in objects["object_contact_bodies"]]
    keep = [i for i, n in enumerate(bodies) if n in set(body_names)]
    if len(keep) == len(bodies):
        return dict(objects)
    out = dict(objects)
    kept = [bodies[i] for i in keep]
    out["object_contact_bodies"] = np.asarray(kept, dtype=np.str_) if kept else np.zeros(0, dtype="<U1")
    if "object_contacts" in objects:
        out["object_contacts"] = np.ascontiguousarray(np.asarray(objects["object_contacts"])[:, keep])
    return out


# --------------------------------------------------------------------------------------------
# geometry


def surface_spec(track: ObjectTrack):
    """The ``sample_surface`` source of the object: a primitive spec or a trimesh mesh."""
    if track.shape == "box":
        return {"box": [float(s) for s in track.size]}
    if track.shape == "cylinder":
        return {"cylinder": [float(track.size[0]), float(track.size[1])]}
    import trimesh

    return trimesh.Trimesh(vertices=np.asarray(track.mesh_vertices), faces=np.asarray(track.mesh_faces), process=False)


def surface_points(track: ObjectTrack, num_points: int = 1024, seed: int = 0):
    """(num_points, 3) float32 torch tensor: points on the object's surface in its frame [m]."""
    from mimiclab.kernels.surface_sampling import sample_surface

    return sample_surface(surface_spec(track), num_points, seed=seed)


def surface_distance(track: ObjectTrack, points_w: np.ndarray, num_points: int = 4096,
                     signed: bool = False) -> np.ndarray:
    """Distance (T,K) [m] from world points (T,K,3) to the object's surface at each frame.

    Exact for boxes and cylinders (signed=True: negative inside, by the depth below the nearest
    face); for meshes the distance to the nearest of `num_points` surface samples
    (``pointcloud_nearest``, an over-estimate by up to about the sample spacing; never negative).
    """
    points_w = np.asarray(points_w, dtype=np.float64)
    pos, quat = np.asarray(track.pos_w, np.float64), np.asarray(track.quat_w, np.float64)
    local = quat_apply_inverse(quat[:, None], points_w - pos[:, None])  # (T,K,3) object frame
    if track.shape in ("box", "cylinder"):
        if track.shape == "box":
            q = np.abs(local) - np.asarray(track.size, np.float64) / 2
        else:
            r, h = float(track.size[0]), float(track.size[1])
            q = np.stack((np.linalg.norm(local[..., :2], axis=-1) - r, np.abs(local[..., 2]) - h / 2), axis=-1)
        d = np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(axis=-1), 0.0)
        return d if signed else np.abs(d)
    import torch

    from mimiclab.kernels.pointcloud import pointcloud_nearest

    cloud = surface_points(track, num_points).to(torch.float64)
    pose = torch.from_numpy(np.concatenate((pos, quat), axis=1))
    dist, _ = pointcloud_nearest(cloud, pose, torch.from_numpy(np.ascontiguousarray(points_w)))
    return dist.numpy()


def body_contact_points(motion, body: str) -> np.ndarray:
    """World positions (T,K,3) of the body's contact points (``BODY_CONTACT_POINTS``, else its origin)."""
    i = motion.body_names.index(body)
    local = np.asarray(BODY_CONTACT_POINTS.get(body, ((0.0, 0.0, 0.0),)), dtype=np.float64)
    q = np.asarray(motion.body_quat_w[:, i], np.float64)
    p = np.asarray(motion.body_pos_w[:, i], np.float64)
    return p[:, None] + quat_apply(q[:, None], np.broadcast_to(local, (q.shape[0],) + local.shape))


def derive_contact_labels(motion, track: ObjectTrack, bodies: Sequence[str] | None = None,
                          threshold: float = 0.03) -> np.ndarray:
    """(T,C) float32 in {0,1}: 1 where body c is within `threshold` [m] of the object's surface.

    A body's distance is the smallest signed distance over its contact points (its origin; for the
    G1 wrists also the palm and the hand tip, ``BODY_CONTACT_POINTS``); points inside count as touching.
    bodies: default the track's contact_bodies. ValueError for unknown bodies or T mismatch.
    """
    bodies = list(track.contact_bodies if bodies is None else bodies)
    unknown = [b for b in bodies if b not in motion.body_names]
    if unknown:
        raise ValueError(f"derive_contact_labels: unknown bodies {unknown}")
    if track.num_frames != motion.num_frames:
        raise ValueError(f"derive_contact_labels: the object has {track.num_frames} frames, the motion {motion.num_frames}")
    if not threshold > 0:
        raise ValueError(f"derive_contact_labels: threshold must be positive, got {threshold}")
    out = np.zeros((motion.num_frames, len(bodies)), dtype=np.float32)
    for c, body in enumerate(bodies):
        d = surface_distance(track, body_contact_points(motion, body), signed=True).min(axis=1)
        out[:, c] = (d <= threshold).astype(np.float32)
    return out
