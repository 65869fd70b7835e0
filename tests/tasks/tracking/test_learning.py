"""The tracking MDP learns: a fixed-seed CPU training of Mimic-Track-G1 (the demo's CPU preset:
32 envs, its exploration std and KL target) on the shipped ``arm_wave`` sample, where the episode
length and the tracking reward must rise by the stated factors between the first and the last
iterations (``mimiclab.demo.curves.learning_figures``: means over 10 iterations at each end, after
the first 5).

Why ``arm_wave``: standing still with the arms raised, a zero action (the clip played back through
the PD loop) already keeps the robot up, but the soft reference gains let the arms sag under gravity
(shoulder roll 0.3 rad behind at 4.7 N·m) until a wrist falls 0.25 m below the reference and the
end-effector termination ends the episode after about 27 steps; learning the compensation is what
makes episodes longer, and it is visible within a few CPU minutes. On ``walk`` the policy must also
learn to balance, which takes far more samples than a CPU test affords (README, "Learning test").

The same file runs the deliberately broken variants by hand, to show the test can fail:

    python tests/tasks/tracking/test_learning.py --variant zero-tracking-rewards OUT_DIR CLIP.npz
    python tests/tasks/tracking/test_learning.py --variant broken-clock OUT_DIR CLIP.npz

``zero-tracking-rewards`` sets the weight of every tracking term to 0; ``broken-clock`` stops the
command's clock from restarting with the episode (the reference time is ``start + s·dt`` with s the
env's step counter since the run began, not since the env's reset), so from each env's second
episode on the reference runs ahead of the robot. (The defect the command's own clock fixed,
``start + episode_length_buf·dt`` under rsl_rl's ``init_at_random_ep_len``, moves only each env's
first episode and the first after a ``--resume``: no learning curve can see it; the clock's
known-answer test in test_g1_tracking_task.py does.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


ITERATIONS = 200
NUM_ENVS = 32
SEED = 1
EPISODE_LENGTH_FACTOR = 1.4  # last ÷ first, episode length (measured: ×1.73 seed 1, ×1.58 seed 2)
TRACKING_REWARD_FACTOR = 1.4  # last ÷ first, tracking reward (measured: ×1.59 seed 1, ×1.56 seed 2)
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
    """The command's clock does not restart with the episode: elapsed steps count from the run's start."""
    import torch

    from mimiclab.tasks.tracking.mdp.commands import MotionCommand

    MotionCommand.elapsed_steps = property(
        lambda self: torch.full_like(self.start_steps, int(getattr(self._env, "common_step_counter", 0))))


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


def test_tracking_policy_learns_on_the_arm_wave_clip(tmp_path, two_clips):
    arm_wave = str(two_clips[1])
    assert Path(arm_wave).stem == "arm_wave"
    res = subprocess.run([sys.executable, __file__, "--variant", "as-is", str(tmp_path), arm_wave], cwd=tmp_path,
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
    a.out = a.out.resolve()  # the run chdirs into it
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
