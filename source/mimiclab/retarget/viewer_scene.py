"""The viser scene and GUI of ``mimiclab view`` (see ``mimiclab.retarget.viewer``).

Scene: the G1's visual meshes from the MJCF, one scene frame per body posed each frame from
MuJoCo kinematics; the human skeleton as orange line segments; a ground grid; a label over the
robot naming the current frame's flags (the robot is tinted red on flagged frames).
GUI: timeline slider, play, speed, robot / human skeleton toggles, the current frame's flags and
the list of flagged frame ranges per flag.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
from html import escape
from pathlib import Path

import numpy as np

from mimiclab.retarget.viewer import G1Poser, ViewData, flags_at, flags_summary

SKELETON_COLOR = (255, 140, 25)
FLAGGED_COLOR = (220, 40, 40)
CAMERA_OFFSET = np.array([1.8, -1.8, 0.5])  # m, from the point looked at (the pelvis at 0.8 m height)
MESH_CELL = 0.005  # m: the G1's visual meshes (~390k triangles) are simplified to ~80k for the browser


def visual_geoms(model) -> list[int]:
    """Mesh geoms of the MJCF's visual group (group 2 when it has one, else every mesh geom)."""
    import mujoco

    meshes = [g for g in range(model.ngeom) if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH]
    visual = [g for g in meshes if model.geom_group[g] == 2]
    return visual or meshes


def geom_mesh(model, g: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int]]:
    """(vertices (V,3), faces (F,3), rgb 0-255) of mesh geom g, in the geom's frame."""
    m = model.geom_dataid[g]
    v0, nv = model.mesh_vertadr[m], model.mesh_vertnum[m]
    f0, nf = model.mesh_faceadr[m], model.mesh_facenum[m]
    rgba = model.mat_rgba[model.geom_matid[g]] if model.geom_matid[g] >= 0 else model.geom_rgba[g]
    rgb = tuple(int(round(255 * float(c))) for c in rgba[:3])
    return model.mesh_vert[v0:v0 + nv].astype(np.float32), model.mesh_face[f0:f0 + nf].astype(np.uint32), rgb


def cluster_vertices(verts: np.ndarray, faces: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertex-clustering simplification: vertices within one `cell` [m] grid cube merge (at their
    mean); collapsed and duplicate faces are dropped, the rest keep their winding."""
    if cell <= 0 or len(verts) == 0:
        return verts, faces
    _, inv = np.unique(np.floor(verts / cell).astype(np.int64), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    n = int(inv.max()) + 1
    merged = np.zeros((n, 3))
    np.add.at(merged, inv, verts)
    merged /= np.bincount(inv, minlength=n)[:, None]
    f = inv[faces]
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]
    keep = np.sort(np.unique(np.sort(f, axis=1), axis=0, return_index=True)[1])
    return merged.astype(np.float32), f[keep].astype(np.uint32)


def flags_markdown(view: ViewData) -> str:
    return "\n".join(["**Flagged frames**", ""] + [f"- {line}" for line in flags_summary(view.flags).splitlines()])


class Viewer:
    """A running viser server showing one motion. ``url``; ``set_frame(t)``; ``close()``."""

    def __init__(self, view: ViewData, host: str = "127.0.0.1", port: int = 8080):
        import viser

        self.view = view
        self.poser = G1Poser(view.motion)
        self.shown = -1
        self._lock = threading.RLock()
        self._tinted = False
        with contextlib.redirect_stdout(io.StringIO()):  # viser's banner: serve() prints the URL itself
            self.server = viser.ViserServer(host=host, port=port, verbose=False)
        self.url = f"http://{host}:{self.server.get_port()}"
        try:
            self.server.scene.set_up_direction("+z")
            self._add_scene()
            self._add_gui()
            self.set_frame(0)
        except BaseException:
            self.server.stop()
            raise
        self._stop = threading.Event()
        self._player = threading.Thread(target=self._play_loop, name="mimiclab-view-player", daemon=True)
        self._player.start()

    # scene ----------------------------------------------------------------------------------
    def _add_scene(self) -> None:
        model, scene = self.poser.model, self.server.scene
        root = self.view.motion.root_pos_w
        lo, hi = root[:, :2].min(0), root[:, :2].max(0)
        size = float(max(10.0, 2.0 * float((hi - lo).max()) + 4.0))
        scene.add_grid("/ground", width=size, height=size, plane="xy", position=(*((lo + hi) / 2.0), 0.0))
        self._anchor = self._look_at(0)
        self.server.initial_camera.look_at = tuple(self._anchor)
        self.server.initial_camera.position = tuple(self._anchor + CAMERA_OFFSET)
        self.server.initial_camera.up = (0.0, 0.0, 1.0)

        by_body: dict[int, list[int]] = {}
        for g in visual_geoms(model):
            by_body.setdefault(int(model.geom_bodyid[g]), []).append(g)
        self.body_ids = sorted(by_body)
        self.body_frames, self.meshes = [], []
        for b in self.body_ids:
            name = f"/robot/{model.body(b).name}"
            self.body_frames.append(scene.add_frame(name, show_axes=False))
            for g in by_body[b]:
                verts, faces, rgb = geom_mesh(model, g)
                verts, faces = cluster_vertices(verts, faces, MESH_CELL)
                h = scene.add_mesh_simple(f"{name}/geom{g}", verts, faces, color=rgb, position=model.geom_pos[g],
                                          wxyz=model.geom_quat[g], cast_shadow=False, receive_shadow=False)
                self.meshes.append((h, rgb))
        self.label = scene.add_label("/flag_label", "", visible=False, font_screen_scale=1.4,
                                     anchor="bottom-center")
        self.skeleton = None
        if self.view.skeleton is not None:
            self.skeleton = scene.add_line_segments("/human", self.view.skeleton[0], colors=SKELETON_COLOR,
                                                    thickness=3.0, thickness_units="screen")

    # GUI ------------------------------------------------------------------------------------
    def _add_gui(self) -> None:
        gui, m = self.server.gui, self.view.motion
        T = self.view.num_frames
        human = f"; human `{escape(Path(self.view.source).name)}`" if self.view.source else ""
        gui.add_markdown(f"`{escape(self.view.name)}`: {T} frames, {m.fps:g} fps{human}")
        self.slider = gui.add_slider("Frame", min=0, max=max(T - 1, 1), step=1, initial_value=0, disabled=T < 2)
        self.playing = gui.add_checkbox("Play", initial_value=False)
        self.speed = gui.add_slider("Speed", min=0.1, max=4.0, step=0.1, initial_value=1.0)
        self.follow = gui.add_checkbox("Follow robot", initial_value=True, hint="the camera moves with the pelvis")
        self.show_robot = gui.add_checkbox("Robot", initial_value=True)
        self.show_human = gui.add_checkbox("Human skeleton", initial_value=self.skeleton is not None,
                                           disabled=self.skeleton is None,
                                           hint=None if self.skeleton is not None else "start with --source FILE")
        self.status = gui.add_html("")
        self.flag_list = gui.add_markdown(flags_markdown(self.view))

        self.slider.on_update(lambda _: self._show(int(self.slider.value)))
        self.show_robot.on_update(lambda _: self._set_visible())
        self.show_human.on_update(lambda _: self._set_visible())

    def _set_visible(self) -> None:
        with self.server.atomic():
            for f in self.body_frames:
                f.visible = bool(self.show_robot.value)
            if self.skeleton is not None:
                self.skeleton.visible = bool(self.show_human.value)

    # camera ---------------------------------------------------------------------------------
    def _look_at(self, t: int) -> np.ndarray:
        return np.array([*self.view.motion.root_pos_w[t, :2], 0.8])

    def _follow_to(self, t: int) -> None:
        """New clients and "Reset View" look at the robot where it is now; with "Follow robot",
        every client's camera moves with the pelvis (keeping the user's orbit)."""
        target = self._look_at(t)
        delta, self._anchor = target - self._anchor, target
        if not np.any(delta):
            return
        self.server.initial_camera.look_at = tuple(target)
        self.server.initial_camera.position = tuple(target + CAMERA_OFFSET)
        if not self.follow.value:
            return
        for client in self.server.get_clients().values():
            try:
                if client.camera.update_timestamp:  # 0 until the client has reported its camera
                    client.camera.position = tuple(np.asarray(client.camera.position) + delta)  # look_at too
            except Exception:  # noqa: BLE001 - a client that left meanwhile
                pass

    # frames ---------------------------------------------------------------------------------
    def set_frame(self, t: int) -> None:
        """Show frame t (clamped to the clip); moves the timeline slider too."""
        t = int(min(max(int(t), 0), self.view.num_frames - 1))
        if int(self.slider.value) != t:
            self.slider.value = t
        self._show(t)

    def _show(self, t: int) -> None:
        with self._lock:
            if t == self.shown:
                return
            data = self.poser.pose(t)
            flags = flags_at(self.view.flags, t)
            names = [k.upper().replace("_", " ") for k in flags]
            with self.server.atomic():
                for b, f in zip(self.body_ids, self.body_frames):
                    f.position, f.wxyz = data.xpos[b], data.xquat[b]
                if self.skeleton is not None:
                    self.skeleton.points = self.view.skeleton[t]
                self.label.text = " · ".join(names)
                self.label.position = tuple(data.xpos[1] + np.array([0.0, 0.0, 0.75]))  # over the pelvis
                self.label.visible = bool(flags)
                if bool(flags) != self._tinted:
                    self._tinted = bool(flags)
                    for h, rgb in self.meshes:
                        h.color = FLAGGED_COLOR if flags else rgb
                fps = float(self.view.motion.fps)
                marks = " ".join(f'<b style="color:#d22">{k}</b>' for k in names) or "no flags"
                self.status.content = (f'<div style="font-size:0.9em;padding:0 0.75em">frame {t} / '
                                       f"{self.view.num_frames - 1} ({t / fps:.2f} s): {marks}</div>")
            self._follow_to(t)
            self.shown = t

    def _play_loop(self) -> None:
        T = self.view.num_frames
        next_at = time.monotonic()
        while not self._stop.is_set():
            if not self.playing.value or T < 2:
                time.sleep(0.05)
                next_at = time.monotonic()
                continue
            self.set_frame((self.shown + 1) % T)
            next_at += 1.0 / (float(self.view.motion.fps) * float(self.speed.value))
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at, time.monotonic() - 0.5)  # fall behind at most half a second

    def close(self) -> None:
        self._stop.set()
        self._player.join(timeout=2.0)
        with contextlib.redirect_stdout(io.StringIO()):
            self.server.stop()
