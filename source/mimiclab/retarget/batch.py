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


def _load(p: Path, settings: RetargetSettings, fmt: str, options: SourceOptions):
    """An input file → ('motion', G1 MotionData at settings.fps, its report) for robot files (G1 CSV,
    motion .npz: no retargeting), else ('human', HumanMotion, None); ValueError & co. on bad input."""
    from mimiclab.motion.format import load_motion
    from mimiclab.motion.kinematics import resample_motion
    from mimiclab.retarget.quality import quality_metrics
    from mimiclab.retarget.sources.detect import load_human_motion, sniff_format

    if not p.is_file():
        raise ValueError(f"{p}: file not found")
    kind = sniff_format(p) if fmt == "auto" else fmt
    if kind not in ("g1csv", "npz"):
        return "human", load_human_motion(p, kind, options=options), None
    motion = load_motion(p, fps=options.source_fps)
    if motion.fps != settings.fps:
        motion = resample_motion(motion, settings.fps)
    motion.meta = {**motion.meta, "input": str(p), "retarget": {"fps": settings.fps, "format": kind}}
    return "motion", motion, quality_metrics(motion, None, None)


def _save(p: Path, out_dir: str, motion, quality: dict, notes: list[str], seconds: float) -> FileResult:
    """Write <name>.npz and <name>.quality.json (atomically) → the file's result."""
    from mimiclab.motion.format import save_motion

    if notes:
        quality = {**quality, "warnings": notes}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_motion(out / f"{p.stem}.npz", motion)
    write_json_atomic(out / f"{p.stem}.quality.json", {"input": str(p), **quality})
    return FileResult(str(p), p.stem, True, frames=motion.num_frames, seconds=seconds, quality=quality, warnings=notes)


def _failure(p: Path, e: Exception, seconds: float, notes: list[str]) -> FileResult:
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    if str(p) not in msg:
        msg = f"{p}: {msg}"
    return FileResult(str(p), p.stem, False, error=msg, seconds=seconds, warnings=notes)


_INPUT_ERRORS = (ValueError, KeyError, FileNotFoundError, OSError)


def retarget_file(path: str, out_dir: str, settings: RetargetSettings, fmt: str = "auto",
                  options: SourceOptions | None = None) -> FileResult:
    """One input → its motion file and quality report by the IK pipeline; never raises (errors go
    in the result). Assumptions the readers had to make (MotionInputWarning) go into the result
    and the report."""
    from mimiclab.retarget.pipeline import retarget_human

    p = Path(path)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MotionInputWarning)
        try:
            kind, x, quality = _load(p, settings, fmt, options or SourceOptions())
            if kind == "human":
                result = retarget_human(x, settings)
                x, quality = result.motion, result.quality
            return _save(p, out_dir, x, quality, _input_warnings(caught), time.perf_counter() - start)
        except _INPUT_ERRORS as e:
            return _failure(p, e, time.perf_counter() - start, _input_warnings(caught))


LEARNED_CHUNK = 32  # clips per network batch of the learned method (one progress step each)


def retarget_files_learned(paths: list[str], out_dir: str, settings: RetargetSettings, method: Method,
                           fmt: str = "auto", options: SourceOptions | None = None) -> list[FileResult]:
    """Inputs → their motion files and reports by the learned model, all human clips through the
    network together (``inference.retarget_prepared``); each file's input errors stay its own.
    A file's seconds: its reading and preparation plus its frames' share of the batched work."""
    from mimiclab.retarget.learned.inference import cached_model, prepare_clip, retarget_prepared

    options = options or SourceOptions()
    net = cached_model(method.model)
    done: dict[str, FileResult] = {}
    ready = []  # (path, prepared clip, seconds so far, input notes)
    for path in paths:
        p = Path(path)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MotionInputWarning)
            try:
                kind, x, quality = _load(p, settings, fmt, options)
                if kind == "motion":
                    done[path] = _save(p, out_dir, x, quality, _input_warnings(caught), time.perf_counter() - start)
                else:
                    ready.append((path, prepare_clip(x, settings), time.perf_counter() - start, _input_warnings(caught)))
            except _INPUT_ERRORS as e:
                done[path] = _failure(p, e, time.perf_counter() - start, _input_warnings(caught))
    start = time.perf_counter()
    try:
        results = retarget_prepared([r[1] for r in ready], net, settings, method.polish)
    except _INPUT_ERRORS:  # one clip broke the batch: each on its own, so the error names its file
        results = []
        for path, prep, seconds, notes in ready:
            try:
                results += retarget_prepared([prep], net, settings, method.polish)
            except _INPUT_ERRORS as e:
                results.append(_failure(Path(path), e, seconds, notes))
    per_frame = (time.perf_counter() - start) / max(1, sum(r.motion.num_frames for r in results
                                                           if not isinstance(r, FileResult)))
    for (path, _, seconds, notes), r in zip(ready, results):
        if isinstance(r, FileResult):
            done[path] = r
            continue
        try:
            done[path] = _save(Path(path), out_dir, r.motion, r.quality, notes, seconds + per_frame * r.motion.num_frames)
        except OSError as e:
            done[path] = _failure(Path(path), e, seconds, notes)
    return [done[p] for p in paths]


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
    learned = method is not None and method.name == "learned"
    if learned:  # chunks of clips, each one batched network pass
        chunks = [jobs[i:i + LEARNED_CHUNK] for i in range(0, len(jobs), LEARNED_CHUNK)]
        work, args = retarget_files_learned, lambda c: (c, out_dir, settings, method, fmt, options)
    else:
        chunks = [[path] for path in jobs]
        work, args = retarget_file, lambda c: (c[0], out_dir, settings, fmt, options)
    bar = tqdm(total=len(jobs), desc="retarget", unit="clip", disable=not progress)
    if workers > 1 and len(chunks) > 1:
        # spawn, not fork: a fork of a process whose torch/OpenMP threads are running can deadlock
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [(chunk, pool.submit(work, *args(chunk))) for chunk in chunks]
            for chunk, fut in futures:
                results.update(_by_path(chunk, fut.result()))
                bar.update(len(chunk))
    else:
        for chunk in chunks:
            results.update(_by_path(chunk, work(*args(chunk))))
            bar.update(len(chunk))
    bar.close()
    return [results[p] for p in inputs]


def _by_path(chunk: list[str], out) -> dict[str, FileResult]:
    return dict(zip(chunk, out if isinstance(out, list) else [out]))


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
