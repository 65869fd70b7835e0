"""Training curves of an rsl_rl run, read back from the TensorBoard event files it wrote.

    curves = read_training_curves("logs/rsl_rl/g1_tracking/2025-01-01_12-00-00")
    curves["iteration"]            # [0, 1, 2, ...]
    curves["Train/mean_reward"]    # one value per iteration (None where the tag has none)

rsl_rl 5.5 (``rsl_rl.utils.logger.Logger.log``) writes with ``torch.utils.tensorboard.SummaryWriter``
into the run folder, one scalar per tag per learning iteration (global step = iteration):

* ``Train/mean_reward``, ``Train/mean_episode_length`` (episode length in control steps; only once
  an episode has ended, so the first iterations may lack them);
* every key of the env's ``extras["log"]`` that contains a ``/``, as is (averaged over the
  iteration's resets): Isaac Lab's ``ManagerBasedRLEnv`` puts ``Episode_Reward/<term>`` (the term's
  episodic sum divided by the maximum episode length in seconds), ``Episode_Termination/<term>``
  (fraction of envs whose last episode that term ended) and ``Metrics/<command>/<metric>`` (the
  command's metric at episode end) there — the tracking command ``motion`` logs
  ``error_anchor_pos`` [m], ``error_anchor_rot`` [rad], ``error_body_pos`` [m],
  ``error_joint_pos`` [rad] and ``sampling_entropy`` (of the adaptive clip sampler);
* ``Loss/*``, ``Policy/mean_std``, ``Perf/*`` and the ``*/time`` variants (x = seconds), which the
  report does not plot and this reader leaves out.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

EXACT_TAGS = ("Train/mean_reward", "Train/mean_episode_length")
TAG_PREFIXES = ("Episode_Reward/", "Metrics/", "Episode_Termination/")
EVENT_GLOB = "events.out.tfevents.*"


def wanted_tag(tag: str) -> bool:
    """Whether `tag` is one of the scalars the report plots (module docstring)."""
    return tag in EXACT_TAGS or tag.startswith(TAG_PREFIXES)


def event_files(log_dir: str | os.PathLike) -> list[Path]:
    """The TensorBoard event files of a run folder (in it, or below it), oldest name first."""
    folder = Path(log_dir)
    files = sorted(folder.glob(EVENT_GLOB)) or sorted(folder.rglob(EVENT_GLOB))
    return [f for f in files if f.is_file()]


def read_training_curves(log_dir: str | os.PathLike) -> dict[str, list[float | None]]:
    """``{"iteration": [...], tag: [...]}`` for the plotted tags present in the run folder's event
    files (``wanted_tag``; absent tags are simply absent). Every list is aligned with
    ``"iteration"`` (the sorted union of the logged steps); a tag without a value at an iteration
    has ``None`` there. Where a resumed run logged a step twice, the later write wins. A folder with
    no event file (or that is not a folder) raises a one-line ValueError naming it."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    folder = Path(log_dir)
    if not folder.is_dir():
        raise ValueError(f"training curves: {folder} is not a folder")
    files = event_files(folder)
    if not files:
        raise ValueError(f"training curves: no TensorBoard event file ({EVENT_GLOB}) in {folder}")
    points: dict[str, dict[int, tuple[float, float]]] = {}  # tag → step → (wall_time, value)
    for path in files:
        acc = ea.EventAccumulator(str(path), size_guidance={ea.SCALARS: 0})  # 0: keep every point
        try:
            acc.Reload()
        except Exception as e:  # noqa: BLE001 - a truncated file (run killed mid-write) must not sink the report
            raise ValueError(f"training curves: unreadable event file {path} ({type(e).__name__}: {e})") from e
        for tag in acc.Tags().get(ea.SCALARS, []):
            if not wanted_tag(tag):
                continue
            steps = points.setdefault(tag, {})
            for ev in acc.Scalars(tag):
                old = steps.get(ev.step)
                if old is None or ev.wall_time >= old[0]:
                    steps[ev.step] = (ev.wall_time, float(ev.value))
    iterations = sorted({s for steps in points.values() for s in steps})
    out: dict[str, list[float | None]] = {"iteration": [int(i) for i in iterations]}
    for tag in sorted(points, key=_tag_order):
        steps = points[tag]
        out[tag] = [_finite(steps[i][1]) if i in steps else None for i in iterations]
    return out


def _finite(v: float) -> float | None:
    """NaN/inf → None, so the curves stay valid JSON (demo.json) and plot as gaps."""
    return v if math.isfinite(v) else None


def _tag_order(tag: str) -> tuple[int, str]:
    for i, t in enumerate(EXACT_TAGS):
        if tag == t:
            return (i, tag)
    for i, p in enumerate(TAG_PREFIXES):
        if tag.startswith(p):
            return (len(EXACT_TAGS) + i, tag)
    return (99, tag)
