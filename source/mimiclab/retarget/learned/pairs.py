"""Training pairs for the learned retargeter, made by the IK retargeter from human mocap files.

    paths = build_pairs(["data/bandai"], "pairs/", workers=2)   # pairs/<clip>.pair.npz

A pair file holds one clip (T frames at the settings' fps; names are the clip's file stem):
``roles`` (T,R,3) float32 scaled role positions [m] (``graph.HUMAN_ROLES``; a role the source
lacks is zeros, ``present`` (R,) False), ``contacts`` (T,4) bool heel/toe planted (left, then
right), ``log_scales`` (G,) log(G1 / human length) per ``graph.LIMB_GROUPS``, the IK solution
``root_pos`` (T,3), ``root_quat`` (T,4) wxyz (sign-continuous), ``joint_pos`` (T,J) in
``G1.joint_names`` order, and ``meta`` (JSON: source, fps, the IK quality report). Pair files are
independent of each other and are written atomically; an existing pair made with the same
settings is reused.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mimiclab.retarget.learned.graph import HUMAN_ROLES, LIMB_GROUPS
from mimiclab.retarget.pipeline import RetargetSettings

PAIR_SUFFIX = ".pair.npz"
MOCAP_SUFFIXES = (".bvh", ".npz", ".json", ".csv")
HELD_OUT_EVERY = 10  # about one clip in ten is held out (by a hash of its name)


def split_of(name: str) -> str:
    """'test' for the held-out clips, else 'train': a stable hash of the clip name (crc32), so a
    clip stays in its split however the corpus grows."""
    return "test" if zlib.crc32(name.encode()) % HELD_OUT_EVERY == 0 else "train"


def continuous_quats(q: np.ndarray) -> np.ndarray:
    """(T,4) quaternions with signs flipped so consecutive ones have a positive dot product."""
    q = q.copy()
    for t in range(1, q.shape[0]):
        if np.dot(q[t], q[t - 1]) < 0:
            q[t] = -q[t]
    return q


def role_array(roles: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """{role: (T,3)} → (T,R,3) float32 in HUMAN_ROLES order (missing: zeros), present (R,) bool."""
    T = roles["pelvis"].shape[0]
    out = np.zeros((T, len(HUMAN_ROLES), 3), np.float32)
    present = np.zeros(len(HUMAN_ROLES), bool)
    for i, r in enumerate(HUMAN_ROLES):
        if r in roles:
            out[:, i] = roles[r]
            present[i] = True
    return out, present


def log_scales(info: dict) -> np.ndarray:
    """(G,) log limb scales from the normalisation info's ``limb_scales`` (missing: 0)."""
    scales = info.get("limb_scales", {})
    return np.array([np.log(scales[g]) if g in scales else 0.0 for g in LIMB_GROUPS], np.float32)


def make_pair(path: str, settings: RetargetSettings) -> dict:
    """One mocap file → the pair's arrays (module docstring), by the full IK pipeline."""
    from mimiclab.retarget.pipeline import retarget_human
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.robots.g1 import G1

    result = retarget_human(load_human_motion(path), settings)
    if result.roles is None:
        raise ValueError(f"{path}: a robot-named (direct) source has no human body roles to learn from")
    motion = result.motion
    order = [list(motion.joint_names).index(n) for n in G1.joint_names]
    roles, present = role_array(result.roles)
    return {"roles": roles, "present": present, "contacts": result.points.reshape(-1, 4),
            "log_scales": log_scales(motion.meta.get("normalisation", {})),
            "root_pos": motion.root_pos_w.astype(np.float32),
            "root_quat": continuous_quats(motion.root_quat_w.astype(np.float64)).astype(np.float32),
            "joint_pos": motion.joint_pos[:, order].astype(np.float32),
            "meta": json.dumps({"source": str(path), "fps": settings.fps, "settings": asdict(settings),
                                "quality": result.quality}, sort_keys=True, default=str)}


def _settings_key(settings: RetargetSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def read_pair(path: str | Path) -> dict:
    """A pair file → {name: array} (plus 'name'); ValueError naming the file when it is not one."""
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable pair file ({e})") from None
    missing = {"roles", "present", "contacts", "log_scales", "root_pos", "root_quat", "joint_pos", "meta"} - set(out)
    if missing:
        raise ValueError(f"{path}: not a pair file (missing {', '.join(sorted(missing))})")
    out["meta"] = json.loads(str(out["meta"]))
    out["name"] = Path(path).name[: -len(PAIR_SUFFIX)]
    return out


def _pair_job(path: str, out_dir: str, settings: RetargetSettings) -> tuple[str, str]:
    """(pair path or '', error or '') for one mocap file; reuses a pair made with the same settings."""
    from mimiclab.motion.format import atomic_write_bytes

    target = Path(out_dir) / (Path(path).stem + PAIR_SUFFIX)
    if target.is_file():
        try:
            if _settings_key(RetargetSettings(**read_pair(target)["meta"]["settings"])) == _settings_key(settings):
                return str(target), ""
        except (ValueError, TypeError, KeyError):
            pass  # unreadable or older: make it again
    try:
        arrays = make_pair(path, settings)
    except (ValueError, KeyError, OSError) as e:
        return "", (str(e).splitlines()[0] or type(e).__name__)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(target, buf.getvalue())
    return str(target), ""


def mocap_files(inputs: list[str]) -> list[str]:
    """Files named by `inputs` (folders searched recursively for mocap suffixes), sorted by path."""
    out: list[str] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            out += sorted(str(f) for f in p.rglob("*") if f.suffix.lower() in MOCAP_SUFFIXES
                          and not f.name.endswith(PAIR_SUFFIX))
        elif p.is_file():
            out.append(str(p))
        else:
            raise ValueError(f"{p}: no such file or folder")
    if not out:
        raise ValueError(f"no mocap files in {', '.join(inputs)}")
    return out


def build_pairs(inputs: list[str], out_dir: str, settings: RetargetSettings | None = None, workers: int = 1,
                progress: bool = True) -> tuple[list[str], list[str]]:
    """IK pairs for every mocap file under `inputs` → (pair paths in input order, errors: one line
    per file that could not be retargeted)."""
    from tqdm import tqdm

    settings = settings or RetargetSettings()
    files = mocap_files(inputs)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(files), desc="IK pairs", unit="clip", disable=not progress)
    results = []
    if workers > 1 and len(files) > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_pair_job, f, out_dir, settings) for f in files]
            for fut in futures:
                results.append(fut.result())
                bar.update(1)
    else:
        for f in files:
            results.append(_pair_job(f, out_dir, settings))
            bar.update(1)
    bar.close()
    paths = [p for p, _ in results if p]
    errors = [f"{f}: {e}" if f not in e else e for f, (_, e) in zip(files, results) if e]
    return paths, errors


def training_pairs(data: list[str], pairs_dir: str, workers: int | None = None) -> tuple[list[str], list[str]]:
    """The mocap files under `data` as IK pairs in `pairs_dir` (made or reused), with `workers`
    processes (None: ``batch.default_workers``) → (pair paths, one error line per skipped file);
    ValueError when there are no files, bad workers, or no file could be paired."""
    from mimiclab.retarget.batch import default_workers

    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    files = mocap_files(data)
    pairs, errors = build_pairs(files, pairs_dir, workers=default_workers(len(files)) if workers is None else workers)
    if not pairs:
        raise ValueError("no clip could be retargeted into a training pair" + (f" ({errors[0]})" if errors else ""))
    return pairs, errors
