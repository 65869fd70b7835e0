"""Recording an episode: an MP4 from MuJoCo's offscreen renderer, or, where rendering (OSMesa/EGL/
GLFW) or the MP4 writer (imageio + imageio-ffmpeg) is unavailable, a keyframe strip PNG of stick
figures drawn from the body positions.

    rec = Recorder(model, "out.mp4")      # rec.ok: frames can be rendered; rec.note: why not
    rec.capture(data)                     # every control step (50 fps)
    path = rec.close()                    # out.mp4, or out.keyframes.png as the fallback

Camera: free camera looking at the pelvis from 3 m (azimuth 135°, elevation −15°), 640×360.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 50
KEYFRAMES = 8


class Recorder:
    """Frames of one or more episodes into one MP4 (written to a temporary name, then renamed)."""

    def __init__(self, model, path: str | os.PathLike, fps: int = FPS, track_body: int = 1):
        """track_body: id of the body the camera follows (1: the first body, the G1's pelvis)."""
        self.model, self.path, self.fps, self.track_body = model, Path(path), fps, track_body
        self.note = ""
        self.renderer = self.writer = None
        self.frames_written = 0
        self.bodies: list[np.ndarray] = []  # xpos snapshots for the keyframe fallback
        self.tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp.mp4")
        try:
            import imageio.v2 as imageio
            import mujoco

            self.renderer = mujoco.Renderer(model, height=HEIGHT, width=WIDTH)
            self.camera = mujoco.MjvCamera()
            self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
            self.camera.distance, self.camera.azimuth, self.camera.elevation = 3.0, 135.0, -15.0
            for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION,
                         mujoco.mjtRndFlag.mjRND_SKYBOX):
                self.renderer.scene.flags[flag] = 0  # halves the software (OSMesa) rendering time
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = imageio.get_writer(str(self.tmp), fps=fps, codec="libx264", macro_block_size=8,
                                             pixelformat="yuv420p", quality=7)
        except Exception as e:  # noqa: BLE001 - any missing backend means: fall back, never crash
            self.note = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".strip()
            self._close_renderer()

    @property
    def ok(self) -> bool:
        return self.writer is not None

    def capture(self, data) -> None:
        """One frame of the current state (kinematics must be current)."""
        self.bodies.append(data.xpos.copy())
        if not self.ok:
            return
        self.camera.lookat[:] = data.xpos[self.track_body]
        self.renderer.update_scene(data, camera=self.camera)
        self.writer.append_data(self.renderer.render())
        self.frames_written += 1

    def close(self) -> Path | None:
        """Finish: the MP4 path, else the keyframe strip PNG (None when nothing was captured)."""
        if self.ok:
            self.writer.close()
            self.writer = None
            self._close_renderer()
            if self.frames_written:
                os.replace(self.tmp, self.path)
                return self.path
            self.tmp.unlink(missing_ok=True)
            return None
        if not self.bodies:
            return None
        return keyframe_strip(self.model, np.stack(self.bodies), self.path.with_suffix(".keyframes.png"))

    def _close_renderer(self) -> None:
        if self.renderer is not None:
            try:
                self.renderer.close()
            except Exception:  # noqa: BLE001
                pass
            self.renderer = None


def keyframe_strip(model, xpos: np.ndarray, path: str | os.PathLike, dt: float = 1.0 / FPS) -> Path:
    """Side views (x–z) of the robot's skeleton at KEYFRAMES evenly spaced frames of xpos (T, nbody, 3)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mimiclab.motion.format import atomic_write

    T = xpos.shape[0]
    picks = np.unique(np.linspace(0, T - 1, min(KEYFRAMES, T)).round().astype(int))
    fig, axes = plt.subplots(1, len(picks), figsize=(2.0 * len(picks), 3.2), sharey=True, squeeze=False)
    parents = model.body_parentid
    for ax, i in zip(axes[0], picks):
        p = xpos[i]
        for b in range(2, model.nbody):  # skip the world and the world→pelvis link
            if parents[b] == 0:  # a free body of its own (the object)
                continue
            ax.plot([p[parents[b], 0], p[b, 0]], [p[parents[b], 2], p[b, 2]], "-", color="tab:blue", lw=1.5)
        ax.scatter(p[1:, 0], p[1:, 2], s=4, color="k")
        cx = p[1, 0]
        ax.set_xlim(cx - 0.8, cx + 0.8)
        ax.set_ylim(-0.05, 1.8)
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.set_aspect("equal")
        ax.set_title(f"t = {i * dt:.2f} s", fontsize=8)
        ax.set_xlabel("x [m]")
    axes[0][0].set_ylabel("z [m]")
    fig.suptitle("sim2sim keyframes (rendering unavailable)", fontsize=9)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return atomic_write(path, lambda f: f.write(buf.getvalue()))
