"""`mimiclab bench generate --model MODEL_DIR`: RoboMirror's generated motion on the model's
held-out clips (the pair files' ``split_of`` 'test': never trained on), beside real motion.

One prompt per held-out clip (its label text, or its human motion for the 'human' intent), two
chained windows each, the same seed for every variant:
- recognition by the evaluator's action classifier (chance 1/A), R-precision of the evaluator's
  G1-motion encoder against its text head (R@1/R@3 among all corpus texts), Fréchet distance to
  the real held-out windows in the evaluator's space, diversity, and the retarget quality report
  (``QUALITY_BOUNDS`` pass rate and mean figures) — for diffusion with text intents (guidance 1
  and the default), diffusion with human-motion intents, and the alignment ablation;
- real held-out motion through the same evaluator (the ceiling);
- latency on one held-out mocap clip: intent → first motion frame (parse, intent, one window,
  decode, motion) beside estimate → retarget (parse, IK of the clip, the motion file's frames;
  the IK solves whole clips, so its first frame comes with its last) and text → first frame.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

VARIANTS = (("diffusion", "text", None), ("diffusion", "text", 1.0), ("diffusion", "human", None),
            ("alignment", "text", None))


def _heldout(model, pairs_dir: Path, max_clips: int | None):
    from mimiclab.robomirror.corpus import Corpus

    names = model.info.get("test_clips", [])
    paths = [pairs_dir / f"{n}.pair.npz" for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if not names:
        raise ValueError("the model has no held-out clips (trained on too few clips)")
    if missing:
        raise ValueError(f"{missing[0]}: held-out pair file missing (give --pairs, the folder "
                         "`mimiclab generate train` cached them in)")
    clips = Corpus.load(paths[:max_clips] if max_clips else paths).clips
    return [c for c in clips if c.text in model.texts and c.action in model.actions]


def _latency(model, mocap: str, guidance: float) -> dict:
    """Seconds from input to the first motion frame for the three paths (module docstring)."""
    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.robomirror.generation import generate_features, human_intent, motion_from_features, text_intent

    def intent_path():
        h = human_intent(model, load_human_motion(mocap))
        f = generate_features(model, h, 1, 0, guidance)[0].numpy()
        return motion_from_features(f)

    def text_path():
        f = generate_features(model, text_intent(model, "walk, normal"), 1, 0, guidance)[0].numpy()
        return motion_from_features(f)

    def retarget_path():
        return retarget_human(load_human_motion(mocap), RetargetSettings()).motion

    out = {}
    for name, fn in (("intent", intent_path), ("text", text_path), ("retarget", retarget_path)):
        fn()  # warm-up (first calls load the text model, the kernels, the tree)
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        out[name] = best
    return out


def bench_generate(model_dir: str, pairs: str | None = None, max_clips: int | None = None, seed: int = 0,
                   verbose: bool = True) -> list[dict]:
    """Run every comparison; returns JSON records (one per variant, one for real motion, one for
    latency) and prints the tables when `verbose`."""
    from mimiclab.robomirror.checkpoint import load_model
    from mimiclab.robomirror.evaluation import generated_figures, real_figures

    model = load_model(model_dir)
    clips = _heldout(model, Path(pairs) if pairs else Path(model_dir) / "pairs", max_clips)
    if not clips:
        raise ValueError("no held-out clip has a label the model knows")
    default_guidance = 2.5
    rows = []
    for method, intent, g in VARIANTS:
        t = time.perf_counter()
        r = generated_figures(model, clips, seed=seed, guidance=default_guidance if g is None else g,
                              method=method, intent=intent)
        r["seconds"] = time.perf_counter() - t
        rows.append(r)
    real = real_figures(model, clips)
    from mimiclab.retarget.learned.pairs import read_pair

    source = read_pair(Path(pairs or Path(model_dir) / "pairs") / f"{clips[0].name}.pair.npz")["meta"]["source"]
    latency = _latency(model, source, default_guidance) if Path(source).is_file() else {}
    recon = next(r for r in rows if r["method"] == "diffusion" and r["intent"] == "text" and r["guidance"] == default_guidance)
    align = next(r for r in rows if r["method"] == "alignment")
    verdict = {"reconstruction_beats_alignment_on_recognition": recon["recognition"] > align["recognition"],
               "reconstruction_beats_alignment_on_fid": recon["fid"] < align["fid"],
               "recognition_over_chance": recon["recognition"] / recon["recognition_chance"]}
    if verbose:
        print(format_report(model_dir, clips, rows, real, latency, source, verdict))
    return ([{"kernel": "generate", **r} for r in rows] + [{"kernel": "generate_real", **real}]
            + [{"kernel": "generate_latency", "input": source, "seconds": latency,
                "intent_vs_retarget": latency["retarget"] / latency["intent"] if latency else None},
               {"kernel": "generate_verdict", **verdict}])


def format_report(model_dir, clips, rows, real, latency, source, verdict) -> str:
    """The printed tables (rich, rendered to text)."""
    import io

    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, width=130)
    actions = len({c.action for c in clips})
    console.print(f"model: {model_dir}; {len(clips)} held-out clips ({actions} actions), one prompt each, two windows")
    t = Table(title="generated vs real held-out motion (the evaluator: classifier, G1-motion encoder)")
    for col in ("variant", "recognition", "R@1", "R@3", "FID", "diversity", "quality pass", "foot slide m/s",
                "sliding frames", "seconds"):
        t.add_column(col, justify="right" if col != "variant" else "left")
    for r in rows:
        q = r["quality_mean"]
        t.add_row(f"{r['method']}, {r['intent']} intent, guidance {r['guidance']:g}", f"{r['recognition']:.3f}",
                  f"{r['r_precision_r1']:.3f}", f"{r['r_precision_r3']:.3f}", f"{r['fid']:.3f}", f"{r['diversity']:.3f}",
                  f"{r['quality_pass_rate']:.2f}", f"{q['foot_sliding_m_s']:.3f}", f"{q['sliding_frames']:.3f}",
                  f"{r['seconds']:.1f}")
    t.add_row("real held-out motion", f"{real['recognition']:.3f}", f"{real['r_precision_r1']:.3f}",
              f"{real['r_precision_r3']:.3f}", "0", "", "", "", "", "")
    console.print(t)
    console.print(f"chance: recognition {rows[0]['recognition_chance']:.3f}; R@1 {1 / max(len(clips), 1):.3f} or less")
    if latency:
        lt = Table(title=f"latency to the first motion frame ({Path(source).name}; best of 3)")
        for col in ("path", "seconds", "x intent"):
            lt.add_column(col, justify="right" if col != "path" else "left")
        for k, label in (("intent", "human motion → intent → generated window"), ("text", "text → generated window"),
                         ("retarget", "human motion → IK retarget (whole clip)")):
            lt.add_row(label, f"{latency[k]:.3f}", f"{latency[k] / latency['intent']:.2f}")
        console.print(lt)
    console.print(f"reconstruction beats alignment: recognition {verdict['reconstruction_beats_alignment_on_recognition']}, "
                  f"FID {verdict['reconstruction_beats_alignment_on_fid']}; recognition "
                  f"{verdict['recognition_over_chance']:.1f}x chance")
    return buf.getvalue().rstrip()
