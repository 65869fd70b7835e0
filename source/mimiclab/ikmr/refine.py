"""Physics refinement of the learned retargeter: fine-tune its decoder on what a GMT tracking policy
actually executes in Isaac Lab, and report trackability before and after.

    report = refine_model("models/retarget", "logs/.../model_1000.pt", ["data/bandai"], "refined")

1. IK pairs of `data` (``retarget.learned.pairs``, reused when present) give the clips: the training
   split to learn from, the held-out split to report on (the training clips when there is none).
2. References: the learned model's motion of every clip (``retarget_learned``), and the IK motion of
   each reported clip, written to ``OUT/references/<clip>.learned.npz`` / ``<clip>.ik.npz``.
3. One rollout (``rl.executed.rollout_executed``: eval's rollout, deterministic actor) of the policy
   on all of them. Of the training clips, what the policy executed while it tracked gives executed
   pairs: the clip's human side with the robot side replaced by the executed motion
   (``OUT/executed_pairs/``; physically feasible by construction: the simulator ran it). A clip
   tracked to its end (``success``) is kept whole; one that terminated keeps the frames before the
   last ``FALL_MARGIN_S`` of its tracked time (the fall begins there), when ``MIN_KEPT_S`` or more.
4. Fine-tune: the decoder (decoder + head; the encoders stay frozen) on the executed pairs with the
   training losses (``retarget.learned.losses``): translation toward the executed motion, and the
   kinematic terms (FK body positions, smoothness, foot contact) as the regulariser; the IK pairs of
   the held-out clips give the held-out body error vs IK as usual → ``OUT/model/model.pt``.
5. The refined model's references of the reported clips, rolled out → the trackability table:
   per reference kind (ik, learned, refined), success rate, mean MPKPE [m] (eval's ``mpkpe``) and
   time tracked; ``OUT/refine_report.json``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

KINDS = ("ik", "learned", "refined")
FALL_MARGIN_S = 0.25  # seconds cut before a termination: the robot was already leaving the reference
MIN_KEPT_S = 0.5  # shortest executed segment worth learning from [s]


def kept_frames(e, fps: float) -> int:
    """Frames of executed clip `e` to learn from: all when it succeeded, else the tracked prefix less
    FALL_MARGIN_S; 0 when that is shorter than MIN_KEPT_S."""
    if e.success:
        return e.motion.num_frames
    n = int(round((e.tracked_s - FALL_MARGIN_S) * fps)) + 1
    return n if n >= MIN_KEPT_S * fps else 0


def _write_motion(path: Path, root_pos, root_quat, joint_pos, fps: float, meta: dict) -> str:
    from mimiclab.motion.format import save_motion
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.robots.g1 import G1

    motion = motion_from_joint_trajectory(np.asarray(root_pos, np.float64), np.asarray(root_quat, np.float64),
                                          np.asarray(joint_pos, np.float64), fps, joint_names=G1.joint_names,
                                          meta=meta)
    save_motion(path, motion)
    return str(path)


def _learned_refs(net, pairs: list[dict], folder: Path, kind: str, settings) -> dict[str, str]:
    """The model's motion of each pair's source clip → {clip name: reference file}."""
    from mimiclab.retarget.learned.inference import retarget_learned
    from mimiclab.retarget.sources.detect import load_human_motion

    humans = [load_human_motion(p["meta"]["source"]) for p in pairs]
    from mimiclab.motion.format import save_motion

    out = {}
    for p, r in zip(pairs, retarget_learned(humans, net, settings, quality=False)):
        path = folder / f"{p['name']}.{kind}.npz"
        save_motion(path, r.motion)
        out[p["name"]] = str(path)
    return out


def _executed_pair(pair: dict, motion, frames: int, out_dir: Path) -> str:
    """The pair with its robot side replaced by the first `frames` frames of the executed motion."""
    from mimiclab.motion.format import atomic_write_bytes
    from mimiclab.retarget.learned.pairs import PAIR_SUFFIX, continuous_quats
    from mimiclab.robots.g1 import G1

    order = [list(motion.joint_names).index(n) for n in G1.joint_names]
    T = min(pair["roles"].shape[0], motion.num_frames, frames)
    arrays = {k: pair[k][:T] for k in ("roles", "contacts")}
    arrays.update(present=pair["present"], log_scales=pair["log_scales"],
                  root_pos=motion.root_pos_w[:T].astype(np.float32),
                  root_quat=continuous_quats(motion.root_quat_w[:T].astype(np.float64)).astype(np.float32),
                  joint_pos=motion.joint_pos[:T][:, order].astype(np.float32),
                  meta=json.dumps({**pair["meta"], "robot_side": "executed", "executed": dict(motion.meta)},
                                  sort_keys=True, default=str))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path = out_dir / f"{pair['name']}{PAIR_SUFFIX}"
    atomic_write_bytes(path, buf.getvalue())
    return str(path)


def _trackability(executed: dict, names: list[str]) -> dict:
    """Per kind: clips, success rate, mean mpkpe [m], mean tracked seconds over `names`."""
    out = {}
    for kind in KINDS:
        rows = [executed[f"{n}.{kind}"] for n in names if f"{n}.{kind}" in executed]
        if rows:
            out[kind] = {"clips": len(rows), "success_rate": float(np.mean([r.success for r in rows])),
                         "mpkpe_m": float(np.mean([r.mpkpe_m for r in rows])),
                         "tracked_s": float(np.mean([r.tracked_s for r in rows]))}
    return out


def refine_model(model: str, policy: str, data: list[str], out_dir: str, max_clips: int | None = None,
                 iterations: int = 200, seed: int = 0, device: str = "cpu", num_envs: int | None = None,
                 pairs_dir: str | None = None, workers: int = 1, progress: bool = True) -> dict:
    """The loop of the module docstring; returns (and writes to OUT/refine_report.json) the report.
    ValueError on bad input (no clips, unreadable model or policy, max_clips / iterations < 1)."""
    from mimiclab.motion.format import atomic_write_bytes
    from mimiclab.retarget.learned.checkpoint import load_model
    from mimiclab.retarget.learned.pairs import build_pairs, read_pair, split_of
    from mimiclab.retarget.learned.training import TrainConfig, train_model
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.rl.executed import rollout_executed

    if max_clips is not None and max_clips < 1:
        raise ValueError(f"--clips must be >= 1, got {max_clips}")
    if iterations < 1:
        raise ValueError(f"--iterations must be >= 1, got {iterations}")
    if not Path(policy).is_file():
        raise ValueError(f"{policy}: no such policy checkpoint (a model_<iteration>.pt of `mimiclab train`)")
    net = load_model(model)
    settings = RetargetSettings(fps=net.cfg.fps)
    out = Path(out_dir)
    pair_paths, errors = build_pairs(data, pairs_dir or str(out / "pairs"), settings, workers=workers,
                                     progress=progress)
    if not pair_paths:
        raise ValueError("no clip of --data could be retargeted" + (f" ({errors[0]})" if errors else ""))
    pairs = [read_pair(p) for p in pair_paths]
    train = [p for p in pairs if split_of(p["name"]) == "train"][:max_clips]
    test = [p for p in pairs if split_of(p["name"]) == "test"][:max_clips]
    reported = test or train
    note = "" if test else "no held-out clip in --data: trackability is reported on the training clips"
    refs = out / "references"
    refs.mkdir(parents=True, exist_ok=True)
    files = []
    for p in reported:
        files.append(_write_motion(refs / f"{p['name']}.ik.npz", p["root_pos"], p["root_quat"], p["joint_pos"],
                                   settings.fps, {"generator": "mimiclab.retarget (IK pair)", "source": p["meta"]["source"]}))
    train_names = {p["name"] for p in train}
    learned = _learned_refs(net, train + [p for p in reported if p["name"] not in train_names], refs, "learned",
                            settings)
    files += list(learned.values())
    executed = {e.name: e for e in rollout_executed(policy, files, device=device, num_envs=num_envs,
                                                    output_dir=out / "executed")}

    kept = {p["name"]: kept_frames(executed[f"{p['name']}.learned"], settings.fps) for p in train}
    kept = {n: k for n, k in kept.items() if k}
    summary = {"model": str(model), "policy": str(policy), "note": note, "skipped": errors,
               "train_clips": [p["name"] for p in train], "reported_clips": [p["name"] for p in reported],
               "kept_clips": sorted(kept), "kept_frames": kept,
               "tracked_to_end": sorted(n for n in kept if executed[f"{n}.learned"].success),
               "fine_tuned": bool(kept)}
    if kept:
        exe_dir = out / "executed_pairs"
        exe_dir.mkdir(parents=True, exist_ok=True)
        exe_pairs = [_executed_pair(p, executed[f"{p['name']}.learned"].motion, kept[p["name"]], exe_dir)
                     for p in train if p["name"] in kept]
        held_out = [pp for pp, p in zip(pair_paths, pairs) if split_of(p["name"]) == "test"]
        for name, param in net.named_parameters():
            param.requires_grad_(name.startswith(("decoder.", "head.")))
        cfg = TrainConfig(iterations=iterations, batch=16, window=min(64, min(kept.values())),
                          lr=3e-4, seed=seed, eval_every=iterations, checkpoint_every=iterations + 1, mirror=True)
        fit = train_model(exe_pairs + held_out, out / "model", cfg, init=net, progress=progress,
                          tensorboard=True, device="cpu")
        for param in net.parameters():
            param.requires_grad_(True)
        refined = load_model(out / "model")
        summary["fine_tune"] = {k: fit[k] for k in ("iterations", "seconds", "heldout_body_error_m", "history")}
        summary["refined_model"] = str(out / "model" / "model.pt")
        ref_files = list(_learned_refs(refined, reported, refs, "refined", settings).values())
        executed.update({e.name: e for e in rollout_executed(policy, ref_files, device=device, num_envs=num_envs,
                                                             output_dir=out / "executed")})
    summary["trackability"] = _trackability(executed, [p["name"] for p in reported])
    summary["per_clip"] = {n: {"success": e.success, "mpkpe_m": e.mpkpe_m, "tracked_s": e.tracked_s}
                           for n, e in executed.items()}
    atomic_write_bytes(out / "refine_report.json", json.dumps(summary, indent=2, sort_keys=True, default=str).encode())
    return summary


def format_report(summary: dict) -> str:
    """The trackability table and what was kept (rich, rendered to text)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120, record=True, file=io.StringIO(), color_system=None, markup=False, highlight=False)
    if summary["note"]:
        console.print(summary["note"])
    console.print(f"rolled out the learned model on {len(summary['train_clips'])} training clips: "
                  f"{len(summary['tracked_to_end'])} tracked to the end, {len(summary['kept_clips'])} kept "
                  f"({sum(summary['kept_frames'].values())} executed frames)")
    if summary["fine_tuned"]:
        f = summary["fine_tune"]
        err = f["heldout_body_error_m"]
        console.print(f"fine-tuned the decoder for {f['iterations']} iterations in {f['seconds']:.0f} s"
                      + ("" if err is None else f"; held-out body error vs IK {err * 100:.2f} cm"))
    else:
        console.print(f"no rollout tracked {MIN_KEPT_S:g} s or more: nothing to learn from, the model was not fine-tuned")
    t = Table(title=f"trackability of the policy on {len(summary['reported_clips'])} clips, per reference")
    for col in ("reference", "clips", "success rate", "MPKPE [mm]", "tracked [s]"):
        t.add_column(col, justify="left" if col == "reference" else "right")
    for kind, r in summary["trackability"].items():
        t.add_row(kind, str(r["clips"]), f"{r['success_rate']:.0%}", f"{r['mpkpe_m'] * 1e3:.1f}", f"{r['tracked_s']:.2f}")
    console.print(t)
    return console.export_text()
