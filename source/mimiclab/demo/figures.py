"""The report's figures (matplotlib, Agg): training curves and eval vs sim2sim metrics.

Every function writes one PNG and returns its path, or None when there is nothing to plot. Units
follow the report's display convention (``DISPLAY``): lengths in mm, angles in rad, rates in %.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

EVAL_COLOR = "#3b6fb6"
SIM2SIM_COLOR = "#e08a2c"
LINE_COLORS = ("#3b6fb6", "#e08a2c", "#3a9a5b", "#c4453c", "#7d5ba6", "#8c6d46", "#d16ba5", "#6b6b6b",
               "#b5b82e", "#2eb5c0")

# JSON unit → (display unit, factor): what the report shows for a value stored in that unit.
DISPLAY = {"m": ("mm", 1e3), "m/s": ("m/s", 1.0), "rad": ("rad", 1.0), "rad/s": ("rad/s", 1.0),
           "1": ("%", 100.0), "fraction": ("%", 100.0)}

# Eval/sim2sim metrics (mimiclab.rl.eval module docstring): label, JSON unit.
EVAL_METRICS = {
    "success_rate": ("success rate", "1"),
    "mpkpe": ("MPKPE (world)", "m"),
    "root_relative_mpkpe": ("MPKPE (root-relative)", "m"),
    "joint_pos_error": ("joint position error", "rad"),
    "joint_vel_error": ("joint velocity error", "rad/s"),
    "ee_pos_error": ("end-effector position error", "m"),
    "ee_ori_error": ("end-effector orientation error", "rad"),
}

# Tracking metrics of the motion command (Metrics/motion/<name>): label, JSON unit.
COMMAND_METRICS = {
    "error_anchor_pos": ("anchor (torso) position error", "m"),
    "error_anchor_rot": ("anchor (torso) orientation error", "rad"),
    "error_body_pos": ("body position error (mean of tracked bodies)", "m"),
    "error_joint_pos": ("joint position error (mean |Δq|)", "rad"),
    "sampling_entropy": ("clip sampling entropy (1 = uniform)", "entropy"),
    "sampling_top_prob": ("largest clip-bin sampling probability", "1"),
}


def display(value: float | None, unit: str) -> tuple[float | None, str]:
    """(value in display units, display unit) for a value stored in `unit`."""
    shown, factor = DISPLAY.get(unit, (unit, 1.0))
    return (None if value is None else value * factor), shown


def _setup(ax, title: str, xlabel: str, ylabel: str, grid_axis: str = "both") -> None:
    ax.set_title(title, fontsize=10.5, loc="left", fontweight="bold")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8.5)
    ax.grid(True, axis=grid_axis, color="#e4e4e4", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _series(xs: list, ys: list) -> tuple[list, list]:
    """Points of one curve with the gaps (None / non-finite) dropped."""
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None and math.isfinite(y)]
    return [p[0] for p in pts], [p[1] for p in pts]


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def _short(term: str) -> str:
    return term.rsplit("/", 1)[-1]


def training_panels(curves: dict, control_dt: float | None = None) -> list[dict]:
    """The panels of the training-curve figure: {title, ylabel, lines: [(label, xs, ys)]}."""
    it = list(curves.get("iteration", []))
    panels = []

    def line(tag, label=None, factor=1.0):
        xs, ys = _series(it, curves[tag])
        return (label or _short(tag), xs, [y * factor for y in ys])

    if "Train/mean_reward" in curves:
        panels.append({"title": "Mean episode return", "ylabel": "return [sum of rewards per episode]",
                       "lines": [line("Train/mean_reward", "mean return")]})
    if "Train/mean_episode_length" in curves:
        if control_dt:
            panels.append({"title": "Mean episode length", "ylabel": "episode length [s]",
                           "lines": [line("Train/mean_episode_length", "mean length", control_dt)]})
        else:
            panels.append({"title": "Mean episode length", "ylabel": "episode length [control steps]",
                           "lines": [line("Train/mean_episode_length", "mean length")]})
    terms = [t for t in curves if t.startswith("Episode_Reward/")]
    last = {t: (_series(it, curves[t])[1] or [0.0])[-1] for t in terms}
    pos = [t for t in terms if last[t] >= 0]
    neg = [t for t in terms if last[t] < 0]
    unit = "episode sum ÷ max episode length [1/s]"
    if pos:
        panels.append({"title": "Reward terms (tracking)", "ylabel": unit, "lines": [line(t) for t in pos]})
    if neg:
        panels.append({"title": "Reward terms (penalties)", "ylabel": unit, "lines": [line(t) for t in neg]})
    for tag in [t for t in curves if t.startswith("Metrics/")]:
        name = _short(tag)
        label, json_unit = COMMAND_METRICS.get(name, (name, ""))
        shown, factor = DISPLAY.get(json_unit, (json_unit, 1.0))
        if json_unit == "entropy":
            ylabel = f"{name} [normalised, 1 = uniform]"
        else:
            ylabel = f"{name} [{shown or 'as logged'}]"
        panels.append({"title": label[0].upper() + label[1:], "ylabel": ylabel, "lines": [line(tag, name, factor)]})
    ends = [t for t in curves if t.startswith("Episode_Termination/")]
    if ends:
        panels.append({"title": "How episodes ended", "ylabel": "share of envs [%]",
                       "lines": [line(t, factor=100.0) for t in ends]})
    return [p for p in panels if any(xs for _, xs, _ in p["lines"])]


def plot_training_curves(curves: dict, path: str | os.PathLike, control_dt: float | None = None,
                         ncols: int = 3) -> Path | None:
    """Small multiples of the training curves (``read_training_curves`` output) vs iteration."""
    panels = training_panels(curves, control_dt)
    if not panels:
        return None
    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.2 * nrows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        _setup(ax, panel["title"], "training iteration", panel["ylabel"])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for i, (label, xs, ys) in enumerate(panel["lines"]):
            ax.plot(xs, ys, color=LINE_COLORS[i % len(LINE_COLORS)], linewidth=1.6, label=label,
                    marker="o" if len(xs) <= 30 else None, markersize=3)
        if len(panel["lines"]) > 1:
            ax.legend(fontsize=7.5, ncol=2 if len(panel["lines"]) > 3 else 1, framealpha=0.85,
                      edgecolor="#dddddd")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout(h_pad=1.6, w_pad=1.6)
    return _save(fig, path)


def plot_metric_comparison(eval_metrics: dict | None, sim2sim_metrics: dict | None,
                           path: str | os.PathLike) -> Path | None:
    """One grouped bar chart per metric: for each clip (and overall) an eval bar and a sim2sim bar."""
    reports = {k: v for k, v in (("eval (Isaac Lab)", eval_metrics), ("sim2sim (MuJoCo)", sim2sim_metrics))
               if isinstance(v, dict)}
    if not reports:
        return None
    clips = []
    for rep in reports.values():
        for name in rep.get("clips", {}) or {}:
            if name not in clips:
                clips.append(name)
    groups = clips + ["overall"]
    metrics = [m for m in EVAL_METRICS if m != "success_rate"
               and any(m in (rep.get("overall") or {}) for rep in reports.values())]
    if not metrics:
        return None
    ncols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    width = max(4.6, 0.55 * len(groups) + 1.8)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.3 * nrows), squeeze=False)
    n = len(reports)
    bar = 0.8 / n
    any_failed = False
    for ax, m in zip(axes.flat, metrics):
        label, json_unit = EVAL_METRICS[m]
        units = next((rep.get("units", {}).get(m) for rep in reports.values() if rep.get("units", {}).get(m)), json_unit)
        shown = display(0.0, units)[1]
        _setup(ax, label[0].upper() + label[1:], "clip", f"{m} [{shown}]", grid_axis="y")
        top = 0.0
        for j, (name, rep) in enumerate(reports.items()):
            color = EVAL_COLOR if name.startswith("eval") else SIM2SIM_COLOR
            for i, g in enumerate(groups):
                src = rep.get("overall") if g == "overall" else (rep.get("clips") or {}).get(g)
                v = (src or {}).get(m)
                if not (isinstance(v, (int, float)) and math.isfinite(v)):
                    continue
                v = display(v, units)[0]
                failed = g != "overall" and (src or {}).get("success") is False
                any_failed |= failed
                ax.bar(i + (j - (n - 1) / 2) * bar, v, width=bar * 0.95, color=color,
                       hatch="///" if failed else None, edgecolor="white" if failed else color, linewidth=0)
                top = max(top, v)
        ax.set_xlim(-0.6, len(groups) - 0.4)
        if top > 0:
            ax.set_ylim(0, top * 1.08)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups, rotation=30 if len(groups) > 4 else 0, ha="right" if len(groups) > 4 else "center",
                           fontsize=8.5)
        ax.get_xticklabels()[-1].set_fontweight("bold")
    handles = [Patch(color=EVAL_COLOR if k.startswith("eval") else SIM2SIM_COLOR, label=k) for k in reports]
    if any_failed:
        handles.append(Patch(facecolor="#999999", hatch="///", edgecolor="white",
                             label="clip failed (errors over the steps before the fall)"))
    fig.legend(handles=handles, loc="upper right", ncol=len(handles), fontsize=9, frameon=False,
               bbox_to_anchor=(1.0, 1.0))
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle("Tracking error per clip — lower is better", fontsize=11.5, fontweight="bold", x=0.01, ha="left")
    fig.tight_layout(h_pad=1.6, w_pad=1.6, rect=(0, 0, 1, 0.97))
    return _save(fig, path)
