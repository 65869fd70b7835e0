"""The tracking MDP learns: a fixed-seed CPU training of Mimic-Track-G1 (the demo's CPU preset:
32 envs, its exploration std) on the shipped walk sample, where the episode length and the tracking
reward must rise by the stated factors between the first and the last iterations
(``mimiclab.demo.curves.learning_figures``: means over 10 iterations at each end, after the first 5).
It does not yet: the test is a strict xfail with the measured figures in its reason.

The same file runs the deliberately broken variants by hand, to show the test can fail:

    python tests/tasks/tracking/test_learning.py --variant zero-tracking-rewards OUT_DIR CLIP.npz
    python tests/tasks/tracking/test_learning.py --variant broken-clock OUT_DIR CLIP.npz

``zero-tracking-rewards`` sets the weight of every tracking term to 0; ``broken-clock`` makes the
reference time ``start + episode_length_buf·dt`` (the defect fixed in the command, with rsl_rl's
``init_at_random_ep_len``), so each env's reference starts up to an episode ahead of the robot.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ITERATIONS = 80
NUM_ENVS = 32
SEED = 1
EPISODE_LENGTH_FACTOR = 1.5  # last ÷ first, episode length
TRACKING_REWARD_FACTOR = 1.5  # last ÷ first, tracking reward
VARIANTS = ("as-is", "zero-tracking-rewards", "broken-clock")
EXPERIMENT = "learning_check"


def train_args(clips: list[str], variant: str) -> list[str]:
    from mimiclab.demo.presets import PRESETS
    from mimiclab.deploy.tracking_mdp import TRACKING_REWARD_TERMS

    args = ["train", "--task", "Mimic-Track-G1", "--motion", *clips, "--num_envs", str(NUM_ENVS),
            "--max_iterations", str(ITERATIONS), "--seed", str(SEED), "--device", "cpu",
            f"agent.experiment_name={EXPERIMENT}", f"agent.save_interval={ITERATIONS}",
            *PRESETS["cpu-quick"].train_overrides]
    if variant == "zero-tracking-rewards":
        args += [f"env.rewards.{t}.weight=0.0" for t in TRACKING_REWARD_TERMS]
    return args


def break_the_clock() -> None:
    """The reference time follows Isaac Lab's episode_length_buf (randomised at the start of a run)."""
    from mimiclab.tasks.tracking.mdp.commands import MotionCommand

    MotionCommand.elapsed_steps = property(lambda self: self._env.episode_length_buf.clone())


def figures(out: Path) -> dict:
    from mimiclab.demo.curves import learning_figures, read_training_curves
    from mimiclab.deploy.tracking_mdp import TRACKING_REWARD_TERMS

    runs = sorted((out / "logs" / "rsl_rl" / EXPERIMENT).iterdir())
    return learning_figures(read_training_curves(runs[-1]), TRACKING_REWARD_TERMS)


def verdict(f: dict) -> list[str]:
    """The failed criteria (empty: the run learned)."""
    bad = []
    if not f["episode_length_ratio"] >= EPISODE_LENGTH_FACTOR:
        bad.append(f"episode length rose {f['episode_length_ratio']:.2f}× (need ≥ {EPISODE_LENGTH_FACTOR}×)")
    if not (f["tracking_reward_first"] > 0 and f["tracking_reward_ratio"] >= TRACKING_REWARD_FACTOR):
        bad.append(f"tracking reward {f['tracking_reward_first']:.3f} → {f['tracking_reward_last']:.3f} "
                   f"(need > 0 and ≥ {TRACKING_REWARD_FACTOR}×)")
    return bad


@pytest.mark.xfail(strict=True, reason="known open defect (issue 14): the CPU preset does not learn in 80 iterations. "
                   "Measured here (seed 1, walk, 32 envs): with the preset's adaptive schedule the learning rate sits at "
                   "its 1e-5 floor from the first iteration (episode length flat at 25-26 steps); with a fixed 1e-3 the "
                   "episode length goes 26.1 -> 27.0 (x1.03) and the tracking reward 0.125 -> 0.124 while the entropy "
                   "bonus grows the std 0.30 -> 0.39; the broken variants (fixed 1e-3): zero tracking rewards x0.45, "
                   "broken clock x1.12. Strict: CI fails the day it passes, so the marker must then go")
def test_tracking_policy_learns_on_the_walk_clip(tmp_path, two_clips):
    walk = str(two_clips[0])
    res = subprocess.run([sys.executable, __file__, "--variant", "as-is", str(tmp_path), walk], cwd=tmp_path,
                         capture_output=True, text=True, timeout=1800, env={**os.environ})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    f = json.loads(res.stdout.strip().splitlines()[-1])
    assert f["iterations"] >= ITERATIONS - 5, f  # every iteration after the first episodes ended logged both
    assert not verdict(f), (verdict(f), f)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="one learning-check training run; prints its figures as JSON "
                                            "(last line) and the verdict on stderr")
    p.add_argument("--variant", choices=VARIANTS, default="as-is", help="as-is, or a deliberately broken MDP")
    p.add_argument("out", type=Path, help="folder for the run (logs/ goes here)")
    p.add_argument("clips", nargs="+", help="motion files")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    os.chdir(a.out)
    if a.variant == "broken-clock":
        break_the_clock()
    from mimiclab.cli import main as cli

    rc = cli(train_args(a.clips, a.variant))
    if rc:
        return rc
    f = figures(a.out)
    bad = verdict(f)
    print(f"{a.variant}: {'FAILS: ' + '; '.join(bad) if bad else 'learns'}", file=sys.stderr)
    print(json.dumps({"variant": a.variant, **f}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
