"""`mimiclab generate` (text or human-motion intent → a G1 motion file) and
`mimiclab generate train` (IK pairs from mocap, then every network of ``training``)."""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

MEDIA_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".jpg", ".jpeg", ".png", ".bmp"}


def train_command(args) -> int:
    """Make (or reuse) the IK pairs of --data, train the preset, print the held-out figures."""
    from mimiclab.cli import CliError
    from mimiclab.retarget.learned.pairs import training_pairs
    from mimiclab.robomirror.training import PRESETS, train_model

    net_cfg, cfg = copy.deepcopy(PRESETS["quick" if args.quick else args.preset])
    cfg.seed = args.seed
    out = Path(args.output)
    try:
        pairs, errors = training_pairs(args.data, args.pairs or str(out / "pairs"), args.workers)
    except ValueError as e:
        raise CliError(str(e)) from None
    for e in errors:
        print(f"mimiclab generate train: skipped: {e}", file=sys.stderr)
    s = train_model(pairs, out, cfg, net_cfg, tensorboard=not args.no_tensorboard, device=args.device)
    h = s["heldout"]
    print(f"trained in {s['seconds']:.0f} s on {s['train_clips']} clips" + (f"; {s['stopped']}" if s["stopped"] else ""))
    if h:
        print(f"held-out clips: {h['clips']}; human-motion intent → text R@1 {h['intent_text_r1']:.2f}, "
              f"R@3 {h['intent_text_r3']:.2f} (of {h['texts']} texts), action R@1 {h['intent_action_r1']:.2f}; "
              f"evaluator classifier on real motion {h['classifier_accuracy_real']:.2f} (chance {1 / h['actions']:.2f})")
    else:
        print("held-out clips: none (too few clips for a held-out split)")
    print(f"model: {out / 'model.pt'}")
    return 0


def load_intent_source(path: str):
    """A human-motion file (mocap, keypoint npz/json) or a video/image (→ keypoints through
    ``mimiclab keypoints``' estimator first) → HumanMotion."""
    import tempfile

    from mimiclab.retarget.sources.detect import load_human_motion

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{path}: no such file")
    if p.suffix.lower() not in MEDIA_SUFFIXES:
        return load_human_motion(p)
    from mimiclab.video_pose.convert import keypoints_from_media

    with tempfile.TemporaryDirectory() as tmp:
        kp = Path(tmp) / (p.stem + ".npz")
        keypoints_from_media(p, kp)
        return load_human_motion(kp)


def _start_state(path: str):
    """The last two frames of a G1 motion file (root_pos, root_quat, joint_pos) at the output rate."""
    import numpy as np

    from mimiclab.motion.format import load_motion
    from mimiclab.robomirror.generation import OUTPUT_FPS
    from mimiclab.robots.g1 import G1

    m = load_motion(path).select(joint_names=G1.joint_names, where=path)
    if m.num_frames < 2:
        raise ValueError(f"{path}: --continue-from needs a motion with at least 2 frames")
    step = max(1, int(round(m.fps / OUTPUT_FPS)))
    i = [m.num_frames - 1 - step, m.num_frames - 1]
    i[0] = max(i[0], 0)
    return (np.asarray(m.root_pos_w[i], np.float64), np.asarray(m.root_quat_w[i], np.float64),
            np.asarray(m.joint_pos[i], np.float64))


def generate_command(args) -> int:
    """Intent (--text or --video) → motion file at --output; prints what the intent reads as."""
    import torch

    from mimiclab.cli import CliError
    from mimiclab.motion.format import save_motion
    from mimiclab.robomirror.checkpoint import load_model
    from mimiclab.robomirror.evaluation import text_bank
    from mimiclab.robomirror.generation import generate_motion, human_intent, text_intent

    if (args.text is None) == (args.video is None):
        raise CliError("give exactly one intent: --text \"PROMPT\" or --video FILE")
    out = Path(args.output)
    if out.suffix.lower() != ".npz":
        raise CliError(f"-o {args.output}: the output is a mimiclab motion file and must end in .npz")
    if args.model is None:
        raise CliError("--model MODEL_DIR is needed (train one with `mimiclab generate train --data DIR -o MODEL_DIR`)")
    model = load_model(args.model)
    t0 = time.perf_counter()
    if args.text is not None:
        intent, source = text_intent(model, args.text), {"text": args.text}
    else:
        intent, source = human_intent(model, load_intent_source(args.video)), {"video": str(args.video)}
    start = _start_state(args.continue_from) if args.continue_from else None
    motion = generate_motion(model, intent, args.seconds, args.seed, args.guidance, args.steps, args.method,
                             start, meta={"intent": source})
    seconds = time.perf_counter() - t0
    scores = (intent @ text_bank(model).T)[0]
    top = torch.topk(scores, min(3, scores.shape[0]))
    reads = ", ".join(f"'{model.texts[i]}' {float(s):.2f}" for s, i in zip(top.values, top.indices))
    save_motion(out, motion)
    print(f"intent reads as: {reads}")
    print(f"wrote {out}: {motion.num_frames} frames at {motion.fps:g} fps ({motion.duration:.2f} s), "
          f"{args.method}, seed {args.seed}, guidance {args.guidance:g}, {seconds:.2f} s")
    return 0
