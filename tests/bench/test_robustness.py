"""``mimiclab bench robustness --quick`` on the CPU: three 1-iteration policies (joint-target GMT, the
keypoint policy with and without symmetry) trained here, a real clip corrupted, retargeted, run in Isaac Lab and in
sim2sim; the table, json, csv and png it writes; one-line errors."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO.parent / "shared" / "data" / "bvh" / "bandai1_walk_normal_001.bvh"
QUICK_CORRUPTIONS = ("jitter", "drop", "drift")
QUICK_SEVERITIES = (0, 2)


def _mimiclab(*args, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k != "MIMICLAB_MOTION"}
    return subprocess.run([sys.executable, "-m", "mimiclab", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def _ok(res):
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def _one_line_error(res):
    assert res.returncode != 0
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("mimiclab bench: error:")]
    assert len(lines) == 1, res.stderr[-2000:]
    return lines[0]


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> dict:
    """Three policies trained 1 iteration on the CPU on the retargeted real walk: GMT, keypoints with
    symmetry (the task's default) and keypoints without (the documented override)."""
    if not CLIP.is_file():
        pytest.skip(f"real mocap not found at {CLIP}")
    from mimiclab.retarget.batch import retarget_files
    from mimiclab.retarget.pipeline import RetargetSettings

    ws = tmp_path_factory.mktemp("robustness")
    results = retarget_files([str(CLIP)], str(ws / "g1"), RetargetSettings(), progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    runs = {}
    for key, task, exp, extra in (("gmt", "Mimic-Track-G1", "g1_tracking", ()),
                                  ("kp", "Mimic-TrackKeypoints-G1", "g1_tracking_keypoints", ()),
                                  ("kp_nosym", "Mimic-TrackKeypoints-G1", "g1_tracking_keypoints",
                                   ("agent.algorithm.symmetry_cfg=null",))):
        _ok(_mimiclab("train", "--task", task, "--motion", ws / "g1", "--num_envs", "4", "--max_iterations", "1",
                      "--device", "cpu", "--run_name", key, *extra, cwd=ws))
        (run,) = sorted((ws / "logs" / "rsl_rl" / exp).glob(f"*_{key}"))
        runs[key] = run
    return {"ws": ws, **runs}


@pytest.fixture(scope="module")
def quick(policies) -> dict:
    ws = policies["ws"]
    res = _ok(_mimiclab("bench", "robustness", "--quick", "--policy", f"gmt={policies['gmt']}",
                        "--policy", policies["kp"], "--policy", policies["kp_nosym"], "--motion", CLIP, "-o", ws / "bench",
                        cwd=ws))
    return {"out": ws / "bench", "res": res}


def test_quick_writes_a_row_per_policy_simulator_corruption_and_severity(quick):
    out = quick["out"]
    data = json.loads((out / "robustness.json").read_text())
    rows = data["rows"]
    keys = {(r["policy"], r["simulator"], r["corruption"], r["severity"]) for r in rows}
    expect = {(p, s, c, v) for p in ("gmt", "TrackKeypoints+sym", "TrackKeypoints-nosym") for s in ("isaac", "sim2sim")
              for c in QUICK_CORRUPTIONS for v in QUICK_SEVERITIES}
    assert keys == expect and len(rows) == len(expect)
    for r in rows:
        assert math.isfinite(r["mpkpe"]) and 0 < r["mpkpe"] < 5, r
        assert 0.0 <= r["success_rate"] <= 1.0
        assert 0.0 < r["completion"] <= 1.0 and (r["completion"] == 1.0) >= (r["success_rate"] == 1.0)
        assert r["clips"] == 1
        assert (r["input_error_m"] == 0) == (r["severity"] == 0)
    assert {r["symmetry"] for r in rows if r["policy"] == "gmt"} == {False}
    assert {r["symmetry"] for r in rows if r["policy"] == "TrackKeypoints+sym"} == {True}
    assert {r["symmetry"] for r in rows if r["policy"] == "TrackKeypoints-nosym"} == {False}
    # severity 0 is the same clean clip for every corruption
    clean = {(r["policy"], r["simulator"]): r["mpkpe"] for r in rows if r["severity"] == 0}
    assert all(r["mpkpe"] == clean[(r["policy"], r["simulator"])] for r in rows if r["severity"] == 0)
    assert data["settings"]["quick"] and data["settings"]["corruptions"] == list(QUICK_CORRUPTIONS)

    table = (out / "robustness.md").read_text()
    # 1-iteration policies track no clip to its end: the table and stderr say so, naming each policy
    assert not any(r["success_rate"] > 0 for r in rows if r["severity"] == 0)
    warning = next(ln for ln in quick["res"].stderr.splitlines() if "warning:" in ln)
    assert all(p in warning and p in table.split("|")[0] for p in ("gmt", "TrackKeypoints+sym", "TrackKeypoints-nosym"))
    assert len([ln for ln in table.splitlines() if ln.startswith("| gmt ") or ln.startswith("| TrackKeypoints")]) \
        == len(expect)
    assert "| gmt | sim2sim | drift | 2 |" in table and "| gmt | sim2sim | drift | 2 |" in quick["res"].stdout
    with open(out / "robustness.csv") as f:
        assert len(list(csv.DictReader(f))) == len(expect)
    png = (out / "robustness.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    for sub in ("eval/gmt", "sim2sim/gmt", "eval/TrackKeypoints+sym", "sim2sim/TrackKeypoints+sym",
                "eval/TrackKeypoints-nosym", "sim2sim/TrackKeypoints-nosym"):
        assert (out / sub / "metrics.json").is_file(), sub


def test_corrupted_clips_really_differ_from_the_clean_one(quick):
    from mimiclab.motion.format import load_motion

    motions = quick["out"] / "motions"
    clean = load_motion(motions / f"{CLIP.stem}__clean__s0.npz")
    assert clean.duration == pytest.approx(2.0, abs=0.05)  # --quick: the first 2 s
    for corr in QUICK_CORRUPTIONS:
        bad = load_motion(motions / f"{CLIP.stem}__{corr}__s2.npz")
        n = min(bad.num_frames, clean.num_frames)
        change = np.linalg.norm(bad.body_pos_w[:n] - clean.body_pos_w[:n], axis=-1).mean()
        assert change > 1e-3, corr
    rows = json.loads((quick["out"] / "robustness.json").read_text())["rows"]
    assert all(r["reference_error_m"] > 1e-3 for r in rows if r["severity"] > 0 and r["corruption"] != "drop")


def test_bad_input_is_a_one_line_error(policies, tmp_path):
    run = policies["gmt"]
    line = _one_line_error(_mimiclab("bench", "robustness", "--policy", tmp_path / "nope", "--motion", CLIP,
                                     cwd=tmp_path))
    assert "nope" in line
    line = _one_line_error(_mimiclab("bench", "robustness", "--policy", run, "--motion", CLIP,
                                     "--corruptions", "blur", cwd=tmp_path))
    assert "unknown corruption 'blur'" in line
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n")
    line = _one_line_error(_mimiclab("bench", "robustness", "--policy", run, "--motion", bad, cwd=tmp_path))
    assert "broken.bvh" in line and "unreadable clip" in line
    assert not (tmp_path / "robustness_out" / "robustness.json").exists()


def test_untrained_policies_are_those_tracking_no_clean_clip():
    from mimiclab.bench.robustness import untrained_policies

    rows = [{"policy": "a", "severity": 0, "success_rate": 0.0}, {"policy": "a", "severity": 2, "success_rate": 1.0},
            {"policy": "b", "severity": 0, "success_rate": 0.0}, {"policy": "b", "severity": 0, "success_rate": 0.5}]
    assert untrained_policies(rows) == ["a"]


def test_mean_change_with_align_ignores_a_global_heading_and_origin():
    from mimiclab.bench.robustness import _mean_change

    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 14, 3))
    c, s = np.cos(1.1), np.sin(1.1)
    b = a @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T + np.array([0.4, -0.3, 0.0])
    assert _mean_change(a, b, align=True) < 1e-9
    assert _mean_change(a, b) > 0.5  # without the fit the same motion moved
    b[:, :, 2] += 0.05  # a height change is not fitted away
    assert _mean_change(a, b, align=True) == pytest.approx(0.05)
