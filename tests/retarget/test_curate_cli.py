"""`mimiclab curate DIR`: the manifest, the summary, --strict, one-line errors, --help, a (fake)
learned model's reconstruction errors, and train/eval's --motion expansion of the written manifest."""

from __future__ import annotations

import json
import shutil
import sys
import types

import numpy as np
import pytest

from mimiclab.cli import main
from mimiclab.motion import save_motion
from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.retarget import quality
from mimiclab.rl.motion_args import expand_motion_args
from mimiclab.robots.g1 import G1

T = 30


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """src/: clean.npz (+ its quality.json), jump.npz (a 1-frame joint jump), sub/clean2.npz."""
    d = tmp_path_factory.mktemp("curate") / "src"
    (d / "sub").mkdir(parents=True)
    q = np.tile([j.default_pos for j in G1.joints], (T, 1))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    root = np.zeros((T, 3))
    root[:, 2] = -quality.sole_heights(root, quat, q).min() + 0.005
    clean = motion_from_joint_trajectory(root, quat, q, 50.0)
    save_motion(d / "clean.npz", clean)
    (d / "clean.quality.json").write_text(json.dumps(quality.quality_metrics(clean, None, None)))
    shutil.copy(d / "clean.npz", d / "sub" / "clean2.npz")
    shutil.copy(d / "clean.quality.json", d / "sub" / "clean2.quality.json")
    jump = q.copy()
    jump[15:, G1.joint_names.index("right_elbow_joint")] -= 1.0
    save_motion(d / "jump.npz", motion_from_joint_trajectory(root, quat, jump, 50.0))
    return d


def _run(capsys, *args):
    rc = main(["curate", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_curate_writes_the_manifest_train_reads(clips, capsys):
    rc, out, err = _run(capsys, clips)
    manifest = clips / "curated.manifest.json"
    assert rc == 0, err
    assert f"manifest: {manifest}" in out
    lines = {ln.split()[0]: ln.split()[-1] for ln in out.splitlines()[:3]}
    assert lines["clips"] == "3" and lines["kept"] == "2" and lines["rejected"] == "1"
    assert "joint_jumps" in out and "jump.npz: joint_jumps 1 > 0" in out
    doc = json.loads(manifest.read_text())
    assert [(c["file"], c["keep"]) for c in doc["clips"]] == [("clean.npz", True), ("jump.npz", False),
                                                              ("sub/clean2.npz", True)]
    assert doc["clips"][0]["quality_source"] == "sidecar" and doc["clips"][1]["quality_source"] == "computed"
    assert doc["criteria"]["quality_bounds"] == quality.QUALITY_BOUNDS
    # `mimiclab train --motion MANIFEST` / eval: the kept clips only
    assert expand_motion_args([str(manifest)]) == [(clips / "clean.npz").resolve(),
                                                   (clips / "sub" / "clean2.npz").resolve()]


def test_output_elsewhere_and_strict(clips, tmp_path, capsys):
    out_path = tmp_path / "sets" / "mine.manifest.json"
    rc, out, err = _run(capsys, clips, "-o", out_path, "--strict")
    assert rc == 1 and err.strip() == "mimiclab curate: 1 of 3 clips rejected (--strict)"
    doc = json.loads(out_path.read_text())  # written all the same, files relative to DIR
    assert doc["root"] == str(clips.resolve()) and doc["clips"][0]["file"] == "clean.npz"
    assert len(expand_motion_args([str(out_path)])) == 2


def test_a_fake_learned_model_rejects_reconstruction_outliers(clips, tmp_path, monkeypatch, capsys):
    seen = {}

    def reconstruction_errors(model, motions):
        seen["model"], seen["n"] = model, len(motions)
        return np.array([0.02, 0.02, 0.3])[: len(motions)]

    fake = types.ModuleType("mimiclab.retarget.learned.inference")
    fake.load_model = lambda d: f"model:{d}"
    fake.reconstruction_errors = reconstruction_errors
    monkeypatch.setitem(sys.modules, "mimiclab.retarget.learned.inference", fake)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    rc, out, err = _run(capsys, clips, "-o", tmp_path / "m.manifest.json", "--model", model_dir,
                        "--max-recon-error", "0.1")
    assert rc == 0, err
    assert seen == {"model": f"model:{model_dir}", "n": 3}
    doc = json.loads((tmp_path / "m.manifest.json").read_text())
    by = {c["file"]: c for c in doc["clips"]}
    assert by["sub/clean2.npz"]["reasons"] == ["reconstruction error 0.300 m > 0.100 m"]
    assert by["clean.npz"]["keep"] and by["clean.npz"]["scores"]["recon_error_m"] == 0.02
    assert doc["criteria"]["max_recon_error_m"] == 0.1 and doc["criteria"]["model"] == str(model_dir.resolve())
    assert "reconstruction_error" in out


@pytest.mark.parametrize("make, args, message", [
    (None, ["missing"], "missing: no such folder"),
    ("empty", ["empty"], "empty: no motion files (*.npz) inside"),
    ("empty", ["empty", "--max-recon-error", "0.1"], "--max-recon-error needs --model"),
    ("empty", ["empty", "--model", "m", "--max-recon-error", "-1"], "--max-recon-error must be a positive"),
])
def test_bad_input_is_a_one_line_error(tmp_path, capsys, make, args, message):
    if make:
        (tmp_path / make).mkdir()
        (tmp_path / make / "notes.txt").write_text("x")
    args = [str(tmp_path / a) if i == 0 else a for i, a in enumerate(args)]
    rc, out, err = _run(capsys, *args)
    assert rc == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith("mimiclab curate: error: ") and message in err
    assert not list(tmp_path.rglob("*.manifest.json"))


def test_help_names_every_option(capsys):
    with pytest.raises(SystemExit) as e:
        main(["curate", "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for opt in ("DIR", "-o MANIFEST", "--model MODEL_DIR", "--max-recon-error METRES", "--strict",
                "curated.manifest.json", "median + 3 x 1.4826 x MAD"):
        assert opt in text, opt
