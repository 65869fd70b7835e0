"""``mimiclab bench robustness``: tracking policies on real clips corrupted the way estimated and
generated video motion is corrupted (GenMimicBench-like).

    records = bench_robustness(["gmt=logs/rsl_rl/g1_tracking/<run>", "kp=logs/.../<run>"],
                               ["walk.bvh"], output="robustness_out")

Pipeline, per human clip: read it (``mimiclab.retarget.sources``), take the retargeter's role
trajectories in metres, Z-up, ground at z = 0 (``retarget.pipeline.normalized_roles``; BVH joint
orientations are dropped: only positions are corrupted, and the roles are retargeted as keypoints
through a role-named skeleton map written into the run folder), corrupt them
(``mimiclab.bench.corruptions``: every corruption × severity, seeded per clip/corruption/severity),
retarget each version to a G1 motion file (``retarget_human``), then run every policy on all the
files in Isaac Lab (``mimiclab eval`` in a subprocess: one simulation per process) and in MuJoCo
(``run_sim2sim`` on the policy's exported folder).

Per (policy, simulator, corruption, severity), over clips: ``success_rate`` (clips tracked to
their end), ``completion`` (the mean fraction of each clip's duration tracked before a termination)
and ``mpkpe`` [m] (mean tracked-body position error against the reference the policy was given, i.e.
the corrupted clip, over the tracked part only: read it beside ``completion``); severity 0 is the clean clip (the same numbers in every
corruption's row). Also per row ``input_error_m``: the mean role-position change the corruption made
to the human motion (frame by frame over the common length), and ``reference_error_m``: the mean
G1 body-position change it made to the retargeted reference (after the best-fit yaw + translation:
the retargeter re-normalises heading and origin from the first frame) — how much there was to be
robust to.

Output folder: ``motions/`` (the G1 files, ``<clip>__<corruption>__s<severity>.npz``, the clean one
``<clip>__clean__s0.npz``), ``eval/<policy>/`` and ``sim2sim/<policy>/`` (the metrics.json of each
run), ``robustness.json`` (settings + rows), ``robustness.md`` (the table), ``robustness.csv`` and
``robustness.png`` (per corruption two panels, MPKPE and tracked fraction vs severity, a line per
policy × simulator, the success rate annotated).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mimiclab.bench.corruptions import CORRUPTIONS, MAX_SEVERITY, SEVERITIES, RoleMotion, apply_corruption
from mimiclab.bench.corruptions import CorruptionError, check_corruption
from mimiclab.rotations.numpy_ops import best_fit_yaw

REPO = Path(__file__).resolve().parents[3]
DEFAULT_MOTION_DIR = REPO.parent / "shared" / "data" / "bvh"  # the real clips beside the clone
QUICK_CORRUPTIONS = ("jitter", "drop", "drift")
QUICK_SEVERITIES = (0, 2)
QUICK_SECONDS = 2.0  # s of the first clip in --quick
SIMULATORS = ("isaac", "sim2sim")
ROLE_MAP = "bench_roles.yaml"


class RobustnessError(ValueError):
    """Bad input to ``bench_robustness`` (one-line message)."""


@dataclass
class Policy:
    """label, checkpoint (model_*.pt or None), exported folder (policy.onnx + contract.json or None),
    task (from the contract), symmetry (True/False from params/agent.yaml, None when unknown)."""

    label: str
    checkpoint: Path | None
    exported: Path | None
    task: str | None
    symmetry: bool | None


def _iteration(p: Path) -> int:
    m = re.fullmatch(r"model_(\d+)\.pt", p.name)
    return int(m.group(1)) if m else -1


def _symmetry(run: Path) -> bool | None:
    """Whether the run trained with rsl_rl symmetry augmentation, from its params/agent.yaml's
    ``symmetry_cfg`` line (null → False, a mapping → True); None when unknown. Read as text: the file
    holds python/tuple tags that only an unsafe YAML loader would construct."""
    try:
        lines = (run / "params" / "agent.yaml").read_text().splitlines()
    except OSError:
        return None
    for ln in lines:
        key, _, value = ln.strip().partition(":")
        if key == "symmetry_cfg":
            return value.strip() not in ("null", "~", "{}")
    return None


def resolve_policy(spec: str) -> Policy:
    """``[LABEL=]PATH``: a training run folder (its newest model_*.pt and exported/), an exported
    folder (policy.onnx: sim2sim only) or a checkpoint (exported/ beside it for sim2sim)."""
    label, _, path = spec.rpartition("=") if "=" in spec else ("", "", spec)
    p = Path(path)
    if p.is_dir() and (p / "policy.onnx").is_file():
        ckpt, exported, run = None, p, p.parent
    elif p.is_dir():
        models = sorted(p.glob("model_*.pt"), key=_iteration)
        if not models:
            raise RobustnessError(f"--policy {spec}: no model_*.pt in {p}")
        ckpt, run = models[-1], p
        exported = p / "exported" if (p / "exported" / "policy.onnx").is_file() else None
    elif p.is_file() and p.suffix == ".pt":
        ckpt, run = p, p.parent
        exported = run / "exported" if (run / "exported" / "policy.onnx").is_file() else None
    else:
        raise RobustnessError(f"--policy {spec}: no such run folder, exported folder or checkpoint")
    task = None
    for c in ([exported / "contract.json"] if exported else []) + [run / "contract.json"]:
        if c.is_file():
            try:
                task = json.loads(c.read_text()).get("task")
                break
            except (OSError, ValueError):
                pass
    sym = _symmetry(run)
    if not label:
        label = (task or run.name).replace("Mimic-", "").replace("-G1", "")
        label += "" if sym is None else ("+sym" if sym else "-nosym")
    return Policy(label, ckpt, exported, task, sym)


def default_motion() -> list[Path]:
    files = sorted(DEFAULT_MOTION_DIR.glob("*.bvh"))
    if not files:
        raise RobustnessError(f"no --motion given and no default clips in {DEFAULT_MOTION_DIR}")
    return files


def load_roles(path: str | os.PathLike, seconds: float | None = None) -> RoleMotion:
    """The clip's role trajectories (T,R,3) [m], Z-up, ground z = 0, heading +x, at the source fps;
    the first `seconds` only when given."""
    from mimiclab.retarget.pipeline import normalized_roles
    from mimiclab.retarget.skeleton_map import ROLES, select_map
    from mimiclab.retarget.sources.detect import load_human_motion

    p = Path(path)
    try:
        if not p.is_file():
            raise ValueError("file not found")
        human = load_human_motion(p)
        human.validate()
        roles, _ = normalized_roles(human, select_map("auto", human))
    except (ValueError, KeyError, OSError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RobustnessError(f"--motion {p}: unreadable clip ({msg})") from None
    names = tuple(r for r in ROLES if r in roles)
    pos = np.stack([roles[r] for r in names], axis=1)
    if seconds is not None:
        pos = pos[:max(int(round(seconds * human.fps)) + 1, 2)]
    return RoleMotion(names, np.ascontiguousarray(pos, dtype=np.float64), float(human.fps))


def write_role_map(folder: Path) -> Path:
    """A skeleton map whose source joints are the role names themselves."""
    from mimiclab.motion.format import atomic_write
    from mimiclab.retarget.skeleton_map import ROLES

    text = "name: bench_roles\nmatch: []\nroles:\n" + "".join(f"  {r}: {r}\n" for r in ROLES)
    return atomic_write(folder / ROLE_MAP, lambda f: f.write(text.encode()))


def retarget_roles(motion: RoleMotion, name: str, role_map: Path, out: Path):
    """`motion` retargeted to the G1 (mimiclab's pipeline, keypoint route), saved as out/<name>.npz."""
    from mimiclab.motion.format import save_motion
    from mimiclab.retarget.human_motion import HumanMotion
    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human

    human = HumanMotion(name=name, fps=motion.fps, joint_names=list(motion.names), positions=motion.positions.copy(),
                        unit_scale=1.0, up_axis="z", source=name)
    result = retarget_human(human, RetargetSettings(skeleton=str(role_map)))
    save_motion(out / f"{name}.npz", result.motion)
    return result.motion


def _mean_change(a: np.ndarray, b: np.ndarray, align: bool = False) -> float:
    """Mean ‖a − b‖ [m] over points (…,3) frame by frame over the common length; with `align`, `a`
    first moved by the yaw + translation that best fits it onto `b` (the retargeter re-normalises
    heading and origin from the first frame, which a corruption of that frame changes globally)."""
    n = min(len(a), len(b))
    a, b = a[:n].reshape(-1, 3), b[:n].reshape(-1, 3)
    if align:
        ca, cb = a.mean(0), b.mean(0)
        yaw = best_fit_yaw(a, b)
        c, s = math.cos(yaw), math.sin(yaw)
        a = (a - ca) @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T + np.array([cb[0], cb[1], ca[2]])
    return float(np.linalg.norm(a - b, axis=-1).mean())


def _seed(seed: int, clip: int, corruption: str, severity: int) -> np.random.Generator:
    return np.random.default_rng([seed, clip, CORRUPTIONS.index(corruption), severity])


def run_isaac(policy: Policy, files: list[Path], out: Path, device: str) -> dict:
    """``mimiclab eval`` in a subprocess (one Isaac Lab simulation per process) → its metrics.json."""
    cmd = [sys.executable, "-m", "mimiclab", "eval", "--checkpoint", str(policy.checkpoint), "--motion",
           *map(str, files), "-o", str(out), "--device", device]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        tail = [ln for ln in res.stderr.splitlines() if ln.strip()]
        raise RobustnessError(f"eval of {policy.label} failed: {tail[-1] if tail else 'exit ' + str(res.returncode)}")
    return json.loads((out / "metrics.json").read_text())


def run_mujoco(policy: Policy, files: list[Path], out: Path) -> dict:
    from mimiclab.sim2sim.runner import run_sim2sim

    return run_sim2sim(policy.exported, [str(f) for f in files], out, progress=False)


def _completion(clip: dict) -> float:
    """The fraction of a clip's duration tracked before a termination (1 for a clip tracked to its end)."""
    return 1.0 if clip["success"] else min(float(clip["tracked_s"]) / float(clip["duration_s"]), 1.0)


def _by_file(report: dict) -> dict[str, dict]:
    return {Path(c["path"]).stem if "path" in c else name: c for name, c in report["clips"].items()}


def bench_robustness(policies: list[str], motion: list[str] | None = None, output: str | os.PathLike = "robustness_out",
                     corruptions: list[str] | None = None, severities: list[int] | None = None, seed: int = 0,
                     quick: bool = False, isaac: bool = True, sim2sim: bool = True, device: str = "cpu",
                     progress: bool = True) -> list[dict]:
    """The benchmark (module docstring); returns the rows and writes the output folder."""
    from tqdm import tqdm

    if not policies:
        raise RobustnessError("give at least one --policy")
    if not (isaac or sim2sim):
        raise RobustnessError("--no-isaac and --no-sim2sim leave nothing to run")
    pols = [resolve_policy(s) for s in policies]
    labels = [p.label for p in pols]
    for i, p in enumerate(pols):  # labels must be unique
        if labels.count(p.label) > 1:
            p.label = f"{p.label}#{labels[:i + 1].count(labels[i])}"
    for p in pols:
        if isaac and p.checkpoint is None:
            raise RobustnessError(f"--policy {p.label}: no checkpoint for Isaac Lab (pass --no-isaac)")
        if sim2sim and p.exported is None:
            raise RobustnessError(f"--policy {p.label}: no exported/policy.onnx for sim2sim (pass --no-sim2sim)")
    corruptions = list(corruptions or (QUICK_CORRUPTIONS if quick else CORRUPTIONS))
    severities = sorted(set(severities if severities is not None else
                            (QUICK_SEVERITIES if quick else range(MAX_SEVERITY + 1))))
    try:
        for c in corruptions:
            for s in severities:
                check_corruption(c, s)
    except CorruptionError as e:
        raise RobustnessError(str(e)) from None
    clips = [Path(m) for m in motion] if motion else default_motion()
    if quick:
        clips = clips[:1]
    seconds = QUICK_SECONDS if quick else None
    human = {c: load_roles(c, seconds) for c in clips}  # every clip read before anything long runs

    out = Path(output)
    motions = out / "motions"
    motions.mkdir(parents=True, exist_ok=True)
    role_map = write_role_map(out)
    jobs = [(ci, c, corr, s) for ci, c in enumerate(clips) for corr in corruptions for s in severities if s > 0]
    files: dict[tuple[str, str, int], Path] = {}
    changes: dict[tuple[str, str, int], tuple[float, float]] = {}
    bar = tqdm(total=len(clips) + len(jobs), desc="retarget", disable=not progress, file=sys.stderr)
    clean_motion = {}
    for c in clips:
        name = f"{c.stem}__clean__s0"
        clean_motion[c] = retarget_roles(human[c], name, role_map, motions)
        files[(c.stem, "clean", 0)] = motions / f"{name}.npz"
        bar.update()
    for ci, c, corr, s in jobs:
        name = f"{c.stem}__{corr}__s{s}"
        bad, _ = apply_corruption(corr, human[c], s, _seed(seed, ci, corr, s))
        g1 = retarget_roles(bad, name, role_map, motions)
        files[(c.stem, corr, s)] = motions / f"{name}.npz"
        changes[(c.stem, corr, s)] = (_mean_change(bad.positions, human[c].positions),
                                      _mean_change(g1.body_pos_w, clean_motion[c].body_pos_w, align=True))
        bar.update()
    bar.close()

    all_files = list(files.values())
    results: dict[tuple[str, str], dict[str, dict]] = {}
    sims = [s for s, on in zip(SIMULATORS, (isaac, sim2sim)) if on]
    bar = tqdm(total=len(pols) * len(sims), desc="evaluate", disable=not progress, file=sys.stderr)
    for p in pols:
        safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", p.label)
        if isaac:
            results[(p.label, "isaac")] = _by_file(run_isaac(p, all_files, out / "eval" / safe, device))
            bar.update()
        if sim2sim:
            results[(p.label, "sim2sim")] = _by_file(run_mujoco(p, all_files, out / "sim2sim" / safe))
            bar.update()
    bar.close()

    rows = []
    for p in pols:
        for sim in sims:
            per_file = results[(p.label, sim)]
            for corr in corruptions:
                for s in severities:
                    keys = [(c.stem, "clean", 0) if s == 0 else (c.stem, corr, s) for c in clips]
                    got = [per_file[files[k].stem] for k in keys]
                    ch = [changes.get(k, (0.0, 0.0)) for k in keys]
                    rows.append({"policy": p.label, "task": p.task, "symmetry": p.symmetry, "simulator": sim,
                                 "corruption": corr, "severity": s, "clips": len(got),
                                 "success_rate": float(np.mean([bool(g["success"]) for g in got])),
                                 "completion": float(np.mean([_completion(g) for g in got])),
                                 "mpkpe": float(np.mean([g["mpkpe"] for g in got])),
                                 "input_error_m": float(np.mean([c[0] for c in ch])),
                                 "reference_error_m": float(np.mean([c[1] for c in ch]))})
    settings = {"policies": [{"label": p.label, "checkpoint": str(p.checkpoint) if p.checkpoint else None,
                              "exported": str(p.exported) if p.exported else None, "task": p.task,
                              "symmetry": p.symmetry} for p in pols],
                "motion": [str(c) for c in clips], "seconds": seconds, "corruptions": corruptions,
                "severities": severities, "seed": seed, "quick": quick, "device": device,
                "parameters": {c: SEVERITIES[c] for c in corruptions}}
    write_outputs(out, settings, rows)
    return rows


ROW_FIELDS = ("policy", "simulator", "corruption", "severity", "success_rate", "completion", "mpkpe", "input_error_m",
              "reference_error_m")


def format_table(rows: list[dict]) -> str:
    """A Markdown table, a row per (policy, simulator, corruption, severity)."""
    head = ("policy", "simulator", "corruption", "severity", "success", "tracked", "MPKPE [m]", "input Δ [m]",
            "reference Δ [m]")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(f"| {r['policy']} | {r['simulator']} | {r['corruption']} | {r['severity']} | "
                     f"{r['success_rate']:.2f} | {r['completion']:.2f} | {r['mpkpe']:.4f} | {r['input_error_m']:.4f} | "
                     f"{r['reference_error_m']:.4f} |")
    return "\n".join(lines)


def untrained_policies(rows: list[dict]) -> list[str]:
    """Policies that track no clean clip to its end in any simulator: their rows measure the
    pipeline, not robustness (a warning in the table and on stderr)."""
    pols = dict.fromkeys(r["policy"] for r in rows)
    return [p for p in pols if not any(r["success_rate"] > 0 for r in rows if r["policy"] == p and r["severity"] == 0)]


def write_outputs(out: Path, settings: dict, rows: list[dict]) -> None:
    """robustness.json / .md / .csv / .png, each written atomically."""
    from mimiclab.motion.format import atomic_write

    weak = untrained_policies(rows)
    warning = (f"**Warning:** {', '.join(weak)} track(s) no clean clip to its end: for these the figures measure "
               "the pipeline, not robustness (train longer).\n\n" if weak else "")
    if weak:
        print(f"mimiclab bench robustness: warning: {', '.join(weak)} track(s) no clean clip to its end; their "
              "figures measure the pipeline, not robustness", file=sys.stderr)

    atomic_write(out / "robustness.json",
                 lambda f: f.write(json.dumps({"settings": settings, "rows": rows}, indent=2).encode()))
    md = ("# mimiclab bench robustness\n\nsuccess: fraction of clips tracked to their end; tracked: mean fraction "
          "of each clip's duration tracked before a termination; MPKPE: mean tracked-body error against the "
          "(corrupted) reference over the tracked part; input Δ / reference Δ: how much the corruption changed the "
          "human motion / the retargeted G1 reference. Severity 0 = clean.\n\n" + warning + format_table(rows) + "\n")
    atomic_write(out / "robustness.md", lambda f: f.write(md.encode()))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ROW_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write(out / "robustness.csv", lambda f: f.write(buf.getvalue().encode()))
    plot(rows, out / "robustness.png")


def plot(rows: list[dict], path: Path) -> Path:
    """Per corruption two panels against severity: MPKPE [m] (upper) and the tracked fraction of the
    clip (lower, the success rate as the marker's label); a line per policy × simulator."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mimiclab.motion.format import atomic_write

    corrs = list(dict.fromkeys(r["corruption"] for r in rows))
    ncol = min(3, len(corrs))
    nrow = math.ceil(len(corrs) / ncol)
    fig, axes = plt.subplots(2 * nrow, ncol, figsize=(4.2 * ncol, 2.6 * 2 * nrow), squeeze=False)
    lines = list(dict.fromkeys((r["policy"], r["simulator"]) for r in rows))
    severities = sorted({r["severity"] for r in rows})
    for k, corr in enumerate(corrs):
        top, bottom = axes[2 * (k // ncol), k % ncol], axes[2 * (k // ncol) + 1, k % ncol]
        for pol, sim in lines:
            rs = sorted((r for r in rows if r["corruption"] == corr and r["policy"] == pol and r["simulator"] == sim),
                        key=lambda r: r["severity"])
            x = [r["severity"] for r in rs]
            style = "o-" if sim == "isaac" else "s--"
            top.plot(x, [r["mpkpe"] for r in rs], style, label=f"{pol} / {sim}")
            bottom.plot(x, [r["completion"] for r in rs], style)
            for r in rs:
                bottom.annotate(f"{r['success_rate']:.0%}", (r["severity"], r["completion"]), fontsize=7,
                                textcoords="offset points", xytext=(3, 3))
        top.set_title(corr)
        top.set_ylabel("MPKPE [m]")
        bottom.set_ylabel("tracked fraction")
        bottom.set_ylim(-0.05, 1.1)
        bottom.set_xlabel("severity")
        for ax in (top, bottom):
            ax.set_xticks(severities)
            ax.grid(alpha=0.3)
    for k in range(len(corrs), nrow * ncol):
        axes[2 * (k // ncol), k % ncol].axis("off")
        axes[2 * (k // ncol) + 1, k % ncol].axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("tracking under motion corruptions (lower panels: success rate as labels)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write(path, lambda f: f.write(buf.getvalue()))
