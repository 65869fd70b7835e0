"""`mimiclab retarget-model train` (IK pairs from human mocap, then training, with a summary) and
`mimiclab retarget-model refine` (``mimiclab.ikmr.refine``: fine-tune on what a policy executes)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path


def train_command(args) -> int:
    """Make (or reuse) the IK pairs of --data, train the preset, print the figures; 0 on success."""
    from mimiclab.cli import CliError
    from mimiclab.retarget.learned.pairs import training_pairs
    from mimiclab.retarget.learned.training import PRESETS, train_model

    model_cfg, cfg = copy.deepcopy(PRESETS["quick" if args.quick else args.preset])
    if args.iterations is not None:
        if args.iterations < 1:
            raise CliError(f"--iterations must be >= 1, got {args.iterations}")
        cfg.iterations = args.iterations
        cfg.eval_every = min(cfg.eval_every, args.iterations)
    cfg.seed = args.seed
    out = Path(args.output)
    try:
        pairs, errors = training_pairs(args.data, args.pairs or str(out / "pairs"), args.workers)
    except ValueError as e:
        raise CliError(str(e)) from None
    for e in errors:
        print(f"mimiclab retarget-model: skipped: {e}", file=sys.stderr)
    try:
        s = train_model(pairs, out, cfg, model_cfg, tensorboard=not args.no_tensorboard, device=args.device)
    except ValueError as e:
        raise CliError(str(e)) from None
    err = s["heldout_body_error_m"]
    print(f"trained {s['iterations']} iterations in {s['seconds']:.0f} s on {s['train_clips']} clips "
          f"(with mirrors; {s['train_frames']} frames)" + (f"; {s['stopped']}" if s["stopped"] else ""))
    print(f"held-out clips: {len(s['test_clips'])}; mean body-position error vs IK: "
          + ("n/a (no held-out clip)" if err is None else f"{err * 100:.2f} cm"))
    print(f"model: {out / 'model.pt'}")
    return 0


def refine_command(args) -> int:
    """Roll the policy out on the model's references, fine-tune on the executed ones, print the
    trackability table; 0 when the model was fine-tuned, 1 when no rollout gave frames to learn from."""
    from mimiclab.cli import CliError
    from mimiclab.ikmr.refine import format_report, refine_model

    try:
        summary = refine_model(args.model, args.policy, args.data, args.output, max_clips=args.clips,
                               iterations=args.iterations, seed=args.seed, device=args.device,
                               num_envs=args.num_envs, pairs_dir=args.pairs)
    except ValueError as e:
        raise CliError(str(e)) from None
    print(format_report(summary))
    print(f"report: {Path(args.output) / 'refine_report.json'}")
    if not summary["fine_tuned"]:
        print("mimiclab retarget-model refine: no rollout was tracked long enough to learn from; nothing was fine-tuned",
              file=sys.stderr)
        return 1
    print(f"refined model: {summary['refined_model']}")
    return 0
