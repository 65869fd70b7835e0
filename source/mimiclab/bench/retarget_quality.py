"""`mimiclab bench retarget --quality`: mimiclab and a mink per-frame IK peer (the GMR method,
``mimiclab.bench.retarget_peer``) retarget the same clips; both quality tables and frames/s.

Clips (default): one clip per action of each Bandai Namco corpus in ``../shared/data/bandai/
dataset-*/`` (the first file name, sorted, of each ``<dataset>_<action>_...``), then
``../shared/data/bvh/*.bvh`` sorted; 27 clips of 14 + 10 actions + 3 today. Without ``../shared``:
the shipped synthetic samples (said in the output).

Both methods see the same clip and the same targets: the peer tracks ``build_targets(prepare_roles(
...), None)`` of mimiclab's pipeline, the plain targets mimiclab's own quality report measures. Both
motions are measured with one call, ``quality_metrics(motion, plain_targets, result.contacts)``
(the source's planted-foot flags that mimiclab detects). Every numeric figure both reports have is
tabled: the mean over clips and the worst clip per method, then which method is better (lower is
better for every figure but the informational ones: frame counts, fps, contact fractions).

Frames/s: output frames / wall seconds summed over the clips, each clip timed end to end:
mimiclab = parse + ``retarget_human`` (roles, contacts, two sequence IK solves, ground lift, and
its own quality report, which the peer does not pay for); peer = parse + roles + targets + per-frame
mink IK + GMR's ground alignment. Both are warmed up first on a shipped synthetic sample (imports,
caches, model compile), as ``bench retarget`` does. The whole clips go to the peer (no cap).
These per-clip figures are one process's. The machine's figure (``--workers``, default all cores)
runs each method again over the same clips on that many spawned processes, each warmed up first,
and divides the output frames by the batch's wall seconds: what ``mimiclab retarget --workers N``
gives a user; the throughput target is checked on it.
"""

from __future__ import annotations

import io
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
METHODS = ("mimiclab", "mink_peer")
LABELS = {"mimiclab": "mimiclab", "mink_peer": "mink peer (GMR method)"}
INFORMATIONAL = {"frames", "fps", "contact_frames"}  # figures that are not better or worse
INFORMATIONAL_PREFIXES = ("foot_contact_frames",)
HIGHER_IS_BETTER: set[str] = set()  # none of today's figures; every other figure: lower is better
THROUGHPUT_TARGET = 10_000.0  # output frames/s (the target for mimiclab on a 2-core CPU)


def default_clips(shared: Path = SHARED_DATA) -> list[str]:
    """The fixed real-clip selection of the module docstring ([] when ``shared`` is absent)."""
    clips = []
    for dataset in sorted((shared / "bandai").glob("dataset-*")):
        first: dict[str, Path] = {}
        for p in sorted(dataset.glob("*.bvh")):
            parts = p.stem.split("_")
            if len(parts) >= 3:
                first.setdefault(parts[1], p)
        clips += [str(p) for p in first.values()]
    clips += sorted(str(p) for p in (shared / "bvh").glob("*.bvh"))
    return clips


def direction(key: str) -> str | None:
    """'lower' / 'higher' is better, or None for an informational figure."""
    if key in INFORMATIONAL or key.startswith(INFORMATIONAL_PREFIXES):
        return None
    return "higher" if key in HIGHER_IS_BETTER else "lower"


def _numeric(quality: dict) -> dict[str, float]:
    out = {k: float(v) for k, v in quality.items()
           if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))}
    if isinstance(quality.get("failed_bounds"), list):
        out["failed_bounds"] = float(len(quality["failed_bounds"]))  # bounds broken (count)
    return out


def _better(key: str, a: float, b: float) -> str:
    d = direction(key)
    if d is None:
        return ""
    if not (np.isfinite(a) and np.isfinite(b)):
        return METHODS[0] if np.isfinite(a) else (METHODS[1] if np.isfinite(b) else "tie")
    if abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)):
        return "tie"
    return METHODS[0] if (a < b) == (d == "lower") else METHODS[1]


def _warm_up(tmp: Path, fps: float) -> None:
    from mimiclab.bench.retarget_peer import peer_retarget_file
    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.retarget.sources.synthetic import write_samples

    sample = next(p for p in write_samples(tmp / "warmup") if p.name == "arm_wave.bvh")
    retarget_human(load_human_motion(sample), RetargetSettings(fps=fps))
    peer_retarget_file(str(sample), fps)


def _run_clip(path: str, fps: float) -> dict:
    """Both methods on one clip → {name, frames, seconds/quality/solves per method}."""
    from mimiclab.bench.retarget_peer import peer_retarget_file
    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
    from mimiclab.retarget.quality import quality_metrics
    from mimiclab.retarget.sources.detect import load_human_motion

    start = time.perf_counter()
    human = load_human_motion(path)
    result = retarget_human(human, RetargetSettings(fps=fps))
    mimic_seconds = time.perf_counter() - start
    peer = peer_retarget_file(path, fps)
    if peer.motion.num_frames != result.motion.num_frames:
        raise ValueError(f"{path}: mimiclab made {result.motion.num_frames} frames, the peer "
                         f"{peer.motion.num_frames}")
    contacts = result.contacts
    return {"clip": Path(path).stem, "input": path, "frames": result.motion.num_frames,
            "mimiclab": {"seconds": mimic_seconds, "quality": quality_metrics(result.motion, peer.targets, contacts),
                         "motion": result.motion},
            "mink_peer": {"seconds": peer.seconds, "ik_seconds": peer.ik_seconds,
                          "solves_per_frame": float(np.mean(peer.iterations)),
                          "quality": quality_metrics(peer.motion, peer.targets, contacts), "motion": peer.motion}}


def _warm_worker(fps: float) -> None:
    """Process-pool initializer: one torch thread per process, imports and caches warm."""
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        _warm_up(Path(tmp), fps)


def _ready(seconds: float) -> None:
    """Hold a worker for `seconds` (so that every worker has taken one and is warm)."""
    time.sleep(seconds)


def _batch_clip(method: str, path: str, fps: float) -> int:
    """One clip end to end by `method` in a worker → its output frames."""
    with warnings.catch_warnings():
        from mimiclab.motion.input_warning import MotionInputWarning

        warnings.simplefilter("ignore", MotionInputWarning)
        if method == "mimiclab":
            from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
            from mimiclab.retarget.sources.detect import load_human_motion

            return retarget_human(load_human_motion(path), RetargetSettings(fps=fps)).motion.num_frames
        from mimiclab.bench.retarget_peer import peer_retarget_file

        return peer_retarget_file(path, fps).motion.num_frames


def all_core_throughput(paths: list[str], fps: float, workers: int) -> dict[str, dict]:
    """Per method: output frames / wall seconds of the whole batch on `workers` warm spawned
    processes (longest clips first, one clip per task)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    out = {}
    for method in METHODS:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_warm_worker, initargs=(fps,)) as pool:
            for f in [pool.submit(_ready, 1.0) for _ in range(workers)]:
                f.result()
            start = time.perf_counter()
            frames = sum(pool.map(_batch_clip, [method] * len(paths), paths, [fps] * len(paths)))
            seconds = time.perf_counter() - start
        out[method] = {"workers": workers, "frames": frames, "seconds": seconds,
                       "frames_per_s": frames / seconds if seconds > 0 else float("nan")}
    return out


def summarize(clips: list[dict]) -> dict:
    """Per method: mean and worst (value, clip) of each numeric figure both methods report, and
    throughput; plus the per-figure verdict."""
    keys = None
    for c in clips:
        for m in METHODS:
            k = set(_numeric(c[m]["quality"]))
            keys = k if keys is None else keys & k
    order = list(_numeric(clips[0]["mimiclab"]["quality"])) if clips else []
    keys = [k for k in order if k in (keys or set())]
    out = {"figures": keys, "methods": {}, "verdict": {}}
    for m in METHODS:
        vals = {k: np.array([_numeric(c[m]["quality"])[k] for c in clips]) for k in keys}
        mean = {k: float(v.mean()) for k, v in vals.items()}
        worst = {}
        for k, v in vals.items():
            i = int(np.argmin(v) if direction(k) == "higher" else np.argmax(v))
            worst[k] = (float(v[i]), clips[i]["clip"] if v.min() != v.max() else "(all clips equal)")
        frames = sum(c["frames"] for c in clips)
        seconds = sum(c[m]["seconds"] for c in clips)
        passing = sum(not c[m]["quality"].get("failed_bounds") for c in clips)
        out["methods"][m] = {"mean": mean, "worst": worst, "frames": frames, "seconds": seconds,
                             "frames_per_s": frames / seconds if seconds > 0 else float("nan"),
                             "clips_passing_bounds": passing}
    for k in keys:
        a, b = out["methods"]["mimiclab"]["mean"][k], out["methods"]["mink_peer"]["mean"][k]
        out["verdict"][k] = _better(k, a, b)
    return out


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    return f"{x:.4g}" if abs(x) >= 1e-3 else f"{x:.2e}"


def format_report(clips: list[dict], summary: dict, note: str = "") -> str:
    """The printed tables (rich, rendered to text)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=170, record=True, file=io.StringIO(), color_system=None, markup=False, highlight=False)
    if note:
        console.print(note)

    per_clip = Table(title="per clip (keypoint error mean [mm], bounds broken, seconds)")
    for col in ("clip", "frames", "mimiclab kp mm", "peer kp mm", "mimiclab bounds", "peer bounds",
                "mimiclab s", "peer s", "peer solves/frame"):
        per_clip.add_column(col, justify="left" if col == "clip" else "right")
    for c in clips:
        qm, qp = c["mimiclab"]["quality"], c["mink_peer"]["quality"]
        per_clip.add_row(c["clip"], str(c["frames"]), _fmt(qm.get("keypoint_error_mean_m", np.nan) * 1e3),
                         _fmt(qp.get("keypoint_error_mean_m", np.nan) * 1e3), str(len(qm.get("failed_bounds", []))),
                         str(len(qp.get("failed_bounds", []))), f"{c['mimiclab']['seconds']:.3f}",
                         f"{c['mink_peer']['seconds']:.3f}", f"{c['mink_peer']['solves_per_frame']:.2f}")
    console.print(per_clip)

    for m in METHODS:
        s = summary["methods"][m]
        t = Table(title=f"{LABELS[m]}: quality over {len(clips)} clips")
        for col in ("figure", "better", "mean", "worst", "worst clip"):
            t.add_column(col, justify="left" if col in ("figure", "worst clip", "better") else "right")
        for k in summary["figures"]:
            d = direction(k)
            t.add_row(k, "(info)" if d is None else d, _fmt(s["mean"][k]), _fmt(s["worst"][k][0]), s["worst"][k][1])
        console.print(t)

    side = Table(title="side by side: mean over clips")
    for col in ("figure", "better", "mimiclab", "mink peer", "winner"):
        side.add_column(col, justify="left" if col in ("figure", "better", "winner") else "right")
    for k in summary["figures"]:
        d = direction(k)
        side.add_row(k, "(info)" if d is None else d, _fmt(summary["methods"]["mimiclab"]["mean"][k]),
                     _fmt(summary["methods"]["mink_peer"]["mean"][k]), summary["verdict"][k] or "-")
    console.print(side)

    cores = summary.get("all_cores")
    tp = Table(title="throughput (output frames / wall seconds, whole clips, parse included)")
    cols = ["method", "clips", "output frames", "seconds", "frames/s (1 process)"]
    if cores:
        n = cores[METHODS[0]]["workers"]
        cols += [f"seconds ({n} processes)", f"frames/s ({n} processes)"]
    for col in cols + ["clips passing all bounds"]:
        tp.add_column(col, justify="left" if col == "method" else "right")
    for m in METHODS:
        s = summary["methods"][m]
        row = [LABELS[m], str(len(clips)), str(s["frames"]), f"{s['seconds']:.2f}", f"{s['frames_per_s']:,.0f}"]
        if cores:
            row += [f"{cores[m]['seconds']:.2f}", f"{cores[m]['frames_per_s']:,.0f}"]
        tp.add_row(*row, f"{s['clips_passing_bounds']} of {len(clips)}")
    console.print(tp)

    v = summary["verdict"]
    wins = [k for k, w in v.items() if w == "mimiclab"]
    losses = [k for k, w in v.items() if w == "mink_peer"]
    ties = [k for k, w in v.items() if w == "tie"]
    speed = cores or summary["methods"]
    mfps, pfps = speed["mimiclab"]["frames_per_s"], speed["mink_peer"]["frames_per_s"]
    on = f"{cores['mimiclab']['workers']} processes" if cores else "1 process"
    console.print(f"mimiclab better on {len(wins)} of {len(wins) + len(losses) + len(ties)} figures, "
                  f"tied on {len(ties)}" + (f" ({', '.join(ties)})" if ties else "")
                  + (f"; the peer is better on: {', '.join(losses)}" if losses else "; the peer is better on none"))
    console.print(f"frames/s on {on}: mimiclab {mfps:,.0f}, peer {pfps:,.0f} ({mfps / pfps:.1f}x); target "
                  f">= {THROUGHPUT_TARGET:,.0f} for mimiclab: {'met' if mfps >= THROUGHPUT_TARGET else 'not met'}")
    return console.export_text()


def bench_retarget_quality(inputs: list[str] | None = None, max_clips: int | None = None, verbose: bool = True,
                           fps: float = 50.0, progress: bool | None = None, workers: int | None = None) -> list[dict]:
    """Both methods on `inputs` (default: ``default_clips()``, else the shipped synthetic samples),
    at most `max_clips` of them; the machine's throughput on `workers` processes (default: all
    cores; 1: the per-clip figures only). Returns records: one ``retarget_quality`` record per
    method (throughput, mean/worst figures), one ``retarget_quality_verdict`` record, and one
    ``retarget_quality_clip`` record per clip and method; prints the tables when `verbose`."""
    import os

    from tqdm import tqdm

    from mimiclab.motion.input_warning import MotionInputWarning

    if max_clips is not None and max_clips < 1:
        raise ValueError(f"--clips must be >= 1, got {max_clips}")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    workers = workers or os.cpu_count() or 1
    progress = verbose if progress is None else progress
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        note = ""
        if inputs:
            paths, source = list(inputs), f"{len(inputs)} given inputs"
        else:
            paths = default_clips()
            source = ("the default real clips (one per action of ../shared/data/bandai/dataset-*, "
                      "plus ../shared/data/bvh)")
            if not paths:
                from mimiclab.retarget.sources.synthetic import write_samples

                paths = [str(p) for p in write_samples(tmp / "samples")]
                source = "the shipped synthetic samples"
                note = ("../shared/data is absent: measured on the shipped synthetic samples, not on real "
                        "motion capture")
        if max_clips is not None:
            paths = paths[:max_clips]
        _warm_up(tmp, fps)
        clips, failed = [], []
        bar = tqdm(paths, desc="retarget quality (mimiclab + mink peer)", unit="clip", disable=not progress)
        for path in bar:
            bar.set_postfix_str(Path(path).stem[:40])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MotionInputWarning)
                try:
                    clips.append(_run_clip(path, fps))
                except (ValueError, KeyError, OSError) as e:
                    failed.append(f"{path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
        bar.close()
    if not clips:
        raise ValueError("bench retarget --quality: no clip could be retargeted" +
                         (f" ({'; '.join(failed)})" if failed else ""))
    summary = summarize(clips)
    if workers > 1 and len(clips) > 1:
        done = [c["input"] for c in sorted(clips, key=lambda c: -c["frames"])]
        summary["all_cores"] = all_core_throughput(done, fps, min(workers, len(done)))
    head = f"clips: {source}; {len(clips)} retargeted at {fps:g} fps" + (f", {len(failed)} failed" if failed else "")
    note = "\n".join(x for x in (note, head, *(f"failed: {f}" for f in failed)) if x)
    if verbose:
        print(format_report(clips, summary, note))

    records = []
    for m in METHODS:
        s = summary["methods"][m]
        records.append({"kernel": "retarget_quality", "backend": m, "device": "cpu",
                        "size": f"{len(clips)} clips, {s['frames']} output frames at {fps:g} fps",
                        "throughput": s["frames_per_s"], "unit": "output frames/s", "seconds": s["seconds"],
                        "clips": len(clips), "failed": len(failed), "clips_passing_bounds": s["clips_passing_bounds"],
                        "all_cores": summary.get("all_cores", {}).get(m),
                        "quality_mean": s["mean"],
                        "quality_worst": {k: {"value": v, "clip": c} for k, (v, c) in s["worst"].items()}})
    records[1]["ratio_vs_reference"] = records[1]["throughput"] / records[0]["throughput"]
    records[0]["ratio_vs_reference"] = 1.0
    records.append({"kernel": "retarget_quality_verdict", "better": summary["verdict"],
                    "direction": {k: direction(k) for k in summary["figures"]},
                    "mimiclab_better_on": sorted(k for k, w in summary["verdict"].items() if w == "mimiclab"),
                    "peer_better_on": sorted(k for k, w in summary["verdict"].items() if w == "mink_peer"),
                    "tied_on": sorted(k for k, w in summary["verdict"].items() if w == "tie"),
                    "source": source, "failed": failed})
    for c in clips:
        for m in METHODS:
            rec = {"kernel": "retarget_quality_clip", "backend": m, "clip": c["clip"], "input": c["input"],
                   "frames": c["frames"], "seconds": c[m]["seconds"], "quality": c[m]["quality"]}
            if m == "mink_peer":
                rec["solves_per_frame"] = c[m]["solves_per_frame"]
            records.append(rec)
    return records
