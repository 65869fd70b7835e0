"""Retargeting with a learned model (API and `mimiclab retarget --method learned`), the IK polish,
`mimiclab retarget-model train`, `mimiclab bench retarget --learned` and `mimiclab curate --model`
with a real (tiny) model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mimiclab.cli import main
from mimiclab.retarget.learned.checkpoint import load_model
from mimiclab.retarget.learned.inference import DEFAULT_POLISH, retarget_learned
from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
from mimiclab.retarget.sources.detect import load_human_motion
from mimiclab.robots.g1 import G1


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def humans(learned_data):
    return [load_human_motion(str(learned_data["samples"][n])) for n in ("walk.bvh", "arm_wave_coco17.json")]


@pytest.fixture(scope="module")
def results(learned_data, humans):
    net = load_model(learned_data["model"])
    return {polish: retarget_learned(humans, net, RetargetSettings(), polish=polish) for polish in (0, 3)}


def test_the_learned_path_reports_what_the_ik_path_reports(results, humans):
    ik = retarget_human(humans[0], RetargetSettings())
    for r, h in zip(results[0], humans):
        assert r.motion.num_frames == ik.motion.num_frames if h is humans[0] else r.motion.num_frames > 0
        assert set(ik.quality) - {"solver"} <= set(r.quality) | {"solver"}, set(ik.quality) - set(r.quality)
        assert r.quality["method"] == "learned" and r.motion.meta["generator"] == "mimiclab.retarget.learned"
    assert results[3][0].quality["method"] == "learned+polish3"


def test_outputs_respect_the_joint_position_and_speed_limits(results):
    lower = np.array([j.lower for j in G1.joints])
    upper = np.array([j.upper for j in G1.joints])
    vmax = np.array([j.actuator.velocity_limit for j in G1.joints])
    for rs in results.values():
        for r in rs:
            order = [list(r.motion.joint_names).index(n) for n in G1.joint_names]
            q = r.motion.joint_pos[:, order]
            assert (q >= lower - 1e-6).all() and (q <= upper + 1e-6).all()
            assert (np.abs(np.diff(q, axis=0)) * r.motion.fps <= vmax * (1 + 1e-6)).all()
            assert r.quality["joint_limit_violation_frames"] == 0.0


def test_polish_moves_the_robot_onto_the_human_targets(results):
    """The tiny model's walk starts ~8 cm off its targets and polish brings it within ~2 cm; its arm
    wave starts with the arms down (~60 cm off at the wrists), a start a few local LM rounds can
    only improve, not repair."""
    errors = [(raw.quality["keypoint_error_mean_m"], polished.quality["keypoint_error_mean_m"])
              for raw, polished in zip(results[0], results[3])]
    assert all(after < before for before, after in errors), errors
    walk_before, walk_after = errors[0]
    assert walk_after < 0.4 * walk_before, errors


def test_retarget_cli_learned_writes_motion_and_report(learned_data, tmp_path, capsys):
    walk = learned_data["samples"]["walk.bvh"]
    rc, out, err = _run(capsys, "retarget", walk, "-o", tmp_path / "a", "--method", "learned",
                        "--model", learned_data["model"], "--polish", "0")
    assert rc in (0, 1), err  # 1 only when a quality bound fails (an untrained model)
    report = json.loads((tmp_path / "a" / "walk.quality.json").read_text())
    assert report["method"] == "learned" and (tmp_path / "a" / "walk.npz").is_file()
    rc, out, err = _run(capsys, "retarget", walk, "-o", tmp_path / "b", "--method", "learned",
                        "--model", learned_data["model"] / "model.pt")
    report = json.loads((tmp_path / "b" / "walk.quality.json").read_text())
    assert report["method"] == f"learned+polish{DEFAULT_POLISH}"


@pytest.mark.parametrize("args, message", [
    (["--method", "learned"], "--method learned needs --model MODEL_DIR"),
    (["--model", "MODEL"], "--model and --polish belong to --method learned"),
    (["--polish", "2"], "--model and --polish belong to --method learned"),
    (["--method", "learned", "--model", "MODEL", "--polish", "-1"], "--polish must be >= 0"),
    (["--method", "learned", "--model", "nowhere"], "no learned retargeter here"),
    (["--method", "learned", "--model", "MODEL", "--fps", "30"], "works at 50 fps; use --fps 50"),
])
def test_bad_learned_arguments_are_one_line_errors(learned_data, tmp_path, capsys, args, message):
    args = [str(learned_data["model"]) if a == "MODEL" else str(tmp_path / a) if a == "nowhere" else a for a in args]
    rc, out, err = _run(capsys, "retarget", learned_data["samples"]["walk.bvh"], "-o", tmp_path / "out", *args)
    assert rc == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("mimiclab retarget: error: ") and message in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_retarget_model_train_cli(learned_data, tmp_path, capsys):
    out_dir = tmp_path / "m"
    rc, out, err = _run(capsys, "retarget-model", "train", "--data", learned_data["data"], "-o", out_dir, "--quick",
                        "--iterations", "3", "--pairs", learned_data["root"] / "pairs", "--no-tensorboard", "--workers", "1")
    assert rc == 0, err
    assert "trained 3 iterations" in out and "held-out clips: " in out and "cm" in out
    net = load_model(out_dir)
    assert net.cfg.hidden == 16 and net.info["iterations"] == 3 and not (out_dir / "tensorboard").exists()
    rc, out, err = _run(capsys, "retarget-model", "train", "--data", tmp_path / "none", "-o", tmp_path / "x")
    assert rc == 1 and "no such file or folder" in err and not (tmp_path / "x" / "model.pt").exists()
    rc, out, err = _run(capsys, "retarget-model", "train", "--data", learned_data["data"], "-o", tmp_path / "x",
                        "--iterations", "0")
    assert rc == 1 and "--iterations must be >= 1" in err


def test_retarget_model_help_names_every_option(capsys):
    for action, options in (("train", ("--data", "--preset", "--quick", "--pairs", "--iterations", "--seed",
                                       "--device", "--workers", "--no-tensorboard")),
                            ("refine", ("--model", "--policy", "--data", "--clips", "--iterations", "--pairs",
                                        "--seed", "--device"))):
        with pytest.raises(SystemExit):
            main(["retarget-model", action, "--help"])
        text = capsys.readouterr().out
        for opt in options:
            assert opt in text, (action, opt)


def test_bench_retarget_learned_compares_every_figure(learned_data, tmp_path, capsys):
    files = [learned_data["samples"][n] for n in ("walk.bvh", "arm_wave_h36m17.npz")]
    rc, out, err = _run(capsys, "bench", "retarget", "--learned", learned_data["model"], "--polish", "3",
                        "--inputs", *files, "--json", tmp_path / "b.json")
    assert rc == 0, err
    records = json.loads((tmp_path / "b.json").read_text())
    stages = {r["backend"]: r for r in records if r["kernel"] == "retarget_learned"}
    assert set(stages) == {"ik (with report)", "learned", "learned + report", "learned+polish3",
                           "learned+polish3 + report", "network"}
    assert all(r["throughput"] > 0 for r in stages.values())
    verdict = next(r for r in records if r["kernel"] == "retarget_learned_verdict")
    assert verdict["clips"] == 2 and not verdict["failed"]
    assert verdict["polish_worse_on"] == [k for k, v in verdict["polish_no_worse_than_ik"].items() if v is False]
    err_m = verdict["body_error_vs_ik_m"]
    assert 0 < err_m["learned+polish3"] < err_m["learned"]  # polish pulls the network's output toward IK's
    for key in ("keypoint_error_mean_m", "sliding_frames", "jerk_mean_rad_s3"):
        assert key in verdict["quality_mean"]["ik"] and key in out
    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
    from mimiclab.retarget.sources.detect import load_human_motion

    ik_passing = sum(not retarget_human(load_human_motion(str(f)), RetargetSettings()).quality["failed_bounds"]
                     for f in files)  # recounted independently of the bench's own bookkeeping
    assert verdict["clips_passing_every_bound"]["ik"] == ik_passing
    assert f"ik {ik_passing}/2" in out
    rc, out, err = _run(capsys, "bench", "retarget", "--learned", learned_data["model"], "--quality")
    assert rc == 1 and "pick one" in err


def test_curate_with_a_real_model_scores_reconstruction(learned_data, tmp_path, capsys):
    rc, _, err = _run(capsys, "retarget", *[learned_data["samples"][n] for n in ("walk.bvh", "arm_wave.bvh")],
                      "-o", tmp_path / "g1")
    assert rc in (0, 1), err
    rc, out, err = _run(capsys, "curate", tmp_path / "g1", "--model", learned_data["model"])
    assert rc == 0, err
    doc = json.loads((tmp_path / "g1" / "curated.manifest.json").read_text())
    errors = {e["file"]: e["scores"].get("recon_error_m") for e in doc["clips"]}
    assert sorted(errors) == ["arm_wave.npz", "walk.npz"], doc
    assert all(np.isfinite(v) and 0 < v < 1.0 for v in errors.values()), errors
    assert doc["criteria"]["model"] == str(learned_data["model"].resolve())


def test_retarget_cli_learned_batches_files_keeps_each_files_error_and_matches_the_api(learned_data, tmp_path,
                                                                                       capsys, monkeypatch):
    from mimiclab.motion import load_motion
    from mimiclab.retarget import batch

    names = ("walk.bvh", "arm_wave.bvh", "walk_coco17.npz", "arm_wave_h36m17.npz")
    files = [learned_data["samples"][n] for n in names]
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT x {\n")
    common = ["--method", "learned", "--model", learned_data["model"], "--polish", "2"]
    rc, _, err = _run(capsys, "retarget", *files, bad, "-o", tmp_path / "one", "--workers", "1", *common)
    assert rc == 1 and "broken.bvh" in err and not (tmp_path / "one" / "broken.npz").exists()
    monkeypatch.setattr(batch, "LEARNED_CHUNK", 2)  # three chunks over two processes
    rc, _, err = _run(capsys, "retarget", *files, bad, "-o", tmp_path / "two", "--workers", "2", *common)
    assert rc == 1 and "broken.bvh" in err
    api = retarget_learned([load_human_motion(str(f)) for f in files], load_model(learned_data["model"]),
                           RetargetSettings(), polish=2)
    for f, want in zip(files, api):
        one, two = (load_motion(tmp_path / folder / f"{f.stem}.npz") for folder in ("one", "two"))
        # one batch of the same clips as the API call: its output bit for bit (the file stores float32)
        np.testing.assert_array_equal(one.joint_pos, want.motion.joint_pos.astype(one.joint_pos.dtype))
        np.testing.assert_array_equal(one.root_pos_w, want.motion.root_pos_w.astype(one.root_pos_w.dtype))
        # other batches in other processes: the tiny float32 network rounds differently by batch shape
        # and thread count, and the polish amplifies it (8 mrad seen on a fresh CI machine); a clip
        # mixed up with another would differ by far more than 0.03
        np.testing.assert_allclose(two.joint_pos, one.joint_pos, rtol=0, atol=0.03)
        np.testing.assert_allclose(two.root_pos_w, one.root_pos_w, rtol=0, atol=0.03)
