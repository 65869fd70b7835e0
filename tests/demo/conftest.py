"""A synthetic but realistic finished demo run: demo.json (every stage done), TensorBoard event files
written the way rsl_rl 5.5 writes them (torch SummaryWriter, the same tags), a sim2sim tracking-error
PNG and a keyframe strip PNG. No Isaac Lab, no MuJoCo."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

ITERATIONS = 20
REWARD_TERMS = {"anchor_pos": 0.5, "anchor_ori": 0.5, "body_pos": 1.0, "body_ori": 1.0, "body_lin_vel": 1.0,
                "body_ang_vel": 1.0, "action_rate": -0.1, "joint_limits": -10.0}
COMMAND_METRICS = ("error_anchor_pos", "error_anchor_rot", "error_body_pos", "error_joint_pos", "sampling_entropy")
TERMINATIONS = ("time_out", "motion_end", "anchor_height", "anchor_gravity", "end_effector_height")
LOG_DIR = "logs/rsl_rl/g1_tracking/2025-06-01_10-00-00"


def scalar_series(iterations: int = ITERATIONS) -> dict[str, dict[int, float]]:
    """tag → {iteration: value}: what a short tracking run logs (rsl_rl 5.5 + Isaac Lab tag names).
    The mean reward / episode length start at iteration 1 (no episode had ended at iteration 0)."""
    out: dict[str, dict[int, float]] = {}
    its = range(iterations)
    out["Train/mean_reward"] = {i: 2.0 + 0.8 * i + 0.1 * math.sin(i) for i in its if i >= 1}
    out["Train/mean_episode_length"] = {i: 20.0 + 4.0 * i for i in its if i >= 1}
    for term, w in REWARD_TERMS.items():
        out[f"Episode_Reward/{term}"] = {i: w * (0.05 + 0.02 * i) if w > 0 else w * (0.02 - 0.0005 * i)
                                         for i in its}
    scale = {"error_anchor_pos": 0.30, "error_anchor_rot": 0.60, "error_body_pos": 0.25, "error_joint_pos": 0.35}
    for m in COMMAND_METRICS:
        out[f"Metrics/motion/{m}"] = ({i: 1.0 - 0.01 * i for i in its} if m == "sampling_entropy" else
                                      {i: scale[m] * math.exp(-i / 15) for i in its})
    for k, t in enumerate(TERMINATIONS):
        out[f"Episode_Termination/{t}"] = {i: max(0.0, 0.5 - 0.1 * k - 0.01 * i) for i in its}
    # logged by rsl_rl but not plotted by the report:
    out["Loss/value_function"] = {i: 1.0 / (i + 1) for i in its}
    out["Perf/total_fps"] = {i: 950.0 for i in its}
    out["Policy/mean_std"] = {i: 1.0 - 0.01 * i for i in its}
    return out


def write_events(log_dir: Path, series: dict[str, dict[int, float]], walltime0: float = 1.7e9,
                 suffix: str = "") -> None:
    """Write `series` with torch's SummaryWriter (as rsl_rl does), one add_scalar per tag per step."""
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(log_dir=str(log_dir), filename_suffix=suffix)
    steps = sorted({s for v in series.values() for s in v})
    for s in steps:
        for tag, vals in series.items():
            if s in vals:
                w.add_scalar(tag, vals[s], s, walltime=walltime0 + s)
    w.close()


def _plot_png(path: Path, kind: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "plot":
        t = np.linspace(0, 4, 200)
        fig, ax = plt.subplots(figsize=(7, 2.6))
        ax.plot(t, 60 + 30 * np.sin(t) ** 2, label="walk")
        ax.set_xlabel("time [s]")
        ax.set_ylabel("MPKPE [mm]")
        ax.set_title("sim2sim tracking error")
        ax.legend()
    else:
        fig, axes = plt.subplots(1, 6, figsize=(10, 2.2))
        for k, ax in enumerate(axes):
            ax.imshow(np.random.default_rng(k).random((40, 30)), cmap="gray")
            ax.set_title(f"t = {0.5 * k:.1f} s", fontsize=8)
            ax.axis("off")
    fig.savefig(path, dpi=60)
    plt.close(fig)


def _metrics(scale: float, fell: tuple[str, ...]) -> dict:
    units = {"success": "bool", "success_rate": "1", "mpkpe": "m", "root_relative_mpkpe": "m",
             "joint_pos_error": "rad", "joint_vel_error": "rad/s", "ee_pos_error": "m", "ee_ori_error": "rad"}
    clips = {}
    for k, (name, dur) in enumerate((("walk", 4.0), ("video_wave", 3.2))):
        ok = name not in fell
        tracked = dur if ok else 1.26
        clips[name] = {"success": ok, "frames": int(dur * 50), "duration_s": dur, "steps": int(tracked * 50),
                       "tracked_s": tracked, "mpkpe": scale * (0.080 + 0.01 * k),
                       "root_relative_mpkpe": scale * (0.050 + 0.01 * k), "joint_pos_error": scale * (0.12 + 0.02 * k),
                       "joint_vel_error": scale * (0.90 + 0.1 * k), "ee_pos_error": scale * (0.10 + 0.01 * k),
                       "ee_ori_error": scale * (0.20 + 0.02 * k)}
    overall = {"num_clips": len(clips), "success_rate": sum(c["success"] for c in clips.values()) / len(clips)}
    for m in ("mpkpe", "root_relative_mpkpe", "joint_pos_error", "joint_vel_error", "ee_pos_error", "ee_ori_error"):
        overall[m] = sum(c[m] for c in clips.values()) / len(clips)
    return {"units": units, "overall": overall, "clips": clips}


def build_run(run_dir: Path, curves_inline: bool = True, smoke_scale: bool = True) -> dict:
    """Write a finished demo run into `run_dir`; returns its demo.json dict."""
    from mimiclab.demo.curves import read_training_curves

    run_dir.mkdir(parents=True, exist_ok=True)
    write_events(run_dir / LOG_DIR, scalar_series())
    _plot_png(run_dir / "sim2sim" / "tracking_error.png", "plot")
    _plot_png(run_dir / "sim2sim" / "keyframes.png", "keyframes")
    base = {"frames": 200, "fps": 50.0, "joint_limit_violation_frames": 0.0, "penetration_frames": 0.042,
            "penetration_max_depth_m": 0.0137, "self_collision_frames": 0.015, "joint_jumps": 3,
            "max_joint_step_rad": 0.2871, "jerk_mean_rad_s3": 412.6}
    walk = {**base, "keypoint_error_mean_m": 0.02341, "keypoint_error_max_m": 0.0912,
            "keypoint_error_root_relative_mean_m": 0.01872, "contact_frames": 0.64, "foot_sliding_m_s": 0.0213,
            "foot_sliding_left_m_s": 0.0213, "foot_sliding_right_m_s": 0.0187, "joint_speed_saturation_frames": 0.005,
            "twisted_frames": 0.0}
    wave = {**base, "frames": 160, "fps": 30.0, "keypoint_error_mean_m": 0.03105,
            "keypoint_error_root_relative_mean_m": 0.02766, "joint_jumps": 0, "penetration_frames": 0.0}
    demo = {
        "preset": "cpu-quick", "smoke_scale": smoke_scale, "device": "cpu",
        "versions": {"mimiclab": "0.1.0", "python": "3.11.9", "torch": "2.7.0", "isaaclab": "3.0.0",
                     "rsl_rl": "5.5.1", "mujoco": "3.3.5", "onnxruntime": "1.22.0", "warp": "1.17.0"},
        "machine": {"cpu": "AMD EPYC 7B13", "cores": 2, "gpu": None},
        "started": "2025-06-01T10:00:00+00:00", "seconds": 812.4,
        "stages": {
            "retarget": {"status": "done", "seconds": 12.3, "cached": True, "clips": {"walk": walk, "video_wave": wave}},
            "train": {"status": "done", "seconds": 541.7, "cached": False, "resumed_from": None, "num_envs": 8,
                      "iterations": ITERATIONS, "log_dir": LOG_DIR, "checkpoint": f"{LOG_DIR}/model_19.pt"},
            "export": {"status": "done", "seconds": 6.2, "cached": False, "policy_dir": "export",
                       "observation_dim": 245, "num_actions": 29, "control_dt": 0.02},
            "eval": {"status": "done", "seconds": 88.9, "metrics": _metrics(1.0, ())},
            "sim2sim": {"status": "done", "seconds": 130.4, "metrics": _metrics(1.4, ("video_wave",)),
                        "plot": "sim2sim/tracking_error.png", "video": None, "keyframes": "sim2sim/keyframes.png"},
        },
    }
    if curves_inline:
        demo["stages"]["train"]["curves"] = read_training_curves(run_dir / LOG_DIR)
    (run_dir / "demo.json").write_text(json.dumps(demo, indent=2))
    return demo


@pytest.fixture
def demo_run(tmp_path):
    """(run_dir, demo dict) of a finished synthetic run; rewrite demo.json to vary it."""
    run_dir = tmp_path / "run"
    return run_dir, build_run(run_dir)


@pytest.fixture
def tb():
    """The event-file helpers: tb.write(log_dir, series, ...), tb.series(iterations)."""
    from types import SimpleNamespace

    return SimpleNamespace(write=write_events, series=scalar_series)


@pytest.fixture
def make_run(tmp_path):
    """build_run(run_dir, **options) with run_dir under tmp_path; returns (run_dir, demo)."""

    def make(name: str = "run", **options):
        run_dir = tmp_path / name
        return run_dir, build_run(run_dir, **options)

    return make
