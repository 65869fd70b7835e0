"""Curating retargeted G1 clips: score each, keep those within the quality bounds (``mimiclab curate``).

    entries = score_clips(sorted(Path("g1").glob("*.npz")))          # quality bounds only
    entries = score_clips(paths, recon_errors={"g1/walk.npz": 0.031, ...})   # + reconstruction outliers
    write_manifest("g1/curated.manifest.json", entries, curation_criteria(entries))

Quality figures come from the clip's ``<stem>.quality.json`` (written by ``mimiclab retarget``)
when it is there, matches the clip's frame count and is not older than the clip; otherwise they
are recomputed (``quality_metrics(motion, None, None)``). The bounds are
``mimiclab.retarget.quality.QUALITY_BOUNDS`` through ``quality_failures`` (one source of truth).
A clip that cannot be read, holds NaN/Inf, or is not a G1 motion is rejected with a reason, never
raised. Reconstruction error [m] (robot → latent → robot, mean body-position error) rejects a clip
above ``max_recon_error_m``; without one, above the robust outlier limit
median + 3 · 1.4826 · MAD of the scored clips' errors (``robust_limit``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mimiclab.retarget.quality import QUALITY_BOUNDS, quality_failures

QUALITY_SCORES = (*QUALITY_BOUNDS, "frames", "fps", "max_joint_speed_ratio", "penetration_max_depth_m")
OUTLIER_MADS = 3.0  # limit = median + OUTLIER_MADS · MAD_SCALE · MAD
MAD_SCALE = 1.4826  # MAD → standard deviation for normally distributed errors
RECON_KEY = "recon_error_m"


def sidecar_path(npz: str | os.PathLike) -> Path:
    """``<stem>.quality.json`` beside the clip (``mimiclab.retarget.batch`` writes it)."""
    p = Path(npz)
    return p.with_name(f"{p.stem}.quality.json")


def _sidecar_quality(npz: Path, frames: int) -> dict | None:
    """The sidecar's figures when usable (readable, every bounded figure present, same frame count,
    not older than the clip), else None."""
    side = sidecar_path(npz)
    try:
        if side.stat().st_mtime_ns < npz.stat().st_mtime_ns:
            return None
        q = json.loads(side.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(q, dict) or q.get("frames") != frames or any(k not in q for k in QUALITY_BOUNDS):
        return None
    return q


def _number(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def robust_limit(values: Sequence[float]) -> float:
    """median + OUTLIER_MADS · MAD_SCALE · MAD of the finite `values` (MAD = median |v − median|).
    ValueError when none is finite."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], np.float64)
    if v.size == 0:
        raise ValueError("no finite reconstruction errors to set a limit from")
    med = float(np.median(v))
    return med + OUTLIER_MADS * MAD_SCALE * float(np.median(np.abs(v - med)))


def _lookup(errors: Mapping[str, float], p: Path, given: str) -> float | None:
    for key in (given, str(p), p.name, p.stem):
        if key in errors:
            return float(errors[key])
    return None


def recon_limit(errors: Sequence[float], max_recon_error_m: float | None) -> dict:
    """The reconstruction criteria: ``max_recon_error_m`` [m] (None: no finite error to set one from)
    and how it was set (``recon_error_rule``); None entries in `errors` are ignored."""
    if max_recon_error_m is not None:
        return {"max_recon_error_m": float(max_recon_error_m), "recon_error_rule": "given"}
    finite = [e for e in errors if e is not None and math.isfinite(e)]
    if not finite:
        return {"max_recon_error_m": None, "recon_error_rule": "no finite errors: only non-finite ones rejected"}
    limit = robust_limit(finite)
    med = float(np.median(finite))
    return {"max_recon_error_m": limit,
            "recon_error_rule": f"median + {OUTLIER_MADS:g} * {MAD_SCALE} * MAD over {len(finite)} clips",
            "recon_error_median_m": med, "recon_error_mad_m": float(np.median(np.abs(np.asarray(finite) - med)))}


def curation_criteria(entries: Sequence[dict], max_recon_error_m: float | None = None) -> dict:
    """The manifest's ``criteria``: the quality bounds and, when entries carry ``recon_error_m``, the
    reconstruction limit (the same one ``score_clips`` applied)."""
    out: dict = {"quality_bounds": dict(QUALITY_BOUNDS)}
    errors = [e["scores"][RECON_KEY] for e in entries if RECON_KEY in e.get("scores", {})]
    if errors:
        out.update(recon_limit(errors, max_recon_error_m))
    return out


def _score_one(p: Path) -> dict:
    from mimiclab.motion.format import load_motion
    from mimiclab.retarget.quality import quality_metrics
    from mimiclab.robots.g1 import G1

    entry = {"file": str(p.resolve()), "keep": True, "reasons": [], "scores": {}}
    try:
        motion = load_motion(p)
    except Exception as e:  # noqa: BLE001 — an unreadable clip is rejected, never raised
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        entry["reasons"].append(("non-finite: " if "NaN or Inf" in msg else "unreadable: ") + msg)
        return entry
    try:
        motion = motion.select(G1.joint_names, G1.body_names, str(p))
    except ValueError as e:
        entry["reasons"].append(f"not a G1 motion: {str(e).splitlines()[0]}")
        return entry
    q = _sidecar_quality(p, motion.num_frames)
    entry["quality_source"] = "sidecar" if q is not None else "computed"
    if q is None:
        try:
            q = quality_metrics(motion, None, None)
        except Exception as e:  # noqa: BLE001 — one bad clip must not stop the set
            entry["reasons"].append(f"quality: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            return entry
    for k in QUALITY_SCORES:
        v = _number(q.get(k))
        if v is not None:
            entry["scores"][k] = v
    bad = [k for k in QUALITY_BOUNDS if _number(q.get(k)) is None or not math.isfinite(q[k])]
    entry["reasons"] += [f"non-finite: {k} is {q.get(k)!r}" for k in bad]
    entry["reasons"] += quality_failures({k: v for k, v in q.items() if k not in bad})
    return entry


def score_clips(paths: Sequence[str | os.PathLike], recon_errors: Mapping[str, float] | None = None,
                max_recon_error_m: float | None = None) -> list[dict]:
    """One entry per `.npz` path, in order: ``{"file": abs path, "keep": bool, "reasons": [str],
    "scores": {name: float}, "quality_source": "sidecar"|"computed"}`` (no quality_source for an
    unreadable clip). recon_errors: reconstruction error [m] per clip, keyed by the path as given,
    the resolved path, the file name or the stem; recorded as ``recon_error_m``; clips above
    ``max_recon_error_m`` (default ``robust_limit`` of the given errors) are rejected."""
    entries = [_score_one(Path(p)) for p in paths]
    for e in entries:
        e["keep"] = not e["reasons"]
    if recon_errors is None:
        return entries
    found = [_lookup(recon_errors, Path(e["file"]), str(p)) for e, p in zip(entries, paths)]
    for e, err in zip(entries, found):
        if err is not None:
            e["scores"][RECON_KEY] = err
    limit = recon_limit(found, max_recon_error_m)["max_recon_error_m"]
    limit = math.inf if limit is None else limit
    for e, err in zip(entries, found):
        if err is None:
            continue
        if not math.isfinite(err):
            e["reasons"].append("reconstruction error is not finite")
        elif err > limit:
            e["reasons"].append(f"reconstruction error {err:.3f} m > {limit:.3f} m")
        e["keep"] = not e["reasons"]
    return entries


def reason_kind(reason: str) -> str:
    """The group a reason counts under in the summary: the bound's figure name, ``reconstruction_error``,
    ``unreadable``, ``non-finite``, ``not a G1 motion`` or ``quality``."""
    for prefix in ("unreadable", "non-finite", "not a G1 motion", "quality"):
        if reason.startswith(prefix + ":"):
            return prefix
    if reason.startswith("reconstruction error"):
        return "reconstruction_error"
    return reason.split(" ", 1)[0]


def format_summary(entries: Sequence[dict], root: str | os.PathLike | None = None, max_listed: int = 20) -> str:
    """Plain-text table: clips, kept, rejected; rejections per reason; the first rejected clips (named
    relative to `root` when given)."""
    from collections import Counter

    kept = sum(e["keep"] for e in entries)
    rejected = [e for e in entries if not e["keep"]]
    kinds = Counter(k for e in rejected for k in dict.fromkeys(reason_kind(r) for r in e["reasons"]))
    width = max([len("rejected by reason"), *(len(k) + 2 for k in kinds)])
    lines = [f"{'clips':<{width}} {len(entries):>6}", f"{'kept':<{width}} {kept:>6}",
             f"{'rejected':<{width}} {len(rejected):>6}"]
    if kinds:
        lines.append("rejected by reason (a clip may count under several)")
        lines += [f"  {k:<{width - 2}} {n:>6}" for k, n in kinds.most_common()]
        lines.append("rejected clips")
        base = Path(root).resolve() if root is not None else None
        name = (lambda f: os.path.relpath(f, base)) if base is not None else (lambda f: Path(f).name)  # noqa: E731
        lines += [f"  {name(e['file'])}: {'; '.join(e['reasons'])}" for e in rejected[:max_listed]]
        if len(rejected) > max_listed:
            lines.append(f"  ... and {len(rejected) - max_listed} more (see the manifest)")
    return "\n".join(lines)


def model_recon_errors(model_dir: str | os.PathLike, paths: Sequence[Path]) -> dict[str, float]:
    """Reconstruction error [m] per readable G1 clip (keyed by str(path)) from the learned retargeter
    (``mimiclab.retarget.learned.inference``, imported only here). Unreadable clips get none."""
    if not Path(model_dir).is_dir():
        raise ValueError(f"--model {model_dir}: no such folder")
    try:
        from mimiclab.retarget.learned.inference import load_model, reconstruction_errors
    except ImportError as e:
        raise ValueError(f"--model needs mimiclab.retarget.learned.inference ({e})") from None
    from mimiclab.motion.format import load_motion
    from mimiclab.robots.g1 import G1

    names, motions = [], []
    for p in paths:
        try:
            motions.append(load_motion(p).select(G1.joint_names, G1.body_names, str(p)))
            names.append(str(p))
        except ValueError:
            continue  # score_clips rejects it with the reason
    if not motions:
        return {}
    errors = np.asarray(reconstruction_errors(load_model(model_dir), motions), np.float64).reshape(-1)
    if errors.shape != (len(motions),):
        raise ValueError(f"--model: reconstruction_errors returned {errors.shape[0]} values for {len(motions)} clips")
    return dict(zip(names, errors.tolist()))


def clip_files(folder: str | os.PathLike) -> list[Path]:
    """Every ``*.npz`` under `folder` (recursive, sorted; hidden files and folders skipped).
    ValueError when the folder is missing or holds none."""
    d = Path(folder)
    if not d.is_dir():
        raise ValueError(f"{folder}: no such folder")
    files = sorted(p for p in d.rglob("*.npz") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(d).parts))
    if not files:
        raise ValueError(f"{folder}: no motion files (*.npz) inside")
    return files


def curate_folder(folder: str | os.PathLike, output: str | os.PathLike | None = None,
                  model_dir: str | os.PathLike | None = None,
                  max_recon_error_m: float | None = None) -> tuple[Path, list[dict], dict]:
    """Score every clip under `folder` and write the manifest (default ``folder/curated.manifest.json``;
    files relative to `folder`). Returns (manifest path, entries, criteria)."""
    from mimiclab.motion.manifest import write_manifest

    files = clip_files(folder)
    errors = model_recon_errors(model_dir, files) if model_dir is not None else None
    entries = score_clips(files, errors, max_recon_error_m)
    criteria = curation_criteria(entries, max_recon_error_m)
    if model_dir is not None:
        criteria["model"] = str(Path(model_dir).resolve())
    out = Path(output) if output is not None else Path(folder) / "curated.manifest.json"
    return write_manifest(out, entries, criteria, root=folder), entries, criteria
