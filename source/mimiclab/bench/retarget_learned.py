"""`mimiclab bench retarget --learned MODEL_DIR`: the learned retargeter (alone and with an IK
polish) beside the IK retargeter on the held-out clips; every quality figure and frames/s.

Clips (default): the Bandai Namco files of ``../shared/data/bandai`` in the learned model's held-out
split (``retarget.learned.pairs.split_of`` of the file stem: never seen in training), sorted; or
``--inputs``. Each clip is parsed once; parsing is not timed for any method.

Quality: each method's motion is measured by the one function the IK report uses,
``quality_metrics(motion, plain_targets, contacts)`` with the same plain targets and contact flags
(mimiclab's own, from the source); the table gives the mean over clips per figure and, per figure,
whether learned+polish is no worse than IK. ``body_error_vs_ik_m``: mean distance over frames and all
G1 bodies between a method's motion and the IK motion of the same clip (frame-weighted over clips).

Frames/s (one process, output frames / wall seconds over all clips, each stage measured beside the
others in this run, every method warmed up first):
- ``ik``: ``retarget_human`` per clip (roles, contacts, two sequence IK solves, ground lift, its report);
- ``learned``: ``retarget_learned`` on all clips at once, batched (roles, contacts, network, velocity
  clamp, ground lift, motion with bodies) without the report; ``learned + report`` the same with it;
- ``network``: the batched network calls alone on the prepared clips (windows of all clips);
- ``learned+polishN`` (with and without the report): as learned, plus N IK iterations per frame.
The 20,000 frames/s target is checked on ``learned`` (the retargeting path a user runs, batched).
"""

from __future__ import annotations

import gc
import io
import time
import warnings
from pathlib import Path

import numpy as np

from mimiclab.bench.retarget_quality import _fmt, _numeric, direction

SHARED_BANDAI = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "bandai"
THROUGHPUT_TARGET = 20_000.0  # output frames/s for the learned path (the target, 2-core CPU)
REL_TOL = 1e-6  # a figure within this relative distance of IK's counts as equal


def heldout_clips(root: Path = SHARED_BANDAI) -> list[str]:
    """The held-out-split mocap files under `root` (sorted; [] when absent)."""
    from mimiclab.retarget.learned.pairs import split_of

    return sorted(str(p) for p in root.rglob("*.bvh") if split_of(p.stem) == "test") if root.is_dir() else []


def _no_worse(key: str, learned: float, ik: float) -> bool | None:
    """True when `learned` is as good as `ik` or better on figure `key` (None: informational)."""
    d = direction(key)
    if d is None:
        return None
    if not np.isfinite(learned):
        return not np.isfinite(ik)
    tol = REL_TOL * max(1.0, abs(ik))
    return learned <= ik + tol if d == "lower" else learned >= ik - tol


def _timed(fn, repeats: int = 1):
    """(result of the last call, best wall seconds of `repeats` calls), each call started after a
    garbage collection (the bench holds every method's results; a user's run holds one)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        out = None
        gc.collect()
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def _network_seconds(net, preps: list[dict], fps: float) -> float:
    """Best wall seconds of the batched network calls alone (``predict_clips``) on all clips."""
    from mimiclab.retarget.learned.inference import predict_clips

    predict_clips(net, preps, fps)  # warm
    return _timed(lambda: predict_clips(net, preps, fps), repeats=3)[1]


def bench_retarget_learned(model: str, inputs: list[str] | None = None, max_clips: int | None = None,
                           polish: int | None = None, verbose: bool = True, fps: float | None = None) -> list[dict]:
    """The comparison of the module docstring → records (one ``retarget_learned`` record per method
    and stage, one ``retarget_learned_verdict`` record); prints the tables when `verbose`."""
    from tqdm import tqdm

    from mimiclab.motion.input_warning import MotionInputWarning
    from mimiclab.retarget.learned.checkpoint import load_model
    from mimiclab.retarget.learned.inference import mean_body_error, prepare_clip, retarget_learned
    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.robots.g1 import G1

    if max_clips is not None and max_clips < 1:
        raise ValueError(f"--clips must be >= 1, got {max_clips}")
    from mimiclab.retarget.learned.inference import DEFAULT_POLISH

    polish = DEFAULT_POLISH if polish is None else polish
    if polish < 1:
        raise ValueError(f"--polish must be >= 1 iteration for the learned+polish column, got {polish}")
    net = load_model(model)
    fps = fps or net.cfg.fps
    settings = RetargetSettings(fps=fps)
    paths = list(inputs) if inputs else heldout_clips()
    source = f"{len(paths)} given inputs" if inputs else "the held-out split of ../shared/data/bandai"
    if not paths:
        raise ValueError("bench retarget --learned: no clips (../shared/data/bandai is absent; pass --inputs)")
    paths = paths[:max_clips] if max_clips else paths
    humans, failed = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MotionInputWarning)
        for p in paths:
            try:
                humans.append(load_human_motion(p))
            except (ValueError, KeyError, OSError) as e:
                failed.append(f"{p}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
        if not humans:
            raise ValueError("bench retarget --learned: no clip could be read (" + "; ".join(failed) + ")")
        # warm every method on the first clip (imports, caches, kernels)
        retarget_human(humans[0], settings)
        retarget_learned(humans[:1], net, settings, polish=polish)

        ik, ik_seconds = [], 0.0
        for h in tqdm(humans, desc="IK retarget", unit="clip", disable=not verbose):
            r, s = _timed(lambda h=h: retarget_human(h, settings))
            ik.append(r)
            ik_seconds += s
        stages = {}
        _, stages["learned"] = _timed(lambda: retarget_learned(humans, net, settings, quality=False), repeats=2)
        learned, stages["learned + report"] = _timed(lambda: retarget_learned(humans, net, settings), repeats=2)
        name = f"learned+polish{polish}"
        _, stages[name] = _timed(lambda: retarget_learned(humans, net, settings, polish=polish, quality=False))
        polished, stages[f"{name} + report"] = _timed(lambda: retarget_learned(humans, net, settings, polish=polish))
        preps = [prepare_clip(h, settings) for h in humans]
        stages["network"] = _network_seconds(net, preps, fps)
    frames = sum(r.motion.num_frames for r in ik)
    stages = {"ik (with report)": ik_seconds, **stages}

    from mimiclab.retarget.quality import quality_metrics

    order = [list(ik[0].motion.joint_names).index(n) for n in G1.joint_names]
    methods = {"ik": [], "learned": [], name: []}
    body_error = {"learned": [], name: []}
    for r_ik, r_l, r_p in zip(ik, learned, polished):
        plain = r_l.targets  # the human's own targets (what the IK report measures), same roles as IK's
        for key, r in (("ik", r_ik), ("learned", r_l), (name, r_p)):
            methods[key].append(_numeric(quality_metrics(r.motion, plain, r_ik.contacts)))
        ref = (r_ik.motion.root_pos_w, r_ik.motion.root_quat_w, r_ik.motion.joint_pos[:, order])
        for key, r in (("learned", r_l), (name, r_p)):
            jo = [list(r.motion.joint_names).index(n) for n in G1.joint_names]
            body_error[key].append(mean_body_error(ref, (r.motion.root_pos_w, r.motion.root_quat_w,
                                                         r.motion.joint_pos[:, jo])))
    passing = {m: sum(row["failed_bounds"] == 0 for row in rows) for m, rows in methods.items()}
    weights = np.array([r.motion.num_frames for r in ik], float)
    keys = [k for k in methods["ik"][0] if all(k in row for rows in methods.values() for row in rows)]
    mean = {m: {k: float(np.mean([row[k] for row in rows])) for k in keys} for m, rows in methods.items()}
    err = {m: float(np.average(v, weights=weights)) for m, v in body_error.items()}
    verdict = {k: _no_worse(k, mean[name][k], mean["ik"][k]) for k in keys}
    worse = [k for k, v in verdict.items() if v is False]
    fps_of = {s: frames / sec if sec > 0 else float("nan") for s, sec in stages.items()}

    if verbose:
        print(format_report(source, len(humans), frames, failed, keys, mean, err, verdict, stages, fps_of, name,
                            passing))
    records = [{"kernel": "retarget_learned", "backend": s, "device": "cpu",
                "size": f"{len(humans)} clips, {frames} output frames at {fps:g} fps", "throughput": fps_of[s],
                "unit": "output frames/s", "seconds": stages[s],
                "ratio_vs_reference": fps_of[s] / fps_of["ik (with report)"]} for s in stages]
    records.append({"kernel": "retarget_learned_verdict", "source": source, "clips": len(humans), "frames": frames,
                    "failed": failed, "model": str(model), "polish": polish, "quality_mean": mean,
                    "body_error_vs_ik_m": err, "polish_no_worse_than_ik": verdict, "polish_worse_on": worse,
                    "throughput_target": THROUGHPUT_TARGET,
                    "throughput_target_met": bool(fps_of["learned"] >= THROUGHPUT_TARGET),
                    "clips_passing_every_bound": passing})
    return records


def format_report(source, clips, frames, failed, keys, mean, err, verdict, stages, fps_of, name, passing) -> str:
    """The printed tables (rich, rendered to text)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=150, record=True, file=io.StringIO(), color_system=None, markup=False, highlight=False)
    console.print(f"clips: {source}; {clips} clips, {frames} output frames" +
                  (f"; {len(failed)} unreadable: " + "; ".join(failed) if failed else ""))
    t = Table(title=f"quality: mean over {clips} clips (one quality_metrics call, IK's plain targets)")
    for col in ("figure", "better", "ik", "learned", name, f"{name} no worse than ik"):
        t.add_column(col, justify="left" if col in ("figure", "better") else "right")
    for k in keys:
        d = direction(k)
        v = verdict[k]
        t.add_row(k, "(info)" if d is None else d, _fmt(mean["ik"][k]), _fmt(mean["learned"][k]), _fmt(mean[name][k]),
                  "-" if v is None else ("yes" if v else "NO"))
    t.add_row("body_error_vs_ik_m", "lower", "0", _fmt(err["learned"]), _fmt(err[name]), "-")
    console.print(t)
    tp = Table(title="throughput, one process (output frames / wall seconds, parse not timed)")
    for col in ("stage", "seconds", "frames/s", "x ik"):
        tp.add_column(col, justify="left" if col == "stage" else "right")
    for s, sec in stages.items():
        tp.add_row(s, f"{sec:.3f}", f"{fps_of[s]:,.0f}", f"{fps_of[s] / fps_of['ik (with report)']:.1f}")
    console.print(tp)
    worse = [k for k, v in verdict.items() if v is False]
    console.print(f"{name} no worse than IK on {sum(v is True for v in verdict.values())} of "
                  f"{sum(v is not None for v in verdict.values())} figures"
                  + (f"; worse on: {', '.join(worse)}" if worse else "; worse on none"))
    console.print("clips passing every quality bound: " + ", ".join(f"{m} {n}/{clips}" for m, n in passing.items()))
    console.print(f"learned alone: {err['learned'] * 100:.2f} cm mean body-position error vs IK (target < 3 cm: "
                  f"{'met' if err['learned'] < 0.03 else 'not met'})")
    console.print(f"learned path: {fps_of['learned']:,.0f} frames/s (target >= {THROUGHPUT_TARGET:,.0f}: "
                  f"{'met' if fps_of['learned'] >= THROUGHPUT_TARGET else 'not met'}); network alone "
                  f"{fps_of['network']:,.0f} frames/s; IK {fps_of['ik (with report)']:,.0f} frames/s")
    return console.export_text()
