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


PACE_TAGS = ("Perf/collection_time", "Perf/learning_time")  # rsl_rl, seconds per iteration


def training_pace(log_dirs) -> dict[str, float] | None:
    """Median seconds per PPO iteration spent collecting experience (env steps) and learning, and the
    iterations per minute they make (rsl_rl's ``Perf/*`` scalars over every iteration of the run
    folders; process start-up and env construction are not included). None without those scalars."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    values: dict[str, list[float]] = {t: [] for t in PACE_TAGS}
    for folder in log_dirs:
        for path in event_files(folder):
            acc = ea.EventAccumulator(str(path), size_guidance={ea.SCALARS: 0})
            try:
                acc.Reload()
            except Exception:  # noqa: BLE001 - a truncated file: read_training_curves names it
                continue
            for tag in PACE_TAGS:
                if tag in acc.Tags().get(ea.SCALARS, []):
                    values[tag] += [float(ev.value) for ev in acc.Scalars(tag) if math.isfinite(ev.value)]
    if not all(values.values()):
        return None
    collection, learning = (sorted(values[t])[len(values[t]) // 2] for t in PACE_TAGS)
    return {"collection_s": collection, "learning_s": learning,
            "iterations_per_minute": 60.0 / (collection + learning) if collection + learning > 0 else float("nan"),
            "iterations_timed": len(values[PACE_TAGS[0]])}


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


# The learning figures (the CI learning test and the demo report state the same ones).
LEARNING_WINDOW = 10  # iterations averaged at each end of a run
# Leading iterations left out: rsl_rl's episode length averages the episodes that *ended* in an
# iteration, so the first iterations (24 steps each) only see the episodes short enough to end
# there — a low bias that would pass for learning.
LEARNING_SKIP = 5
EPISODE_LENGTH_TAG = "Train/mean_episode_length"


def learning_figures(curves: dict[str, list[float | None]], tracking_terms: tuple[str, ...],
                     window: int = LEARNING_WINDOW, skip: int = LEARNING_SKIP) -> dict[str, float]:
    """Did the run learn? Means over the first `window` logged iterations after the first `skip`
    (see LEARNING_SKIP) and over the last `window` logged iterations of the episode
    length [control steps] and of the tracking reward (the sum of ``Episode_Reward/<term>`` over
    `tracking_terms`, each an episode sum ÷ the maximum episode length [1/s]), and their ratios
    last ÷ first. Iterations where a curve has no value (None or NaN: no episode ended yet) are left
    out. ValueError when a curve is missing or fewer than 2·window iterations remain."""
    def ends(values: list[float]) -> tuple[float, float]:
        if len(values) < skip + 2 * window:
            raise ValueError(f"learning figures: {len(values)} logged iterations, need at least {skip + 2 * window}")
        return sum(values[skip:skip + window]) / window, sum(values[-window:]) / window

    its = curves.get("iteration") or []
    tags = [EPISODE_LENGTH_TAG, *(f"Episode_Reward/{t}" for t in tracking_terms)]
    missing = [t for t in tags if t not in curves]
    if missing:
        raise ValueError(f"learning figures: the run logged no '{missing[0]}'")
    rows = [i for i in range(len(its)) if all(curves[t][i] is not None and math.isfinite(curves[t][i]) for t in tags)]
    length = [curves[EPISODE_LENGTH_TAG][i] for i in rows]
    reward = [sum(curves[f"Episode_Reward/{t}"][i] for t in tracking_terms) for i in rows]
    l0, l1 = ends(length)
    r0, r1 = ends(reward)
    return {"iterations": len(rows), "window": window, "skip": skip,
            "episode_length_first": l0, "episode_length_last": l1, "episode_length_ratio": l1 / max(l0, 1e-9),
            "tracking_reward_first": r0, "tracking_reward_last": r1,
            "tracking_reward_ratio": r1 / r0 if r0 > 0 else float("nan")}
