"""The `mimiclab` command (also `python -m mimiclab`): doctor, assets, retarget, curate, inspect, keypoints, view,
train, play, eval, export, sim2sim, bench, demo. Bad input: one line `mimiclab <command>: error: ...` on stderr, exit 1.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

class CliError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def _cmd_doctor(args: argparse.Namespace) -> int:
    from mimiclab.doctor import format_checks, run_checks

    checks = run_checks()
    if args.json:
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        print(format_checks(checks))
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        print(f"mimiclab doctor: not usable: {failed[0].name}: {failed[0].detail}", file=sys.stderr)
        return 1
    if not args.json:
        print("mimiclab doctor: usable")
    return 0


def _cmd_assets(args: argparse.Namespace) -> int:
    from mimiclab.robots import assets

    if args.action == "provision":
        paths = assets.provision(Path(args.wheel) if args.wheel else None)
        print(f"G1 MJCF: {paths['mjcf']}\nG1 USD:  {paths['usd']}")
        return 0
    st = assets.status()
    print(json.dumps(st, indent=2))
    return 0 if st["ok"] else 1


def _cmd_retarget(args: argparse.Namespace) -> int:
    from mimiclab.retarget.batch import default_workers, retarget_files, summary_table
    from mimiclab.retarget.pipeline import RetargetSettings

    if args.fps <= 0:
        raise CliError(f"--fps must be positive, got {args.fps}")
    box = _box_args(args)
    options = _source_options(args)
    settings = RetargetSettings(fps=args.fps, skeleton=args.skeleton, device=args.device, backend=args.backend)
    if args.smooth is not None:
        if not (math.isfinite(args.smooth) and args.smooth >= 0):
            raise CliError(f"--smooth must be a finite number of frames >= 0, got {args.smooth}")
        settings.smoothing_frames = args.smooth
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers must be >= 1, got {args.workers}")
    workers = default_workers(len(args.inputs)) if args.workers is None else args.workers
    results = retarget_files(args.inputs, args.output, settings, fmt=args.format, workers=workers,
                             options=options, method=_method_args(args))
    if box is not None:
        _attach_box_to_results(results, Path(args.output), *box)
    print(summary_table(results))
    for r in results:
        for w in r.warnings:
            print(f"mimiclab retarget: warning: {w}", file=sys.stderr)
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"mimiclab retarget: error: {r.error}", file=sys.stderr)
    if args.strict:
        for r in results:
            if r.ok and r.quality.get("failed_bounds"):
                print(f"mimiclab retarget: quality: {r.input}: {'; '.join(r.quality['failed_bounds'])}", file=sys.stderr)
                failed.append(r)
    return 1 if failed else 0


def _method_args(args: argparse.Namespace):
    """batch.Method from --method/--model/--polish; CliError when they do not fit together."""
    from mimiclab.retarget.batch import Method

    if args.polish is not None and args.polish < 0:
        raise CliError(f"--polish must be >= 0 iterations, got {args.polish}")
    if args.method == "ik":
        if args.model is not None or args.polish is not None:
            raise CliError("--model and --polish belong to --method learned")
        return Method()
    if args.model is None:
        raise CliError("--method learned needs --model MODEL_DIR (train one with `mimiclab retarget-model train`)")
    from mimiclab.retarget.learned.checkpoint import load_model

    try:
        net = load_model(args.model)
    except ValueError as e:
        raise CliError(str(e)) from None
    if abs(net.cfg.fps - args.fps) > 1e-6:
        raise CliError(f"--model {args.model} works at {net.cfg.fps:g} fps; use --fps {net.cfg.fps:g}")
    from mimiclab.retarget.learned.inference import DEFAULT_POLISH

    return Method("learned", str(args.model), DEFAULT_POLISH if args.polish is None else args.polish)


def _cmd_retarget_model(args: argparse.Namespace) -> int:
    from mimiclab.ikmr.commands import refine_command, train_command

    return refine_command(args) if args.action == "refine" else train_command(args)


def _cmd_generate(args: argparse.Namespace) -> int:
    from mimiclab.robomirror.commands import generate_command

    return generate_command(args)


def _cmd_generate_train(args: argparse.Namespace) -> int:
    from mimiclab.robomirror.commands import train_command

    return train_command(args)


def _cmd_curate(args: argparse.Namespace) -> int:
    from mimiclab.retarget.curation import curate_folder, format_summary

    limit = args.max_recon_error
    if limit is not None and not (math.isfinite(limit) and limit > 0):
        raise CliError(f"--max-recon-error must be a positive number of metres, got {limit}")
    if limit is not None and args.model is None:
        raise CliError("--max-recon-error needs --model MODEL_DIR (the reconstruction error comes from the model)")
    path, entries, _ = curate_folder(args.dir, args.output, model_dir=args.model, max_recon_error_m=limit)
    print(format_summary(entries, root=args.dir))
    print(f"manifest: {path}")
    rejected = sum(not e["keep"] for e in entries)
    if args.strict and rejected:
        print(f"mimiclab curate: {rejected} of {len(entries)} clips rejected (--strict)", file=sys.stderr)
        return 1
    return 0


def _source_options(args: argparse.Namespace):
    """SourceOptions from --source-fps/--units/--height/--layout/--frame/--body-model; CliError if bad."""
    from mimiclab.retarget.normalize import parse_units
    from mimiclab.retarget.sources.options import SourceOptions

    if args.source_fps is not None and not (math.isfinite(args.source_fps) and args.source_fps > 0):
        raise CliError(f"--source-fps must be positive, got {args.source_fps}")
    if args.height is not None and not (math.isfinite(args.height) and 0.5 <= args.height <= 3.0):
        raise CliError(f"--height is the performer's height in metres (0.5-3), got {args.height}")
    if args.units is not None:
        try:
            parse_units(args.units)
        except ValueError as e:
            raise CliError(f"--units: {e}") from None
    if args.body_model is not None and not Path(args.body_model).is_dir():
        raise CliError(f"--body-model {args.body_model}: no such folder")
    return SourceOptions(source_fps=args.source_fps, units=args.units, height=args.height, layout=args.layout,
                         frame=args.frame, body_model=args.body_model)


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """What the user may say about an input file (retarget and inspect)."""
    parser.add_argument("--source-fps", type=float, metavar="FPS",
                        help="frame rate of the input (files without one, e.g. G1 CSV, assume 30; "
                             "overrides a BVH Frame Time or a file's fps)")
    parser.add_argument("--skeleton", default="auto",
                        help="auto (roles found from the skeleton tree, or a keypoint layout's map), a built-in "
                             "map name, or your map .yaml (it wins)")
    parser.add_argument("--units", metavar="UNITS",
                        help="input units: m, cm, mm, inch, ft, cmu (CMU mocap, 5.64 cm) or metres per unit "
                             "(default: inferred from the body's size)")
    parser.add_argument("--height", type=float, metavar="M",
                        help="the performer's height in metres (sets the units; default: inferred)")
    parser.add_argument("--layout", metavar="NAME",
                        help="keypoint layout: coco17, h36m17, smpl22, smpl24, smplh52, mediapipe33, ... "
                             "(default: from the file's names, joint count and geometry)")
    parser.add_argument("--frame", default="auto", choices=["auto", "world", "camera"],
                        help="keypoint frame: camera = x right, y down, z forward (default: auto)")
    parser.add_argument("--body-model", metavar="DIR",
                        help="folder with your SMPL / SMPL-H / SMPL-X model files (.npz), for AMASS parameter "
                             "files; never downloaded")


def _box_args(args: argparse.Namespace):
    """(size, mass, (start, end)) from --attach-box/--object-mass/--hold-frames, or None; CliError if bad."""
    from mimiclab.retarget.attach_object import parse_box_size, parse_hold_frames

    if args.attach_box is None:
        if args.hold_frames is not None or args.object_mass is not None:
            raise CliError("--hold-frames and --object-mass need --attach-box X,Y,Z")
        return None
    if args.hold_frames is None:
        raise CliError("--attach-box needs --hold-frames START:END (frames at the output fps)")
    mass = 1.0 if args.object_mass is None else args.object_mass
    if not (math.isfinite(mass) and mass > 0):
        raise CliError(f"--object-mass must be positive [kg], got {mass}")
    try:
        return parse_box_size(args.attach_box), mass, parse_hold_frames(args.hold_frames)
    except ValueError as e:
        raise CliError(str(e)) from None


def _attach_box_to_results(results, out_dir: Path, size, mass, frames) -> None:
    """Attach the box to every retargeted clip (rewritten atomically); a clip it does not fit fails
    and its outputs are removed."""
    from mimiclab.motion.format import load_motion, save_motion
    from mimiclab.retarget.attach_object import attach_box

    for r in results:
        if not r.ok:
            continue
        path = out_dir / f"{r.name}.npz"
        try:
            save_motion(path, attach_box(load_motion(path), size, mass, frames))
        except ValueError as e:
            for p in (path, out_dir / f"{r.name}.quality.json"):
                p.unlink(missing_ok=True)
            r.ok, r.error = False, f"{r.input}: {str(e).splitlines()[0]}"


def _cmd_inspect(args: argparse.Namespace) -> int:
    from mimiclab.retarget.inspection import draw_roles, format_report, inspect_file

    options = _source_options(args)
    report = inspect_file(args.input, options, skeleton=args.skeleton)
    if "roles" in report and not args.no_png:
        png = Path(args.png) if args.png else Path(args.input).with_suffix(".inspect.png")
        report["png"] = str(draw_roles(args.input, png, options, skeleton=args.skeleton))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
        if "png" in report:
            print(f"picture   {report['png']}")
    return 0


def _cmd_keypoints(args: argparse.Namespace) -> int:
    from mimiclab.video_pose import KeypointOptions, keypoints_from_media
    from mimiclab.video_pose.filtering import OneEuroParams

    params = OneEuroParams()
    if args.one_euro is not None:
        try:
            cutoff, beta = (float(v) for v in args.one_euro.split(","))
        except ValueError:
            raise CliError(f"--one-euro must be MIN_CUTOFF,BETA (two numbers), got {args.one_euro!r}") from None
        if not (math.isfinite(cutoff) and cutoff > 0 and math.isfinite(beta) and beta >= 0):
            raise CliError(f"--one-euro: MIN_CUTOFF must be > 0 Hz and BETA >= 0, got {args.one_euro!r}")
        params = OneEuroParams(min_cutoff=cutoff, beta=beta)
    opts = KeypointOptions(fps=args.fps, filter=args.filter, filter_params=params, min_confidence=args.min_confidence,
                           min_detection=args.min_detection, min_tracking=args.min_tracking)
    summary = keypoints_from_media(args.input, args.output, opts, overwrite=args.overwrite)
    for w in summary["warnings"]:
        print(f"mimiclab keypoints: warning: {w}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"mimiclab keypoints: wrote {summary['output']}: {summary['frames']} frame(s) at {summary['fps']:g} fps, "
              f"a person in {summary['detected_frames']}, mean confidence {summary['mean_confidence']:.2f}, "
              f"filter {summary['filter']['filter']} (mediapipe33, metres, Y-up, hip-centred)")
    return 0


def _cmd_view(args: argparse.Namespace) -> int:
    from mimiclab.retarget.viewer import record, serve

    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be 0-65535, got {args.port}")
    if args.record is not None:
        if Path(args.record).suffix.lower() != ".mp4":
            raise CliError(f"--record {args.record}: the file name must end in .mp4")
        print(f"mimiclab view: wrote {record(args.motion, args.record, source_path=args.source)}")
        return 0
    return serve(args.motion, args.source, port=args.port, host=args.host)


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "env":
        from mimiclab.bench.env import bench_env

        records = bench_env(task=args.task, num_envs=args.num_envs, physics=args.physics)
    elif args.what == "generate":
        from mimiclab.bench.generate import bench_generate

        if args.model is None:
            raise CliError("bench generate needs --model MODEL_DIR (a model of `mimiclab generate train`)")
        records = bench_generate(args.model, args.pairs, args.clips, seed=args.seed)
    elif args.what == "retarget" and args.learned:
        from mimiclab.bench.retarget_learned import bench_retarget_learned

        if args.quality:
            raise CliError("bench retarget: --learned and --quality are separate comparisons; pick one")
        try:
            from mimiclab.retarget.learned.inference import DEFAULT_POLISH

            polish = DEFAULT_POLISH if args.polish is None else args.polish
            records = bench_retarget_learned(args.learned, args.inputs, args.clips, polish=polish)
        except ValueError as e:
            raise CliError(str(e)) from None
    elif args.what == "retarget" and args.quality:
        from mimiclab.bench.retarget_quality import bench_retarget_quality

        records = bench_retarget_quality(args.inputs, args.clips, workers=args.workers)
    elif args.what == "retarget":
        from mimiclab.bench.retarget import bench_retarget

        records = bench_retarget(args.inputs)
    elif args.what == "robustness":
        from mimiclab.bench.robustness import bench_robustness, format_table

        records = bench_robustness(args.policy or [], args.motion, output=args.output or "robustness_out",
                                   corruptions=args.corruptions, severities=args.severities, seed=args.seed,
                                   quick=args.quick, isaac=not args.no_isaac, sim2sim=not args.no_sim2sim,
                                   device=args.device or "cpu")
        print(format_table(records))
        print(f"mimiclab bench robustness: wrote {Path(args.output or 'robustness_out') / 'robustness.md'}")
    else:
        from mimiclab.bench.kernels import run_kernel_bench

        records = run_kernel_bench(kernels=args.only, quick=args.quick, repeats=args.repeats)
    if args.json:
        _write_json_atomic(Path(args.json), records)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from mimiclab.rl.train import train

    return train(args.raw_argv)  # everything after `train` goes to Isaac Lab's entry point unchanged


def _cmd_eval(args: argparse.Namespace) -> int:
    from mimiclab.rl.eval import METRICS_FILE, evaluate, format_table

    if args.command == "play":
        print("mimiclab play: headless evaluation (same as `mimiclab eval`); for a viewer use "
              "`isaaclab play --rl_library rsl_rl --task Mimic-Track-G1-Play --checkpoint ...`", file=sys.stderr)
    report = evaluate(args.checkpoint, args.motion, device=args.device or _default_device(),
                      num_envs=args.num_envs, output_dir=args.output)
    print(format_table(report))
    print(f"metrics: {Path(args.output) / METRICS_FILE}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from mimiclab.rl.export import export_checkpoint

    contract = export_checkpoint(args.checkpoint, args.output, device=args.device or "cpu")
    out = Path(args.output)
    print(f"exported {out / 'policy.onnx'} and {out / 'contract.json'}: {contract.num_actions} joints, "
          f"{len(contract.observations)} observation terms ({contract.observation_dim} numbers; reference "
          f"inputs {', '.join(contract.reference_inputs)}), control dt {contract.control_dt:g} s, "
          + ("proprioceptive" if contract.proprioceptive else "needs a state estimator (" + ", ".join(
              t.name for t in contract.observations if t.needs_state_estimation) + ")"))
    return 0


def _cmd_sim2sim(args: argparse.Namespace) -> int:
    from mimiclab.sim2sim.metrics import format_table
    from mimiclab.sim2sim.perturbations import Perturbations
    from mimiclab.sim2sim.runner import METRICS_FILE, run_sim2sim

    p = Perturbations(push=args.push, friction_scale=args.friction_scale, added_mass=args.added_mass,
                      action_delay=args.action_delay, seed=args.seed)
    report = run_sim2sim(args.policy, args.motion, args.output, episodes=args.episodes, video=args.video,
                         perturbations=p, full_clip=args.full_clip)
    print(format_table(report))
    t = report["timing"]
    if t["steps_per_s"]:
        print(f"{t['control_steps']} control steps, {t['steps_per_s']:.0f} steps/s (physics + policy, CPU)")
    if report["video"]:
        print(f"video: {report['video']}")
    print(f"metrics: {Path(args.output) / METRICS_FILE}")
    return 0


def _default_device() -> str:
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def _cmd_demo(args: argparse.Namespace) -> int:
    from mimiclab.demo import run_demo

    return run_demo(Path(args.output), preset=args.preset, inputs=args.input, num_envs=args.num_envs,
                    iterations=args.iterations, device=args.device)


def _write_json_atomic(path: Path, data: object) -> None:
    from mimiclab.motion.format import atomic_write_bytes

    atomic_write_bytes(path, json.dumps(data, indent=2).encode())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mimiclab", description="Human motion → whole-body Unitree G1 skills.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("doctor", help="versions, devices, kernel backends, asset cache; exit 0 when usable")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.set_defaults(func=_cmd_doctor)

    a = sub.add_parser("assets", help="provision or inspect the G1 asset cache")
    a.add_argument("action", choices=["provision", "status"])
    a.add_argument("--wheel", help="use this local mjlab-1.6.0 wheel instead of downloading it")
    a.set_defaults(func=_cmd_assets)

    r = sub.add_parser("retarget", help="human motion → G1 motion files with quality metrics")
    r.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="BVH, 3D keypoints (.npy/.npz/.json), AMASS .npz, G1 CSV or robot .npz files")
    r.add_argument("-o", "--output", required=True, help="folder for <name>.npz and <name>.quality.json")
    r.add_argument("--format", default="auto", choices=["auto", "bvh", "keypoints", "amass", "g1csv", "npz"],
                   help="input format (default: detected from the extension and content)")
    r.add_argument("--fps", type=float, default=50.0, help="output frame rate (default: 50)")
    r.add_argument("--smooth", type=float, metavar="FRAMES",
                   help="Gaussian sigma of the low-pass on the human joint positions before IK, in output frames "
                        "(default: RetargetSettings.smoothing_frames, 1; 0: off; noisy video or estimated "
                        "keypoints: 2-4)")
    _add_source_arguments(r)
    r.add_argument("--device", default="cpu", help="IK device: cpu or cuda")
    r.add_argument("--backend", default="auto", choices=["auto", "cpp", "cuda", "warp", "torch"],
                   help="IK kernel backend (default: the fastest built for the device)")
    r.add_argument("--workers", type=int, metavar="N",
                   help="clips retargeted in parallel processes (default: one per 8 clips, at most one per core)")
    r.add_argument("--strict", action="store_true",
                   help="exit non-zero when a clip breaks a quality bound (limits, jumps, saturation, twist, "
                        "penetration, foot sliding, self-collision; see the summary's verdict column)")
    r.add_argument("--method", default="ik", choices=["ik", "learned"],
                   help="ik: the batched IK pipeline (default); learned: a trained network "
                        "(mimiclab retarget-model train) in place of the IK, same report")
    r.add_argument("--model", metavar="MODEL_DIR", help="with --method learned: the model folder (or its model.pt)")
    r.add_argument("--polish", type=int, metavar="N",
                   help="with --method learned: N IK iterations per frame from the network's output, all frames "
                        "in parallel (contact-corrected feet, self-collisions cleared; default 6; "
                        "0: the network alone)")
    r.add_argument("--attach-box", metavar="X,Y,Z", help="attach a box of these full extents [m] held "
                   "between the hands (mimiclab.retarget.attach_object)")
    r.add_argument("--object-mass", type=float, metavar="KG", help="mass of the attached box (default 1.0)")
    r.add_argument("--hold-frames", metavar="START:END", help="frames (output fps, both included) the box is held")
    r.set_defaults(func=_cmd_retarget)

    rm = sub.add_parser("retarget-model", help="the learned retargeter (IKMR): train it on IK pairs "
                                               "from human mocap")
    rms = rm.add_subparsers(dest="action", required=True, metavar="ACTION")
    rt = rms.add_parser("train", help="IK pairs from --data, then train → MODEL_DIR/model.pt (+ TensorBoard)")
    rt.add_argument("--data", nargs="+", required=True, metavar="PATH",
                    help="human mocap files or folders (searched recursively: .bvh, keypoint .npz/.json)")
    rt.add_argument("-o", "--output", required=True, metavar="MODEL_DIR",
                    help="folder for model.pt, model.json, checkpoints/ and tensorboard/")
    rt.add_argument("--preset", default="cpu", choices=["cpu", "gpu"],
                    help="model and schedule size: cpu (about 25 min on 2 cores) or gpu (larger; default cpu)")
    rt.add_argument("--quick", action="store_true", help="a small model in a 5-minute budget (smoke runs)")
    rt.add_argument("--pairs", metavar="DIR", help="where IK pairs are cached (default: MODEL_DIR/pairs; "
                                                   "pairs made with the same settings are reused)")
    rt.add_argument("--iterations", type=int, metavar="N", help="training iterations (default: the preset's)")
    rt.add_argument("--seed", type=int, default=0, help="seed of the initialisation and sampling (default 0)")
    rt.add_argument("--device", default="cpu", help="training device: cpu or cuda (default cpu)")
    rt.add_argument("--workers", type=int, metavar="N",
                    help="processes making IK pairs (default: one per 8 clips, at most one per core)")
    rt.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard logs")
    rf = rms.add_parser("refine", help="physics refinement: roll a GMT policy out on the model's motion in Isaac "
                                       "Lab, fine-tune the decoder on what it executed, report trackability")
    rf.add_argument("--model", required=True, metavar="MODEL_DIR", help="the learned retargeter to refine")
    rf.add_argument("--policy", required=True, metavar="CHECKPOINT",
                    help="a tracking policy checkpoint (model_<iteration>.pt of `mimiclab train`)")
    rf.add_argument("--data", nargs="+", required=True, metavar="PATH",
                    help="human mocap files or folders (the training split is learned from, the held-out "
                         "split reported on)")
    rf.add_argument("-o", "--output", required=True, metavar="DIR",
                    help="folder for references/, executed/, executed_pairs/, model/ and refine_report.json")
    rf.add_argument("--clips", type=int, metavar="N", help="at most N clips of each split (default: all)")
    rf.add_argument("--iterations", type=int, default=200, help="fine-tuning iterations (default 200)")
    rf.add_argument("--pairs", metavar="DIR", help="where IK pairs are cached (default: DIR/pairs)")
    rf.add_argument("--seed", type=int, default=0, help="seed of the fine-tuning (default 0)")
    rf.add_argument("--device", default="cpu", help="device of the Isaac Lab rollouts: cpu or cuda:0 (default cpu)")
    rf.add_argument("--num_envs", type=int, help="envs of the rollouts (default: one per clip)")
    rm.set_defaults(func=_cmd_retarget_model)

    g = sub.add_parser("generate", help="RoboMirror: a text or human-motion intent → a G1 motion file, generated "
                                        "(no retargeting); `mimiclab generate train` trains the model")
    g.add_argument("--model", metavar="MODEL_DIR", help="a model of `mimiclab generate train` (required)")
    g.add_argument("--text", metavar="PROMPT", help='the intent as text, e.g. "run, exhausted"')
    g.add_argument("--video", metavar="FILE", help="the intent as human motion: a video or image (keypoints by "
                   "`mimiclab keypoints`' estimator), a keypoint file or any mocap file")
    g.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="the motion file to write")
    g.add_argument("--seconds", type=float, default=4.0, help="length of the motion (default 4)")
    g.add_argument("--seed", type=int, default=0, help="seed of the diffusion noise (default 0; same seed, same motion)")
    g.add_argument("--guidance", type=float, default=2.5,
                   help="classifier-free guidance scale (1: plain conditional; default 2.5)")
    g.add_argument("--steps", type=int, default=30, help="DDIM denoising steps (default 30)")
    g.add_argument("--method", default="diffusion", choices=["diffusion", "alignment"],
                   help="diffusion (the generator) or alignment (the ablation: intent mapped straight to the "
                        "motion latent; default diffusion)")
    g.add_argument("--continue-from", metavar="MOTION", help="a G1 motion file whose last frame the new motion "
                   "continues from (the robot's current state)")
    g.set_defaults(func=_cmd_generate)
    gt = sub.add_parser("generate-train", help="(also spelled `mimiclab generate train`) IK-retarget --data "
                                               "into G1 motion, then train the RoboMirror model → MODEL_DIR")
    gt.add_argument("--data", nargs="+", required=True, metavar="PATH",
                    help="labelled human mocap files or folders (action_style_take names, e.g. the Bandai corpus)")
    gt.add_argument("-o", "--output", required=True, metavar="MODEL_DIR",
                    help="folder for model.pt, model.json, pairs/ and tensorboard/")
    gt.add_argument("--preset", default="cpu", choices=["cpu", "gpu"],
                    help="model and schedule size: cpu (minutes on 2 cores) or gpu (larger; default cpu)")
    gt.add_argument("--quick", action="store_true", help="a small model in a 5-minute budget (smoke runs)")
    gt.add_argument("--pairs", metavar="DIR", help="where the IK-retargeted clips are cached (default: "
                                                   "MODEL_DIR/pairs; reused when made with the same settings)")
    gt.add_argument("--seed", type=int, default=0, help="seed of the initialisation, sampling and noise (default 0)")
    gt.add_argument("--device", default="cpu", help="training device: cpu or cuda (default cpu)")
    gt.add_argument("--workers", type=int, metavar="N",
                    help="processes retargeting the clips (default: one per 8 clips, at most one per core)")
    gt.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard logs")
    gt.set_defaults(func=_cmd_generate_train)

    c = sub.add_parser("curate", help="score retargeted G1 clips (quality bounds, optionally a learned model's "
                                      "reconstruction error) → a manifest of the kept ones for --motion")
    c.add_argument("dir", metavar="DIR", help="folder of G1 motion files (*.npz, searched recursively) and their "
                                              "<name>.quality.json from `mimiclab retarget` (recomputed when absent)")
    c.add_argument("-o", "--output", metavar="MANIFEST",
                   help="manifest to write (default: DIR/curated.manifest.json); pass it to --motion")
    c.add_argument("--model", metavar="MODEL_DIR",
                   help="learned retargeter folder: also reject clips whose robot→latent→robot reconstruction "
                        "error is an outlier (mimiclab.retarget.learned)")
    c.add_argument("--max-recon-error", type=float, metavar="METRES",
                   help="with --model: reject clips above this mean body-position reconstruction error [m] "
                        "(default: median + 3 x 1.4826 x MAD of the clips' errors)")
    c.add_argument("--strict", action="store_true", help="exit non-zero when any clip is rejected "
                   "(the manifest is written all the same)")
    c.set_defaults(func=_cmd_curate)

    i = sub.add_parser("inspect", help="what the retargeter finds in a motion file: roles, units, up axis, "
                                       "fps, frames; a PNG of the skeleton with the roles labelled")
    i.add_argument("input", metavar="FILE", help="BVH, keypoints, AMASS, G1 CSV or robot npz file")
    _add_source_arguments(i)
    i.add_argument("--png", metavar="PATH", help="where to write the picture (default: FILE.inspect.png)")
    i.add_argument("--no-png", action="store_true", help="print only")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(func=_cmd_inspect)

    k = sub.add_parser("keypoints", help="video / image of a person → 3D keypoint npz (BlazePose, mediapipe33) "
                                         "for `mimiclab retarget`")
    k.add_argument("input", metavar="VIDEO", help="a video (mp4, mov, avi, ...), an image (png, jpg, ...) or a "
                                                   "folder of frames (sorted by name)")
    k.add_argument("-o", "--output", required=True, metavar="KP.npz", help="the keypoint file to write (.npz)")
    k.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists (default: refuse)")
    k.add_argument("--fps", type=float, metavar="FPS",
                   help="frame rate to record (default: the video's; frame folders and images: 30)")
    k.add_argument("--filter", dest="filter", action="store_true", default=True,
                   help="confidence-aware One-Euro filter on videos and frame folders (default; never on an image)")
    k.add_argument("--no-filter", dest="filter", action="store_false", help="write the raw landmarks")
    k.add_argument("--min-confidence", type=float, default=0.0, metavar="C",
                   help="joints with visibility x presence below C are written as missing (default: 0, keep all)")
    k.add_argument("--min-detection", type=float, default=0.5, metavar="C",
                   help="MediaPipe's person-detection threshold in [0, 1] (default: 0.5)")
    k.add_argument("--min-tracking", type=float, default=0.5, metavar="C",
                   help="MediaPipe's landmark-tracking threshold in [0, 1] for videos (default: 0.5)")
    k.add_argument("--one-euro", metavar="MIN_CUTOFF,BETA", help="One-Euro parameters: cutoff at rest [Hz] and "
                   "cutoff added per m/s of speed (default: 1.0,1.5)")
    k.add_argument("--json", action="store_true", help="print the summary as JSON")
    k.set_defaults(func=_cmd_keypoints)

    v = sub.add_parser("view", help="a G1 motion in the browser (viser): robot, human skeleton, timeline, "
                                    "per-frame quality flags; or --record an MP4")
    v.add_argument("motion", metavar="MOTION", help="G1 motion file (.npz from `mimiclab retarget`, or a G1 CSV)")
    v.add_argument("--source", metavar="HUMAN_FILE",
                   help="the human motion it was retargeted from (BVH, keypoints, AMASS): its skeleton, as the "
                        "retargeter scaled it, is drawn over the robot")
    v.add_argument("--record", metavar="OUT.mp4",
                   help="no server: render every frame offscreen (MuJoCo, OSMesa/EGL) to this MP4 and exit; the "
                        "human skeleton is drawn too with --source; a keyframe PNG where rendering is unavailable")
    v.add_argument("--port", type=int, default=8080,
                   help="web server port (default: 8080; the next free one if taken; 0: any free port)")
    v.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0: every interface)")
    v.set_defaults(func=_cmd_view)

    t = sub.add_parser("train", help="train a policy (Isaac Lab + rsl_rl PPO)",
                       epilog="Any other `isaaclab train --rl_library rsl_rl` flag (--video, --experiment_name, "
                              "--run_name, --checkpoint, --logger, ...) passes through. Logs: "
                              "logs/rsl_rl/<experiment>/<run>/ (TensorBoard, model_<it>.pt).")
    t.add_argument("--task", required=True, help="e.g. Mimic-Track-G1")
    t.add_argument("--motion", nargs="+", metavar="PATH", help="motion files, folders or globs (tracking tasks)")
    t.add_argument("--num_envs", type=int)
    t.add_argument("--max_iterations", type=int)
    t.add_argument("--device", help="cuda:0 when CUDA is available, else cpu; the learner follows it")
    t.add_argument("--distributed", action="store_true", help="multi-GPU/multi-node (launch with torchrun)")
    t.add_argument("--seed", type=int)
    t.add_argument("--resume", action="store_true", help="continue from the newest run's last checkpoint")
    t.add_argument("--teacher", metavar="CHECKPOINT",
                   help="distil the task's deployable student from this PPO checkpoint of its privileged teacher "
                        "(Mimic-TrackKeypoints-G1 from Mimic-TrackKeypoints-G1-Teacher; rsl_rl Distillation)")
    t.add_argument("--base", metavar="CHECKPOINT|EXPORTED",
                   help="residual tasks: the frozen GMT base policy (a checkpoint or an exported folder)")
    t.add_argument("--time_budget", type=float, metavar="SECONDS",
                   help="stop after the first iteration that ends past this wall-clock budget (checkpoint and "
                        "export written as at a normal end)")
    t.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. env.scene.num_envs=16 agent.seed=1")
    t.set_defaults(func=_cmd_train)

    for name in ("eval", "play"):
        e = sub.add_parser(name, help="track every clip from its start with a checkpoint → metrics.json"
                           + (" (headless: same as eval)" if name == "play" else ""))
        e.add_argument("--checkpoint", required=True, help="an rsl_rl model_<it>.pt")
        e.add_argument("--motion", required=True, nargs="+", metavar="PATH", help="motion files, folders or globs")
        e.add_argument("-o", "--output", default="eval_out", help="folder for metrics.json (default: eval_out)")
        e.add_argument("--device", help="cuda:0 when CUDA is available, else cpu")
        e.add_argument("--num_envs", type=int, help="parallel envs (default: one per clip)")
        e.set_defaults(func=_cmd_eval)

    x = sub.add_parser("export", help="checkpoint → policy.onnx + contract.json")
    x.add_argument("--checkpoint", required=True)
    x.add_argument("-o", "--output", required=True, help="folder for policy.onnx and contract.json")
    x.add_argument("--device", help="device for building the task (default: cpu)")
    x.set_defaults(func=_cmd_export)

    s = sub.add_parser("sim2sim", help="run an exported policy in MuJoCo → metrics.json")
    s.add_argument("--policy", required=True, help="folder with policy.onnx and contract.json")
    s.add_argument("--motion", required=True, nargs="+", help="G1 motion files, folders or globs")
    s.add_argument("-o", "--output", default="sim2sim_out", help="folder for metrics.json and the plots")
    s.add_argument("--video", help="MP4 of the first episode of every clip (keyframe PNG if rendering fails)")
    s.add_argument("--episodes", type=int, default=1, help="episodes per clip (default: 1)")
    s.add_argument("--push", action="store_true", help="random root-velocity kicks every 1-3 s")
    s.add_argument("--friction-scale", type=float, default=1.0, help="multiplies every friction coefficient")
    s.add_argument("--added-mass", type=float, default=0.0, help="kg added to the torso_link")
    s.add_argument("--action-delay", type=int, default=0, help="control steps between action and target")
    s.add_argument("--seed", type=int, default=0, help="seed of the pushes")
    s.add_argument("--full-clip", action="store_true",
                   help="run every clip to its end even after a termination (the clip still counts as failed)")
    s.set_defaults(func=_cmd_sim2sim)

    b = sub.add_parser("bench", help="throughput and ratios measured side by side in one run")
    b.add_argument("what", choices=["kernels", "env", "retarget", "robustness", "generate"])
    b.add_argument("--json", help="also write the results here")
    b.add_argument("--only", nargs="+", default=["fk", "ik", "pointcloud"], choices=["fk", "ik", "pointcloud"],
                   help="kernels to run (default: all)")
    b.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not the reference figures)")
    b.add_argument("--repeats", type=int, default=10)
    b.add_argument("--task", default="Mimic-Track-G1", help="bench env: Mimic-Track-G1 or Mimic-Residual-Box-G1")
    b.add_argument("--num_envs", type=int, help="bench env: envs (default 16 on CPU, 4096 on GPU)")
    b.add_argument("--physics", nargs="+", metavar="PRESET",
                   help="bench env: physics presets to compare in this run (auto mujoco_c mjwarp mjwarp_capture "
                        "newton_mujoco_cpu; default: the task's own)")
    b.add_argument("--quality", action="store_true",
                   help="bench retarget: mimiclab side by side with a mink per-frame IK peer (the GMR method) "
                        "on the same real clips: both quality tables and frames/s")
    b.add_argument("--clips", type=int, metavar="N",
                   help="bench retarget --quality / --learned, bench generate: at most N clips")
    b.add_argument("--model", metavar="MODEL_DIR", help="bench generate: the RoboMirror model to score")
    b.add_argument("--pairs", metavar="DIR", help="bench generate: the IK-retargeted clips the model was trained "
                                                  "from (default MODEL_DIR/pairs)")
    b.add_argument("--learned", metavar="MODEL_DIR",
                   help="bench retarget: the learned retargeter beside IK on its held-out clips (learned, "
                        "learned+polish, IK: every quality figure, body error vs IK, frames/s per stage)")
    b.add_argument("--polish", type=int, metavar="N",
                   help="bench retarget --learned: IK iterations of the learned+polish column (default 6)")
    b.add_argument("--workers", type=int, metavar="N",
                   help="bench retarget --quality: processes for the machine's throughput (default: all cores; "
                        "1: one process only)")
    b.add_argument("--policy", action="append", metavar="[LABEL=]PATH",
                   help="bench robustness (repeatable): a training run folder (newest model_*.pt + exported/), "
                        "a checkpoint (exported/ beside it for sim2sim) or an exported folder (sim2sim only)")
    b.add_argument("--motion", nargs="+", metavar="FILE",
                   help="bench robustness: human clips (BVH / keypoint files; default: ../shared/data/bvh/*.bvh "
                        "beside the clone)")
    b.add_argument("--corruptions", nargs="+", metavar="NAME",
                   help="bench robustness: jitter drop duplicate flicker bone_length depth foot_skate drift warp "
                        "(default: all; --quick: jitter drop drift)")
    b.add_argument("--severities", nargs="+", type=int, metavar="S",
                   help="bench robustness: 0 (clean) .. 3 (default: 0 1 2 3; --quick: 0 2)")
    b.add_argument("--seed", type=int, default=0,
                   help="bench robustness: seed of the corruptions; bench generate: seed of the noise")
    b.add_argument("-o", "--output", help="bench robustness: output folder (default: robustness_out)")
    b.add_argument("--device", help="bench robustness: device of the Isaac Lab evaluation (default: cpu)")
    b.add_argument("--no-isaac", action="store_true", help="bench robustness: skip the Isaac Lab evaluation")
    b.add_argument("--no-sim2sim", action="store_true", help="bench robustness: skip the MuJoCo sim2sim runs")
    b.add_argument("--inputs", nargs="+", metavar="FILE",
                   help="bench retarget: these human-motion files (with --quality: instead of the default clips)")
    b.set_defaults(func=_cmd_bench)

    m = sub.add_parser("demo", help="the main job end to end on the device present")
    m.add_argument("-o", "--output", default="demo_out", help="run folder (re-running reuses finished stages)")
    m.add_argument("--preset", choices=["cpu-quick", "gpu-full"],
                   help="stage sizes (default: gpu-full with CUDA, else cpu-quick)")
    m.add_argument("--input", nargs="+", metavar="FILE",
                   help="your human motion (BVH, keypoints, G1 CSV, npz); default: the shipped synthetic samples")
    m.add_argument("--num-envs", type=int, help="override the preset's training envs")
    m.add_argument("--iterations", type=int, help="override the preset's PPO iterations")
    m.add_argument("--device", help="cuda:0 when CUDA is available, else cpu")
    m.set_defaults(func=_cmd_demo)

    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv[:2] == ["generate", "train"]:
        argv = ["generate-train"] + argv[2:]
    if argv and argv[0] == "train":  # Isaac Lab's flags and Hydra overrides pass through untouched
        args, _ = parser.parse_known_args(argv)
        args.raw_argv = argv[1:]
    else:
        args = parser.parse_args(argv)
    from mimiclab.robots.assets import AssetError

    try:
        return args.func(args)
    except (CliError, AssetError, ValueError, FileNotFoundError) as e:
        print(f"mimiclab {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"mimiclab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
