"""Training, checkpoints, generation and the CLI on a tiny model of real Bandai clips
(``conftest.mirror_data``): determinism, weights_only loading, valid motion files, one-line
errors, and the benchmark's tables."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from mimiclab.cli import main
from mimiclab.motion.format import load_motion
from mimiclab.robomirror.checkpoint import load_model
from mimiclab.robots.g1 import G1


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_training_reproduces_with_its_seed_and_differs_with_another(mirror_data, tmp_path):
    from tiny_mirror import tiny_configs

    from mimiclab.robomirror.training import train_model

    ref = load_model(mirror_data["model"]).nets.state_dict()
    net_cfg, cfg = tiny_configs(seed=0)
    train_model(mirror_data["pairs"], tmp_path / "again", cfg, net_cfg, progress=False, tensorboard=False)
    again = load_model(tmp_path / "again").nets.state_dict()
    assert all(torch.equal(ref[k], again[k]) for k in ref)
    net_cfg, cfg = tiny_configs(seed=1)
    train_model(mirror_data["pairs"], tmp_path / "other", cfg, net_cfg, progress=False, tensorboard=False)
    other = load_model(tmp_path / "other").nets.state_dict()
    assert not all(torch.equal(ref[k], other[k]) for k in ref)


def test_the_model_records_its_corpus_and_held_out_figures(mirror_data):
    model = load_model(mirror_data["model"])
    assert model.actions == ["bow", "byebye", "dash", "walk"]
    assert model.text_embeddings.shape == (len(model.texts), 384)
    h = model.info["heldout"]
    assert h["clips"] == len(model.info["test_clips"]) == 4
    for k in ("intent_text_r1", "intent_text_r3", "intent_action_r1", "classifier_accuracy_real"):
        assert 0.0 <= h[k] <= 1.0
    assert h["intent_text_r1"] <= h["intent_text_r3"]
    info = json.loads((mirror_data["model"] / "model.json").read_text())
    assert info["format"] == "mimiclab-robomirror-model"


def test_a_file_that_needs_unpickling_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("unpickled!",))

    bad = tmp_path / "model.pt"
    torch.save({"format": "mimiclab-robomirror-model", "x": Evil()}, bad)
    with pytest.raises(ValueError, match="not a readable model file"):
        load_model(tmp_path)
    with pytest.raises(ValueError, match="no RoboMirror model"):
        load_model(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "model.pt").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError):
        load_model(tmp_path / "other")


def test_generate_text_writes_a_valid_deterministic_motion(mirror_data, tmp_path, capsys):
    m = mirror_data["model"]
    a, b, c = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    code, out, err = _run(capsys, "generate", "--model", m, "--text", "walk, normal", "-o", a, "--seconds", "2")
    assert code == 0, err
    assert "intent reads as:" in out and "wrote" in out
    assert _run(capsys, "generate", "--model", m, "--text", "walk, normal", "-o", b, "--seconds", "2")[0] == 0
    assert _run(capsys, "generate", "--model", m, "--text", "walk, normal", "-o", c, "--seconds", "2",
                "--seed", "1")[0] == 0
    ma, mb, mc = load_motion(a), load_motion(b), load_motion(c)  # validated on load
    assert ma.fps == 50.0 and ma.num_frames == 101 and ma.joint_names == list(G1.joint_names)
    assert np.array_equal(ma.joint_pos, mb.joint_pos) and np.array_equal(ma.root_pos_w, mb.root_pos_w)
    assert not np.array_equal(ma.joint_pos, mc.joint_pos)
    assert ma.meta["intent"] == {"text": "walk, normal"} and ma.meta["seed"] == 0
    from mimiclab.retarget.quality import quality_metrics

    q = quality_metrics(ma, None, None)
    assert q["joint_limit_violation_frames"] == 0.0 and q["joint_jumps"] == 0 and q["penetration_frames"] <= 0.01


def test_generate_from_human_motion_and_continuing_a_motion(mirror_data, tmp_path, capsys):
    m = mirror_data["model"]
    bvh = mirror_data["files"][0]
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    code, out, err = _run(capsys, "generate", "--model", m, "--video", bvh, "-o", first, "--seconds", "1.5")
    assert code == 0, err
    assert load_motion(first).meta["intent"] == {"video": str(bvh)}
    code, _, err = _run(capsys, "generate", "--model", m, "--text", "bow", "-o", second, "--seconds", "1",
                        "--continue-from", first, "--method", "alignment")
    assert code == 0, err
    a, b = load_motion(first), load_motion(second)
    assert b.meta["method"] == "alignment"
    # the continuation starts from the robot's last pose (joints within the seam blend's reach)
    assert np.abs(b.joint_pos[0] - a.joint_pos[-1]).max() < np.abs(a.joint_pos[0] - a.joint_pos[-1]).max() + 0.2


@pytest.mark.parametrize("argv, needle", [
    (["--text", "walk", "--video", "x.bvh"], "exactly one intent"),
    ([], "exactly one intent"),
    (["--text", "walk", "--seconds", "0"], "--seconds"),
    (["--text", "walk", "--steps", "0"], "--steps"),
    (["--text", "   "], "non-empty"),
    (["--video", "missing.bvh"], "no such file"),
])
def test_generate_bad_input_is_one_line_and_writes_nothing(mirror_data, tmp_path, capsys, argv, needle):
    out = tmp_path / "out.npz"
    code, _, err = _run(capsys, "generate", "--model", mirror_data["model"], "-o", out, *argv)
    assert code == 1
    lines = [ln for ln in err.splitlines() if ln.startswith("mimiclab generate: error:")]
    assert len(lines) == 1 and needle in lines[0], err
    assert not out.exists() and not list(tmp_path.glob(".*"))


def test_generate_refuses_a_wrong_output_name_and_a_missing_model(tmp_path, capsys):
    code, _, err = _run(capsys, "generate", "--model", tmp_path, "--text", "walk", "-o", tmp_path / "x.csv")
    assert code == 1 and "must end in .npz" in err
    code, _, err = _run(capsys, "generate", "--model", tmp_path, "--text", "walk", "-o", tmp_path / "x.npz")
    assert code == 1 and "no RoboMirror model" in err


def test_generate_train_cli_and_bench(mirror_data, tmp_path, capsys, monkeypatch):
    from tiny_mirror import tiny_configs

    from mimiclab.robomirror import training

    net_cfg, cfg = tiny_configs()
    monkeypatch.setitem(training.PRESETS, "quick", (net_cfg, cfg))  # the CLI path, at the tiny size
    files = [str(f) for f in mirror_data["files"]]
    code, out, err = _run(capsys, "generate", "train", "--data", *files, "-o", tmp_path / "m", "--quick",
                          "--pairs", mirror_data["model"] / "pairs", "--no-tensorboard")
    assert code == 0, err
    assert "held-out clips: 4" in out and (tmp_path / "m" / "model.pt").is_file()
    code, out, err = _run(capsys, "bench", "generate", "--model", tmp_path / "m", "--pairs",
                          mirror_data["model"] / "pairs", "--clips", "3", "--json", tmp_path / "bench.json")
    assert code == 0, err
    for needle in ("recognition", "alignment", "latency to the first motion frame", "IK retarget",
                   "reconstruction beats alignment"):
        assert needle in out
    records = json.loads((tmp_path / "bench.json").read_text())
    kinds = [r["kernel"] for r in records]
    assert kinds.count("generate") == 4 and "generate_latency" in kinds and "generate_verdict" in kinds
    gen = [r for r in records if r["kernel"] == "generate"]
    assert all(0.0 <= r["recognition"] <= 1.0 and r["fid"] >= 0.0 and 0 <= r["quality_pass_rate"] <= 1 for r in gen)


def test_generate_from_a_photo_goes_through_the_keypoint_estimator(mirror_data, tmp_path, capsys):
    """--video with an image: BlazePose (the pose virtualenv) → keypoints → intent → motion."""
    import subprocess

    from mimiclab.video_pose.runtime import INSTALL_HINT, available, pose_python

    if not available():
        pytest.skip(f"mimiclab keypoints: {INSTALL_HINT}")
    code = "import importlib.util as u; print(u.find_spec('skimage').submodule_search_locations[0])"
    found = subprocess.run([str(pose_python()), "-c", code], capture_output=True, text=True, timeout=60)
    if found.returncode != 0:
        pytest.skip("scikit-image (the test photograph) is missing from the pose virtualenv: run scripts/setup.sh")
    photo = Path(found.stdout.strip()) / "data" / "astronaut.png"
    out = tmp_path / "photo.npz"
    code, text, err = _run(capsys, "generate", "--model", mirror_data["model"], "--video", photo, "-o", out,
                           "--seconds", "1")
    assert code == 0, err
    assert "intent reads as:" in text
    assert load_motion(out).meta["intent"] == {"video": str(photo)}
