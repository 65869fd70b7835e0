"""Known-answer tests of clip curation: clean / jumping / over-limit / floor-penetrating / NaN /
unreadable G1 clips kept or rejected with the right reason, quality sidecars used only when they
match, and the reconstruction-error outlier rule on given numbers."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from mimiclab.motion import save_motion
from mimiclab.motion.format import validate_motion
from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.retarget import curation, quality
from mimiclab.robots.g1 import G1

FPS = 50.0
T = 40


def _standing(clearance: float = 0.005):
    """Default pose, soles `clearance` above the ground (negative: below), slow root sway."""
    q = np.tile([j.default_pos for j in G1.joints], (T, 1))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    root = np.zeros((T, 3))
    root[:, 2] = -quality.sole_heights(root, quat, q).min() + clearance
    return root, quat, q


def _j(name: str) -> int:
    return G1.joint_names.index(name)


def _save(path, root, quat, q):
    save_motion(path, motion_from_joint_trajectory(root, quat, q, FPS))
    return path


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    d = tmp_path_factory.mktemp("cur")
    root, quat, q = _standing()
    paths = {"clean": _save(d / "clean.npz", root, quat, q)}
    jump = q.copy()
    jump[20:, _j("left_shoulder_yaw_joint")] += 1.0  # 50 rad/s for one frame; the limit is 37
    paths["jump"] = _save(d / "jump.npz", root, quat, jump)
    over = q.copy()
    j = G1.joint("left_wrist_roll_joint")
    over[:, _j("left_wrist_roll_joint")] = np.linspace(j.upper - 0.15, j.upper + 0.05, T)  # slow; frames 30-39 over
    paths["limit"] = _save(d / "limit.npz", root, quat, over)
    paths["floor"] = _save(d / "floor.npz", *_standing(clearance=-0.03))  # 3 cm through the floor throughout
    arrays = validate_motion(motion_from_joint_trajectory(root, quat, q, FPS))
    arrays["joint_pos"][5, 3] = np.nan
    np.savez(d / "nan.npz", **arrays)
    paths["nan"] = d / "nan.npz"
    (d / "garbage.npz").write_bytes(b"not an archive")
    paths["garbage"] = d / "garbage.npz"
    entries = curation.score_clips([str(p) for p in paths.values()])
    return d, paths, dict(zip(paths, entries))


def test_a_clean_standing_clip_is_kept(scored):
    _, paths, e = scored
    c = e["clean"]
    assert c["keep"] and c["reasons"] == [] and c["file"] == str(paths["clean"].resolve())
    assert c["quality_source"] == "computed"
    assert set(quality.QUALITY_BOUNDS) <= set(c["scores"]) and c["scores"]["frames"] == T
    assert c["scores"]["joint_jumps"] == 0 and c["scores"]["penetration_frames"] == 0.0


def test_a_one_frame_jump_is_rejected(scored):
    jump = scored[2]["jump"]
    assert not jump["keep"] and jump["scores"]["joint_jumps"] == 1
    assert "joint_jumps 1 > 0" in jump["reasons"]
    assert jump["scores"]["max_joint_speed_ratio"] == pytest.approx(50.0 / 37.0, rel=1e-5)


def test_a_joint_beyond_its_limit_is_rejected(scored):
    e = scored[2]["limit"]
    assert not e["keep"] and e["reasons"] == ["joint_limit_violation_frames 0.25 > 0"]


def test_a_clip_through_the_floor_is_rejected(scored):
    e = scored[2]["floor"]
    assert not e["keep"] and e["reasons"] == ["penetration_frames 1 > 0.01"]
    assert e["scores"]["penetration_max_depth_m"] == pytest.approx(0.03, abs=1e-3)


def test_nan_and_unreadable_files_are_rejected_not_raised(scored):
    _, _, e = scored
    assert not e["nan"]["keep"] and e["nan"]["reasons"][0].startswith("non-finite: ")
    assert "joint_pos has NaN or Inf at frame 5" in e["nan"]["reasons"][0]
    assert not e["garbage"]["keep"] and e["garbage"]["reasons"][0].startswith("unreadable: ")
    assert curation.reason_kind(e["nan"]["reasons"][0]) == "non-finite"
    assert curation.reason_kind(e["garbage"]["reasons"][0]) == "unreadable"
    assert curation.reason_kind("joint_jumps 1 > 0") == "joint_jumps"


def test_a_matching_sidecar_is_used_and_a_stale_one_is_not(scored, tmp_path):
    d, paths, _ = scored
    clip = shutil.copy(paths["clean"], tmp_path / "walk.npz")
    side = tmp_path / "walk.quality.json"
    q = {**quality.quality_metrics(motion_from_joint_trajectory(*_standing(), FPS), None, None)}
    q["twisted_frames"] = 0.25  # what the sidecar says wins: figures are not recomputed
    side.write_text(json.dumps(q))
    e = curation.score_clips([clip])[0]
    assert e["quality_source"] == "sidecar" and e["reasons"] == ["twisted_frames 0.25 > 0"]
    side.write_text(json.dumps({**q, "frames": T + 1}))  # another clip's report: recomputed
    assert curation.score_clips([clip])[0]["quality_source"] == "computed"
    side.write_text(json.dumps(q))
    st = os.stat(clip)
    os.utime(side, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))  # older than the clip: recomputed
    e = curation.score_clips([clip])[0]
    assert e["quality_source"] == "computed" and e["keep"]
    side.write_text(json.dumps({**q, "twisted_frames": float("nan")}))  # NaN figure: rejected, not passed
    e = curation.score_clips([clip])[0]
    assert not e["keep"] and e["reasons"] == ["non-finite: twisted_frames is nan"]


def test_robust_limit_known_answer():
    # median 0.03, |deviations| 0.02 0.01 0 0.01 0.47 → MAD 0.01
    assert curation.robust_limit([0.01, 0.02, 0.03, 0.04, 0.5]) == pytest.approx(0.03 + 3 * 1.4826 * 0.01)
    assert curation.robust_limit([0.2, float("nan"), 0.2]) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        curation.robust_limit([float("nan")])


def test_reconstruction_outliers_by_rule_and_by_given_limit(scored, tmp_path):
    _, paths, _ = scored
    src = paths["clean"]
    report = quality.quality_metrics(motion_from_joint_trajectory(*_standing(), FPS), None, None)
    clips = []
    for i in range(5):
        clips.append(shutil.copy(src, tmp_path / f"c{i}.npz"))
        (tmp_path / f"c{i}.quality.json").write_text(json.dumps(report))
    errors = {str(p): e for p, e in zip(clips, [0.01, 0.02, 0.03, 0.04, 0.5])}
    entries = curation.score_clips(clips, errors)
    assert [e["keep"] for e in entries] == [True, True, True, True, False]
    assert entries[4]["reasons"] == ["reconstruction error 0.500 m > 0.074 m"]
    assert [e["scores"]["recon_error_m"] for e in entries] == [0.01, 0.02, 0.03, 0.04, 0.5]
    crit = curation.curation_criteria(entries)
    assert crit["max_recon_error_m"] == pytest.approx(0.074478) and "MAD over 5 clips" in crit["recon_error_rule"]
    assert crit["recon_error_median_m"] == pytest.approx(0.03) and crit["recon_error_mad_m"] == pytest.approx(0.01)
    assert crit["quality_bounds"] == quality.QUALITY_BOUNDS
    given = curation.score_clips(clips, {p.name: e for p, e in zip(clips, [0.01, 0.02, 0.03, 0.04, 0.5])},
                                 max_recon_error_m=0.025)  # keyed by file name; a given limit wins
    assert [e["keep"] for e in given] == [True, True, False, False, False]
    assert given[2]["reasons"] == ["reconstruction error 0.030 m > 0.025 m"]
    assert curation.curation_criteria(given, 0.025)["recon_error_rule"] == "given"
    nan = curation.score_clips(clips[:2], {str(clips[0]): float("nan"), str(clips[1]): 0.02})
    assert nan[0]["reasons"] == ["reconstruction error is not finite"] and nan[1]["keep"]
