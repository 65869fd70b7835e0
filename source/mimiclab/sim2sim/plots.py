"""Tracking error over time, one PNG per clip (matplotlib, Agg)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

POSITION_METRICS = ("mpkpe", "root_relative_mpkpe", "ee_pos_error", "object_pointcloud_distance")  # m (D: objects)
ANGLE_METRICS = ("joint_pos_error", "ee_ori_error")  # rad


def plot_clip(name: str, episodes: list[dict], path: str | os.PathLike) -> Path:
    """Per-step metrics of every episode of one clip against time; a dashed line where an episode
    terminated. episodes: [{"time": (S,), metric: (S,), "success": bool}] (S steps)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mimiclab.motion.format import atomic_write

    fig, (ax_p, ax_a) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    for e, ep in enumerate(episodes):
        alpha = 1.0 if e == 0 else 0.35
        for i, m in enumerate(POSITION_METRICS):
            if m not in ep:
                continue
            ax_p.plot(ep["time"], ep[m], color=f"C{i}", alpha=alpha, label=m if e == 0 else None)
        for i, m in enumerate(ANGLE_METRICS):
            ax_a.plot(ep["time"], ep[m], color=f"C{i + 3}", alpha=alpha, label=m if e == 0 else None)
        if not ep["success"] and ep.get("terminated_at") is not None:
            for ax in (ax_p, ax_a):
                ax.axvline(ep["terminated_at"], color="tab:red", ls="--", lw=1,
                           label="termination" if (e == 0 and ax is ax_p) else None)
    ax_p.set_ylabel("position error [m]")
    ax_a.set_ylabel("angle error [rad]")
    ax_a.set_xlabel("time [s]")
    for ax in (ax_p, ax_a):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    ok = sum(bool(ep["success"]) for ep in episodes)
    fig.suptitle(f"sim2sim tracking error: {name} ({ok}/{len(episodes)} episodes reached the end)", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return atomic_write(path, lambda f: f.write(buf.getvalue()))
