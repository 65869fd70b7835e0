"""`mimiclab retarget`: many input files → DIR/<name>.npz + DIR/<name>.quality.json each.

Files are independent: with workers > 1 they run in a process pool. A failing file is reported
(one line naming it and the problem) and does not stop the others; nothing partial is written.
"""

from __future__ import annotations

import json
import multiprocessing
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mimiclab.motion.input_warning import MotionInputWarning
from mimiclab.retarget.pipeline import RetargetSettings
from mimiclab.retarget.sources.options import SourceOptions

FORMATS = ("auto", "bvh", "keypoints", "amass", "g1csv", "npz")


@dataclass
class FileResult:
    input: str
    name: str
    ok: bool
    error: str = ""
    frames: int = 0
    seconds: float = 0.0
    quality: dict | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Method:
    """How human motion becomes G1 motion: 'ik' (the batched IK pipeline) or 'learned' (the network
    in `model`, a folder or .pt from ``mimiclab retarget-model train``, then `polish` IK iterations)."""

    name: str = "ik"
    model: str | None = None
    polish: int = 0


def write_json_atomic(path: Path, data: dict) -> None:
    """Sorted, indented JSON written through a temporary file (never a partial report)."""
    from mimiclab.motion.format import atomic_write

    atomic_write(path, lambda f: f.write(json.dumps(data, indent=2, sort_keys=True).encode()))


def retarget_file(path: str, out_dir: str, settings: RetargetSettings, fmt: str = "auto",
                  options: SourceOptions | None = None, method: Method | None = None) -> FileResult:
    """One input → its motion file and quality report; never raises (errors go in the result).
    Assumptions the readers had to make (MotionInputWarning) go into the result and the report."""
    from mimiclab.motion.format import load_motion, save_motion
    from mimiclab.motion.kinematics import resample_motion
    from mimiclab.retarget.pipeline import retarget_human
    from mimiclab.retarget.quality import quality_metrics
    from mimiclab.retarget.sources.detect import load_human_motion, sniff_format

    options = options or SourceOptions()
    p = Path(path)
    name = p.stem
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MotionInputWarning)
        try:
            if not p.is_file():
                raise ValueError(f"{p}: file not found")
            kind = sniff_format(p) if fmt == "auto" else fmt
            if kind in ("g1csv", "npz"):
                motion = load_motion(p, fps=options.source_fps)
                if motion.fps != settings.fps:
                    motion = resample_motion(motion, settings.fps)
                motion.meta = {**motion.meta, "input": str(p), "retarget": {"fps": settings.fps, "format": kind}}
                quality = quality_metrics(motion, None, None)
            else:
                human = load_human_motion(p, kind, options=options)
                if method is not None and method.name == "learned":
                    from mimiclab.retarget.learned.inference import cached_model, retarget_learned

                    result = retarget_learned([human], cached_model(method.model), settings, method.polish)[0]
                else:
                    result = retarget_human(human, settings)
                motion, quality = result.motion, result.quality
            notes = _input_warnings(caught)
            if notes:
                quality = {**quality, "warnings": notes}
            out = Path(out_dir)
            out.mkdir(parents=True, exist_ok=True)
            save_motion(out / f"{name}.npz", motion)
            write_json_atomic(out / f"{name}.quality.json", {"input": str(p), **quality})
            return FileResult(str(p), name, True, frames=motion.num_frames, seconds=time.perf_counter() - start,
                              quality=quality, warnings=notes)
        except (ValueError, KeyError, FileNotFoundError, OSError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            if str(p) not in msg:
                msg = f"{p}: {msg}"
            return FileResult(str(p), name, False, error=msg, seconds=time.perf_counter() - start,
                              warnings=_input_warnings(caught))


def _input_warnings(caught) -> list[str]:
    return list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, MotionInputWarning)))


CLIPS_PER_WORKER = 8  # a spawned worker costs about 3 s of imports: worth it from about this many clips


def default_workers(num_clips: int, cpus: int | None = None) -> int:
    """Processes for `num_clips` clips: one per CLIPS_PER_WORKER clips, at most one per core, at least 1."""
    import os

    return max(1, min(cpus or os.cpu_count() or 1, num_clips // CLIPS_PER_WORKER))


def retarget_files(inputs: list[str], out_dir: str, settings: RetargetSettings, fmt: str = "auto",
                   workers: int = 1, progress: bool = True, options: SourceOptions | None = None,
                   method: Method | None = None) -> list[FileResult]:
    """All inputs, in input order; duplicate output names are an error for the later file."""
    from tqdm import tqdm

    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}' (choose from {', '.join(FORMATS)})")
    seen: dict[str, str] = {}
    jobs, results = [], {}
    for path in inputs:
        stem = Path(path).stem
        if stem in seen:
            results[path] = FileResult(path, stem, False, error=f"{path}: output name '{stem}' already used by {seen[stem]}")
            continue
        seen[stem] = path
        jobs.append(path)
    bar = tqdm(total=len(jobs), desc="retarget", unit="clip", disable=not progress)
    if workers > 1 and len(jobs) > 1:
        # spawn, not fork: a fork of a process whose torch/OpenMP threads are running can deadlock
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {path: pool.submit(retarget_file, path, out_dir, settings, fmt, options, method) for path in jobs}
            for path, fut in futures.items():
                results[path] = fut.result()
                bar.update(1)
    else:
        for path in jobs:
            results[path] = retarget_file(path, out_dir, settings, fmt, options, method)
            bar.update(1)
    bar.close()
    return [results[p] for p in inputs]


def summary_table(results: list[FileResult]) -> str:
    """One line per file: frames, the bounded quality figures, pass/fail, or the error."""
    width = max([len("clip"), *(len(r.name) for r in results)])  # names in full: they say which clip
    lines = [f"{'clip':<{width}} {'frames':>6} {'kp mm':>6} {'limits':>6} {'jumps':>5} {'sat':>6} {'twist':>6} "
             f"{'pen':>6} {'slide L':>7} {'slide R':>7} {'selfcol':>7} {'s':>6}  verdict"]
    for r in results:
        if not r.ok:
            lines.append(f"{r.name:<{width}} FAILED: {r.error}")
            continue
        q = r.quality or {}
        kp = q.get("keypoint_error_mean_m")
        nan = float("nan")
        failed = q.get("failed_bounds", [])
        lines.append(
            f"{r.name:<{width}} {r.frames:>6} {'' if kp is None else f'{kp * 1e3:.1f}':>6} "
            f"{q['joint_limit_violation_frames']:>6.3f} {q['joint_jumps']:>5} "
            f"{q.get('joint_speed_saturation_frames', nan):>6.3f} {q.get('twisted_frames', nan):>6.3f} "
            f"{q['penetration_frames']:>6.3f} {q.get('foot_sliding_left_m_s', nan):>7.3f} "
            f"{q.get('foot_sliding_right_m_s', nan):>7.3f} {q['self_collision_frames']:>7.3f} {r.seconds:>6.2f}  "
            + ("pass" if not failed else "FAIL: " + "; ".join(failed)))
    ok = sum(r.ok for r in results)
    passed = sum(r.ok and not (r.quality or {}).get("failed_bounds") for r in results)
    lines.append(f"{ok} of {len(results)} clips retargeted, {passed} within the quality bounds "
                 "(mimiclab.retarget.quality.QUALITY_BOUNDS); s: wall seconds per clip, each process's first "
                 "clip including its one-time warm-up (imports, kernel caches)")
    return "\n".join(lines)
