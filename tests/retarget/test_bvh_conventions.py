"""Units, axes, frame rates and name evidence: known answers for the pieces skeleton inference and
normalisation rest on, plus the CLI's inspect command and warnings in the quality report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mimiclab.motion.input_warning import MotionInputWarning
from mimiclab.retarget import joint_names as jn
from mimiclab.retarget.normalize import (SIGNED_AXES, axis_vector, body_height_units, infer_unit_scale,
                                         parse_units, up_axis_rotation)
from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
from mimiclab.retarget.sources.bvh import read_bvh

import bvh_corpus as bc

_need = bc.shared_clip

CLI = [sys.executable, "-m", "mimiclab"]


@pytest.mark.parametrize("name, side, toks", [
    ("mixamorig:LeftUpLeg", "left", ["left", "up", "leg"]),
    ("mixamorig7:RightHandThumb1", "right", ["right", "hand", "thumb", "1"]),
    ("LHipJoint", "left", ["l", "hip", "joint"]),
    ("Hand_R", "right", ["hand", "r"]),
    ("Bip01 L Thigh", "left", ["l", "thigh"]),
    ("R_Collar", "right", ["r", "collar"]),
    ("joint_Root", None, ["root"]),
    ("Spine3", None, ["spine", "3"]),
    ("Armature|upperarm_l", "left", ["upperarm", "l"]),
])
def test_joint_name_tokens_and_side(name, side, toks):
    assert jn.tokens(name) == toks
    assert jn.side_of(name) == side


def test_ignored_and_pass_through_joints():
    for name in ("LeftHandIndex1", "RightInHandMiddle", "LThumb", "Prop1", "mixamorig:LeftEye", "RightFingerBase"):
        assert jn.is_ignored(name), name
    for name in ("LeftHand", "L_Wrist", "Head", "RightForeArm", "Toes_L"):
        assert not jn.is_ignored(name), name
    assert jn.is_pass_through("LeftForeArmTwist") and jn.is_pass_through("L_Knee_dummy")
    assert jn.is_head("mixamorig:Head") and not jn.is_head("HeadTop_End") and not jn.is_head("HeadEnd")


@pytest.mark.parametrize("axis", SIGNED_AXES)
def test_up_axis_rotation_is_proper_and_exact(axis):
    R = up_axis_rotation(axis)
    np.testing.assert_array_equal(R @ axis_vector(axis), [0.0, 0.0, 1.0])
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_array_equal(R @ R.T, np.eye(3))


def test_units_known_answers():
    assert parse_units("cm") == 0.01 and parse_units("inches") == 0.0254 and parse_units("0.5") == 0.5
    assert parse_units("cmu") == pytest.approx(0.056444, rel=1e-4)
    with pytest.raises(ValueError, match="unknown units"):
        parse_units("furlong")
    assert infer_unit_scale(172.0, "x") == 0.01  # cm
    assert infer_unit_scale(1720.0, "x") == 0.001  # mm
    assert infer_unit_scale(68.0, "x") == 0.0254  # inches
    assert infer_unit_scale(30.0, "x") == pytest.approx(parse_units("cmu"))  # CMU: 1.69 m
    with pytest.warns(MotionInputWarning, match="units unknown"):
        scale = infer_unit_scale(500.0, "odd.bvh")  # no standard unit makes 500 units a human
    assert scale * 500.0 == pytest.approx(1.70)


def test_body_height_from_the_legs():
    """Height = (thigh + shin) / 0.49, from the bones, whatever the posture."""
    T = 5
    roles = {}
    for side, y in (("left", 0.1), ("right", -0.1)):
        roles[f"{side}_hip"] = np.tile([0.0, y, 0.9], (T, 1))
        roles[f"{side}_knee"] = np.tile([0.3, y, 0.9], (T, 1))  # thigh held horizontal: 0.3
        roles[f"{side}_ankle"] = np.tile([0.3, y, 0.45], (T, 1))  # shin 0.45
    assert body_height_units(roles) == pytest.approx(0.75 / 0.49)


def _short_bvh(path: Path, frames: int, frame_time: float) -> Path:
    s = bc.load_bandai(_need("walk"), frames)
    s.frame_time = frame_time
    return bc.write(s, path)


def test_two_frame_clip_at_120_fps_keeps_two_frames(tmp_path):
    """A clip shorter than one output frame is not collapsed to a single frame."""
    human = read_bvh(_short_bvh(tmp_path / "short.bvh", 2, 1 / 120))
    assert human.fps == 120.0
    motion = retarget_human(human, RetargetSettings(fps=50.0)).motion
    assert motion.num_frames == 2


def test_frame_time_outlier_warns_and_source_fps_wins(tmp_path):
    path = _short_bvh(tmp_path / "slow.bvh", 20, 1.0)
    with pytest.warns(MotionInputWarning, match="not a mocap frame rate.*--source-fps"):
        assert read_bvh(path).fps == 30.0
    assert read_bvh(path, source_fps=120.0).fps == 120.0


def test_units_and_height_overrides(tmp_path):
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.retarget.sources.options import SourceOptions

    path = _short_bvh(tmp_path / "clip.bvh", 30, 1 / 30)

    def normalisation(**options):
        human = load_human_motion(path, options=SourceOptions(**options))
        return retarget_human(human, RetargetSettings(fps=30.0)).motion.meta["normalisation"]

    assert normalisation()["units"] == "cm"
    assert normalisation(height=1.9)["body_height_m"] == pytest.approx(1.9)
    assert normalisation(units="mm")["unit_scale"] == 0.001


def test_cli_inspect_prints_roles_and_writes_png(tmp_path):
    s = bc.load_bandai(_need("walk"), 20)
    bc.biovision(s)
    path = bc.write(s, tmp_path / "mocapbank.bvh")
    res = subprocess.run([*CLI, "inspect", str(path), "--json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["roles"]["left_shoulder"] == ["LeftShoulder"] and report["roles"]["left_elbow"] == ["LeftElbow"]
    assert report["units"] == "cm" and report["up_axis"] == "y" and report["frames"] == 20 and report["fps"] == 30
    png = Path(report["png"])
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_cli_inspect_refuses_a_chain_in_one_line(tmp_path):
    path = tmp_path / "chain.bvh"
    path.write_text("HIERARCHY\nROOT a\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation "
                    "Xrotation Yrotation\n JOINT b\n {\n  OFFSET 0 10 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n"
                    "  End Site\n  {\n   OFFSET 0 10 0\n  }\n }\n}\nMOTION\nFrames: 2\nFrame Time: 0.033333\n"
                    "0 0 0 0 0 0 0 0 0\n0 0 0 0 0 0 0 0 0\n")
    res = subprocess.run([*CLI, "inspect", str(path)], capture_output=True, text=True)
    assert res.returncode == 1
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "chain.bvh" in lines[0] and "error" in lines[0], res.stderr
    assert not list(tmp_path.glob("*.png"))


def test_retarget_records_input_warnings_in_the_quality_report(tmp_path):
    path = _short_bvh(tmp_path / "slow.bvh", 20, 1.0)
    out = tmp_path / "out"
    res = subprocess.run([*CLI, "retarget", str(path), "-o", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "warning" in res.stderr and "--source-fps" in res.stderr
    quality = json.loads((out / "slow.quality.json").read_text())
    assert any("not a mocap frame rate" in w for w in quality["warnings"])
    res = subprocess.run([*CLI, "retarget", str(path), "-o", str(out), "--source-fps", "30"],
                         capture_output=True, text=True)
    assert res.returncode == 0 and "warning" not in res.stderr, res.stderr
