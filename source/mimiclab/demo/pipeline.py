"""`mimiclab demo`: human motion → retarget → train → export → eval → sim2sim → report, one command.

    run_demo(Path("demo_out"))                      # the shipped synthetic human motion, preset by device
    run_demo(Path("out"), inputs=["walk.bvh"], preset="cpu-quick")

Every stage writes into its own folder of DIR and marks itself finished with a key (a hash of its
inputs and settings, chained through the stages before it): re-running reuses finished stages,
an interrupted training resumes from its last checkpoint, and a changed input or preset redoes
exactly what depends on it. Training and evaluation run as `mimiclab train` / `mimiclab eval`
subprocesses (one simulation per process); sim2sim runs the exported ONNX in MuJoCo. DIR/demo.json
holds every figure and DIR/report.html shows them (``mimiclab.demo.report``).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from mimiclab.demo.cache import file_digest, load_stage, rel, save_stage, stage_key
from mimiclab.demo.curves import training_pace
from mimiclab.demo.presets import PRESETS, Preset, default_preset
from mimiclab.tasks.physics import resolved_preset

TASK = "Mimic-Track-G1"
EXPERIMENT = "demo"
SEED = 42
SIM2SIM_PREFERRED = ("walk", "arm_wave")


class DemoError(ValueError):
    """A stage failed or the input is bad (one-line message; the CLI exits non-zero)."""


VERSION_CHECKS = ("python", "mimiclab", "torch", "isaaclab", "rsl_rl", "mujoco", "onnxruntime", "warp")


def _versions(checks) -> dict:
    """{package: version} for the report, from the doctor's checks (which already read them)."""
    found = {c.name: c.detail for c in checks if c.status == "ok"}
    return {name: found.get(name) for name in VERSION_CHECKS}


def _machine(device: str) -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") and torch.cuda.is_available() else None
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu}


class Demo:
    """The stages of one demo run in `out` (see module docstring)."""

    def __init__(self, out: Path, preset: Preset, device: str, inputs: Sequence[str] | None, versions: dict):
        self.out, self.preset, self.device, self.inputs = out, preset, device, inputs
        self.summary = {"preset": preset.name, "smoke_scale": preset.smoke_scale, "device": device,
                        "versions": versions, "machine": _machine(device),
                        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "settings": {"num_envs": preset.num_envs, "iterations": preset.iterations, "task": TASK,
                                     "seed": SEED, "train_overrides": list(preset.train_overrides)},
                        "stages": {}}
        self.t0 = time.perf_counter()

    # -- bookkeeping --------------------------------------------------------------------------
    def write_summary(self) -> None:
        from mimiclab.motion.format import atomic_write

        self.summary["seconds"] = time.perf_counter() - self.t0
        text = json.dumps(self.summary, indent=2, default=str)
        atomic_write(self.out / "demo.json", lambda f: f.write(text.encode()))

    def stage(self, name: str, key: str, run) -> dict:
        """Run `run()` unless a finished result with `key` is stored; record it in demo.json."""
        folder = self.out / name
        print(f"\n── {name} " + "─" * max(60 - len(name), 4))
        cached = load_stage(folder, key)
        if cached is not None:
            print(f"   reused (finished earlier with the same inputs; delete {rel(folder, Path.cwd())} to redo)")
            result = {**cached, "cached": True}
        else:
            t = time.perf_counter()
            try:
                result = run(folder)
            except (DemoError, ValueError, FileNotFoundError) as e:
                self.summary["stages"][name] = {"status": "failed", "error": str(e).splitlines()[0]}
                self.write_summary()
                raise
            result = {**result, "status": "done", "seconds": time.perf_counter() - t}
            save_stage(folder, key, result)
            result = {**result, "cached": False}
        self.summary["stages"][name] = result
        self.write_summary()
        return result

    # -- stages -------------------------------------------------------------------------------
    def input_files(self) -> list[Path]:
        if self.inputs:
            files = [Path(p) for p in self.inputs]
            missing = [str(p) for p in files if not p.is_file()]
            if missing:
                raise DemoError(f"input {missing[0]}: no such file")
            return files
        from mimiclab.retarget.sources.synthetic import write_samples

        return write_samples(self.out / "inputs")

    def retarget(self) -> tuple[dict, str]:
        from mimiclab.retarget.pipeline import RetargetSettings

        files = self.input_files()
        settings = RetargetSettings()
        key = stage_key("retarget", file_digest(files), repr(settings), self.summary["versions"]["mimiclab"])

        def run(folder: Path) -> dict:
            from mimiclab.retarget.batch import retarget_files, summary_table

            shutil.rmtree(folder / "motions", ignore_errors=True)
            results = retarget_files([str(p) for p in files], str(folder / "motions"), settings)
            print(summary_table(results))
            ok = [r for r in results if r.ok]
            for r in results:
                if not r.ok:
                    print(f"   skipped {r.name}: {r.error}")
            if not ok:
                raise DemoError("retargeting produced no motion (every input failed)")
            return {"clips": {r.name: r.quality for r in ok}, "failed": {r.name: r.error for r in results if not r.ok},
                    "motions": rel(folder / "motions", self.out)}

        return self.stage("retarget", key, run), key

    def train(self, upstream: str, motions: Path) -> tuple[dict, str]:
        p = self.preset
        key = stage_key("train", upstream, TASK, p.num_envs, p.iterations, SEED, self.device, p.train_overrides,
                        p.train_seconds)

        def run(folder: Path) -> dict:
            marker = folder / "key.txt"
            if marker.is_file() and marker.read_text().strip() != key:
                shutil.rmtree(folder)  # checkpoints of other inputs or settings: start over
            folder.mkdir(parents=True, exist_ok=True)
            marker.write_text(key)
            for run in _runs(folder):  # interrupted before its first checkpoint: nothing to resume from
                if not list(run.glob("model_*.pt")):
                    shutil.rmtree(run)
            done, last = _last_checkpoint(folder)
            remaining = p.iterations - done
            args = ["train", "--task", TASK, "--motion", str(motions.resolve()), "--num_envs", str(p.num_envs),
                    "--device", self.device, "--seed", str(SEED), f"agent.save_interval={p.save_interval}",
                    f"agent.experiment_name={EXPERIMENT}", *p.train_overrides]
            if last is not None and remaining > 0:
                print(f"   resuming from {rel(last, self.out)} ({done}/{p.iterations} iterations done)")
                args += ["--resume"]
            if p.train_seconds is not None:
                args += ["--time_budget", f"{p.train_seconds:g}"]
            if remaining > 0:
                _run_training(args + ["--max_iterations", str(remaining)], folder, done, p.iterations)
            runs = _runs(folder)
            final = runs[-1] if runs else None
            if final is None or not (final / "exported" / "policy.onnx").is_file():
                raise DemoError(f"training finished without an exported policy (see {folder / 'train.log'})")
            fitted, checkpoint = _last_checkpoint(folder)
            curves = _curves(runs)
            learning = _learning(curves)
            pace = training_pace(runs)
            if pace:
                print(f"   pace: {pace['iterations_per_minute']:.1f} iterations/min (collection "
                      f"{pace['collection_s']:.2f} s + learning {pace['learning_s']:.2f} s per iteration, "
                      f"physics {resolved_preset(self.device)})")
            if learning:
                print(f"   learning: episode length {learning['episode_length_first']:.1f} → "
                      f"{learning['episode_length_last']:.1f} steps (×{learning['episode_length_ratio']:.2f}), "
                      f"tracking reward {learning['tracking_reward_first']:.3f} → "
                      f"{learning['tracking_reward_last']:.3f} ({learning['window']} iterations after the first "
                      f"{learning['skip']} vs the last {learning['window']})")
            return {"num_envs": p.num_envs, "iterations": fitted, "iterations_planned": p.iterations,
                    "time_budget_s": p.train_seconds, "resumed_from":
                    rel(last, self.out) if last is not None and done > 0 else None,
                    "log_dir": rel(final, self.out), "log_dirs": [rel(r, self.out) for r in runs],
                    "checkpoint": rel(checkpoint, self.out), "curves": curves, "learning": learning,
                    "pace": pace, "physics": resolved_preset(self.device)}

        return self.stage("train", key, run), key

    def export(self, upstream: str, train: dict) -> tuple[dict, str]:
        key = stage_key("export", upstream)

        def run(folder: Path) -> dict:
            from mimiclab.deploy.onnx_policy import OnnxPolicy

            src = self.out / train["log_dir"] / "exported"
            folder.mkdir(parents=True, exist_ok=True)
            for name in ("policy.onnx", "contract.json"):
                shutil.copy2(src / name, folder / name)
            policy = OnnxPolicy.load(folder)  # contract, metadata and hash checked
            c = policy.contract
            print(f"   {rel(folder, Path.cwd())}: policy.onnx + contract.json — {c.num_actions} joints, "
                  f"{c.observation_dim} observation numbers in {len(c.observations)} terms, control dt "
                  f"{c.control_dt:g} s")
            return {"policy_dir": rel(folder, self.out), "observation_dim": c.observation_dim,
                    "num_actions": c.num_actions, "control_dt": c.control_dt,
                    "observations": [[t.name, t.dim] for t in c.observations]}

        return self.stage("export", key, run), key

    def evaluate(self, upstream: str, train: dict, motions: Path) -> dict:
        key = stage_key("eval", upstream)

        def run(folder: Path) -> dict:
            cmd = [sys.executable, "-m", "mimiclab", "eval", "--checkpoint", str(self.out / train["checkpoint"]),
                   "--motion", str(motions), "-o", str(folder), "--device", self.device]
            res = subprocess.run(cmd, capture_output=True, text=True)
            (self.out / "eval.log").write_text(res.stdout + res.stderr)
            if res.returncode != 0:
                lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
                raise DemoError(f"eval failed: {lines[-1] if lines else res.returncode}")
            lines = res.stdout.splitlines()
            start = next((i for i, ln in enumerate(lines) if ln.startswith("clip ")), len(lines))
            print("\n".join(lines[start:]))  # the metrics table (the model summary stays in eval.log)
            return {"metrics": json.loads((folder / "metrics.json").read_text())}

        return self.stage("eval", key, run)

    def sim2sim(self, upstream: str, policy_dir: Path, motions: Path) -> dict:
        clips = _sim2sim_clips(motions, self.preset.sim2sim_clips)
        key = stage_key("sim2sim", upstream, [c.name for c in clips])

        def run(folder: Path) -> dict:
            from mimiclab.sim2sim.runner import run_sim2sim

            video = folder / f"{clips[0].stem}.mp4"
            report = run_sim2sim(policy_dir, [str(c) for c in clips], folder, video=str(video))
            made = report.get("video")
            strip = report.get("keyframes")
            plot = folder / f"{clips[0].stem}_tracking.png"
            return {"metrics": report, "plot": rel(plot, self.out) if plot.is_file() else None,
                    "video": rel(made, self.out) if made else None,
                    "keyframes": rel(strip, self.out) if strip else None}

        return self.stage("sim2sim", key, run)


# -- helpers ------------------------------------------------------------------------------------
def _runs(folder: Path) -> list[Path]:
    root = folder / "logs" / "rsl_rl" / EXPERIMENT
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _last_checkpoint(folder: Path) -> tuple[int, Path | None]:
    """(iterations done, newest checkpoint) over every run folder of this stage."""
    best, path = 0, None
    for run in _runs(folder):
        for ck in run.glob("model_*.pt"):
            m = re.fullmatch(r"model_(\d+)\.pt", ck.name)
            if m and int(m.group(1)) + 1 > best:
                best, path = int(m.group(1)) + 1, ck
    return best, path


def _run_training(args: list[str], folder: Path, done: int, total: int) -> None:
    """`mimiclab train` in a subprocess, its output to train.log, a progress bar from its iterations."""
    from tqdm import tqdm

    log = folder / "train.log"
    cmd = [sys.executable, "-u", "-m", "mimiclab", *args]
    pattern = re.compile(r"Learning iteration (\d+)/(\d+)")
    with open(log, "a") as f, tqdm(total=total, initial=done, desc="   training", unit="it",
                                   dynamic_ncols=True) as bar:
        f.write(f"\n$ mimiclab {' '.join(args)}\n")
        proc = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for line in proc.stdout:
                f.write(line)
                m = pattern.search(line)
                if m:
                    bar.n = min(int(m.group(1)) + 1, total)  # rsl_rl counts iterations across resumes
                    bar.refresh()
            proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            raise
    if proc.returncode != 0:
        tail = [ln for ln in log.read_text().splitlines() if "error" in ln.lower()]
        raise DemoError(f"training failed (exit {proc.returncode}): {tail[-1] if tail else 'see ' + str(log)}")


def _learning(curves: dict) -> dict | None:
    """``learning_figures`` of the merged curves (None when the run was too short to judge)."""
    from mimiclab.demo.curves import learning_figures
    from mimiclab.deploy.tracking_mdp import TRACKING_REWARD_TERMS

    try:
        return learning_figures(curves, TRACKING_REWARD_TERMS)
    except ValueError:
        return None


def _curves(runs: list[Path]) -> dict:
    from mimiclab.demo.curves import read_training_curves

    merged: dict[str, dict[int, float]] = {}
    for run in runs:
        try:
            c = read_training_curves(run)
        except ValueError:
            continue
        its = c.pop("iteration")
        for tag, values in c.items():
            for it, v in zip(its, values):
                merged.setdefault(tag, {})[int(it)] = v
    iterations = sorted({it for d in merged.values() for it in d})
    return {"iteration": iterations, **{tag: [d.get(it, float("nan")) for it in iterations]
                                        for tag, d in merged.items()}}


def _sim2sim_clips(motions: Path, n: int) -> list[Path]:
    files = sorted(motions.glob("*.npz"))
    preferred = [f for name in SIM2SIM_PREFERRED for f in files if f.stem == name]
    rest = [f for f in files if f not in preferred]
    return (preferred + rest)[:max(n, 1)]


def run_demo(out_dir: Path, preset: str | None = None, inputs: Sequence[str] | None = None,
             num_envs: int | None = None, iterations: int | None = None, device: str | None = None) -> int:
    """Run (or resume) the demo in `out_dir`; returns the exit code."""
    import torch

    from mimiclab.doctor import format_checks, run_checks

    device = device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    name = preset or default_preset(device)
    if name not in PRESETS:
        raise DemoError(f"unknown preset '{name}' (choose from {', '.join(PRESETS)})")
    p = PRESETS[name].with_overrides(num_envs=num_envs, iterations=iterations)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    budget = f", at most {p.train_seconds:g} s" if p.train_seconds is not None else ""
    print(f"mimiclab demo — preset {p.name} on {device}: retarget → train ({p.num_envs} envs × {p.iterations} "
          f"iterations{budget}{', smoke scale' if p.smoke_scale else ''}) → export → eval → sim2sim → report\n"
          f"   in {out_dir}")
    checks = run_checks()
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        print(format_checks(checks))
        raise DemoError(f"environment not usable: {failed[0].name}: {failed[0].detail}")
    demo = Demo(out_dir, p, device, inputs, _versions(checks))
    retarget, k_ret = demo.retarget()
    motions = out_dir / retarget["motions"]
    train, k_train = demo.train(k_ret, motions)
    export, k_exp = demo.export(k_train, train)
    demo.evaluate(k_train, train, motions)
    demo.sim2sim(k_exp, out_dir / export["policy_dir"], motions)
    from mimiclab.demo.report import write_report

    report = write_report(out_dir)
    print(f"\nmimiclab demo: done in {time.perf_counter() - demo.t0:.0f} s → {report}")
    return 0
