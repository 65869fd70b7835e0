"""``mimiclab view``: a retargeted G1 motion in the browser (viser), with the human skeleton it came
from overlaid, a timeline and the per-frame quality flags; or, with ``--record``, an MP4.

    viewer = build_viewer("walk.npz", source_path="walk.bvh", port=8080)   # serves, returns at once
    viewer.set_frame(120)              # what the timeline slider does
    viewer.close()
    record("walk.npz", "walk.mp4")     # offscreen MuJoCo (OSMesa/EGL); keyframe PNG if unavailable

The robot is posed by MuJoCo forward kinematics of the G1 MJCF from the file's root pose and
joint angles (matched by joint name). The human skeleton is the retargeter's own view of the
source: its role trajectories after normalisation and scaling to G1 proportions
(``pipeline.prepare_roles``), at the motion's fps, so it lines up with the robot frame by frame.
Flags come from ``mimiclab.retarget.quality.frame_flags``.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import mimiclab  # noqa: F401  (MUJOCO_GL default before mujoco is imported)
from mimiclab.motion.video import Recorder

FLAG_ORDER = ("twist", "saturation", "slide", "penetration", "self_collision", "joint_jump", "limit")
BONES = (("pelvis", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_toe"),
         ("pelvis", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
         ("right_ankle", "right_toe"), ("pelvis", "chest"), ("chest", "left_shoulder"),
         ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("chest", "right_shoulder"),
         ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("chest", "head"))
SKELETON_RGBA = (1.0, 0.55, 0.1, 0.9)
FRAME_SLACK = 1  # frames the source may differ from the motion by (resampling rounding); clipped


@dataclass
class ViewData:
    """What the viewer shows: the motion, its flags (T,) bool each, the skeleton (T,S,2,3) or None."""

    motion: object  # MotionData
    flags: dict[str, np.ndarray]
    skeleton: np.ndarray | None = None
    source: str | None = None  # the human file's path
    name: str = "motion"  # the motion file's name

    @property
    def num_frames(self) -> int:
        return self.motion.num_frames


def load_view_data(motion_path, source_path=None) -> ViewData:
    """Read the motion (and the human source); one-line ValueError for any problem."""
    from mimiclab.motion.format import load_motion
    from mimiclab.retarget import quality

    motion = load_motion(motion_path)
    skeleton = None
    if source_path is not None:
        skeleton = source_skeleton(source_path, motion)
        if skeleton.shape[0] < motion.num_frames:  # within FRAME_SLACK: show the common frames
            motion = _first_frames(motion, skeleton.shape[0])
        skeleton = skeleton[: motion.num_frames]
    flags = {k: np.asarray(v, bool).reshape(-1) for k, v in quality.frame_flags(motion).items()}
    return ViewData(motion, flags, skeleton, None if source_path is None else str(source_path), Path(motion_path).name)


def _first_frames(motion, n: int):
    """The motion's first n frames (every per-frame array cut)."""
    T = motion.num_frames
    cut = {f.name: getattr(motion, f.name)[:n] for f in dataclasses.fields(motion)
           if isinstance(getattr(motion, f.name), np.ndarray) and getattr(motion, f.name).shape[:1] == (T,)}
    objects = {k: (v[:n] if v.shape[:1] == (T,) else v) for k, v in motion.objects.items()}
    return dataclasses.replace(motion, objects=objects, **cut)


def source_skeleton(source_path, motion) -> np.ndarray:
    """(T,S,2,3) bone end points of the human source, as the retargeter saw it, at motion.fps."""
    from mimiclab.retarget.pipeline import RetargetSettings, prepare_roles
    from mimiclab.retarget.skeleton_map import select_map
    from mimiclab.retarget.sources.detect import load_human_motion

    where = str(source_path)
    if not Path(source_path).is_file():
        raise ValueError(f"{where}: no such file")
    human = load_human_motion(source_path)
    known = {f.name for f in dataclasses.fields(RetargetSettings)}
    used = {k: v for k, v in (motion.meta.get("retarget") or {}).items() if k in known}
    settings = dataclasses.replace(RetargetSettings(**used), fps=float(motion.fps))
    smap = select_map(settings.skeleton, human)
    if smap.direct:
        raise ValueError(f"{where}: a robot motion, not a human skeleton: nothing to overlay")
    roles, _ = prepare_roles(human, settings, smap)
    n = min(len(v) for v in roles.values())
    if abs(n - motion.num_frames) > FRAME_SLACK:
        raise ValueError(f"{where}: {n} frames at {motion.fps:g} fps, the motion has {motion.num_frames}: "
                         "not the source of this motion (or retargeted with another --fps / trimmed)")
    bones = [(a, b) for a, b in BONES if a in roles and b in roles]
    return np.stack([np.stack([roles[a][:n], roles[b][:n]], axis=1) for a, b in bones], axis=1)


def flag_ranges(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in a (T,) mask as (first, last) frame pairs, both included."""
    m = np.concatenate(([False], np.asarray(mask, bool), [False]))
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def format_ranges(ranges: list[tuple[int, int]]) -> str:
    """'120–135, 300, 305–310' (en dash), or 'none'."""
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in ranges) or "none"


def ordered_flags(flags: dict[str, np.ndarray]) -> list[str]:
    return [k for k in FLAG_ORDER if k in flags] + sorted(k for k in flags if k not in FLAG_ORDER)


def flags_summary(flags: dict[str, np.ndarray]) -> str:
    """One line per flag: 'twist: 10–19 (10 frames)'."""
    lines = []
    for k in ordered_flags(flags):
        n = int(flags[k].sum())
        lines.append(f"{k}: {format_ranges(flag_ranges(flags[k]))}" + (f" ({n} frames)" if n else ""))
    return "\n".join(lines)


def flags_at(flags: dict[str, np.ndarray], t: int) -> list[str]:
    return [k for k in ordered_flags(flags) if flags[k][t]]


class G1Poser:
    """The G1 MJCF in MuJoCo, posed per frame of a motion (qpos by joint name, mj_kinematics)."""

    def __init__(self, motion, model=None):
        import mujoco

        from mimiclab.robots.assets import g1_mjcf_path

        self.model = model if model is not None else mujoco.MjModel.from_xml_path(str(g1_mjcf_path()))
        self.data = mujoco.MjData(self.model)
        self.motion = motion
        ids = [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in motion.joint_names]
        missing = [n for n, i in zip(motion.joint_names, ids) if i < 0]
        if missing:
            raise ValueError(f"motion joint '{missing[0]}' is not a G1 joint")
        self.qadr = self.model.jnt_qposadr[ids]

    def pose(self, t: int):
        """MjData at frame t (kinematics current)."""
        import mujoco

        m = self.motion
        self.data.qpos[:3] = m.root_pos_w[t]
        self.data.qpos[3:7] = m.root_quat_w[t]
        self.data.qpos[self.qadr] = m.joint_pos[t]
        mujoco.mj_kinematics(self.model, self.data)
        return self.data


def build_viewer(motion_path, source_path=None, port: int = 8080, host: str = "127.0.0.1"):
    """Start the viser server for a motion (and its human source); returns a running
    ``viewer_scene.Viewer`` without blocking (``.url``, ``.set_frame(t)``, ``.close()``)."""
    try:
        import viser  # noqa: F401
    except ImportError:
        raise ValueError("the viewer needs the viser package (scripts/requirements.txt; `pip install viser`); "
                         "--record works without it") from None
    from mimiclab.retarget.viewer_scene import Viewer

    return Viewer(load_view_data(motion_path, source_path), host=host, port=port)


def _recording_model():
    """The G1 MJCF with a ground plane and a light, for offscreen rendering."""
    import mujoco

    from mimiclab.robots.assets import g1_mjcf_path

    spec = mujoco.MjSpec.from_file(str(g1_mjcf_path()))
    spec.add_texture(name="view_grid", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
                     width=256, height=256, rgb1=[0.25, 0.28, 0.32], rgb2=[0.35, 0.38, 0.42])
    mat = spec.add_material(name="view_grid", texrepeat=[1.0, 1.0], texuniform=True)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "view_grid"
    ground = spec.worldbody.add_geom(name="view_ground", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0.0, 0.0, 0.05],
                                     material="view_grid")
    ground.contype = ground.conaffinity = 0
    spec.worldbody.add_light(name="view_sun", pos=[0.0, 0.0, 4.0], dir=[0.0, 0.0, -1.0]).castshadow = False
    return spec.compile()


def record(motion_path, out_path, source_path=None) -> Path:
    """Every frame of the motion rendered offscreen into out_path (MP4, at the motion's fps; the
    human skeleton drawn as orange capsules when source_path is given). Returns the MP4, or the
    keyframe strip PNG where rendering is unavailable (``mimiclab.motion.video.Recorder``)."""
    view = load_view_data(motion_path, source_path)
    poser = G1Poser(view.motion, _recording_model())
    fps = max(1, int(round(float(view.motion.fps))))
    rec = SkeletonRecorder(poser.model, out_path, fps=fps)
    if not rec.ok:
        print(f"mimiclab view: warning: rendering unavailable ({rec.note}); writing a keyframe strip PNG "
              "(install libosmesa6 and imageio-ffmpeg, or set MUJOCO_GL)", file=sys.stderr)
    import mujoco

    for t in range(view.num_frames):
        data = poser.pose(t)
        mujoco.mj_comPos(poser.model, data)  # the MJCF's light tracks the centre of mass
        mujoco.mj_camlight(poser.model, data)
        rec.bones = None if view.skeleton is None else view.skeleton[t]
        rec.capture(data)
    path = rec.close()
    if path is None:
        raise ValueError(f"{motion_path}: nothing to record")
    return path


class SkeletonRecorder(Recorder):
    """``Recorder`` that also draws ``bones`` (S,2,3), when set, as capsules into each frame."""

    bones: np.ndarray | None = None

    def capture(self, data) -> None:
        if self.bones is None or not self.ok:
            return super().capture(data)
        import mujoco

        self.bodies.append(data.xpos.copy())
        self.camera.lookat[:] = data.xpos[self.track_body]
        self.renderer.update_scene(data, camera=self.camera)
        scene = self.renderer.scene
        for a, b in self.bones[: scene.maxgeom - scene.ngeom]:
            g = scene.geoms[scene.ngeom]
            mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3), np.zeros(3), np.eye(3).ravel(),
                                np.array(SKELETON_RGBA, np.float32))
            mujoco.mjv_connector(g, mujoco.mjtGeom.mjGEOM_CAPSULE, 0.012, np.asarray(a, float), np.asarray(b, float))
            scene.ngeom += 1
        self.writer.append_data(self.renderer.render())
        self.frames_written += 1


def serve(motion_path, source_path=None, port: int = 8080, host: str = "127.0.0.1") -> int:
    """The CLI's blocking server: prints the URL, serves until Ctrl-C (then exit code 0)."""
    import time

    viewer = build_viewer(motion_path, source_path, port=port, host=host)
    view = viewer.view
    flagged = [k for k in ordered_flags(view.flags) if view.flags[k].any()]
    print(f"mimiclab view: {view.num_frames} frames at {view.motion.fps:g} fps; flagged: "
          f"{', '.join(flagged) or 'nothing'}", flush=True)
    print(f"mimiclab view: open {viewer.url}  (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        print("mimiclab view: stopped", file=sys.stderr)
    finally:
        viewer.close()
    return 0
