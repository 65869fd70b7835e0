"""Summary of ``scripts/gpu_check.sh``: every step's exit code and time plus the figures it produced,
in one JSON (``OUT/gpu_check.json``) and a short printout.

    python -m mimiclab.bench.gpu_check OUT_DIR DRY_RUN(0|1)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STEPS = ("setup", "device", "pytest", "kernels", "env", "clips", "train")
CURVE_TAGS = ("Train/mean_episode_length", "Train/mean_reward", "Metrics/motion/error_body_pos",
              "Metrics/motion/error_joint_pos", "Metrics/motion/error_anchor_pos")


def _steps(out: Path) -> dict[str, dict]:
    steps = {}
    path = out / "steps.tsv"
    for line in path.read_text().splitlines() if path.is_file() else []:
        name, rc, seconds = line.split("\t")
        steps[name] = {"exit_code": int(rc), "seconds": int(seconds)}
    return steps


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _training(out: Path) -> dict | None:
    """Curves of the newest run under OUT/logs (episode length, reward, tracking errors, env-steps/s)."""
    from mimiclab.demo.curves import event_files, read_training_curves

    runs = sorted(p.parent for p in (out / "logs").rglob("events.out.tfevents.*")) if (out / "logs").is_dir() else []
    if not runs:
        return None
    run = runs[-1]
    curves = read_training_curves(run)
    result = {"run": str(run), "iterations": len(curves["iteration"])}
    for tag in CURVE_TAGS:
        values = [v for v in curves.get(tag, []) if v is not None]
        if values:
            result[tag] = {"first": values[0], "last": values[-1], "series": values}
    try:
        from tensorboard.backend.event_processing import event_accumulator as ea

        fps = []
        for f in event_files(run):
            acc = ea.EventAccumulator(str(f), size_guidance={ea.SCALARS: 0})
            acc.Reload()
            if "Perf/total_fps" in acc.Tags().get("scalars", []):
                fps += [e.value for e in acc.Scalars("Perf/total_fps")]
        if fps:
            result["env_steps_per_s"] = {"median": sorted(fps)[len(fps) // 2], "last": fps[-1]}
    except Exception as e:  # the curves above are the point; throughput is a bonus
        result["env_steps_per_s_error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
    return result


def summarize(out_dir: str | Path, dry_run: bool) -> dict:
    out = Path(out_dir)
    report = {"dry_run": bool(dry_run), "steps": _steps(out), "kernels": _json(out / "kernels.json"),
              "env": _json(out / "env.json"), "training": _training(out)}
    report["ok"] = all(report["steps"].get(s, {}).get("exit_code", 1) in (0, 124) for s in STEPS)
    from mimiclab.motion.format import atomic_write

    atomic_write(out / "gpu_check.json", lambda f: f.write(json.dumps(report, indent=2).encode()))
    return report


def main(argv: list[str]) -> int:
    report = summarize(argv[0], argv[1] == "1")
    for name in STEPS:
        st = report["steps"].get(name)
        status = "missing" if st is None else "exit {:>3}  {:>4} s".format(st["exit_code"], st["seconds"])
        print(f"{name:<8} {status}")
    tr = report["training"] or {}
    ep = tr.get("Train/mean_episode_length")
    if ep:
        print(f"training: {tr['iterations']} iterations, episode length {ep['first']:.1f} → {ep['last']:.1f} steps")
    print(f"gpu_check: {'ok' if report['ok'] else 'FAILED'} → {Path(argv[0]) / 'gpu_check.json'}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
